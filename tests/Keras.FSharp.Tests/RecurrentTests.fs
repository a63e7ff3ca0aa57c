/// Recurrent layers and wrappers: shapes and parameter counts, values against hand formulas and plain-loop
/// references, masking, go_backwards, states, Bidirectional, TimeDistributed, ConvLSTM2D, gradients and errors.
module RecurrentTests

open Expecto
open TorchSharp
open Keras
open Keras.RecurrentLayers
open Keras.ConvLSTMLayers
open Keras.RecurrentWrappers
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private eagerAll layer (xs: torch.Tensor list) = Layer.callEager layer false xs
let private eager layer (x: torch.Tensor) = eagerAll layer [ x ] |> List.exactlyOne

let private seq3 (b: int64) (t: int64) (f: int64) (data: float32[]) =
    Native.NativeLoader.ensureLoaded ()
    torch.tensor(data).reshape(b, t, f)

let private vec (data: float32 list) = torch.tensor (Array.ofList data)

let private simple units (change: SimpleRNNConfig -> SimpleRNNConfig) =
    simpleRNN (change (SimpleRNNConfig.Default units)) None

let private lstmWith units (change: LSTMConfig -> LSTMConfig) =
    lstm (change (LSTMConfig.Default units)) None

let private gruWith units (change: GRUConfig -> GRUConfig) =
    gru (change (GRUConfig.Default units)) None

/// Builds the layer on (None, time, features) and sets its weights.
let private withWeights (layer: Layer) (shape: Shape) (weights: torch.Tensor list) =
    Layer.callMany layer [ sym shape ] |> ignore
    Layer.setWeights layer weights
    layer

let private sigmoid (v: float) = 1.0 / (1.0 + exp -v)

// ----- plain-loop references on float arrays (double precision), one sample at a time -----

let private matrix (t: torch.Tensor) =
    let v = values t
    let cols = int t.shape[1]
    Array2D.init (int t.shape[0]) cols (fun i j -> float v[i * cols + j])

let private vector (t: torch.Tensor) = values t |> Array.map float

/// x·W for one sample.
let private matVec (x: float[]) (w: float[,]) =
    Array.init (Array2D.length2 w) (fun j -> Seq.sum (seq { for i in 0 .. x.Length - 1 -> x[i] * w[i, j] }))

/// x·W + h·U + b for one sample.
let private affine (x: float[]) (w: float[,]) (h: float[]) (u: float[,]) (b: float[]) =
    Array.map3 (fun a c d -> a + c + d) (matVec x w) (matVec h u) b

/// Keras's LSTM on one sequence; returns (h, c) after each step.
let private referenceLstm (k: float[,]) (u: float[,]) (b: float[]) (xs: float[] list) (h0: float[]) (c0: float[]) =
    let n = b.Length / 4

    (((h0, c0), []), xs)
    ||> List.fold (fun ((h, c), acc) x ->
        let z = affine x k h u b

        let c' =
            Array.init n (fun j -> sigmoid z[n + j] * c[j] + sigmoid z[j] * tanh z[2 * n + j])

        let h' = Array.init n (fun j -> sigmoid z[3 * n + j] * tanh c'[j])
        (h', c'), acc @ [ h', c' ])
    |> snd

/// Keras's GRU with reset_after on one sequence: bias rows are the input and recurrent biases.
let private referenceGru
    (k: float[,])
    (u: float[,])
    (inputBias: float[])
    (recurrentBias: float[])
    (xs: float[] list)
    (h0: float[])
    =
    let n = inputBias.Length / 3

    ((h0, []), xs)
    ||> List.fold (fun (h, acc) x ->
        let xp = Array.map2 (+) (matVec x k) inputBias
        let inner = Array.map2 (+) (matVec h u) recurrentBias

        let h' =
            Array.init n (fun j ->
                let z = sigmoid (xp[j] + inner[j])
                let r = sigmoid (xp[n + j] + inner[n + j])
                let candidate = tanh (xp[2 * n + j] + r * inner[2 * n + j])
                z * h[j] + (1.0 - z) * candidate)

        h', acc @ [ h' ])
    |> snd

let private sample (x: torch.Tensor) (b: int) =
    let t = int x.shape[1]
    let f = int x.shape[2]
    let v = values x
    [ for s in 0 .. t - 1 -> Array.init f (fun i -> float v[(b * t + s) * f + i]) ]

let private f32 (xs: float seq) = xs |> Seq.map float32 |> Array.ofSeq

/// Central finite differences of a scalar function of a flat float array.
let private finiteDifferences (eps: float32) (f: float32[] -> float) (at: float32[]) =
    Array.init at.Length (fun i ->
        let plus = Array.copy at
        let minus = Array.copy at
        plus[i] <- plus[i] + eps
        minus[i] <- minus[i] - eps
        (f plus - f minus) / (2.0 * float eps))

let private gradientsClose (expected: float[]) (actual: float32[]) message =
    Expect.equal actual.Length expected.Length $"{message}: length"

    Array.iteri2
        (fun i (e: float) (a: float32) ->
            if abs (e - float a) > 1e-2 * max 1.0 (abs e) then
                failtestf "%s: element %d is %g, finite differences give %g" message i a e)
        expected
        actual

/// Autograd gradients of sum(output · r) with respect to the input and the kernel, against finite differences.
let private gradientCheck (layer: Layer) (x: torch.Tensor) =
    torch.manual_seed 7L |> ignore
    let r = torch.randn ((eager layer x).shape)
    let loss (input: torch.Tensor) = (eager layer input).mul(r).sum()

    let xg = x.detach().clone().requires_grad_(true)
    let kernel = (Layer.weights layer).Head.Value
    loss(xg).backward()
    let gradX = values xg.grad
    let gradK = values kernel.grad

    let lossAt (input: torch.Tensor) =
        use _ = torch.no_grad ()
        (loss input).ToDouble()

    let xShape = x.shape

    let fdX =
        finiteDifferences 1e-2f (fun v -> lossAt (torch.tensor(v).reshape xShape)) (values x)

    gradientsClose fdX gradX "d loss / d input"

    let original = Layer.getWeights layer
    let kShape = original.Head.shape

    let withKernel (v: float32[]) =
        Layer.setWeights layer (torch.tensor(v).reshape kShape :: original.Tail)
        lossAt x

    let fdK = finiteDifferences 1e-2f withKernel (values original.Head)
    Layer.setWeights layer original
    gradientsClose fdK gradK "d loss / d kernel"

/// A naive "same" 2-D correlation of one channels-last image (rows, cols, ch) with a (kh, kw, ch, out) kernel.
let private naiveSameConv (img: float[,,]) (k: float[,,,]) =
    let rows, cols, ch = Array3D.length1 img, Array3D.length2 img, Array3D.length3 img
    let kh, kw, outs = Array4D.length1 k, Array4D.length2 k, Array4D.length4 k
    let top, left = (kh - 1) / 2, (kw - 1) / 2

    Array3D.init rows cols outs (fun r c o ->
        Seq.sum (
            seq {
                for i in 0 .. kh - 1 do
                    for j in 0 .. kw - 1 do
                        for q in 0 .. ch - 1 do
                            let rr, cc = r + i - top, c + j - left

                            if rr >= 0 && rr < rows && cc >= 0 && cc < cols then
                                yield img[rr, cc, q] * k[i, j, q, o]
            }
        ))

[<Tests>]
let tests =
    testList
        "Recurrent"
        [
            testList
                "run_layer_test"
                [
                    test "SimpleRNN(4) on (None, 3, 2)" {
                        let layer = simple 4 id
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 4 ] 3
                        Expect.equal (Layer.countParams layer) 28L "2·4 + 4·4 + 4"
                    }
                    test "SimpleRNN with return_sequences" {
                        runLayerTest
                            (simple 4 (fun c -> { c with ReturnSequences = true }))
                            [ [ None; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 4 ]
                            3
                    }
                    test "LSTM(4) on (None, 3, 2) has 112 parameters" {
                        let layer = lstmWith 4 id
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 4 ] 3
                        Expect.equal (Layer.countParams layer) 112L "4·(2·4 + 4·4 + 4)"
                        let shapes = Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape)

                        Expect.equal
                            shapes
                            [
                                "kernel", [| 2L; 16L |]
                                "recurrent_kernel", [| 4L; 16L |]
                                "bias", [| 16L |]
                            ]
                            "Keras's layout"
                    }
                    test "LSTM with return_sequences" {
                        runLayerTest
                            (lstmWith 4 (fun c -> { c with ReturnSequences = true }))
                            [ [ None; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 4 ]
                            3
                    }
                    test "LSTM without bias" {
                        let layer = lstmWith 4 (fun c -> { c with UseBias = false })
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 4 ] 2
                        Expect.equal (Layer.countParams layer) 96L "4·(2·4 + 4·4)"
                    }
                    test "LSTM on sequences of unknown length" {
                        runLayerTest (lstmWith 3 id) [ [ None; None; Some 5 ] ] [ None; Some 3 ] 3
                    }
                    test "GRU(4) with reset_after on input 2 has 96 parameters" {
                        let layer = gruWith 4 id
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 4 ] 3
                        Expect.equal (Layer.countParams layer) 96L "3·4·(2 + 4) + 2·3·4"
                        let shapes = Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape)

                        Expect.equal
                            shapes
                            [
                                "kernel", [| 2L; 12L |]
                                "recurrent_kernel", [| 4L; 12L |]
                                "bias", [| 2L; 12L |]
                            ]
                            "Keras's layout"
                    }
                    test "GRU without reset_after has one bias row" {
                        let layer =
                            gruWith 4 (fun c ->
                                { c with
                                    ResetAfter = false
                                    ReturnSequences = true
                                })

                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 3; Some 4 ] 3
                        Expect.equal (Layer.countParams layer) 84L "3·4·(2 + 4) + 3·4"
                    }
                    test "LSTM with return_state returns [output; h; c]" {
                        let layer =
                            lstmWith 4 (fun c ->
                                { c with
                                    ReturnState = true
                                    ReturnSequences = true
                                })

                        let outs = Layer.callMany layer [ sym [ None; Some 3; Some 2 ] ]

                        Expect.equal
                            (outs |> List.map _.Shape)
                            [ [ None; Some 3; Some 4 ]; [ None; Some 4 ]; [ None; Some 4 ] ]
                            "symbolic"

                        let eagerOuts = eagerAll layer [ torch.randn (5L, 3L, 2L) ]

                        Expect.equal
                            (eagerOuts |> List.map _.shape)
                            [ [| 5L; 3L; 4L |]; [| 5L; 4L |]; [| 5L; 4L |] ]
                            "eager"
                    }
                    test "GRU and SimpleRNN with return_state return [output; h]" {
                        for layer in
                            [
                                gruWith 3 (fun c -> { c with ReturnState = true })
                                simple 3 (fun c -> { c with ReturnState = true })
                            ] do
                            let outs = Layer.callMany layer [ sym [ None; Some 4; Some 2 ] ]

                            Expect.equal
                                (outs |> List.map _.Shape)
                                [ [ None; Some 3 ]; [ None; Some 3 ] ]
                                $"{layer.ClassName}"
                    }
                    test "Bidirectional(LSTM(4)) concatenates to 8 with twice the parameters" {
                        let layer = bidirectional (lstmWith 4 id) (Some "concat") None
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 8 ] 6
                        Expect.equal (Layer.countParams layer) 224L "2·112"
                    }
                    test "Bidirectional with return_sequences and sum" {
                        let inner = gruWith 4 (fun c -> { c with ReturnSequences = true })

                        runLayerTest
                            (bidirectional inner (Some "sum") None)
                            [ [ None; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 4 ]
                            6
                    }
                    test "Bidirectional without merge mode returns both outputs, and states with return_state" {
                        let layer =
                            bidirectional (lstmWith 2 (fun c -> { c with ReturnState = true })) None None

                        let outs = Layer.callMany layer [ sym [ None; Some 3; Some 5 ] ]

                        Expect.equal
                            (outs |> List.map _.Shape)
                            (List.replicate 6 [ None; Some 2 ])
                            "[fwd; bwd; h_f; c_f; h_b; c_b]"

                        Expect.equal (eagerAll layer [ torch.randn (4L, 3L, 5L) ]).Length 6 "eager"
                    }
                    test "TimeDistributed(Dense(5)) on (None, 3, 2)" {
                        let layer = RecurrentWrappers.timeDistributed (Layers.Dense(5)) None
                        runLayerTest layer [ [ None; Some 3; Some 2 ] ] [ None; Some 3; Some 5 ] 2
                        Expect.equal (Layer.countParams layer) 15L "the inner Dense's 2·5 + 5"
                    }
                    test "TimeDistributed(LSTM) runs an LSTM per outer timestep" {
                        runLayerTest
                            (timeDistributed (lstmWith 3 id) None)
                            [ [ None; Some 2; Some 5; Some 4 ] ]
                            [ None; Some 2; Some 3 ]
                            3
                    }
                    test "ConvLSTM2D(2, 3x3) valid on (None, 4, 5, 5, 3)" {
                        let layer = convLSTM2D (ConvLSTM2DConfig.Default(2, (3, 3))) None

                        runLayerTest
                            layer
                            [ [ None; Some 4; Some 5; Some 5; Some 3 ] ]
                            [ None; Some 3; Some 3; Some 2 ]
                            3

                        Expect.equal (Layer.countParams layer) 368L "3·3·3·8 + 3·3·2·8 + 8"
                        let shapes = Layer.weights layer |> List.map (fun w -> w.Value.shape)

                        Expect.equal
                            shapes
                            [ [| 3L; 3L; 3L; 8L |]; [| 3L; 3L; 2L; 8L |]; [| 8L |] ]
                            "(kh, kw, in, 4f), (kh, kw, f, 4f), (4f)"
                    }
                    test "ConvLSTM2D same padding with return_sequences" {
                        let layer =
                            convLSTM2D
                                { ConvLSTM2DConfig.Default(2, (3, 3)) with
                                    Padding = "same"
                                    ReturnSequences = true
                                }
                                None

                        runLayerTest
                            layer
                            [ [ None; Some 4; Some 5; Some 5; Some 3 ] ]
                            [ None; Some 4; Some 5; Some 5; Some 2 ]
                            3
                    }
                    test "ConvLSTM2D with strides 2 and same padding" {
                        let layer =
                            convLSTM2D
                                { ConvLSTM2DConfig.Default(3, (3, 3)) with
                                    Padding = "same"
                                    Strides = (2, 2)
                                }
                                None

                        runLayerTest
                            layer
                            [ [ None; Some 2; Some 5; Some 6; Some 1 ] ]
                            [ None; Some 3; Some 3; Some 3 ]
                            3
                    }
                ]

            testList
                "initial weights and config"
                [
                    test "LSTM starts with a forget-gate bias of 1 and an orthogonal recurrent kernel" {
                        let layer = lstmWith 3 id
                        Layer.call layer (sym [ None; Some 2; Some 5 ]) |> ignore
                        let ws = Layer.getWeights layer

                        closeTo
                            0.f
                            [| 0.f; 0.f; 0.f; 1.f; 1.f; 1.f; 0.f; 0.f; 0.f; 0.f; 0.f; 0.f |]
                            (values ws[2])
                            "[zeros; ones; zeros; zeros]"

                        let u = ws[1]
                        // (3, 12): the rows are orthonormal.
                        closeTo 1e-5f (values (torch.eye 3L)) (values (torch.matmul (u, u.t ()))) "U·Uᵀ = I"
                    }

                    test "unit_forget_bias=false keeps the bias initializer" {
                        let layer = lstmWith 2 (fun c -> { c with UnitForgetBias = false })
                        Layer.call layer (sym [ None; Some 2; Some 5 ]) |> ignore
                        let ws = Layer.getWeights layer
                        closeTo 0.f (Array.zeroCreate 8) (values ws[2]) "zeros"
                    }

                    test "LSTM config has Keras's keys and defaults" {
                        let config =
                            Layer.getConfig (lstmWith 4 (fun c -> { c with ReturnSequences = true }))

                        Expect.equal (config["units"].GetValue<int>()) 4 "units"
                        Expect.equal (config["activation"].GetValue<string>()) "tanh" "activation"

                        Expect.equal
                            (config["recurrent_activation"].GetValue<string>())
                            "sigmoid"
                            "recurrent_activation"

                        let initializer = config["recurrent_initializer"]
                        Expect.equal (initializer["class_name"].GetValue<string>()) "OrthogonalInitializer" "recurrent_initializer (Keras 3.1.1's name)"
                        Expect.isTrue (config["unit_forget_bias"].GetValue<bool>()) "unit_forget_bias"
                        Expect.isTrue (config["return_sequences"].GetValue<bool>()) "return_sequences"
                        Expect.isFalse (config["go_backwards"].GetValue<bool>()) "go_backwards"
                    }

                    test "Bidirectional names its layers forward_/backward_ and holds both" {
                        let layer =
                            bidirectional (lstm (LSTMConfig.Default 2) (Some "encoder")) (Some "concat") None

                        let subs = layer.Spec.SubLayers() |> List.map _.Name
                        Expect.equal subs [ "forward_encoder"; "backward_encoder" ] "Keras's names"
                        let config = Layer.getConfig layer
                        Expect.equal (config["merge_mode"].GetValue<string>()) "concat" "merge_mode"
                        let backwardConfig = config["backward_layer"]["config"]

                        Expect.isTrue
                            (backwardConfig["go_backwards"].GetValue<bool>())
                            "the backward copy goes backwards"
                    }
                ]

            testList
                "values"
                [
                    test "SimpleRNN one and two steps by hand" {
                        // units 1, input 1: kernel 0.5, recurrent -1, bias 0.1
                        let layer =
                            withWeights
                                (simple 1 (fun c -> { c with ReturnSequences = true }))
                                [ None; Some 2; Some 1 ]
                                [ tensor2 [ [ 0.5f ] ]; tensor2 [ [ -1.f ] ]; vec [ 0.1f ] ]

                        let h1 = tanh (0.5 * 1.0 + 0.1)
                        let h2 = tanh (0.5 * 2.0 - 1.0 * h1 + 0.1)
                        closeTo 1e-6f (f32 [ h1; h2 ]) (values (eager layer (seq3 1L 2L 1L [| 1.f; 2.f |]))) "[h1, h2]"
                    }

                    test "LSTM one and two steps by hand, with return_state" {
                        // units 1, input 1; gate order i, f, c, o
                        let wi, wf, wc, wo = 0.5, -0.3, 0.8, 0.2
                        let ui, uf, uc, uo = 0.1, 0.2, -0.4, 0.3
                        let bi, bf, bc, bo = 0.0, 1.0, 0.1, -0.1

                        let layer =
                            withWeights
                                (lstmWith 1 (fun c ->
                                    { c with
                                        ReturnSequences = true
                                        ReturnState = true
                                    }))
                                [ None; Some 2; Some 1 ]
                                [
                                    tensor2 [ f32 [ wi; wf; wc; wo ] |> List.ofArray ]
                                    tensor2 [ f32 [ ui; uf; uc; uo ] |> List.ofArray ]
                                    torch.tensor (f32 [ bi; bf; bc; bo ])
                                ]

                        let step (h, c) x =
                            let i = sigmoid (x * wi + h * ui + bi)
                            let f = sigmoid (x * wf + h * uf + bf)
                            let g = tanh (x * wc + h * uc + bc)
                            let o = sigmoid (x * wo + h * uo + bo)
                            let c = f * c + i * g
                            o * tanh c, c

                        let h1, c1 = step (0.0, 0.0) 1.0
                        let h2, c2 = step (h1, c1) -0.5

                        match eagerAll layer [ seq3 1L 2L 1L [| 1.f; -0.5f |] ] with
                        | [ output; h; c ] ->
                            closeTo 1e-6f (f32 [ h1; h2 ]) (values output) "outputs [h1, h2]"
                            closeTo 1e-6f (f32 [ h2 ]) (values h) "final h"
                            closeTo 1e-6f (f32 [ c2 ]) (values c) "final c"
                        | other -> failtestf "expected three outputs, got %d" other.Length
                    }

                    test "GRU (reset_after) one and two steps by hand" {
                        let kz, kr, kh = 0.4, -0.6, 0.9
                        let uz, ur, uh = 0.3, 0.5, -0.7
                        let bz, br, bh = 0.1, -0.2, 0.05
                        let rz, rr, rh = -0.1, 0.3, 0.2

                        let layer =
                            withWeights
                                (gruWith 1 (fun c -> { c with ReturnSequences = true }))
                                [ None; Some 2; Some 1 ]
                                [
                                    tensor2 [ f32 [ kz; kr; kh ] |> List.ofArray ]
                                    tensor2 [ f32 [ uz; ur; uh ] |> List.ofArray ]
                                    tensor2 [ f32 [ bz; br; bh ] |> List.ofArray; f32 [ rz; rr; rh ] |> List.ofArray ]
                                ]

                        let step h x =
                            let z = sigmoid (x * kz + bz + h * uz + rz)
                            let r = sigmoid (x * kr + br + h * ur + rr)
                            let candidate = tanh (x * kh + bh + r * (h * uh + rh))
                            z * h + (1.0 - z) * candidate

                        let h1 = step 0.0 0.7
                        let h2 = step h1 -1.2

                        closeTo
                            1e-6f
                            (f32 [ h1; h2 ])
                            (values (eager layer (seq3 1L 2L 1L [| 0.7f; -1.2f |])))
                            "[h1, h2]"
                    }

                    test "GRU without reset_after applies the reset gate before the product" {
                        let kz, kr, kh = 0.4, -0.6, 0.9
                        let uz, ur, uh = 0.3, 0.5, -0.7
                        let bz, br, bh = 0.1, -0.2, 0.05

                        let layer =
                            withWeights
                                (gruWith 1 (fun c ->
                                    { c with
                                        ResetAfter = false
                                        ReturnSequences = true
                                    }))
                                [ None; Some 2; Some 1 ]
                                [
                                    tensor2 [ f32 [ kz; kr; kh ] |> List.ofArray ]
                                    tensor2 [ f32 [ uz; ur; uh ] |> List.ofArray ]
                                    torch.tensor (f32 [ bz; br; bh ])
                                ]

                        let step h x =
                            let z = sigmoid (x * kz + bz + h * uz)
                            let r = sigmoid (x * kr + br + h * ur)
                            let candidate = tanh (x * kh + bh + (r * h) * uh)
                            z * h + (1.0 - z) * candidate

                        let h1 = step 0.0 0.7
                        let h2 = step h1 -1.2

                        closeTo
                            1e-6f
                            (f32 [ h1; h2 ])
                            (values (eager layer (seq3 1L 2L 1L [| 0.7f; -1.2f |])))
                            "[h1, h2]"
                    }

                    test "LSTM with 2 units and 3 features equals a plain-loop reference" {
                        torch.manual_seed 11L |> ignore
                        let layer = lstmWith 2 (fun c -> { c with ReturnSequences = true })
                        Layer.call layer (sym [ None; Some 4; Some 3 ]) |> ignore
                        let ws = Layer.getWeights layer
                        Layer.setWeights layer [ ws[0]; ws[1]; torch.randn([| 8L |]).mul(torch.tensor 0.5f) ]
                        let ws = Layer.getWeights layer
                        let x = torch.randn (2L, 4L, 3L)
                        let y = eager layer x

                        let expected =
                            [|
                                for b in 0..1 do
                                    for h, _ in
                                        referenceLstm
                                            (matrix ws[0])
                                            (matrix ws[1])
                                            (vector ws[2])
                                            (sample x b)
                                            [| 0.0; 0.0 |]
                                            [| 0.0; 0.0 |] do
                                        yield! f32 h
                            |]

                        closeTo 1e-5f expected (values y) "outputs"
                    }

                    test "GRU with 2 units and 3 features equals a plain-loop reference" {
                        torch.manual_seed 12L |> ignore
                        let layer = gruWith 2 (fun c -> { c with ReturnSequences = true })
                        Layer.call layer (sym [ None; Some 4; Some 3 ]) |> ignore
                        let ws = Layer.getWeights layer
                        Layer.setWeights layer [ ws[0]; ws[1]; torch.randn([| 2L; 6L |]).mul(torch.tensor 0.5f) ]
                        let ws = Layer.getWeights layer
                        let x = torch.randn (2L, 4L, 3L)
                        let y = eager layer x
                        let bias = ws[2]

                        let expected =
                            [|
                                for b in 0..1 do
                                    for h in
                                        referenceGru
                                            (matrix ws[0])
                                            (matrix ws[1])
                                            (vector bias[0])
                                            (vector bias[1])
                                            (sample x b)
                                            [| 0.0; 0.0 |] do
                                        yield! f32 h
                            |]

                        closeTo 1e-5f expected (values y) "outputs"
                    }

                    test "Initial states given as extra inputs start the recurrence" {
                        torch.manual_seed 13L |> ignore
                        let layer = lstmWith 2 id
                        Layer.call layer (sym [ None; Some 3; Some 2 ]) |> ignore
                        let ws = Layer.getWeights layer
                        let x = torch.randn (1L, 3L, 2L)
                        let h0 = tensor2 [ [ 0.5f; -0.25f ] ]
                        let c0 = tensor2 [ [ -1.f; 2.f ] ]
                        let y = eagerAll layer [ x; h0; c0 ] |> List.exactlyOne

                        let steps =
                            referenceLstm
                                (matrix ws[0])
                                (matrix ws[1])
                                (vector ws[2])
                                (sample x 0)
                                (vector h0.[0])
                                (vector c0.[0])

                        closeTo 1e-5f (f32 (fst (List.last steps))) (values y) "last h from (h0, c0)"

                        let symbolic =
                            Layer.callMany
                                layer
                                [ sym [ None; Some 3; Some 2 ]; sym [ None; Some 2 ]; sym [ None; Some 2 ] ]

                        Expect.equal (symbolic |> List.map _.Shape) [ [ None; Some 2 ] ] "symbolic call with states"
                    }

                    test "go_backwards processes the reversed sequence and returns outputs in processing order" {
                        torch.manual_seed 14L |> ignore
                        let forward = lstmWith 3 (fun c -> { c with ReturnSequences = true })

                        let backward =
                            lstmWith 3 (fun c ->
                                { c with
                                    ReturnSequences = true
                                    GoBackwards = true
                                })

                        Layer.call forward (sym [ None; Some 5; Some 2 ]) |> ignore
                        Layer.call backward (sym [ None; Some 5; Some 2 ]) |> ignore
                        Layer.setWeights backward (Layer.getWeights forward)
                        let x = torch.randn (2L, 5L, 2L)

                        closeTo
                            1e-6f
                            (values (eager forward (x.flip [| 1L |])))
                            (values (eager backward x))
                            "backward(x) = forward(reverse x)"

                        let lastOnly = lstmWith 3 (fun c -> { c with GoBackwards = true })
                        Layer.call lastOnly (sym [ None; Some 5; Some 2 ]) |> ignore
                        Layer.setWeights lastOnly (Layer.getWeights forward)

                        closeTo
                            1e-6f
                            (values ((eager forward (x.flip [| 1L |])).select(1L, 4L)))
                            (values (eager lastOnly x))
                            "last output is after x[0]"
                    }

                    test "SimpleRNN dropout uses one mask per sequence in training only" {
                        // identity kernel, no recurrence, linear: each output is the masked input.
                        let layer =
                            withWeights
                                (simple 3 (fun c ->
                                    { c with
                                        Dropout = 0.5
                                        Activation = Linear
                                        ReturnSequences = true
                                    }))
                                [ None; Some 5; Some 3 ]
                                [ torch.eye 3L; torch.zeros (3L, 3L); torch.zeros 3L ]

                        let x = torch.ones (64L, 5L, 3L)
                        closeTo 0.f (values x) (values (eager layer x)) "inference leaves inputs alone"
                        let y = Layer.callEager layer true [ x ] |> List.exactlyOne
                        Expect.all (values y) (fun v -> v = 0.f || v = 2.f) "dropped or scaled by 1/(1 - 0.5)"

                        closeTo
                            0.f
                            (values (y.select(1L, 0L).unsqueeze(1L).expand(64L, 5L, 3L)))
                            (values y)
                            "same mask at every timestep"

                        let kept =
                            values (y.select (1L, 0L)) |> Array.filter (fun v -> v > 0.f) |> Array.length

                        Expect.isTrue (kept > 60 && kept < 132) $"about half of 192 kept (got {kept})"
                    }

                    test "SimpleRNN recurrent dropout reuses one mask on the state at every step" {
                        // no input path, identity recurrence, linear, initial state ones: h_t = h_(t-1)·m, so h_t = m^t.
                        let layer =
                            withWeights
                                (simple 3 (fun c ->
                                    { c with
                                        RecurrentDropout = 0.5
                                        Activation = Linear
                                        ReturnSequences = true
                                    }))
                                [ None; Some 3; Some 2 ]
                                [ torch.zeros (2L, 3L); torch.eye 3L; torch.zeros 3L ]

                        let y =
                            Layer.callEager layer true [ torch.ones (32L, 3L, 2L); torch.ones (32L, 3L) ]
                            |> List.exactlyOne

                        let first = values (y.select (1L, 0L))
                        Expect.all first (fun v -> v = 0.f || v = 2.f) "step 1: m"

                        for t in 1L .. 2L do
                            let expected =
                                first |> Array.map (fun v -> if v = 0.f then 0.f else pown 2.f (int t + 1))

                            closeTo 0.f expected (values (y.select (1L, t))) $"step {t + 1L}: m^{t + 1L}, the same mask"
                    }

                    test "LSTM and GRU dropout and recurrent dropout (per-gate masks) apply in training only" {
                        torch.manual_seed 24L |> ignore
                        let x = torch.randn (4L, 5L, 3L)

                        let layers =
                            [
                                lstmWith 4 (fun c ->
                                    { c with
                                        Dropout = 0.3
                                        RecurrentDropout = 0.3
                                    })
                                lstmWith 4 (fun c -> { c with Dropout = 0.3 })
                                gruWith 4 (fun c ->
                                    { c with
                                        Dropout = 0.3
                                        RecurrentDropout = 0.3
                                    })
                                gruWith 4 (fun c ->
                                    { c with
                                        Dropout = 0.3
                                        RecurrentDropout = 0.3
                                        ResetAfter = false
                                    })
                            ]

                        for layer in layers do
                            let inference = values (eager layer x)
                            closeTo 0.f inference (values (eager layer x)) $"{layer.Name}: inference is deterministic"
                            let trained = Layer.callEager layer true [ x ] |> List.exactlyOne
                            Expect.equal trained.shape [| 4L; 4L |] $"{layer.Name}: shape"

                            Expect.isTrue
                                (Array.exists2 (fun a b -> abs (a - b) > 1e-4f) inference (values trained))
                                $"{layer.Name}: training drops"
                    }

                    test "A seed makes the dropout masks reproducible" {
                        let make () =
                            simple 3 (fun c ->
                                { c with
                                    Dropout = 0.5
                                    RecurrentDropout = 0.5
                                    Seed = Some 5
                                })

                        let a, b = make (), make ()
                        Layer.call a (sym [ None; Some 4; Some 3 ]) |> ignore
                        Layer.call b (sym [ None; Some 4; Some 3 ]) |> ignore
                        Layer.setWeights b (Layer.getWeights a)
                        let x = torch.ones (8L, 4L, 3L)
                        let ya = Layer.callEager a true [ x ] |> List.exactlyOne
                        let yb = Layer.callEager b true [ x ] |> List.exactlyOne
                        closeTo 0.f (values ya) (values yb) "same seed, same masks"
                    }
                ]

            testList
                "masking"
                [
                    test "LSTM skips masked steps: a padded sequence gives the unpadded result" {
                        torch.manual_seed 21L |> ignore
                        let layer = lstmWith 3 id
                        let padded = Keras.Input(shape = [ 5; 2 ])

                        let paddedModel =
                            Keras.Model(padded, Layer.call layer (Layer.call (EmbeddingLayers.masking 0.0 None) padded))

                        let short = Keras.Input(shape = [ 2; 2 ])
                        let shortModel = Keras.Model(short, Layer.call layer short)
                        let a, b = [| 0.5f; -1.f |], [| 2.f; 0.25f |]
                        let zero = [| 0.f; 0.f |]
                        let unpadded = shortModel.Predict(seq3 1L 2L 2L (Array.concat [ a; b ]))
                        // padding at the end, at the start and in between
                        for layout in
                            [
                                [ a; b; zero; zero; zero ]
                                [ zero; zero; a; b; zero ]
                                [ a; zero; zero; b; zero ]
                            ] do
                            let y = paddedModel.Predict(seq3 1L 5L 2L (Array.concat layout))
                            closeTo 1e-6f (values unpadded) (values y) "same final output"
                    }

                    test "With return_sequences a masked step repeats the previous output and states carry over" {
                        torch.manual_seed 22L |> ignore

                        let layer =
                            lstmWith 2 (fun c ->
                                { c with
                                    ReturnSequences = true
                                    ReturnState = true
                                })

                        let input = Keras.Input(shape = [ 4; 2 ])

                        let outs =
                            Layer.callMany layer [ Layer.call (EmbeddingLayers.masking 0.0 None) input ]

                        let model = Keras.Model(input, outs)
                        let x = seq3 1L 4L 2L [| 0.f; 0.f; 1.f; 2.f; 0.f; 0.f; -1.f; 0.5f |]

                        match model.Predict([ x ]) with
                        | [ sequence; h; c ] ->
                            let s = values sequence
                            closeTo 0.f [| 0.f; 0.f |] s[0..1] "before any output: zeros"
                            closeTo 0.f s[2..3] s[4..5] "step 2 repeats step 1"

                            let unmasked =
                                withWeights
                                    (lstmWith 2 (fun c -> { c with ReturnState = true }))
                                    [ None; Some 2; Some 2 ]
                                    (Layer.getWeights layer)

                            match eagerAll unmasked [ seq3 1L 2L 2L [| 1.f; 2.f; -1.f; 0.5f |] ] with
                            | [ _; h2; c2 ] ->
                                closeTo 1e-6f (values h2) (values h) "h as if the masked steps were absent"
                                closeTo 1e-6f (values c2) (values c) "c as if the masked steps were absent"
                                closeTo 1e-6f (values h2) s[6..7] "last output"
                            | _ -> failtest "three outputs"
                        | other -> failtestf "expected three outputs, got %d" other.Length
                    }

                    test "Embedding(mask_zero) then GRU ignores the padding index" {
                        torch.manual_seed 23L |> ignore

                        let embed =
                            EmbeddingLayers.embedding
                                { EmbeddingLayers.EmbeddingConfig.Default(10, 3) with
                                    MaskZero = true
                                }
                                None

                        let layer = gruWith 4 id
                        let ids = Keras.Input(shape = [ -1 ], dtype = Int64)
                        let model = Keras.Model(ids, Layer.call layer (Layer.call embed ids))

                        let ints (xs: int64 list) =
                            torch.tensor(Array.ofList xs).reshape(1L, int64 xs.Length)

                        let padded = model.Predict(ints [ 3L; 0L; 5L; 0L; 0L ])
                        let plain = model.Predict(ints [ 3L; 5L ])
                        closeTo 1e-6f (values plain) (values padded) "zeros are skipped"
                        Expect.isTrue (Array.exists (fun v -> abs v > 1e-4f) (values plain)) "a non-trivial output"
                    }
                ]

            testList
                "wrappers"
                [
                    test "Bidirectional concat = [forward; reversed backward]" {
                        torch.manual_seed 31L |> ignore

                        let layer =
                            bidirectional (lstmWith 2 (fun c -> { c with ReturnSequences = true })) (Some "concat") None

                        Layer.call layer (sym [ None; Some 4; Some 3 ]) |> ignore
                        let ws = Layer.getWeights layer
                        Expect.equal ws.Length 6 "forward then backward weights"

                        let plain (weights: torch.Tensor list) =
                            withWeights
                                (lstmWith 2 (fun c -> { c with ReturnSequences = true }))
                                [ None; Some 4; Some 3 ]
                                weights

                        let forward = plain (List.take 3 ws)
                        let backward = plain (List.skip 3 ws)
                        let x = torch.randn (2L, 4L, 3L)

                        let expected =
                            torch.cat ([| eager forward x; (eager backward (x.flip [| 1L |])).flip [| 1L |] |], -1L)

                        closeTo 1e-6f (values expected) (values (eager layer x)) "merged sequence"
                    }

                    test "Bidirectional sum, ave and mul of the last outputs" {
                        torch.manual_seed 32L |> ignore
                        let x = torch.randn (3L, 4L, 2L)

                        for mode, combine in
                            [
                                "sum", (fun (a: torch.Tensor) (b: torch.Tensor) -> a.add b)
                                "ave", (fun a b -> a.add(b).div(torch.tensor 2.f))
                                "mul", (fun a b -> a.mul b)
                            ] do
                            let layer = bidirectional (gruWith 3 id) (Some mode) None
                            Layer.call layer (sym [ None; Some 4; Some 2 ]) |> ignore
                            let ws = Layer.getWeights layer
                            let forward = withWeights (gruWith 3 id) [ None; Some 4; Some 2 ] (List.take 3 ws)
                            let backward = withWeights (gruWith 3 id) [ None; Some 4; Some 2 ] (List.skip 3 ws)
                            let expected = combine (eager forward x) (eager backward (x.flip [| 1L |]))
                            closeTo 1e-6f (values expected) (values (eager layer x)) mode
                    }

                    test "Bidirectional with a mask gives zeros at masked steps of both directions" {
                        torch.manual_seed 33L |> ignore

                        let layer =
                            bidirectional (lstmWith 2 (fun c -> { c with ReturnSequences = true })) (Some "concat") None

                        let input = Keras.Input(shape = [ 4; 2 ])

                        let model =
                            Keras.Model(input, Layer.call layer (Layer.call (EmbeddingLayers.masking 0.0 None) input))

                        let x = seq3 1L 4L 2L [| 1.f; 2.f; -1.f; 0.5f; 0.f; 0.f; 0.f; 0.f |]
                        let y = values (model.Predict x)
                        closeTo 0.f (Array.zeroCreate 8) y[8..15] "padded steps are zero (zero_output_for_mask)"
                        let ws = Layer.getWeights layer

                        let plain (weights: torch.Tensor list) =
                            withWeights
                                (lstmWith 2 (fun c -> { c with ReturnSequences = true }))
                                [ None; Some 2; Some 2 ]
                                weights

                        let short = seq3 1L 2L 2L [| 1.f; 2.f; -1.f; 0.5f |]

                        let expected =
                            torch.cat (
                                [|
                                    eager (plain (List.take 3 ws)) short
                                    (eager (plain (List.skip 3 ws)) (short.flip [| 1L |])).flip [| 1L |]
                                |],
                                -1L
                            )

                        closeTo 1e-6f (values expected) y[0..7] "real steps as on the unpadded sequence"
                    }

                    test "TimeDistributed(Dense) equals Dense on each timestep" {
                        let dense = Layers.Dense(3, activation = Relu)
                        let layer = timeDistributed dense None
                        Layer.call layer (sym [ None; Some 4; Some 2 ]) |> ignore
                        let x = torch.randn (2L, 4L, 2L)
                        let y = eager layer x
                        Expect.equal y.shape [| 2L; 4L; 3L |] "shape"

                        for t in 0L .. 3L do
                            closeTo
                                1e-6f
                                (values (eager dense (x.select (1L, t))))
                                (values (y.select (1L, t)))
                                $"timestep {t}"
                    }

                    test "ConvLSTM2D with a 1x1 kernel is an LSTM on every pixel, states channels-last" {
                        torch.manual_seed 41L |> ignore

                        let conv =
                            convLSTM2D
                                { ConvLSTM2DConfig.Default(2, (1, 1)) with
                                    ReturnSequences = true
                                    ReturnState = true
                                }
                                None

                        Layer.callMany conv [ sym [ None; Some 3; Some 2; Some 2; Some 3 ] ] |> ignore
                        let ws = Layer.getWeights conv
                        Layer.setWeights conv [ ws[0]; ws[1]; torch.randn([| 8L |]).mul(torch.tensor 0.5f) ]
                        let ws = Layer.getWeights conv

                        let pixel =
                            withWeights
                                (lstmWith 2 (fun c ->
                                    { c with
                                        ReturnSequences = true
                                        ReturnState = true
                                    }))
                                [ None; Some 3; Some 3 ]
                                [ ws[0].reshape(3L, 8L); ws[1].reshape(2L, 8L); ws[2] ]

                        let x = torch.randn [| 2L; 3L; 2L; 2L; 3L |]
                        // initial states (b, rows, cols, filters); per pixel (b·rows·cols, filters)
                        let h0 = torch.randn [| 2L; 2L; 2L; 2L |]
                        let c0 = torch.randn [| 2L; 2L; 2L; 2L |]
                        // (b, t, r, c, ch) -> (b·r·c, t, ch)
                        let perPixel = x.permute(0L, 2L, 3L, 1L, 4L).reshape(8L, 3L, 3L)

                        match
                            eagerAll pixel [ perPixel; h0.reshape (8L, 2L); c0.reshape (8L, 2L) ],
                            eagerAll conv [ x; h0; c0 ]
                        with
                        | [ pSeq; pH; pC ], [ seq; h; c ] ->
                            let expected = pSeq.reshape(2L, 2L, 2L, 3L, 2L).permute(0L, 3L, 1L, 2L, 4L)
                            closeTo 1e-5f (values expected) (values seq) "per-pixel LSTM sequence"
                            Expect.equal h.shape [| 2L; 2L; 2L; 2L |] "h is (batch, rows, cols, filters)"
                            closeTo 1e-5f (values pH) (values h) "h per pixel"
                            closeTo 1e-5f (values pC) (values c) "c per pixel"
                        | _ -> failtest "expected three outputs each"
                    }

                    test "Bidirectional takes the forward then the backward initial states" {
                        torch.manual_seed 43L |> ignore
                        let layer = bidirectional (lstmWith 2 id) (Some "concat") None
                        let states = List.replicate 4 (sym [ None; Some 2 ])
                        let out = Layer.callMany layer (sym [ None; Some 3; Some 2 ] :: states)
                        Expect.equal (out |> List.map _.Shape) [ [ None; Some 4 ] ] "one merged output"
                        let ws = Layer.getWeights layer
                        let forward = withWeights (lstmWith 2 id) [ None; Some 3; Some 2 ] (List.take 3 ws)
                        let backward = withWeights (lstmWith 2 id) [ None; Some 3; Some 2 ] (List.skip 3 ws)
                        let x = torch.randn (2L, 3L, 2L)

                        let hf, cf, hb, cb =
                            torch.randn (2L, 2L), torch.randn (2L, 2L), torch.randn (2L, 2L), torch.randn (2L, 2L)

                        let expected =
                            torch.cat (
                                [|
                                    eagerAll forward [ x; hf; cf ] |> List.head
                                    eagerAll backward [ x.flip [| 1L |]; hb; cb ] |> List.head
                                |],
                                -1L
                            )

                        closeTo
                            1e-6f
                            (values expected)
                            (values (eagerAll layer [ x; hf; cf; hb; cb ] |> List.exactlyOne))
                            "states split in halves"
                    }

                    test "ConvLSTM2D 3x3 same equals a naive convolution reference for two steps" {
                        torch.manual_seed 42L |> ignore

                        let conv =
                            convLSTM2D
                                { ConvLSTM2DConfig.Default(1, (3, 3)) with
                                    Padding = "same"
                                    ReturnState = true
                                }
                                None

                        Layer.callMany conv [ sym [ None; Some 2; Some 3; Some 4; Some 2 ] ] |> ignore
                        let ws = Layer.getWeights conv
                        let bias = [| 0.1; 0.9; -0.2; 0.3 |]
                        Layer.setWeights conv [ ws[0]; ws[1]; torch.tensor (f32 bias) ]

                        let k4 (t: torch.Tensor) =
                            let v = values t
                            let d = t.shape |> Array.map int

                            Array4D.init d[0] d[1] d[2] d[3] (fun a b c e ->
                                float v[((a * d[1] + b) * d[2] + c) * d[3] + e])

                        let kernel, recurrent = k4 ws[0], k4 ws[1]
                        let x = torch.randn [| 1L; 2L; 3L; 4L; 2L |]
                        let xv = values x

                        let frame t =
                            Array3D.init 3 4 2 (fun r c q -> float xv[((t * 3 + r) * 4 + c) * 2 + q])

                        let step (h: float[,,]) (c: float[,,]) t =
                            let xz = naiveSameConv (frame t) kernel
                            let hz = naiveSameConv h recurrent
                            let z g r col = xz[r, col, g] + hz[r, col, g] + bias[g]

                            let c' =
                                Array3D.init 3 4 1 (fun r col _ ->
                                    sigmoid (z 1 r col) * c[r, col, 0] + sigmoid (z 0 r col) * tanh (z 2 r col))

                            let h' =
                                Array3D.init 3 4 1 (fun r col _ -> sigmoid (z 3 r col) * tanh c'[r, col, 0])

                            h', c'

                        let zero = Array3D.zeroCreate 3 4 1
                        let h1, c1 = step zero zero 0
                        let h2, c2 = step h1 c1 1

                        let flat (a: float[,,]) =
                            f32 (
                                seq {
                                    for r in 0..2 do
                                        for col in 0..3 -> a[r, col, 0]
                                }
                            )

                        match eagerAll conv [ x ] with
                        | [ output; h; c ] ->
                            Expect.equal output.shape [| 1L; 3L; 4L; 1L |] "channels-last output"
                            closeTo 1e-5f (flat h2) (values output) "output"
                            closeTo 1e-5f (flat h2) (values h) "h"
                            closeTo 1e-5f (flat c2) (values c) "c"
                        | other -> failtestf "expected three outputs, got %d" other.Length
                    }
                ]

            testList
                "gradients"
                [
                    test "LSTM gradients match finite differences for the input and the kernel" {
                        torch.manual_seed 51L |> ignore
                        let layer = lstmWith 3 (fun c -> { c with ReturnSequences = true })
                        Layer.call layer (sym [ None; Some 3; Some 2 ]) |> ignore
                        gradientCheck layer (torch.randn (2L, 3L, 2L))
                    }

                    test "ConvLSTM1D gradients match finite differences for the input and the kernel" {
                        torch.manual_seed 53L |> ignore
                        let layer = Layers.ConvLSTM1D(2, 3, padding = "same", returnSequences = true)
                        Layer.call layer (sym [ None; Some 3; Some 4; Some 2 ]) |> ignore
                        gradientCheck layer (torch.randn (2L, 3L, 4L, 2L))
                    }

                    test "RNN(StackedRNNCells([LSTMCell, GRUCell])) gradients match finite differences" {
                        torch.manual_seed 54L |> ignore

                        let layer =
                            Layers.RNN(
                                Layers.StackedRNNCells([ Layers.LSTMCell(3); Layers.GRUCell(2) ]),
                                returnSequences = true
                            )

                        Layer.call layer (sym [ None; Some 3; Some 2 ]) |> ignore
                        gradientCheck layer (torch.randn (2L, 3L, 2L))
                    }

                    test "GRU gradients match finite differences for the input and the kernel" {
                        torch.manual_seed 52L |> ignore
                        let layer = gruWith 3 id
                        Layer.call layer (sym [ None; Some 3; Some 2 ]) |> ignore
                        let ws = Layer.getWeights layer
                        Layer.setWeights layer [ ws[0]; ws[1]; torch.randn([| 2L; 9L |]).mul(torch.tensor 0.3f) ]
                        gradientCheck layer (torch.randn (2L, 3L, 2L))
                    }
                ]

            testList
                "errors"
                [
                    test "LSTM on a rank-2 input: expected ndim=3" {
                        let layer = lstmWith 4 id

                        try
                            Layer.call layer (sym [ None; Some 3 ]) |> ignore
                            failtest "expected an error"
                        with :? KerasException as e ->
                            Expect.stringContains e.Message "expected ndim=3, found ndim=2" "Keras's message"
                            Expect.stringContains e.Message layer.Name "names the layer"
                    }

                    test "A built LSTM rejects a different feature size" {
                        let layer = lstmWith 4 id
                        Layer.call layer (sym [ None; Some 3; Some 2 ]) |> ignore

                        Expect.throwsT<KerasException>
                            (fun () -> Layer.call layer (sym [ None; Some 3; Some 5 ]) |> ignore)
                            "features 5 after 2"
                    }

                    test "Bad arguments are KerasExceptions" {
                        Expect.throwsT<KerasException> (fun () -> lstmWith 0 id |> ignore) "units 0"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                Layer.call (gruWith 2 (fun c -> { c with Stateful = true })) (sym [ None; Some 3; Some 2 ])
                                |> ignore)
                            "stateful with a dynamic batch size"

                        Expect.throwsT<KerasException>
                            (fun () -> bidirectional (Layers.Dense(3)) (Some "concat") None |> ignore)
                            "Bidirectional(Dense)"

                        Expect.throwsT<KerasException>
                            (fun () -> bidirectional (lstmWith 2 id) (Some "max") None |> ignore)
                            "merge mode"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                bidirectional
                                    (lstmWith 2 (fun c -> { c with GoBackwards = true }))
                                    (Some "concat")
                                    None
                                |> ignore)
                            "already backwards"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                convLSTM2D
                                    { ConvLSTM2DConfig.Default(2, (3, 3)) with
                                        Padding = "full"
                                    }
                                    None
                                |> ignore)
                            "padding"
                    }

                    test "TimeDistributed needs a time axis; ConvLSTM2D needs rank 5" {
                        Expect.throwsT<KerasException>
                            (fun () ->
                                Layer.call (timeDistributed (Layers.Dense(2)) None) (sym [ None; Some 3 ])
                                |> ignore)
                            "rank 2"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                Layer.call
                                    (convLSTM2D (ConvLSTM2DConfig.Default(2, (3, 3))) None)
                                    (sym [ None; Some 3; Some 4; Some 2 ])
                                |> ignore)
                            "rank 4"
                    }
                ]
        ]
