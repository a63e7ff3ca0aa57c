/// Keras's GroupQueryAttention (class GroupedQueryAttention): multi-head attention whose key and value heads are shared
/// by groups of query heads (Ainslie et al., 2023).
module Keras.GroupedQueryAttentionLayers

open TorchSharp
open Keras
// Shared with MultiHeadAttention: weight specs, shape text, per-head projection, causal and combined masks.
open Keras.AttentionLayers

let inline private sc (v: float) : Scalar = v.ToScalar()

open Keras.AttentionLayers

/// <summary>Configuration of <see cref="groupQueryAttention"/>, with Keras's defaults in
/// <see cref="GroupQueryAttentionConfig.Default"/>. The last three fields are Keras's call arguments, fixed per layer
/// here because a layer call takes only tensors.</summary>
type GroupQueryAttentionConfig =
    {
        /// Size of each attention head (query, key and value).
        HeadDim: int
        /// Number of query heads.
        NumQueryHeads: int
        /// Number of key and value heads; divides <c>NumQueryHeads</c> (1 is multi-query attention, equal to it is
        /// multi-head attention).
        NumKeyValueHeads: int
        /// Dropout rate on the attention probabilities (training only).
        Dropout: float
        /// Whether the projections have biases.
        UseBias: bool
        /// Initializer of the projection kernels.
        KernelInitializer: Initializer
        /// Initializer of the projection biases.
        BiasInitializer: Initializer
        /// Seed of the attention dropout.
        Seed: int option
        /// Keras's <c>return_attention_scores</c>: a second output, the attention probabilities
        /// (batch, num_query_heads, T, S).
        ReturnAttentionScores: bool
        /// Keras's <c>use_causal_mask</c>: query position i attends to key positions j ≤ i only.
        UseCausalMask: bool
        /// Keras's <c>attention_mask</c>: when true, the layer takes one more input, last, a boolean mask (batch, T, S).
        UseAttentionMask: bool
    }

    /// Keras's defaults: no dropout, biases on, glorot_uniform kernels, zero biases.
    static member Default(headDim, numQueryHeads, numKeyValueHeads) =
        {
            HeadDim = headDim
            NumQueryHeads = numQueryHeads
            NumKeyValueHeads = numKeyValueHeads
            Dropout = 0.0
            UseBias = true
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            Seed = None
            ReturnAttentionScores = false
            UseCausalMask = false
            UseAttentionMask = false
        }

/// <summary>Grouped-query attention as Keras computes it: query projected to <c>num_query_heads</c> heads, key and
/// value to <c>num_key_value_heads</c> heads each repeated <c>num_query_heads / num_key_value_heads</c> times (head
/// g serves query heads g·r … g·r + r - 1), scores <c>softmax(q·kᵀ / sqrt(head_dim))</c> over the keys, the heads'
/// weighted values projected back to the query's feature size.</summary>
/// <remarks>Inputs: <c>[query; value]</c> or <c>[query; value; key]</c> of rank 3 (key defaults to value), plus the
/// boolean attention mask last when <c>UseAttentionMask</c>; Keras masks of the inputs merge into the attention mask.
/// Weights, in Keras's order: <c>query/kernel (dim, q_heads, head_dim)</c>, <c>query/bias (q_heads, head_dim)</c>,
/// <c>key/kernel (dim, kv_heads, head_dim)</c>, <c>key/bias</c>, <c>value/kernel (dim, kv_heads, head_dim)</c>,
/// <c>value/bias</c>, <c>attention_output/kernel (q_heads, head_dim, dim)</c>, <c>attention_output/bias (dim)</c>.</remarks>
/// <exception cref="KerasException">When an argument is out of range; on a call, when the inputs do not fit.</exception>
let groupQueryAttention (config: GroupQueryAttentionConfig) (name: string option) : Layer =
    let owner = "GroupQueryAttention"

    let positive (argument: string) (value: int) =
        if value <= 0 then
            Errors.raiseKeras (InvalidArgument(owner, argument, "Expected a positive integer.", string value))

    positive "head_dim" config.HeadDim
    positive "num_query_heads" config.NumQueryHeads
    positive "num_key_value_heads" config.NumKeyValueHeads

    if config.NumQueryHeads % config.NumKeyValueHeads <> 0 then
        Errors.raiseKeras (
            InvalidArgument(
                owner,
                "num_key_value_heads",
                "`num_query_heads` must be divisible by `num_key_value_heads`.",
                $"num_query_heads={config.NumQueryHeads}, num_key_value_heads={config.NumKeyValueHeads}"
            )
        )

    if config.Dropout < 0.0 || config.Dropout > 1.0 then
        Errors.raiseKeras (
            InvalidArgument(owner, "dropout", "Expected a float value between 0 and 1.", string config.Dropout)
        )

    let qHeads = config.NumQueryHeads
    let kvHeads = config.NumKeyValueHeads
    let headDim = config.HeadDim
    let repeats = qHeads / kvHeads
    let generator = RegularizationLayers.generatorFor config.Seed

    /// (query, value, key option, mask option) from the inputs.
    let split (inputs: 'T list) =
        let tensors, mask =
            if config.UseAttentionMask && not inputs.IsEmpty then
                List.take (inputs.Length - 1) inputs, Some(List.last inputs)
            else
                inputs, None

        match tensors with
        | [ q; v ] -> Some(q, v, None, mask)
        | [ q; v; k ] -> Some(q, v, Some k, mask)
        | _ -> None

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
                $"GroupQueryAttention layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]{extra}. Received length: {inputs.Length}."
        | Some(query, value, key, mask) ->
            let q = query.Shape
            let v = value.Shape
            let k = key |> Option.map _.Shape |> Option.defaultValue v
            let text (s: Shape) = Shape.format s

            if q.Length <> 3 || v.Length <> 3 || k.Length <> 3 then
                fail
                    $"`query`, `value` and `key` should have rank 3 (batch, sequence, features). Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            elif [ q; v; k ] |> List.exists (fun s -> (List.last s).IsNone) then
                fail
                    $"The last dimension of `query`, `value` and `key` should be defined. Found `None`. Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            elif not (Shape.dimsCompatible q[2] v[2]) then
                fail
                    $"The last dimension of `query_shape` and `value_shape` must be equal, but are {text [ q[2] ]}, {text [ v[2] ]}. Received: query_shape={text q}, value_shape={text v}"
            elif not (Shape.dimsCompatible v[1] k[1]) then
                fail
                    $"All dimensions of `value` and `key`, except the last one, must be equal. Received: value_shape={text v} and key_shape={text k}"
            elif not (Shape.dimsCompatible q[0] v[0] && Shape.dimsCompatible q[0] k[0]) then
                fail
                    $"`query`, `value` and `key` should have the same batch size. Received: query_shape={text q}, value_shape={text v} and key_shape={text k}."
            else
                match mask with
                | Some m when m.Shape.Length <> 3 && m.Shape.Length <> 2 ->
                    fail $"The attention mask should have shape (batch, T, S); it has rank {m.Shape.Length}."
                | _ ->
                    let output = { Shape = q; DType = Float32 }

                    let scores =
                        {
                            Shape = [ Shape.mergeDim q[0] v[0]; Some qHeads; q[1]; v[1] ]
                            DType = Float32
                        }

                    Ok(
                        if config.ReturnAttentionScores then
                            [ output; scores ]
                        else
                            [ output ]
                    )

    let build (inputs: TensorSpec list) : BuildResult =
        let query, value, key, _ = split inputs |> Option.get
        let lastDim (s: TensorSpec) = List.last s.Shape |> Option.get
        let qDim = lastDim query
        let vDim = lastDim value
        let kDim = key |> Option.map lastDim |> Option.defaultValue vDim
        let kernel = config.KernelInitializer
        let bias = config.BiasInitializer

        {
            Weights =
                [
                    yield weight "query/kernel" [ qDim; qHeads; headDim ] kernel
                    if config.UseBias then
                        yield weight "query/bias" [ qHeads; headDim ] bias
                    yield weight "key/kernel" [ kDim; kvHeads; headDim ] kernel
                    if config.UseBias then
                        yield weight "key/bias" [ kvHeads; headDim ] bias
                    yield weight "value/kernel" [ vDim; kvHeads; headDim ] kernel
                    if config.UseBias then
                        yield weight "value/bias" [ kvHeads; headDim ] bias
                    yield weight "attention_output/kernel" [ qHeads; headDim; qDim ] kernel
                    if config.UseBias then
                        yield weight "attention_output/bias" [ qDim ] bias
                ]
            InputSpecs =
                [
                    yield { InputSpec.any with Axes = [ -1, qDim ] }
                    yield { InputSpec.any with Axes = [ -1, vDim ] }
                    if key.IsSome then
                        yield { InputSpec.any with Axes = [ -1, kDim ] }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let query, value, key, attentionMask =
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
        let qKernel, kKernel, vKernel, oKernel = at 0 0, at 2 1, at 4 2, at 6 3

        let bias i =
            if config.UseBias then Some w[i] else None

        /// (B, L, d) · (d, N, h) + (N, h) -> (B, N, L, h)
        let project (x: torch.Tensor) (kernel: torch.Tensor) (b: torch.Tensor option) =
            (projectHeads x kernel b).permute (0L, 2L, 1L, 3L)

        let keyInput = defaultArg key value
        let qp = (project query qKernel (bias 1)).mul (sc (1.0 / sqrt (float headDim)))
        // Keras's ops.repeat on the heads axis: each key/value head serves `repeats` consecutive query heads.
        let kp = (project keyInput kKernel (bias 3)).repeat_interleave (int64 repeats, 1L)
        let vp = (project value vKernel (bias 5)).repeat_interleave (int64 repeats, 1L)
        let kT = kp.transpose (-1L, -2L)
        let raw = Ops.matmul qp kT // (B, u, T, S)

        let mask =
            let asBool (m: torch.Tensor) =
                if m.dtype = torch.ScalarType.Bool then m else m.gt (sc 0.5)

            let maskOf i =
                ctx.Masks |> List.tryItem i |> Option.flatten |> Option.map asBool

            let causal =
                if config.UseCausalMask then
                    Some(causalMask (query.size(1)) (value.size(1)))
                else
                    None

            [
                attentionMask |> Option.map asBool
                maskOf 0 |> Option.map (fun m -> m.unsqueeze -1L)
                maskOf 1 |> Option.map (fun m -> m.unsqueeze -2L)
                (if key.IsSome then maskOf 2 else None) |> Option.map (fun m -> m.unsqueeze -2L)
                causal
            ]
            |> combineMasks
            // (B, T, S) -> (B, 1, T, S): the same mask for every head.
            |> Option.map (fun m -> m.unsqueeze -3L)

        let probs =
            match mask with
            | None -> raw.softmax -1L
            | Some m ->
                let negative = torch.full_like (raw, sc -maskBias)
                let masked = torch.where (m, raw, negative)
                let soft = masked.softmax -1L
                // Keras's Softmax zeroes masked positions (a fully masked row gives zeros, not a uniform row).
                torch.where (m, soft, torch.zeros_like soft)

        let dropped =
            if ctx.Training && config.Dropout > 0.0 then
                if config.Dropout >= 1.0 then
                    torch.zeros_like probs
                else
                    let keep =
                        torch
                            .rand(probs.Sizes, dtype = probs.dtype, generator = generator)
                            .ge(sc config.Dropout)
                            .to_type probs.dtype

                    probs.mul(keep).div (sc (1.0 - config.Dropout))
            else
                probs

        let attended = Ops.matmul dropped vp // (B, u, T, h)
        let batch, time = attended.size(0), attended.size(2)
        let heads = attended.permute(0L, 2L, 1L, 3L).reshape (batch, time, int64 (qHeads * headDim))
        let outKernel = oKernel.reshape (int64 (qHeads * headDim), -1L)
        let output = Ops.matmul heads outKernel

        let output =
            match bias 7 with
            | Some b -> output.add b
            | None -> output

        if config.ReturnAttentionScores then
            [ output; probs ]
        else
            [ output ]

    Layer.create
        name
        {
            ClassName = "GroupedQueryAttention"
            Config =
                fun () ->
                    // Keras 3.1.1's keys; use_gate and sliding_window (3.14+) are never written (only their
                    // defaults are supported), seed (3.7+) only when set (see KerasFile.KerasVersion).
                    Config.ofList
                        [
                            yield "head_dim", Config.value headDim
                            yield "num_query_heads", Config.value qHeads
                            yield "num_key_value_heads", Config.value kvHeads
                            yield "use_bias", Config.value config.UseBias
                            yield "dropout", Config.value config.Dropout
                            yield "kernel_initializer", Config.initializer config.KernelInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield "kernel_regularizer", null
                            yield "bias_regularizer", null
                            yield "activity_regularizer", null
                            yield "kernel_constraint", null
                            yield "bias_constraint", null
                            match config.Seed with
                            | Some s -> yield "seed", Config.value s
                            | None -> ()
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }
