/// Whole models in one file: Keras.LoadModel on every file in shared/data/keras (accuracies and outputs against their
/// references), from_config for the built-in layer classes and Keras's Sequential / Keras 2 dialects, .keras save and
/// load round trips (zip members, JSON schema, HDF5 paths), and the errors for what cannot be loaded.
module KerasFileTests

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Text.Json
open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private expectContains (text: string) (parts: string list) =
    for p in parts do
        Expect.stringContains text p $"the message names {p}"

let private referenceOutputs (name: string) =
    use doc = JsonDocument.Parse(File.ReadAllText(kerasFile name))
    let root = doc.RootElement

    let rows =
        match root.TryGetProperty "first_outputs" with
        | true, v -> v
        | _ -> root.GetProperty "outputs"

    [|
        for row in rows.EnumerateArray() do
            for v in row.EnumerateArray() -> float32 (v.GetDouble())
    |]

let private predict (model: Model) (x: torch.Tensor) =
    Model.predictMany model 64 [ x ] |> List.head |> values

let private randomize (model: Model) =
    use _ = torch.no_grad ()

    for w in Model.weights model do
        if w.Value.is_floating_point () then
            w.Value.copy_ (torch.rand(w.Value.shape).mul(torch.tensor 0.5f).sub(torch.tensor 0.25f))
            |> ignore

let private keys (node: JsonNode) =
    node.AsObject() |> Seq.map _.Key |> List.ofSeq

/// Layer classes, order and weight shapes of a model.
let private architecture (model: Model) =
    model.Layers
    |> List.map (fun l ->
        l.ClassName, (Layer.weights l |> List.ofSeq |> List.map (fun w -> List.ofArray w.Value.shape)))

/// The node at a path of object keys (strings) and array indexes (ints).
let private at (node: JsonNode) (path: obj list) =
    path
    |> List.fold
        (fun (n: JsonNode) (step: obj) ->
            match step with
            | :? int as i -> n.AsArray().[i]
            | key -> n.AsObject().[string key])
        node

let private text (node: JsonNode) (path: obj list) = (at node path).GetValue<string>()

let private nestedContainerClass = "legacy_nested_container>NestedDenseModel"

/// Keras's test's NestedDenseModel(num): `num` Dense(4, no bias) layers and a Dense(2) output.
let private nestedDenseModel (config: JsonObject) : Layer =
    let num = config["num"].GetValue<int>()
    let input = Keras.Input(shape = [ 4 ])

    let hidden =
        [ 1..num ]
        |> List.fold (fun (x: KerasTensor) _ -> x --> Layers.Dense(4, useBias = false)) input

    (Keras.Model(input, hidden --> Layers.Dense(2), name = config["name"].GetValue<string>())).AsLayer

let private realFiles =
    testList
        "LoadModel on real Keras files"
        [
            test "mnist_cnn_keras3.keras loads alone and reproduces accuracy 0.9918 and the reference outputs" {
                let model = Keras.LoadModel(kerasFile "mnist_cnn_keras3.keras")
                Expect.equal model.Name "sequential" "the Sequential's name"

                Expect.equal
                    (model.Layers |> List.map _.Name)
                    [
                        "input_layer"
                        "conv2d"
                        "max_pooling2d"
                        "conv2d_1"
                        "max_pooling2d_1"
                        "flatten"
                        "dropout"
                        "dense"
                    ]
                    "layers in the config's order"

                Expect.equal (Model.countParams model) 34826L "parameters"
                let correct, first = evaluateMnist model ((fst mnistTest.Value).unsqueeze -1L)
                Expect.equal correct 9918 "correct predictions (accuracy 0.9918)"
                closeTo 1e-5f (referenceOutputs "mnist_cnn_keras3.reference.json") first "first 8 outputs"
            }

            test "mnist_cnn_keras3_legacy.h5 (Keras 3 legacy full-model HDF5) loads alone: accuracy 0.9928" {
                let model = Keras.LoadModel(kerasFile "mnist_cnn_keras3_legacy.h5")
                let correct, first = evaluateMnist model ((fst mnistTest.Value).unsqueeze -1L)
                Expect.equal correct 9928 "correct predictions (accuracy 0.9928)"
                closeTo 1e-5f (referenceOutputs "mnist_cnn_keras3_legacy.reference.json") first "first 8 outputs"
            }

            test "mnist_mlp_keras2.h5 (Keras 2 Sequential, batch_input_shape on Flatten) loads alone: accuracy 0.9719" {
                let model = Keras.LoadModel(kerasFile "mnist_mlp_keras2.h5")

                Expect.equal
                    (model.Layers |> List.map _.Name)
                    [ "flatten_3_input"; "flatten_3"; "dense_6"; "dense_7" ]
                    "an input layer named as Keras 2 names it, then the config's layers"

                let correct, first = evaluateMnist model (fst mnistTest.Value)
                Expect.equal correct 9719 "correct predictions (accuracy 0.9719)"
                closeTo 1e-5f (referenceOutputs "mnist_mlp_keras2.reference.json") first "first 8 outputs"
            }

            test "functional_mlp_keras2.h5 (Keras 2.0.9 Model, VarianceScaling, [[[name, 0, 0, {}]]]) loads alone" {
                let model = Keras.LoadModel(kerasFile "functional_mlp_keras2.h5")
                Expect.equal model.Name "model_1" "name"

                let x =
                    Array2D.init 4 100 (fun n k -> float32 (sin (0.37 * float (n + 1) * float (k + 1))))

                closeTo
                    1e-5f
                    (referenceOutputs "functional_mlp_keras2.reference.json")
                    (predict model (torch.tensor x))
                    "outputs for the synthetic inputs"
            }

            test "keras3_nested_container_custom.keras needs its class registered, then loads with Keras's values" {
                let (error, text) =
                    kerasError (fun () -> Keras.LoadModel(kerasFile "keras3_nested_container_custom.keras"))

                ignore error

                expectContains
                    text
                    [
                        "subclassed model"
                        "NestedDenseModel"
                        nestedContainerClass
                        "keras3_nested_container_custom.keras"
                    ]

                Expect.isFalse (text.Contains "\"num\"") "the message does not dump the config"

                let custom: IDictionary<string, CustomObject> =
                    dict [ nestedContainerClass, LayerClass nestedDenseModel ]

                let model =
                    Keras.LoadModel(kerasFile "keras3_nested_container_custom.keras", customObjects = custom)

                let filled value count = Array.create count value

                Expect.equal
                    (snapshot model)
                    [ filled 0.1f 16; filled 0.2f 16; filled 0.3f 16; filled 0.5f 8; filled 0.0f 2 ]
                    "kernels 0.1, 0.2, 0.3 (4×4), output kernel 0.5 (4×2), bias 0, as Keras's test asserts"
            }
        ]

/// A model with one layer of (nearly) every built-in class the config rebuilds, in branches that merge.
let private zoo () =
    let image = Keras.Input(shape = [ 8; 8; 3 ], name = "image")
    let sequence = Keras.Input(shape = [ 6; 4 ], name = "sequence")
    let tokens = Keras.Input(shape = [ 5 ], dtype = Int64, name = "tokens")

    let a =
        image
        --> Layers.Conv2D(4, 3, padding = "same", activation = "relu", kernelRegularizer = L1L2(0.01, 0.02))
        --> Layers.BatchNormalization(epsilon = 1e-5, momentum = 0.9)
        --> Layers.DepthwiseConv2D(3, depthMultiplier = 2)
        --> Layers.SeparableConv2D(4, 3, padding = "same")
        --> Layers.Conv2DTranspose(3, 3, strides = 2)
        --> Layers.MaxPooling2D((2, 2), strides = (1, 1), padding = "valid")
        --> Layers.ZeroPadding2D((1, 2))
        --> Layers.Cropping2D(((1, 1), (2, 1)))
        --> Layers.UpSampling2D(2)
        --> Layers.AveragePooling2D(2)
        --> Layers.SpatialDropout2D(0.1)
        --> Layers.LayerNormalization(epsilon = 1e-4)
        --> Layers.GroupNormalization(groups = 3)
        --> Layers.GlobalAveragePooling2D()
        --> Layers.Dense(6, activation = "tanh", kernelConstraint = MaxNorm(2.0, [ 0 ]))

    let b =
        sequence
        --> Layers.Conv1D(4, 2, padding = "causal")
        --> Layers.LSTM(5, returnSequences = true)
        --> Layers.Bidirectional(Layers.GRU(3, returnSequences = true))
        --> Layers.TimeDistributed(Layers.Dense(4))
        --> Layers.SimpleRNN(6)
        --> Layers.UnitNormalization()

    let c =
        tokens
        --> Layers.Embedding(20, 4)
        --> Layers.GlobalMaxPooling1D()
        --> Layers.RepeatVector(2)
        --> Layers.Permute([ 2; 1 ])
        --> Layers.Flatten()
        --> Layers.Dense(6)
        --> Layers.GaussianNoise(0.1)
        --> Layers.Dropout(0.2)

    let shared = Layers.Dense(6, name = "shared")

    let merged =
        Layers.concatenate ([ shared.Call a; shared.Call b; Layers.add [ a; c ] ], axis = -1)

    let grid = merged --> Layers.Reshape([ 3; 6 ])

    let attended =
        Layer.callMany (Layers.MultiHeadAttention(2, 4)) [ grid; grid ] |> List.head

    let output =
        attended --> Layers.GlobalAveragePooling1D() --> Layers.Activation(Softmax)

    Keras.Model([ image; sequence; tokens ], output, name = "zoo")

let private zooInputs () =
    torch.manual_seed 7L |> ignore

    [
        torch.rand (3L, 8L, 8L, 3L)
        torch.rand (3L, 6L, 4L)
        torch.randint (20L, [| 3L; 5L |], dtype = torch.ScalarType.Int64)
    ]

let private configTests =
    testList
        "from_config of built-in classes and Keras's dialects"
        [
            test "every class in a mixed model comes back from its config with the same config and predictions" {
                let model = zoo ()
                randomize model
                let config = Model.getConfig model
                let rebuilt = Model.fromConfig (config.DeepClone().AsObject()) CustomObjects.none
                Expect.equal ((Model.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "equal configs"
                Expect.equal (architecture rebuilt) (architecture model) "classes, order and weight shapes"
                Layer.setWeights rebuilt.AsLayer (Layer.getWeights model.AsLayer)
                let xs = zooInputs ()

                List.iter2
                    (fun (a: torch.Tensor) (b: torch.Tensor) -> closeTo 1e-6f (values a) (values b) "predictions")
                    (Model.predictMany model 8 xs)
                    (Model.predictMany rebuilt 8 xs)
            }

            test "a raw Sequential config (no input_layers) rebuilds, also as Keras <= 2.1's bare list" {
                let layers =
                    """[{"class_name": "Dense", "config": {"name": "d1", "units": 3, "batch_input_shape": [null, 5], "activation": "relu"}},
                        {"class_name": "Dense", "config": {"name": "d2", "units": 2}}]"""

                let fromObject =
                    Model.fromConfig
                        (JsonNode.Parse($"""{{"name": "seq", "layers": {layers}}}""").AsObject())
                        CustomObjects.none

                Expect.equal (fromObject.Layers |> List.map _.Name) [ "d1_input"; "d1"; "d2" ] "layers"
                Expect.equal (Model.countParams fromObject) 26L "parameters"

                let bare =
                    Model.fromConfig
                        (JsonNode.Parse($"""{{"class_name": "Sequential", "config": {layers}}}""").AsObject())
                        CustomObjects.none

                Expect.equal (Model.countParams bare) 26L "parameters from the bare list"

                let noShape =
                    """{"name": "s", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 3}}]}"""

                let _, text =
                    kerasError (fun () -> Model.fromConfig (JsonNode.Parse(noShape).AsObject()) CustomObjects.none)

                expectContains text [ "without an input shape" ]
            }

            test "Keras 3 call keyword arguments {mask: null} and {training: false} are accepted; tensors are not" {
                let config (kwargs: string) =
                    $"""{{"name": "m", "layers": [
                        {{"class_name": "InputLayer", "name": "in", "config": {{"name": "in", "batch_shape": [null, 3]}}, "inbound_nodes": []}},
                        {{"class_name": "Dropout", "name": "drop", "config": {{"name": "drop", "rate": 0.5}},
                          "inbound_nodes": [{{"args": [{{"class_name": "__keras_tensor__", "config": {{"shape": [null, 3], "dtype": "float32", "keras_history": ["in", 0, 0]}}}}], "kwargs": {kwargs}}}]}}],
                        "input_layers": [["in", 0, 0]], "output_layers": [["drop", 0, 0]]}}"""

                for kw in [ """{"mask": null}"""; """{"training": false}"""; "{}" ] do
                    let m = Model.fromConfig (JsonNode.Parse(config kw).AsObject()) CustomObjects.none
                    Expect.equal m.Layers.Length 2 $"kwargs {kw}"

                let _, text =
                    kerasError (fun () ->
                        Model.fromConfig (JsonNode.Parse(config """{"scale": 2}""").AsObject()) CustomObjects.none)

                expectContains text [ "`scale`" ]
            }

            test "Keras 2 VarianceScaling, L1L2 and MaxNorm are read; unknown forms are named" {
                let dense (extra: string) =
                    $"""{{"class_name": "Sequential", "config": {{"name": "s", "layers": [{{"class_name": "Dense", "config": {{"name": "d", "units": 2, "batch_input_shape": [null, 3] {extra}}}}}]}}}}"""

                let build extra =
                    Model.fromConfig (JsonNode.Parse(dense extra).AsObject()) CustomObjects.none

                let m =
                    build
                        """, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_in", "distribution": "uniform", "seed": null}},
                             "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}},
                             "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}"""

                let config = at (Model.getConfig m) [ "layers"; 1; "config" ]
                Expect.equal (text config [ "kernel_initializer"; "class_name" ]) "HeUniform" "He uniform"
                Expect.equal (text config [ "kernel_regularizer"; "class_name" ]) "L1L2" "L1L2"
                Expect.equal (text config [ "kernel_constraint"; "class_name" ]) "MaxNorm" "MaxNorm"

                let _, text =
                    kerasError (fun () ->
                        build
                            """, "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scale": 0.3, "mode": "fan_out", "distribution": "uniform"}}""")

                expectContains text [ "VarianceScaling"; "\"d\"" ]
            }

            test "a Keras built-in class the library lacks is not reported as a missing custom object" {
                let config =
                    """{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "MelSpectrogram", "config": {"name": "r", "fft_length": 2048, "batch_input_shape": [null, 3]}}]}}"""

                let _, text =
                    kerasError (fun () -> Model.fromConfig (JsonNode.Parse(config).AsObject()) CustomObjects.none)

                expectContains text [ "'MelSpectrogram' is a Keras built-in layer class"; "not a missing custom object" ]
                Expect.isFalse (text.Contains "customObjects") "no advice to pass a custom object"
            }

            test "BatchNormalization's epsilon and momentum survive from_config (Keras 3 names)" {
                let config =
                    """{"class_name": "Sequential", "config": {"name": "s", "layers": [{"class_name": "InputLayer", "config": {"name": "i", "batch_shape": [null, 4]}}, {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": -1, "epsilon": 1e-6, "momentum": 0.95, "center": false}}]}}"""

                let m = Model.fromConfig (JsonNode.Parse(config).AsObject()) CustomObjects.none
                let c = at (Model.getConfig m) [ "layers"; 1; "config" ]
                Expect.equal (c["epsilon"].GetValue<float>()) 1e-6 "epsilon"
                Expect.equal (c["momentum"].GetValue<float>()) 0.95 "momentum"
                Expect.equal (c["center"].GetValue<bool>()) false "center"
                Expect.equal (Model.countParams m) 12L "gamma, moving mean and variance (no beta)"
            }
        ]

let private roundTrips =
    testList
        ".keras save and load"
        [
            test "a saved mixed model loads back with the same config and predictions" {
                inTempFolder "kerasfile" (fun folder ->
                    let model = zoo ()
                    randomize model
                    let path = Path.Combine(folder, "zoo.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    Expect.equal
                        ((Model.getConfig loaded).ToJsonString())
                        ((Model.getConfig model).ToJsonString())
                        "equal configs"

                    let xs = zooInputs ()

                    List.iter2
                        (fun (a: torch.Tensor) (b: torch.Tensor) -> closeTo 1e-6f (values a) (values b) "predictions")
                        (Model.predictMany model 8 xs)
                        (Model.predictMany loaded 8 xs)

                    Expect.equal
                        (Directory.GetFiles folder |> Array.map Path.GetFileName)
                        [| "zoo.keras" |]
                        "no temporary files left")
            }

            test "the archive has Keras's members and JSON schema" {
                inTempFolder "kerasfile" (fun folder ->
                    let model = zoo ()
                    let path = Path.Combine(folder, "zoo.keras")
                    model.Save path
                    use zip = ZipFile.OpenRead path

                    Expect.equal
                        (zip.Entries |> Seq.map _.FullName |> List.ofSeq)
                        [ "metadata.json"; "config.json"; "model.weights.h5" ]
                        "members"

                    let read (name: string) =
                        use s = zip.GetEntry(name).Open()
                        use r = new StreamReader(s)
                        JsonNode.Parse(r.ReadToEnd())

                    let metadata = read "metadata.json"
                    Expect.equal (keys metadata) [ "keras_version"; "date_saved" ] "metadata keys"
                    Expect.stringStarts (metadata["keras_version"].GetValue<string>()) "3." "Keras 3"
                    let config = read "config.json"

                    Expect.equal
                        (keys config)
                        [ "module"; "class_name"; "config"; "registered_name"; "build_config" ]
                        "serialized model keys"

                    Expect.equal (config["class_name"].GetValue<string>()) "Functional" "class"

                    Expect.equal
                        (keys config["config"])
                        [ "name"; "trainable"; "layers"; "input_layers"; "output_layers" ]
                        "functional config keys"

                    let dense =
                        (at config [ "config"; "layers" ] :?> JsonArray)
                        |> Seq.find (fun l -> l["name"].GetValue<string>() = "shared")

                    Expect.equal
                        (keys dense)
                        [
                            "module"
                            "class_name"
                            "config"
                            "registered_name"
                            "build_config"
                            "name"
                            "inbound_nodes"
                        ]
                        "layer keys"

                    Expect.equal (dense["inbound_nodes"] :?> JsonArray).Count 2 "the shared layer's two nodes"
                    let arg = at dense [ "inbound_nodes"; 1; "args"; 0 ]
                    Expect.equal (arg["class_name"].GetValue<string>()) "__keras_tensor__" "tensor argument"
                    Expect.equal (keys arg["config"]) [ "shape"; "dtype"; "keras_history" ] "tensor keys")
            }

            test "re-saving a model loaded from a Keras file keeps layer order, config keys and weight paths" {
                inTempFolder "kerasfile" (fun folder ->
                    let original = kerasFile "mnist_cnn_keras3.keras"
                    let model = Keras.LoadModel original
                    let path = Path.Combine(folder, "again.keras")
                    model.Save path
                    let reloaded = Keras.LoadModel path
                    Expect.equal (architecture reloaded) (architecture model) "classes, order and weight shapes"
                    Expect.equal (snapshot reloaded) (snapshot model) "weights"

                    let layersOf (file: string) =
                        let serialized = KerasFile.readArchiveConfig file

                        (at serialized [ "config"; "layers" ] :?> JsonArray)
                        |> Seq.map (fun l -> l["class_name"].GetValue<string>(), keys l["config"])
                        |> List.ofSeq

                    let mine = layersOf path
                    let theirs = layersOf original
                    Expect.equal (List.map fst mine) (List.map fst theirs) "layer classes in order"

                    for (cls, k1), (_, k2) in List.zip mine theirs do
                        for key in k2 do
                            if key <> "dtype" && key <> "sparse" && key <> "ragged" then
                                Expect.contains k1 key $"{cls} keeps config key {key}")
            }

            test "to_json / model_from_json and clone_model give the same architecture with fresh weights" {
                let model = zoo ()
                let json = model.ToJson()
                let fromJson = Keras.ModelFromJson json
                Expect.equal (architecture fromJson) (architecture model) "from JSON"
                let clone = Keras.CloneModel model

                Expect.equal
                    ((Model.getConfig clone).ToJsonString())
                    ((Model.getConfig model).ToJsonString())
                    "clone config"

                randomize model
                Expect.notEqual (snapshot clone) (snapshot model) "fresh weights"
            }

            test "loading weights from a file with a config names the first architectural difference" {
                inTempFolder "kerasfile" (fun folder ->
                    let build (epsilon: float) (activation: string) =
                        let input = Keras.Input(shape = [ 4 ])

                        Keras.Model(
                            input,
                            input
                            --> Layers.Dense(3, activation = activation)
                            --> Layers.BatchNormalization(epsilon = epsilon)
                        )

                    let path = Path.Combine(folder, "bn.keras")
                    (build 1e-6 "relu").Save path

                    let target = build 1e-3 "relu"
                    let before = snapshot target
                    let _, message = kerasError (fun () -> target.LoadWeights path)
                    expectContains message [ path; "epsilon=0.001"; "epsilon=1E-06"; "BatchNormalization" ]
                    Expect.equal (snapshot target) before "no weight changed"

                    let _, message = kerasError (fun () -> (build 1e-6 "tanh").LoadWeights path)
                    expectContains message [ path; "activation=\"tanh\""; "activation=\"relu\"" ]

                    let same = build 1e-6 "relu"
                    same.LoadWeights path
                    Expect.equal (snapshot same) (snapshot (Keras.LoadModel path)) "an equal architecture loads"

                    let input = Keras.Input(shape = [ 4 ])

                    let swapped =
                        Keras.Model(
                            input,
                            input --> Layers.Dense(3, activation = "relu") --> Layers.LayerNormalization()
                        )

                    let _, message = kerasError (fun () -> swapped.LoadWeights path)
                    expectContains message [ "is a LayerNormalization"; "is a BatchNormalization" ])
            }

            test "the guide's save / delete / load of the trained MNIST model gives the same test accuracy" {
                inTempFolder "kerasfile" (fun folder ->
                    let data = Keras.Datasets.Mnist.loadFrom (sharedData "mnist")
                    use rawTrain = Keras.Datasets.Tensors.ofImages data.XTrain

                    let xTrain =
                        rawTrain.narrow(0L, 0L, 10000L).reshape(10000L, 784L).to_type(torch.ScalarType.Float32)
                        / torch.tensor 255.0f

                    let yTrain = torch.tensor (data.YTrain[..9999] |> Array.map int64)
                    let xTest = (fst mnistTest.Value).reshape(10000L, 784L)
                    let labels = snd mnistTest.Value

                    let inputs = Keras.Input(shape = [ 784 ])

                    let outputs =
                        inputs
                        --> Layers.Dense(64, activation = "relu")
                        --> Layers.Dense(64, activation = "relu")
                        --> Layers.Dense(10)

                    let model = Keras.Model(inputs, outputs, name = "mnist_model")

                    let compiled =
                        model.Compile(
                            optimizer = Optimizers.RMSprop(),
                            loss = SparseCategoricalCrossentropy true,
                            metrics = [ "accuracy" ]
                        )

                    compiled.Fit(xTrain, yTrain, batchSize = 64, epochs = 1, verbose = 0) |> ignore

                    let accuracy (m: Model) =
                        let logits = Model.predictMany m 1000 [ xTest ] |> List.head
                        logits.argmax(1L).eq(labels).sum().item<int64>()

                    let trained = accuracy model
                    Expect.isGreaterThan trained 8500L "the model learned (one epoch on 10,000 images)"
                    let path = Path.Combine(folder, "path_to_my_model.keras")
                    model.Save path
                    // del model
                    let restored = Keras.LoadModel path
                    Expect.equal (accuracy restored) trained "the same correct count on the 10,000 test images")
            }

            test "failures are KerasExceptions naming the file; a failed save keeps the old file" {
                inTempFolder "kerasfile" (fun folder ->
                    let missing = Path.Combine(folder, "missing.keras")
                    expectContains (snd (kerasError (fun () -> Keras.LoadModel missing))) [ missing ]

                    let garbage = Path.Combine(folder, "garbage.keras")
                    File.WriteAllBytes(garbage, Array.init 3000 (fun i -> byte ((i * 7919) % 251)))
                    expectContains (snd (kerasError (fun () -> Keras.LoadModel garbage))) [ garbage ]

                    let model = zoo ()
                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let bytes = File.ReadAllBytes path

                    for keep in [ bytes.Length / 2; bytes.Length - 30; 100 ] do
                        let cut = Path.Combine(folder, $"cut{keep}.keras")
                        File.WriteAllBytes(cut, bytes[.. keep - 1])
                        expectContains (snd (kerasError (fun () -> Keras.LoadModel cut))) [ cut ]

                    let wrongName = Path.Combine(folder, "m.h5")
                    expectContains (snd (kerasError (fun () -> KerasFile.save model wrongName))) [ "`.keras`" ]
                    Expect.equal (File.ReadAllBytes path) bytes "the saved file is unchanged")
            }
        ]


/// A random functional graph: a trunk of Dense layers over one input, side branches that merge back (Add or
/// Concatenate), a shared layer called twice and, optionally, a nested functional model called on two tensors.
type private GraphPlan =
    {
        Width: int
        Trunk: int list
        Branches: (int * bool) list
        Shared: bool
        Nested: bool
    }

let private graphPlans =
    gen {
        let! width = Gen.choose (1, 5)
        let! trunk = Gen.listOfLength 2 (Gen.choose (1, 6)) |> Gen.map (List.truncate 3)
        let! branchCount = Gen.choose (0, 3)

        let! branches =
            Gen.listOfLength branchCount (Gen.zip (Gen.choose (1, 4)) (Gen.elements [ true; false ]))

        let! shared = Gen.elements [ true; false ]
        let! nested = Gen.elements [ true; false ]

        return
            {
                Width = width
                Trunk = trunk
                Branches = branches
                Shared = shared
                Nested = nested
            }
    }

let private buildPlan (plan: GraphPlan) =
    let input = Keras.Input(shape = [ plan.Width ])

    let trunk =
        plan.Trunk
        |> List.fold (fun (x: KerasTensor) u -> x --> Layers.Dense(u, activation = "relu")) input

    let width = List.last plan.Trunk

    let merged =
        plan.Branches
        |> List.fold
            (fun (x: KerasTensor) (units, add) ->
                if add then
                    Layers.add [ x; input --> Layers.Dense(units) --> Layers.Dense(width) ]
                else
                    Layers.concatenate [ x; input --> Layers.Dense(units) ] --> Layers.Dense(width))
            trunk

    let shared =
        if plan.Shared then
            let layer = Layers.Dense(width, activation = "tanh")
            Layers.add [ layer.Call merged; layer.Call trunk ]
        else
            merged

    let nested =
        if plan.Nested then
            let innerInput = Keras.Input(shape = [ width ])

            let inner =
                Keras.Model(innerInput, innerInput --> Layers.Dense(3) --> Layers.Dense(width))

            Layers.add [ inner.Call shared; inner.Call trunk ]
        else
            shared

    Keras.Model(input, nested --> Layers.Dense(2))

let private roundTripProperty (plan: GraphPlan) =
    inTempFolder "kerasfile" (fun folder ->
        let model = buildPlan plan
        randomize model
        let path = Path.Combine(folder, "graph.keras")
        model.Save path
        let loaded = Keras.LoadModel path

        let same =
            (Model.getConfig loaded).ToJsonString() = (Model.getConfig model).ToJsonString()

        let x = torch.rand (5L, int64 plan.Width)
        let a = predict model x
        let b = predict loaded x
        same && Array.forall2 (fun (p: float32) q -> abs (p - q) <= 1e-6f) a b)

let private corruptionSurvives (seed: int) =
    inTempFolder "kerasfile" (fun folder ->
        let model =
            buildPlan
                {
                    Width = 3
                    Trunk = [ 4 ]
                    Branches = [ 2, true ]
                    Shared = true
                    Nested = true
                }

        let path = Path.Combine(folder, "m.keras")
        model.Save path
        let bytes = File.ReadAllBytes path
        let random = Random seed
        let damaged = Array.copy bytes

        match random.Next 3 with
        | 0 ->
            for _ in 1 .. 1 + random.Next 8 do
                damaged[random.Next damaged.Length] <- byte (random.Next 256)
        | 1 -> Array.fill damaged (random.Next damaged.Length) (min 64 (damaged.Length / 4)) 0uy
        | _ -> ()

        let cut =
            if random.Next 3 = 0 then
                damaged[.. random.Next damaged.Length]
            else
                damaged

        let victim = Path.Combine(folder, "victim.keras")
        File.WriteAllBytes(victim, cut)

        try
            Keras.LoadModel victim |> ignore
            true // damage in a place that changes nothing (e.g. a timestamp) is allowed to load
        with
        | :? KerasException as e -> e.Message.Contains victim
        | _ -> false)

let private properties =
    testList
        "properties"
        [
            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 25
                }
                "random functional graphs (branches, merges, shared layers, nesting) survive save and load"
                (Prop.forAll (Arb.fromGen graphPlans) roundTripProperty)

            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 60
                }
                "random corruptions of a written .keras file load or raise a KerasException naming the file"
                corruptionSurvives

            test "a model nesting another functional model serializes it as Keras does and comes back" {
                let model =
                    buildPlan
                        {
                            Width = 3
                            Trunk = [ 4; 5 ]
                            Branches = []
                            Shared = false
                            Nested = true
                        }

                let config = Model.getConfig model

                let nested =
                    (at config [ "layers" ] :?> JsonArray)
                    |> Seq.find (fun l -> text l [ "class_name" ] = "Functional")

                Expect.equal
                    (keys (at nested [ "config" ]))
                    [ "name"; "trainable"; "layers"; "input_layers"; "output_layers" ]
                    "nested config"

                Expect.equal ((at nested [ "inbound_nodes" ] :?> JsonArray).Count) 2 "two calls"

                let callers =
                    (at config [ "layers" ] :?> JsonArray)
                    |> Seq.collect (fun l -> (at l [ "inbound_nodes" ] :?> JsonArray))
                    |> Seq.collect (fun n -> (at n [ "args" ]).ToJsonString() |> Seq.singleton)
                    |> String.concat ""

                let name = text nested [ "name" ]
                Expect.stringContains callers $"[\"{name}\",1,0]" "Keras numbers a nested model's calls from 1"
                Expect.stringContains callers $"[\"{name}\",2,0]" "the second call"
                let rebuilt = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"
            }
        ]

[<Tests>]
let tests = testList "KerasFile" [ realFiles; configTests; roundTrips; properties ]
