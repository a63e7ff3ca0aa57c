/// Attention layers: MultiHeadAttention, Attention (Luong, dot-product) and AdditiveAttention (Bahdanau).
module Keras.AttentionLayers

open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// Keras's large negative bias for masked scores in float32 (its <c>Softmax</c> layer and <c>Attention</c> use 1e9).
let internal maskBias = 1e9

let internal shapesText (inputs: TensorSpec list) =
    "input_shape=["
    + (inputs |> List.map (fun x -> Shape.format x.Shape) |> String.concat ", ")
    + "]"

let private generatorFor = RegularizationLayers.generatorFor

/// Inverted dropout with an optional generator: keeps each entry with probability 1 - rate and scales it by 1/(1 - rate).
let private dropoutWith (generator: torch.Generator) (rate: float) (x: torch.Tensor) =
    if rate >= 1.0 then
        torch.zeros_like x
    else
        let keep =
            torch.rand(x.Sizes, dtype = x.dtype, generator = generator).ge(sc rate).to_type x.dtype

        x.mul(keep).div(sc (1.0 - rate))

/// A boolean view of a mask tensor (non-zero is true).
let private asBool (m: torch.Tensor) =
    if m.dtype = torch.ScalarType.Bool then m else m.ne (sc 0.0)

/// Keras's causal mask of shape (1, T, S): position i attends to positions j ≤ i.
let internal causalMask (t: int64) (s: int64) =
    torch.ones([| t; s |], dtype = torch.ScalarType.Bool).tril().unsqueeze 0L

/// The per-head projection of attention layers: (…, d) · (d, N, h) + (N, h) -> (…, N, h).
let internal projectHeads (x: torch.Tensor) (kernel: torch.Tensor) (b: torch.Tensor option) =
    let d, n, h = kernel.size 0, kernel.size 1, kernel.size 2
    let rank = int (x.dim ())
    let matrix = DerivedWeights.reshaped "kernel as (d, N·h)" [| d; n * h |] kernel

    match b with
    | Some b when rank >= 2 && x.size(rank - 1) = d ->
        // libtorch's linear over the leading axes fuses the bias, forward and backward.
        (DerivedWeights.linear x matrix (DerivedWeights.reshaped "bias as (N·h)" [| n * h |] b)).unflatten (int64 (rank - 1), [| n; h |])
    | _ ->
        let y = (Ops.matmul x matrix).unflatten (int64 (rank - 1), [| n; h |])

        match b with
        | Some b -> y.add b
        | None -> y

/// ANDs the masks that are present.
let internal combineMasks (masks: torch.Tensor option list) =
    masks
    |> List.choose id
    |> List.fold
        (fun acc m ->
            match acc with
            | None -> Some m
            | Some a -> Some(a.logical_and m))
        None

let internal weight name (shape: int list) init : WeightSpec =
    {
        Name = name
        Shape = shape
        Initializer = init
        Trainable = true
        DType = Float32
        Constraint = None
    }

/// <summary>Configuration of <see cref="multiHeadAttention"/>, with Keras's defaults in
/// <see cref="MultiHeadAttentionConfig.Default"/>. The last three fields are Keras's call arguments, fixed per
/// layer here because a layer call takes only tensors.</summary>
type MultiHeadAttentionConfig =
    {
        /// Number of attention heads.
        NumHeads: int
        /// Size of each head for query and key.
        KeyDim: int
        /// Size of each head for value; <c>None</c> uses <c>KeyDim</c>.
        ValueDim: int option
        /// Dropout rate on the attention probabilities (training only).
        Dropout: float
        /// Whether the projections have biases.
        UseBias: bool
        /// Shape of each output position besides batch and sequence axes; <c>None</c> projects back to the query's
        /// feature size.
        OutputShape: int list option
        /// Axes of the query/value inputs over which attention is applied (not batch, not features);
        /// <c>None</c> means every axis between the batch and the features.
        AttentionAxes: int list option
        /// Initializer of the projection kernels.
        KernelInitializer: Initializer
        /// Initializer of the projection biases.
        BiasInitializer: Initializer
        /// Seed of the attention dropout.
        Seed: int option
        /// Keras's <c>return_attention_scores</c>: the layer then has a second output, the attention probabilities
        /// of shape <c>(batch, num_heads, T, S)</c> (for rank-3 inputs).
        ReturnAttentionScores: bool
        /// Keras's <c>use_causal_mask</c>: query position i attends to key positions j ≤ i only.
        UseCausalMask: bool
        /// Keras's <c>attention_mask</c>: when true, the layer takes one more input, last, a boolean mask of shape
        /// <c>(batch, T, S)</c> (true = attend): inputs <c>[query; value; mask]</c> or <c>[query; value; key; mask]</c>.
        UseAttentionMask: bool
        /// Penalty on the four projection kernels added to the loss.
        KernelRegularizer: Regularizer option
        /// Penalty on the four projection biases added to the loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the outputs of the four projections (query, key, value, attention_output), as Keras passes it to
        /// its EinsumDense sub-layers.
        ActivityRegularizer: Regularizer option
        /// Projection applied to the four kernels after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection applied to the four biases after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: value_dim = key_dim, no dropout, biases on, output projected to the query's feature size,
    /// attention over every axis between batch and features, glorot_uniform kernels, zero biases, no regularizers or
    /// constraints.
    static member Default(numHeads, keyDim) =
        {
            NumHeads = numHeads
            KeyDim = keyDim
            ValueDim = None
            Dropout = 0.0
            UseBias = true
            OutputShape = None
            AttentionAxes = None
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            Seed = None
            ReturnAttentionScores = false
            UseCausalMask = false
            UseAttentionMask = false
            KernelRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            BiasConstraint = None
        }

/// The parts of a MultiHeadAttention call's inputs.
type private MhaInputs<'T> =
    {
        Query: 'T
        Value: 'T
        Key: 'T option
        Mask: 'T option
    }

/// <summary>Multi-head attention (Vaswani et al., 2017) as Keras computes it: query, key and value are projected per
/// head by EinsumDense-style kernels, scores <c>softmax(q·kᵀ / sqrt(key_dim))</c> over the keys, the heads' weighted
/// values projected back by <c>attention_output</c>.</summary>
/// <remarks>Inputs: <c>[query; value]</c> or <c>[query; value; key]</c> (key defaults to value), plus the boolean
/// attention mask last when <c>UseAttentionMask</c>. Keras masks of the inputs (query, value, key) are merged into the
/// attention mask as Keras does, and the query's mask passes to the output. Weights, in Keras's order:
/// <c>query/kernel (dim, heads, key_dim)</c>, <c>query/bias (heads, key_dim)</c>, <c>key/kernel</c>, <c>key/bias</c>,
/// <c>value/kernel (dim, heads, value_dim)</c>, <c>value/bias (heads, value_dim)</c>,
/// <c>attention_output/kernel (heads, value_dim, *output_shape)</c>, <c>attention_output/bias (*output_shape)</c>.</remarks>
/// <exception cref="KerasException">When an argument is out of range; on a call, when the inputs do not fit.</exception>
let multiHeadAttention (config: MultiHeadAttentionConfig) (name: string option) : Layer =
    let owner = "MultiHeadAttention"

    if config.NumHeads <= 0 then
        Errors.raiseKeras (InvalidArgument(owner, "num_heads", "Expected a positive integer.", string config.NumHeads))

    if config.KeyDim <= 0 then
        Errors.raiseKeras (InvalidArgument(owner, "key_dim", "Expected a positive integer.", string config.KeyDim))

    match config.ValueDim with
    | Some v when v <= 0 ->
        Errors.raiseKeras (InvalidArgument(owner, "value_dim", "Expected a positive integer.", string v))
    | _ -> ()

    if config.Dropout < 0.0 || config.Dropout > 1.0 then
        Errors.raiseKeras (
            InvalidArgument(owner, "dropout", "Expected a float value between 0 and 1.", string config.Dropout)
        )

    match config.OutputShape with
    | Some s when s.IsEmpty || s |> List.exists (fun d -> d <= 0) ->
        Errors.raiseKeras (
            InvalidArgument(
                owner,
                "output_shape",
                "When specified, the `output_shape` should be a non-empty list of positive integers.",
                string s
            )
        )
    | _ -> ()

    let heads = config.NumHeads
    let keyDim = config.KeyDim
    let valueDim = defaultArg config.ValueDim config.KeyDim
    let generator = generatorFor config.Seed

    let split (inputs: 'T list) =
        let tensors, mask =
            if config.UseAttentionMask && not inputs.IsEmpty then
                List.take (inputs.Length - 1) inputs, Some(List.last inputs)
            else
                inputs, None

        match tensors with
        | [ q; v ] ->
            Some
                {
                    Query = q
                    Value = v
                    Key = None
                    Mask = mask
                }
        | [ q; v; k ] ->
            Some
                {
                    Query = q
                    Value = v
                    Key = Some k
                    Mask = mask
                }
        | _ -> None

    /// The attention axes among the input axes 1 .. rank-2, sorted; Keras counts negative axes from the input rank.
    let attentionAxes (rank: int) =
        match config.AttentionAxes with
        | None -> Ok [ 1 .. rank - 2 ]
        | Some axes ->
            let normalized = axes |> List.map (fun a -> if a >= 0 then a else rank + a)

            match List.tryFindIndex (fun a -> a < 1 || a > rank - 2) normalized with
            | Some i -> Error(axes[i])
            | None -> Ok(normalized |> List.distinct |> List.sort)

    let outputDims (queryShape: Shape) =
        match config.OutputShape with
        | Some s -> s
        | None -> [ List.last queryShape |> Option.get ]

    let computeOutput layerName (inputs: TensorSpec list) =
        let fail reason =
            Error(InvalidInputs(layerName, owner, reason, shapesText inputs))

        match split inputs with
        | None ->
            let extra =
                if config.UseAttentionMask then
                    ", followed by the attention mask"
                else
                    ""

            fail
                $"MultiHeadAttention layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]{extra}. Received length: {inputs.Length}."
        | Some parts ->
            let q = parts.Query.Shape
            let v = parts.Value.Shape
            let k = parts.Key |> Option.map _.Shape |> Option.defaultValue v
            let rank = q.Length
            let text (s: Shape) = Shape.format s

            if rank < 3 then
                fail
                    $"The `query` input of a MultiHeadAttention layer should have rank 3 or more: (batch, <attention axes>, features). Received: query_shape={text q}."
            elif v.Length <> rank || k.Length <> rank then
                fail
                    $"`query`, `value` and `key` should have the same rank. Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            elif
                List.exists2
                    (fun a b -> not (Shape.dimsCompatible a b))
                    (v |> List.take (rank - 1) |> List.tail)
                    (k |> List.take (rank - 1) |> List.tail)
            then
                fail
                    $"All dimensions of `value` and `key`, except the last one, must be equal. Received: value_shape={text v} and key_shape={text k}"
            elif not (Shape.dimsCompatible q.Head v.Head && Shape.dimsCompatible q.Head k.Head) then
                fail
                    $"`query`, `value` and `key` should have the same batch size. Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            elif [ q; v; k ] |> List.exists (fun s -> (List.last s).IsNone) then
                fail
                    $"The last dimension of `query`, `value` and `key` should be defined. Found `None`. Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            else
                match attentionAxes rank with
                | Error axis ->
                    fail
                        $"Invalid `attention_axes`: axis {axis} is not an axis between the batch and feature axes of inputs of rank {rank}."
                | Ok axes ->
                    let batchAxes =
                        [ 0 .. rank - 2 ] |> List.filter (fun a -> not (List.contains a axes))

                    if batchAxes |> List.exists (fun a -> not (Shape.dimsCompatible q[a] v[a])) then
                        fail
                            $"`query` and `value` should have equal sizes on the axes that are not attention axes (except the last). Received: query_shape={text q} and value_shape={text v}."
                    else
                        let scoresRank = batchAxes.Length + 1 + 2 * axes.Length

                        match parts.Mask with
                        | Some m when m.Shape.Length >= scoresRank || m.Shape.Length < 2 * axes.Length ->
                            fail
                                $"The attention mask should have shape (batch, <query attention axes>, <key attention axes>); it has rank {m.Shape.Length}."
                        | _ ->
                            let output =
                                {
                                    Shape = (q |> List.take (rank - 1)) @ (outputDims q |> List.map Some)
                                    DType = Float32
                                }

                            let scores =
                                {
                                    Shape =
                                        (batchAxes |> List.map (fun a -> Shape.mergeDim q[a] v[a]))
                                        @ [ Some heads ]
                                        @ (axes |> List.map (fun a -> q[a]))
                                        @ (axes |> List.map (fun a -> v[a]))
                                    DType = Float32
                                }

                            Ok(
                                if config.ReturnAttentionScores then
                                    [ output; scores ]
                                else
                                    [ output ]
                            )

    let build (inputs: TensorSpec list) : BuildResult =
        let parts = split inputs |> Option.get
        let lastDim (s: TensorSpec) = List.last s.Shape |> Option.get
        let qDim = lastDim parts.Query
        let vDim = lastDim parts.Value
        let kDim = parts.Key |> Option.map lastDim |> Option.defaultValue vDim
        let outDims = outputDims parts.Query.Shape
        let kernelConstraint = Constraint.projection config.KernelConstraint
        let biasConstraint = Constraint.projection config.BiasConstraint

        let kernel name shape =
            { weight name shape config.KernelInitializer with
                Constraint = kernelConstraint
            }

        let bias name shape =
            { weight name shape config.BiasInitializer with
                Constraint = biasConstraint
            }

        {
            Weights =
                [
                    yield kernel "query/kernel" [ qDim; heads; keyDim ]
                    if config.UseBias then
                        yield bias "query/bias" [ heads; keyDim ]
                    yield kernel "key/kernel" [ kDim; heads; keyDim ]
                    if config.UseBias then
                        yield bias "key/bias" [ heads; keyDim ]
                    yield kernel "value/kernel" [ vDim; heads; valueDim ]
                    if config.UseBias then
                        yield bias "value/bias" [ heads; valueDim ]
                    yield kernel "attention_output/kernel" ([ heads; valueDim ] @ outDims)
                    if config.UseBias then
                        yield bias "attention_output/bias" outDims
                ]
            InputSpecs =
                [
                    yield
                        { InputSpec.any with
                            Axes = [ -1, qDim ]
                        }
                    yield
                        { InputSpec.any with
                            Axes = [ -1, vDim ]
                        }
                    if parts.Key.IsSome then
                        yield
                            { InputSpec.any with
                                Axes = [ -1, kDim ]
                            }
                ]
        }

    // The axis bookkeeping depends only on the inputs' rank: worked out once per rank, not at every call.
    let layouts = System.Collections.Concurrent.ConcurrentDictionary<int, int list * int list * int64[] * int64[]>()

    let layoutFor (rank: int) =
        match layouts.TryGetValue rank with
        | true, layout -> layout
        | _ ->
            let axes = attentionAxes rank |> Result.defaultValue [ 1 .. rank - 2 ]

            let batchAxes =
                [ 0 .. rank - 2 ] |> List.filter (fun a -> not (List.contains a axes))

            // Projected axes: 0 .. rank-2 as the inputs, rank-1 the heads, rank the channels.
            let perm =
                batchAxes @ [ rank - 1 ] @ axes @ [ rank ] |> List.map int64 |> Array.ofList

            layouts.GetOrAdd(rank, (axes, batchAxes, perm, Ops.inversePermutation perm))

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let parts =
            split (
                inputs
                |> List.mapi (fun i x ->
                    if config.UseAttentionMask && i = inputs.Length - 1 then
                        x
                    else
                        CoreLayers.asFloat x)
            )
            |> Option.get

        let w = ctx.Weights |> Array.map (fun x -> x.Value :> torch.Tensor)
        let at i j = if config.UseBias then w[i] else w[j]
        // Without biases the kernels are at 0, 1, 2, 3; with them at 0, 2, 4, 6 and the biases after each.
        let qKernel, kKernel, vKernel, oKernel = at 0 0, at 2 1, at 4 2, at 6 3

        let bias i =
            if config.UseBias then Some w[i] else None

        let project = projectHeads

        let query = parts.Query
        let value = parts.Value
        let key = parts.Key |> Option.defaultValue value
        let rank = int (query.dim ())
        let axes, batchAxes, perm, inverse = layoutFor rank

        let qp = project query qKernel (bias 1)
        let kp = project key kKernel (bias 3)
        let vp = project value vKernel (bias 5)
        // Keras gives the activity regularizer to its four EinsumDense projections: each adds penalty(its output).
        Regularizer.addActivity config.ActivityRegularizer ctx [ qp; kp; vp ] |> ignore

        let sizes (x: torch.Tensor) (idx: int list) = idx |> List.map (fun a -> x.size a)
        let batchSizes = sizes qp batchAxes
        let qAttn = sizes qp axes
        let kAttn = sizes kp axes

        // With one batch axis and one attention axis (the common case) the permuted tensor has this shape already.
        let flat (x: torch.Tensor) (attn: int64 list) =
            let permuted = x.permute perm

            if batchSizes.Length = 1 && attn.Length = 1 then
                permuted
            else
                permuted.reshape (Array.ofList (batchSizes @ [ int64 heads; List.reduce (*) attn; x.size rank ]))

        let kf = flat kp kAttn
        let vf = flat vp kAttn
        let keras = Array.ofList (batchSizes @ [ int64 heads ] @ qAttn @ kAttn)

        let mask =
            let maskOf i =
                ctx.Masks |> List.tryItem i |> Option.flatten |> Option.map asBool

            combineMasks
                [
                    parts.Mask |> Option.map asBool
                    maskOf 0 |> Option.map (fun m -> m.unsqueeze -1L)
                    maskOf 1 |> Option.map (fun m -> m.unsqueeze -2L)
                    (if parts.Key.IsSome then maskOf 2 else None)
                    |> Option.map (fun m -> m.unsqueeze -2L)
                    (if config.UseCausalMask then
                         Some(causalMask (query.size(1)) (value.size(1)))
                     else
                         None)
                ]

        // The mask as Keras's additive bias: 0 where attended, -1e9 elsewhere, expanded from the heads axis
        // ((B, T, S) -> (B, 1, T, S)) to the scores' rank.
        let maskAddend (dtype: torch.ScalarType) =
            mask
            |> Option.map (fun m ->
                let mutable m = m

                while m.dim () < int64 keras.Length do
                    m <- m.unsqueeze (int64 (-2 * axes.Length - 1))

                m.logical_not().to_type(dtype).mul (sc -maskBias))

        let keyCount = List.reduce (*) kAttn
        let dropoutActive = ctx.Training && config.Dropout > 0.0

        // One attention axis and no scores or dropout wanted: libtorch's fused scaled_dot_product_attention computes
        // softmax(q·kᵀ/sqrt(key_dim) + mask)·v in one kernel, with the same scale and the same additive mask.
        let fused = axes.Length = 1 && not config.ReturnAttentionScores && not dropoutActive

        let combined, probs =
            if fused then
                let qf = flat qp qAttn
                let addend = maskAddend qf.dtype |> Option.toObj
                torch.nn.functional.scaled_dot_product_attention (qf, kf, vf, addend), None
            else
                let qf = (flat qp qAttn).mul (sc (1.0 / sqrt (float keyDim)))
                let raw = (Ops.matmul qf (kf.transpose (-1L, -2L))).reshape keras

                let biased =
                    match maskAddend raw.dtype with
                    | None -> raw
                    | Some addend -> raw.add addend

                // Softmax jointly over the key attention axes.
                let probsFlat =
                    biased.reshape(Array.ofList (batchSizes @ [ int64 heads ] @ qAttn @ [ keyCount ])).softmax -1L

                let probs = probsFlat.reshape keras

                let dropped =
                    if dropoutActive then
                        dropoutWith generator config.Dropout probs
                    else
                        probs

                let combined =
                    Ops.matmul
                        (dropped.reshape (Array.ofList (batchSizes @ [ int64 heads; List.reduce (*) qAttn; keyCount ])))
                        vf

                combined, Some probs

        let unflattened =
            if batchSizes.Length = 1 && qAttn.Length = 1 then
                combined
            else
                combined.reshape (Array.ofList (batchSizes @ [ int64 heads ] @ qAttn @ [ int64 valueDim ]))

        let attended = unflattened.permute inverse

        let outDims = oKernel.Sizes[2..]
        // (…, heads, value_dim) -> (…, heads · value_dim), then one product with the kernel as a matrix.
        let concatenated = attended.flatten (attended.dim () - 2L)
        let outSize = Array.fold (*) 1L outDims
        let outKernel = DerivedWeights.reshaped "kernel as (N·h, out)" [| int64 (heads * valueDim); outSize |] oKernel

        let output =
            match bias 7 with
            | Some b -> DerivedWeights.linear concatenated outKernel (DerivedWeights.reshaped "bias as (out)" [| outSize |] b)
            | None -> Ops.matmul concatenated outKernel

        let output =
            if outDims.Length = 1 then
                output
            else
                output.unflatten (output.dim () - 1L, outDims)

        Regularizer.addActivity config.ActivityRegularizer ctx [ output ] |> ignore

        match probs with
        | Some probs when config.ReturnAttentionScores -> [ output; probs ]
        | _ -> [ output ]

    let axesConfig =
        match config.AttentionAxes with
        | Some axes -> Config.ints axes
        | None -> null

    Layer.create
        name
        {
            ClassName = "MultiHeadAttention"
            Config =
                fun () ->
                    Config.ofList
                        [
                            yield "num_heads", Config.value heads
                            yield "key_dim", Config.value keyDim
                            yield "value_dim", Config.value valueDim
                            yield "dropout", Config.value config.Dropout
                            yield "use_bias", Config.value config.UseBias
                            yield
                                "output_shape",
                                (match config.OutputShape with
                                 | Some s -> Config.ints s
                                 | None -> null)
                            yield "attention_axes", axesConfig
                            yield "kernel_initializer", Config.initializer config.KernelInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield "kernel_regularizer", Regularizer.configOrNull config.KernelRegularizer
                            yield "bias_regularizer", Regularizer.configOrNull config.BiasRegularizer
                            yield "activity_regularizer", Regularizer.configOrNull config.ActivityRegularizer
                            yield "kernel_constraint", Constraint.configOrNull config.KernelConstraint
                            yield "bias_constraint", Constraint.configOrNull config.BiasConstraint
                            // Keras 3.4+ writes seed and 3.1.1 refuses it: written only when set (KerasFile.KerasVersion).
                            match config.Seed with
                            | Some seed -> yield "seed", Config.value seed
                            | None -> ()
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses =
                Regularizer.ofWeights
                    [
                        for part in [ "query"; "key"; "value"; "attention_output" ] do
                            config.KernelRegularizer, $"{part}/kernel"
                            config.BiasRegularizer, $"{part}/bias"
                    ]
        }

/// <summary>Configuration of <see cref="attention"/> and <see cref="additiveAttention"/>. <c>ReturnAttentionScores</c>
/// and <c>UseCausalMask</c> are Keras's call arguments, fixed per layer here.</summary>
type AttentionConfig =
    {
        /// Attention: a learned scalar <c>scale</c> multiplies the scores. AdditiveAttention: a learned vector
        /// <c>scale</c> of the feature size weights the tanh terms.
        UseScale: bool
        /// Attention only: "dot" (q·kᵀ) or "concat" (sum of tanh(q + k) times a learned scalar).
        ScoreMode: string
        /// Dropout rate on the attention distribution (training only).
        Dropout: float
        /// Seed of the dropout.
        Seed: int option
        /// When true the layer has a second output: the attention distribution (batch, Tq, Tv).
        ReturnAttentionScores: bool
        /// Query position i attends to value positions j ≤ i only.
        UseCausalMask: bool
    }

    /// Keras's defaults for <c>Attention</c>: no scale, "dot" scores, no dropout.
    static member Default =
        {
            UseScale = false
            ScoreMode = "dot"
            Dropout = 0.0
            Seed = None
            ReturnAttentionScores = false
            UseCausalMask = false
        }

    /// Keras's defaults for <c>AdditiveAttention</c>: a learned scale, no dropout.
    static member AdditiveDefault =
        { AttentionConfig.Default with
            UseScale = true
        }

/// The shared machinery of Attention and AdditiveAttention: shape rule, masking, softmax, dropout and combination.
let private attentionLayer
    (className: string)
    (config: AttentionConfig)
    (weights: int -> WeightSpec list)
    (scores: Weight[] -> torch.Tensor -> torch.Tensor -> torch.Tensor)
    (configEntries: (string * System.Text.Json.Nodes.JsonNode) list)
    (name: string option)
    =
    if config.Dropout < 0.0 || config.Dropout > 1.0 then
        Errors.raiseKeras (
            InvalidArgument(className, "dropout", "Expected a float value between 0 and 1.", string config.Dropout)
        )

    let generator = generatorFor config.Seed

    let computeOutput layerName (inputs: TensorSpec list) =
        let fail reason =
            Error(InvalidInputs(layerName, className, reason, shapesText inputs))

        match inputs with
        | q :: v :: rest when rest.Length <= 1 ->
            let k = List.tryHead rest |> Option.defaultValue v
            let text (s: Shape) = Shape.format s

            if
                not (
                    Shape.dimsCompatible q.Shape.Head v.Shape.Head
                    && Shape.dimsCompatible v.Shape.Head k.Shape.Head
                )
            then
                fail
                    $"`query`, `value` and `key` should have the same batch size. Received: query_shape={text q.Shape}, value_shape={text v.Shape} and key_shape={text k.Shape}."
            elif not (Shape.dimsCompatible v.Shape[1] k.Shape[1]) then
                fail
                    $"`value` and `key` should have the same number of steps. Received: value_shape={text v.Shape} and key_shape={text k.Shape}."
            elif not (Shape.dimsCompatible (List.last q.Shape) (List.last k.Shape)) then
                fail
                    $"`query` and `key` should have the same last dimension. Received: query_shape={text q.Shape} and key_shape={text k.Shape}."
            elif (List.last q.Shape).IsNone then
                fail
                    $"The last dimension of `query` should be defined. Found `None`. Received: query_shape={text q.Shape}."
            else
                let batch = Shape.mergeDim q.Shape.Head v.Shape.Head

                let output =
                    {
                        Shape = batch :: q.Shape[1..1] @ [ List.last v.Shape ]
                        DType = Float32
                    }

                let distribution =
                    {
                        Shape = [ batch; q.Shape[1]; v.Shape[1] ]
                        DType = Float32
                    }

                Ok(
                    if config.ReturnAttentionScores then
                        [ output; distribution ]
                    else
                        [ output ]
                )
        | _ ->
            fail
                $"{className} layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. Received length: {inputs.Length}."

    let build (inputs: TensorSpec list) : BuildResult =
        {
            Weights = weights (inputs.Head.Shape |> List.last |> Option.get)
            InputSpecs = []
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let inputs = inputs |> List.map CoreLayers.asFloat
        let q = inputs[0]
        let v = inputs[1]
        let k = List.tryItem 2 inputs |> Option.defaultValue v

        let maskOf i =
            ctx.Masks |> List.tryItem i |> Option.flatten |> Option.map asBool

        let s = scores ctx.Weights q k

        let scoresMask =
            combineMasks
                [
                    maskOf 1 |> Option.map (fun m -> m.unsqueeze -2L)
                    (if config.UseCausalMask then
                         Some(causalMask (s.size(1)) (s.size(2)))
                     else
                         None)
                ]

        let s =
            match scoresMask with
            | Some m -> s.sub (m.logical_not().to_type(s.dtype).mul(sc maskBias))
            | None -> s

        let distribution = s.softmax -1L

        let used =
            if ctx.Training && config.Dropout > 0.0 then
                dropoutWith generator config.Dropout distribution
            else
                distribution

        let result = Ops.matmul used v

        let result =
            match maskOf 0 with
            | Some m -> result.mul (m.unsqueeze(-1L).to_type result.dtype)
            | None -> result

        if config.ReturnAttentionScores then
            [ result; distribution ]
        else
            [ result ]

    Layer.create
        name
        {
            ClassName = className
            Config = fun () -> Config.ofList configEntries
            InputSpecs = [ { InputSpec.any with NDim = Some 3 } ]
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }

/// <summary>Dot-product (Luong) attention on inputs <c>[query; value]</c> or <c>[query; value; key]</c> of shapes
/// <c>(batch, Tq, dim)</c>, <c>(batch, Tv, dim)</c>: scores <c>q·kᵀ</c> (times the scalar <c>scale</c> when
/// <c>UseScale</c>), or for "concat" <c>concat_score_weight · sum(tanh(scale·(q + k)))</c>; softmax over Tv; output
/// <c>distribution · value</c> of shape <c>(batch, Tq, dim_v)</c>.</summary>
/// <remarks>Keras masks: the value's mask removes value steps from the distribution, the query's mask zeroes the output
/// at masked query steps and passes on as the output's mask.</remarks>
/// <exception cref="KerasException">When the score mode is unknown or dropout out of range; on a call, when the inputs do not fit.</exception>
let attention (config: AttentionConfig) (name: string option) : Layer =
    if config.ScoreMode <> "dot" && config.ScoreMode <> "concat" then
        Errors.raiseKeras (
            InvalidArgument("Attention", "score_mode", "Expected one of {'dot', 'concat'}.", config.ScoreMode)
        )

    let concat = config.ScoreMode = "concat"

    let weights _ =
        [
            if config.UseScale then
                weight "scale" [] Ones
            if concat then
                weight "concat_score_weight" [] Ones
        ]

    let scores (w: Weight[]) (q: torch.Tensor) (k: torch.Tensor) =
        let scale = if config.UseScale then Some w[0].Value else None

        if concat then
            let weight = w[if config.UseScale then 1 else 0].Value
            let sum = q.unsqueeze(-2L).add(k.unsqueeze -3L)

            let sum =
                match scale with
                | Some s -> sum.mul s
                | None -> sum

            sum.tanh().sum(-1L).mul weight
        else
            let s = Ops.matmul q (k.transpose (1L, 2L))

            match scale with
            | Some scale -> s.mul scale
            | None -> s

    attentionLayer
        "Attention"
        config
        weights
        scores
        [
            yield "use_scale", Config.value config.UseScale
            yield "score_mode", Config.value config.ScoreMode
            yield "dropout", Config.value config.Dropout
            // Keras writes seed from 3.15 on; 3.1.1 reads it, so it is written only when set (KerasFile.KerasVersion).
            match config.Seed with
            | Some seed -> yield "seed", Config.value seed
            | None -> ()
        ]
        name

/// <summary>Additive (Bahdanau) attention on inputs <c>[query; value]</c> or <c>[query; value; key]</c>: scores
/// <c>sum(scale · tanh(q + k))</c> over the features (<c>scale</c> a learned vector of the query's feature size,
/// glorot_uniform, when <c>UseScale</c>), softmax over Tv, output <c>distribution · value</c>.</summary>
/// <exception cref="KerasException">When dropout is out of range; on a call, when the inputs do not fit.</exception>
let additiveAttention (config: AttentionConfig) (name: string option) : Layer =
    let weights dim =
        [
            if config.UseScale then
                weight "scale" [ dim ] GlorotUniform
        ]

    let scores (w: Weight[]) (q: torch.Tensor) (k: torch.Tensor) =
        let t = q.unsqueeze(-2L).add(k.unsqueeze -3L).tanh()
        let t = if config.UseScale then t.mul w[0].Value else t
        t.sum -1L

    attentionLayer
        "AdditiveAttention"
        config
        weights
        scores
        [
            yield "use_scale", Config.value config.UseScale
            yield "dropout", Config.value config.Dropout
            // Keras writes seed from 3.15 on; 3.1.1 reads it, so it is written only when set (KerasFile.KerasVersion).
            match config.Seed with
            | Some seed -> yield "seed", Config.value seed
            | None -> ()
        ]
        name
