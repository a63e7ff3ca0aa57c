/// The guide's "Extract and reuse nodes in the graph of layers": VGG19's intermediate activations as a feature
/// extraction model. No pretrained weights are downloaded here: give a weights file (Keras's
/// vgg19_weights_tf_dim_ordering_tf_kernels.h5) to load them; otherwise the weights are fresh.
module Examples.IntermediateOutputs

open TorchSharp
open Keras
open Examples.Example

let main (run: Run) (weights: string option) =
    match weights with
    | Some file -> run.Print $"Loading VGG19 weights from {file}."
    | None ->
        run.Print
            "No pretrained weights here (ImageNet weights are not downloaded): VGG19 has fresh weights. Pass a weights file to load them."

    // Quick mode: the convolutional base on small images (the full model with its 4096-wide top is 143,667,240 parameters).
    let vgg19 =
        if run.Quick then
            Applications.VGG19(includeTop = false, inputShape = [ 32; 32; 3 ], ?weights = weights)
        else
            Applications.VGG19(?weights = weights)

    run.Print $"vgg19: {vgg19.CountParams()} parameters"

    let featuresList =
        [ for layer in vgg19.Layers.Tail -> Model.layerOutput vgg19 layer.Name ]

    let featExtractionModel = Keras.Model(vgg19.Inputs, featuresList)
    let size = if run.Quick then 32L else 224L
    let img = torch.rand (1L, size, size, 3L)
    let extractedFeatures = featExtractionModel.Predict([ img ])

    run.Print
        $"{extractedFeatures.Length} feature maps, the last {Shape.formatDims (List.last extractedFeatures).shape}"

    featExtractionModel
