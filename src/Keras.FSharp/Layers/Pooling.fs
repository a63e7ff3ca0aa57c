/// Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the global max/average poolings, on
/// channels-last tensors (batch, ...spatial, channels).
module Keras.PoolingLayers

open TorchSharp
open Keras

/// <summary>Configuration of the windowed pooling layers (<see cref="maxPooling2D"/> and the others), with
/// Keras's defaults in <see cref="PoolingConfig.Default"/>.</summary>
type PoolingConfig =
    {
        /// Window size, one entry per spatial axis.
        PoolSize: int list
        /// Step between windows, one entry per spatial axis; <c>None</c> means <c>PoolSize</c> (Keras's default).
        Strides: int list option
        /// "valid" (no padding) or "same" (pads so that out = ceil(in / stride), the odd cell at the end).
        Padding: string
    }

    /// Keras's defaults for <paramref name="spatialDims"/> spatial axes: windows of 2, strides equal to the
    /// window, "valid" padding.
    static member Default(spatialDims: int) =
        {
            PoolSize = List.replicate spatialDims 2
            Strides = None
            Padding = "valid"
        }

    /// <summary>Keras's arguments, with the defaults for those not given; an int list of one element applies to
    /// every spatial axis (Keras's <c>pool_size=3</c>).</summary>
    static member Of(spatialDims: int, ?poolSize: int list, ?strides: int list, ?padding: string) =
        let expand (values: int list) =
            match values with
            | [ v ] -> List.replicate spatialDims v
            | _ -> values

        let d = PoolingConfig.Default spatialDims

        {
            PoolSize = poolSize |> Option.map expand |> Option.defaultValue d.PoolSize
            Strides = strides |> Option.map expand
            Padding = defaultArg padding d.Padding
        }

/// <summary>Configuration of the global pooling layers, with Keras's default in
/// <see cref="GlobalPoolingConfig.Default"/>.</summary>
type GlobalPoolingConfig =
    {
        /// Keep the spatial axes with size 1 instead of dropping them.
        KeepDims: bool
    }

    /// Keras's default: the spatial axes are dropped.
    static member Default() = { KeepDims = false }

/// Python's rendering of a tuple of ints: "(2, 2)", "(2,)".
let private pyTuple (values: int list) = Shape.format (Shape.ofInts values)

/// Floor division, as Python's <c>//</c> (F#'s <c>/</c> truncates toward zero).
let private floorDiv (a: int) (b: int) =
    let q = a / b
    if (a % b <> 0) && ((a < 0) <> (b < 0)) then q - 1 else q

/// NumPy's rendering of the input shape in Keras's pooling error. Keras converts the shape to an array and marks
/// unknown spatial sizes with -1 in place, so those print as -1 while an unknown batch or channel axis prints None.
let private numpyShape (input: Shape) =
    let last = input.Length - 1

    let dims =
        input
        |> List.mapi (fun i d ->
            match d with
            | Some n -> string n
            | None when i = 0 || i = last -> "None"
            | None -> "-1")

    "[" + String.concat " " dims + "]"

/// <summary>The output shape of a windowed pooling layer, with Keras's rule (<c>compute_pooling_output_shape</c>):
/// "valid" gives floor((in - pool) / stride) + 1 and fails when that is not positive; "same" gives
/// floor((in - 1) / stride) + 1. Unknown sizes stay unknown.</summary>
let poolingOutputShape
    (layerName: string)
    (className: string)
    (poolSize: int list)
    (strides: int list)
    (padding: string)
    (input: Shape)
    : Result<Shape, KerasError> =
    let spatialDims = poolSize.Length

    if input.Length <> spatialDims + 2 then
        Error(
            IncompatibleInput(
                layerName,
                0,
                $"expected ndim={spatialDims + 2}, found ndim={input.Length}. Full shape received: {Shape.format input}"
            )
        )
    else
        let spatial = input |> List.skip 1 |> List.take spatialDims
        let same = padding = "same"

        let outputs =
            List.map3
                (fun (d: int option) k s ->
                    d
                    |> Option.map (fun n ->
                        if same then
                            floorDiv (n - 1) s + 1
                        else
                            floorDiv (n - k) s + 1))
                spatial
                poolSize
                strides

        if
            not same
            && outputs |> List.exists (fun d -> d |> Option.exists (fun n -> n <= 0))
        then
            let npPool = "[" + (poolSize |> List.map string |> String.concat " ") + "]"

            Error(
                InvalidInputs(
                    layerName,
                    className,
                    "Computed output size would be zero or negative.",
                    $"`inputs.shape={numpyShape input}`, `pool_size={npPool}`, `strides={pyTuple strides}`, `padding={padding}`."
                )
            )
        else
            Ok((List.head input :: outputs) @ [ List.last input ])

/// Validated pooling geometry.
type private Geometry =
    {
        Size: int64[]
        Strides: int64[]
        Same: bool
    }

let private validate (className: string) (spatialDims: int) (config: PoolingConfig) =
    let check argument (values: int list) =
        if values.Length <> spatialDims then
            Errors.raiseKeras (
                InvalidArgument(
                    className,
                    argument,
                    $"The `{argument}` argument must be a tuple of {spatialDims} integers.",
                    pyTuple values
                )
            )

        if values |> List.exists (fun v -> v <= 0) then
            Errors.raiseKeras (InvalidArgument(className, argument, "Expected positive integers.", pyTuple values))

    check "pool_size" config.PoolSize
    let strides = config.Strides |> Option.defaultValue config.PoolSize
    check "strides" strides

    let padding =
        (if isNull config.Padding then "" else config.Padding).ToLowerInvariant()

    if padding <> "valid" && padding <> "same" then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                "padding",
                "Argument `padding` must be either 'valid' or 'same'.",
                string config.Padding
            )
        )

    strides, padding

/// The pooling kernels of TorchSharp on channels-first tensors, without padding.
let private rawPool (isMax: bool) (g: Geometry) (x: torch.Tensor) =
    match isMax, g.Size.Length with
    | true, 1 -> torch.nn.functional.max_pool1d (x, g.Size[0], g.Strides[0])
    | true, 2 -> torch.nn.functional.max_pool2d (x, g.Size, g.Strides)
    | true, _ -> torch.nn.functional.max_pool3d (x, g.Size, g.Strides)
    | false, 1 -> torch.nn.functional.avg_pool1d (x, g.Size[0], g.Strides[0])
    | false, 2 -> torch.nn.functional.avg_pool2d (x, g.Size, g.Strides)
    | false, _ -> torch.nn.functional.avg_pool3d (x, g.Size, g.Strides)

/// TensorFlow's "same" padding for each spatial axis of a channels-first tensor, in the order
/// <c>torch.nn.functional.pad</c> takes it (last axis first): out = ceil(in / stride), total =
/// max((out - 1)·stride + pool - in, 0), before = total / 2, the rest after.
let private samePadding (g: Geometry) (x: torch.Tensor) =
    let spatial = x.Sizes |> Array.skip 2

    Array.zip3 spatial g.Size g.Strides
    |> Array.map (fun (n, k, s) ->
        let out = (n + s - 1L) / s
        let total = max ((out - 1L) * s + k - n) 0L
        let before = total / 2L
        before, total - before)
    |> Array.rev
    |> Array.collect (fun (before, after) -> [| before; after |])

/// Pools a channels-last tensor. "same" max pooling pads with -inf; "same" average pooling divides window sums by
/// the number of real (unpadded) cells in each window, as TensorFlow does.
let private pool (isMax: bool) (g: Geometry) (input: torch.Tensor) =
    let x = ReshapingLayers.toChannelsFirst (CoreLayers.asFloat input)

    let pooled =
        if not g.Same then
            rawPool isMax g x
        else
            let pads = samePadding g x

            if pads |> Array.forall (fun p -> p = 0L) then
                rawPool isMax g x
            elif isMax then
                rawPool
                    true
                    g
                    (torch.nn.functional.pad (x, pads, PaddingModes.Constant, System.Double.NegativeInfinity))
            else
                // avg(padded x) / avg(padded ones) = window sum / number of real cells.
                let sums = rawPool false g (torch.nn.functional.pad (x, pads))

                let ones =
                    torch.ones (Array.append [| 1L; 1L |] (x.Sizes |> Array.skip 2), dtype = x.dtype, device = x.device)

                let counts = rawPool false g (torch.nn.functional.pad (ones, pads))
                sums.div counts

    ReshapingLayers.toChannelsLast pooled

let private pooling (className: string) (isMax: bool) (spatialDims: int) (config: PoolingConfig) (name: string option) =
    let strides, padding = validate className spatialDims config

    let geometry =
        {
            Size = config.PoolSize |> List.map int64 |> Array.ofList
            Strides = strides |> List.map int64 |> Array.ofList
            Same = (padding = "same")
        }

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            poolingOutputShape layerName className config.PoolSize strides padding x.Shape
            |> Result.map (fun s ->
                [
                    { CoreLayers.floatSpec x with
                        Shape = s
                    }
                ])
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    className,
                    $"A `{className}` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs -> inputs |> List.map (pool isMax geometry)) with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "pool_size", Config.ints config.PoolSize
                            "padding", Config.value padding
                            "strides", Config.ints strides
                            "data_format", Config.value "channels_last"
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(spatialDims + 2)
                    }
                ]
            ComputeOutput = computeOutput
        }

/// <summary>Max pooling over windows of the time axis of (batch, steps, features) inputs.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let maxPooling1D (config: PoolingConfig) (name: string option) : Layer =
    pooling "MaxPooling1D" true 1 config name

/// <summary>Max pooling over windows of the two spatial axes of (batch, height, width, channels) inputs.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let maxPooling2D (config: PoolingConfig) (name: string option) : Layer =
    pooling "MaxPooling2D" true 2 config name

/// <summary>Max pooling over windows of the three spatial axes of (batch, d1, d2, d3, channels) inputs.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let maxPooling3D (config: PoolingConfig) (name: string option) : Layer =
    pooling "MaxPooling3D" true 3 config name

/// <summary>Average pooling over windows of the time axis; with "same" padding, each window averages only its
/// real cells.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let averagePooling1D (config: PoolingConfig) (name: string option) : Layer =
    pooling "AveragePooling1D" false 1 config name

/// <summary>Average pooling over windows of the two spatial axes; with "same" padding, each window averages only
/// its real cells.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let averagePooling2D (config: PoolingConfig) (name: string option) : Layer =
    pooling "AveragePooling2D" false 2 config name

/// <summary>Average pooling over windows of the three spatial axes; with "same" padding, each window averages only
/// its real cells.</summary>
/// <exception cref="KerasException">When a pool size or stride is not positive, or the padding is unknown.</exception>
let averagePooling3D (config: PoolingConfig) (name: string option) : Layer =
    pooling "AveragePooling3D" false 3 config name

/// <summary>The output shape of a global pooling layer: (batch, channels), or (batch, 1, ..., 1, channels) with
/// <paramref name="keepDims"/>.</summary>
let globalPoolingOutputShape (keepDims: bool) (input: Shape) : Shape =
    let spatialDims = input.Length - 2

    if keepDims then
        (List.head input :: List.replicate spatialDims (Some 1)) @ [ List.last input ]
    else
        [ List.head input; List.last input ]

let private globalPooling
    (className: string)
    (spatialDims: int)
    (reduce: CallContext -> int64[] -> bool -> torch.Tensor -> torch.Tensor)
    (config: GlobalPoolingConfig)
    (name: string option)
    =
    let axes = [| 1L .. int64 spatialDims |]

    let computeOutput _ (inputs: TensorSpec list) =
        Ok(
            inputs
            |> List.map (fun x ->
                { CoreLayers.floatSpec x with
                    Shape = globalPoolingOutputShape config.KeepDims x.Shape
                })
        )

    let call ctx (inputs: torch.Tensor list) =
        inputs
        |> List.map (fun x -> reduce ctx axes config.KeepDims (CoreLayers.asFloat x))

    Layer.create
        name
        { Layer.simpleSpec className call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "data_format", Config.value "channels_last"
                            "keepdims", Config.value config.KeepDims
                        ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(spatialDims + 2)
                    }
                ]
            ComputeOutput = computeOutput
        }

let private globalMax _ (axes: int64[]) (keepDims: bool) (x: torch.Tensor) = x.amax (axes, keepDims)

let private globalMean _ (axes: int64[]) (keepDims: bool) (x: torch.Tensor) = x.mean (axes, keepDims)

/// Mean over the steps, leaving out masked steps when the input has a mask (Keras's GlobalAveragePooling1D).
let private maskedMean (ctx: CallContext) (axes: int64[]) (keepDims: bool) (x: torch.Tensor) =
    match ctx.Masks |> List.tryHead |> Option.flatten with
    | None -> x.mean (axes, keepDims)
    | Some mask ->
        let keep = mask.to_type(torch.ScalarType.Bool).unsqueeze 2L
        let sums = x.masked_fill(keep.logical_not (), 0.0).sum(axes, keepDims)
        let counts = keep.to_type(x.dtype).sum(axes, keepDims)
        sums.div counts

/// <summary>The maximum over the time axis: (batch, steps, features) to (batch, features).</summary>
let globalMaxPooling1D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalMaxPooling1D" 1 globalMax config name

/// <summary>The maximum over both spatial axes: (batch, height, width, channels) to (batch, channels).</summary>
let globalMaxPooling2D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalMaxPooling2D" 2 globalMax config name

/// <summary>The maximum over the three spatial axes: (batch, d1, d2, d3, channels) to (batch, channels).</summary>
let globalMaxPooling3D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalMaxPooling3D" 3 globalMax config name

/// <summary>The mean over the time axis: (batch, steps, features) to (batch, features). With an input mask
/// (batch, steps), masked steps are left out of the mean.</summary>
let globalAveragePooling1D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalAveragePooling1D" 1 maskedMean config name

/// <summary>The mean over both spatial axes: (batch, height, width, channels) to (batch, channels).</summary>
let globalAveragePooling2D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalAveragePooling2D" 2 globalMean config name

/// <summary>The mean over the three spatial axes: (batch, d1, d2, d3, channels) to (batch, channels).</summary>
let globalAveragePooling3D (config: GlobalPoolingConfig) (name: string option) : Layer =
    globalPooling "GlobalAveragePooling3D" 3 globalMean config name
