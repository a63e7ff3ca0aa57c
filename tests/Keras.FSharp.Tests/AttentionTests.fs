/// Attention layers: shapes and Keras's parameter counts, MultiHeadAttention against a loop-by-loop reference built
/// from the layer's own weights, masks, a finite-difference gradient check, Luong and Bahdanau attention on 2×2 cases.
module AttentionTests

open Expecto
open TorchSharp
open Keras
open Keras.AttentionLayers
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private mha (config: MultiHeadAttentionConfig) = multiHeadAttention config None

/// Calls a layer eagerly with Keras masks for its inputs.
let private callMasked (layer: Layer) (training: bool) (masks: torch.Tensor option list) (inputs: torch.Tensor list) =
    Layer.outputSpecs layer (inputs |> List.map Layer.specOf)
    |> Errors.orRaise
    |> ignore

    layer.Spec.Call (Layer.contextFor layer training masks ignore inputs) inputs

/// The value of a layer's weight, by position in Keras's order.
let private weightAt (layer: Layer) (i: int) =
    (List.item i (Layer.weights layer)).Value

let private messageOf (f: unit -> unit) =
    try
        f ()
        failtest "expected a KerasException"
        ""
    with :? KerasException as e ->
        e.Message

/// Sizes of a MultiHeadAttention reference computation on rank-3 inputs.
type private Dims =
    {
        B: int
        T: int
        S: int
        Dq: int
        Dv: int
        Dk: int
        Heads: int
        KeyDim: int
        ValueDim: int
        Out: int
    }

/// Multi-head attention by plain loops, in double precision, from the layer's weights in Keras's order.
/// <c>allowed b t s</c> says whether query step t of sample b may attend to key step s.
let private mhaReference
    (d: Dims)
    (q: float32[])
    (v: float32[])
    (k: float32[])
    (ws: float32[] list)
    (allowed: int -> int -> int -> bool)
    =
    let wq, bq, wk, bk, wv, bv, wo, bo =
        match ws with
        | [ a; b; c; d; e; f; g; h ] -> a, b, c, d, e, f, g, h
        | _ -> failwith "expected 8 weights"

    // proj[b, l, n, j] = sum_i x[b, l, i] · w[i, n, j] + bias[n, j]
    let project (x: float32[]) (steps: int) (din: int) (w: float32[]) (bias: float32[]) (h: int) =
        Array.init (d.B * steps * d.Heads * h) (fun idx ->
            let j = idx % h
            let n = (idx / h) % d.Heads
            let l = (idx / (h * d.Heads)) % steps
            let b = idx / (h * d.Heads * steps)
            let mutable acc = float bias[n * h + j]

            for i in 0 .. din - 1 do
                acc <- acc + float x[(b * steps + l) * din + i] * float w[(i * d.Heads + n) * h + j]

            acc)

    let qp = project q d.T d.Dq wq bq d.KeyDim
    let kp = project k d.S d.Dk wk bk d.KeyDim
    let vp = project v d.S d.Dv wv bv d.ValueDim
    let scale = 1.0 / sqrt (float d.KeyDim)
    // probs[b, n, t, s]
    let probs = Array.zeroCreate (d.B * d.Heads * d.T * d.S)

    for b in 0 .. d.B - 1 do
        for n in 0 .. d.Heads - 1 do
            for t in 0 .. d.T - 1 do
                let logits =
                    Array.init d.S (fun s ->
                        let mutable acc = 0.0

                        for j in 0 .. d.KeyDim - 1 do
                            acc <-
                                acc
                                + qp[((b * d.T + t) * d.Heads + n) * d.KeyDim + j]
                                  * kp[((b * d.S + s) * d.Heads + n) * d.KeyDim + j]

                        acc * scale)

                let top =
                    [
                        for s in 0 .. d.S - 1 do
                            if allowed b t s then
                                logits[s]
                    ]
                    |> List.max

                let e =
                    Array.init d.S (fun s -> if allowed b t s then exp (logits[s] - top) else 0.0)

                let total = Array.sum e

                for s in 0 .. d.S - 1 do
                    probs[((b * d.Heads + n) * d.T + t) * d.S + s] <- e[s] / total

    let out = Array.zeroCreate (d.B * d.T * d.Out)

    for b in 0 .. d.B - 1 do
        for t in 0 .. d.T - 1 do
            for o in 0 .. d.Out - 1 do
                let mutable acc = float bo[o]

                for n in 0 .. d.Heads - 1 do
                    for e in 0 .. d.ValueDim - 1 do
                        let mutable attended = 0.0

                        for s in 0 .. d.S - 1 do
                            attended <-
                                attended
                                + probs[((b * d.Heads + n) * d.T + t) * d.S + s]
                                  * vp[((b * d.S + s) * d.Heads + n) * d.ValueDim + e]

                        acc <- acc + attended * float wo[(n * d.ValueDim + e) * d.Out + o]

                out[(b * d.T + t) * d.Out + o] <- acc

    out |> Array.map float32, probs |> Array.map float32

let private softmax (xs: float list) =
    let e = xs |> List.map exp
    e |> List.map (fun v -> v / List.sum e)

[<Tests>]
let tests =
    testList
        "Attention"
        [
            testList
                "run_layer_test"
                [
                    test "MultiHeadAttention(num_heads=2, key_dim=2) on dim 16 has Keras's 284 parameters" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 2))

                        runLayerTest
                            layer
                            [ [ None; Some 4; Some 16 ]; [ None; Some 6; Some 16 ] ]
                            [ None; Some 4; Some 16 ]
                            8
                        // query, key, value: 16·2·2 + 2·2 = 68 each; attention_output: 2·2·16 + 16 = 80.
                        Expect.equal (Layer.countParams layer) (3L * 68L + 80L) "3·(16·2·2 + 2·2) + (2·2·16 + 16)"
                    }

                    test "MultiHeadAttention with key, value_dim, output_shape and no biases" {
                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(2, 2) with
                                    ValueDim = Some 3
                                    OutputShape = Some [ 5 ]
                                    UseBias = false
                                }

                        runLayerTest
                            layer
                            [
                                [ None; Some 4; Some 16 ]
                                [ None; Some 6; Some 8 ]
                                [ None; Some 6; Some 10 ]
                            ]
                            [ None; Some 4; Some 5 ]
                            4
                        // query 16·2·2, key 10·2·2, value 8·2·3, output 2·3·5
                        Expect.equal (Layer.countParams layer) (64L + 40L + 48L + 30L) "kernels only"
                    }

                    test "MultiHeadAttention on images attends over both spatial axes" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 3))

                        runLayerTest
                            layer
                            [ [ None; Some 3; Some 4; Some 5 ]; [ None; Some 2; Some 2; Some 5 ] ]
                            [ None; Some 3; Some 4; Some 5 ]
                            8
                    }

                    test "Attention" {
                        runLayerTest
                            (attention AttentionConfig.Default None)
                            [ [ None; Some 3; Some 4 ]; [ None; Some 5; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            0
                    }
                    test "Attention with a scale and a key" {
                        runLayerTest
                            (attention
                                { AttentionConfig.Default with
                                    UseScale = true
                                }
                                None)
                            [ [ None; Some 3; Some 4 ]; [ None; Some 5; Some 6 ]; [ None; Some 5; Some 4 ] ]
                            [ None; Some 3; Some 6 ]
                            1
                    }
                    test "Attention with concat scores" {
                        runLayerTest
                            (attention
                                { AttentionConfig.Default with
                                    ScoreMode = "concat"
                                }
                                None)
                            [ [ None; Some 3; Some 4 ]; [ None; Some 5; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            1
                    }
                    test "AdditiveAttention" {
                        let layer = additiveAttention AttentionConfig.AdditiveDefault None

                        runLayerTest
                            layer
                            [ [ None; Some 3; Some 4 ]; [ None; Some 5; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            1

                        Expect.equal (Layer.countParams layer) 4L "scale has the feature size"
                    }
                ]

            testList
                "MultiHeadAttention"
                [
                    test "weights are Keras's EinsumDense kernels and biases, in Keras's order" {
                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(2, 3) with
                                    ValueDim = Some 4
                                }

                        Layer.callMany
                            layer
                            [
                                sym [ None; Some 5; Some 7 ]
                                sym [ None; Some 6; Some 9 ]
                                sym [ None; Some 6; Some 8 ]
                            ]
                        |> ignore

                        let expected =
                            [
                                "query/kernel", [| 7L; 2L; 3L |]
                                "query/bias", [| 2L; 3L |]
                                "key/kernel", [| 8L; 2L; 3L |]
                                "key/bias", [| 2L; 3L |]
                                "value/kernel", [| 9L; 2L; 4L |]
                                "value/bias", [| 2L; 4L |]
                                "attention_output/kernel", [| 2L; 4L; 7L |]
                                "attention_output/bias", [| 7L |]
                            ]

                        Expect.equal
                            (Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape))
                            expected
                            "names and shapes"
                    }

                    test "the scores output has shape (batch, heads, T, S)" {
                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(3, 2) with
                                    ReturnAttentionScores = true
                                }

                        match Layer.callMany layer [ sym [ None; Some 4; Some 6 ]; sym [ None; Some 5; Some 6 ] ] with
                        | [ output; scores ] ->
                            Expect.equal output.Shape [ None; Some 4; Some 6 ] "output"
                            Expect.equal scores.Shape [ None; Some 3; Some 4; Some 5 ] "scores"
                        | outs -> failtestf "expected two outputs, got %d" outs.Length

                        match Layer.callEager layer false [ torch.randn (2L, 4L, 6L); torch.randn (2L, 5L, 6L) ] with
                        | [ output; scores ] ->
                            Expect.equal output.shape [| 2L; 4L; 6L |] "eager output"
                            Expect.equal scores.shape [| 2L; 3L; 4L; 5L |] "eager scores"
                            closeTo 1e-5f (Array.create 24 1.f) (values (scores.sum -1L)) "each row of scores sums to 1"
                        | outs -> failtestf "expected two outputs, got %d" outs.Length
                    }

                    test "the output equals a step-by-step reference from the layer's weights" {
                        torch.manual_seed 41L |> ignore

                        let d =
                            {
                                B = 2
                                T = 3
                                S = 4
                                Dq = 5
                                Dv = 6
                                Dk = 7
                                Heads = 2
                                KeyDim = 3
                                ValueDim = 2
                                Out = 5
                            }

                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(d.Heads, d.KeyDim) with
                                    ValueDim = Some d.ValueDim
                                    ReturnAttentionScores = true
                                }

                        let q = torch.randn (int64 d.B, int64 d.T, int64 d.Dq)
                        let v = torch.randn (int64 d.B, int64 d.S, int64 d.Dv)
                        let k = torch.randn (int64 d.B, int64 d.S, int64 d.Dk)
                        Layer.callEager layer false [ q; v; k ] |> ignore
                        // Non-zero biases so that every term is exercised.
                        Layer.setWeights
                            layer
                            (Layer.weights layer
                             |> List.map (fun w -> torch.randn(w.Value.shape).mul(0.5f.ToScalar())))

                        let ws = Layer.weights layer |> List.map (fun w -> values w.Value)

                        let expectedOut, expectedProbs =
                            mhaReference d (values q) (values v) (values k) ws (fun _ _ _ -> true)

                        match Layer.callEager layer false [ q; v; k ] with
                        | [ output; scores ] ->
                            closeTo 1e-4f expectedOut (values output) "attention output"
                            closeTo 1e-5f expectedProbs (values scores) "attention scores"
                        | outs -> failtestf "expected two outputs, got %d" outs.Length
                    }

                    // Without scores or active dropout the layer runs libtorch's fused scaled_dot_product_attention;
                    // it must give the reference's output, with and without an attention mask.
                    for masked in [ false; true ] do
                        test $"the fused path (no scores) equals the reference, attention mask {masked}" {
                            torch.manual_seed 44L |> ignore

                            let d =
                                {
                                    B = 2
                                    T = 3
                                    S = 5
                                    Dq = 4
                                    Dv = 6
                                    Dk = 6
                                    Heads = 3
                                    KeyDim = 2
                                    ValueDim = 2
                                    Out = 4
                                }

                            let layer =
                                mha
                                    { MultiHeadAttentionConfig.Default(d.Heads, d.KeyDim) with
                                        UseAttentionMask = masked
                                    }

                            let q = torch.randn (int64 d.B, int64 d.T, int64 d.Dq)
                            let v = torch.randn (int64 d.B, int64 d.S, int64 d.Dv)
                            let allowed b t s = not masked || (b + 2 * t + s) % 3 <> 0 || s = t

                            let mask =
                                torch
                                    .tensor(
                                        [|
                                            for b in 0 .. d.B - 1 do
                                                for t in 0 .. d.T - 1 do
                                                    for s in 0 .. d.S - 1 -> allowed b t s
                                        |]
                                    )
                                    .reshape (int64 d.B, int64 d.T, int64 d.S)

                            let inputs = if masked then [ q; v; mask ] else [ q; v ]
                            Layer.callEager layer false inputs |> ignore

                            Layer.setWeights
                                layer
                                (Layer.weights layer
                                 |> List.map (fun w -> torch.randn(w.Value.shape).mul (0.5f.ToScalar())))

                            let ws = Layer.weights layer |> List.map (fun w -> values w.Value)
                            let expected, _ = mhaReference d (values q) (values v) (values v) ws allowed

                            match Layer.callEager layer false inputs with
                            | [ output ] -> closeTo 1e-4f expected (values output) "fused attention output"
                            | outs -> failtestf "expected one output, got %d" outs.Length
                        }

                    test "an attention mask gives masked keys zero weight" {
                        torch.manual_seed 42L |> ignore

                        let d =
                            {
                                B = 2
                                T = 3
                                S = 4
                                Dq = 4
                                Dv = 4
                                Dk = 4
                                Heads = 2
                                KeyDim = 2
                                ValueDim = 2
                                Out = 4
                            }

                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(2, 2) with
                                    ReturnAttentionScores = true
                                    UseAttentionMask = true
                                }

                        let q = torch.randn (2L, 3L, 4L)
                        let v = torch.randn (2L, 4L, 4L)
                        let allowed b t s = (b + t + s) % 3 <> 0 || s = t

                        let mask =
                            torch
                                .tensor(
                                    [|
                                        for b in 0..1 do
                                            for t in 0..2 do
                                                for s in 0..3 -> allowed b t s
                                    |]
                                )
                                .reshape(2L, 3L, 4L)

                        match Layer.callEager layer false [ q; v; mask ] with
                        | [ output; scores ] ->
                            let probs = values scores

                            for b in 0..1 do
                                for n in 0..1 do
                                    for t in 0..2 do
                                        for s in 0..3 do
                                            let p = probs[((b * 2 + n) * 3 + t) * 4 + s]

                                            if not (allowed b t s) && p <> 0.f then
                                                failtestf
                                                    "masked key %d of query %d (sample %d, head %d) has weight %g"
                                                    s
                                                    t
                                                    b
                                                    n
                                                    p

                            let ws = Layer.weights layer |> List.map (fun w -> values w.Value)

                            let expectedOut, expectedProbs =
                                mhaReference d (values q) (values v) (values v) ws allowed

                            closeTo 1e-5f expectedProbs probs "masked softmax"
                            closeTo 1e-4f expectedOut (values output) "masked output"
                        | outs -> failtestf "expected two outputs, got %d" outs.Length
                    }

                    test "a causal mask and the value's Keras mask restrict the keys" {
                        torch.manual_seed 43L |> ignore

                        let causal =
                            mha
                                { MultiHeadAttentionConfig.Default(1, 2) with
                                    ReturnAttentionScores = true
                                    UseCausalMask = true
                                }

                        let x = torch.randn (1L, 3L, 4L)
                        let scores = Layer.callEager causal false [ x; x ] |> List.item 1 |> values
                        // Row t may use keys 0..t only.
                        for t in 0..2 do
                            for s in t + 1 .. 2 do
                                Expect.equal scores[t * 3 + s] 0.f $"query {t} cannot see key {s}"

                        let masked =
                            mha
                                { MultiHeadAttentionConfig.Default(2, 2) with
                                    ReturnAttentionScores = true
                                }

                        let valueMask = torch.tensor([| true; false; true |]).reshape(1L, 3L)
                        let queryMask = torch.tensor([| true; true; false |]).reshape(1L, 3L)
                        let outs = callMasked masked false [ Some queryMask; Some valueMask ] [ x; x ]
                        let probs = values outs[1]
                        // Query steps that are kept cannot attend to value step 1; a masked query step attends to nothing
                        // real (all its logits are masked), as in Keras.
                        for n in 0..1 do
                            for t in 0..1 do
                                Expect.equal probs[(n * 3 + t) * 3 + 1] 0.f $"head {n}, query {t}: masked value step"

                        let outMasks = masked.Spec.ComputeMask [ x; x ] [ Some queryMask; Some valueMask ]

                        Expect.equal
                            (outMasks |> List.head |> Option.map values)
                            (Some(values queryMask))
                            "the query's mask passes to the output"
                    }

                    test "gradients match finite differences" {
                        torch.manual_seed 44L |> ignore

                        let layer =
                            mha
                                { MultiHeadAttentionConfig.Default(2, 2) with
                                    ValueDim = Some 3
                                }

                        let q0 = torch.randn (1L, 2L, 4L)
                        let v0 = torch.randn (1L, 3L, 4L)
                        Layer.callEager layer false [ q0; v0 ] |> ignore

                        Layer.setWeights
                            layer
                            (Layer.weights layer
                             |> List.map (fun w -> torch.randn(w.Value.shape).mul(0.5f.ToScalar())))

                        let r = torch.randn (1L, 2L, 4L, dtype = torch.ScalarType.Float64)

                        let loss (q: torch.Tensor) =
                            (Layer.callEager layer true [ q; v0 ] |> List.exactlyOne)
                                .to_type(torch.ScalarType.Float64)
                                .mul(r)
                                .sum()

                        let tolerance = { absolute = 2e-3; relative = 1e-2 }
                        let q = q0.clone().requires_grad_ true
                        (loss q).backward()
                        let analytic = values q.grad
                        let h = 1e-2

                        let numeric (perturb: float -> unit) =
                            use _ = torch.no_grad ()
                            perturb h
                            let up = (loss q0).item<float>()
                            perturb (-2.0 * h)
                            let down = (loss q0).item<float>()
                            perturb h
                            (up - down) / (2.0 * h)

                        let flatQ = q0.view (-1L)

                        for i in 0 .. analytic.Length - 1 do
                            let n = numeric (fun delta -> flatQ[int64 i].add_(delta.ToScalar()) |> ignore)
                            Expect.floatClose tolerance (float analytic[i]) n $"d loss / d query[{i}]"

                        // A weight deep inside: the key kernel.
                        let keyKernel = (weightAt layer 2)
                        let kernelGrad = values keyKernel.grad
                        let flatK = keyKernel.view (-1L)

                        for i in 0 .. kernelGrad.Length - 1 do
                            let n = numeric (fun delta -> flatK[int64 i].add_(delta.ToScalar()) |> ignore)
                            Expect.floatClose tolerance (float kernelGrad[i]) n $"d loss / d key/kernel[{i}]"
                    }

                    test "a model built from MultiHeadAttention predicts what the layer computes" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 4))
                        let q = sym [ None; Some 3; Some 8 ]
                        let v = sym [ None; Some 5; Some 8 ]
                        let model = Keras.Model([ q; v ], Layer.callMany layer [ q; v ] |> List.exactlyOne)
                        let qs, vs = torch.randn (4L, 3L, 8L), torch.randn (4L, 5L, 8L)
                        let predicted = model.Predict([ qs; vs ]) |> List.exactlyOne

                        closeTo
                            1e-5f
                            (values (Layer.callEager layer false [ qs; vs ] |> List.exactlyOne))
                            (values predicted)
                            "same values"
                    }

                    test "query and value batch sizes must agree" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 2))
                        let q = CoreLayers.input None (Some [ Some 2; Some 4; Some 8 ]) Float32 None
                        let v = CoreLayers.input None (Some [ Some 3; Some 5; Some 8 ]) Float32 None
                        let message = messageOf (fun () -> Layer.callMany layer [ q; v ] |> ignore)
                        Expect.stringContains message "should have the same batch size" "symbolic"
                        Expect.stringContains message "query_shape=(2, 4, 8), value_shape=(3, 5, 8)" "names the shapes"

                        let eagerMessage =
                            messageOf (fun () ->
                                Layer.callEager
                                    (mha (MultiHeadAttentionConfig.Default(2, 2)))
                                    false
                                    [ torch.randn (2L, 4L, 8L); torch.randn (3L, 5L, 8L) ]
                                |> ignore)

                        Expect.stringContains eagerMessage "should have the same batch size" "eager"
                    }

                    test "value and key must agree on every axis but the last" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 2))

                        let message =
                            messageOf (fun () ->
                                Layer.callMany
                                    layer
                                    [
                                        sym [ None; Some 4; Some 8 ]
                                        sym [ None; Some 5; Some 8 ]
                                        sym [ None; Some 6; Some 8 ]
                                    ]
                                |> ignore)

                        Expect.stringContains
                            message
                            "All dimensions of `value` and `key`, except the last one, must be equal. Received: value_shape=(None, 5, 8) and key_shape=(None, 6, 8)"
                            "Keras's wording"
                    }

                    test "wrong input counts and arguments are rejected" {
                        let layer = mha (MultiHeadAttentionConfig.Default(2, 2))

                        Expect.stringContains
                            (messageOf (fun () -> Layer.callMany layer [ sym [ None; Some 4; Some 8 ] ] |> ignore))
                            "accepts inputs list of length 2 or 3"
                            "one input"

                        Expect.throwsT<KerasException>
                            (fun () -> mha (MultiHeadAttentionConfig.Default(0, 2)) |> ignore)
                            "num_heads 0"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                mha
                                    { MultiHeadAttentionConfig.Default(2, 2) with
                                        Dropout = 1.5
                                    }
                                |> ignore)
                            "dropout 1.5"
                    }
                ]

            testList
                "Attention and AdditiveAttention"
                [ // query [[1, 0], [0, 1]], value = key [[1, 2], [3, 4]]: scores q·kᵀ = [[1, 3], [2, 4]].
                    let q () =
                        torch.tensor([| 1.f; 0.f; 0.f; 1.f |]).reshape(1L, 2L, 2L)

                    let v () =
                        torch.tensor([| 1.f; 2.f; 3.f; 4.f |]).reshape(1L, 2L, 2L)

                    let combine (p: float list list) =
                        [|
                            for row in p do
                                yield float32 (row[0] * 1.0 + row[1] * 3.0)
                                yield float32 (row[0] * 2.0 + row[1] * 4.0)
                        |]

                    test "dot-product attention on a 2×2 case" {
                        let layer =
                            attention
                                { AttentionConfig.Default with
                                    ReturnAttentionScores = true
                                }
                                None

                        let p = [ softmax [ 1.0; 3.0 ]; softmax [ 2.0; 4.0 ] ]

                        match Layer.callEager layer false [ q (); v () ] with
                        | [ output; scores ] ->
                            closeTo
                                1e-6f
                                (p |> List.concat |> List.map float32 |> Array.ofList)
                                (values scores)
                                "softmax(q·kᵀ)"

                            closeTo 1e-5f (combine p) (values output) "distribution · value"
                        | outs -> failtestf "expected two outputs, got %d" outs.Length
                    }

                    test "use_scale multiplies the scores by the learned scalar" {
                        let layer =
                            attention
                                { AttentionConfig.Default with
                                    UseScale = true
                                }
                                None

                        Layer.callEager layer false [ q (); v () ] |> ignore
                        Expect.equal ((weightAt layer 0).shape) [||] "scale is a scalar"
                        Layer.setWeights layer [ torch.tensor 0.5f ]
                        let p = [ softmax [ 0.5; 1.5 ]; softmax [ 1.0; 2.0 ] ]

                        closeTo
                            1e-5f
                            (combine p)
                            (values (Layer.callEager layer false [ q (); v () ] |> List.head))
                            "scaled scores"
                    }

                    test "concat scores are concat_score_weight · sum(tanh(q + k))" {
                        let layer =
                            attention
                                { AttentionConfig.Default with
                                    ScoreMode = "concat"
                                    ReturnAttentionScores = true
                                }
                                None

                        Layer.callEager layer false [ q (); v () ] |> ignore
                        Layer.setWeights layer [ torch.tensor 2.f ]

                        let score (qi: float list) (kj: float list) =
                            2.0 * List.sum (List.map2 (fun a b -> tanh (a + b)) qi kj)

                        let qs, ks = [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ], [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]
                        let p = qs |> List.map (fun qi -> softmax (ks |> List.map (score qi)))
                        let outs = Layer.callEager layer false [ q (); v () ]

                        closeTo
                            1e-5f
                            (p |> List.concat |> List.map float32 |> Array.ofList)
                            (values outs[1])
                            "distribution"

                        closeTo 1e-5f (combine p) (values outs[0]) "output"
                    }

                    test "masks: value steps drop out, masked query steps give zeros, causal hides the future" {
                        let layer =
                            attention
                                { AttentionConfig.Default with
                                    ReturnAttentionScores = true
                                }
                                None

                        let valueMask = torch.tensor([| true; false |]).reshape(1L, 2L)
                        let outs = callMasked layer false [ None; Some valueMask ] [ q (); v () ]
                        closeTo 0.f [| 1.f; 0.f; 1.f; 0.f |] (values outs[1]) "all weight on value step 0"
                        closeTo 1e-6f [| 1.f; 2.f; 1.f; 2.f |] (values outs[0]) "output is value step 0"
                        let queryMask = torch.tensor([| true; false |]).reshape(1L, 2L)
                        let masked = callMasked layer false [ Some queryMask; None ] [ q (); v () ]
                        let p = softmax [ 1.0; 3.0 ]

                        closeTo
                            1e-5f
                            [| float32 (p[0] + 3.0 * p[1]); float32 (2.0 * p[0] + 4.0 * p[1]); 0.f; 0.f |]
                            (values masked[0])
                            "query step 1 zeroed"

                        Expect.equal
                            (layer.Spec.ComputeMask [ q (); v () ] [ Some queryMask; None ]
                             |> List.head
                             |> Option.map values)
                            (Some(values queryMask))
                            "output mask"

                        let causal =
                            attention
                                { AttentionConfig.Default with
                                    ReturnAttentionScores = true
                                    UseCausalMask = true
                                }
                                None

                        let c = Layer.callEager causal false [ q (); v () ]
                        let p1 = softmax [ 2.0; 4.0 ]

                        closeTo
                            1e-6f
                            [| 1.f; 0.f; float32 p1[0]; float32 p1[1] |]
                            (values c[1])
                            "step 0 sees only itself"
                    }

                    test "additive attention on a 2×2 case" {
                        let layer =
                            additiveAttention
                                { AttentionConfig.AdditiveDefault with
                                    ReturnAttentionScores = true
                                }
                                None

                        Layer.callEager layer false [ q (); v () ] |> ignore
                        Expect.equal ((weightAt layer 0).shape) [| 2L |] "scale (dim,)"
                        Layer.setWeights layer [ torch.tensor [| 0.5f; 2.f |] ]
                        let scale = [ 0.5; 2.0 ]

                        let score (qi: float list) (kj: float list) =
                            List.sum (List.map3 (fun s a b -> s * tanh (a + b)) scale qi kj)

                        let qs, ks = [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ], [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]
                        let p = qs |> List.map (fun qi -> softmax (ks |> List.map (score qi)))
                        let outs = Layer.callEager layer false [ q (); v () ]

                        closeTo
                            1e-5f
                            (p |> List.concat |> List.map float32 |> Array.ofList)
                            (values outs[1])
                            "softmax(sum(scale · tanh(q + k)))"

                        closeTo 1e-5f (combine p) (values outs[0]) "output"

                        let plain =
                            additiveAttention
                                { AttentionConfig.AdditiveDefault with
                                    UseScale = false
                                }
                                None

                        let p0 =
                            qs
                            |> List.map (fun qi ->
                                softmax (
                                    ks |> List.map (fun kj -> List.sum (List.map2 (fun a b -> tanh (a + b)) qi kj))
                                ))

                        closeTo
                            1e-5f
                            (combine p0)
                            (values (Layer.callEager plain false [ q (); v () ] |> List.head))
                            "without scale"
                    }

                    test "errors for impossible inputs" {
                        let layer = attention AttentionConfig.Default None

                        let one =
                            messageOf (fun () -> Layer.callMany layer [ sym [ None; Some 2; Some 3 ] ] |> ignore)

                        Expect.stringContains
                            one
                            "Attention layer accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. Received length: 1."
                            "Keras's wording"

                        let dims =
                            messageOf (fun () ->
                                Layer.callMany
                                    (attention AttentionConfig.Default None)
                                    [ sym [ None; Some 2; Some 3 ]; sym [ None; Some 4; Some 5 ] ]
                                |> ignore)

                        Expect.stringContains dims "same last dimension" "query and key features differ"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                attention
                                    { AttentionConfig.Default with
                                        ScoreMode = "cosine"
                                    }
                                    None
                                |> ignore)
                            "score_mode"
                    }
                ]
        ]
