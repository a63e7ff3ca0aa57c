/// SaveWeights of a compiled model writes the optimizer's variables at optimizer/vars/N, as Keras 3's
/// model.save_weights does (saving_lib.save_weights_only walks the model's optimizer too); LoadWeights restores them
/// into a compiled model, so that training resumes bit-identically, and ignores them otherwise.
module WeightsOptimizerTests

open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private smallModel = CompileSavingTests.smallModel

let private batch () = CompileSavingTests.seededBatch 4321UL

let private bits (model: Model) =
    Model.weights model
    |> List.map (fun w -> values w.Value |> Array.map System.BitConverter.SingleToInt32Bits)

let private optimizers: (string * (unit -> Optimizer)) list =
    [
        "Adam", (fun () -> Optimizers.Adam(learningRate = 0.01))
        "Adam with AMSGrad", (fun () -> Optimizers.Adam(learningRate = 0.01, amsgrad = true))
        "centered RMSprop with momentum",
        (fun () -> Optimizers.RMSprop(learningRate = 0.01, momentum = 0.5, centered = true))
        "SGD with momentum", (fun () -> Optimizers.SGD(learningRate = 0.05, momentum = 0.9))
    ]

[<Tests>]
let tests =
    testList
        "WeightsOptimizer"
        [
            testList
                "save_weights mid-training → fresh compiled model → load_weights: the next step is bit-identical"
                [
                    for name, make in optimizers ->
                        testCase name
                        <| fun () ->
                            inTempFolder "weights-optimizer" (fun folder ->
                                let x, y = batch ()
                                let model = smallModel ()
                                let compiled = model.Compile(make (), loss = "categorical_crossentropy")

                                for _ in 1..3 do
                                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

                                let path = Path.Combine(folder, "m.weights.h5")
                                model.SaveWeights path

                                let fresh = smallModel ()
                                let again = fresh.Compile(make (), loss = "categorical_crossentropy")
                                fresh.LoadWeights path
                                Expect.equal again.Optimizer.Iterations 3L "iterations restored"

                                compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                                again.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                                Expect.equal (bits fresh) (bits model) "bit-identical weights after the next step")
                ]

            testCase "the file holds optimizer/vars in Keras's order; an uncompiled model's file holds none"
            <| fun () ->
                inTempFolder "weights-optimizer-vars" (fun folder ->
                    let x, y = batch ()
                    let model = smallModel ()
                    let path = Path.Combine(folder, "plain.weights.h5")
                    model.SaveWeights path
                    Expect.isNone (WeightsFile.readWeightsFileOptimizer model path) "no optimizer before compile"

                    let compiled =
                        model.Compile(Optimizers.Adam(learningRate = 0.01), loss = "categorical_crossentropy")

                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    let path = Path.Combine(folder, "compiled.weights.h5")
                    model.SaveWeights path
                    let stored = (WeightsFile.readWeightsFileOptimizer model path).Value
                    let trainable = Model.trainableWeights model

                    Expect.equal
                        stored.Length
                        (2 + 2 * trainable.Length)
                        "iterations, learning_rate, (m, v) per weight"

                    Expect.equal (stored[0].item<int64>()) 2L "iterations"
                    Expect.equal (stored[1].item<float32>()) 0.01f "learning rate"

                    trainable
                    |> List.iteri (fun i w ->
                        Expect.equal
                            (values stored.[2 + 2 * i])
                            (values (compiled.Optimizer.Slots[w.Value][0]))
                            $"momentum {i}"

                        Expect.equal
                            (values stored.[3 + 2 * i])
                            (values (compiled.Optimizer.Slots[w.Value][1]))
                            $"velocity {i}")

                    // The same path and layout as inside a .keras archive.
                    let archive = Path.Combine(folder, "m.keras")
                    model.Save archive
                    let inArchive = (WeightsFile.readArchiveOptimizer model archive).Value

                    let asFloats (ts: torch.Tensor list) =
                        ts |> List.map (fun t -> values (t.to_type torch.ScalarType.Float32))

                    Expect.equal (asFloats inArchive) (asFloats stored) "same variables as model.save")

            testCase "load_weights ignores optimizer variables when the model is not compiled or they do not fit"
            <| fun () ->
                inTempFolder "weights-optimizer-ignored" (fun folder ->
                    let x, y = batch ()
                    let model = smallModel ()
                    let compiled = model.Compile(Optimizers.Adam(learningRate = 0.01), loss = "mse")
                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    let path = Path.Combine(folder, "m.weights.h5")
                    model.SaveWeights path

                    // Not compiled: the weights load, the optimizer variables are ignored.
                    let plain = smallModel ()
                    plain.LoadWeights path
                    Expect.equal (bits plain) (bits model) "weights loaded"

                    // Compiled with an optimizer whose variables differ (plain SGD has none per weight): skipped.
                    let other = smallModel ()
                    let sgd = other.Compile(Optimizers.SGD(learningRate = 0.1), loss = "mse")
                    other.LoadWeights path
                    Expect.equal (bits other) (bits model) "weights loaded"
                    Expect.equal sgd.Optimizer.Iterations 0L "the optimizer state is left alone"

                    // Without the optimizer state the next step differs (the resume test has teeth).
                    let late = smallModel ()
                    late.LoadWeights path
                    let fresh = late.Compile(Optimizers.Adam(learningRate = 0.01), loss = "mse")
                    fresh.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    Expect.notEqual (bits late) (bits model) "a fresh Adam takes another step")
        ]
