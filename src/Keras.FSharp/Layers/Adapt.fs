/// Keras's <c>layer.adapt(data)</c> for every preprocessing layer that learns its state from numeric data, in one
/// place: the layer's class chooses the rule (each family keeps its own).
[<RequireQualifiedAccess>]
module Keras.Adapt

open TorchSharp
open Keras

let private unsupported (layer: Layer) =
    Errors.raiseKeras (
        InvalidArgument(
            layer.Name,
            "adapt",
            "Only Normalization and Discretization learn from numeric tensors (StringLookup, IntegerLookup and TextVectorization adapt on strings or integers).",
            layer.ClassName
        )
    )

/// <summary>Adapts the layer to <paramref name="data"/> (Normalization: mean and variance; Discretization: bin
/// boundaries).</summary>
/// <exception cref="KerasException">When the layer does not adapt on tensors, or the data does not fit it.</exception>
let tensor (layer: Layer) (data: torch.Tensor) =
    match layer.ClassName with
    | "Normalization" -> NormalizationExtraLayers.adapt layer data
    | "Discretization" -> NumericPreprocessingLayers.adapt layer data
    | _ -> unsupported layer

/// <summary>Adapts the layer to a sequence of batches, as Keras's <c>adapt</c> on a dataset.</summary>
/// <exception cref="KerasException">As <see cref="tensor"/>; when there is no batch.</exception>
let batches (layer: Layer) (data: torch.Tensor seq) =
    match layer.ClassName with
    | "Normalization" -> NormalizationExtraLayers.adaptBatches layer data
    | "Discretization" -> NumericPreprocessingLayers.adaptBatches layer data
    | _ -> unsupported layer
