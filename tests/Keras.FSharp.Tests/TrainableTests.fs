/// Freezing layers and models (Keras's `trainable`): which weights fit updates, what summary counts, BatchNormalization
/// in inference mode when frozen, the transfer-learning recipe, and the "trainable" config key.
module TrainableTests

open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// Input(4) → Dense(8) → BatchNormalization → a model "base"; parameters 40 + 16 trainable + 16 moving statistics.
let private baseModel () =
    let input = Keras.Input(shape = [ 4 ])
    let x = input --> Layers.Dense(8, activation = "relu", name = "base_dense")
    let output = x --> Layers.BatchNormalization(name = "base_bn")
    Keras.Model(input, output, name = "base")

/// The base nested in a model with a new head, Dense(8 → 1): 9 parameters.
let private withHead (baseModel: Model) =
    let input = Keras.Input(shape = [ 4 ])
    let output = input --> baseModel --> Layers.Dense(1, name = "head")
    Keras.Model(input, output, name = "transfer")

let private regression () =
    let x = torch.randn (64L, 4L)
    let y = x.sum(1L, keepdim = true).mul(torch.tensor 0.5f)
    x, y

let private weightsOf (layer: Layer) =
    Layer.weights layer |> List.map (fun w -> values w.Value)

let private sameValues (a: float32[] list) (b: float32[] list) =
    a.Length = b.Length && List.forall2 (fun (x: float32[]) y -> x = y) a b

let private line (prefix: string) (summary: string) =
    summary.Split '\n' |> Array.find (fun l -> l.StartsWith prefix)

let private configOf (model: Model) (layerName: string) =
    let config = Model.getConfig model
    let layers = config["layers"].AsArray()

    layers
    |> Seq.map (fun l -> l.AsObject())
    |> Seq.find (fun l -> l["name"].GetValue<string>() = layerName)
    |> fun l -> l["config"].AsObject()

[<Tests>]
let trainableTests =
    testList
        "Trainable"
        [
            test "a frozen layer has no trainable weights, records no gradient, and keeps its weight order" {
                let dense = Layers.Dense(3, name = "frozen_dense")
                Layer.callMany dense [ Keras.Input(shape = [ 2 ]) ] |> ignore
                let order = Layer.weights dense |> List.map _.Name
                Expect.isTrue dense.Trainable "trainable by default"
                dense.Trainable <- false
                Expect.isFalse (Layer.isTrainable dense) "frozen"
                Expect.isEmpty (Layer.trainableWeights dense) "no trainable weights"

                Expect.equal
                    (Layer.nonTrainableWeights dense |> List.map _.Name)
                    [ "kernel"; "bias" ]
                    "all non-trainable"

                Expect.equal (Layer.weights dense |> List.map _.Name) order "get_weights order unchanged"

                for w in Layer.weights dense do
                    Expect.isFalse w.Value.requires_grad $"{w.Name} records no gradient"

                Layer.setTrainable true dense
                Expect.equal (Layer.trainableWeights dense |> List.map _.Name) [ "kernel"; "bias" ] "unfrozen"

                for w in Layer.weights dense do
                    Expect.isTrue w.Value.requires_grad $"{w.Name} records gradients again"
            }

            test "a layer frozen before it is built creates weights without gradients" {
                let dense = Layers.Dense(2)
                dense.Trainable <- false
                Layer.callEager dense false [ torch.ones (3L, 5L) ] |> ignore
                Expect.equal (Layer.weights dense).Length 2 "built"
                Expect.isTrue (Layer.weights dense |> List.forall (fun w -> not w.Value.requires_grad)) "no gradients"
                Expect.isEmpty (Layer.trainableWeights dense) "none trainable"
            }

            test "freezing a model freezes its layers and nested models recursively; unfreezing restores them all" {
                let inner = baseModel ()
                let outer = withHead inner
                let innerDense = Model.getLayer inner "base_dense"
                // Keras: freezing one layer, then setting the model's flag, overrides it (the setter recurses).
                innerDense.Trainable <- false
                Expect.equal (Model.trainableWeights outer |> List.sumBy Weights.size) (16L + 9L) "dense frozen"
                outer.Trainable <- false
                Expect.isFalse inner.Trainable "nested model frozen"
                Expect.isFalse (Model.getLayer outer "head").Trainable "head frozen"
                Expect.isEmpty (Model.trainableWeights outer) "nothing trainable"
                Expect.equal (Model.nonTrainableWeights outer |> List.sumBy Weights.size) 81L "everything non-trainable"
                outer.Trainable <- true
                Expect.isTrue innerDense.Trainable "inner layer unfrozen by the model's setter"
                Expect.equal (Model.trainableWeights outer |> List.sumBy Weights.size) 65L "40 + 16 + 9 trainable"
                Expect.equal (Model.nonTrainableWeights outer |> List.sumBy Weights.size) 16L "moving statistics"
            }

            test "summary moves the frozen base's parameters to Non-trainable params" {
                let inner = baseModel ()
                let outer = withHead inner
                let before = Summary.render outer
                Expect.equal (line " Total params:" before) " Total params: 81 (324.00 B)" "total"
                Expect.equal (line " Trainable params:" before) " Trainable params: 65 (260.00 B)" "trainable"
                Expect.equal (line " Non-trainable params:" before) " Non-trainable params: 16 (64.00 B)" "moving stats"
                inner.Trainable <- false
                let after = Summary.render outer
                Expect.equal (line " Total params:" after) " Total params: 81 (324.00 B)" "total unchanged"
                Expect.equal (line " Trainable params:" after) " Trainable params: 9 (36.00 B)" "head only"
                Expect.equal (line " Non-trainable params:" after) " Non-trainable params: 72 (288.00 B)" "base"
            }

            test "a frozen BatchNormalization runs in inference mode in training and leaves its statistics alone" {
                let bn = Layers.BatchNormalization()
                let x = tensor2 [ [ 1.f; 2.f ]; [ 3.f; 6.f ]; [ 5.f; 10.f ] ]
                // Trainable, in training: batch statistics, so each column is centred.
                let trained = Layer.callEager bn true [ x ] |> List.exactlyOne
                closeTo 1e-5f [| 0.f; 0.f |] (values (trained.mean ([| 0L |]))) "batch-normalized"
                let statistics = weightsOf bn
                bn.Trainable <- false
                let frozen = Layer.callEager bn true [ x ] |> List.exactlyOne
                // Inference: (x - moving_mean) / sqrt(moving_variance + 1e-3), from the statistics after one update.
                let mean = statistics[2]
                let variance = statistics[3]

                let expected =
                    [|
                        for row in [ [| 1.f; 2.f |]; [| 3.f; 6.f |]; [| 5.f; 10.f |] ] do
                            for c in 0..1 -> (row[c] - mean[c]) / sqrt (variance[c] + 1e-3f)
                    |]

                closeTo 1e-5f expected (values frozen) "moving statistics used"
                Expect.isTrue (sameValues (weightsOf bn) statistics) "statistics unchanged"
            }

            test "transfer learning: the frozen base is bit-identical after fit, the head changes; unfrozen, both train" {
                Utils.setRandomSeed 7
                let inner = baseModel ()
                let outer = withHead inner
                let x, y = regression ()
                let head = Model.getLayer outer "head"
                inner.Trainable <- false
                let baseBefore = Layer.weights inner.AsLayer |> List.map (fun w -> values w.Value)
                let headBefore = weightsOf head

                let compiled =
                    outer.Compile(
                        optimizer = Optimizers.Adam(learningRate = ConstantRate 0.01),
                        loss = MeanSquaredError
                    )

                compiled.Fit(x, y, batchSize = 16, epochs = 3, verbose = 0) |> ignore
                let baseAfter = Layer.weights inner.AsLayer |> List.map (fun w -> values w.Value)
                Expect.equal baseAfter.Length 6 "kernel, bias, gamma, beta and the moving statistics"
                Expect.isTrue (sameValues baseAfter baseBefore) "frozen base (moving statistics too) bit-identical"
                Expect.isFalse (sameValues (weightsOf head) headBefore) "head trained"

                // Unfreezing after compile takes effect only after compiling again, as in Keras.
                inner.Trainable <- true
                compiled.Fit(x, y, batchSize = 16, epochs = 1, verbose = 0) |> ignore
                let dense = Model.getLayer inner "base_dense"
                let denseBefore = weightsOf dense
                Expect.isTrue (sameValues denseBefore (List.take 2 baseBefore)) "still unchanged without compile"

                let fine =
                    outer.Compile(optimizer = Optimizers.SGD(learningRate = ConstantRate 1e-3), loss = MeanSquaredError)

                fine.Fit(x, y, batchSize = 16, epochs = 1, verbose = 0) |> ignore
                Expect.isFalse (sameValues (weightsOf dense) denseBefore) "fine-tuned after compiling again"
                // Trainable again, the BatchNormalization updates its moving statistics in fit.
                let bn = Model.getLayer inner "base_bn"
                Expect.isFalse (sameValues (List.skip 2 (weightsOf bn)) (List.skip 4 baseBefore)) "statistics move"
            }

            test "freezing after compile stops updates of that layer at once" {
                Utils.setRandomSeed 8
                let inner = baseModel ()
                let outer = withHead inner
                let x, y = regression ()
                let compiled = outer.Compile(optimizer = "sgd", loss = "mse")
                let head = Model.getLayer outer "head"
                head.Trainable <- false
                let headBefore = weightsOf head
                let denseBefore = weightsOf (Model.getLayer inner "base_dense")
                compiled.Fit(x, y, batchSize = 16, epochs = 1, verbose = 0) |> ignore
                Expect.isTrue (sameValues (weightsOf head) headBefore) "head records no gradient, so is not updated"
                Expect.isFalse (sameValues (weightsOf (Model.getLayer inner "base_dense")) denseBefore) "base trains"
            }

            test "the trainable config key is written and read: a frozen layer and a frozen model come back frozen" {
                let inner = baseModel ()
                let outer = withHead inner
                (Model.getLayer outer "head").Trainable <- false
                let flag (config: JsonObject) = config["trainable"].GetValue<bool>()
                Expect.isFalse (flag (configOf outer "head")) "head written frozen"
                Expect.isTrue (flag (configOf outer "base")) "base written trainable"
                let copy = Model.fromConfig (Model.getConfig outer) CustomObjects.none
                Expect.isFalse (Model.getLayer copy "head").Trainable "head read frozen"
                Expect.isTrue (Model.getLayer copy "base").Trainable "base read trainable"
                Expect.equal (Model.trainableWeights copy |> List.sumBy Weights.size) 56L "40 + 16"

                inner.Trainable <- false
                let innerConfig = Model.getConfig inner
                Expect.isFalse (flag innerConfig) "model written frozen"
                Expect.isFalse (flag (configOf inner "base_bn")) "its layers written frozen"

                let innerCopy = Model.fromConfig innerConfig CustomObjects.none
                Expect.isFalse innerCopy.Trainable "model read frozen"
                Expect.isEmpty (Model.trainableWeights innerCopy) "nothing trainable"
                let serialized = LayerSerialization.serialize (Layers.Dense(2)) None
                let layer = LayerSerialization.deserialize CustomObjects.none serialized
                Expect.isTrue layer.Trainable "no freezing without the key's false"
            }

            test "a .keras file keeps frozen layers frozen, with the same predictions" {
                inTempFolder "trainable" (fun folder ->
                    let inner = baseModel ()
                    let outer = withHead inner
                    inner.Trainable <- false
                    let path = System.IO.Path.Combine(folder, "frozen.keras")
                    KerasFile.save outer path
                    let loaded = KerasFile.load path CustomObjects.none
                    let x = torch.randn (5L, 4L)
                    closeTo 1e-6f (values (Model.predict outer x)) (values (Model.predict loaded x)) "same predictions"
                    Expect.isFalse (Model.getLayer loaded "base").Trainable "base frozen"
                    Expect.isTrue (Model.getLayer loaded "head").Trainable "head trainable"
                    let summary = Summary.render loaded
                    Expect.stringContains summary " Trainable params: 9 (" "summary counts the head"
                    Expect.stringContains summary " Non-trainable params: 72 (" "summary counts the base"
                    let configText = (KerasFile.readArchiveConfig path).ToJsonString()
                    Expect.stringContains configText "\"trainable\":false" "the file says so")
            }
        ]

[<Tests>]
let layerInputOutputTests =
    testList
        "Layer input and output"
        [
            test "a layer's input and output are the tensors of its first call, as in Keras 3" {
                let input = Keras.Input(shape = [ 3 ])
                let dense = Layers.Dense(2, name = "io_dense")
                let output = input --> dense
                Expect.equal dense.Input input "input"
                Expect.equal dense.Output output "output"
                Expect.equal (Layer.output dense).Shape [ None; Some 2 ] "shape"
                let second = Keras.Input(shape = [ 3 ])
                second --> dense |> ignore
                Expect.equal (Layer.inputs dense) [ input ] "still the first call"
                Expect.equal (Layer.outputs input.Node.Layer) [ input ] "an input layer's output is its tensor"
                Expect.equal (Layer.inputs input.Node.Layer) [ input ] "and so is its input"
                let never = Layers.Dense(2, name = "io_never")
                let _, text = kerasError (fun () -> Layer.output never)

                Expect.stringContains
                    text
                    "The layer io_never has never been called and thus has no defined output."
                    "never called"

                let merge = Layers.Concatenate()
                Layer.callMany merge [ input; second ] |> ignore
                Expect.equal (Layer.inputs merge) [ input; second ] "every input"
                let _, several = kerasError (fun () -> Layer.input merge)
                Expect.stringContains several "Layer.inputs" "several inputs named"
            }
        ]
