/// Functional models: building and validation, weight sharing, nesting, ensembles, feature extraction, execution.
module ModelTests

open System.Collections.Generic
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// The guide's first model: 784 → Dense 64 relu → Dense 64 relu → Dense 10.
let mnistModel () =
    let inputs = Keras.Input(shape = [ 784 ])
    let x = inputs --> Layers.Dense(64, activation = "relu")
    let x = x --> Layers.Dense(64, activation = "relu")
    let outputs = x --> Layers.Dense(10)
    Keras.Model(inputs, outputs, name = "mnist_model")

[<Tests>]
let tests =
    testList
        "Models"
        [
            test "The guide's MNIST model has Keras's shapes and parameter counts" {
                let model = mnistModel ()
                Expect.equal model.Inputs.Head.Shape [ None; Some 784 ] "input"
                Expect.equal model.Outputs.Head.Shape [ None; Some 10 ] "output"
                Expect.equal (model.Layers |> List.map _.ClassName) [ "InputLayer"; "Dense"; "Dense"; "Dense" ] "layers"
                Expect.equal (model.Layers |> List.map Layer.countParams) [ 0L; 50240L; 4160L; 650L ] "per layer"
                Expect.equal (model.CountParams()) 55050L "total"
            }

            test "predict runs in batches and gives one row per sample" {
                let model = mnistModel ()
                let x = torch.rand (100L, 784L)
                let y = model.Predict(x)
                Expect.equal y.shape [| 100L; 10L |] "(100, 10)"
                let y7 = model.Predict(x, batchSize = 7)
                closeTo 1e-5f (values y) (values y7) "batch size does not change results"
                Expect.isFalse y.requires_grad "no gradient history"
            }

            test "predict never frees a tensor the caller or a layer owns, even when an output is that tensor" {
                // The outputs made in a batch leave its dispose scope as they are; anything else must leave as an
                // alias, or disposing the batch pieces after joining them would free the caller's or the layer's.
                let constant = tensor2 [ [ 1.f; 2.f ] ]

                let passesConstant =
                    Layer.create None (Layer.simpleSpec "PassesConstant" (fun _ _ -> [ constant ]))

                let inputs = Keras.Input(shape = [ 2 ])
                let constantModel = Keras.Model(inputs, inputs --> passesConstant)
                let identity = Keras.Model(inputs, inputs)
                let x = tensor2 [ [ 3.f; 4.f ] ]

                for _ in 1..2 do
                    closeTo 0.f [| 1.f; 2.f |] (values (constantModel.Predict x)) "the layer's constant"
                    closeTo 0.f [| 3.f; 4.f |] (values (identity.Predict x)) "the input passed through"

                closeTo 0.f [| 1.f; 2.f |] (values constant) "the constant is still alive"
                closeTo 0.f [| 3.f; 4.f |] (values x) "the input is still alive"
            }

            test "A model's forward values equal the hand-computed composition" {
                let inputs = Keras.Input(shape = [ 2 ])
                let hidden = Layers.Dense(2, activation = "relu")
                let out = Layers.Dense(1)
                let model = Keras.Model(inputs, inputs --> hidden --> out)
                Layer.setWeights hidden [ tensor2 [ [ 1.f; -1.f ]; [ 1.f; 1.f ] ]; torch.tensor [| 0.f; 0.5f |] ]
                Layer.setWeights out [ tensor2 [ [ 2.f ]; [ -3.f ] ]; torch.tensor [| 1.f |] ]
                // x = [1, 2]: hidden = relu([3, 1.5]) = [3, 1.5]; out = 6 - 4.5 + 1 = 2.5
                // x = [2, -3]: hidden = relu([-1, -4.5]) = [0, 0]; out = 1
                let y = model.Predict(tensor2 [ [ 1.f; 2.f ]; [ 2.f; -3.f ] ])
                closeTo 1e-6f [| 2.5f; 1.f |] (values y) "outputs"
            }

            test "Data is cast to the input's dtype, and wrong shapes are refused with the model's name" {
                let model = mnistModel ()
                let y = model.Predict(torch.zeros ([| 3L; 784L |], dtype = torch.ScalarType.Byte))
                Expect.equal y.shape [| 3L; 10L |] "uint8 data"
                let _, message = kerasError (fun () -> model.Predict(torch.zeros (3L, 32L)))

                Expect.equal
                    message
                    "Input 0 of layer \"mnist_model\" is incompatible with the layer: expected shape=(None, 784), found shape=(3, 32)"
                    "wrong shape"
            }

            test "A layer called twice shares its weights" {
                let shared = Layers.Dense(8)
                let a = Keras.Input(shape = [ 4 ])
                let b = Keras.Input(shape = [ 4 ])
                let model = Keras.Model([ a; b ], [ a --> shared; b --> shared ])
                Expect.equal (model.CountParams()) 40L "one kernel and bias: 4·8 + 8"
                Expect.equal (Model.weights model |> List.length) 2 "two weights"
                let x = torch.rand (5L, 4L)

                match model.Predict([ x; x ]) with
                | [ ya; yb ] -> closeTo 0.f (values ya) (values yb) "same weights, same outputs"
                | _ -> failtest "two outputs"
            }

            test "A model called on new inputs reuses its weights" {
                let inner = mnistModel ()
                let i1 = Keras.Input(shape = [ 784 ])
                let i2 = Keras.Input(shape = [ 784 ])
                let twice = Keras.Model([ i1; i2 ], [ inner.Call i1; inner.Call i2 ])
                Expect.equal (twice.CountParams()) 55050L "the inner weights once"
                let x = torch.rand (4L, 784L)
                let expected = values (inner.Predict x)

                match twice.Predict([ x; x ]) with
                | [ y1; y2 ] ->
                    closeTo 1e-6f expected (values y1) "first call"
                    closeTo 1e-6f expected (values y2) "second call"
                | _ -> failtest "two outputs"
            }

            test "Nested models: an autoencoder of an encoder and a decoder shares their weights" {
                let encoderInput = Keras.Input(shape = [ 784 ], name = "original_img")

                let encoded =
                    encoderInput --> Layers.Dense(32, activation = "relu") --> Layers.Dense(16)

                let encoder = Keras.Model(encoderInput, encoded, name = "encoder")
                let decoderInput = Keras.Input(shape = [ 16 ], name = "encoded_img")

                let decoded =
                    decoderInput --> Layers.Dense(32, activation = "relu") --> Layers.Dense(784)

                let decoder = Keras.Model(decoderInput, decoded, name = "decoder")
                let autoencoderInput = Keras.Input(shape = [ 784 ], name = "img")

                let autoencoder =
                    Keras.Model(autoencoderInput, autoencoderInput --> encoder --> decoder, name = "autoencoder")

                Expect.equal
                    (autoencoder.Layers |> List.map _.Name)
                    [ "img"; "encoder"; "decoder" ]
                    "nested models are single layers"

                Expect.equal (autoencoder.CountParams()) (encoder.CountParams() + decoder.CountParams()) "sum of parts"
                Expect.equal (encoder.CountParams()) (784L * 32L + 32L + 32L * 16L + 16L) "encoder"
                let x = torch.rand (3L, 784L)

                closeTo
                    1e-5f
                    (values (decoder.Predict(encoder.Predict x)))
                    (values (autoencoder.Predict x))
                    "same as chaining"

                Expect.equal (autoencoder.Outputs.Head.Shape) [ None; Some 784 ] "output shape"
            }

            test "An ensemble of three models averaged" {
                let getModel () =
                    let inputs = Keras.Input(shape = [ 128 ])
                    Keras.Model(inputs, inputs --> Layers.Dense(1))

                let models = [ getModel (); getModel (); getModel () ]
                let inputs = Keras.Input(shape = [ 128 ])
                let outputs = Layers.average (models |> List.map (fun m -> inputs --> m))
                let ensemble = Keras.Model(inputs, outputs)
                Expect.equal (ensemble.CountParams()) (3L * 129L) "three Dense(1) on 128 features"
                let x = torch.rand (6L, 128L)
                let separate = models |> List.map (fun m -> values (m.Predict x))
                let mean = Array.init 6 (fun i -> (separate |> List.sumBy (fun v -> v[i])) / 3.f)
                closeTo 1e-6f mean (values (ensemble.Predict x)) "the mean of the three"
            }

            test "A feature-extraction model from intermediate outputs" {
                let model = mnistModel ()

                let hidden =
                    model.Layers |> List.filter (fun l -> l.ClassName = "Dense") |> List.map _.Name

                let features =
                    Keras.Model(model.Inputs, hidden |> List.map (Model.layerOutput model), name = "features")

                let x = torch.rand (2L, 784L)

                match features.Predict([ x ]) with
                | [ h1; h2; out ] ->
                    Expect.equal (h1.shape, h2.shape, out.shape) ([| 2L; 64L |], [| 2L; 64L |], [| 2L; 10L |]) "shapes"
                    closeTo 1e-6f (values (model.Predict x)) (values out) "the last feature is the model's output"
                    Expect.all (values h1) (fun v -> v >= 0.f) "relu features"
                | outs -> failtestf "expected three outputs, got %d" outs.Length

                Expect.equal (features.CountParams()) 55050L "same weights"
            }

            test "Several named inputs and outputs" {
                let title = Keras.Input(shape = [ 10 ], name = "title")
                let body = Keras.Input(shape = [ 20 ], name = "body")
                let tags = Keras.Input(shape = [ 12 ], name = "tags")
                let x = Layers.concatenate [ title; body; tags ]
                let priority = x --> Layers.Dense(1, name = "priority")
                let department = x --> Layers.Dense(4, name = "department")

                let model =
                    Keras.Model([ title; body; tags ], [ "priority", priority; "department", department ])

                Expect.equal (Model.inputNames model) [ "title"; "body"; "tags" ] "input names"
                Expect.equal (Model.outputNames model) [ "priority"; "department" ] "output names"

                let data =
                    dict
                        [
                            "title", torch.rand (5L, 10L)
                            "body", torch.rand (5L, 20L)
                            "tags", torch.rand (5L, 12L)
                        ]

                let out = model.Predict(data :?> IReadOnlyDictionary<string, torch.Tensor>)
                Expect.equal out["priority"].shape [| 5L; 1L |] "priority"
                Expect.equal out["department"].shape [| 5L; 4L |] "department"

                let error, _ =
                    kerasError (fun () ->
                        model.Predict(
                            dict [ "title", torch.rand (5L, 10L); "bod", torch.rand (5L, 20L) ]
                            :?> IReadOnlyDictionary<string, torch.Tensor>
                        ))

                match error with
                | UnknownName(_, "input", "bod", known) -> Expect.equal known [ "title"; "body"; "tags" ] "known names"
                | other -> failtestf "unexpected %A" other
            }

            test "Eager calls thread the training flag" {
                let inputs = Keras.Input(shape = [ 100 ])
                let model = Keras.Model(inputs, inputs --> Layers.Dropout(0.5))
                let x = torch.ones (4L, 100L)
                closeTo 0.f (values x) (values (Model.callEager model false [ x ] |> List.head)) "inference"

                Expect.exists
                    (values (Model.callEager model true [ x ] |> List.head))
                    (fun v -> v = 0.f)
                    "training drops"
            }

            testList
                "validation"
                [
                    test "A graph that needs an input not given is disconnected" {
                        let a = Keras.Input(shape = [ 3 ])
                        let b = Keras.Input(shape = [ 3 ])
                        let out = Layers.add [ a; b ]

                        match kerasError (fun () -> Keras.Model(a, out)) with
                        | GraphDisconnected _, message ->
                            Expect.stringStarts
                                message
                                "Graph disconnected: cannot find parent for tensor <KerasTensor shape=(None, 3)"
                                "message"
                        | other -> failtestf "unexpected %A" other
                    }

                    test "Duplicate layer names are refused" {
                        let a = Keras.Input(shape = [ 3 ])
                        let out = a --> Layers.Dense(2, name = "same") --> Layers.Dense(2, name = "same")

                        match kerasError (fun () -> Keras.Model(a, out)) with
                        | DuplicateLayerName("same", 2), message ->
                            Expect.equal
                                message
                                "The name \"same\" is used 2 times in the model. All operation names should be unique."
                                "message"
                        | other -> failtestf "unexpected %A" other
                    }

                    test "Inputs must come from Input" {
                        let a = Keras.Input(shape = [ 3 ])
                        let hidden = a --> Layers.Dense(2)

                        match kerasError (fun () -> Keras.Model(hidden, hidden --> Layers.Dense(1))) with
                        | NotAnInput _, _ -> ()
                        | other -> failtestf "unexpected %A" other
                    }

                    test "Every input must reach an output" {
                        let a = Keras.Input(shape = [ 3 ])
                        let unused = Keras.Input(shape = [ 3 ], name = "unused")

                        match kerasError (fun () -> Keras.Model([ a; unused ], a --> Layers.Dense(1))) with
                        | InputNotReached(_, "unused"), _ -> ()
                        | other -> failtestf "unexpected %A" other
                    }

                    test "A nested model checks the inputs it is called on" {
                        let model = mnistModel ()
                        let wrong = Keras.Input(shape = [ 32 ])

                        match kerasError (fun () -> model.Call wrong) with
                        | IncompatibleInput("mnist_model", 0, detail), _ ->
                            Expect.equal detail "expected shape=(None, 784), found shape=(None, 32)" "detail"
                        | other -> failtestf "unexpected %A" other
                    }

                    test "Unknown layer names list the known ones" {
                        let model = mnistModel ()

                        match kerasError (fun () -> model.GetLayer "nope") with
                        | UnknownName("mnist_model", "layer", "nope", known), _ ->
                            Expect.equal known.Length 4 "four layers"
                        | other -> failtestf "unexpected %A" other
                    }
                ]
        ]
