/// Keras 3's <c>OrthogonalRegularizer</c> (keras/regularizers/regularizers.py at v3.1.1): the penalty against a
/// plain-loop reference in both modes, its gradient by finite differences, Keras's errors, its config and a model
/// whose compiled loss carries it.
module OrthogonalRegularizerTests

open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open TestData

/// Keras's formula with F# loops: the vectors (rows or columns) divided by max(‖v‖, 1e-7), then
/// factor · 0.5 · Σ_{i≠j} |vᵢ·vⱼ| / (n(n-1)/2).
let private reference (factor: float) (mode: string) (w: float[,]) =
    let rows, cols = Array2D.length1 w, Array2D.length2 w

    let vectors =
        if mode = "rows" then
            [| for i in 0 .. rows - 1 -> [| for j in 0 .. cols - 1 -> w[i, j] |] |]
        else
            [| for j in 0 .. cols - 1 -> [| for i in 0 .. rows - 1 -> w[i, j] |] |]

    let unit =
        vectors
        |> Array.map (fun v ->
            let norm = sqrt (v |> Array.sumBy (fun x -> x * x))
            v |> Array.map (fun x -> x / max norm 1e-7))

    let n = unit.Length
    let mutable total = 0.0

    for i in 0 .. n - 1 do
        for j in 0 .. n - 1 do
            if i <> j then
                total <- total + abs (Array.fold2 (fun acc a b -> acc + a * b) 0.0 unit[i] unit[j])

    factor * 0.5 * total / (float n * (float n - 1.0) / 2.0)

let private toTensor (dtype: torch.ScalarType) (w: float[,]) =
    let rows, cols = Array2D.length1 w, Array2D.length2 w

    let flat =
        [|
            for i in 0 .. rows - 1 do
                for j in 0 .. cols - 1 -> w[i, j]
        |]

    let t = torch.tensor (flat, dtype = torch.float64)
    let shaped = t.reshape (int64 rows, int64 cols)
    shaped.``to`` dtype

let private scalar (t: torch.Tensor) =
    use d = t.``to`` torch.float64
    d.item<float>()

let private kernel =
    array2D [ [ 1.0; -2.0; 0.5; 3.0 ]; [ 0.5; 3.0; -1.0; 0.25 ]; [ -1.5; 0.25; 2.0; -0.5 ] ]

let private sgd (rate: float) =
    Optimizers.SGD(learningRate = ConstantRate rate)

[<Tests>]
let tests =
    testList
        "OrthogonalRegularizer"
        [
            test "by hand: rows (1,0), (1,1), (0,2) have |cos| 1/√2, 0, 1/√2, so the penalty is factor·√2/3" {
                let w = array2D [ [ 1.0; 0.0 ]; [ 1.0; 1.0 ]; [ 0.0; 2.0 ] ]

                let p =
                    Regularizer.penalty (Regularizer.Orthogonal(0.1, "rows")) (toTensor torch.float32 w)

                Expect.floatClose Accuracy.high (reference 0.1 "rows" w) (0.1 * sqrt 2.0 / 3.0) "reference"
                Expect.floatClose Accuracy.medium (scalar p) (0.1 * sqrt 2.0 / 3.0) "penalty"
                Expect.equal p.shape [||] "a scalar"
            }

            test "rows and columns of a 3×4 kernel against the plain-loop reference (float32 and float64)" {
                for mode in [ "rows"; "columns" ] do
                    for factor in [ 0.01; 0.7 ] do
                        let expected = reference factor mode kernel
                        let r = Regularizer.Orthogonal(factor, mode)
                        let p32 = Regularizer.penalty r (toTensor torch.float32 kernel)
                        let p64 = Regularizer.penalty r (toTensor torch.float64 kernel)
                        Expect.floatClose Accuracy.medium (scalar p32) expected $"{mode}, {factor}, float32"
                        Expect.floatClose Accuracy.veryHigh (scalar p64) expected $"{mode}, {factor}, float64"
                        Expect.equal p32.dtype torch.float32 "the weight's dtype"

                Expect.isFalse
                    (abs (reference 1.0 "rows" kernel - reference 1.0 "columns" kernel) < 1e-3)
                    "the two modes differ on this kernel"
            }

            test "a zero vector is divided by 1e-7, not by 0, and adds nothing; orthogonal vectors cost nothing" {
                let w = array2D [ [ 0.0; 0.0 ]; [ 3.0; 4.0 ]; [ 4.0; -3.0 ] ]

                let p =
                    Regularizer.penalty (Regularizer.Orthogonal(1.0, "rows")) (toTensor torch.float32 w)

                Expect.floatClose Accuracy.high (scalar p) 0.0 "rows 2 and 3 are orthogonal"
                Expect.isFalse (System.Double.IsNaN(scalar p)) "no NaN"

                let q =
                    Regularizer.penalty
                        (Regularizer.Orthogonal())
                        (toTensor torch.float32 (array2D [ [ 2.0; 0.0 ]; [ 0.0; 5.0 ] ]))

                Expect.floatClose Accuracy.high (scalar q) 0.0 "an orthogonal matrix"
            }

            test "the gradient matches central differences (float64)" {
                for mode in [ "rows"; "columns" ] do
                    let r = Regularizer.Orthogonal(0.3, mode)
                    let w = (toTensor torch.float64 kernel).requires_grad_ true
                    let p = Regularizer.penalty r w
                    p.backward ()
                    use grad = w.grad.detach().cpu()
                    let analytic = grad.data<float>().ToArray()
                    let h = 1e-6

                    let numeric =
                        [|
                            for i in 0 .. Array2D.length1 kernel - 1 do
                                for j in 0 .. Array2D.length2 kernel - 1 do
                                    let plus = Array2D.copy kernel
                                    let minus = Array2D.copy kernel
                                    plus[i, j] <- plus[i, j] + h
                                    minus[i, j] <- minus[i, j] - h
                                    (reference 0.3 mode plus - reference 0.3 mode minus) / (2.0 * h)
                        |]

                    for k in 0 .. numeric.Length - 1 do
                        Expect.floatClose
                            { absolute = 1e-7; relative = 1e-5 }
                            analytic[k]
                            numeric[k]
                            $"{mode}: d penalty / d w[{k}]"
            }

            test
                "Keras's errors: a mode other than rows/columns, a factor that is not a non-negative float, a rank other than 2" {
                let error, message =
                    kerasError (fun () -> Regularizer.Orthogonal(mode = "diagonal"))

                Expect.isTrue
                    (match error with
                     | InvalidArgument("OrthogonalRegularizer", "mode", _, "diagonal") -> true
                     | _ -> false)
                    $"InvalidArgument naming the class and mode: {error}"

                Expect.stringContains message "Expected one of {\"rows\", \"columns\"}" "Keras's text"
                Expect.stringContains message "Received: mode=diagonal" "the mode received"

                let _, negative = kerasError (fun () -> Regularizer.Orthogonal(factor = -0.1))
                Expect.stringContains negative "expected a non-negative float" "Keras's text"
                Expect.stringContains negative "Received: factor=-0.1" "the factor received"
                kerasError (fun () -> Regularizer.Orthogonal(factor = nan)) |> ignore

                let _, rank3 =
                    kerasError (fun () -> Regularizer.penalty (Regularizer.Orthogonal()) (torch.ones (3L, 3L, 2L)))

                Expect.stringContains rank3 "Inputs to OrthogonalRegularizer must have rank 2." "Keras's text"
                Expect.stringContains rank3 "Received: inputs.shape=(3, 3, 2)" "Keras's shape"

                let _, rank1 =
                    kerasError (fun () -> Regularizer.penalty (Regularizer.Orthogonal()) (torch.ones 4L))

                Expect.stringContains rank1 "Received: inputs.shape=(4,)" "a rank-1 bias"

                let _, unchecked =
                    kerasError (fun () ->
                        Regularizer.penalty (OrthogonalRegularizer(0.01, "diag")) (torch.ones (2L, 2L)))

                Expect.stringContains unchecked "Received: mode=diag" "the union case is checked before use"
            }

            test "identifiers: 'orthogonal_regularizer' and the class name give Keras's defaults (0.01, rows)" {
                Expect.equal (Regularizer.Parse "orthogonal_regularizer") (OrthogonalRegularizer(0.01, "rows")) "snake"
                Expect.equal (Regularizer.Parse "OrthogonalRegularizer") (OrthogonalRegularizer(0.01, "rows")) "class"
                Expect.equal (Regularizer.Orthogonal()) (OrthogonalRegularizer(0.01, "rows")) "defaults"
            }

            test "config: Keras 3.1.1's form, read back to the same regularizer and the same config" {
                let r = Regularizer.Orthogonal(0.25, "columns")
                let config = Regularizer.config r

                Expect.equal
                    (config.ToJsonString())
                    """{"module":"keras.regularizers","class_name":"OrthogonalRegularizer","config":{"factor":0.25,"mode":"columns"},"registered_name":null}"""
                    "Keras's keys and values"

                let read = ConfigReader.regularizer "dense" "kernel_regularizer" config
                Expect.equal read (Some r) "the same regularizer"
                Expect.equal ((Regularizer.config read.Value).ToJsonString()) (config.ToJsonString()) "the same config"

                let keras =
                    JsonNode.Parse
                        """{"module": "keras.regularizers", "class_name": "OrthogonalRegularizer", "config": {"factor": 0.009999999776482582, "mode": "rows"}, "registered_name": null}"""

                match ConfigReader.regularizer "dense" "kernel_regularizer" keras with
                | Some(OrthogonalRegularizer(f, "rows")) ->
                    Expect.floatClose Accuracy.high f 0.01 "Keras's float32 factor"
                | other -> failtest $"read {other}"

                Expect.equal
                    (ConfigReader.regularizer "dense" "kernel_regularizer" (JsonValue.Create "orthogonal_regularizer"))
                    (Some(OrthogonalRegularizer(0.01, "rows")))
                    "a name"

                let bad =
                    JsonNode.Parse
                        """{"module": "keras.regularizers", "class_name": "OrthogonalRegularizer", "config": {"factor": 0.1, "mode": "diag"}, "registered_name": null}"""

                let _, message =
                    kerasError (fun () -> ConfigReader.regularizer "dense" "kernel_regularizer" bad)

                Expect.stringContains message "Received: mode=diag" "a bad mode in a file is Keras's error"
            }

            test "Dense(kernel_regularizer=OrthogonalRegularizer): layer config round trip, same predictions" {
                let dense =
                    Layers.Dense(4, kernelRegularizer = Regularizer.Orthogonal(0.1, "columns"), name = "d")

                let inputs = Keras.Input(shape = [ 3 ])
                let model = Keras.Model(inputs, Layer.call dense inputs)
                let config = Model.getConfig model
                let loaded = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig loaded).ToJsonString()) (config.ToJsonString()) "same config"

                let layerConfig = LayerSerialization.layerConfig dense
                let regularizer = layerConfig["kernel_regularizer"]
                Expect.equal (regularizer["class_name"].GetValue<string>()) "OrthogonalRegularizer" "class"
                let inner = regularizer["config"]
                Expect.equal (inner["mode"].GetValue<string>()) "columns" "mode"

                loaded.SetWeights(model.GetWeights())
                let x = torch.rand (5L, 3L)
                closeTo 1e-6f (values (Model.predict model x)) (values (Model.predict loaded x)) "same predictions"
            }

            test "a model's compiled loss is the data loss plus factor · mean |cos| of the kernel's columns" {
                let dense =
                    Layers.Dense(4, kernelRegularizer = Regularizer.Orthogonal(0.5, "columns"))

                let inputs = Keras.Input(shape = [ 3 ])
                let model = Keras.Model(inputs, Layer.call dense inputs)
                let w = toTensor torch.float32 kernel
                let bias = torch.tensor [| 0.1f; -0.2f; 0.3f; 0.f |]
                Layer.setWeights dense [ w; bias ]
                let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")

                let x = tensor2 [ [ 1.f; 2.f; 3.f ]; [ 0.f; -1.f; 1.f ]; [ 2.f; 0.f; 0.5f ] ]

                let y =
                    tensor2 [ [ 1.f; 0.f; 0.f; 1.f ]; [ 0.f; 1.f; 1.f; 0.f ]; [ 1.f; 1.f; 0.f; 0.f ] ]

                // Plain loops for the data loss: mse over the 3×4 outputs.
                let xs = values x
                let ys = values y
                let bs = values bias
                let mutable squares = 0.0

                for b in 0..2 do
                    for u in 0..3 do
                        let mutable out = float bs[u]

                        for i in 0..2 do
                            out <- out + float xs[b * 3 + i] * kernel[i, u]

                        squares <- squares + (out - float ys[b * 4 + u]) ** 2.0

                let dataLoss = squares / 12.0
                let penalty = reference 0.5 "columns" kernel
                Expect.isGreaterThan penalty 0.01 "a penalty that shows"
                let loss = compiled.Evaluate(x, y, verbose = 0)["loss"]
                Expect.floatClose Accuracy.medium loss (dataLoss + penalty) "mse + orthogonal penalty"

                Expect.floatClose
                    Accuracy.medium
                    (compiled.TestOnBatch(x, y)["loss"])
                    (dataLoss + penalty)
                    "test_on_batch"
            }

            test "on a Conv2D kernel (rank 4) training raises Keras's rank error, as in Keras" {
                let conv = Layers.Conv2D(2, 2, kernelRegularizer = Regularizer.Orthogonal())
                let inputs = Keras.Input(shape = [ 3; 3; 1 ])
                let model = Keras.Model(inputs, Layer.call conv inputs)
                let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")

                let _, message =
                    kerasError (fun () ->
                        compiled.Evaluate(torch.ones (2L, 3L, 3L, 1L), torch.ones (2L, 2L, 2L, 2L), verbose = 0))

                Expect.stringContains message "Inputs to OrthogonalRegularizer must have rank 2." "Keras's text"
                Expect.stringContains message "(2, 2, 1, 2)" "the kernel's shape"
            }
        ]
