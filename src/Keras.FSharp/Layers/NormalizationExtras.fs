/// More normalization layers: RMSNormalization, the SpectralNormalization wrapper, and the preprocessing
/// Normalization layer with <c>adapt</c>.
module Keras.NormalizationExtraLayers

open System.Text.Json.Nodes
open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// The one input of a single-input layer, or Keras's error.
let private single = InputSpec.single

/// Python's rendering of a tuple of ints: <c>(-1,)</c>, <c>(1, 2)</c>, <c>()</c>.
let private pyTuple (values: int list) =
    match values with
    | [ a ] -> $"({a},)"
    | many -> "(" + (many |> List.map string |> String.concat ", ") + ")"

// ---------------------------------------------------------------------------------------------------------------
// RMSNormalization
// ---------------------------------------------------------------------------------------------------------------

/// <summary>Keras's RMSNormalization: <c>x · rsqrt(mean(x², axis) + epsilon) · scale</c>, with a learned
/// <c>scale</c> (ones) spanning the normalized axes (in sorted order). Keras's defaults: axis -1, epsilon 1e-6.</summary>
/// <remarks>The config writes <c>axis</c> as a list, as a built Keras layer (every saved one) does.</remarks>
/// <exception cref="KerasException">When <paramref name="axis"/> is empty; on a call, when an axis is out of bounds or
/// its size unknown.</exception>
let rmsNormalization (axis: int list) (epsilon: float) (name: string option) : Layer =
    if axis.IsEmpty then
        Errors.raiseKeras (
            InvalidArgument("RMSNormalization", "axis", "Expected an int or a non-empty list of ints.", "[]")
        )

    let axes = List.sort axis

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "RMSNormalization" inputs
        |> Result.bind (fun x ->
            let rank = Shape.rank x.Shape

            match axes |> List.tryFind (fun a -> a >= rank || a < -rank) with
            | Some a ->
                Error(
                    InvalidInputs(
                        layerName,
                        "RMSNormalization",
                        $"Axis {a} is out of bounds for input shape {Shape.format x.Shape}.",
                        $"axis={axis}"
                    )
                )
            | None ->
                match axes |> List.tryFind (fun a -> x.Shape[Shape.normalizeAxis rank a].IsNone) with
                | Some a ->
                    Error(
                        InvalidInputs(
                            layerName,
                            "RMSNormalization",
                            $"Axis {a} of the input should have a defined dimension.",
                            Shape.format x.Shape
                        )
                    )
                | None -> Ok [ CoreLayers.floatSpec x ])

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape

        let sizes =
            axes |> List.map (fun a -> Option.get x.Shape[Shape.normalizeAxis rank a])

        {
            Weights = [ Constraint.trainableWeight "scale" sizes Ones None ]
            InputSpecs =
                [
                    { InputSpec.any with
                        Axes = List.zip axes sizes
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let rank = int (x.dim ())
        let normalized = axes |> List.map (Shape.normalizeAxis rank)
        let dims = normalized |> List.map int64 |> Array.ofList

        let broadcast =
            Array.init rank (fun i -> if List.contains i normalized then x.size(i) else 1L)

        let meanSquare = x.square().mean(dims, keepdim = true)
        let scale = ctx.Weights[0].Value.reshape broadcast
        [ x.mul(meanSquare.add(sc epsilon).rsqrt()).mul scale ]

    Layer.create
        name
        {
            ClassName = "RMSNormalization"
            Config = fun () -> Config.ofList [ "axis", Config.ints axes; "epsilon", Config.value epsilon ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses = fun _ -> []
        }

// ---------------------------------------------------------------------------------------------------------------
// SpectralNormalization
// ---------------------------------------------------------------------------------------------------------------

let private serializeLayer (layer: Layer) : JsonNode =
    Config.ofList
        [
            "module", Config.value "keras.layers"
            "class_name", Config.value layer.ClassName
            "config", Layer.getConfig layer
            "registered_name", null
        ]

/// The weight a SpectralNormalization wrapper normalizes: the held layer's <c>kernel</c>, else its <c>embeddings</c>.
let internal spectralKernel (inner: Layer) =
    let own = Weights.ofLayer inner

    own
    |> Array.tryFind (fun w -> w.Name = "kernel")
    |> Option.orElse (own |> Array.tryFind (fun w -> w.Name = "embeddings"))

/// <summary>One power-iteration update of Keras's SpectralNormalization, in place and without gradients: with
/// <c>W</c> the kernel as a (rows, last axis) matrix and <c>u</c> the (1, last axis) vector, repeats
/// <c>v = normalize(u·Wᵀ)</c>, <c>u = normalize(v·W)</c>, then sets <c>kernel = kernel / (v·W·uᵀ)</c> and stores
/// <c>u</c>. A kernel of zeros is left alone.</summary>
let internal spectralUpdate (powerIterations: int) (kernel: torch.Tensor) (vectorU: torch.Tensor) =
    use _ = torch.no_grad ()
    use scope = torch.NewDisposeScope()

    if not (kernel.eq(sc 0.0).all().item<bool>()) then
        let n = kernel.size(-1)
        let w = kernel.reshape (-1L, n)
        let wt = w.t ()
        let mutable u = vectorU
        let mutable v = u

        for _ in 1..powerIterations do
            v <- CoreExtraLayers.l2Normalize None (Ops.matmul u wt)
            u <- CoreExtraLayers.l2Normalize None (Ops.matmul v w)

        let sigma = Ops.matmul (Ops.matmul v w) (u.t ())
        kernel.copy_ (kernel.div (sigma.reshape ([||]: int64[]))) |> ignore
        vectorU.copy_ u |> ignore

/// <summary>Keras's SpectralNormalization wrapper: in training, before calling the held <paramref name="layer"/>,
/// divides its kernel (or embeddings) in place by an estimate of its largest singular value from
/// <paramref name="powerIterations"/> power iterations, kept in the non-trainable <c>vector_u</c> (1, last axis);
/// at inference it calls the layer as it is.</summary>
/// <remarks>Keras's weight layout: the wrapper's own variables are the held layer's kernel then <c>vector_u</c>
/// (Keras tracks the kernel attribute), and the held layer's under <c>layer</c>.</remarks>
/// <exception cref="KerasException">When <paramref name="powerIterations"/> is not positive; when built, when the
/// layer has neither a kernel nor embeddings.</exception>
let spectralNormalization (layer: Layer) (powerIterations: int) (name: string option) : Layer =
    if powerIterations <= 0 then
        Errors.raiseKeras (
            InvalidArgument(
                "SpectralNormalization",
                "power_iterations",
                "`power_iterations` should be greater than zero.",
                string powerIterations
            )
        )

    let build (inputs: TensorSpec list) : BuildResult =
        Weights.ensureBuilt layer inputs |> ignore

        let kernel =
            match spectralKernel layer with
            | Some k -> k
            | None ->
                Errors.raiseKeras (
                    InvalidArgument(
                        layer.Name,
                        "layer",
                        $"{layer.ClassName} object has no attribute 'kernel' nor 'embeddings'",
                        layer.ClassName
                    )
                )

        let last = kernel.Value.size(-1) |> int

        {
            Weights =
                [
                    {
                        Name = "vector_u"
                        Shape = [ 1; last ]
                        Initializer = RandomNormal(0.0, 0.02)
                        Trainable = false
                        DType = Float32
                        Constraint = None
                    }
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some 1
                        Axes =
                            match inputs with
                            | [ x ] ->
                                match List.tryLast x.Shape |> Option.flatten with
                                | Some d -> [ -1, d ]
                                | None -> []
                            | _ -> []
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        if ctx.Training then
            match spectralKernel layer with
            | Some kernel -> spectralUpdate powerIterations kernel.Value ctx.Weights[0].Value
            | None -> ()

        let outputs =
            layer.Spec.Call (Layer.contextFor layer ctx.Training ctx.Masks ctx.AddLoss inputs) inputs

        match inputs with
        | x :: _ when x.is_floating_point () -> outputs |> List.map (fun y -> y.to_type x.dtype)
        | _ -> outputs

    Layer.create
        name
        {
            ClassName = "SpectralNormalization"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "layer", serializeLayer layer
                            "power_iterations", Config.value powerIterations
                        ]
            InputSpecs = []
            ComputeOutput = fun _ inputs -> Layer.outputSpecs layer inputs
            Build = build
            Call = call
            SubLayers = fun () -> [ layer ]
            ComputeMask = fun _ _ -> []
            RegularizationLosses = fun _ -> []
        }

// ---------------------------------------------------------------------------------------------------------------
// Normalization (preprocessing)
// ---------------------------------------------------------------------------------------------------------------

/// <summary>Mean or variance values given to <see cref="normalization"/>: a scalar (<c>Shape = []</c>) or an array of
/// <c>Shape</c> (row-major <c>Values</c>), broadcast to the kept axes as Keras does.</summary>
type NormalizationValues =
    {
        /// <summary>The values in row-major order (one for a scalar).</summary>
        Values: float[]
        /// <summary>The values' shape; <c>[]</c> for a scalar.</summary>
        Shape: int list
    }

    /// A scalar.
    static member Scalar(v: float) = { Values = [| v |]; Shape = [] }

    /// A vector.
    static member Vector(vs: float list) =
        {
            Values = Array.ofList vs
            Shape = [ vs.Length ]
        }

/// Configuration of <see cref="normalization"/>, with Keras's defaults in <see cref="NormalizationConfig.Default"/>.
type NormalizationConfig =
    {
        /// The kept axes (a mean and variance per index); empty: one scalar mean and variance (Keras's <c>axis=None</c>).
        Axis: int list
        /// Given mean; <c>None</c>: learned by <c>adapt</c> into the <c>mean</c> weight.
        Mean: NormalizationValues option
        /// Given variance; <c>None</c>: learned by <c>adapt</c>.
        Variance: NormalizationValues option
        /// Whether to apply the inverse transformation (denormalize).
        Invert: bool
    }

    /// Keras's defaults: axis -1, no given values, not inverted.
    static member Default =
        {
            Axis = [ -1 ]
            Mean = None
            Variance = None
            Invert = false
        }

/// Keras's epsilon, the least standard deviation divided by.
let private epsilon = 1e-7

let private valuesConfig (v: NormalizationValues option) : JsonNode =
    match v with
    | None -> null
    | Some { Values = values; Shape = [] } -> Config.value values[0]
    | Some { Values = values; Shape = shape } ->
        // Nested lists, as numpy's tolist().
        let rec nest (offset: int) (dims: int list) : JsonNode =
            match dims with
            | [] -> Config.value values[offset]
            | d :: rest ->
                let stride = List.fold (*) 1 rest
                JsonArray([| for i in 0 .. d - 1 -> nest (offset + i * stride) rest |])

        nest 0 shape

/// The kept axes of an input of this rank, non-negative and sorted.
let private keptAxes (axis: int list) (rank: int) =
    axis |> List.map (fun a -> if a < 0 then a + rank else a) |> List.sort

/// <summary>Keras's preprocessing Normalization: <c>(x - mean) / max(sqrt(variance), 1e-7)</c> per index of the kept
/// axes (or the inverse with <c>Invert</c>). Without a given mean and variance, the layer has the non-trainable
/// weights <c>mean</c>, <c>variance</c> (the kept axes' sizes) and the int32 scalar <c>count</c>, set by
/// <see cref="adapt"/>.</summary>
/// <exception cref="KerasException">When only one of mean and variance is given, their shapes differ, or the mean
/// has more axes than <c>Axis</c>; on a call, when an axis is out of range or a kept size unknown.</exception>
let normalization (config: NormalizationConfig) (name: string option) : Layer =
    let show (v: NormalizationValues option) =
        let node = valuesConfig v
        if isNull node then "None" else node.ToJsonString()

    match config.Mean, config.Variance with
    | Some _, None
    | None, Some _ ->
        Errors.raiseKeras (
            InvalidArgument(
                "Normalization",
                "mean",
                "When setting values directly, both `mean` and `variance` must be set.",
                $"{show config.Mean} and variance={show config.Variance}"
            )
        )
    | Some m, Some v when m.Shape <> v.Shape ->
        Errors.raiseKeras (
            InvalidArgument(
                "Normalization",
                "mean",
                $"When setting values directly, `mean` and `variance` must have the same shape. Received: mean shape {pyTuple m.Shape} and variance shape {pyTuple v.Shape}",
                show config.Mean
            )
        )
    | Some m, _ when m.Shape.Length > config.Axis.Length ->
        Errors.raiseKeras (
            InvalidArgument(
                "Normalization",
                "mean",
                $"The rank of `mean` must be less than or equal to the number of axes ({config.Axis.Length}). Received: mean shape {pyTuple m.Shape} for axis {pyTuple config.Axis}",
                show config.Mean
            )
        )
    | _ -> ()

    for v in [ config.Mean; config.Variance ] |> List.choose id do
        if v.Values.Length <> List.fold (*) 1 v.Shape then
            Errors.raiseKeras (
                InvalidArgument("Normalization", "mean", "The values do not fill their shape.", show (Some v))
            )

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "Normalization" inputs
        |> Result.bind (fun x ->
            let rank = Shape.rank x.Shape

            let fail reason =
                Error(InvalidInputs(layerName, "Normalization", reason, Shape.format x.Shape))

            if config.Axis |> List.exists (fun a -> a < -rank || a >= rank) then
                fail
                    $"All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim={rank}, while axis={pyTuple config.Axis}"
            else
                let keep = keptAxes config.Axis rank

                match keep |> List.tryFind (fun d -> x.Shape[d].IsNone) with
                | Some d ->
                    fail
                        $"All `axis` values to be kept must have a known shape. Received axis={pyTuple config.Axis}, inputs.shape={Shape.format x.Shape}, with unknown axis at index {d}"
                | None ->
                    // Given values broadcast on the last kept axes.
                    let badBroadcast =
                        match config.Mean with
                        | Some m when not m.Shape.IsEmpty ->
                            List.zip
                                (List.rev m.Shape |> List.truncate keep.Length)
                                (List.rev keep |> List.truncate m.Shape.Length)
                            |> List.exists (fun (size, axis) -> size <> 1 && Some size <> x.Shape[axis])
                        | _ -> false

                    if badBroadcast then
                        fail
                            $"The mean and variance of shape {pyTuple config.Mean.Value.Shape} cannot be broadcast to the kept axes {pyTuple keep} of the input."
                    else
                        Ok [ CoreLayers.floatSpec x ])

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape
        let keep = keptAxes config.Axis rank
        let sizes = keep |> List.map (fun d -> Option.get x.Shape[d])

        let weight name shape init dtype : WeightSpec =
            {
                Name = name
                Shape = shape
                Initializer = init
                Trainable = false
                DType = dtype
                Constraint = None
            }

        {
            Weights =
                match config.Mean with
                | Some _ -> []
                | None ->
                    [
                        weight "mean" sizes Zeros Float32
                        weight "variance" sizes Ones Float32
                        weight "count" [] Zeros Int32
                    ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some rank
                        Axes = List.zip keep sizes
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let rank = int (x.dim ())
        let keep = keptAxes config.Axis rank

        let mean, variance =
            match config.Mean, config.Variance with
            | Some m, Some v ->
                // Keras's expanded shape: the values' axes on the last kept axes, 1 elsewhere.
                let expanded =
                    let shape = Array.create rank 1L

                    m.Shape
                    |> List.rev
                    |> List.iteri (fun i size -> shape[keep[keep.Length - 1 - i]] <- int64 size)

                    shape

                let tensorOf (values: NormalizationValues) =
                    let t =
                        torch.tensor(values.Values, dtype = torch.ScalarType.Float32).to_type x.dtype

                    if values.Shape.IsEmpty then
                        t.reshape ([||]: int64[])
                    else
                        t.reshape expanded

                tensorOf m, tensorOf v
            | _ ->
                let broadcast =
                    Array.init rank (fun i -> if List.contains i keep then x.size(i) else 1L)

                ctx.Weights[0].Value.reshape(broadcast).to_type x.dtype,
                ctx.Weights[1].Value.reshape(broadcast).to_type x.dtype

        let std = variance.sqrt().clamp_min(sc epsilon)

        [
            if config.Invert then
                mean.add (x.mul std)
            else
                x.sub(mean).div std
        ]

    Layer.create
        name
        {
            ClassName = "Normalization"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "axis", Config.ints config.Axis
                            "invert", Config.value config.Invert
                            "mean", valuesConfig config.Mean
                            "variance", valuesConfig config.Variance
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }

/// The kept axes written in a Normalization layer's config.
let private configuredAxes (layer: Layer) =
    match layer.Spec.Config()["axis"] with
    | :? JsonArray as a -> a |> Seq.map (fun n -> n.GetValue<int>()) |> List.ofSeq
    | _ -> []

let private checkAdaptable (layer: Layer) =
    if layer.ClassName <> "Normalization" then
        Errors.raiseKeras (
            InvalidArgument(layer.Name, "layer", "adapt() needs a Normalization layer.", layer.ClassName)
        )

    let given = layer.Spec.Config()["mean"]

    if not (isNull given) then
        Errors.raiseKeras (
            InvalidArgument(
                layer.Name,
                "mean",
                "adapt() cannot be used on a Normalization layer given `mean` and `variance`.",
                given.ToJsonString()
            )
        )

/// Builds the layer for batches of this shape (or checks it fits the built layer) and returns its weights and the
/// reduced axes.
let private prepare (layer: Layer) (data: torch.Tensor) =
    checkAdaptable layer
    let spec = Layer.specsFor layer.Name [ data ] |> List.head

    let spec =
        { spec with
            Shape = None :: List.tail spec.Shape
        }

    Layer.outputSpecs layer [ spec ] |> Errors.orRaise |> ignore
    let state = Weights.ensureBuilt layer [ spec ]
    let rank = int (data.dim ())
    let keep = keptAxes (configuredAxes layer) rank

    let reduce =
        [|
            for d in 0 .. rank - 1 do
                if not (List.contains d keep) then
                    int64 d
        |]

    state.Weights, reduce

let private moments (x: torch.Tensor) (reduce: int64[]) =
    if reduce.Length = 0 then
        x.clone (), torch.zeros_like x
    else
        let mean = x.mean (reduce, keepdim = true)
        let variance = x.sub(mean).square().mean(reduce)
        mean.reshape variance.Sizes, variance

/// <summary>Keras's <c>Normalization.adapt(data)</c>: sets the layer's <c>mean</c> and <c>variance</c> weights to the
/// mean and (biased) variance of <paramref name="data"/> over every axis but the kept ones, building the layer from
/// the data's shape if needed. (<c>count</c> stays as it is, as in Keras.)</summary>
/// <exception cref="KerasException">When the layer is not a Normalization layer, was given a mean and variance, or the
/// data's kept axes differ from the built layer's.</exception>
let adapt (layer: Layer) (data: torch.Tensor) =
    Native.NativeLoader.ensureLoaded ()
    use _ = torch.no_grad ()
    use scope = torch.NewDisposeScope()
    let weights, reduce = prepare layer data
    let x = (CoreLayers.asFloat data).detach()
    let mean, variance = moments x reduce
    weights[0].Value.copy_(mean.reshape weights[0].Value.Sizes) |> ignore
    weights[1].Value.copy_(variance.reshape weights[1].Value.Sizes) |> ignore

/// <summary>Keras's <c>adapt</c> over an iterable of batches: the batches' means and variances are merged as Keras
/// does (each weighted by its number of reduced elements), so the result equals <see cref="adapt"/> on their
/// concatenation.</summary>
/// <exception cref="KerasException">As <see cref="adapt"/>; when there is no batch.</exception>
let adaptBatches (layer: Layer) (batches: torch.Tensor seq) =
    Native.NativeLoader.ensureLoaded ()
    use _ = torch.no_grad ()
    use scope = torch.NewDisposeScope()
    let mutable total: (torch.Tensor * torch.Tensor * int64) option = None
    let mutable target: Weight[] = [||]

    for batch in batches do
        let weights, reduce = prepare layer batch
        target <- weights
        let x = (CoreLayers.asFloat batch).detach()
        let mean, variance = moments x reduce
        let count = reduce |> Array.fold (fun acc d -> acc * x.size(int d)) 1L

        total <-
            match total with
            | None -> Some(mean, variance, count)
            | Some(totalMean, totalVariance, totalCount) ->
                let all = totalCount + count
                let batchWeight = float count / float all
                let existingWeight = 1.0 - batchWeight
                let newMean = totalMean.mul(sc existingWeight).add(mean.mul (sc batchWeight))

                let newVariance =
                    totalVariance
                        .add(totalMean.sub(newMean).square())
                        .mul(sc existingWeight)
                        .add(variance.add(mean.sub(newMean).square()).mul(sc batchWeight))

                Some(newMean, newVariance, all)

    match total with
    | None ->
        Errors.raiseKeras (
            InvalidArgument(
                layer.Name,
                "data",
                "adapt() received an empty iterable (no batches). Expected at least one batch.",
                "[]"
            )
        )
    | Some(mean, variance, _) ->
        target[0].Value.copy_(mean.reshape target[0].Value.Sizes) |> ignore
        target[1].Value.copy_(variance.reshape target[1].Value.Sizes) |> ignore
