/// Regularization layers (identity at inference, right statistics in training), weight regularizers and weight
/// constraints against hand-computed values.
module RegularizationTests

open Expecto
open TorchSharp
open Keras
open Keras.RegularizationLayers
open TestData

let private eager (layer: Layer) training (x: torch.Tensor) =
    Layer.callEager layer training [ x ] |> List.exactlyOne

let private meanAndStd (xs: float32[]) =
    let a = xs |> Array.map float
    let mean = Array.average a
    mean, sqrt (a |> Array.averageBy (fun v -> (v - mean) ** 2.0))

/// Training output of a spatial dropout layer on ones: checks every value is 0 or 1/(1-rate), that each
/// (sample, channel) is constant across its spatial positions, and returns the fraction of dropped channels.
let private checkSpatial (layer: Layer) (rate: float32) (shape: int64[]) =
    let y = eager layer true (torch.ones shape)
    Expect.equal y.shape shape "shape kept"
    let kept = 1.f / (1.f - rate)
    Expect.all (values y) (fun v -> v = 0.f || abs (v - kept) < 1e-6f) "values are 0 or 1/(1-rate)"
    // Move channels next to the batch and flatten the spatial axes: each row must be constant.
    let rank = shape.Length
    let perm = Array.concat [ [| 0L; int64 (rank - 1) |]; [| 1L .. int64 (rank - 2) |] ]
    let rows = y.permute(perm).reshape(shape[0] * shape[rank - 1], -1L)
    let lo = rows.amin ([| 1L |])
    let hi = rows.amax ([| 1L |])
    closeTo 0.f (values lo) (values hi) "a channel is dropped or kept as a whole"
    let dropped = values lo |> Array.filter (fun v -> v = 0.f) |> Array.length
    float dropped / float (shape[0] * shape[rank - 1])

let private messageOf (f: unit -> unit) =
    try
        f ()
        failtest "expected a KerasException"
        ""
    with :? KerasException as e ->
        e.Message

// ---- Helpers for regularizers and constraints wired into layers ----

let private scalar (t: torch.Tensor) = float (t.item<float32>())

/// Reproducible normal data from a private generator (the global one is shared by tests running in parallel).
let private randn (seed: int) (shape: int64[]) =
    Native.NativeLoader.ensureLoaded ()
    use g = new torch.Generator(uint64 seed)
    torch.randn (shape, generator = g)

/// Input(3) → the given layer, with the layer's weights set to known values.
let private modelOf (layer: Layer) (weights: torch.Tensor list) =
    let inputs = Keras.Input(shape = [ 3 ])
    let model = Keras.Model(inputs, Layer.call layer inputs)
    Layer.setWeights layer weights
    model

let private sgd (rate: float) =
    Optimizers.SGD(learningRate = ConstantRate rate)

/// The weight regularization terms of a layer and of the layers it holds, summed.
let private weightPenalty (layer: Layer) =
    Weights.allLayers [ layer ]
    |> List.collect (fun l -> l.Spec.RegularizationLosses(Weights.ofLayer l))
    |> List.sumBy scalar

/// Calls a layer in training mode and collects the losses it adds (activity regularization).
let private callCollecting (layer: Layer) (inputs: torch.Tensor list) =
    Layer.callEager layer false inputs |> ignore // builds and checks
    let losses = ResizeArray<torch.Tensor>()

    let outputs =
        layer.Spec.Call (Layer.contextFor layer true [] losses.Add inputs) inputs

    outputs, List.ofSeq losses

/// A node of a JSON config by its path of keys.
let private at (path: string list) (node: System.Text.Json.Nodes.JsonNode) : System.Text.Json.Nodes.JsonNode =
    path |> List.fold (fun (n: System.Text.Json.Nodes.JsonNode) key -> n[key]) node

let private text path node = (at path node).GetValue<string>()
let private number path node = (at path node).GetValue<float>()
let private integer path node = (at path node).GetValue<int>()

let private sumSquares (t: torch.Tensor) = t.square().sum() |> scalar
let private sumAbs (t: torch.Tensor) = t.abs().sum() |> scalar

/// L2 norms of a (in, units) kernel's columns: each unit's incoming weight vector.
let private columnNorms (kernel: torch.Tensor) =
    values (kernel.detach().square().sum(0L).sqrt())

/// Targets that need kernel columns of norm about 8.7 and negative weights: y = x·W + b.
let private growingData () =
    let x = randn 11 [| 64L; 3L |]
    let w = tensor2 [ [ 5.f; -5.f ]; [ 5.f; 5.f ]; [ -5.f; 5.f ] ]
    x, torch.matmul(x, w).add(torch.tensor [| -1.f; -2.f |])

let private initialKernel () =
    tensor2 [ [ 0.1f; -0.2f ]; [ 0.3f; 0.1f ]; [ -0.1f; 0.2f ] ]

let private initialBias () = torch.tensor [| 0.05f; -0.05f |]

[<Tests>]
let tests =
    testList
        "Regularization"
        [
            testList
                "run_layer_test"
                [
                    test "SpatialDropout1D" {
                        runLayerTest
                            (spatialDropout1D 0.5 None None)
                            [ [ None; Some 5; Some 3 ] ]
                            [ None; Some 5; Some 3 ]
                            0
                    }
                    test "SpatialDropout2D" {
                        runLayerTest
                            (spatialDropout2D 0.5 None None)
                            [ [ None; Some 4; Some 4; Some 3 ] ]
                            [ None; Some 4; Some 4; Some 3 ]
                            0
                    }
                    test "SpatialDropout3D" {
                        runLayerTest
                            (spatialDropout3D 0.5 None None)
                            [ [ None; Some 2; Some 3; Some 2; Some 3 ] ]
                            [ None; Some 2; Some 3; Some 2; Some 3 ]
                            0
                    }
                    test "GaussianNoise" {
                        runLayerTest
                            (gaussianNoise 0.1 None None)
                            [ [ None; Some 3; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            0
                    }
                    test "GaussianDropout" {
                        runLayerTest (gaussianDropout 0.3 None None) [ [ None; Some 7 ] ] [ None; Some 7 ] 0
                    }
                    test "AlphaDropout" {
                        runLayerTest (alphaDropout 0.2 None None) [ [ None; Some 7 ] ] [ None; Some 7 ] 0
                    }
                ]

            testList
                "layers"
                [
                    test "every layer is the identity at inference" {
                        torch.manual_seed 31L |> ignore
                        let x = torch.randn [| 4L; 3L; 2L; 2L; 5L |]

                        for layer, input in
                            [
                                spatialDropout1D 0.5 None None, x.reshape (4L, 12L, 5L)
                                spatialDropout2D 0.5 None None, x.reshape (4L, 3L, 4L, 5L)
                                spatialDropout3D 0.5 None None, x
                                gaussianNoise 0.5 None None, x
                                gaussianDropout 0.5 None None, x
                                alphaDropout 0.5 None None, x
                            ] do
                            Expect.equal
                                (values (eager layer false input))
                                (values input)
                                $"{layer.ClassName} at inference"
                    }

                    test "SpatialDropout1D, 2D and 3D drop whole channels in training" {
                        torch.manual_seed 32L |> ignore
                        let f1 = checkSpatial (spatialDropout1D 0.5 None None) 0.5f [| 64L; 6L; 8L |]
                        Expect.isTrue (f1 > 0.38 && f1 < 0.62) $"about half of the channels dropped (1D: {f1})"
                        let f2 = checkSpatial (spatialDropout2D 0.25 None None) 0.25f [| 64L; 3L; 3L; 8L |]
                        Expect.isTrue (f2 > 0.15 && f2 < 0.35) $"about a quarter dropped (2D: {f2})"

                        let f3 =
                            checkSpatial (spatialDropout3D 0.5 None None) 0.5f [| 32L; 2L; 2L; 2L; 8L |]

                        Expect.isTrue (f3 > 0.35 && f3 < 0.65) $"about half dropped (3D: {f3})"
                    }

                    test "GaussianNoise adds noise of the given stddev in training" {
                        torch.manual_seed 33L |> ignore
                        let x = torch.ones(200L, 100L).mul(2.0.ToScalar())
                        let y = values (eager (gaussianNoise 0.3 None None) true x)
                        let mean, std = meanAndStd y
                        Expect.floatClose { absolute = 0.01; relative = 0.0 } mean 2.0 "zero-mean noise"
                        Expect.floatClose { absolute = 0.0; relative = 0.03 } std 0.3 "stddev 0.3"
                    }

                    test "GaussianDropout multiplies by N(1, rate/(1-rate)) in training" {
                        torch.manual_seed 34L |> ignore
                        let x = torch.ones(200L, 100L).mul(3.0.ToScalar())

                        let y =
                            values (eager (gaussianDropout 0.2 None None) true x)
                            |> Array.map (fun v -> v / 3.f)

                        let mean, std = meanAndStd y
                        Expect.floatClose { absolute = 0.015; relative = 0.0 } mean 1.0 "mean 1"

                        Expect.floatClose
                            { absolute = 0.0; relative = 0.03 }
                            std
                            (sqrt (0.2 / 0.8))
                            "stddev sqrt(rate/(1-rate))"
                    }

                    test "AlphaDropout keeps zero mean and unit variance and sends dropped units to a·α' + b" {
                        torch.manual_seed 35L |> ignore
                        let rate = 0.2
                        let x = torch.randn (400L, 100L)
                        let y = values (eager (alphaDropout rate None None) true x)
                        let alphaP = -1.6732632423543772 * 1.0507009873554805
                        let a = ((1.0 - rate) * (1.0 + rate * alphaP * alphaP)) ** -0.5
                        let b = -a * alphaP * rate
                        let droppedValue = float32 (a * alphaP + b)
                        let xs = values x

                        let dropped =
                            y |> Array.filter (fun v -> abs (v - droppedValue) < 1e-5f) |> Array.length

                        Expect.isTrue
                            (abs (float dropped / float y.Length - rate) < 0.02)
                            $"about 20%% dropped ({dropped} of {y.Length})"

                        Array.iteri2
                            (fun i (xi: float32) (yi: float32) ->
                                let keptValue = float32 (a * float xi + b)

                                if abs (yi - keptValue) > 1e-5f && abs (yi - droppedValue) > 1e-5f then
                                    failtestf
                                        "element %d is %g: neither a·x + b (%g) nor the dropped value (%g)"
                                        i
                                        yi
                                        keptValue
                                        droppedValue)
                            xs
                            y

                        let mean, std = meanAndStd y
                        Expect.floatClose { absolute = 0.02; relative = 0.0 } mean 0.0 "mean stays 0"
                        Expect.floatClose { absolute = 0.02; relative = 0.0 } std 1.0 "variance stays 1"
                    }

                    test "a seed makes the training noise reproducible" {
                        let x = torch.ones (8L, 4L, 6L)
                        let run layer = values (eager layer true x)

                        Expect.equal
                            (run (spatialDropout1D 0.5 (Some 7) None))
                            (run (spatialDropout1D 0.5 (Some 7) None))
                            "same seed, same channels"

                        Expect.equal
                            (run (gaussianNoise 0.5 (Some 7) None))
                            (run (gaussianNoise 0.5 (Some 7) None))
                            "same seed, same noise"

                        Expect.notEqual
                            (run (gaussianNoise 0.5 (Some 7) None))
                            (run (gaussianNoise 0.5 (Some 8) None))
                            "another seed, other noise"
                    }

                    test "rates and stddevs outside [0, 1] are rejected in Keras's wording" {
                        let message = messageOf (fun () -> spatialDropout2D 1.5 None None |> ignore)
                        Expect.stringContains message "Expected a float value between 0 and 1." "wording"
                        Expect.stringContains message "rate=1.5" "received"
                        Expect.throwsT<KerasException> (fun () -> gaussianNoise -0.1 None None |> ignore) "stddev"

                        Expect.throwsT<KerasException>
                            (fun () -> gaussianDropout 2.0 None None |> ignore)
                            "gaussian dropout rate"

                        Expect.throwsT<KerasException>
                            (fun () -> alphaDropout -1.0 None None |> ignore)
                            "alpha dropout rate"
                    }

                    test "spatial dropout checks the input rank" {
                        let message =
                            messageOf (fun () ->
                                Layer.callEager (spatialDropout2D 0.5 None None) true [ torch.ones (2L, 3L, 4L) ]
                                |> ignore)

                        Expect.stringContains message "expected ndim=4, found ndim=3" "Keras's InputSpec wording"
                    }
                ]

            testList
                "regularizers"
                [
                    test "penalties by hand" {
                        let w = tensor2 [ [ 1.f; -2.f ]; [ 3.f; -4.f ] ]
                        // sum |w| = 10, sum w² = 30
                        let p r =
                            (Regularizer.penalty r w).item<float32>()

                        Expect.floatClose Accuracy.high (float (p (L1 0.01))) 0.1 "L1(0.01)"
                        Expect.floatClose Accuracy.high (float (p (L2 0.01))) 0.3 "L2(0.01)"
                        Expect.floatClose Accuracy.high (float (p (L1L2(0.1, 0.2)))) 7.0 "L1L2(0.1, 0.2) = 1 + 6"

                        Expect.floatClose
                            Accuracy.high
                            (float (p Regularizer.l1l2Default))
                            0.4
                            "l1_l2 identifier: 0.1 + 0.3"
                    }

                    test "Keras's identifiers resolve with factor 0.01" {
                        Expect.equal (Regularizer.tryOfName "l1") (Some(L1 0.01)) "l1"
                        Expect.equal (Regularizer.tryOfName "l2") (Some(L2 0.01)) "l2"
                        Expect.equal (Regularizer.tryOfName "l1_l2") (Some(L1L2(0.01, 0.01))) "l1_l2"
                        Expect.equal (Regularizer.tryOfName "l3") None "unknown"
                        let config = Regularizer.config (L2 0.5)
                        Expect.equal (config["class_name"].GetValue<string>()) "L2" "class name"
                        Expect.equal (config["config"].["l2"].GetValue<float>()) 0.5 "factor"
                    }

                    test "a penalty's gradient is l1·sign(w) + 2·l2·w" {
                        let w = torch.tensor([| 1.f; -2.f; 3.f |]).requires_grad_ true
                        (Regularizer.penalty (L1L2(0.1, 0.5)) w).backward()
                        closeTo 1e-6f [| 0.1f + 1.f; -0.1f - 2.f; 0.1f + 3.f |] (values w.grad) "gradient"
                    }

                    test "negative factors are rejected" {
                        let message =
                            messageOf (fun () -> Regularizer.penalty (L1 -0.1) (torch.ones 2L) |> ignore)

                        Expect.stringContains message "expected a non-negative float." "Keras's wording"
                    }
                ]

            testList
                "constraints"
                [ // A Dense kernel (in = 2, units = 2): column norms are 5 and sqrt(0.05).
                    let kernel () =
                        tensor2 [ [ 3.f; 0.1f ]; [ 4.f; 0.2f ] ]

                    let small = sqrt 0.05f

                    test "MaxNorm rescales the units whose incoming norm exceeds the maximum" {
                        let y = values (Constraint.apply (MaxNorm(2.0, [ 0 ])) (kernel ()))
                        closeTo 1e-5f [| 1.2f; 0.1f; 1.6f; 0.2f |] y "column 0 scaled to norm 2, column 1 kept"
                        Expect.equal Constraint.maxNormDefault (MaxNorm(2.0, [ 0 ])) "Keras's defaults: 2 on axis 0"
                    }

                    test "NonNeg clips negative weights" {
                        closeTo
                            0.f
                            [| 0.f; 2.f; 0.f |]
                            (values (Constraint.apply NonNeg (torch.tensor [| -1.f; 2.f; -0.5f |])))
                            "max(w, 0)"
                    }

                    test "UnitNorm rescales every unit to norm 1" {
                        let y = values (Constraint.apply (UnitNorm [ 0 ]) (kernel ()))
                        closeTo 1e-5f [| 0.6f; 0.1f / small; 0.8f; 0.2f / small |] y "w / ||w||"
                    }

                    test "MinMaxNorm moves norms into the interval at the given rate" {
                        let strict =
                            values (Constraint.apply (MinMaxNorm(0.5, 1.0, 1.0, [ 0 ])) (kernel ()))

                        closeTo
                            1e-5f
                            [| 0.6f; 0.1f * 0.5f / small; 0.8f; 0.2f * 0.5f / small |]
                            strict
                            "norms clipped to [0.5, 1]"

                        let half = values (Constraint.apply (MinMaxNorm(0.5, 1.0, 0.5, [ 0 ])) (kernel ()))
                        // Column 0: desired norm 0.5·1 + 0.5·5 = 3.
                        Expect.floatClose Accuracy.medium (float half[0]) (3.0 * 0.6) "rate 0.5, column 0, row 0"
                        Expect.floatClose Accuracy.medium (float half[2]) (3.0 * 0.8) "rate 0.5, column 0, row 1"
                    }

                    test "norms over several axes constrain each convolution filter" {
                        // A Conv2D kernel (2, 2, 1, 2): filter 0 all 1 (norm 2), filter 1 all 0.1 (norm 0.2).
                        let k =
                            torch.stack ([| torch.ones (2L, 2L, 1L); torch.ones(2L, 2L, 1L).mul(0.1.ToScalar()) |], 3L)

                        let y = Constraint.apply (MaxNorm(1.0, [ 0; 1; 2 ])) k
                        closeTo 1e-5f (Array.create 4 0.5f) (values (y.select (3L, 0L))) "filter 0 scaled to norm 1"
                        closeTo 1e-5f (Array.create 4 0.1f) (values (y.select (3L, 1L))) "filter 1 kept"
                        let config = Constraint.config (MaxNorm(1.0, [ 0; 1; 2 ]))
                        Expect.equal (config["class_name"].GetValue<string>()) "MaxNorm" "class name"
                        Expect.equal (config["config"].["axis"].AsArray().Count) 3 "axis list"
                    }

                    test "identifiers resolve with Keras's defaults" {
                        Expect.equal (Constraint.tryOfName "non_neg") (Some NonNeg) "non_neg"
                        Expect.equal (Constraint.tryOfName "unit_norm") (Some(UnitNorm [ 0 ])) "unit_norm"

                        Expect.equal
                            (Constraint.tryOfName "min_max_norm")
                            (Some(MinMaxNorm(0.0, 1.0, 1.0, [ 0 ])))
                            "min_max_norm"

                        Expect.equal (Constraint.tryOfName "max_norm") (Some(MaxNorm(2.0, [ 0 ]))) "max_norm"

                        Expect.throwsT<KerasException>
                            (fun () -> Constraint.Parse "clip" |> ignore)
                            "unknown constraint"

                        Expect.throwsT<KerasException>
                            (fun () -> Regularizer.Parse "l3" |> ignore)
                            "unknown regularizer"
                    }
                ]

            testList
                "in layers"
                [
                    test "Dense: evaluate's loss is the data loss plus the kernel and bias penalties, by hand" {
                        let dense = Layers.Dense(2, kernelRegularizer = L2 0.01, biasRegularizer = L1 0.1)
                        let kernel = tensor2 [ [ 1.f; -2.f ]; [ 0.5f; 3.f ]; [ -1.5f; 0.25f ] ]
                        let bias = torch.tensor [| 0.5f; -1.f |]
                        let model = modelOf dense [ kernel; bias ]
                        let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")
                        let x = randn 1 [| 20L; 3L |]
                        let y = randn 2 [| 20L; 2L |]
                        let dataLoss = torch.matmul(x, kernel).add(bias).sub(y).square().mean() |> scalar
                        // Σw² = 1 + 4 + 0.25 + 9 + 2.25 + 0.0625 = 16.5625; Σ|b| = 1.5
                        let penalty = 0.01 * 16.5625 + 0.1 * 1.5

                        Expect.floatClose
                            Accuracy.medium
                            (weightPenalty dense)
                            penalty
                            "the layer's regularization losses"

                        let loss = compiled.Evaluate(x, y, batchSize = 7, verbose = 0)["loss"]
                        Expect.floatClose Accuracy.medium loss (dataLoss + penalty) "mse + 0.01·Σw² + 0.1·Σ|b|"

                        Expect.floatClose
                            Accuracy.medium
                            (compiled.TestOnBatch(x, y)["loss"])
                            (dataLoss + penalty)
                            "test_on_batch"

                        let plain = modelOf (Layers.Dense(2)) [ kernel; bias ]

                        let plainLoss =
                            plain.Compile(optimizer = sgd 0.1, loss = "mse").Evaluate(x, y, verbose = 0)["loss"]

                        Expect.floatClose Accuracy.medium plainLoss dataLoss "no regularizer: the data loss alone"
                    }

                    test
                        "Dense: the activity penalty is the regularizer of the whole batch's output, not divided by the batch size" {
                        let dense = Layers.Dense(2, activityRegularizer = L2 0.5)
                        let kernel = tensor2 [ [ 1.f; 0.f ]; [ 0.f; 1.f ]; [ 1.f; -1.f ] ]
                        let bias = torch.tensor [| 0.f; 1.f |]
                        let model = modelOf dense [ kernel; bias ]
                        let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")

                        let x =
                            tensor2
                                [
                                    [ 1.f; 2.f; 3.f ]
                                    [ 0.f; -1.f; 1.f ]
                                    [ 2.f; 0.f; 0.f ]
                                    [ -1.f; 1.f; 0.5f ]
                                ]

                        let y = tensor2 [ [ 4.f; 0.f ]; [ 1.f; -1.f ]; [ 2.f; 1.f ]; [ 0.f; 1.f ] ]
                        // Outputs: [4, 0], [1, -1], [2, 1], [-0.5, 1.5]; Σ out² = 16 + 2 + 5 + 2.5 = 25.5.
                        let out = torch.matmul(x, kernel).add bias
                        closeTo 1e-6f [| 4.f; 0.f; 1.f; -1.f; 2.f; 1.f; -0.5f; 1.5f |] (values out) "outputs by hand"
                        let dataLoss = out.sub(y).square().mean() |> scalar
                        let loss = compiled.Evaluate(x, y, verbose = 0)["loss"]
                        Expect.floatClose Accuracy.medium loss (dataLoss + 0.5 * 25.5) "mse + 0.5·Σ out² over the batch"
                        Expect.floatClose Accuracy.medium (weightPenalty dense) 0.0 "no weight penalty"
                        let config = Layer.getConfig dense
                        Expect.equal (text [ "activity_regularizer"; "class_name" ] config) "L2" "serialized when set"

                        Expect.isFalse
                            ((Layer.getConfig (Layers.Dense 2)).ContainsKey "activity_regularizer")
                            "absent otherwise, as Keras's base config"
                    }

                    test "the activity penalty's gradient reaches the weights" {
                        let dense = Layers.Dense(1, useBias = false, activityRegularizer = L2 1.0)
                        let model = modelOf dense [ tensor2 [ [ 1.f ]; [ 2.f ]; [ 3.f ] ] ]
                        let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")
                        let x = tensor2 [ [ 1.f; 0.f; 0.f ] ]
                        // Output 1 = target: the data loss is 0, so only the penalty out² = (x·w)² moves w[0] by -0.1·2·1·1.
                        compiled.TrainOnBatch(x, tensor2 [ [ 1.f ] ]) |> ignore
                        closeTo 1e-6f [| 0.8f; 2.f; 3.f |] (values (Layer.weights dense).Head.Value) "w[0] = 1 - 0.1·2"
                    }

                    test "Conv2D, Embedding and LSTM penalties: weight regularizers by hand, activity on every output" {
                        let conv =
                            Layers.Conv2D(
                                2,
                                2,
                                kernelRegularizer = L2 0.01,
                                biasRegularizer = L1 0.5,
                                activityRegularizer = L1 0.1
                            )

                        let x = randn 3 [| 2L; 3L; 3L; 1L |]
                        Layer.callEager conv false [ x ] |> ignore
                        let kernel = (Layer.weights conv).Head.Value
                        Layer.setWeights conv [ kernel.detach().clone(); torch.tensor [| 1.f; -2.f |] ]

                        Expect.floatClose
                            Accuracy.medium
                            (weightPenalty conv)
                            (0.01 * sumSquares kernel + 0.5 * 3.0)
                            "Conv2D kernel and bias"

                        let outputs, losses = callCollecting conv [ x ]
                        Expect.equal losses.Length 1 "one activity loss"
                        Expect.floatClose Accuracy.medium (scalar losses.Head) (0.1 * sumAbs outputs.Head) "0.1·Σ|out|"

                        let embedding =
                            Layers.Embedding(5, 2, embeddingsRegularizer = L2 0.1, activityRegularizer = L2 1.0)

                        let ids = torch.tensor([| 0L; 3L; 3L; 4L |]).reshape(2L, 2L)
                        let outputs, losses = callCollecting embedding [ ids ]
                        let table = (Layer.weights embedding).Head.Value

                        Expect.floatClose
                            Accuracy.medium
                            (weightPenalty embedding)
                            (0.1 * sumSquares table)
                            "the whole embeddings matrix"

                        Expect.floatClose
                            Accuracy.medium
                            (scalar losses.Head)
                            (sumSquares outputs.Head)
                            "repeated rows count twice"

                        let lstm =
                            Layers.LSTM(
                                3,
                                returnState = true,
                                kernelRegularizer = L2 0.01,
                                recurrentRegularizer = L1 0.02,
                                biasRegularizer = L2 0.03,
                                activityRegularizer = L1 0.1
                            )

                        let seq = randn 4 [| 2L; 4L; 2L |]
                        let outputs, losses = callCollecting lstm [ seq ]

                        match Layer.weights lstm with
                        | [ k; r; b ] ->
                            let expected =
                                0.01 * sumSquares k.Value + 0.02 * sumAbs r.Value + 0.03 * sumSquares b.Value

                            Expect.floatClose
                                Accuracy.medium
                                (weightPenalty lstm)
                                expected
                                "kernel, recurrent kernel and bias (unit forget bias included)"
                        | ws -> failtestf "expected 3 LSTM weights, got %d" ws.Length

                        Expect.equal losses.Length 3 "output, h and c are each penalized (Keras flattens the outputs)"

                        List.iter2
                            (fun (o: torch.Tensor) (l: torch.Tensor) ->
                                Expect.floatClose Accuracy.medium (scalar l) (0.1 * sumAbs o) "0.1·Σ|out|")
                            outputs
                            losses
                    }

                    test "max_norm(1.0) keeps every kernel column at norm 1 or less through training" {
                        let x, y = growingData ()

                        let train (layer: Layer) =
                            let model = modelOf layer [ initialKernel (); initialBias () ]

                            model
                                .Compile(optimizer = sgd 0.05, loss = "mse")
                                .Fit(x, y, batchSize = 16, epochs = 5, shuffle = false, verbose = 0)
                            |> ignore

                            columnNorms (Layer.weights layer).Head.Value

                        let free = train (Layers.Dense 2)

                        Expect.isTrue
                            (free |> Array.forall (fun n -> n > 2.f))
                            $"without the constraint the columns grow ({free})"

                        let constrained = train (Layers.Dense(2, kernelConstraint = MaxNorm(1.0, [ 0 ])))
                        Expect.all constrained (fun n -> n <= 1.f + 1e-6f) $"every column norm ≤ 1 ({constrained})"
                        Expect.all constrained (fun n -> n > 0.99f) "the columns pushed to the bound sit on it"
                    }

                    test "non_neg keeps the kernel and the bias non-negative through training" {
                        let x, y = growingData ()
                        let dense = Layers.Dense(2, kernelConstraint = "non_neg", biasConstraint = NonNeg)
                        let model = modelOf dense [ initialKernel().abs(); initialBias().abs() ]

                        model
                            .Compile(optimizer = sgd 0.05, loss = "mse")
                            .Fit(x, y, batchSize = 16, epochs = 3, shuffle = false, verbose = 0)
                        |> ignore

                        match Layer.weights dense with
                        | [ k; b ] ->
                            Expect.all (values k.Value) (fun v -> v >= 0.f) "kernel ≥ 0"
                            Expect.all (values b.Value) (fun v -> v >= 0.f) "bias ≥ 0"

                            Expect.exists
                                (values k.Value)
                                (fun v -> v = 0.f)
                                "the weights that wanted to go negative were clipped to 0"

                            Expect.exists (values k.Value) (fun v -> v > 1.f) "the others trained"
                        | ws -> failtestf "expected 2 weights, got %d" ws.Length
                    }

                    test "Gradients.apply applies the constraints after the update" {
                        let x, y = growingData ()
                        let dense = Layers.Dense(2, kernelConstraint = MaxNorm(0.5, [ 0 ]))
                        let model = modelOf dense [ initialKernel (); initialBias () ]
                        let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")
                        let weights = Model.trainableWeights model

                        for _ in 1..5 do
                            let _, grads = Gradients.valueAndGrad (fun () -> compiled.ComputeLoss(x, y)) weights
                            Gradients.apply compiled.Optimizer weights grads

                        Expect.all
                            (columnNorms (Layer.weights dense).Head.Value)
                            (fun n -> n <= 0.5f + 1e-6f)
                            "column norms ≤ 0.5"
                    }

                    test "configs hold Keras's serialized regularizers and constraints, null where absent" {
                        let dense =
                            Layers.Dense(4, kernelRegularizer = "l2", kernelConstraint = MaxNorm(1.0, [ 0 ]))

                        let config = Layer.getConfig dense

                        Expect.equal
                            (config["kernel_regularizer"].ToJsonString())
                            """{"module":"keras.regularizers","class_name":"L2","config":{"l2":0.01},"registered_name":null}"""
                            "kernel_regularizer"

                        for key in [ "bias_regularizer"; "bias_constraint" ] do
                            Expect.isTrue (config.ContainsKey key && isNull config[key]) $"{key} is null"

                        let c = config["kernel_constraint"]
                        Expect.equal (c["module"].GetValue<string>()) "keras.constraints" "constraint module"
                        Expect.equal (c["class_name"].GetValue<string>()) "MaxNorm" "constraint class"
                        Expect.equal (number [ "config"; "max_value" ] c) 1.0 "max_value"
                        Expect.equal (integer [ "config"; "axis" ] c) 0 "axis"

                        let conv =
                            Layer.getConfig (
                                Layers.Conv1D(2, 3, biasRegularizer = L1L2(0.1, 0.2), activityRegularizer = L1 0.3)
                            )

                        Expect.equal (number [ "bias_regularizer"; "config"; "l2" ] conv) 0.2 "Conv1D bias_regularizer"

                        Expect.equal
                            (text [ "activity_regularizer"; "class_name" ] conv)
                            "L1"
                            "Conv1D activity_regularizer"

                        Expect.isNull conv["kernel_constraint"] "Conv1D kernel_constraint"

                        let separable =
                            Layer.getConfig (Layers.SeparableConv2D(2, 3, pointwiseConstraint = NonNeg))

                        Expect.equal
                            (text [ "pointwise_constraint"; "class_name" ] separable)
                            "NonNeg"
                            "SeparableConv2D"

                        let embedding =
                            Layer.getConfig (Layers.Embedding(10, 3, embeddingsConstraint = UnitNorm [ 1 ]))

                        Expect.equal (integer [ "embeddings_constraint"; "config"; "axis" ] embedding) 1 "Embedding"

                        let gru =
                            Layer.getConfig (
                                Layers.GRU(3, recurrentRegularizer = "l1", recurrentConstraint = "unit_norm")
                            )

                        Expect.equal
                            (number [ "recurrent_regularizer"; "config"; "l1" ] gru)
                            0.01
                            "GRU recurrent_regularizer"

                        Expect.equal
                            (text [ "recurrent_constraint"; "class_name" ] gru)
                            "UnitNorm"
                            "GRU recurrent_constraint"
                    }

                    test "the l2 penalty's gradient 2·l2·w reaches the kernel in a training step" {
                        let dense = Layers.Dense(2, kernelRegularizer = L2 0.5)
                        let model = modelOf dense [ initialKernel (); torch.zeros 2L ]
                        let compiled = model.Compile(optimizer = sgd 0.1, loss = "mse")
                        // Zero inputs and targets: the data loss has no gradient on the kernel; only the penalty moves it.
                        compiled.TrainOnBatch(torch.zeros (4L, 3L), torch.zeros (4L, 2L)) |> ignore

                        let expected =
                            values (initialKernel ()) |> Array.map (fun w -> w - 0.1f * 2.f * 0.5f * w)

                        closeTo 1e-6f expected (values (Layer.weights dense).Head.Value) "w - lr·2·l2·w"
                    }
                ]

            testSequenced
            <| testList
                "in training"
                [
                    test "training with an l2 kernel regularizer ends with smaller weights than the same run without" {
                        let x, y = growingData ()

                        let train (layer: Layer) =
                            Utils.setRandomSeed 21
                            let model = modelOf layer [ initialKernel (); initialBias () ]

                            model
                                .Compile(optimizer = sgd 0.05, loss = "mse")
                                .Fit(x, y, batchSize = 16, epochs = 5, verbose = 0)
                            |> ignore

                            sumSquares (Layer.weights layer).Head.Value

                        let plain = train (Layers.Dense 2)
                        let regularized = train (Layers.Dense(2, kernelRegularizer = L2 0.1))

                        Expect.isLessThan
                            regularized
                            (plain * 0.9)
                            $"Σw² with l2(0.1) ({regularized}) < without ({plain})"
                    }
                ]
        ]
