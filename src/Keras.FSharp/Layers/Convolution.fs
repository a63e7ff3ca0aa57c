/// Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D and SeparableConv1D/2D, with Keras's
/// arguments, defaults, weight layouts and TensorFlow's "same" padding. Inputs are channels_last
/// (batch, ...spatial, channels) by default, or channels_first (batch, channels, ...spatial).
module Keras.ConvolutionLayers

open System
open System.Text.Json.Nodes
open TorchSharp
open Keras

/// <summary>Sizes per spatial axis as Keras takes them: one int for every axis, or a tuple (or list) with one
/// entry per axis.</summary>
/// <example><c>Layers.Conv2D(16, 3)</c>, <c>Layers.Conv2D(16, (3, 5), strides = 2)</c>.</example>
[<Struct>]
type Dims =
    /// <summary>One size (for every spatial axis) or one per spatial axis.</summary>
    | Dims of int list

    /// The sizes as given: one entry, or one per spatial axis.
    member this.Values =
        let (Dims values) = this
        values

    /// The same size on every spatial axis.
    static member op_Implicit(size: int) : Dims = Dims [ size ]

    /// One size for each of two spatial axes.
    static member op_Implicit((a, b): int * int) : Dims = Dims [ a; b ]

    /// One size for each of three spatial axes.
    static member op_Implicit((a, b, c): int * int * int) : Dims = Dims [ a; b; c ]

    /// One size per spatial axis, or a single size for all of them.
    static member op_Implicit(sizes: int list) : Dims = Dims sizes

/// Configuration of <see cref="conv1d"/>, <see cref="conv2d"/> and <see cref="conv3d"/>, with Keras's defaults in
/// <see cref="ConvConfig.Default"/>. Per-axis sizes are lists with one entry per spatial axis, or a single entry for all.
type ConvConfig =
    {
        /// Number of output channels.
        Filters: int
        /// Size of the convolution window.
        KernelSize: int list
        /// Step of the window.
        Strides: int list
        /// "valid" (no padding), "same" (output size ceil(input / stride), extra padding at the end) or, for Conv1D
        /// only, "causal" (padding at the start only).
        Padding: string
        /// "channels_last" (batch, ...spatial, channels) or "channels_first" (batch, channels, ...spatial).
        DataFormat: string
        /// Spacing between kernel taps; greater than 1 only with unit strides.
        DilationRate: int list
        /// Number of groups the channels are split into; input channels and filters must be divisible by it.
        Groups: int
        /// Applied to the output.
        Activation: Activation
        /// Whether to add a bias per filter.
        UseBias: bool
        /// Initializer of the kernel.
        KernelInitializer: Initializer
        /// Initializer of the bias.
        BiasInitializer: Initializer
        /// Penalty on the kernel added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on the bias added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the kernel after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of the bias after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: strides 1, "valid", channels_last, dilation 1, one group, linear, bias on,
    /// glorot_uniform kernel, zero bias.
    static member Default(filters: int, kernelSize: int list) =
        {
            Filters = filters
            KernelSize = kernelSize
            Strides = [ 1 ]
            Padding = "valid"
            DataFormat = "channels_last"
            DilationRate = [ 1 ]
            Groups = 1
            Activation = Linear
            UseBias = true
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            KernelRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            BiasConstraint = None
        }

    /// <summary>A configuration from Keras-style optional arguments; omitted ones take Keras's defaults.</summary>
    static member Create
        (
            filters: int,
            kernelSize: Dims,
            ?strides: Dims,
            ?padding: string,
            ?dataFormat: string,
            ?dilationRate: Dims,
            ?groups: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint
        ) =
        let d = ConvConfig.Default(filters, kernelSize.Values)

        { d with
            Strides = strides |> Option.map _.Values |> Option.defaultValue d.Strides
            Padding = defaultArg padding d.Padding
            DataFormat = defaultArg dataFormat d.DataFormat
            DilationRate = dilationRate |> Option.map _.Values |> Option.defaultValue d.DilationRate
            Groups = defaultArg groups d.Groups
            Activation = defaultArg activation d.Activation
            UseBias = defaultArg useBias d.UseBias
            KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
            BiasInitializer = defaultArg biasInitializer d.BiasInitializer
            KernelRegularizer = kernelRegularizer
            BiasRegularizer = biasRegularizer
            ActivityRegularizer = activityRegularizer
            KernelConstraint = kernelConstraint
            BiasConstraint = biasConstraint
        }

/// Configuration of the transposed convolutions, with Keras's defaults in <see cref="ConvTransposeConfig.Default"/>.
type ConvTransposeConfig =
    {
        /// Number of output channels.
        Filters: int
        /// Size of the convolution window.
        KernelSize: int list
        /// Upsampling factor.
        Strides: int list
        /// "valid" or "same" (output size input · stride).
        Padding: string
        /// Extra size added at the end of each spatial axis; each entry below the stride. None lets Keras infer it.
        OutputPadding: int list option
        /// "channels_last" or "channels_first".
        DataFormat: string
        /// Spacing between kernel taps; greater than 1 only with unit strides.
        DilationRate: int list
        /// Applied to the output.
        Activation: Activation
        /// Whether to add a bias per filter.
        UseBias: bool
        /// Initializer of the kernel.
        KernelInitializer: Initializer
        /// Initializer of the bias.
        BiasInitializer: Initializer
        /// Penalty on the kernel added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on the bias added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the kernel after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of the bias after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: strides 1, "valid", no output padding, channels_last, dilation 1, linear, bias on,
    /// glorot_uniform kernel, zero bias.
    static member Default(filters: int, kernelSize: int list) =
        {
            Filters = filters
            KernelSize = kernelSize
            Strides = [ 1 ]
            Padding = "valid"
            OutputPadding = None
            DataFormat = "channels_last"
            DilationRate = [ 1 ]
            Activation = Linear
            UseBias = true
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            KernelRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            BiasConstraint = None
        }

    /// <summary>A configuration from Keras-style optional arguments; omitted ones take Keras's defaults.</summary>
    static member Create
        (
            filters: int,
            kernelSize: Dims,
            ?strides: Dims,
            ?padding: string,
            ?outputPadding: Dims,
            ?dataFormat: string,
            ?dilationRate: Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint
        ) =
        let d = ConvTransposeConfig.Default(filters, kernelSize.Values)

        { d with
            Strides = strides |> Option.map _.Values |> Option.defaultValue d.Strides
            Padding = defaultArg padding d.Padding
            OutputPadding = outputPadding |> Option.map _.Values
            DataFormat = defaultArg dataFormat d.DataFormat
            DilationRate = dilationRate |> Option.map _.Values |> Option.defaultValue d.DilationRate
            Activation = defaultArg activation d.Activation
            UseBias = defaultArg useBias d.UseBias
            KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
            BiasInitializer = defaultArg biasInitializer d.BiasInitializer
            KernelRegularizer = kernelRegularizer
            BiasRegularizer = biasRegularizer
            ActivityRegularizer = activityRegularizer
            KernelConstraint = kernelConstraint
            BiasConstraint = biasConstraint
        }

/// Configuration of the depthwise convolutions, with Keras's defaults in <see cref="DepthwiseConvConfig.Default"/>.
type DepthwiseConvConfig =
    {
        /// Size of the convolution window.
        KernelSize: int list
        /// Step of the window.
        Strides: int list
        /// "valid" or "same".
        Padding: string
        /// Output channels per input channel.
        DepthMultiplier: int
        /// "channels_last" or "channels_first".
        DataFormat: string
        /// Spacing between kernel taps; greater than 1 only with unit strides.
        DilationRate: int list
        /// Applied to the output.
        Activation: Activation
        /// Whether to add a bias per output channel.
        UseBias: bool
        /// Initializer of the depthwise kernel.
        DepthwiseInitializer: Initializer
        /// Initializer of the bias.
        BiasInitializer: Initializer
        /// Penalty on the depthwise kernel added to the training loss.
        DepthwiseRegularizer: Regularizer option
        /// Penalty on the bias added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the depthwise kernel after each optimizer step.
        DepthwiseConstraint: Constraint option
        /// Projection of the bias after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: strides 1, "valid", depth multiplier 1, channels_last, dilation 1, linear, bias on,
    /// glorot_uniform kernel, zero bias.
    static member Default(kernelSize: int list) =
        {
            KernelSize = kernelSize
            Strides = [ 1 ]
            Padding = "valid"
            DepthMultiplier = 1
            DataFormat = "channels_last"
            DilationRate = [ 1 ]
            Activation = Linear
            UseBias = true
            DepthwiseInitializer = GlorotUniform
            BiasInitializer = Zeros
            DepthwiseRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            DepthwiseConstraint = None
            BiasConstraint = None
        }

    /// <summary>A configuration from Keras-style optional arguments; omitted ones take Keras's defaults.</summary>
    static member Create
        (
            kernelSize: Dims,
            ?strides: Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?biasConstraint: Constraint
        ) =
        let d = DepthwiseConvConfig.Default(kernelSize.Values)

        { d with
            Strides = strides |> Option.map _.Values |> Option.defaultValue d.Strides
            Padding = defaultArg padding d.Padding
            DepthMultiplier = defaultArg depthMultiplier d.DepthMultiplier
            DataFormat = defaultArg dataFormat d.DataFormat
            DilationRate = dilationRate |> Option.map _.Values |> Option.defaultValue d.DilationRate
            Activation = defaultArg activation d.Activation
            UseBias = defaultArg useBias d.UseBias
            DepthwiseInitializer = defaultArg depthwiseInitializer d.DepthwiseInitializer
            BiasInitializer = defaultArg biasInitializer d.BiasInitializer
            DepthwiseRegularizer = depthwiseRegularizer
            BiasRegularizer = biasRegularizer
            ActivityRegularizer = activityRegularizer
            DepthwiseConstraint = depthwiseConstraint
            BiasConstraint = biasConstraint
        }

/// Configuration of the separable convolutions, with Keras's defaults in <see cref="SeparableConvConfig.Default"/>.
type SeparableConvConfig =
    {
        /// Number of output channels of the pointwise step.
        Filters: int
        /// Size of the depthwise window.
        KernelSize: int list
        /// Step of the depthwise window.
        Strides: int list
        /// "valid" or "same".
        Padding: string
        /// Depthwise output channels per input channel.
        DepthMultiplier: int
        /// "channels_last" or "channels_first".
        DataFormat: string
        /// Spacing between depthwise kernel taps; greater than 1 only with unit strides.
        DilationRate: int list
        /// Applied to the output.
        Activation: Activation
        /// Whether to add a bias per filter.
        UseBias: bool
        /// Initializer of the depthwise kernel.
        DepthwiseInitializer: Initializer
        /// Initializer of the pointwise kernel.
        PointwiseInitializer: Initializer
        /// Initializer of the bias.
        BiasInitializer: Initializer
        /// Penalty on the depthwise kernel added to the training loss.
        DepthwiseRegularizer: Regularizer option
        /// Penalty on the pointwise kernel added to the training loss.
        PointwiseRegularizer: Regularizer option
        /// Penalty on the bias added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the depthwise kernel after each optimizer step.
        DepthwiseConstraint: Constraint option
        /// Projection of the pointwise kernel after each optimizer step.
        PointwiseConstraint: Constraint option
        /// Projection of the bias after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: strides 1, "valid", depth multiplier 1, channels_last, dilation 1, linear, bias on,
    /// glorot_uniform kernels, zero bias.
    static member Default(filters: int, kernelSize: int list) =
        {
            Filters = filters
            KernelSize = kernelSize
            Strides = [ 1 ]
            Padding = "valid"
            DepthMultiplier = 1
            DataFormat = "channels_last"
            DilationRate = [ 1 ]
            Activation = Linear
            UseBias = true
            DepthwiseInitializer = GlorotUniform
            PointwiseInitializer = GlorotUniform
            BiasInitializer = Zeros
            DepthwiseRegularizer = None
            PointwiseRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            DepthwiseConstraint = None
            PointwiseConstraint = None
            BiasConstraint = None
        }

    /// <summary>A configuration from Keras-style optional arguments; omitted ones take Keras's defaults.</summary>
    static member Create
        (
            filters: int,
            kernelSize: Dims,
            ?strides: Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?pointwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?pointwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?pointwiseConstraint: Constraint,
            ?biasConstraint: Constraint
        ) =
        let d = SeparableConvConfig.Default(filters, kernelSize.Values)

        { d with
            Strides = strides |> Option.map _.Values |> Option.defaultValue d.Strides
            Padding = defaultArg padding d.Padding
            DepthMultiplier = defaultArg depthMultiplier d.DepthMultiplier
            DataFormat = defaultArg dataFormat d.DataFormat
            DilationRate = dilationRate |> Option.map _.Values |> Option.defaultValue d.DilationRate
            Activation = defaultArg activation d.Activation
            UseBias = defaultArg useBias d.UseBias
            DepthwiseInitializer = defaultArg depthwiseInitializer d.DepthwiseInitializer
            PointwiseInitializer = defaultArg pointwiseInitializer d.PointwiseInitializer
            BiasInitializer = defaultArg biasInitializer d.BiasInitializer
            DepthwiseRegularizer = depthwiseRegularizer
            PointwiseRegularizer = pointwiseRegularizer
            BiasRegularizer = biasRegularizer
            ActivityRegularizer = activityRegularizer
            DepthwiseConstraint = depthwiseConstraint
            PointwiseConstraint = pointwiseConstraint
            BiasConstraint = biasConstraint
        }

// ---------------------------------------------------------------------------------------------------------------
// Geometry: standardized arguments and the shape arithmetic of Keras's compute_conv_output_shape and
// compute_conv_transpose_output_shape.

/// The standardized window arguments of one layer.
type private Geometry =
    {
        ClassName: string
        Rank: int
        KernelSize: int list
        Strides: int list
        DilationRate: int list
        Padding: string
        ChannelsLast: bool
    }

    member g.DataFormat = if g.ChannelsLast then "channels_last" else "channels_first"

/// Python's rendering of an int tuple: "(3, 3)", "(3,)".
let private pyTuple (values: int list) = Shape.format (Shape.ofInts values)

/// NumPy's rendering of an int array, as Keras's messages print dilation rates: "[1 1]".
let private pyArray (values: int list) =
    "[" + (values |> List.map string |> String.concat " ") + "]"

let private invalid className argument reason received : 'T =
    Errors.raiseKeras (InvalidArgument(className, argument, reason, received))

/// Keras's standardize_tuple: one int for every axis, or exactly one per axis; positive (or non-negative).
let private standardizeTuple className rank (argument: string) allowZero (values: int list) =
    let tuple =
        match values with
        | [ single ] -> List.replicate rank single
        | _ when values.Length = rank -> values
        | _ ->
            invalid className argument $"The `{argument}` argument must be a tuple of {rank} integers." (pyTuple values)

    let bad =
        tuple
        |> List.filter (fun v -> if allowZero then v < 0 else v <= 0)
        |> List.distinct

    if not bad.IsEmpty then
        let requirement = if allowZero then ">= 0" else "> 0"
        let set = "{" + (bad |> List.map string |> String.concat ", ") + "}"

        invalid
            className
            argument
            $"The `{argument}` argument must be a tuple of {rank} integers, including values {set} that do not satisfy `value {requirement}`."
            (pyTuple values)

    tuple

let private standardizePadding className allowCausal (padding: string) =
    let p = (if isNull padding then "" else padding).Trim().ToLowerInvariant()

    let allowed =
        if allowCausal then
            [ "valid"; "same"; "causal" ]
        else
            [ "valid"; "same" ]

    if not (List.contains p allowed) then
        let set =
            "{" + (allowed |> List.map (fun a -> $"'{a}'") |> String.concat ", ") + "}"

        invalid className "padding" $"The `padding` argument must be one of {set}." (string padding)

    p

let private standardizeDataFormat className (dataFormat: string) =
    match (if isNull dataFormat then "" else dataFormat).Trim().ToLowerInvariant() with
    | "channels_last" -> true
    | "channels_first" -> false
    | _ ->
        invalid
            className
            "data_format"
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}."
            (string dataFormat)

let private geometry className rank allowCausal kernelSize strides dilationRate padding dataFormat =
    let g =
        {
            ClassName = className
            Rank = rank
            KernelSize = standardizeTuple className rank "kernel_size" false kernelSize
            Strides = standardizeTuple className rank "strides" false strides
            DilationRate = standardizeTuple className rank "dilation_rate" false dilationRate
            Padding = standardizePadding className allowCausal padding
            ChannelsLast = standardizeDataFormat className dataFormat
        }

    if List.max g.Strides > 1 && List.max g.DilationRate > 1 then
        invalid
            className
            "strides"
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`."
            $"{pyTuple g.Strides} and dilation_rate={pyTuple g.DilationRate}"

    g

let private checkPositive className argument (value: int) =
    if value <= 0 then
        invalid className argument "Expected a strictly positive value." (string value)

/// Python's floor division.
let private floorDiv (a: int) (b: int) = int (floor (float a / float b))

/// Extent of a dilated kernel.
let private effectiveKernel (k: int) (d: int) = (k - 1) * d + 1

/// Output size of a convolution along one axis (Keras's compute_conv_output_shape).
let private convOutputSize (g: Geometry) axis (n: int) =
    let s = g.Strides[axis]

    if g.Padding = "valid" then
        floorDiv (n - effectiveKernel g.KernelSize[axis] g.DilationRate[axis]) s + 1
    else
        floorDiv (n - 1) s + 1

/// Output size of a transposed convolution along one axis (Keras's compute_conv_transpose_output_shape).
let private transposeOutputSize (g: Geometry) (outputPadding: int list option) axis (n: int) =
    let s = g.Strides[axis]
    let kEff = effectiveKernel g.KernelSize[axis] g.DilationRate[axis]
    let op = outputPadding |> Option.map (fun p -> p[axis])

    match g.Padding, op with
    | "valid", None -> (n - 1) * s + kEff + max kEff s - kEff
    | "valid", Some p -> (n - 1) * s + kEff + p
    | _, None -> n * s
    | _, Some p -> (n - 1) * s + kEff % 2 + p

let private channelAxis (g: Geometry) (shape: Shape) =
    if g.ChannelsLast then shape.Length - 1 else 1

let private spatialOf (g: Geometry) (shape: 'a list) =
    if g.ChannelsLast then
        shape |> List.skip 1 |> List.take g.Rank
    else
        shape |> List.skip 2

let private withSpatial (g: Geometry) (batch: int option) (spatial: int option list) (channels: int option) : Shape =
    if g.ChannelsLast then
        batch :: spatial @ [ channels ]
    else
        batch :: channels :: spatial

/// Checks rank and channels of the single input and returns it with its channel count.
let private channelsOf (g: Geometry) (layerName: string) (filters: int option -> int option) (inputs: TensorSpec list) =
    let fail reason received =
        Error(InvalidInputs(layerName, g.ClassName, reason, received))

    match inputs with
    | [ x ] ->
        let shape = x.Shape

        if shape.Length <> g.Rank + 2 then
            let channels =
                if g.ChannelsLast then
                    List.last shape
                else
                    List.item 1 shape

            let kernelShape =
                Shape.format ((g.KernelSize |> List.map Some) @ [ channels; filters channels ])

            fail
                "Kernel shape must have the same length as input."
                $"kernel of shape {kernelShape} and input of shape {Shape.format shape}"
        else
            match shape[channelAxis g shape] with
            | Some c -> Ok(x, c)
            | None ->
                fail
                    "The channel dimension of the inputs should be defined. Found `None`."
                    $"input_shape={Shape.format shape}"
    | many -> fail $"A `{g.ClassName}` layer takes exactly one input." $"{many.Length} inputs"

/// Keras's shape rule of a (depthwise, separable) convolution producing <paramref name="filters"/> channels.
let private convOutput
    (g: Geometry)
    (groups: int)
    (filtersFor: int -> int)
    (layerName: string)
    (inputs: TensorSpec list)
    =
    channelsOf g layerName (Option.map filtersFor) inputs
    |> Result.bind (fun (x, c) ->
        let fail reason received =
            Error(InvalidInputs(layerName, g.ClassName, reason, received))

        let shape = x.Shape
        let filters = filtersFor c

        if c % groups <> 0 then
            fail
                "The number of input channels must be evenly divisible by the number of groups."
                $"groups={groups}, but the input has {c} channels (full input shape is {Shape.format shape})."
        else
            let spatial =
                spatialOf g shape |> List.mapi (fun i d -> d |> Option.map (convOutputSize g i))

            if spatial |> List.exists (fun d -> d |> Option.exists (fun n -> n <= 0)) then
                let kernelShape = pyTuple (g.KernelSize @ [ c; filters ])

                fail
                    "Computed output size would be zero or negative."
                    $"`inputs shape={Shape.format shape}`, `kernel shape={kernelShape}`, `dilation_rate={pyArray g.DilationRate}`, `strides={pyTuple g.Strides}`, `padding={g.Padding}`."
            else
                Ok
                    [
                        { CoreLayers.floatSpec x with
                            Shape = withSpatial g (List.head shape) spatial (Some filters)
                        }
                    ])

let private weight = Constraint.trainableWeight

/// Input rules once built: the rank and the channel count of the first call.
let private builtSpecs (g: Geometry) (inputs: TensorSpec list) =
    let shape = (List.exactlyOne inputs).Shape
    let channels = shape[channelAxis g shape] |> Option.get

    channels,
    [
        { InputSpec.any with
            MinNDim = Some(g.Rank + 2)
            Axes = [ (if g.ChannelsLast then -1 else 1), channels ]
        }
    ]

// ---------------------------------------------------------------------------------------------------------------
// Computation on TorchSharp: its convolutions are channels-first, with weights (out, in / groups, ...kernel).

/// Channels-first view of a channels_last tensor (its memory stays channels_last): no copy.
let private toTorchLayout (g: Geometry) (x: torch.Tensor) =
    if g.ChannelsLast then
        x.permute (Array.concat [ [| 0L; int64 (g.Rank + 1) |]; [| 1L .. int64 g.Rank |] ])
    else
        x

/// Back to the layer's data format (a view).
let private fromTorchLayout (g: Geometry) (y: torch.Tensor) =
    if g.ChannelsLast then
        y.permute (Array.concat [ [| 0L |]; [| 2L .. int64 (g.Rank + 1) |]; [| 1L |] ])
    else
        y

/// A Keras kernel (...kernel, a, b) as TorchSharp's (b, a, ...kernel): a view.
let private torchKernel (rank: int) (kernel: torch.Tensor) =
    kernel.permute (Array.concat [ [| int64 (rank + 1); int64 rank |]; [| 0L .. int64 (rank - 1) |] ])

/// <summary>The memory order, as Keras kernel axes (...kernel, a, b), in which libtorch's convolution reads a kernel
/// for the layer's input layout: channels_last (rank 2 or 3): (b, ...kernel, a), torch's channels_last weight;
/// otherwise (b, a, ...kernel), torch's contiguous weight.</summary>
let private computeOrder (g: Geometry) : int64[] =
    let rank = g.Rank

    if g.ChannelsLast && rank >= 2 then
        Array.concat [ [| int64 (rank + 1) |]; [| 0L .. int64 (rank - 1) |]; [| int64 rank |] ]
    else
        Array.concat [ [| int64 (rank + 1); int64 rank |]; [| 0L .. int64 (rank - 1) |] ]

/// <summary>Keeps a kernel weight in the memory layout libtorch computes with (<see cref="computeOrder"/>; see
/// Weights.keepLaidOut); its shape and values stay Keras's (...kernel, in / groups, filters).</summary>
let private keepComputeLayout (g: Geometry) (kernel: TorchSharp.Modules.Parameter) =
    Weights.keepLaidOut (computeOrder g) kernel

/// <summary>The kernel as <see cref="torchKernel"/> for a call; within a <c>predict</c>, a copy kept for the whole
/// predict in the memory layout libtorch converts a kernel to for this input layout (channels_last: (b, ...kernel, a)
/// in memory; channels-first: contiguous), so that batches after the first skip that conversion.</summary>
let private callKernel (g: Geometry) (kernel: torch.Tensor) =
    let rank = g.Rank

    let kept (k: torch.Tensor) =
        if g.ChannelsLast && rank >= 2 then
            // (...kernel, a, b) -> (b, ...kernel, a) in memory, seen as (b, a, ...kernel).
            k
                .permute(Array.concat [ [| int64 (rank + 1) |]; [| 0L .. int64 (rank - 1) |]; [| int64 rank |] ])
                .contiguous()
                .permute(Array.concat [ [| 0L; int64 (rank + 1) |]; [| 1L .. int64 rank |] ])
        else
            (torchKernel rank k).contiguous()

    DerivedWeights.get (if g.ChannelsLast then "torch kernel, channels_last" else "torch kernel") kept (torchKernel rank) kernel

let private longs (values: int list) =
    values |> List.map int64 |> Array.ofList

/// Per spatial axis: the symmetric padding TorchSharp's convolution applies, and explicit (start, end) padding
/// applied before it. "same" follows TensorFlow: total max((ceil(n / s) - 1)·s + k_eff - n, 0), the odd unit at
/// the end; "causal" pads k_eff - 1 at the start.
let private convPadding (g: Geometry) (sizes: int list) =
    List.init g.Rank (fun i ->
        let n, s = sizes[i], g.Strides[i]
        let kEff = effectiveKernel g.KernelSize[i] g.DilationRate[i]

        match g.Padding with
        | "causal" -> 0, (kEff - 1, 0)
        | "same" ->
            let out = floorDiv (n + s - 1) s
            let total = max ((out - 1) * s + kEff - n) 0
            let start = total / 2

            // Symmetric padding gives the same windows when it is symmetric, or when the extra unit at the end
            // is never reached (the symmetric output has the same size).
            if 2 * start = total || floorDiv (n + 2 * start - kEff) s + 1 = out then
                start, (0, 0)
            else
                0, (start, total - start)
        | _ -> 0, (0, 0))

/// Pads the spatial axes of a tensor in the layer's data format (before the channels-first view, so the view keeps
/// its channels_last memory).
let private padSpatial (g: Geometry) (pads: (int * int) list) (x: torch.Tensor) =
    if pads |> List.forall (fun (a, b) -> a = 0 && b = 0) then
        x
    else
        // F.pad lists (start, end) pairs from the last axis backwards.
        let spatial = pads |> List.rev |> List.collect (fun (a, b) -> [ int64 a; int64 b ])
        let all = if g.ChannelsLast then 0L :: 0L :: spatial else spatial
        torch.nn.functional.pad (x, Array.ofList all)

let private spatialSizes (g: Geometry) (x: torch.Tensor) =
    x.Sizes |> Array.map int |> List.ofArray |> spatialOf g

/// The convolution of Keras's <c>ops.conv</c> on an input in the layer's data format; the result is channels-first,
/// with whether it is a tensor of its own (see <see cref="TorchConvolution.convOwned"/>).
let private convolveToTorchOwned
    (g: Geometry)
    (groups: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    =
    let pads = convPadding g (spatialSizes g x)
    let xp = padSpatial g (pads |> List.map snd) x

    TorchConvolution.convOwned
        g.Rank
        (toTorchLayout g xp)
        w
        bias
        (longs g.Strides)
        (pads |> List.map (fst >> int64) |> Array.ofList)
        (longs g.DilationRate)
        (int64 groups)

/// The convolution of Keras's <c>ops.conv</c> on an input in the layer's data format; the result is channels-first.
let private convolveToTorch (g: Geometry) (groups: int) (x: torch.Tensor) (w: torch.Tensor) (bias: torch.Tensor) =
    convolveToTorchOwned g groups x w bias |> fst

/// <summary>The layer's activation on a convolution's result: ReLU in place when the result is a tensor of its own
/// (libtorch's convolution backward reads its input and kernel, never its output, and ReLU's backward reads its
/// output), which saves a buffer the size of the output; otherwise <see cref="Activation.apply"/>.</summary>
let private activateOwned (activation: Activation) (y: torch.Tensor, owned: bool) =
    match activation with
    | Relu when owned -> y.relu_ ()
    | _ -> Activation.apply activation y

let private addBias (g: Geometry) (bias: torch.Tensor) (y: torch.Tensor) =
    if g.ChannelsLast then
        y.add bias
    else
        y.add (bias.reshape (Array.append [| bias.size (0) |] (Array.create g.Rank 1L)))

/// A layer's config from its entries, built when the config is asked for: entries such as the activation may raise
/// then (an activation a Keras name cannot express), never when the layer is constructed.
let private configOf (entries: (string * JsonNode) list) = Config.ofList entries

/// The window entries of a convolution config, in Keras's order (transposed convolutions add output_padding between).
let private geometryEntries (g: Geometry) : (string * JsonNode) list =
    [
        "kernel_size", Config.ints g.KernelSize
        "strides", Config.ints g.Strides
        "padding", Config.value g.Padding
        "data_format", Config.value g.DataFormat
        "dilation_rate", Config.ints g.DilationRate
    ]

/// Keras's regularizer and constraint entries: their serialized forms, null where absent.
let private regularizerEntries
    (regularizers: (string * Regularizer option) list)
    (constraints: (string * Constraint option) list)
    =
    (regularizers |> List.map (fun (n, r) -> n, Regularizer.configOrNull r))
    @ (constraints |> List.map (fun (n, c) -> n, Constraint.configOrNull c))

// ---------------------------------------------------------------------------------------------------------------
// Conv1D / Conv2D / Conv3D

let private conv (className: string) (rank: int) (config: ConvConfig) (name: string option) : Layer =
    let g =
        geometry
            className
            rank
            (rank = 1)
            config.KernelSize
            config.Strides
            config.DilationRate
            config.Padding
            config.DataFormat

    checkPositive className "filters" config.Filters

    if config.Groups <= 0 then
        invalid className "groups" "The number of groups must be a positive integer." (string config.Groups)

    if config.Filters % config.Groups <> 0 then
        invalid
            className
            "groups"
            "The number of filters must be evenly divisible by the number of groups."
            $"{config.Groups}, filters={config.Filters}"

    let build (inputs: TensorSpec list) : BuildResult =
        let channels, specs = builtSpecs g inputs

        {
            Weights =
                [
                    yield
                        weight
                            "kernel"
                            (g.KernelSize @ [ channels / config.Groups; config.Filters ])
                            config.KernelInitializer
                            config.KernelConstraint
                    if config.UseBias then
                        yield weight "bias" [ config.Filters ] config.BiasInitializer config.BiasConstraint
                ]
            InputSpecs = specs
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        let bias =
            if config.UseBias then
                ctx.Weights[1].Value :> torch.Tensor
            else
                null

        let kernel = ctx.Weights[0].Value
        keepComputeLayout g kernel

        let y =
            convolveToTorchOwned g config.Groups x (callKernel g kernel) bias
            |> activateOwned config.Activation

        Regularizer.addActivity config.ActivityRegularizer ctx [ fromTorchLayout g y ]

    Layer.create
        name
        {
            ClassName = className
            Config =
                fun () ->
                    configOf
                        [
                            yield "filters", Config.value config.Filters
                            yield! geometryEntries g
                            yield "groups", Config.value config.Groups
                            yield "activation", Config.activation config.Activation
                            yield "use_bias", Config.value config.UseBias
                            yield "kernel_initializer", Config.initializer config.KernelInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield!
                                regularizerEntries
                                    [
                                        "kernel_regularizer", config.KernelRegularizer
                                        "bias_regularizer", config.BiasRegularizer
                                        "activity_regularizer", config.ActivityRegularizer
                                    ]
                                    [
                                        "kernel_constraint", config.KernelConstraint
                                        "bias_constraint", config.BiasConstraint
                                    ]
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some(rank + 2)
                    }
                ]
            ComputeOutput = convOutput g config.Groups (fun _ -> config.Filters)
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses =
                Regularizer.ofWeights [ config.KernelRegularizer, "kernel"; config.BiasRegularizer, "bias" ]
        }

/// <summary>1D convolution (temporal): input (batch, steps, channels), kernel (kernel_size, channels / groups,
/// filters). Supports "causal" padding.</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv1d (config: ConvConfig) (name: string option) : Layer = conv "Conv1D" 1 config name

/// <summary>2D convolution: input (batch, height, width, channels), kernel (kh, kw, channels / groups, filters).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv2d (config: ConvConfig) (name: string option) : Layer = conv "Conv2D" 2 config name

/// <summary>3D convolution: input (batch, d1, d2, d3, channels), kernel (k1, k2, k3, channels / groups, filters).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv3d (config: ConvConfig) (name: string option) : Layer = conv "Conv3D" 3 config name

// ---------------------------------------------------------------------------------------------------------------
// Conv1DTranspose / Conv2DTranspose / Conv3DTranspose

/// Per spatial axis: how much of the full transposed convolution ((n - 1)·s + k_eff long) the output drops at the
/// start and at the end (negative: zeros added), as TensorFlow and JAX define the output window.
let private transposeCrops (g: Geometry) (outputPadding: int list option) =
    List.init g.Rank (fun i ->
        let s = g.Strides[i]
        let kEff = effectiveKernel g.KernelSize[i] g.DilationRate[i]
        let op = outputPadding |> Option.map (fun p -> p[i])

        let left, right =
            match g.Padding with
            | "valid" -> kEff - 1, kEff - 1 + (op |> Option.defaultValue (max kEff s - kEff))
            | _ ->
                let total =
                    match op with
                    | None -> s + kEff - 2
                    | Some p -> kEff + kEff % 2 - 2 + p

                let left = min (total / 2 + total % 2) (kEff - 1)
                left, total - left

        kEff - 1 - left, kEff - 1 - right)

let private convTranspose (className: string) (rank: int) (config: ConvTransposeConfig) (name: string option) : Layer =
    let g =
        geometry
            className
            rank
            false
            config.KernelSize
            config.Strides
            config.DilationRate
            config.Padding
            config.DataFormat

    checkPositive className "filters" config.Filters

    let outputPadding =
        config.OutputPadding
        |> Option.map (standardizeTuple className rank "output_padding" true)

    outputPadding
    |> Option.iter (fun op ->
        if List.exists2 (fun p s -> p >= s) op g.Strides then
            invalid
                className
                "output_padding"
                "`output_padding` must be < `strides`."
                $"{pyTuple op}, strides={pyTuple g.Strides}")

    // TorchSharp's transposed convolution drops `padding` at both ends and adds `output_padding` (< max(stride,
    // dilation)) at the end; the rest of each crop is a narrow (a view) or an explicit pad afterwards.
    let torchPlan =
        transposeCrops g outputPadding
        |> List.mapi (fun i (cropStart, cropEnd) ->
            let p = max 0 (min cropStart cropEnd)
            let restStart, restEnd = cropStart - p, cropEnd - p
            let limit = max g.Strides[i] g.DilationRate[i]

            if restStart = 0 && restEnd < 0 && -restEnd < limit then
                p, -restEnd, (0, 0)
            else
                p, 0, (restStart, restEnd))

    let rests = torchPlan |> List.map (fun (_, _, rest) -> rest)
    let extends = rests |> List.exists (fun (a, b) -> a < 0 || b < 0)

    let computeOutput layerName (inputs: TensorSpec list) =
        channelsOf g layerName (fun _ -> Some config.Filters) inputs
        |> Result.map (fun (x, _) ->
            let spatial =
                spatialOf g x.Shape
                |> List.mapi (fun i d -> d |> Option.map (transposeOutputSize g outputPadding i))

            [
                { CoreLayers.floatSpec x with
                    Shape = withSpatial g (List.head x.Shape) spatial (Some config.Filters)
                }
            ])

    let build (inputs: TensorSpec list) : BuildResult =
        let channels, specs = builtSpecs g inputs

        {
            Weights =
                [
                    yield
                        weight
                            "kernel"
                            (g.KernelSize @ [ config.Filters; channels ])
                            config.KernelInitializer
                            config.KernelConstraint
                    if config.UseBias then
                        yield weight "bias" [ config.Filters ] config.BiasInitializer config.BiasConstraint
                ]
            InputSpecs = specs
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        let bias =
            if config.UseBias then
                ctx.Weights[1].Value :> torch.Tensor
            else
                null

        let y =
            TorchConvolution.convTranspose
                rank
                (toTorchLayout g x)
                (torchKernel rank ctx.Weights[0].Value)
                (if extends then null else bias)
                (longs g.Strides)
                (torchPlan |> List.map (fun (p, _, _) -> int64 p) |> Array.ofList)
                (torchPlan |> List.map (fun (_, op, _) -> int64 op) |> Array.ofList)
                (longs g.DilationRate)

        let y =
            if extends then
                // Negative pads crop; positive ones add the zeros beyond the full transposed convolution.
                let pads = rests |> List.rev |> List.collect (fun (a, b) -> [ int64 -a; int64 -b ])
                torch.nn.functional.pad (y, Array.ofList pads)
            else
                rests
                |> List.indexed
                |> List.fold
                    (fun (t: torch.Tensor) (i, (a, b)) ->
                        if a = 0 && b = 0 then
                            t
                        else
                            let axis = int64 (i + 2)
                            t.narrow (axis, int64 a, t.size (int axis) - int64 a - int64 b))
                    y

        let y = fromTorchLayout g y
        let y = if extends && not (isNull bias) then addBias g bias y else y
        Regularizer.addActivity config.ActivityRegularizer ctx [ Activation.apply config.Activation y ]

    Layer.create
        name
        {
            ClassName = className
            Config =
                fun () ->
                    configOf
                        [
                            yield "filters", Config.value config.Filters
                            yield "kernel_size", Config.ints g.KernelSize
                            yield "strides", Config.ints g.Strides
                            yield "padding", Config.value g.Padding
                            // Keras writes output_padding from 3.15 on; 3.1.1 reads it but writes none, so it is
                            // written only when set (see KerasFile.KerasVersion).
                            match outputPadding with
                            | Some op -> yield "output_padding", Config.ints op
                            | None -> ()
                            yield "data_format", Config.value g.DataFormat
                            yield "dilation_rate", Config.ints g.DilationRate
                            yield "activation", Config.activation config.Activation
                            yield "use_bias", Config.value config.UseBias
                            yield "kernel_initializer", Config.initializer config.KernelInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield!
                                regularizerEntries
                                    [
                                        "kernel_regularizer", config.KernelRegularizer
                                        "bias_regularizer", config.BiasRegularizer
                                        "activity_regularizer", config.ActivityRegularizer
                                    ]
                                    [
                                        "kernel_constraint", config.KernelConstraint
                                        "bias_constraint", config.BiasConstraint
                                    ]
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some(rank + 2)
                    }
                ]
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses =
                Regularizer.ofWeights [ config.KernelRegularizer, "kernel"; config.BiasRegularizer, "bias" ]
        }

/// <summary>Transposed 1D convolution: kernel (kernel_size, filters, channels). Output length (n - 1)·s + k for
/// "valid" (at least n·s), n·s for "same", or set by <c>OutputPadding</c>.</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv1dTranspose (config: ConvTransposeConfig) (name: string option) : Layer =
    convTranspose "Conv1DTranspose" 1 config name

/// <summary>Transposed 2D convolution ("deconvolution"): kernel (kh, kw, filters, channels).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv2dTranspose (config: ConvTransposeConfig) (name: string option) : Layer =
    convTranspose "Conv2DTranspose" 2 config name

/// <summary>Transposed 3D convolution: kernel (k1, k2, k3, filters, channels).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let conv3dTranspose (config: ConvTransposeConfig) (name: string option) : Layer =
    convTranspose "Conv3DTranspose" 3 config name

// ---------------------------------------------------------------------------------------------------------------
// DepthwiseConv1D / DepthwiseConv2D and SeparableConv1D / SeparableConv2D

/// A Keras depthwise kernel (...kernel, channels, multiplier) as TorchSharp's grouped weight
/// (channels · multiplier, 1, ...kernel); output channel c·multiplier + m reads input channel c.
let private torchDepthwiseKernel (rank: int) (kernel: torch.Tensor) =
    let shape = kernel.Sizes
    let channels, multiplier = shape[rank], shape[rank + 1]

    kernel
        .permute(Array.concat [ [| int64 rank; int64 (rank + 1) |]; [| 0L .. int64 (rank - 1) |] ])
        .reshape(Array.append [| channels * multiplier; 1L |] shape[0 .. rank - 1])

let private depthwise (className: string) (rank: int) (config: DepthwiseConvConfig) (name: string option) : Layer =
    let g =
        geometry
            className
            rank
            false
            config.KernelSize
            config.Strides
            config.DilationRate
            config.Padding
            config.DataFormat

    checkPositive className "depth_multiplier" config.DepthMultiplier

    let build (inputs: TensorSpec list) : BuildResult =
        let channels, specs = builtSpecs g inputs

        {
            Weights =
                [
                    yield
                        weight
                            "kernel"
                            (g.KernelSize @ [ channels; config.DepthMultiplier ])
                            config.DepthwiseInitializer
                            config.DepthwiseConstraint
                    if config.UseBias then
                        yield
                            weight
                                "bias"
                                [ channels * config.DepthMultiplier ]
                                config.BiasInitializer
                                config.BiasConstraint
                ]
            InputSpecs = specs
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        let bias =
            if config.UseBias then
                ctx.Weights[1].Value :> torch.Tensor
            else
                null

        let kernel = ctx.Weights[0].Value
        let channels = int (kernel.size (rank))
        let y = convolveToTorch g channels x (torchDepthwiseKernel rank kernel) bias

        Regularizer.addActivity
            config.ActivityRegularizer
            ctx
            [ Activation.apply config.Activation (fromTorchLayout g y) ]

    Layer.create
        name
        {
            ClassName = className
            Config =
                fun () ->
                    configOf
                        [
                            yield "depth_multiplier", Config.value config.DepthMultiplier
                            yield! geometryEntries g
                            yield "activation", Config.activation config.Activation
                            yield "use_bias", Config.value config.UseBias
                            yield "depthwise_initializer", Config.initializer config.DepthwiseInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield!
                                regularizerEntries
                                    [
                                        "depthwise_regularizer", config.DepthwiseRegularizer
                                        "bias_regularizer", config.BiasRegularizer
                                        "activity_regularizer", config.ActivityRegularizer
                                    ]
                                    [
                                        "depthwise_constraint", config.DepthwiseConstraint
                                        "bias_constraint", config.BiasConstraint
                                    ]
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some(rank + 2)
                    }
                ]
            ComputeOutput = convOutput g 1 (fun c -> c * config.DepthMultiplier)
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses =
                Regularizer.ofWeights [ config.DepthwiseRegularizer, "kernel"; config.BiasRegularizer, "bias" ]
        }

/// <summary>Depthwise 1D convolution: each input channel convolved with its own <c>DepthMultiplier</c> filters;
/// kernel (kernel_size, channels, depth_multiplier), output channels channels · depth_multiplier.</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let depthwiseConv1d (config: DepthwiseConvConfig) (name: string option) : Layer =
    depthwise "DepthwiseConv1D" 1 config name

/// <summary>Depthwise 2D convolution: kernel (kh, kw, channels, depth_multiplier).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let depthwiseConv2d (config: DepthwiseConvConfig) (name: string option) : Layer =
    depthwise "DepthwiseConv2D" 2 config name

let private separable (className: string) (rank: int) (config: SeparableConvConfig) (name: string option) : Layer =
    let g =
        geometry
            className
            rank
            false
            config.KernelSize
            config.Strides
            config.DilationRate
            config.Padding
            config.DataFormat

    checkPositive className "depth_multiplier" config.DepthMultiplier
    checkPositive className "filters" config.Filters
    let ones = Array.create rank 1L
    let zeros = Array.zeroCreate rank

    let build (inputs: TensorSpec list) : BuildResult =
        let channels, specs = builtSpecs g inputs

        {
            Weights =
                [
                    yield
                        weight
                            "depthwise_kernel"
                            (g.KernelSize @ [ channels; config.DepthMultiplier ])
                            config.DepthwiseInitializer
                            config.DepthwiseConstraint
                    yield
                        weight
                            "pointwise_kernel"
                            (List.replicate rank 1 @ [ channels * config.DepthMultiplier; config.Filters ])
                            config.PointwiseInitializer
                            config.PointwiseConstraint
                    if config.UseBias then
                        yield weight "bias" [ config.Filters ] config.BiasInitializer config.BiasConstraint
                ]
            InputSpecs = specs
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let depthwiseKernel = ctx.Weights[0].Value
        let channels = int (depthwiseKernel.size (rank))

        let bias =
            if config.UseBias then
                ctx.Weights[2].Value :> torch.Tensor
            else
                null

        let z =
            convolveToTorch g channels x (torchDepthwiseKernel rank depthwiseKernel) null

        let y =
            TorchConvolution.conv rank z (torchKernel rank ctx.Weights[1].Value) bias ones zeros ones 1L

        Regularizer.addActivity
            config.ActivityRegularizer
            ctx
            [ Activation.apply config.Activation (fromTorchLayout g y) ]

    Layer.create
        name
        {
            ClassName = className
            Config =
                fun () ->
                    configOf
                        [
                            yield "depth_multiplier", Config.value config.DepthMultiplier
                            yield "filters", Config.value config.Filters
                            yield! geometryEntries g
                            yield "activation", Config.activation config.Activation
                            yield "use_bias", Config.value config.UseBias
                            yield "depthwise_initializer", Config.initializer config.DepthwiseInitializer
                            yield "pointwise_initializer", Config.initializer config.PointwiseInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield!
                                regularizerEntries
                                    [
                                        "depthwise_regularizer", config.DepthwiseRegularizer
                                        "pointwise_regularizer", config.PointwiseRegularizer
                                        "bias_regularizer", config.BiasRegularizer
                                        "activity_regularizer", config.ActivityRegularizer
                                    ]
                                    [
                                        "depthwise_constraint", config.DepthwiseConstraint
                                        "pointwise_constraint", config.PointwiseConstraint
                                        "bias_constraint", config.BiasConstraint
                                    ]
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some(rank + 2)
                    }
                ]
            ComputeOutput = convOutput g 1 (fun _ -> config.Filters)
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses =
                Regularizer.ofWeights
                    [
                        config.DepthwiseRegularizer, "depthwise_kernel"
                        config.PointwiseRegularizer, "pointwise_kernel"
                        config.BiasRegularizer, "bias"
                    ]
        }

/// <summary>Separable 1D convolution: a depthwise convolution (kernel (kernel_size, channels, depth_multiplier))
/// then a pointwise one (kernel (1, channels · depth_multiplier, filters)), then the bias.</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let separableConv1d (config: SeparableConvConfig) (name: string option) : Layer =
    separable "SeparableConv1D" 1 config name

/// <summary>Separable 2D convolution: depthwise kernel (kh, kw, channels, depth_multiplier), pointwise kernel
/// (1, 1, channels · depth_multiplier, filters), bias (filters).</summary>
/// <exception cref="KerasException">When an argument is invalid.</exception>
let separableConv2d (config: SeparableConvConfig) (name: string option) : Layer =
    separable "SeparableConv2D" 2 config name
