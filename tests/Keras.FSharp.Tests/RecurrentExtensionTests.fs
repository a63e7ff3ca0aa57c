/// Issue 13's recurrent extensions and GroupQueryAttention: the sequence-to-sequence encoder-decoder with
/// initial_state (plain-loop reference, Keras's inbound-node form, training, .keras round trip) and GroupQueryAttention
/// (shapes, parameter counts, plain-loop reference, equivalence with MultiHeadAttention, gradients, configs, saving).
module RecurrentExtensionTests

open System.IO
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private sigmoid (v: float) = 1.0 / (1.0 + exp -v)

/// Rows of a (rows, cols) tensor as a float array-of-arrays.
let private matrix (t: torch.Tensor) =
    let v = values t
    let cols = int t.shape[1]
    Array2D.init (int t.shape[0]) cols (fun i j -> float v[i * cols + j])

let private matVec (x: float[]) (w: float[,]) =
    Array.init (Array2D.length2 w) (fun j -> Seq.sum (seq { for i in 0 .. x.Length - 1 -> x[i] * w[i, j] }))

/// Keras's LSTM on one sequence from (h0, c0); returns h after each step.
let private referenceLstm (k: float[,]) (u: float[,]) (b: float[]) (xs: float[] list) (h0: float[]) (c0: float[]) =
    let n = b.Length / 4

    (((h0, c0), []), xs)
    ||> List.fold (fun ((h, c), acc) x ->
        let z = Array.map3 (fun a c d -> a + c + d) (matVec x k) (matVec h u) b

        let c' =
            Array.init n (fun j -> sigmoid z[n + j] * c[j] + sigmoid z[j] * tanh z[2 * n + j])

        let h' = Array.init n (fun j -> sigmoid z[3 * n + j] * tanh c'[j])
        (h', c'), acc @ [ h', c' ])
    |> snd

/// Sample b of a (batch, time, features) tensor as a list of steps.
let private sample (x: torch.Tensor) (b: int) =
    let t = int x.shape[1]
    let f = int x.shape[2]
    let v = values x
    [ for s in 0 .. t - 1 -> Array.init f (fun i -> float v[(b * t + s) * f + i]) ]

let private f32 (xs: float seq) = xs |> Seq.map float32 |> Array.ofSeq

// ---------------------------------------------------------------------------------------------------------------
// Sequence to sequence with initial_state
// ---------------------------------------------------------------------------------------------------------------

/// The Keras encoder-decoder: encoder LSTM(return_state) over (5, 3), decoder LSTM(return_sequences) over (6, 2)
/// started from the encoder's [h; c], then a Dense(2) per step.
let private seq2seq () =
    let encoderInput = Keras.Input(shape = [ 5; 3 ], name = "encoder_in")
    let encoder = Layers.LSTM(4, returnState = true, name = "encoder")

    let encoderOutputs = encoder.Call [ encoderInput ]
    let h, c = encoderOutputs[1], encoderOutputs[2]
    let decoderInput = Keras.Input(shape = [ 6; 2 ], name = "decoder_in")
    let decoder = Layers.LSTM(4, returnSequences = true, name = "decoder")
    let decoded = decoder.Call(decoderInput, initialState = [ h; c ]) |> List.exactlyOne
    let output = decoded --> Layers.Dense(2, name = "projection")
    Keras.Model([ encoderInput; decoderInput ], output, name = "seq2seq")

let private seq2seqData (n: int64) =
    torch.manual_seed 3L |> ignore
    let encoderX = torch.randn (n, 5L, 3L)
    let decoderX = torch.randn (n, 6L, 2L)
    // A learnable target: the decoder inputs reversed in time, scaled by the mean of the encoder input.
    let target = decoderX.flip([| 1L |]).mul (encoderX.mean([| 1L; 2L |], keepdim = true).tanh ())
    encoderX, decoderX, target

[<Tests>]
let seq2seqTests =
    testList
        "Recurrent extensions: seq2seq"
        [
            test "A decoder LSTM started from the encoder's states matches the plain loop" {
                Utils.setRandomSeed 21
                let model = seq2seq ()
                let encoderX, decoderX, _ = seq2seqData 3L
                let encoder = Model.getLayer model "encoder"
                let decoder = Model.getLayer model "decoder"
                let ew = Layer.getWeights encoder
                let dw = Layer.getWeights decoder
                let proj = Layer.getWeights (Model.getLayer model "projection")
                let y = Model.predictMany model 8 [ encoderX; decoderX ] |> List.head
                Expect.equal y.shape [| 3L; 6L; 2L |] "output shape"

                let expected =
                    [|
                        for b in 0..2 do
                            let h, c =
                                referenceLstm
                                    (matrix ew[0])
                                    (matrix ew[1])
                                    (values ew[2] |> Array.map float)
                                    (sample encoderX b)
                                    (Array.zeroCreate 4)
                                    (Array.zeroCreate 4)
                                |> List.last

                            Expect.isTrue (h |> Array.exists (fun v -> abs v > 1e-3)) "a non-zero initial state"

                            for hd, _ in
                                referenceLstm
                                    (matrix dw[0])
                                    (matrix dw[1])
                                    (values dw[2] |> Array.map float)
                                    (sample decoderX b)
                                    h
                                    c do
                                yield!
                                    Array.map2 (+) (matVec hd (matrix proj[0])) (values proj[1] |> Array.map float)
                                    |> f32
                    |]

                closeTo 1e-5f expected (values y) "decoder outputs projected"
            }

            test "initial_state is written as Keras's keyword argument and read back" {
                let model = seq2seq ()
                let config = Model.getConfig model

                let decoderEntry =
                    config["layers"].AsArray()
                    |> Seq.find (fun l -> l["name"].GetValue<string>() = "decoder")

                let nodes = decoderEntry["inbound_nodes"].AsArray()
                let node = nodes[0]
                let args = node["args"].AsArray()
                Expect.equal args.Count 1 "the sequence is the only positional argument"

                let history (t: JsonNode) =
                    t.["config"].["keras_history"].ToJsonString()

                let first = args[0]
                Expect.equal (history first) """["decoder_in",0,0]""" "args"
                let kwargs = node["kwargs"]
                let stateNode = kwargs["initial_state"]
                let states = stateNode.AsArray()

                Expect.equal
                    (states |> Seq.map history |> List.ofSeq)
                    [ """["encoder",0,1]"""; """["encoder",0,2]""" ]
                    "initial_state=[h, c]"

                let rebuilt = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"
            }

            test "The seq2seq model trains (loss falls) and round-trips through a .keras file" {
                Utils.setRandomSeed 5
                let model = seq2seq ()
                let encoderX, decoderX, target = seq2seqData 64L

                let compiled =
                    model.Compile(optimizer = Optimizers.Adam(learningRate = ConstantRate 0.02), loss = MeanSquaredError)

                let history =
                    compiled.Fit(Tensors [ encoderX; decoderX ], Tensor target, batchSize = 16, epochs = 6, shuffle = false, verbose = 0)

                let losses = history["loss"]
                Expect.isLessThan (List.last losses) (List.head losses * 0.9) "loss falls"
                Expect.equal (Model.countParams model) (128L + 112L + 10L) "params: encoder, decoder, projection"

                inTempFolder "seq2seq" (fun folder ->
                    let path = Path.Combine(folder, "seq2seq.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path
                    let xs = [ encoderX.narrow (0L, 0L, 8L); decoderX.narrow (0L, 0L, 8L) ]

                    Expect.equal
                        ((Model.getConfig loaded).ToJsonString())
                        ((Model.getConfig model).ToJsonString())
                        "same config"

                    closeTo
                        1e-6f
                        (values (Model.predictMany model 8 xs |> List.head))
                        (values (Model.predictMany loaded 8 xs |> List.head))
                        "same predictions")
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// GroupQueryAttention
// ---------------------------------------------------------------------------------------------------------------

/// Grouped-query attention by plain loops in double precision, from the layer's weights in Keras's order (with
/// biases): q (B, T, D), v (B, S, D), key = value.
let private gqaReference
    (b: int)
    (t: int)
    (s: int)
    (dim: int)
    (qHeads: int)
    (kvHeads: int)
    (h: int)
    (q: float32[])
    (v: float32[])
    (ws: float32[] list)
    (allowed: int -> int -> int -> bool)
    =
    let wq, bq, wk, bk, wv, bv, wo, bo =
        ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], ws[7]

    let project (x: float32[]) (len: int) (w: float32[]) (bias: float32[]) heads =
        Array.init (b * len * heads * h) (fun idx ->
            let j = idx % h
            let head = (idx / h) % heads
            let pos = (idx / (h * heads)) % len
            let bb = idx / (h * heads * len)

            float bias[head * h + j]
            + Seq.sum (
                seq {
                    for m in 0 .. dim - 1 ->
                        float x[(bb * len + pos) * dim + m] * float w[(m * heads + head) * h + j]
                }
            ))

    let qp = project q t wq bq qHeads
    let kp = project v s wk bk kvHeads
    let vp = project v s wv bv kvHeads
    let repeats = qHeads / kvHeads
    let out = Array.zeroCreate<float> (b * t * dim)

    for bb in 0 .. b - 1 do
        for i in 0 .. t - 1 do
            let heads =
                Array.init qHeads (fun u ->
                    let g = u / repeats

                    let scores =
                        Array.init s (fun k ->
                            if allowed bb i k then
                                (Seq.sum (
                                    seq {
                                        for j in 0 .. h - 1 ->
                                            qp[((bb * t + i) * qHeads + u) * h + j] * kp[((bb * s + k) * kvHeads + g) * h + j]
                                    }
                                 ))
                                / sqrt (float h)
                                |> Some
                            else
                                None)

                    let top = scores |> Array.choose id |> Array.max
                    let e = scores |> Array.map (Option.map (fun x -> exp (x - top)) >> Option.defaultValue 0.0)
                    let total = Array.sum e

                    Array.init h (fun j ->
                        Seq.sum (seq { for k in 0 .. s - 1 -> e[k] / total * vp[((bb * s + k) * kvHeads + g) * h + j] })))

            for m in 0 .. dim - 1 do
                out[(bb * t + i) * dim + m] <-
                    float bo[m]
                    + Seq.sum (
                        seq {
                            for u in 0 .. qHeads - 1 do
                                for j in 0 .. h - 1 -> heads[u][j] * float wo[(u * h + j) * dim + m]
                        }
                    )

    f32 out

/// Gives every weight of the layer random values, so biases matter.
let private randomizeWeights (layer: Layer) =
    use _ = torch.no_grad ()

    for w in Layer.weights layer do
        w.Value.copy_ (torch.randn(w.Value.shape).mul (torch.tensor 0.5f)) |> ignore

[<Tests>]
let gqaTests =
    testList
        "Recurrent extensions: GroupQueryAttention"
        [
            test "Shapes, Keras's weight names, shapes and order, parameter count" {
                let layer = Layers.GroupQueryAttention(3, 4, 2)
                let out = Layer.callMany layer [ sym [ None; Some 5; Some 6 ]; sym [ None; Some 7; Some 6 ] ]
                Expect.equal (out |> List.map _.Shape) [ [ None; Some 5; Some 6 ] ] "output (batch, T, dim)"

                Expect.equal
                    (Layer.weights layer |> List.map (fun w -> w.Name, List.ofArray w.Value.shape))
                    [
                        "query/kernel", [ 6L; 4L; 3L ]
                        "query/bias", [ 4L; 3L ]
                        "key/kernel", [ 6L; 2L; 3L ]
                        "key/bias", [ 2L; 3L ]
                        "value/kernel", [ 6L; 2L; 3L ]
                        "value/bias", [ 2L; 3L ]
                        "attention_output/kernel", [ 4L; 3L; 6L ]
                        "attention_output/bias", [ 6L ]
                    ]
                    "weights"

                // Keras: query 6·4·3 + 12, key and value 6·2·3 + 6 each, output 4·3·6 + 6.
                Expect.equal (Layer.countParams layer) (84L + 42L + 42L + 78L) "params"
                Expect.equal layer.Name.[.. 22] "grouped_query_attention" "Keras's automatic name"

                let scores =
                    Layers.GroupQueryAttention(3, 4, 1, useBias = false, returnAttentionScores = true)

                let outs = Layer.callMany scores [ sym [ Some 2; Some 5; Some 6 ]; sym [ Some 2; Some 7; Some 6 ] ]

                Expect.equal (outs |> List.map _.Shape) [ [ Some 2; Some 5; Some 6 ]; [ Some 2; Some 4; Some 5; Some 7 ] ] "scores"
                Expect.equal (Layer.countParams scores) (72L + 18L + 18L + 72L) "params without biases"
            }

            test "Forward equals the plain loop, with and without a causal mask" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 11L |> ignore

                for causal in [ false; true ] do
                    let layer = Layers.GroupQueryAttention(2, 4, 2, useCausalMask = causal)
                    let q = torch.randn (2L, 3L, 5L)
                    let v = torch.randn (2L, 4L, 5L)
                    Layer.callEager layer false [ q; v ] |> ignore
                    randomizeWeights layer
                    let y = Layer.callEager layer false [ q; v ] |> List.exactlyOne
                    let ws = Layer.weights layer |> List.map (fun w -> values w.Value)
                    let allowed _ i k = not causal || k <= i
                    let expected = gqaReference 2 3 4 5 4 2 2 (values q) (values v) ws allowed
                    closeTo 1e-4f expected (values y) $"outputs (causal={causal})"
            }

            test "With as many key/value heads as query heads it is MultiHeadAttention" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 12L |> ignore
                let gqa = Layers.GroupQueryAttention(3, 2, 2)
                let mha = Layers.MultiHeadAttention(2, 3)
                let q = torch.randn (2L, 4L, 6L)
                let v = torch.randn (2L, 5L, 6L)
                let k = torch.randn (2L, 5L, 6L)
                Layer.callEager mha false [ q; v; k ] |> ignore
                Layer.callEager gqa false [ q; v; k ] |> ignore
                randomizeWeights mha
                Layer.setWeights gqa (Layer.getWeights mha)

                closeTo
                    1e-5f
                    (values (Layer.callEager mha false [ q; v; k ] |> List.head))
                    (values (Layer.callEager gqa false [ q; v; k ] |> List.head))
                    "same outputs"
            }

            test "Gradients of the query input and the query kernel match finite differences" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 13L |> ignore
                let layer = Layers.GroupQueryAttention(2, 2, 1)
                let q = torch.randn(1L, 2L, 3L, dtype = torch.ScalarType.Float64)
                let v = torch.randn (1L, 3L, 3L)
                Layer.callEager layer false [ q.to_type torch.ScalarType.Float32; v ] |> ignore
                randomizeWeights layer
                let r = torch.randn (1L, 2L, 3L)

                let loss (x: torch.Tensor) =
                    (Layer.callEager layer false [ x; v ] |> List.head).mul(r).sum ()

                let xg = q.to_type(torch.ScalarType.Float32).detach().requires_grad_ (true)
                (loss xg).backward ()
                let kernel = (Layer.weights layer).Head.Value
                let gradX = values xg.grad
                let gradK = values kernel.grad
                let eps = 1e-2f

                let qValues = values xg

                let expectedX =
                    Array.init qValues.Length (fun i ->
                        use _ = torch.no_grad ()
                        let at (delta: float32) =
                            let copy = Array.copy qValues
                            copy[i] <- copy[i] + delta
                            (loss (torch.tensor(copy).reshape (xg.shape))).ToDouble()

                        (at eps - at -eps) / (2.0 * float eps))

                let kValues = values kernel

                let expectedK =
                    Array.init kValues.Length (fun i ->
                        use _ = torch.no_grad ()

                        let at (delta: float32) =
                            let copy = Array.copy kValues
                            copy[i] <- copy[i] + delta
                            kernel.copy_ (torch.tensor(copy).reshape kernel.shape) |> ignore
                            (loss xg).ToDouble()

                        let g = (at eps - at -eps) / (2.0 * float eps)
                        kernel.copy_ (torch.tensor(kValues).reshape kernel.shape) |> ignore
                        g)

                for name, expected, actual in [ "input", expectedX, gradX; "query kernel", expectedK, gradK ] do
                    Array.iteri2
                        (fun i (e: float) (a: float32) ->
                            if abs (e - float a) > 2e-2 * max 1.0 (abs e) then
                                failtestf "%s gradient %d: autograd %g, finite differences %g" name i a e)
                        expected
                        actual
            }

            test "Config round trip: Keras's keys, rebuilt layer has the same config" {
                let layer =
                    Layers.GroupQueryAttention(4, 6, 3, dropout = 0.1, useBias = false, seed = 3, name = "gqa")

                let config = Layer.getConfig layer

                for key in
                    [
                        "head_dim"
                        "num_query_heads"
                        "num_key_value_heads"
                        "use_bias"
                        "dropout"
                        "kernel_initializer"
                        "bias_initializer"
                        "seed"
                    ] do
                    Expect.isTrue (config.ContainsKey key) key

                let serialized = LayerSerialization.serialize layer None
                Expect.equal (serialized["class_name"].GetValue<string>()) "GroupedQueryAttention" "class name"
                let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized
                Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"

                // Keras's exported name also reads.
                serialized["class_name"] <- JsonValue.Create "GroupQueryAttention"
                let again = LayerSerialization.deserialize CustomObjects.none serialized
                Expect.equal again.ClassName "GroupedQueryAttention" "GroupQueryAttention alias"
            }

            test "A model with GroupQueryAttention round-trips through a .keras file" {
                Utils.setRandomSeed 9
                let input = Keras.Input(shape = [ 5; 8 ])
                let attended = Layers.GroupQueryAttention(2, 4, 2).Call [ input; input ] |> List.exactlyOne
                let model = Keras.Model(input, attended --> Layers.Dense(3))
                Expect.equal (Model.countParams model) (72L + 2L * 36L + 72L + 27L) "params"
                let x = torch.randn (4L, 5L, 8L)

                inTempFolder "gqa" (fun folder ->
                    let path = Path.Combine(folder, "gqa.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    closeTo
                        1e-6f
                        (values (Model.predictMany model 8 [ x ] |> List.head))
                        (values (Model.predictMany loaded 8 [ x ] |> List.head))
                        "same predictions")
            }

            test "num_query_heads must be divisible by num_key_value_heads" {
                let _, message = kerasError (fun () -> Layers.GroupQueryAttention(2, 4, 3))
                Expect.stringContains message "divisible" "message"
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// RNN over cells, user cells, stateful
// ---------------------------------------------------------------------------------------------------------------

/// A user cell: h = tanh(x·kernel + h·recurrent_kernel), one state, no bias.
type private MinimalCell(units: int) =
    interface RNNLayers.IRecurrentCell with
        member _.ClassName = "MinimalRNNCell"
        member _.OutputSize = units
        member _.StateSizes = [ units ]

        member _.Build(inputDim) =
            [
                Constraint.trainableWeight "kernel" [ inputDim; units ] GlorotUniform None
                Constraint.trainableWeight "recurrent_kernel" [ units; units ] (Orthogonal 1.0) None
            ]

        member _.Step(weights, input, states) =
            let h = Ops.matmul input weights[0]
            let r = Ops.matmul states.Head weights[1]
            let output = h.add(r).tanh ()
            output, [ output ]

        member _.Config() =
            Config.ofList [ "units", Config.value units ]

/// A user cell reading the training flag: h = tanh(x·kernel + h·recurrent_kernel), doubled while training; every
/// flag it is called with is recorded.
type private TrainingFlagCell(units: int, seen: System.Collections.Concurrent.ConcurrentBag<bool>) =
    interface RNNLayers.IRecurrentCellWithTraining with
        member _.StepTraining(weights, input, states, training) =
            seen.Add training
            let h = (Ops.matmul input weights[0]).add(Ops.matmul states.Head weights[1]).tanh()
            let output = if training then h * 2.0f else h
            output, [ h ]

    interface RNNLayers.IRecurrentCell with
        member _.ClassName = "TrainingFlagCell"
        member _.OutputSize = units
        member _.StateSizes = [ units ]

        member _.Build(inputDim) =
            [
                Constraint.trainableWeight "kernel" [ inputDim; units ] GlorotUniform None
                Constraint.trainableWeight "recurrent_kernel" [ units; units ] (Orthogonal 1.0) None
            ]

        member _.Step(_, _, _) =
            failwith "RNN calls StepTraining on a cell that has it"

        member _.Config() =
            Config.ofList [ "units", Config.value units ]

[<Tests>]
let rnnTests =
    testList
        "Recurrent extensions: RNN"
        [
            test "RNN over LSTMCell, GRUCell and SimpleRNNCell equals LSTM, GRU and SimpleRNN with the same weights" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 31L |> ignore
                let x = torch.randn (2L, 4L, 5L)

                for layer, generic, paramCount in
                    [
                        Layers.LSTM(3, returnSequences = true), Layers.RNN(Layers.LSTMCell(3), returnSequences = true), 108L
                        Layers.GRU(3, returnSequences = true), Layers.RNN(Layers.GRUCell(3), returnSequences = true), 90L
                        Layers.SimpleRNN(3, returnSequences = true),
                        Layers.RNN(Layers.SimpleRNNCell(3), returnSequences = true),
                        27L
                    ] do
                    let expected = Layer.callEager layer false [ x ] |> List.head
                    Layer.callEager generic false [ x ] |> ignore
                    Expect.equal (Layer.countParams generic) paramCount $"{generic.Name} params"

                    Expect.equal
                        (Layer.weights generic |> List.map (fun w -> w.Name, w.Value.shape))
                        (Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape))
                        "the same weights"

                    Layer.setWeights generic (Layer.getWeights layer)
                    let actual = Layer.callEager generic false [ x ] |> List.head
                    Expect.equal actual.shape [| 2L; 4L; 3L |] "shape"
                    closeTo 1e-6f (values expected) (values actual) $"{layer.ClassName} outputs"
            }

            test "RNN's config nests the cell as Keras writes it and rebuilds" {
                let layer =
                    Layers.RNN(Layers.GRUCell(4, resetAfter = false), returnState = true, goBackwards = true, name = "rnn_gru")

                let config = Layer.getConfig layer
                let cell = config["cell"]
                Expect.equal (cell["class_name"].GetValue<string>()) "GRUCell" "cell class"
                let cellConfig = cell["config"]
                Expect.equal (cellConfig["units"].GetValue<int>()) 4 "units"
                Expect.isFalse (cellConfig["reset_after"].GetValue<bool>()) "reset_after"
                Expect.isFalse ((cellConfig.AsObject()).ContainsKey "activity_regularizer") "no activity regularizer on a cell"
                Expect.isTrue (config["go_backwards"].GetValue<bool>()) "go_backwards"
                Expect.isFalse ((config.AsObject()).ContainsKey "units") "the RNN has no units of its own"
                let serialized = LayerSerialization.serialize layer None
                Expect.equal (serialized["class_name"].GetValue<string>()) "RNN" "class"
                let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized
                Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"
                let outs = Layer.callMany rebuilt [ sym [ None; Some 6; Some 2 ] ]
                Expect.equal (outs |> List.map _.Shape) [ [ None; Some 4 ]; [ None; Some 4 ] ] "output and state"
            }

            test "A model with RNN(LSTMCell) round-trips through a .keras file (weights under the cell)" {
                Utils.setRandomSeed 33
                let input = Keras.Input(shape = [ 4; 3 ])
                let output = input --> Layers.RNN(Layers.LSTMCell(5)) --> Layers.Dense(2)
                let model = Keras.Model(input, output)
                Expect.equal (Model.countParams model) (4L * 5L * (3L + 5L + 1L) + 12L) "params"
                let x = torch.randn (3L, 4L, 3L)

                inTempFolder "rnn" (fun folder ->
                    let path = Path.Combine(folder, "rnn.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    expectSameAfterLoad model loaded x)
            }

            test "A user cell driven by RNN equals SimpleRNN without bias" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 34L |> ignore
                let x = torch.randn (2L, 5L, 3L)
                let generic = Layers.RNN(RNNLayers.customCell (MinimalCell 4) None, returnSequences = true)
                let reference = Layers.SimpleRNN(4, useBias = false, returnSequences = true)
                let expected = Layer.callEager reference false [ x ] |> List.head
                Layer.callEager generic false [ x ] |> ignore
                Layer.setWeights generic (Layer.getWeights reference)
                closeTo 1e-6f (values expected) (values (Layer.callEager generic false [ x ] |> List.head)) "outputs"
                let config = Layer.getConfig generic
                let cellNode = config["cell"]
                let cellClass = cellNode["class_name"].GetValue<string>()
                Expect.equal cellClass "MinimalRNNCell" "cell class"
            }

            test "A user cell with StepTraining sees training=true in fit and false in predict" {
                Utils.setRandomSeed 36
                let seen = System.Collections.Concurrent.ConcurrentBag<bool>()
                let cell = RNNLayers.customCell (TrainingFlagCell(3, seen)) None
                let input = Keras.Input(shape = [ 4; 2 ])
                let model = Keras.Model(input, input --> Layers.RNN(cell))
                let x = torch.randn (6L, 4L, 2L)
                let predicted = model.Predict x
                Expect.equal (Set.ofSeq seen) (Set.ofList [ false ]) "predict: training=false"
                // Without training, the output is the last state: the plain recurrence.
                let kernel, recurrent = (Layer.getWeights cell)[0], (Layer.getWeights cell)[1]
                let mutable h = torch.zeros (6L, 3L)

                for t in 0L .. 3L do
                    h <- (torch.matmul (x.select (1L, t), kernel) + torch.matmul (h, recurrent)).tanh()

                closeTo 1e-5f (values h) (values predicted) "the plain recurrence"
                seen.Clear()
                let compiled = model.Compile(optimizer = "sgd", loss = "mse")

                compiled.Fit(x, torch.zeros (6L, 3L), epochs = 1, batchSize = 6, verbose = 0)
                |> ignore

                Expect.isTrue (Seq.contains true seen) "fit: training=true"
            }

            test "stateful=true carries the states between predict calls until reset_states" {
                Utils.setRandomSeed 35
                let input = Keras.Input(batchShape = [ 2; 3; 4 ])
                let layer = Layers.LSTM(3, stateful = true)
                let model = Keras.Model(input, input --> layer)
                let layerConfig = Layer.getConfig layer
                let statefulFlag = layerConfig["stateful"].GetValue<bool>()
                Expect.isTrue statefulFlag "config"
                let x = torch.randn (2L, 6L, 4L)
                let first = x.narrow (1L, 0L, 3L)
                let second = x.narrow (1L, 3L, 3L)
                let reference = Layers.LSTM(3)
                Layer.callEager reference false [ x ] |> ignore
                Layer.setWeights reference (Layer.getWeights layer)
                let p1 = Model.predictMany model 2 [ first ] |> List.head
                let p2 = Model.predictMany model 2 [ second ] |> List.head

                closeTo
                    1e-6f
                    (values (Layer.callEager reference false [ first ] |> List.head))
                    (values p1)
                    "first call from zeros"

                closeTo
                    1e-5f
                    (values (Layer.callEager reference false [ x ] |> List.head))
                    (values p2)
                    "second call continues the first"

                layer.ResetStates()
                closeTo 1e-6f (values p1) (values (Model.predictMany model 2 [ first ] |> List.head)) "after reset"

                let _, message =
                    kerasError (fun () -> Layer.call (Layers.GRU(2, stateful = true)) (sym [ None; Some 3; Some 4 ]))

                Expect.stringContains message "batch size must be static" "dynamic batch size refused"
            }
        ]
