/// Embedding and Masking: integer indices to dense vectors, and Keras masks for padded timesteps.
module Keras.EmbeddingLayers

open TorchSharp
open Keras

/// Configuration of <see cref="embedding"/>, with Keras's defaults in <see cref="EmbeddingConfig.Default"/>.
type EmbeddingConfig =
    {
        /// Size of the vocabulary: indices must lie in [0, input_dim).
        InputDim: int
        /// Size of each embedding vector.
        OutputDim: int
        /// Initializer of the <c>embeddings</c> matrix.
        EmbeddingsInitializer: Initializer
        /// When true, index 0 is padding: the output mask is <c>inputs != 0</c>.
        MaskZero: bool
        /// Penalty on the <c>embeddings</c> matrix added to the training loss.
        EmbeddingsRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the <c>embeddings</c> matrix after each optimizer step.
        EmbeddingsConstraint: Constraint option
    }

    /// Keras's defaults: "uniform" initializer (RandomUniform in [-0.05, 0.05]), no masking, no regularizers or
    /// constraint.
    static member Default(inputDim, outputDim) =
        {
            InputDim = inputDim
            OutputDim = outputDim
            EmbeddingsInitializer = RandomUniform(-0.05, 0.05)
            MaskZero = false
            EmbeddingsRegularizer = None
            ActivityRegularizer = None
            EmbeddingsConstraint = None
        }

/// <summary>Turns non-negative integer indices into dense vectors: an input of shape <c>(…)</c> gives
/// <c>(…, output_dim)</c> float32, row <c>i</c> of the <c>embeddings</c> weight <c>(input_dim, output_dim)</c> for index <c>i</c>.
/// Float inputs are truncated to integers, as Keras casts them to int32.</summary>
/// <exception cref="KerasException">At construction when a dimension is not positive; at call time when an index is
/// outside [0, input_dim).</exception>
let embedding (config: EmbeddingConfig) (name: string option) : Layer =
    if config.InputDim <= 0 then
        Errors.raiseKeras (
            InvalidArgument("Embedding", "input_dim", "Expected a positive integer.", string config.InputDim)
        )

    if config.OutputDim <= 0 then
        Errors.raiseKeras (
            InvalidArgument("Embedding", "output_dim", "Expected a positive integer.", string config.OutputDim)
        )

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            Ok
                [
                    {
                        Shape = x.Shape @ [ Some config.OutputDim ]
                        DType = Float32
                    }
                ]
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    "Embedding",
                    "An `Embedding` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    let build (_: TensorSpec list) : BuildResult =
        {
            Weights =
                [
                    {
                        Name = "embeddings"
                        Shape = [ config.InputDim; config.OutputDim ]
                        Initializer = config.EmbeddingsInitializer
                        Trainable = true
                        DType = Float32
                        Constraint = Constraint.projection config.EmbeddingsConstraint
                    }
                ]
            InputSpecs = []
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs

        let indices =
            if x.is_floating_point () || x.dtype = torch.ScalarType.Bool then
                x.to_type torch.ScalarType.Int64
            else
                x

        // An index outside [0, input_dim) is Keras's error. libtorch's index_select checks the range itself (an
        // exception, not an abort, also on large inputs), so the range is read (two reductions and two reads) only
        // when it refuses the indices, to name the bad one.
        let outOfRange () =
            let low = indices.min().ToInt64()
            let high = indices.max().ToInt64()

            if low < 0L || high >= int64 config.InputDim then
                let bad = if low < 0L then low else high

                Errors.raiseKeras (
                    InvalidInputs(
                        ctx.LayerName,
                        "Embedding",
                        $"Index {bad} is out of range: indices must lie in [0, {config.InputDim}) (input_dim={config.InputDim}).",
                        $"inputs with values in [{low}, {high}]"
                    )
                )

        let embeddings = ctx.Weights[0].Value
        let flatIndices = if indices.dim () = 1L then indices else indices.reshape -1L

        let flat =
            try
                embeddings.index_select (0L, flatIndices)
            with e when not (e :? KerasException) ->
                outOfRange ()
                reraise ()

        let shape = Array.append x.Sizes [| int64 config.OutputDim |]
        Regularizer.addActivity config.ActivityRegularizer ctx [ flat.reshape shape ]

    let computeMask (inputs: torch.Tensor list) (_: torch.Tensor option list) =
        if config.MaskZero then
            [ Some(inputs.Head.ne (torch.tensor 0L)) ]
        else
            []

    Layer.create
        name
        {
            ClassName = "Embedding"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "input_dim", Config.value config.InputDim
                            "output_dim", Config.value config.OutputDim
                            "embeddings_initializer", Config.initializer config.EmbeddingsInitializer
                            "embeddings_regularizer", Regularizer.configOrNull config.EmbeddingsRegularizer
                            "activity_regularizer", Regularizer.configOrNull config.ActivityRegularizer
                            "embeddings_constraint", Constraint.configOrNull config.EmbeddingsConstraint
                            // Keras 3.1.1's keys (the version the library writes files as): no quantization_config.
                            "mask_zero", Config.value config.MaskZero
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = computeMask
            RegularizationLosses = Regularizer.ofWeights [ config.EmbeddingsRegularizer, "embeddings" ]
        }

/// <summary>Masks timesteps whose features all equal <paramref name="maskValue"/>: those timesteps become zero in the
/// output, and the output mask is <c>any(inputs != mask_value, axis=-1)</c> for the layers that follow
/// (recurrent layers skip masked steps).</summary>
let masking (maskValue: float) (name: string option) : Layer =
    let keep (x: torch.Tensor) =
        x.ne(torch.tensor (maskValue, dtype = x.dtype)).any(-1L, keepdim = true)

    let call (_: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        [ x.mul ((keep x).to_type x.dtype) ]

    let computeMask (inputs: torch.Tensor list) (_: torch.Tensor option list) =
        let x = CoreLayers.asFloat inputs.Head
        [ Some((keep x).squeeze(-1L)) ]

    Layer.create
        name
        { Layer.simpleSpec "Masking" call with
            Config = fun () -> Config.ofList [ "mask_value", Config.value maskValue ]
            ComputeOutput =
                fun layerName inputs ->
                    match inputs with
                    | [ x ] -> Ok [ CoreLayers.floatSpec x ]
                    | many ->
                        Error(
                            InvalidInputs(
                                layerName,
                                "Masking",
                                "A `Masking` layer takes exactly one input.",
                                $"{many.Length} inputs"
                            )
                        )
            ComputeMask = computeMask
        }
