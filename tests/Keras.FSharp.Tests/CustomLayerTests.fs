/// The guide's "Extend the API using custom layers" and "Mix-and-match API styles" sections in F#: CustomDense,
/// the CustomRNN holding a functional model or a Dense classifier, the MLP as a custom model, eager calls, the
/// training flag, shape inference by running the call, and the errors of custom layers.
module CustomLayerTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// The guide's CustomDense: units, random_normal weights "w" and "b", matmul(inputs, w) + b.
let customDense (units: int) =
    CustomLayer.Create(
        "CustomDense",
        config = [ "units", units ],
        build =
            (fun b ->
                b.AddWeight("w", [ b.Dim -1; units ], "random_normal")
                b.AddWeight("b", [ units ], "random_normal")),
        call = fun self x -> torch.matmul (x, self["w"]) + self["b"]
    )

/// The guide's CustomRNN: two tanh projections unrolled over time from a zero state (its batch size read from the
/// input, hence a static batch), then a classifier (a functional model or a layer) on the stacked features. Each
/// features shape is recorded in <paramref name="printed"/>, as the guide prints it.
let customRnn (units: int) (classifier: Choice<Model, Layer>) (printed: ResizeArray<int64 list>) =
    let projection1 = Layers.Dense(units, activation = "tanh")
    let projection2 = Layers.Dense(units, activation = "tanh")

    let models, layers =
        match classifier with
        | Choice1Of2 model -> [ model ], [ projection1; projection2 ]
        | Choice2Of2 layer -> [], [ projection1; projection2; layer ]

    CustomLayer.Create(
        "CustomRNN",
        config = [ "units", units ],
        layers = layers,
        models = models,
        call =
            fun self inputs ->
                let outputs = ResizeArray<torch.Tensor>()
                let mutable state = torch.zeros ([| inputs.shape[0]; int64 units |])

                for t in 0L .. inputs.shape[1] - 1L do
                    let x = inputs.select (1, t) // inputs[:, t, :]
                    let h = self.Call(projection1, x)
                    let y = h + self.Call(projection2, state)
                    state <- y
                    outputs.Add y

                let features = torch.stack (outputs, 1L)
                printed.Add(List.ofArray features.shape)

                match classifier with
                | Choice1Of2 model -> self.Call(model, features)
                | Choice2Of2 layer -> self.Call(layer, features)
    )

/// Runs f, expecting a KerasException whose message contains every fragment.
let throwsKeras (fragments: string list) (f: unit -> 'a) =
    let message =
        try
            f () |> ignore
            failtest "expected a KerasException"
        with :? KerasException as e ->
            e.Message

    for fragment in fragments do
        Expect.stringContains message fragment "error message"

let private shapeOf (t: torch.Tensor) = List.ofArray t.shape

let private mse (a: torch.Tensor) (b: torch.Tensor) =
    (a - b).square().mean().item<float32>() |> float

[<Tests>]
let tests =
    testList
        "CustomLayers"
        [
            test "CustomDense(10) on Input((4,)): a model with 50 parameters, in the summary, computing x·w + b" {
                let inputs = Keras.Input(shape = [ 4 ])
                let layer = customDense 10
                let model = Keras.Model(inputs, inputs --> layer)
                Expect.equal (model.CountParams()) 50L "4·10 + 10 parameters"
                Expect.equal layer.ClassName "CustomDense" "class name"
                Expect.stringStarts layer.Name "custom_dense" "automatic name from the class name"
                Expect.equal (model.Outputs.Head.Shape) [ None; Some 10 ] "inferred output shape"

                let weights = Layer.weights layer
                Expect.equal (weights |> List.map _.Name) [ "w"; "b" ] "weights in declaration order"

                Expect.equal
                    (weights |> List.map (fun w -> List.ofArray w.Value.shape))
                    [ [ 4L; 10L ]; [ 10L ] ]
                    "weight shapes"
                // random_normal: mean 0, stddev 0.05 — every value well inside ±0.5.
                Expect.isTrue
                    (weights
                     |> List.forall (fun w -> (values w.Value |> Array.forall (fun v -> abs v < 0.5f))))
                    "random_normal scale"

                let summary = model.SummaryText()
                Expect.stringContains summary $"{layer.Name} (CustomDense)" "summary row"
                Expect.stringContains summary "Total params: 50 (200.00 B)" "summary total"

                let x = torch.randn (3L, 4L)
                let expected = torch.matmul (x, weights[0].Value) + weights[1].Value
                closeTo 1e-5f (values expected) (values (model.Predict x)) "predict = x·w + b"
                closeTo 1e-5f (values expected) (values (layer.Call x)) "eager layer call"
            }

            test "CustomDense trains in fit: the loss falls" {
                let inputs = Keras.Input(shape = [ 4 ])
                let model = Keras.Model(inputs, inputs --> customDense 3)
                let x = torch.randn (64L, 4L)

                let target =
                    torch
                        .tensor([| 1.0f; -2.0f; 0.5f; 1.5f; 0.0f; -1.0f; 2.0f; 1.0f; -0.5f; 0.3f; 0.7f; -1.2f |])
                        .reshape(4L, 3L)

                let y = torch.matmul (x, target) + 0.5f

                let compiled =
                    model.Compile(optimizer = Optimizers.Adam(learningRate = ConstantRate 0.05), loss = "mse")

                let history = compiled.Fit(x, y, batchSize = 16, epochs = 15, verbose = 0)
                let losses = history["loss"]
                Expect.isLessThan (List.last losses) (List.head losses * 0.2) $"loss falls: {losses}"
            }

            test "the guide's CustomRNN holding a functional model: eager call on zeros (1, 10, 5)" {
                let units, timesteps, inputDim = 32, 10, 5
                // Define a Functional model
                let inputs = Keras.Input(shape = [ -1; units ])
                let x = inputs --> Layers.GlobalAveragePooling1D()
                let outputs = x --> Layers.Dense(1)
                let model = Keras.Model(inputs, outputs)

                let printed = ResizeArray()
                let rnnModel = customRnn units (Choice1Of2 model) printed
                let result = rnnModel.Call(torch.zeros (1L, int64 timesteps, int64 inputDim))

                // The guide prints (1, 10, 32) twice: once while Keras infers the output, once in the call.
                Expect.equal
                    (List.ofSeq printed)
                    [ [ 1L; 10L; 32L ]; [ 1L; 10L; 32L ] ]
                    "features shape, as the guide prints it"

                Expect.equal (shapeOf result) [ 1L; 1L ] "classifier output"

                // projection_1: 5·32 + 32, projection_2: 32·32 + 32, classifier: 32 + 1.
                Expect.equal
                    (Layer.countParams rnnModel)
                    (192L + 1056L + 33L)
                    "the held layers' and model's weights count"

                // The model inside keeps sharing its weights with the standalone model.
                let held = Layer.weights rnnModel |> List.map (fun w -> w.Value :> torch.Tensor)

                for w in Model.weights model do
                    Expect.isTrue
                        (held |> List.exists (fun h -> obj.ReferenceEquals(h, w.Value)))
                        $"weight {w.Name} shared"

                let dense = model.Layers |> List.last
                Layer.setWeights dense [ torch.zeros (32L, 1L); torch.tensor ([| 0.75f |]) ]

                closeTo
                    1e-6f
                    [| 0.75f; 0.75f |]
                    (values (rnnModel.Call(torch.randn (2L, 10L, 5L))))
                    "new classifier weights seen through the custom layer"

                closeTo
                    1e-6f
                    [| 0.75f; 0.75f |]
                    (values (model.Predict(torch.randn (2L, 7L, 32L))))
                    "and by the standalone model"
            }

            test
                "the guide's second CustomRNN after Conv1D(32, 3) on Input(batch_shape=(16, 10, 5)): (16, 8, 1), trains" {
                let printed = ResizeArray()
                let inputs = Keras.Input(batchShape = [ 16; 10; 5 ])
                let x = inputs --> Layers.Conv1D(32, 3)
                let rnn = customRnn 32 (Choice2Of2(Layers.Dense(1))) printed
                let outputs = x --> rnn
                let model = Keras.Model(inputs, outputs)
                Expect.equal outputs.Shape [ Some 16; Some 8; Some 1 ] "output shape (16, 8, 1)"
                Expect.equal (List.ofSeq printed) [ [ 16L; 8L; 32L ] ] "the batch size is static inside the call"
                Expect.equal (Layer.countParams rnn) (1056L + 1056L + 33L) "custom layer parameters"
                Expect.equal (model.CountParams()) (5L * 3L * 32L + 32L + 2145L) "model parameters"
                Expect.stringContains (model.SummaryText()) $"{rnn.Name} (CustomRNN)" "summary row"
                Expect.stringContains (model.SummaryText()) "2,145" "summary params of the custom layer"

                // One batch of 16 per epoch: the model's inputs have a static batch size of 16.
                let data = torch.randn (16L, 10L, 5L)
                let targets = torch.rand (16L, 8L, 1L)

                let compiled =
                    model.Compile(optimizer = Optimizers.Adam(learningRate = ConstantRate 0.01), loss = "mse")

                let before = Layer.getWeights rnn
                let history = compiled.Fit(data, targets, batchSize = 16, epochs = 12, verbose = 0)
                let losses = history["loss"]
                Expect.isLessThan (List.last losses) (List.head losses * 0.7) $"loss falls: {losses}"

                for b, a in List.zip before (Layer.getWeights rnn) do
                    Expect.notEqual (values a) (values b) "fit updated every weight the custom layer holds"

                Expect.equal (shapeOf (compiled.Predict(data, batchSize = 16)).Head) [ 16L; 8L; 1L ] "predictions"

                // The guide's last line: a fresh CustomRNN called eagerly on zeros (1, 10, 5).
                let fresh = customRnn 32 (Choice2Of2(Layers.Dense(1))) (ResizeArray())
                Expect.equal (shapeOf (fresh.Call(torch.zeros (1L, 10L, 5L)))) [ 1L; 10L; 1L ] "eager output"
            }

            test "the MLP as a custom model equals the functional mlp given equal weights, and fits/evaluates/predicts" {
                // Functional
                let inputs = Keras.Input(shape = [ 32 ])
                let x = inputs --> Layers.Dense(64, activation = "relu")
                let outputs = x --> Layers.Dense(10)
                let mlp = Keras.Model(inputs, outputs)

                // "Subclassed"
                let dense1 = Layers.Dense(64, activation = "relu")
                let dense2 = Layers.Dense(10)

                let custom =
                    CustomModel.Create(
                        "MLP",
                        Keras.Input(shape = [ 32 ]),
                        layers = [ dense1; dense2 ],
                        call = fun self x -> self.Call(dense2, self.Call(dense1, x))
                    )

                Expect.equal (custom.Call(torch.zeros (1L, 32L)) |> shapeOf) [ 1L; 10L ] "mlp(ops.zeros((1, 32)))"
                Expect.equal (custom.CountParams()) (mlp.CountParams()) "same parameter count"
                Expect.equal (custom.CountParams()) 2762L "32·64 + 64 + 64·10 + 10"
                Layer.setWeights custom.AsLayer (Layer.getWeights mlp.AsLayer)
                let data = torch.randn (8L, 32L)
                closeTo 1e-5f (values (mlp.Predict data)) (values (custom.Predict data)) "equal outputs"

                let compiled = custom.Compile(optimizer = "adam", loss = "mse")
                let y = torch.randn (8L, 10L)
                let before = compiled.Evaluate(data, y, verbose = 0)["loss"]
                compiled.Fit(data, y, epochs = 5, batchSize = 8, verbose = 0) |> ignore
                let after = compiled.Evaluate(data, y, verbose = 0)["loss"]
                Expect.isLessThan after before "fit lowers the loss"

                closeTo
                    1e-4f
                    [| float32 after |]
                    [| float32 (mse (custom.Predict data) y) |]
                    "evaluate agrees with predict"
            }

            test "a subclassed model saves as Keras writes one and loads back only through its registered class" {
                Utils.setRandomSeed 41

                // The body: a custom layer holding two Dense layers, with its constructor argument in its config.
                let mlpLayer (units: int) =
                    let dense1 = Layers.Dense(units, activation = "relu")
                    let dense2 = Layers.Dense(3)

                    CustomLayer.Create(
                        "SavedMLP",
                        config = [ "units", units ],
                        layers = [ dense1; dense2 ],
                        call = fun self x -> self.Call(dense2, self.Call(dense1, x))
                    )

                let model = CustomModel.OfLayer(mlpLayer 8, Keras.Input(shape = [ 5 ]))
                let plainInput = Keras.Input(shape = [ 5 ])
                let functional = Keras.Model(plainInput, plainInput --> Layers.Dense(3))
                Expect.isSome (CustomModel.TryBody model) "OfLayer makes a subclassed model"
                Expect.isNone (CustomModel.TryBody functional) "a functional model is not one"
                Expect.equal (Model.countParams model) (5L * 8L + 8L + 8L * 3L + 3L) "5·8 + 8 + 8·3 + 3"
                let x = torch.randn (4L, 5L)
                let expected = model.Predict x

                let path =
                    IO.Path.Combine(IO.Path.GetTempPath(), $"subclassed-{Guid.NewGuid():N}.keras")

                try
                    KerasFile.save model path
                    let saved = KerasFile.readArchiveConfig path
                    let text (node: Text.Json.Nodes.JsonNode) = node.ToJsonString()
                    Expect.equal (text (saved["class_name"])) "\"SavedMLP\"" "class_name"
                    Expect.equal (text (saved["registered_name"])) "\"SavedMLP\"" "registered_name"
                    Expect.equal (text (saved["config"]["units"])) "8" "the body's own config"
                    Expect.equal (text (saved["config"]["name"])) $"\"{model.Name}\"" "the model's name"
                    Expect.equal (text (saved["build_config"]["input_shape"])) "[null,5]" "build_config"

                    let _, message = kerasError (fun () -> KerasFile.load path CustomObjects.none)

                    Expect.stringContains
                        message
                        "subclassed model"
                        "unregistered: the message says what the file holds"

                    Expect.stringContains message "SavedMLP" "and names the class"

                    let custom: Collections.Generic.IDictionary<string, CustomObject> =
                        dict [ "SavedMLP", LayerClass(fun c -> mlpLayer (c.Int "units")) ]

                    let loaded = KerasFile.load path custom
                    Expect.isSome (CustomModel.TryBody loaded) "loaded as a subclassed model"
                    Expect.equal loaded.Name model.Name "name"
                    Expect.equal (Model.countParams loaded) (Model.countParams model) "parameters"
                    closeTo 1e-6f (values expected) (values (loaded.Predict x)) "same predictions"

                    let again = KerasFile.serializeModel loaded None
                    Expect.equal (text (again["class_name"])) "\"SavedMLP\"" "written again as the same class"
                finally
                    IO.File.Delete path
            }

            test "a custom layer's training flag: true in fit, false in predict and evaluate" {
                let seen = Collections.Concurrent.ConcurrentBag<bool>()

                let doubleInTraining =
                    CustomLayer.Create(
                        "DoubleInTraining",
                        call =
                            fun self x ->
                                seen.Add self.Training
                                if self.Training then x * 2.0f else x
                    )

                let inputs = Keras.Input(shape = [ 3 ])
                let dense = Layers.Dense(2)
                let model = Keras.Model(inputs, inputs --> dense --> doubleInTraining)
                let x = torch.randn (6L, 3L)
                let y = torch.randn (6L, 2L)
                let plain = dense.Call x
                closeTo 1e-6f (values plain) (values (model.Predict x)) "inference: identity"

                closeTo
                    1e-6f
                    (values (plain * 2.0f))
                    (values (doubleInTraining.Call(plain, training = true)))
                    "training: doubled"

                let compiled =
                    model.Compile(optimizer = Optimizers.SGD(learningRate = ConstantRate 0.0), loss = "mse")

                let trainingLoss = compiled.ComputeLoss(x, y).item<float32>() |> float

                closeTo
                    1e-5f
                    [| float32 (mse (plain * 2.0f) y) |]
                    [| float32 trainingLoss |]
                    "training loss uses the doubled output"

                closeTo
                    1e-5f
                    [| float32 (mse plain y) |]
                    [| float32 (compiled.Evaluate(x, y, verbose = 0)["loss"]) |]
                    "evaluate uses inference"

                seen.Clear()
                compiled.Fit(x, y, epochs = 1, batchSize = 6, verbose = 0) |> ignore
                Expect.isTrue (seen |> Seq.forall id && not seen.IsEmpty) "fit calls in training mode"
                seen.Clear()
                model.Predict x |> ignore
                Expect.isTrue (seen |> Seq.forall not && not seen.IsEmpty) "predict calls in inference mode"
            }

            test "a declared shape rule gives the output spec; calls are checked against it" {
                let halve =
                    CustomLayer.Create(
                        "Halve",
                        outputShape =
                            (fun s -> List.take (s.Length - 1) s @ [ s |> List.last |> Option.map (fun d -> d / 2) ]),
                        call = fun _ x -> x.narrow (-1L, 0L, x.shape[x.shape.Length - 1] / 2L)
                    )

                let y = Keras.Input(shape = [ -1; 8 ]) --> halve
                Expect.equal y.Shape [ None; None; Some 4 ] "rule's shape, unknown dims kept"
                Expect.equal (shapeOf (halve.Call(torch.ones (2L, 3L, 8L)))) [ 2L; 3L; 4L ] "eager"

                let liar =
                    CustomLayer.Create("Liar", outputShape = id, call = fun _ x -> x.sum (-1L, keepdim = true))

                // The message speaks of the user's shapes, not of the zeros the layer was tried on.
                throwsKeras
                    [
                        liar.Name
                        "Liar"
                        "returned outputs of shape (None, None, 1)"
                        "rule gives (None, None, 5) for inputs of shape (None, None, 5)"
                    ]
                    (fun () -> Keras.Input(shape = [ -1; 5 ]) --> liar)
            }

            test "masks reach the call; supportsMasking passes them on" {
                let sawMask = ResizeArray<bool>()

                let masked =
                    CustomLayer.Create(
                        "MaskAware",
                        supportsMasking = true,
                        call =
                            fun self x ->
                                sawMask.Add self.Mask.IsSome

                                match self.Mask with
                                | Some m -> x * m.unsqueeze(-1L).to_type(x.dtype)
                                | None -> x
                    )

                let inputs = Keras.Input(shape = [ 3 ], dtype = Int64)
                let embedded = inputs --> Layers.Embedding(10, 2, maskZero = true) --> masked
                let model = Keras.Model(inputs, embedded --> Layers.GlobalAveragePooling1D())
                let out = model.Predict(torch.tensor([| 1L; 0L; 0L |]).reshape(1L, 3L))
                Expect.isTrue (sawMask |> Seq.exists id) "the mask from Embedding(mask_zero=True) reached the call"
                Expect.equal (shapeOf out) [ 1L; 2L ] "pooled"
            }

            test "eager calls: layers and models build on their first call on concrete tensors" {
                let dense = Layers.Dense(3)
                Expect.isFalse (Weights.isBuilt dense) "not built yet"
                let y = dense.Call(torch.ones (2L, 4L))
                Expect.equal (shapeOf y) [ 2L; 3L ] "output"
                Expect.equal (Layer.countParams dense) 15L "built from the tensor's shape"

                let ys =
                    (Layers.Concatenate()).CallMany [ torch.ones (2L, 1L); torch.zeros (2L, 2L) ]

                Expect.equal (shapeOf ys.Head) [ 2L; 3L ] "several inputs"
            }

            test "errors name the layer: duplicate weight, unknown weight, wrong rank, undeclared layer, failing call" {
                let dup =
                    CustomLayer.Create(
                        "Dup",
                        build =
                            (fun b ->
                                b.AddWeight("w", [ 2 ])
                                b.AddWeight("w", [ 3 ])),
                        call = fun self x -> x * self["w"]
                    )

                throwsKeras [ dup.Name; "'w'"; "already" ] (fun () -> Keras.Input(shape = [ 2 ]) --> dup)

                let missing = CustomLayer.Create("Missing", call = fun self x -> x * self["kernel"])
                throwsKeras [ missing.Name; "kernel" ] (fun () -> Keras.Input(shape = [ 2 ]) --> missing)

                let rank3 =
                    CustomLayer.Create(
                        "NeedsRank3",
                        inputSpec = { InputSpec.any with NDim = Some 3 },
                        call = fun _ x -> x
                    )

                throwsKeras [ rank3.Name; "expected ndim=3, found ndim=2" ] (fun () ->
                    Keras.Input(shape = [ 2 ]) --> rank3)

                let rnn = customRnn 4 (Choice2Of2(Layers.Dense(1))) (ResizeArray())
                throwsKeras [ rnn.Name; "CustomRNN"; "(2, 5)" ] (fun () -> Keras.Input(shape = [ 5 ]) --> rnn)

                let stray = Layers.Dense(2)
                let sneaky = CustomLayer.Create("Sneaky", call = fun self x -> self.Call(stray, x))
                throwsKeras [ sneaky.Name; stray.Name; "not held" ] (fun () -> sneaky.Call(torch.ones (1L, 3L)))

                let unknownDim = customDense 2

                throwsKeras [ unknownDim.Name; "Axis -1 of the input must be known" ] (fun () ->
                    Keras.Input(shape = [ -1 ]) --> unknownDim)

                throwsKeras [ "Give exactly one of `call` and `callMany`" ] (fun () -> CustomLayer.Create("NoCall"))
            }

            test "Lambda: a stateless function in a graph, its shape inferred by running it" {
                let inputs = Keras.Input(shape = [ -1; 4 ])

                let layer =
                    Lambda.Create((fun x -> torch.cat ([| x; x |], -1L)), functionName = "test_duplicate")

                let y = inputs --> layer
                Expect.equal y.Shape [ None; None; Some 8 ] "inferred, unknown dims kept"
                Expect.equal layer.ClassName "Lambda" "class"
                let model = Keras.Model(inputs, y)
                Expect.equal (shapeOf (model.Predict(torch.ones (2L, 3L, 4L)))) [ 2L; 3L; 8L ] "runs"
            }

            testProperty
                "a custom layer without a shape rule: inferred shape = real output shape"
                (Prop.forAll
                    (Arb.fromGen (
                        gen {
                            let! rank = Gen.choose (2, 4)

                            let! dims =
                                Gen.listOfLength
                                    (rank - 2)
                                    (Gen.frequency [ 1, Gen.constant None; 2, Gen.map Some (Gen.choose (1, 5)) ])

                            let! last = Gen.choose (1, 4)
                            let! batch = Gen.elements [ None; Some 3 ]
                            let! units = Gen.choose (1, 3)
                            let! concrete = Gen.listOfLength rank (Gen.choose (1, 5))
                            return (batch :: dims @ [ Some last ]), units, concrete
                        }
                    ))
                    (fun (shape: Shape, units: int, concrete: int list) ->
                        // Projects the last axis to `units` and doubles the second axis (rank ≥ 3) or keeps it.
                        let layer =
                            CustomLayer.Create(
                                "ProjectAndRepeat",
                                build = (fun b -> b.AddWeight("k", [ b.Dim -1; units ])),
                                call =
                                    fun self x ->
                                        let y = torch.matmul (x, self["k"])
                                        if x.dim () >= 3L then torch.cat ([| y; y |], 1L) else y
                            )

                        let symbolic = (CoreLayers.input None (Some shape) Float32 None --> layer).Shape

                        let expected =
                            shape
                            |> List.mapi (fun i d ->
                                if i = shape.Length - 1 then
                                    Some units
                                elif i = 1 && shape.Length >= 3 then
                                    d |> Option.map (fun n -> 2 * n)
                                else
                                    d)

                        Expect.equal symbolic expected "inferred shape"
                        let sizes = List.map2 (fun d c -> defaultArg d c) shape concrete
                        let real = layer.Call(torch.randn (sizes |> List.map int64 |> Array.ofList))
                        Expect.equal real.shape.Length symbolic.Length "rank"

                        symbolic
                        |> List.iteri (fun i d ->
                            d |> Option.iter (fun n -> Expect.equal real.shape[i] (int64 n) $"axis {i}"))))
        ]
