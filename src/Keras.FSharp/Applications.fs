namespace Keras

open Keras.Operators

/// <summary>Ready-made architectures, as Keras's <c>keras.applications</c>: <c>Applications.VGG19(includeTop = false)</c>
/// with Keras's argument names, or the curried <c>Applications.vgg19 true None 1000 None</c>.</summary>
[<AbstractClass; Sealed>]
type Applications =

    /// <summary>VGG19 (Simonyan and Zisserman, 2014) with Keras's layer names: five blocks of 3×3 "same" convolutions and
    /// 2×2 max pooling, then (with <paramref name="includeTop"/>) flatten, fc1, fc2 and a softmax over
    /// <paramref name="classes"/>. Weights are freshly initialized (Keras's <c>weights=None</c>); Keras's total with the top
    /// is 143,667,240 parameters.</summary>
    /// <param name="includeTop">Whether to add the classifier (then the input must be 224×224×3).</param>
    /// <param name="inputShape">Image shape (height, width, channels); 224×224×3 by default.</param>
    /// <param name="classes">Classifier outputs; 1000 by default.</param>
    /// <param name="pooling">Without the top: None, "avg" or "max" global pooling of the last block.</param>
    /// <param name="weights">None for fresh weights, or a weights file: Keras's <c>.weights.h5</c>, a <c>.keras</c> archive or a
    /// legacy <c>.h5</c> such as Keras's published <c>vgg19_weights_tf_dim_ordering_tf_kernels.h5</c>.</param>
    static member vgg19With
        (includeTop: bool)
        (inputShape: int list option)
        (classes: int)
        (pooling: string option)
        (weights: string option)
        : Model =
        let shape = defaultArg inputShape [ 224; 224; 3 ]

        if includeTop && shape <> [ 224; 224; 3 ] then
            Errors.raiseKeras (
                InvalidArgument(
                    "vgg19",
                    "input_shape",
                    "With include_top=True the input must be 224×224×3.",
                    Shape.format (Shape.ofInts shape)
                )
            )

        let input = Keras.Input(shape = shape, name = "input_layer")

        let block (x: KerasTensor) (index: int) (filters: int) (convs: int) =
            let convolved =
                [ 1..convs ]
                |> List.fold
                    (fun t i ->
                        t
                        --> Layers.Conv2D(
                            filters,
                            3,
                            activation = "relu",
                            padding = "same",
                            name = $"block{index}_conv{i}"
                        ))
                    x

            convolved --> Layers.MaxPooling2D(2, strides = 2, name = $"block{index}_pool")

        let features =
            [ 1, 64, 2; 2, 128, 2; 3, 256, 4; 4, 512, 4; 5, 512, 4 ]
            |> List.fold (fun x (i, f, n) -> block x i f n) input

        let output =
            if includeTop then
                features
                --> Layers.Flatten(name = "flatten")
                --> Layers.Dense(4096, activation = "relu", name = "fc1")
                --> Layers.Dense(4096, activation = "relu", name = "fc2")
                --> Layers.Dense(classes, activation = "softmax", name = "predictions")
            else
                match pooling with
                | Some "avg" -> features --> Layers.GlobalAveragePooling2D()
                | Some "max" -> features --> Layers.GlobalMaxPooling2D()
                | None -> features
                | Some other ->
                    Errors.raiseKeras (InvalidArgument("vgg19", "pooling", "Expected None, \"avg\" or \"max\".", other))

        let model = Keras.Model(input, output, name = "vgg19")
        weights |> Option.iter (WeightsFile.load model)
        model

    /// <summary>VGG19 with fresh weights (Keras's <c>weights=None</c>); see <c>vgg19With</c> to load a weights file.</summary>
    static member vgg19
        (includeTop: bool)
        (inputShape: int list option)
        (classes: int)
        (pooling: string option)
        : Model =
        Applications.vgg19With includeTop inputShape classes pooling None

    /// <summary>VGG19 as Keras's <c>keras.applications.VGG19</c>. Weights are freshly initialized unless
    /// <paramref name="weights"/> names a weights file (pretrained "imagenet" weights are not downloaded here: give
    /// the path of Keras's <c>vgg19_weights_tf_dim_ordering_tf_kernels.h5</c> instead).</summary>
    /// <param name="includeTop">Add the classifier (fc1, fc2, predictions); true by default.</param>
    /// <param name="weights">A weights file (<c>.weights.h5</c>, <c>.keras</c> or legacy <c>.h5</c>); none by default.</param>
    /// <param name="inputShape">Image shape (height, width, channels); 224×224×3 by default.</param>
    /// <param name="pooling">Without the top: "avg" or "max" global pooling; none by default.</param>
    /// <param name="classes">Classifier outputs; 1000 by default.</param>
    /// <param name="classifierActivation">The classifier's activation; "softmax" by default (only "softmax" is
    /// supported).</param>
    /// <exception cref="KerasException">When the arguments conflict, as in Keras.</exception>
    static member VGG19
        (
            ?includeTop: bool,
            ?weights: string,
            ?inputShape: int list,
            ?pooling: string,
            ?classes: int,
            ?classifierActivation: string
        ) : Model =
        match classifierActivation with
        | Some a when a <> "softmax" ->
            Errors.raiseKeras (InvalidArgument("vgg19", "classifier_activation", "Only \"softmax\" is supported.", a))
        | _ -> ()

        match weights with
        | Some "imagenet" ->
            Errors.raiseKeras (
                InvalidArgument(
                    "vgg19",
                    "weights",
                    "Pretrained weights are not downloaded by this library: give the path of a weights file (Keras's vgg19_weights_tf_dim_ordering_tf_kernels.h5), or no weights for fresh ones.",
                    "imagenet"
                )
            )
        | _ -> ()

        Applications.vgg19With (defaultArg includeTop true) inputShape (defaultArg classes 1000) pooling weights
