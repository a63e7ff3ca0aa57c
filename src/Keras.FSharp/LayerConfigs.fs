namespace Keras

open System.Collections.Generic
open System.Text.Json.Nodes

/// <summary>Keras's <c>from_config</c> for the library's built-in layer classes: each class's config (Keras 3's
/// parameter names and defaults, Keras 2's where they differ) back to a layer through its constructor. Settings the
/// library cannot honour are refused by name rather than dropped.</summary>
[<RequireQualifiedAccess>]
module LayerConfigs =
    let private fail (error: KerasError) : 'T = Errors.raiseKeras error

    /// <summary>Layer classes Keras 3 defines (keras.layers) that this library does not rebuild: a config naming one of
    /// them is an unsupported built-in class, not a missing custom object.</summary>
    let kerasOnlyClasses =
        set
            [
                "AugMix"
                "AutoContrast"
                "Equalization"
                "HashedCrossing"
                "MelSpectrogram"
                "RandomCrop"
                "TFSMLayer"
                "TorchModuleWrapper"
                "Wrapper"
            ]

    let private pair (owner: string) key (values: int list) =
        match values with
        | [ a; b ] -> a, b
        | [ a ] -> a, a
        | _ -> fail (InvalidArgument(owner, key, "Expected 2 integers.", string values))

    let private triple (owner: string) key (values: int list) =
        match values with
        | [ a; b; c ] -> a, b, c
        | [ a ] -> a, a, a
        | _ -> fail (InvalidArgument(owner, key, "Expected 3 integers.", string values))

    /// Keras's pair-of-pairs padding/cropping: an int, (a, b) symmetric per axis, or ((a, b), (c, d)).
    let private pairs (r: LayerConfigReader) key (rank: int) : (int * int) list =
        match r.Node key with
        | null -> List.replicate rank (1, 1)
        // One axis: Keras writes its (before, after) as a flat pair, e.g. ZeroPadding1D's "padding": [1, 1].
        | :? JsonArray as a when rank = 1 && a.Count = 2 && a |> Seq.forall (fun item -> not (item :? JsonArray)) ->
            [ pair r.Owner key (a |> Seq.map (ConfigReader.value<int> r.Owner key) |> List.ofSeq) ]
        | :? JsonArray as a ->
            a
            |> Seq.map (fun item ->
                match item with
                | :? JsonArray as p ->
                    pair r.Owner key (p |> Seq.map (ConfigReader.value<int> r.Owner key) |> List.ofSeq)
                | n ->
                    let v = ConfigReader.value<int> r.Owner key n
                    v, v)
            |> List.ofSeq
        | n ->
            let v = ConfigReader.value<int> r.Owner key n
            List.replicate rank (v, v)

    let private conv (r: LayerConfigReader) (rank: int) (name: string) (transpose: bool) =
        let filters = r.Req<int> "filters"

        let kernel =
            ConvolutionLayers.Dims(r.Dims "kernel_size" |> Option.defaultValue [ 1 ])

        let strides = r.Dims "strides" |> Option.map ConvolutionLayers.Dims
        let dilation = r.Dims "dilation_rate" |> Option.map ConvolutionLayers.Dims
        let padding = r.Opt<string> "padding"
        let dataFormat = r.Opt<string> "data_format"

        if transpose then
            let config =
                ConvolutionLayers.ConvTransposeConfig.Create(
                    filters,
                    kernel,
                    ?strides = strides,
                    ?padding = padding,
                    ?outputPadding = (r.Dims "output_padding" |> Option.map ConvolutionLayers.Dims),
                    ?dataFormat = dataFormat,
                    ?dilationRate = dilation,
                    ?activation = r.ActivationOpt "activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?biasConstraint = r.Constr "bias_constraint"
                )

            match rank with
            | 1 -> ConvolutionLayers.conv1dTranspose config (Some name)
            | 2 -> ConvolutionLayers.conv2dTranspose config (Some name)
            | _ -> ConvolutionLayers.conv3dTranspose config (Some name)
        else
            let config =
                ConvolutionLayers.ConvConfig.Create(
                    filters,
                    kernel,
                    ?strides = strides,
                    ?padding = padding,
                    ?dataFormat = dataFormat,
                    ?dilationRate = dilation,
                    ?groups = r.Opt<int> "groups",
                    ?activation = r.ActivationOpt "activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?biasConstraint = r.Constr "bias_constraint"
                )

            match rank with
            | 1 -> ConvolutionLayers.conv1d config (Some name)
            | 2 -> ConvolutionLayers.conv2d config (Some name)
            | _ -> ConvolutionLayers.conv3d config (Some name)

    let private depthwise (r: LayerConfigReader) (rank: int) (name: string) =
        let config =
            ConvolutionLayers.DepthwiseConvConfig.Create(
                ConvolutionLayers.Dims(r.Dims "kernel_size" |> Option.defaultValue [ 1 ]),
                ?strides = (r.Dims "strides" |> Option.map ConvolutionLayers.Dims),
                ?padding = r.Opt<string> "padding",
                ?depthMultiplier = r.Opt<int> "depth_multiplier",
                ?dataFormat = r.Opt<string> "data_format",
                ?dilationRate = (r.Dims "dilation_rate" |> Option.map ConvolutionLayers.Dims),
                ?activation = r.ActivationOpt "activation",
                ?useBias = r.Opt<bool> "use_bias",
                ?depthwiseInitializer = r.Init "depthwise_initializer",
                ?biasInitializer = r.Init "bias_initializer",
                ?depthwiseRegularizer = r.Reg "depthwise_regularizer",
                ?biasRegularizer = r.Reg "bias_regularizer",
                ?activityRegularizer = r.Reg "activity_regularizer",
                ?depthwiseConstraint = r.Constr "depthwise_constraint",
                ?biasConstraint = r.Constr "bias_constraint"
            )

        if rank = 1 then
            ConvolutionLayers.depthwiseConv1d config (Some name)
        else
            ConvolutionLayers.depthwiseConv2d config (Some name)

    let private separable (r: LayerConfigReader) (rank: int) (name: string) =
        let config =
            ConvolutionLayers.SeparableConvConfig.Create(
                r.Req<int> "filters",
                ConvolutionLayers.Dims(r.Dims "kernel_size" |> Option.defaultValue [ 1 ]),
                ?strides = (r.Dims "strides" |> Option.map ConvolutionLayers.Dims),
                ?padding = r.Opt<string> "padding",
                ?depthMultiplier = r.Opt<int> "depth_multiplier",
                ?dataFormat = r.Opt<string> "data_format",
                ?dilationRate = (r.Dims "dilation_rate" |> Option.map ConvolutionLayers.Dims),
                ?activation = r.ActivationOpt "activation",
                ?useBias = r.Opt<bool> "use_bias",
                ?depthwiseInitializer = r.Init "depthwise_initializer",
                ?pointwiseInitializer = r.Init "pointwise_initializer",
                ?biasInitializer = r.Init "bias_initializer",
                ?depthwiseRegularizer = r.Reg "depthwise_regularizer",
                ?pointwiseRegularizer = r.Reg "pointwise_regularizer",
                ?biasRegularizer = r.Reg "bias_regularizer",
                ?activityRegularizer = r.Reg "activity_regularizer",
                ?depthwiseConstraint = r.Constr "depthwise_constraint",
                ?pointwiseConstraint = r.Constr "pointwise_constraint",
                ?biasConstraint = r.Constr "bias_constraint"
            )

        if rank = 1 then
            ConvolutionLayers.separableConv1d config (Some name)
        else
            ConvolutionLayers.separableConv2d config (Some name)

    let private pooling (r: LayerConfigReader) (kind: string) (rank: int) (name: string) =
        r.ChannelsLast()
        let size = r.Dims "pool_size" |> Option.defaultValue [ 2 ]
        let strides = r.Dims "strides"
        let padding = r.Opt<string> "padding"
        let owner = r.Owner

        match kind, rank with
        | "Max", 1 ->
            Layers.MaxPooling1D(
                List.head size,
                ?strides = (strides |> Option.map List.head),
                ?padding = padding,
                name = name
            )
        | "Average", 1 ->
            Layers.AveragePooling1D(
                List.head size,
                ?strides = (strides |> Option.map List.head),
                ?padding = padding,
                name = name
            )
        | "Max", 2 ->
            Layers.MaxPooling2D(
                pair owner "pool_size" size,
                ?strides = (strides |> Option.map (pair owner "strides")),
                ?padding = padding,
                name = name
            )
        | "Average", 2 ->
            Layers.AveragePooling2D(
                pair owner "pool_size" size,
                ?strides = (strides |> Option.map (pair owner "strides")),
                ?padding = padding,
                name = name
            )
        | "Max", _ ->
            Layers.MaxPooling3D(
                triple owner "pool_size" size,
                ?strides = (strides |> Option.map (triple owner "strides")),
                ?padding = padding,
                name = name
            )
        | _ ->
            Layers.AveragePooling3D(
                triple owner "pool_size" size,
                ?strides = (strides |> Option.map (triple owner "strides")),
                ?padding = padding,
                name = name
            )

    let private recurrent (r: LayerConfigReader) (className: string) (name: string) =
        r.Expect(
            "unroll",
            (fun n -> ConfigReader.value<bool> r.Owner "unroll" n = false),
            "Unrolled RNNs are not supported."
        )

        let units = r.Req<int> "units"

        match className with
        | "SimpleRNN" ->
            Layers.SimpleRNN(
                units,
                ?activation = r.ActivationOpt "activation",
                ?useBias = r.Opt<bool> "use_bias",
                ?kernelInitializer = r.Init "kernel_initializer",
                ?recurrentInitializer = r.Init "recurrent_initializer",
                ?biasInitializer = r.Init "bias_initializer",
                ?dropout = r.Opt<float> "dropout",
                ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                ?returnSequences = r.Opt<bool> "return_sequences",
                ?returnState = r.Opt<bool> "return_state",
                ?goBackwards = r.Opt<bool> "go_backwards",
                ?stateful = r.Opt<bool> "stateful",
                ?seed = r.Opt<int> "seed",
                ?kernelRegularizer = r.Reg "kernel_regularizer",
                ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                ?biasRegularizer = r.Reg "bias_regularizer",
                ?activityRegularizer = r.Reg "activity_regularizer",
                ?kernelConstraint = r.Constr "kernel_constraint",
                ?recurrentConstraint = r.Constr "recurrent_constraint",
                ?biasConstraint = r.Constr "bias_constraint",
                name = name
            )
        | "LSTM" ->
            Layers.LSTM(
                units,
                ?activation = r.ActivationOpt "activation",
                ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                ?useBias = r.Opt<bool> "use_bias",
                ?kernelInitializer = r.Init "kernel_initializer",
                ?recurrentInitializer = r.Init "recurrent_initializer",
                ?biasInitializer = r.Init "bias_initializer",
                ?unitForgetBias = r.Opt<bool> "unit_forget_bias",
                ?dropout = r.Opt<float> "dropout",
                ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                ?returnSequences = r.Opt<bool> "return_sequences",
                ?returnState = r.Opt<bool> "return_state",
                ?goBackwards = r.Opt<bool> "go_backwards",
                ?stateful = r.Opt<bool> "stateful",
                ?seed = r.Opt<int> "seed",
                ?kernelRegularizer = r.Reg "kernel_regularizer",
                ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                ?biasRegularizer = r.Reg "bias_regularizer",
                ?activityRegularizer = r.Reg "activity_regularizer",
                ?kernelConstraint = r.Constr "kernel_constraint",
                ?recurrentConstraint = r.Constr "recurrent_constraint",
                ?biasConstraint = r.Constr "bias_constraint",
                name = name
            )
        | _ ->
            Layers.GRU(
                units,
                ?activation = r.ActivationOpt "activation",
                ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                ?useBias = r.Opt<bool> "use_bias",
                ?kernelInitializer = r.Init "kernel_initializer",
                ?recurrentInitializer = r.Init "recurrent_initializer",
                ?biasInitializer = r.Init "bias_initializer",
                ?dropout = r.Opt<float> "dropout",
                ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                ?resetAfter = r.Opt<bool> "reset_after",
                ?returnSequences = r.Opt<bool> "return_sequences",
                ?returnState = r.Opt<bool> "return_state",
                ?goBackwards = r.Opt<bool> "go_backwards",
                ?stateful = r.Opt<bool> "stateful",
                ?seed = r.Opt<int> "seed",
                ?kernelRegularizer = r.Reg "kernel_regularizer",
                ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                ?biasRegularizer = r.Reg "bias_regularizer",
                ?activityRegularizer = r.Reg "activity_regularizer",
                ?kernelConstraint = r.Constr "kernel_constraint",
                ?recurrentConstraint = r.Constr "recurrent_constraint",
                ?biasConstraint = r.Constr "bias_constraint",
                name = name
            )

    // ---- Issue 13: activation layers, core/merging extras, normalization extras ----

    /// Mean or variance of a Normalization config: null, a number, or nested lists (numpy's tolist()).
    let private normalizationValues (owner: string) (key: string) (node: JsonNode) =
        match node with
        | null -> None
        | :? JsonArray as a ->
            let rec shapeOf (n: JsonNode) =
                match n with
                | :? JsonArray as a when a.Count > 0 -> a.Count :: shapeOf a[0]
                | :? JsonArray -> [ 0 ]
                | _ -> []

            let rec flat (n: JsonNode) : float list =
                match n with
                | :? JsonArray as a -> a |> Seq.collect flat |> List.ofSeq
                | v -> [ ConfigReader.number owner key v ]

            Some
                {
                    NormalizationExtraLayers.NormalizationValues.Values = flat a |> Array.ofList
                    NormalizationExtraLayers.NormalizationValues.Shape = shapeOf a
                }
        | v -> Some(NormalizationExtraLayers.NormalizationValues.Scalar(ConfigReader.number owner key v))

    let private issue13 (r: LayerConfigReader) (inner: string -> Layer) (className: string) (name: string) =
        match className with
        | "ReLU" ->
            Some(
                Layers.ReLU(
                    ?maxValue = r.Opt<float> "max_value",
                    ?negativeSlope = r.Opt<float> "negative_slope",
                    ?threshold = r.Opt<float> "threshold",
                    name = name
                )
            )
        | "LeakyReLU" ->
            // Keras 2 wrote the slope as `alpha`.
            let slope = r.Opt<float> "negative_slope" |> Option.orElse (r.Opt<float> "alpha")
            Some(Layers.LeakyReLU(?negativeSlope = slope, name = name))
        | "PReLU" ->
            Some(
                Layers.PReLU(
                    ?alphaInitializer = r.Init "alpha_initializer",
                    ?alphaRegularizer = r.Reg "alpha_regularizer",
                    ?alphaConstraint = r.Constr "alpha_constraint",
                    ?sharedAxes = r.Dims "shared_axes",
                    name = name
                )
            )
        | "ELU" -> Some(Layers.ELU(?alpha = r.Opt<float> "alpha", name = name))
        | "Softmax" -> Some(Layers.Softmax(?axis = r.Dims "axis", name = name))
        | "Identity" -> Some(Layers.Identity(name = name))
        | "ActivityRegularization" ->
            Some(Layers.ActivityRegularization(?l1 = r.Opt<float> "l1", ?l2 = r.Opt<float> "l2", name = name))
        | "Dot" ->
            let normalize = r.Opt<bool> "normalize"

            match r.Node "axes" with
            | :? JsonArray ->
                match r.Dims "axes" with
                | Some [ a; b ] -> Some(Layers.Dot((a, b), ?normalize = normalize, name = name))
                | _ ->
                    fail (
                        InvalidArgument(
                            name,
                            "axes",
                            "Invalid format for argument `axes`: it should contain two elements.",
                            r.Node("axes").ToJsonString()
                        )
                    )
            | _ -> Some(Layers.Dot(r.Req<int> "axes", ?normalize = normalize, name = name))
        | "EinsumDense" ->
            for key in [ "lora_rank"; "quantization_config"; "gptq_unpacked_column_size" ] do
                r.Expect(key, (fun _ -> false), "Quantized and LoRA EinsumDense layers are not supported.")

            let outputShape =
                match r.Node "output_shape" with
                | :? JsonArray as a ->
                    a
                    |> Seq.map (fun d ->
                        if isNull d then
                            None
                        else
                            Some(ConfigReader.value<int> name "output_shape" d))
                    |> List.ofSeq
                | _ -> [ Some(r.Req<int> "output_shape") ]

            Some(
                Layers.EinsumDense(
                    r.Req<string> "equation",
                    outputShape,
                    ?activation = r.ActivationOpt "activation",
                    ?biasAxes = r.Opt<string> "bias_axes",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    name = name
                )
            )
        | "RMSNormalization" ->
            Some(Layers.RMSNormalization(?axis = r.Dims "axis", ?epsilon = r.Opt<float> "epsilon", name = name))
        | "SpectralNormalization" ->
            Some(
                Layers.SpectralNormalization(
                    inner "layer",
                    ?powerIterations = r.Opt<int> "power_iterations",
                    name = name
                )
            )
        | "Normalization" ->
            let d = NormalizationExtraLayers.NormalizationConfig.Default

            let axis =
                match r.Node "axis" with
                | null -> d.Axis
                | _ -> r.Dims "axis" |> Option.defaultValue []

            Some(
                NormalizationExtraLayers.normalization
                    { d with
                        Axis = axis
                        Mean = normalizationValues name "mean" (r.Node "mean")
                        Variance = normalizationValues name "variance" (r.Node "variance")
                        Invert = r.Opt<bool> "invert" |> Option.defaultValue false
                    }
                    (Some name)
            )
        | _ -> None

    // ---- end of issue 13 ----

    // ---- Preprocessing (issue 13): readers of factors and value ranges ----

    /// A Keras factor entry: a number or a (lower, upper) pair.
    let private factor (r: LayerConfigReader) (key: string) : AugmentationLayers.Factor option =
        match r.Node key with
        | null -> None
        | :? JsonArray as a ->
            match a |> Seq.map (ConfigReader.number r.Owner key) |> List.ofSeq with
            | [ lo; hi ] -> Some(AugmentationLayers.Range(lo, hi))
            | _ -> fail (InvalidArgument(r.Owner, key, "Expected a number or a list of two numbers.", a.ToJsonString()))
        | n -> Some(AugmentationLayers.Single(ConfigReader.number r.Owner key n))

    let private valueRange (r: LayerConfigReader) =
        match factor r "value_range" with
        | Some(AugmentationLayers.Range(lo, hi)) -> lo, hi
        | None -> 0.0, 255.0
        | Some _ ->
            fail (
                InvalidArgument(
                    r.Owner,
                    "value_range",
                    "The `value_range` argument should be a list of two numbers.",
                    "a number"
                )
            )

    let private affineSettings (r: LayerConfigReader) : AugmentationLayers.AffineSettings =
        r.ChannelsLast()
        let d = AugmentationLayers.AffineSettings.Default

        {
            FillMode = r.Opt<string> "fill_mode" |> Option.defaultValue d.FillMode
            Interpolation = r.Opt<string> "interpolation" |> Option.defaultValue d.Interpolation
            FillValue = r.Opt<float> "fill_value" |> Option.defaultValue d.FillValue
            Seed = r.Opt<int> "seed"
        }

    let private preprocessing (r: LayerConfigReader) (className: string) (name: string) : Layer option =
        let required key =
            match factor r key with
            | Some f -> f
            | None -> fail (InvalidArgument(name, key, "The config needs this entry.", "None"))

        match className with
        | "Rescaling" -> Some(Layers.Rescaling(r.Req<float> "scale", ?offset = r.Opt<float> "offset", name = name))
        | "Resizing" ->
            r.ChannelsLast()

            r.Expect(
                "antialias",
                (fun n -> ConfigReader.value<bool> name "antialias" n = false),
                "Antialiasing is not supported."
            )

            r.Expect(
                "fill_mode",
                (fun n -> ConfigReader.str n = "constant"),
                "Only fill_mode=\"constant\" is supported."
            )

            Some(
                Layers.Resizing(
                    r.Req<int> "height",
                    r.Req<int> "width",
                    ?interpolation = r.Opt<string> "interpolation",
                    ?cropToAspectRatio = r.Opt<bool> "crop_to_aspect_ratio",
                    ?padToAspectRatio = r.Opt<bool> "pad_to_aspect_ratio",
                    ?fillValue = r.Opt<float> "fill_value",
                    name = name
                )
            )
        | "CenterCrop" ->
            r.ChannelsLast()
            Some(Layers.CenterCrop(r.Req<int> "height", r.Req<int> "width", name = name))
        | "RandomFlip" ->
            r.ChannelsLast()
            Some(Layers.RandomFlip(?mode = r.Opt<string> "mode", ?seed = r.Opt<int> "seed", name = name))
        | "RandomRotation" -> Some(AugmentationLayers.randomRotation (required "factor") (affineSettings r) (Some name))
        | "RandomZoom" ->
            Some(
                AugmentationLayers.randomZoom
                    (required "height_factor")
                    (factor r "width_factor")
                    (affineSettings r)
                    (Some name)
            )
        | "RandomTranslation" ->
            Some(
                AugmentationLayers.randomTranslation
                    (required "height_factor")
                    (required "width_factor")
                    (affineSettings r)
                    (Some name)
            )
        | "RandomContrast" ->
            r.ChannelsLast()
            Some(AugmentationLayers.randomContrast (required "factor") (valueRange r) (r.Opt<int> "seed") (Some name))
        | "RandomBrightness" ->
            r.ChannelsLast()
            Some(AugmentationLayers.randomBrightness (required "factor") (valueRange r) (r.Opt<int> "seed") (Some name))
        | "CategoryEncoding" ->
            r.Expect(
                "sparse",
                (fun n -> ConfigReader.value<bool> name "sparse" n = false),
                "Sparse outputs are not supported."
            )

            Some(
                Layers.CategoryEncoding(r.Req<int> "num_tokens", ?outputMode = r.Opt<string> "output_mode", name = name)
            )
        | "Discretization" ->
            r.Expect(
                "sparse",
                (fun n -> ConfigReader.value<bool> name "sparse" n = false),
                "Sparse outputs are not supported."
            )

            let boundaries =
                match r.Node "bin_boundaries" with
                | :? JsonArray as a -> Some(a |> Seq.map (ConfigReader.number name "bin_boundaries") |> List.ofSeq)
                | _ -> None

            let numBins = r.Opt<int> "num_bins"

            let layer =
                Layers.Discretization(
                    ?binBoundaries = (if numBins.IsSome then None else boundaries),
                    ?numBins = numBins,
                    ?epsilon = r.Opt<float> "epsilon",
                    ?outputMode = r.Opt<string> "output_mode",
                    name = name
                )

            // After adapt Keras writes both the bin count and the learned boundaries.
            match numBins, boundaries with
            | Some _, Some b -> NumericPreprocessingLayers.withBoundaries layer b
            | _ -> ()

            Some layer
        | _ -> None

    let private noRegularizers (r: LayerConfigReader) (keys: string list) =
        for key in keys do
            r.Expect(key, (fun _ -> false), "This setting cannot be rebuilt for this layer class yet.")

    /// <summary>Rebuilds a built-in layer of class <paramref name="className"/> named <paramref name="name"/> from its
    /// config; None when the class is not one of the library's built-in classes. Wrapper layers (Bidirectional,
    /// TimeDistributed) rebuild their inner layer with <paramref name="deserialize"/>.</summary>
    /// <exception cref="KerasException">When an entry has an unusable value or a setting cannot be honoured.</exception>
    // ---- Text and lookup preprocessing (issue 13) ----

    /// StringLookup, IntegerLookup, Hashing and TextVectorization from their Keras configs. An adapted vocabulary is not
    /// in the config: the `.keras` loader reads it from the archive's assets.
    let private textLayer (r: LayerConfigReader) (className: string) (name: string) =
        r.Expect("sparse", (fun n -> n.GetValueKind() = System.Text.Json.JsonValueKind.False), "Sparse outputs are not supported.")
        r.Expect("ragged", (fun n -> n.GetValueKind() = System.Text.Json.JsonValueKind.False), "Ragged outputs are not supported.")
        r.Expect("encoding", (fun n -> ConfigReader.str n = "utf-8"), "Only the utf-8 encoding is supported.")
        r.Expect("oov_method", (fun n -> ConfigReader.str n = "floormod"), "Only oov_method=\"floormod\" is supported.")

        let list (key: string) (item: JsonNode -> 'T) : 'T list option =
            match r.Node key with
            | :? JsonArray as a -> Some(a |> Seq.map item |> List.ofSeq)
            | null -> None
            | _ -> fail (InvalidArgument(r.Owner, key, "Expected a list.", r.Node(key).ToJsonString()))

        let strings key =
            list key (fun n -> ConfigReader.value<string> r.Owner key n)

        let floats key =
            list key (fun n -> ConfigReader.value<float> r.Owner key n)

        let mode (allowed: LookupLayers.OutputMode list) =
            LookupLayers.OutputMode.parse r.Owner allowed (r.Opt<string> "output_mode" |> Option.defaultValue "int")

        let allModes =
            [ LookupLayers.Int; LookupLayers.OneHot; LookupLayers.MultiHot; LookupLayers.Count; LookupLayers.TfIdf ]

        match className with
        | "StringLookup" ->
            r.Expect("salt", (fun _ -> false), "A salt needs oov_method=\"farmhash\", which is not supported.")

            LookupLayers.stringLookup
                {
                    MaxTokens = r.Opt<int> "max_tokens"
                    NumOovIndices = r.Opt<int> "num_oov_indices" |> Option.defaultValue 1
                    MaskToken = r.Opt<string> "mask_token"
                    OovToken = r.Opt<string> "oov_token" |> Option.defaultValue "[UNK]"
                    Vocabulary = strings "vocabulary"
                    IdfWeights = floats "idf_weights"
                    Invert = r.Opt<bool> "invert" |> Option.defaultValue false
                    OutputMode = mode allModes
                    PadToMaxTokens = r.Opt<bool> "pad_to_max_tokens" |> Option.defaultValue false
                }
                (Some name)
        | "IntegerLookup" ->
            r.Expect("salt", (fun _ -> false), "A salt needs oov_method=\"farmhash\", which is not supported.")

            LookupLayers.integerLookup
                {
                    MaxTokens = r.Opt<int> "max_tokens"
                    NumOovIndices = r.Opt<int> "num_oov_indices" |> Option.defaultValue 1
                    MaskToken = r.Opt<int64> "mask_token"
                    OovToken = r.Opt<int64> "oov_token" |> Option.defaultValue -1L
                    Vocabulary = list "vocabulary" (fun n -> ConfigReader.value<int64> r.Owner "vocabulary" n)
                    IdfWeights = floats "idf_weights"
                    Invert = r.Opt<bool> "invert" |> Option.defaultValue false
                    OutputMode = mode allModes
                    PadToMaxTokens = r.Opt<bool> "pad_to_max_tokens" |> Option.defaultValue false
                }
                (Some name)
        | "Hashing" ->
            let salt =
                match r.Node "salt" with
                | null -> None
                | :? JsonArray as a when a.Count = 2 ->
                    Some(ConfigReader.value<int64> r.Owner "salt" a[0], ConfigReader.value<int64> r.Owner "salt" a[1])
                | n ->
                    let s = ConfigReader.value<int64> r.Owner "salt" n
                    Some(s, s)

            let maskValue =
                match r.Node "mask_value" with
                | null -> None
                | :? JsonValue as v ->
                    match v.TryGetValue<string>() with
                    | true, text -> Some text
                    | _ -> Some(string (ConfigReader.value<int64> r.Owner "mask_value" v))
                | n -> fail (InvalidArgument(r.Owner, "mask_value", "Expected a string or an integer.", n.ToJsonString()))

            LookupLayers.hashing
                {
                    NumBins = r.Req<int> "num_bins"
                    MaskValue = maskValue
                    Salt = salt
                    OutputMode = mode [ LookupLayers.Int; LookupLayers.OneHot; LookupLayers.MultiHot; LookupLayers.Count ]
                }
                (Some name)
        | _ ->
            TextLayers.textVectorization
                {
                    MaxTokens = r.Opt<int> "max_tokens"
                    Standardize = r.Opt<string> "standardize"
                    Split = r.Opt<string> "split"
                    Ngrams =
                        match r.Node "ngrams" with
                        | null -> None
                        | :? JsonArray as a -> Some(a |> Seq.map (ConfigReader.value<int> r.Owner "ngrams") |> List.ofSeq)
                        | n -> Some [ 1 .. ConfigReader.value<int> r.Owner "ngrams" n ]
                    OutputMode = mode [ LookupLayers.Int; LookupLayers.MultiHot; LookupLayers.Count; LookupLayers.TfIdf ]
                    OutputSequenceLength = r.Opt<int> "output_sequence_length"
                    PadToMaxTokens = r.Opt<bool> "pad_to_max_tokens" |> Option.defaultValue false
                    Vocabulary = strings "vocabulary"
                    IdfWeights = floats "idf_weights"
                }
                (Some name)

    // ---- end of text and lookup preprocessing ----

    /// <summary>A built-in layer from its Keras class name, layer name and config (Keras's <c>from_config</c> per
    /// class);
    /// <c>None</c> when the class is not built in. Wrapped layers (Bidirectional, TimeDistributed, ...) come from
    /// <paramref name="deserialize"/>; custom classes inside them from <paramref name="customObjects"/>.</summary>
    let tryBuild
        (deserialize: JsonObject -> Layer)
        (customObjects: IDictionary<string, CustomObject>)
        (className: string)
        (name: string)
        (config: JsonObject)
        : Layer option =
        let r = LayerConfigReader(name, config, customObjects)
        let rate () = r.Req<float> "rate"

        let inner key =
            match r.Node key with
            | :? JsonObject as o ->
                // Bidirectional names its copies "forward_<name>" and "backward_<name>"; Keras strips the prefix.
                let o = o.DeepClone().AsObject()

                match o["config"] with
                | :? JsonObject as c ->
                    match ConfigReader.str (ConfigReader.entry c "name") with
                    | null -> ()
                    | n when className = "Bidirectional" && n.StartsWith "forward_" ->
                        c["name"] <- JsonValue.Create(n.Substring 8)
                    | _ -> ()
                | _ -> ()

                deserialize o
            | _ -> fail (InvalidArgument(name, key, "The wrapper's config needs the wrapped layer.", "None"))

        match className with
        | "Dense" ->
            Some(
                Layers.Dense(
                    r.Req<int> "units",
                    ?activation = r.ActivationOpt "activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    name = name
                )
            )
        | "Activation" -> Some(Layers.Activation(r.Activation "activation", name = name))
        | "Dropout" ->
            r.Expect("noise_shape", (fun _ -> false), "A noise shape cannot be rebuilt yet.")
            Some(Layers.Dropout(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "Flatten" ->
            r.ChannelsLast()
            Some(Layers.Flatten(name = name))
        | "Reshape" -> Some(Layers.Reshape(r.Req<int[]> "target_shape" |> List.ofArray, name = name))
        | "Permute" -> Some(Layers.Permute(r.Req<int[]> "dims" |> List.ofArray, name = name))
        | "RepeatVector" -> Some(Layers.RepeatVector(r.Req<int> "n", name = name))
        | "Add" -> Some(Layers.Add(name = name))
        | "Subtract" -> Some(Layers.Subtract(name = name))
        | "Multiply" -> Some(Layers.Multiply(name = name))
        | "Average" -> Some(Layers.Average(name = name))
        | "Maximum" -> Some(Layers.Maximum(name = name))
        | "Minimum" -> Some(Layers.Minimum(name = name))
        | "Concatenate" -> Some(Layers.Concatenate(?axis = r.Opt<int> "axis", name = name))
        | "Embedding" ->
            r.Expect("input_length", (fun _ -> true), "")

            Some(
                Layers.Embedding(
                    r.Req<int> "input_dim",
                    r.Req<int> "output_dim",
                    ?embeddingsInitializer = r.Init "embeddings_initializer",
                    ?maskZero = r.Opt<bool> "mask_zero",
                    ?embeddingsRegularizer = r.Reg "embeddings_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?embeddingsConstraint = r.Constr "embeddings_constraint",
                    name = name
                )
            )
        | "Masking" -> Some(Layers.Masking(?maskValue = r.Opt<float> "mask_value", name = name))
        | "SimpleRNN"
        | "LSTM"
        | "GRU" -> Some(recurrent r className name)
        | "Bidirectional" ->
            r.Expect("backward_layer", (fun _ -> true), "")

            let mode =
                match r.Node "merge_mode" with
                | null -> Some null
                | n -> Some(ConfigReader.str n)

            Some(Layers.Bidirectional(inner "layer", ?mergeMode = mode, name = name))
        | "TimeDistributed" -> Some(Layers.TimeDistributed(inner "layer", name = name))
        | "ConvLSTM2D" ->
            r.ChannelsLast()

            Some(
                Layers.ConvLSTM2D(
                    r.Req<int> "filters",
                    pair name "kernel_size" (r.Dims "kernel_size" |> Option.defaultValue [ 1 ]),
                    ?strides = (r.Dims "strides" |> Option.map (pair name "strides")),
                    ?padding = r.Opt<string> "padding",
                    ?dilationRate = (r.Dims "dilation_rate" |> Option.map (pair name "dilation_rate")),
                    ?activation = r.ActivationOpt "activation",
                    ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?recurrentInitializer = r.Init "recurrent_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?unitForgetBias = r.Opt<bool> "unit_forget_bias",
                    ?dropout = r.Opt<float> "dropout",
                    ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                    ?returnSequences = r.Opt<bool> "return_sequences",
                    ?returnState = r.Opt<bool> "return_state",
                    ?goBackwards = r.Opt<bool> "go_backwards",
                    ?seed = r.Opt<int> "seed",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?recurrentConstraint = r.Constr "recurrent_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    name = name
                )
            )
        // ---- ConvLSTM1D and ConvLSTM3D (issue 13) ----
        | "ConvLSTM1D"
        | "ConvLSTM3D" ->
            r.ChannelsLast()

            let single key (values: int list) =
                match values with
                | [ v ] -> v
                | _ -> fail (InvalidArgument(name, key, "Expected 1 integer.", string values))

            let kernel = r.Dims "kernel_size" |> Option.defaultValue [ 1 ]

            let common (f: string -> int list -> 'T) =
                f "kernel_size" kernel,
                r.Dims "strides" |> Option.map (f "strides"),
                r.Dims "dilation_rate" |> Option.map (f "dilation_rate")

            Some(
                if className = "ConvLSTM1D" then
                    let kernelSize, strides, dilation = common single

                    Layers.ConvLSTM1D(
                        r.Req<int> "filters",
                        kernelSize,
                        ?strides = strides,
                        ?padding = r.Opt<string> "padding",
                        ?dilationRate = dilation,
                        ?activation = r.ActivationOpt "activation",
                        ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                        ?useBias = r.Opt<bool> "use_bias",
                        ?kernelInitializer = r.Init "kernel_initializer",
                        ?recurrentInitializer = r.Init "recurrent_initializer",
                        ?biasInitializer = r.Init "bias_initializer",
                        ?unitForgetBias = r.Opt<bool> "unit_forget_bias",
                        ?dropout = r.Opt<float> "dropout",
                        ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                        ?returnSequences = r.Opt<bool> "return_sequences",
                        ?returnState = r.Opt<bool> "return_state",
                        ?goBackwards = r.Opt<bool> "go_backwards",
                        ?stateful = r.Opt<bool> "stateful",
                        ?seed = r.Opt<int> "seed",
                        ?kernelRegularizer = r.Reg "kernel_regularizer",
                        ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                        ?biasRegularizer = r.Reg "bias_regularizer",
                        ?activityRegularizer = r.Reg "activity_regularizer",
                        ?kernelConstraint = r.Constr "kernel_constraint",
                        ?recurrentConstraint = r.Constr "recurrent_constraint",
                        ?biasConstraint = r.Constr "bias_constraint",
                        name = name
                    )
                else
                    let kernelSize, strides, dilation = common (triple name)

                    Layers.ConvLSTM3D(
                        r.Req<int> "filters",
                        kernelSize,
                        ?strides = strides,
                        ?padding = r.Opt<string> "padding",
                        ?dilationRate = dilation,
                        ?activation = r.ActivationOpt "activation",
                        ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                        ?useBias = r.Opt<bool> "use_bias",
                        ?kernelInitializer = r.Init "kernel_initializer",
                        ?recurrentInitializer = r.Init "recurrent_initializer",
                        ?biasInitializer = r.Init "bias_initializer",
                        ?unitForgetBias = r.Opt<bool> "unit_forget_bias",
                        ?dropout = r.Opt<float> "dropout",
                        ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                        ?returnSequences = r.Opt<bool> "return_sequences",
                        ?returnState = r.Opt<bool> "return_state",
                        ?goBackwards = r.Opt<bool> "go_backwards",
                        ?stateful = r.Opt<bool> "stateful",
                        ?seed = r.Opt<int> "seed",
                        ?kernelRegularizer = r.Reg "kernel_regularizer",
                        ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                        ?biasRegularizer = r.Reg "bias_regularizer",
                        ?activityRegularizer = r.Reg "activity_regularizer",
                        ?kernelConstraint = r.Constr "kernel_constraint",
                        ?recurrentConstraint = r.Constr "recurrent_constraint",
                        ?biasConstraint = r.Constr "bias_constraint",
                        name = name
                    )
            )
        // ---- end of ConvLSTM1D and ConvLSTM3D ----
        | "Conv1D" -> Some(conv r 1 name false)
        | "Conv2D" -> Some(conv r 2 name false)
        | "Conv3D" -> Some(conv r 3 name false)
        | "Conv1DTranspose" -> Some(conv r 1 name true)
        | "Conv2DTranspose" -> Some(conv r 2 name true)
        | "Conv3DTranspose" -> Some(conv r 3 name true)
        | "DepthwiseConv1D" -> Some(depthwise r 1 name)
        | "DepthwiseConv2D" -> Some(depthwise r 2 name)
        | "SeparableConv1D" -> Some(separable r 1 name)
        | "SeparableConv2D" -> Some(separable r 2 name)
        | "MaxPooling1D"
        | "MaxPool1D" -> Some(pooling r "Max" 1 name)
        | "MaxPooling2D"
        | "MaxPool2D" -> Some(pooling r "Max" 2 name)
        | "MaxPooling3D"
        | "MaxPool3D" -> Some(pooling r "Max" 3 name)
        | "AveragePooling1D"
        | "AvgPool1D" -> Some(pooling r "Average" 1 name)
        | "AveragePooling2D"
        | "AvgPool2D" -> Some(pooling r "Average" 2 name)
        | "AveragePooling3D"
        | "AvgPool3D" -> Some(pooling r "Average" 3 name)
        | "GlobalMaxPooling1D"
        | "GlobalMaxPool1D" ->
            r.ChannelsLast()
            Some(Layers.GlobalMaxPooling1D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "GlobalMaxPooling2D"
        | "GlobalMaxPool2D" ->
            r.ChannelsLast()
            Some(Layers.GlobalMaxPooling2D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "GlobalMaxPooling3D"
        | "GlobalMaxPool3D" ->
            r.ChannelsLast()
            Some(Layers.GlobalMaxPooling3D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "GlobalAveragePooling1D"
        | "GlobalAvgPool1D" ->
            r.ChannelsLast()
            Some(Layers.GlobalAveragePooling1D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "GlobalAveragePooling2D"
        | "GlobalAvgPool2D" ->
            r.ChannelsLast()
            Some(Layers.GlobalAveragePooling2D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "GlobalAveragePooling3D"
        | "GlobalAvgPool3D" ->
            r.ChannelsLast()
            Some(Layers.GlobalAveragePooling3D(?keepdims = r.Opt<bool> "keepdims", name = name))
        | "UpSampling1D" -> Some(Layers.UpSampling1D(?size = r.OneInt "size", name = name))
        | "UpSampling2D" ->
            r.ChannelsLast()

            Some(
                Layers.UpSampling2D(
                    pair name "size" (r.Dims "size" |> Option.defaultValue [ 2 ]),
                    ?interpolation = r.Opt<string> "interpolation",
                    name = name
                )
            )
        | "UpSampling3D" ->
            r.ChannelsLast()
            Some(Layers.UpSampling3D(triple name "size" (r.Dims "size" |> Option.defaultValue [ 2 ]), name = name))
        | "ZeroPadding1D" ->
            // Keras 3.5+ writes data_format here too (issue 9): channels_first is refused, not ignored.
            r.ChannelsLast()

            match pairs r "padding" 1 with
            | [ p ] -> Some(Layers.ZeroPadding1D(p, name = name))
            | _ -> fail (InvalidArgument(name, "padding", "Expected one pair.", "..."))
        | "ZeroPadding2D" ->
            r.ChannelsLast()

            match pairs r "padding" 2 with
            | [ a; b ] -> Some(Layers.ZeroPadding2D((a, b), name = name))
            | _ -> fail (InvalidArgument(name, "padding", "Expected two pairs.", "..."))
        | "ZeroPadding3D" ->
            r.ChannelsLast()

            match pairs r "padding" 3 with
            | [ a; b; c ] -> Some(Layers.ZeroPadding3D((a, b, c), name = name))
            | _ -> fail (InvalidArgument(name, "padding", "Expected three pairs.", "..."))
        | "Cropping1D" ->
            match pairs r "cropping" 1 with
            | [ p ] -> Some(Layers.Cropping1D(p, name = name))
            | _ -> fail (InvalidArgument(name, "cropping", "Expected one pair.", "..."))
        | "Cropping2D" ->
            r.ChannelsLast()

            match pairs r "cropping" 2 with
            | [ a; b ] -> Some(Layers.Cropping2D((a, b), name = name))
            | _ -> fail (InvalidArgument(name, "cropping", "Expected two pairs.", "..."))
        | "Cropping3D" ->
            r.ChannelsLast()

            match pairs r "cropping" 3 with
            | [ a; b; c ] -> Some(Layers.Cropping3D((a, b, c), name = name))
            | _ -> fail (InvalidArgument(name, "cropping", "Expected three pairs.", "..."))
        | "BatchNormalization" ->
            r.Expect(
                "renorm",
                (fun n -> ConfigReader.value<bool> name "renorm" n = false),
                "Batch renormalization is not supported."
            )

            Some(
                Layers.BatchNormalization(
                    ?axis = r.OneInt "axis",
                    ?momentum = r.Opt<float> "momentum",
                    ?epsilon = r.Opt<float> "epsilon",
                    ?center = r.Opt<bool> "center",
                    ?scale = r.Opt<bool> "scale",
                    ?betaInitializer = r.Init "beta_initializer",
                    ?gammaInitializer = r.Init "gamma_initializer",
                    ?movingMeanInitializer = r.Init "moving_mean_initializer",
                    ?movingVarianceInitializer = r.Init "moving_variance_initializer",
                    ?betaRegularizer = r.Reg "beta_regularizer",
                    ?gammaRegularizer = r.Reg "gamma_regularizer",
                    ?betaConstraint = r.Constr "beta_constraint",
                    ?gammaConstraint = r.Constr "gamma_constraint",
                    name = name
                )
            )
        | "LayerNormalization" ->
            noRegularizers
                r
                [
                    "beta_regularizer"
                    "gamma_regularizer"
                    "beta_constraint"
                    "gamma_constraint"
                ]

            r.Expect(
                "rms_scaling",
                (fun n -> ConfigReader.value<bool> name "rms_scaling" n = false),
                "RMS scaling is not supported."
            )

            Some(
                Layers.LayerNormalization(
                    ?axis = r.Dims "axis",
                    ?epsilon = r.Opt<float> "epsilon",
                    ?center = r.Opt<bool> "center",
                    ?scale = r.Opt<bool> "scale",
                    ?betaInitializer = r.Init "beta_initializer",
                    ?gammaInitializer = r.Init "gamma_initializer",
                    name = name
                )
            )
        | "GroupNormalization" ->
            noRegularizers
                r
                [
                    "beta_regularizer"
                    "gamma_regularizer"
                    "beta_constraint"
                    "gamma_constraint"
                ]

            Some(
                Layers.GroupNormalization(
                    ?groups = r.Opt<int> "groups",
                    ?axis = r.OneInt "axis",
                    ?epsilon = r.Opt<float> "epsilon",
                    ?center = r.Opt<bool> "center",
                    ?scale = r.Opt<bool> "scale",
                    ?betaInitializer = r.Init "beta_initializer",
                    ?gammaInitializer = r.Init "gamma_initializer",
                    name = name
                )
            )
        | "UnitNormalization" -> Some(Layers.UnitNormalization(?axis = r.Dims "axis", name = name))
        | "SpatialDropout1D" -> Some(Layers.SpatialDropout1D(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "SpatialDropout2D" ->
            r.ChannelsLast()
            Some(Layers.SpatialDropout2D(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "SpatialDropout3D" ->
            r.ChannelsLast()
            Some(Layers.SpatialDropout3D(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "GaussianNoise" -> Some(Layers.GaussianNoise(r.Req<float> "stddev", ?seed = r.Opt<int> "seed", name = name))
        | "GaussianDropout" -> Some(Layers.GaussianDropout(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "AlphaDropout" ->
            r.Expect("noise_shape", (fun _ -> false), "A noise shape cannot be rebuilt yet.")
            Some(Layers.AlphaDropout(rate (), ?seed = r.Opt<int> "seed", name = name))
        | "MultiHeadAttention" ->
            Some(
                Layers.MultiHeadAttention(
                    r.Req<int> "num_heads",
                    r.Req<int> "key_dim",
                    ?valueDim = r.Opt<int> "value_dim",
                    ?dropout = r.Opt<float> "dropout",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?outputShape = r.Dims "output_shape",
                    ?attentionAxes = r.Dims "attention_axes",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?seed = r.Opt<int> "seed",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?activityRegularizer = r.Reg "activity_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    name = name
                )
            )
        | "Attention" ->
            Some(
                Layers.Attention(
                    ?useScale = r.Opt<bool> "use_scale",
                    ?scoreMode = r.Opt<string> "score_mode",
                    ?dropout = r.Opt<float> "dropout",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        // ---- Recurrent extensions and GroupQueryAttention (issue 13) ----
        | "GroupedQueryAttention"
        | "GroupQueryAttention" ->
            noRegularizers
                r
                [
                    "kernel_regularizer"
                    "bias_regularizer"
                    "activity_regularizer"
                    "kernel_constraint"
                    "bias_constraint"
                ]

            r.Expect(
                "use_gate",
                (fun n -> ConfigReader.value<bool> r.Owner "use_gate" n = false),
                "Gated attention (use_gate=True) is not supported."
            )

            r.Expect("sliding_window", (fun _ -> false), "A sliding window cannot be rebuilt yet.")

            Some(
                Layers.GroupQueryAttention(
                    r.Req<int> "head_dim",
                    r.Req<int> "num_query_heads",
                    r.Req<int> "num_key_value_heads",
                    ?dropout = r.Opt<float> "dropout",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        | "RNN" ->
            Some(
                Layers.RNN(
                    inner "cell",
                    ?returnSequences = r.Opt<bool> "return_sequences",
                    ?returnState = r.Opt<bool> "return_state",
                    ?goBackwards = r.Opt<bool> "go_backwards",
                    ?stateful = r.Opt<bool> "stateful",
                    ?unroll = r.Opt<bool> "unroll",
                    ?zeroOutputForMask = r.Opt<bool> "zero_output_for_mask",
                    name = name
                )
            )
        | "StackedRNNCells" ->
            let cells =
                match r.Node "cells" with
                | :? JsonArray as a ->
                    [
                        for item in a ->
                            match item with
                            | :? JsonObject as o -> deserialize (o.DeepClone().AsObject())
                            | other ->
                                fail (
                                    InvalidArgument(
                                        name,
                                        "cells",
                                        "Each cell must be a serialized layer.",
                                        (if isNull other then "None" else other.ToJsonString())
                                    )
                                )
                    ]
                | _ -> fail (InvalidArgument(name, "cells", "StackedRNNCells needs a list of cells.", "None"))

            Some(Layers.StackedRNNCells(cells, name = name))
        | "SimpleRNNCell" ->
            Some(
                Layers.SimpleRNNCell(
                    r.Req<int> "units",
                    ?activation = r.ActivationOpt "activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?recurrentInitializer = r.Init "recurrent_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?dropout = r.Opt<float> "dropout",
                    ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?recurrentConstraint = r.Constr "recurrent_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        | "LSTMCell" ->
            Some(
                Layers.LSTMCell(
                    r.Req<int> "units",
                    ?activation = r.ActivationOpt "activation",
                    ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?recurrentInitializer = r.Init "recurrent_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?unitForgetBias = r.Opt<bool> "unit_forget_bias",
                    ?dropout = r.Opt<float> "dropout",
                    ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?recurrentConstraint = r.Constr "recurrent_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        | "GRUCell" ->
            Some(
                Layers.GRUCell(
                    r.Req<int> "units",
                    ?activation = r.ActivationOpt "activation",
                    ?recurrentActivation = r.ActivationOpt "recurrent_activation",
                    ?useBias = r.Opt<bool> "use_bias",
                    ?kernelInitializer = r.Init "kernel_initializer",
                    ?recurrentInitializer = r.Init "recurrent_initializer",
                    ?biasInitializer = r.Init "bias_initializer",
                    ?dropout = r.Opt<float> "dropout",
                    ?recurrentDropout = r.Opt<float> "recurrent_dropout",
                    ?resetAfter = r.Opt<bool> "reset_after",
                    ?kernelRegularizer = r.Reg "kernel_regularizer",
                    ?recurrentRegularizer = r.Reg "recurrent_regularizer",
                    ?biasRegularizer = r.Reg "bias_regularizer",
                    ?kernelConstraint = r.Constr "kernel_constraint",
                    ?recurrentConstraint = r.Constr "recurrent_constraint",
                    ?biasConstraint = r.Constr "bias_constraint",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        // ---- end of issue 13 ----
        | "AdditiveAttention" ->
            Some(
                Layers.AdditiveAttention(
                    ?useScale = r.Opt<bool> "use_scale",
                    ?dropout = r.Opt<float> "dropout",
                    ?seed = r.Opt<int> "seed",
                    name = name
                )
            )
        // ---- Text and lookup preprocessing (issue 13) ----
        | "StringLookup"
        | "IntegerLookup"
        | "Hashing"
        | "TextVectorization" ->
            Some(textLayer r className name |> fun l -> TextLayers.Vocabulary.freezeSize l (r.Opt<int> "vocabulary_size"))
        // ---- end of text and lookup preprocessing ----
        // The other issue-13 families: each gives None for a class it does not know.
        | _ ->
            issue13 r inner className name
            |> Option.orElseWith (fun () -> preprocessing r className name)
