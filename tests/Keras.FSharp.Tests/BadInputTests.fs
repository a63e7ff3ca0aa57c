/// Bad training and prediction inputs: clear Keras errors instead of libtorch's, no silent wrong results; and native
/// memory that stays flat over many epochs at MNIST's size.
module BadInputTests

open System
open System.Diagnostics
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// Resident memory of this process in kB (Linux).
let private rssKb () =
    File.ReadAllLines "/proc/self/status"
    |> Array.find (fun l -> l.StartsWith "VmRSS:")
    |> fun l -> l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] |> int64

[<Tests>]
let memoryTests =
    testSequenced
    <| testList
        "Training memory"
        [
            // Issue 8: each epoch's shuffled copy of the data was left to the finalizer (+165 MB per epoch at this
            // size). No GC.Collect here: a forced collection is exactly what hid the leak before.
            test "RSS stays flat over 10 epochs of 60,000 x 784 rows at batch 64 with shuffling" {
                Utils.setRandomSeed 8
                let mnist = Keras.Datasets.Mnist.loadFrom (sharedData "mnist")
                use x = Keras.Datasets.Tensors.ofImagesFlatScaled mnist.XTrain
                use y = Keras.Datasets.Tensors.ofLabels mnist.YTrain
                use xTest = Keras.Datasets.Tensors.ofImagesFlatScaled mnist.XTest
                use yTest = Keras.Datasets.Tensors.ofLabels mnist.YTest
                Expect.equal x.shape [| 60000L; 784L |] "MNIST training images"

                let compiled =
                    ModelTests
                        .mnistModel()
                        .Compile(
                            optimizer = "rmsprop",
                            loss = SparseCategoricalCrossentropy true,
                            metrics = [ "accuracy" ]
                        )

                let measurements = ResizeArray<int64>()

                let measure =
                    Callbacks.LambdaCallback(onEpochEnd = fun _ _ -> measurements.Add(rssKb ()))

                let clock = Stopwatch.StartNew()

                compiled.Fit(
                    x,
                    y,
                    batchSize = 64,
                    epochs = 10,
                    validationData = (Data.Tensor xTest, Data.Tensor yTest),
                    callbacks = [ measure ],
                    verbose = 0
                )
                |> ignore

                // Evaluate and predict on the full training set, repeatedly: flat as well.
                let beforeInference = rssKb ()

                for _ in 1..3 do
                    compiled.Evaluate(x, y, batchSize = 64, verbose = 0) |> ignore

                    for p in compiled.Predict(x, batchSize = 64) do
                        p.Dispose()

                let afterInference = rssKb ()

                let first, last, peak = measurements[0], measurements[9], Seq.max measurements
                let growth = float (last - first) / float first * 100.0

                // Printed for the record (the figures go into the issue); not asserted.
                printfn
                    "RSS over 10 epochs (kB): %s; growth after the first epoch %.1f %%; %.0f s; evaluate+predict x3: %d -> %d kB"
                    (measurements |> Seq.map string |> String.concat ", ")
                    growth
                    clock.Elapsed.TotalSeconds
                    beforeInference
                    afterInference

                Expect.isLessThan
                    (float peak)
                    (float first * 1.05)
                    $"RSS after epoch 1: {first} kB, peak {peak} kB, after epoch 10: {last} kB"

                Expect.isLessThan
                    (float afterInference)
                    (float beforeInference * 1.05)
                    $"RSS before 3 evaluate+predict rounds: {beforeInference} kB, after: {afterInference} kB"
            }
        ]

/// A classifier: 4 features → Dense(3) logits, its output named "scores".
let private classifier () =
    let inputs = Keras.Input(shape = [ 4 ])
    Keras.Model(inputs, inputs --> Layers.Dense(3, name = "scores"))

let private compiledClassifier () =
    classifier().Compile(optimizer = "sgd", loss = SparseCategoricalCrossentropy true, metrics = [ "accuracy" ])

let private labels (values: int64 list) = torch.tensor (Array.ofList values)

/// The KerasException the action raises (fails the test when it raises none or another type).
let private kerasException (f: unit -> 'a) =
    try
        f () |> ignore
        failtest "expected a KerasException"
    with :? KerasException as e ->
        e

let private contains (text: string) (part: string) =
    Expect.stringContains text part $"the message names {part}"

[<Tests>]
let badInputTests =
    testList
        "Bad inputs"
        [
            testList
                "sparse labels"
                [
                    for bad in [ -100L; 3L; 7L ] do
                        test $"label {bad} with 3 classes is a Keras error naming the output, the value and the classes" {
                            let compiled = compiledClassifier ()
                            let x = torch.rand (8L, 4L)
                            let y = labels [ 0L; 1L; 2L; bad; 0L; 1L; 2L; 0L ]
                            let e = kerasException (fun () -> compiled.Fit(x, y, verbose = 0))

                            match e.Error with
                            | InvalidTargets("scores", "sparse_categorical_crossentropy", _, received) ->
                                Expect.equal received $"a label of {bad}" "the bad value"
                            | other -> failtestf "unexpected error %A" other

                            contains e.Message "\"scores\""
                            contains e.Message "3 classes"
                            contains e.Message "[0, 2]"
                        }

                    for bad in [ -100L; 3L ] do
                        test $"without a metric (the loss's fused kernel checks the range) label {bad} is the same Keras error and no weight changes" {
                            let model = classifier ()
                            let compiled = model.Compile(optimizer = "sgd", loss = SparseCategoricalCrossentropy true)
                            let before = model.GetWeights() |> List.map values
                            let x = torch.rand (8L, 4L)
                            let y = labels [ 0L; 1L; 2L; bad; 0L; 1L; 2L; 0L ]
                            let e = kerasException (fun () -> compiled.Fit(x, y, batchSize = 8, verbose = 0))

                            match e.Error with
                            | InvalidTargets("scores", "sparse_categorical_crossentropy", expected, received) ->
                                contains expected "[0, 2]"
                                Expect.equal received $"a label of {bad}" "the bad value"
                            | other -> failtestf "unexpected error %A" other

                            List.iter2
                                (fun (a: float32[]) b -> closeTo 0.f a b "weights unchanged")
                                before
                                (model.GetWeights() |> List.map values)
                        }

                    test "evaluate checks the labels too (-100 no longer gives loss 0)" {
                        let compiled = compiledClassifier ()
                        let x = torch.rand (4L, 4L)

                        let e =
                            kerasException (fun () ->
                                compiled.Evaluate(x, labels [ -100L; -100L; -100L; -100L ], verbose = 0))

                        contains e.Message "a label of -100"
                    }

                    test "labels as (batch, 1) are checked as well" {
                        let compiled = compiledClassifier ()
                        let y = labels [ 0L; 3L ] |> fun t -> t.unsqueeze 1L
                        let e = kerasException (fun () -> compiled.TrainOnBatch(torch.rand (2L, 4L), y))
                        contains e.Message "a label of 3"
                    }

                    test "the sparse accuracy metric checks the range, naming the output" {
                        let metric =
                            Metrics.createFor
                                "scores"
                                MetricSpec.SparseCategoricalAccuracy
                                (labels [ 0L ])
                                (torch.rand (1L, 3L))

                        let e =
                            kerasException (fun () -> metric.Update(labels [ 0L; 5L ], torch.rand (2L, 3L), None))

                        match e.Error with
                        | InvalidTargets("scores", "sparse_categorical_accuracy", _, "a label of 5") -> ()
                        | other -> failtestf "unexpected error %A" other
                    }

                    test "whole float labels give the same loss as integer labels; fractional ones are an error" {
                        let model = classifier ()

                        let compiled =
                            model.Compile(optimizer = "sgd", loss = SparseCategoricalCrossentropy true)

                        let x = torch.rand (4L, 4L)
                        let ints = compiled.Evaluate(x, labels [ 0L; 1L; 2L; 1L ], verbose = 0)["loss"]

                        let floats =
                            compiled.Evaluate(x, torch.tensor [| 0.0f; 1.0f; 2.0f; 1.0f |], verbose = 0)["loss"]

                        Expect.floatClose Accuracy.veryHigh floats ints "same loss"
                        Expect.isGreaterThan ints 0.0 "a real loss"

                        let e =
                            kerasException (fun () ->
                                compiled.Evaluate(x, torch.tensor [| 0.0f; 1.5f; 2.0f; 1.0f |], verbose = 0))

                        contains e.Message "a label of 1.5"
                    }

                    test "one-hot targets given to a sparse loss are a shape error, not a native one" {
                        let compiled = compiledClassifier ()
                        let y = torch.nn.functional.one_hot (labels [ 0L; 1L ], 3L)
                        let e = kerasException (fun () -> compiled.TrainOnBatch(torch.rand (2L, 4L), y))

                        match e.Error with
                        | InvalidTargets("scores", _, _, received) ->
                            Expect.equal received "targets of shape (2, 3)" "shape"
                        | other -> failtestf "unexpected error %A" other
                    }
                ]

            testList
                "targets of other losses"
                [
                    test "mse with (batch,) targets against (batch, 1) outputs does not broadcast to (batch, batch)" {
                        let inputs = Keras.Input(shape = [ 2 ])
                        let model = Keras.Model(inputs, inputs --> Layers.Dense(1, name = "value"))
                        let compiled = model.Compile(optimizer = "sgd", loss = "mse")
                        let x = torch.rand (5L, 2L)
                        let y = torch.rand (5L)
                        let prediction = (model.Predict x).squeeze(-1L)
                        let expected = (prediction - y).square().mean().item<float32>() |> float
                        let loss = compiled.Evaluate(x, y, verbose = 0)["loss"]
                        Expect.floatClose Accuracy.medium loss expected "the per-sample squared errors"
                    }

                    test
                        "binary crossentropy with (batch,) targets against (batch, 1) logits pairs each sample with its own target" {
                        let inputs = Keras.Input(shape = [ 2 ])
                        let model = Keras.Model(inputs, inputs --> Layers.Dense(1, name = "logit"))
                        let compiled = model.Compile(optimizer = "sgd", loss = BinaryCrossentropy true)
                        let x = torch.rand (6L, 2L)
                        let y = torch.tensor [| 0.0f; 1.0f; 1.0f; 0.0f; 1.0f; 0.0f |]
                        let logits = (model.Predict x).squeeze(-1L)

                        let expected =
                            torch.nn.functional.binary_cross_entropy_with_logits(logits, y).item<float32>()
                            |> float

                        let loss = compiled.Evaluate(x, y, verbose = 0)["loss"]
                        Expect.floatClose Accuracy.medium loss expected "one target per sample"
                    }

                    test "categorical crossentropy with label vectors instead of one-hot rows is a Keras error" {
                        let model = classifier ()
                        let compiled = model.Compile(optimizer = "sgd", loss = CategoricalCrossentropy true)
                        // 3 samples against 3 classes: broadcasting would have given a number.
                        let e =
                            kerasException (fun () ->
                                compiled.Evaluate(torch.rand (3L, 4L), labels [ 0L; 1L; 2L ], verbose = 0))

                        match e.Error with
                        | InvalidTargets("scores", "categorical_crossentropy", reason, "targets of shape (3,)") ->
                            contains reason "(3, 3)"
                        | other -> failtestf "unexpected error %A" other
                    }

                    test "class_weight with a negative key or missing a class of the data is a Keras error" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (4L, 4L), labels [ 0L; 1L; 2L; 2L ]

                        let weights (pairs: (int * float) list) =
                            System.Collections.Generic.Dictionary<int, float>(dict pairs)
                            :> System.Collections.Generic.IReadOnlyDictionary<int, float>

                        let negative =
                            kerasException (fun () ->
                                compiled.Fit(x, y, classWeight = weights [ -1, 2.0; 0, 1.0 ], verbose = 0))

                        contains negative.Message "class_weight"

                        let missing =
                            kerasException (fun () ->
                                compiled.Fit(x, y, classWeight = weights [ 0, 1.0; 1, 2.0 ], verbose = 0))

                        contains missing.Message "The class 2 exists in the data"
                        // All classes present: trains.
                        compiled.Fit(x, y, classWeight = weights [ 0, 1.0; 1, 2.0; 2, 0.5 ], verbose = 0)
                        |> ignore
                    }

                    test "sample_weight of the wrong length is a Keras error" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (4L, 4L), labels [ 0L; 1L; 2L; 2L ]

                        for f in
                            [
                                fun () -> compiled.Fit(x, y, sampleWeight = torch.ones (3L), verbose = 0) |> ignore
                                fun () -> compiled.Evaluate(x, y, sampleWeight = torch.ones (5L), verbose = 0) |> ignore
                                fun () -> compiled.TrainOnBatch(x, y, sampleWeight = torch.ones (2L)) |> ignore
                            ] do
                            let e = kerasException f
                            contains e.Message "sample_weight"
                    }
                ]

            testList
                "fit, evaluate and predict arguments"
                [
                    test "fit and evaluate on 0 samples are errors, not loss 0" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (0L, 4L), labels []
                        contains (kerasException (fun () -> compiled.Fit(x, y, verbose = 0))).Message "non-empty"
                        contains (kerasException (fun () -> compiled.Evaluate(x, y, verbose = 0))).Message "non-empty"
                        contains (kerasException (fun () -> compiled.TrainOnBatch(x, y))).Message "non-empty"
                    }

                    test "bad batch_size, epochs and initial_epoch are errors" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (4L, 4L), labels [ 0L; 1L; 2L; 2L ]

                        let argumentOf f =
                            match (kerasException f).Error with
                            | InvalidArgument(_, argument, _, received) -> argument, received
                            | other -> failtestf "unexpected error %A" other

                        Expect.equal
                            (argumentOf (fun () -> compiled.Evaluate(x, y, batchSize = -1, verbose = 0)))
                            ("batch_size", "-1")
                            "evaluate"

                        Expect.equal
                            (argumentOf (fun () -> compiled.Fit(x, y, batchSize = 0, verbose = 0)))
                            ("batch_size", "0")
                            "fit"

                        Expect.equal
                            (argumentOf (fun () -> compiled.Fit(x, y, epochs = -1, verbose = 0)))
                            ("epochs", "-1")
                            "epochs"

                        Expect.equal
                            (argumentOf (fun () -> compiled.Fit(x, y, initialEpoch = -2, verbose = 0)))
                            ("initial_epoch", "-2")
                            "initial epoch"

                        Expect.equal
                            (argumentOf (fun () -> compiled.Predict(x, batchSize = 0)))
                            ("batch_size", "0")
                            "predict"
                    }

                    test "a validation_split that leaves no training rows is an error" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (4L, 4L), labels [ 0L; 1L; 2L; 2L ]

                        let e =
                            kerasException (fun () -> compiled.Fit(x, y, validationSplit = 0.9, verbose = 0))

                        contains e.Message "Training data contains 4 samples"
                        // One row of four held out leaves three to train on.
                        let history = compiled.Fit(x, y, validationSplit = 0.25, verbose = 0)
                        Expect.isTrue (history.History.ContainsKey "val_loss") "validated"
                    }

                    test "the caller's tensors stay usable after fit, evaluate, predict and the batch methods" {
                        let compiled = compiledClassifier ()
                        let x, y = torch.rand (8L, 4L), labels [ 0L; 1L; 2L; 2L; 1L; 0L; 1L; 2L ]
                        let x64 = x.to_type torch.ScalarType.Float64
                        let w = torch.ones (8L)
                        let expected = values x

                        compiled.Fit(
                            x,
                            y,
                            batchSize = 4,
                            epochs = 2,
                            sampleWeight = w,
                            validationSplit = 0.25,
                            verbose = 0
                        )
                        |> ignore

                        compiled.Fit(
                            x64,
                            y,
                            batchSize = 4,
                            validationData = (Data.Tensor x64, Data.Tensor y),
                            verbose = 0
                        )
                        |> ignore

                        compiled.Evaluate(x64, y, sampleWeight = w, verbose = 0) |> ignore
                        compiled.Predict(x64) |> ignore
                        compiled.TrainOnBatch(x64, y) |> ignore
                        compiled.TestOnBatch(x, y) |> ignore
                        Model.predict compiled.Model x64 |> ignore

                        Expect.equal (values x) expected "x"
                        Expect.equal (values x64) expected "x as float64"
                        Expect.equal (values y) [| 0.0f; 1.0f; 2.0f; 2.0f; 1.0f; 0.0f; 1.0f; 2.0f |] "y"
                        Expect.equal (values w) (Array.create 8 1.0f) "sample weights"
                    }

                    test "a model without trainable weights fits (nothing to train), as in Keras" {
                        let inputs = Keras.Input(shape = [ 3 ])
                        let model = Keras.Model(inputs, inputs --> Layers.Activation("relu"))
                        let compiled = model.Compile(optimizer = "adam", loss = "mse")
                        let x = torch.rand (8L, 3L)

                        let history =
                            compiled.Fit(x, Data.Tensor(x * 2.0f), batchSize = 4, epochs = 2, verbose = 0)

                        Expect.equal history.Epochs [ 0; 1 ] "two epochs"
                        Expect.isGreaterThan (List.head history["loss"]) 0.0 "a real loss"
                    }

                    test
                        "a non-scalar value given to Gradients.valueAndGrad is a Keras error with the native one inside" {
                        let model = classifier ()
                        model.Predict(torch.rand (1L, 4L)) |> ignore
                        let weights = Model.trainableWeights model

                        let e =
                            kerasException (fun () ->
                                Gradients.valueAndGrad
                                    (fun () -> Model.callEager model true [ torch.rand (2L, 4L) ] |> List.head)
                                    weights)

                        // libtorch would abort the whole process here rather than throw.
                        match e.Error with
                        | InvalidArgument("Gradients.valueAndGrad", "f", _, "a value of shape (2, 3)") -> ()
                        | other -> failtestf "unexpected error %A" other

                        // A value that does not depend on the weights has zero gradients.
                        let _, grads = Gradients.valueAndGrad (fun () -> torch.ones (1L)) weights
                        Expect.all grads (fun g -> g.abs().sum().item<float32>() = 0.0f) "zeros"
                    }

                    test "predict on 0 rows returns an empty batch of the output's shape" {
                        let model = classifier ()
                        let out = model.Predict(torch.rand (0L, 4L))
                        Expect.equal out.shape [| 0L; 3L |] "shape"
                        Expect.equal out.dtype torch.ScalarType.Float32 "dtype"
                        let compiled = model.Compile(optimizer = "sgd", loss = "mse")

                        Expect.equal
                            (compiled.Predict(torch.rand (0L, 4L)) |> List.head).shape
                            [| 0L; 3L |]
                            "compiled predict"
                    }
                ]

            testList
                "native errors"
                [
                    test "a native error in a layer call names the layer and keeps libtorch's exception inside" {
                        // A custom layer whose call reads a column the input does not have when given 3 rows
                        // (its shape inference runs it on 2): libtorch fails.
                        let picker () =
                            CustomLayer.Create(
                                "Picker",
                                call =
                                    (fun _ x ->
                                        let column = if x.shape[0] = 3L then 10L else 0L
                                        x.index_select (1L, torch.tensor [| column |])),
                                outputShape = (fun s -> [ s.Head; Some 1 ]),
                                name = "picker"
                            )

                        let inputs = Keras.Input(shape = [ 4 ])
                        let model = Keras.Model(inputs, inputs --> picker ())
                        let e = kerasException (fun () -> model.Predict(torch.rand (3L, 4L)))

                        match e.Error with
                        | ComputationFailed("picker", what, detail) ->
                            Expect.equal what "Picker.call() of layer" "what"
                            Expect.isNotEmpty detail "the native message"
                            Expect.isFalse (detail.Contains "frame #0") "no C++ trace in the message"
                        | other -> failtestf "unexpected error %A" other

                        Expect.isNotNull e.InnerException "the native exception is kept"
                        Expect.isFalse (e.InnerException :? KerasException) "inner is the native one"

                        // Eagerly, and while training (the loss step), the same.
                        let eager =
                            kerasException (fun () -> Layer.callEager (picker ()) false [ torch.rand (3L, 4L) ])

                        contains eager.Message "\"picker\""
                        let compiled = model.Compile(optimizer = "sgd", loss = "mse")

                        let training =
                            kerasException (fun () ->
                                compiled.Fit(torch.rand (3L, 4L), torch.rand (3L, 1L), verbose = 0))

                        contains training.Message "Picker.call() of layer \"picker\""
                    }

                    test "a failing custom loss names the output" {
                        let model = classifier ()

                        let bad =
                            CustomLoss("bad_loss", fun y p -> (p - y).index_select(1L, torch.tensor [| 10L |]))

                        let compiled = model.Compile(optimizer = "sgd", loss = bad)

                        let e =
                            kerasException (fun () ->
                                compiled.Evaluate(torch.rand (2L, 4L), torch.rand (2L, 3L), verbose = 0))

                        match e.Error with
                        | ComputationFailed("scores", "loss bad_loss of output", _) -> ()
                        | other -> failtestf "unexpected error %A" other

                        Expect.isNotNull e.InnerException "inner"
                    }

                    test "KerasException keeps the one-argument constructor and gains one with an inner exception" {
                        let inner = InvalidOperationException "native"
                        let e = KerasException(NativeLoadFailed "x", inner)
                        Expect.equal e.InnerException (inner :> exn) "inner"
                        Expect.isNull (KerasException(NativeLoadFailed "x")).InnerException "none"
                    }

                    test "Inf inputs with TerminateOnNaN stop training without changing the weights" {
                        let model = classifier ()

                        let compiled =
                            model.Compile(optimizer = "sgd", loss = SparseCategoricalCrossentropy true)

                        let before = Model.weights model |> List.map (fun w -> values w.Value)
                        let x = torch.rand (8L, 4L)
                        x[0L, 0L] <- torch.tensor Single.PositiveInfinity

                        let history =
                            compiled.Fit(
                                x,
                                labels [ 0L; 1L; 2L; 0L; 1L; 2L; 0L; 1L ],
                                batchSize = 8,
                                epochs = 3,
                                shuffle = false,
                                callbacks = [ Callbacks.TerminateOnNaN() ],
                                verbose = 0
                            )

                        Expect.equal history.Epochs [ 0 ] "stopped in the first epoch"
                        Expect.equal (Model.weights model |> List.map (fun w -> values w.Value)) before "unchanged"
                    }
                ]

            testList
                "shapes of 2^31 and more"
                [
                    test "Shape.formatDims prints int64 dimensions exactly" {
                        Expect.equal (Shape.formatDims [ 1099511627776L; 4L ]) "(1099511627776, 4)" "2^40"
                        Expect.equal (Shape.formatDims [ 2147483648L ]) "(2147483648,)" "2^31"
                    }

                    test "a layer call on a tensor with a 2^40 axis reports the exact shape" {
                        let layer = Layers.Dense(2, name = "huge")
                        Layer.callEager layer false [ torch.zeros (1L, 4L) ] |> ignore
                        let big = torch.zeros(1L, 4L).expand(1099511627776L, 4L)
                        let e = kerasException (fun () -> Layer.callEager layer false [ big ])
                        contains e.Message "(1099511627776, 4)"
                        contains e.Message "\"huge\""
                    }

                    test "a model given a 2^40-row tensor reports the exact shape" {
                        let model = classifier ()
                        let big = torch.zeros(1L, 4L).expand(1099511627776L, 4L)
                        let e = kerasException (fun () -> model.Predict big)
                        contains e.Message "1099511627776"
                    }
                ]
        ]
