/// <summary>The schema of the nested objects the library writes (initializers, regularizers, constraints,
/// activations, dtypes, optimizers, learning-rate schedules, losses, metrics) and of its model-level entries
/// (serialized model, Functional and Sequential configs, metadata.json), against Keras 3.1.1, the version stamped into
/// <c>metadata.json</c>. The tests run in the "Config schema" list (ConfigSchemaTests).</summary>
module ConfigSchemaObjectTests

open System.Text.Json.Nodes
open Expecto
open Keras
open Keras.Operators

/// The keys of a JSON object.
let private keysOfObject (o: JsonObject) = o |> Seq.map _.Key |> Set.ofSeq

/// Keras 3.1.1's <c>serialize_keras_object</c> wrapper of a class instance.
let private wrapperKeys =
    set [ "module"; "class_name"; "config"; "registered_name" ]

/// Checks a serialized object: the wrapper's keys, module, class name, a null registered name, and the inner keys.
let private expectSerialized (what: string) (node: JsonNode) (modul: string) (className: string) (inner: string list) =
    let o = node.AsObject()
    Expect.equal (keysOfObject o) wrapperKeys $"{what}: wrapper keys"
    Expect.equal (o["module"].GetValue<string>()) modul $"{what}: module"
    Expect.equal (o["class_name"].GetValue<string>()) className $"{what}: class_name"
    Expect.isNull o["registered_name"] $"{what}: registered_name of a built-in"
    Expect.equal (keysOfObject (o["config"].AsObject())) (Set.ofList inner) $"{what}: config keys"

/// <summary>Keras 3.1.1's initializers (keras/initializers/*.py): class name (the first export name, as
/// <c>api_export.get_name_from_symbol</c> gives it) and <c>get_config</c> keys.</summary>
let private initializerTable =
    [
        Zeros, "Zeros", []
        Ones, "Ones", []
        Constant 0.5, "Constant", [ "value" ]
        GlorotUniform, "GlorotUniform", [ "seed" ]
        GlorotNormal, "GlorotNormal", [ "seed" ]
        HeUniform, "HeUniform", [ "seed" ]
        HeNormal, "HeNormal", [ "seed" ]
        LecunUniform, "LecunUniform", [ "seed" ]
        LecunNormal, "LecunNormal", [ "seed" ]
        RandomNormal(0.0, 0.05), "RandomNormal", [ "mean"; "stddev"; "seed" ]
        RandomUniform(-0.05, 0.05), "RandomUniform", [ "minval"; "maxval"; "seed" ]
        // keras_export(["keras.initializers.OrthogonalInitializer", "keras.initializers.Orthogonal", ...]) in 3.1.1.
        Orthogonal 1.0, "OrthogonalInitializer", [ "gain"; "seed" ]
    ]

/// Keras 3.1.1's optimizer keys: BaseOptimizer.get_config's, then each class's own.
let private optimizerBaseKeys =
    [
        "name"
        "learning_rate"
        "weight_decay"
        "clipnorm"
        "global_clipnorm"
        "clipvalue"
        "use_ema"
        "ema_momentum"
        "ema_overwrite_frequency"
        "loss_scale_factor"
        "gradient_accumulation_steps"
    ]

/// The nested objects of a config, each against Keras 3.1.1.
let nestedTests =
    [
        test "initializers: Keras 3.1.1's class names and config keys, and they read back" {
            for init, className, inner in initializerTable do
                let node = Config.initializer init
                expectSerialized className node "keras.initializers" className inner
                Expect.equal (ConfigReader.initializer "test" node) init $"{className} reads back"

            // Keras 3.4+ names the orthogonal initializer "Orthogonal": still read.
            let later =
                JsonNode.Parse
                    """{"module":"keras.initializers","class_name":"Orthogonal","config":{"gain":2.0,"seed":null},"registered_name":null}"""

            Expect.equal (ConfigReader.initializer "test" later) (Orthogonal 2.0) "Keras 3.4+'s name"
        }

        test "regularizers and constraints: Keras 3.1.1's class names and config keys" {
            for r, className, inner in
                [
                    L1 0.01, "L1", [ "l1" ]
                    L2 0.01, "L2", [ "l2" ]
                    L1L2(0.01, 0.02), "L1L2", [ "l1"; "l2" ]
                    OrthogonalRegularizer(0.01, "rows"), "OrthogonalRegularizer", [ "factor"; "mode" ]
                ] do
                expectSerialized className (Regularizer.config r) "keras.regularizers" className inner

            for c, className, inner in
                [
                    MaxNorm(2.0, [ 0 ]), "MaxNorm", [ "max_value"; "axis" ]
                    NonNeg, "NonNeg", []
                    UnitNorm [ 0 ], "UnitNorm", [ "axis" ]
                    MinMaxNorm(0.0, 1.0, 1.0, [ 0 ]), "MinMaxNorm", [ "min_value"; "max_value"; "rate"; "axis" ]
                ] do
                expectSerialized className (Constraint.config c) "keras.constraints" className inner

            Expect.isNull (Regularizer.configOrNull None) "no regularizer is JSON null, as Keras writes it"
            Expect.isNull (Constraint.configOrNull None) "no constraint is JSON null"
        }

        test "activations are written as plain strings, each a name Keras 3.1.1's activations.get resolves" {
            // Keras 3.1.1's keras.activations: ALL_OBJECTS by function name, plus the aliases swish and hard_swish.
            let keras311 =
                set
                    [
                        "relu"
                        "leaky_relu"
                        "relu6"
                        "softmax"
                        "elu"
                        "selu"
                        "softplus"
                        "softsign"
                        "silu"
                        "gelu"
                        "tanh"
                        "sigmoid"
                        "exponential"
                        "hard_sigmoid"
                        "hard_silu"
                        "linear"
                        "mish"
                        "log_softmax"
                        "swish"
                        "hard_swish"
                    ]

            for a in
                [
                    Linear
                    Relu
                    Sigmoid
                    Softmax
                    Tanh
                    Gelu
                    Elu
                    Selu
                    Softplus
                    Swish
                    LeakyRelu 0.2
                ] do
                let node = Config.activation a
                Expect.equal (node.GetValueKind()) System.Text.Json.JsonValueKind.String $"{a}: a string"
                Expect.contains keras311 (node.GetValue<string>()) $"{a}: a Keras 3.1.1 name"
                Expect.equal (ConfigReader.activation "test" CustomObjects.none node) a $"{a}: reads back"

            // Keras 3.1.1 writes silu's function name for swish.
            Expect.equal ((Config.activation Swish).GetValue<string>()) "silu" "swish is written silu"
        }

        test "layer dtypes are Keras 3.1.1's policy names (strings), for a layer and inside a functional model" {
            let dense = LayerSerialization.layerConfig (Layers.Dense 2)
            Expect.equal (dense["dtype"].GetValue<string>()) "float32" "a layer's dtype"

            let input = Keras.Input(shape = [ 3 ])
            let model = Keras.Model(input, input --> Layers.Dense 2)
            let serialized = KerasFile.serializeModel model None

            let denseEntry = serialized.["config"].["layers"].[1]
            Expect.equal (denseEntry.["config"].["dtype"].GetValue<string>()) "float32" "inside a functional model"
        }

        test "optimizers: Keras 3.1.1's BaseOptimizer keys plus each class's own" {
            for optimizer, className, own in
                [
                    Optimizers.SGD(), "SGD", [ "momentum"; "nesterov" ]
                    Optimizers.RMSprop(), "RMSprop", [ "rho"; "momentum"; "epsilon"; "centered" ]
                    Optimizers.Adam(), "Adam", [ "beta_1"; "beta_2"; "epsilon"; "amsgrad" ]
                    // AdamW is Adam with weight_decay (a BaseOptimizer key).
                    Optimizers.AdamW(), "AdamW", [ "beta_1"; "beta_2"; "epsilon"; "amsgrad" ]
                    Optimizers.Adagrad(), "Adagrad", [ "initial_accumulator_value"; "epsilon" ]
                ] do
                let node = CompileConfig.serializeOptimizer (OptimizerState optimizer)
                expectSerialized className node "keras.optimizers" className (optimizerBaseKeys @ own)
        }

        test "learning-rate schedules: Keras 3.1.1's class names and get_config keys" {
            for rate, className, inner in
                [
                    Schedules.exponentialDecay 0.1 100L 0.9 false,
                    "ExponentialDecay",
                    [ "initial_learning_rate"; "decay_steps"; "decay_rate"; "staircase"; "name" ]
                    Schedules.cosineDecay 0.1 100L 0.0,
                    "CosineDecay",
                    [
                        "initial_learning_rate"
                        "decay_steps"
                        "alpha"
                        "name"
                        "warmup_target"
                        "warmup_steps"
                    ]
                    Schedules.inverseTimeDecay 0.1 100L 0.5,
                    "InverseTimeDecay",
                    [ "initial_learning_rate"; "decay_steps"; "decay_rate"; "staircase"; "name" ]
                ] do
                let optimizer =
                    CompileConfig.serializeOptimizer (OptimizerState(Optimizers.SGD(learningRate = rate)))

                let schedule = optimizer["config"]["learning_rate"]
                expectSerialized className schedule "keras.optimizers.schedules" className inner
        }

        test "losses: Keras 3.1.1's keys (every one accepted by its constructor; Huber's delta a deliberate extra)" {
            let baseLoss = [ "name"; "reduction" ]
            let crossentropy = baseLoss @ [ "from_logits"; "label_smoothing"; "axis" ]

            for loss, className, inner in
                [
                    // Keras 3.1.1's SparseCategoricalCrossentropy takes no axis (a later addition).
                    SparseCategoricalCrossentropy false,
                    "SparseCategoricalCrossentropy",
                    baseLoss @ [ "from_logits"; "ignore_class" ]
                    CategoricalCrossentropy false, "CategoricalCrossentropy", crossentropy
                    BinaryCrossentropy false, "BinaryCrossentropy", crossentropy
                    Loss.MeanSquaredError, "MeanSquaredError", baseLoss
                    Loss.MeanAbsoluteError, "MeanAbsoluteError", baseLoss
                    // Keras 3.1.1's Huber.get_config forgets delta (Loss.get_config) but its constructor takes it:
                    // dropping it would lose a delta the user set.
                    Huber 1.0, "Huber", baseLoss @ [ "delta" ]
                ] do
                expectSerialized className (CompileConfig.serializeLoss loss) "keras.losses" className inner
        }

        test "metrics: Keras 3.1.1's keys (Metric.get_config's name and dtype plus each class's own)" {
            let baseMetric = [ "name"; "dtype" ]

            for spec, className, inner in
                [
                    MetricSpec.MeanSquaredError, "MeanSquaredError", baseMetric
                    MetricSpec.MeanAbsoluteError, "MeanAbsoluteError", baseMetric
                    MetricSpec.SparseCategoricalAccuracy, "SparseCategoricalAccuracy", baseMetric
                    MetricSpec.CategoricalAccuracy, "CategoricalAccuracy", baseMetric
                    MetricSpec.BinaryAccuracy 0.5, "BinaryAccuracy", baseMetric @ [ "threshold" ]
                    MetricSpec.Precision 0.5, "Precision", baseMetric @ [ "thresholds"; "top_k"; "class_id" ]
                    MetricSpec.Recall 0.5, "Recall", baseMetric @ [ "thresholds"; "top_k"; "class_id" ]
                    MetricSpec.AUC 200,
                    "AUC",
                    baseMetric
                    @ [
                        "num_thresholds"
                        "curve"
                        "summation_method"
                        "multi_label"
                        "num_labels"
                        "label_weights"
                        "from_logits"
                    ]
                ] do
                expectSerialized className (CompileConfig.serializeMetric spec) "keras.metrics" className inner

            Expect.equal
                ((CompileConfig.serializeMetric (MetricSpec.Named "accuracy")).GetValue<string>())
                "accuracy"
                "a metric given by name stays a name, as Keras 3.1.1 keeps it"
        }

        test "Precision and Recall: Keras 3.1.1 writes thresholds null for the default (0.5) and the value otherwise" {
            // keras.metrics.Precision().get_config() at v3.1.1: {"thresholds": self.init_thresholds, ...}, None by default.
            Expect.equal
                ((CompileConfig.serializeMetric (MetricSpec.Precision 0.5)).ToJsonString())
                """{"module":"keras.metrics","class_name":"Precision","config":{"name":"precision","dtype":"float32","thresholds":null,"top_k":null,"class_id":null},"registered_name":null}"""
                "Precision(): thresholds null"

            Expect.equal
                ((CompileConfig.serializeMetric (MetricSpec.Recall 0.5)).ToJsonString())
                """{"module":"keras.metrics","class_name":"Recall","config":{"name":"recall","dtype":"float32","thresholds":null,"top_k":null,"class_id":null},"registered_name":null}"""
                "Recall(): thresholds null"

            for spec in
                [
                    MetricSpec.Precision 0.5
                    MetricSpec.Recall 0.5
                    MetricSpec.Precision 0.7
                    MetricSpec.Recall 0.25
                ] do
                let node = CompileConfig.serializeMetric spec
                Expect.equal (CompileConfig.parseMetric node) spec $"{spec}: reads back"

            let given = (CompileConfig.serializeMetric (MetricSpec.Precision 0.7)).AsObject()

            Expect.equal
                (given["config"].["thresholds"].GetValue<float>())
                0.7
                "a threshold other than the default is written"

            for keras, expected in
                [
                    """{"module": "keras.metrics", "class_name": "Precision", "config": {"name": "precision", "dtype": "float32", "thresholds": null, "top_k": null, "class_id": null}, "registered_name": null}""",
                    MetricSpec.Precision 0.5
                    """{"module": "keras.metrics", "class_name": "Recall", "config": {"name": "recall", "dtype": "float32", "thresholds": null, "top_k": null, "class_id": null}, "registered_name": null}""",
                    MetricSpec.Recall 0.5
                    """{"module": "keras.metrics", "class_name": "Recall", "config": {"name": "recall", "dtype": "float32", "thresholds": 0.3, "top_k": null, "class_id": null}, "registered_name": null}""",
                    MetricSpec.Recall 0.3
                ] do
                Expect.equal (CompileConfig.parseMetric (JsonNode.Parse keras)) expected $"Keras's form: {keras}"
        }
    ]

/// <summary>Where two JSON trees differ in schema: an object's key set, a value's kind (string, number, object, ...),
/// an array's length; values themselves are not compared. Paths read like <c>config.layers[1].config</c>.</summary>
let rec private schemaDifferences (path: string) (ours: JsonNode) (theirs: JsonNode) : string list =
    match ours, theirs with
    | null, null -> []
    | null, t -> [ $"{path}: null, Keras has {t.GetValueKind()}" ]
    | o, null -> [ $"{path}: {o.GetValueKind()}, Keras has null" ]
    | (:? JsonObject as o), (:? JsonObject as t) ->
        let ok, tk = keysOfObject o, keysOfObject t

        [
            for k in Set.difference ok tk do
                yield $"{path}: extra key `{k}`"
            for k in Set.difference tk ok do
                yield $"{path}: missing key `{k}`"
            for k in Set.intersect ok tk do
                yield! schemaDifferences $"{path}.{k}" o[k] t[k]
        ]
    | (:? JsonArray as o), (:? JsonArray as t) when o.Count = t.Count ->
        [
            for i in 0 .. o.Count - 1 do
                yield! schemaDifferences $"{path}[{i}]" o[i] t[i]
        ]
    | (:? JsonArray as o), (:? JsonArray as t) -> [ $"{path}: {o.Count} items, Keras has {t.Count}" ]
    | o, t when o.GetValueKind() <> t.GetValueKind() ->
        let isBool (k: System.Text.Json.JsonValueKind) =
            k = System.Text.Json.JsonValueKind.True
            || k = System.Text.Json.JsonValueKind.False

        if isBool (o.GetValueKind()) && isBool (t.GetValueKind()) then
            []
        else
            [ $"{path}: {o.GetValueKind()}, Keras has {t.GetValueKind()}" ]
    | _ -> []

/// The config.json of a .keras file.
let private archiveConfig (path: string) : JsonNode = KerasFile.readArchiveConfig path

/// The model-level entries of a file, against Keras 3.1.1 and its real file.
let modelTests =
    [
        test "a functional model nested in another is written with Keras 3.1.1's keys and a null build shape" {
            let innerInput = Keras.Input(shape = [ 3 ], name = "inner_in")

            let inner =
                Keras.Model(innerInput, innerInput --> Layers.Dense(2, name = "inner_dense"), name = "inner")

            let input = Keras.Input(shape = [ 3 ], name = "outer_in")

            let outer =
                Keras.Model(input, input --> inner.AsLayer --> Layers.Dense(1, name = "head"), name = "outer")

            let config = Model.getConfig outer

            let nested =
                config.["layers"].AsArray()
                |> Seq.find (fun l -> l.["name"].GetValue<string>() = "inner")

            Expect.equal
                (keysOfObject (nested.AsObject()))
                (set
                    [
                        "module"
                        "class_name"
                        "config"
                        "registered_name"
                        "build_config"
                        "name"
                        "inbound_nodes"
                    ])
                "a layer entry's keys"

            Expect.equal (nested.["build_config"].ToJsonString()) """{"input_shape":null}""" "build_config"

            Expect.equal
                (keysOfObject (nested.["config"].AsObject()))
                (set [ "name"; "trainable"; "layers"; "input_layers"; "output_layers" ])
                "Functional.get_config keys"

            Expect.equal
                ((Model.getConfig (Model.fromConfig config CustomObjects.none)).ToJsonString())
                (config.ToJsonString())
                "reads back to the same config"
        }

        test "a model loaded from Keras 3.1.1's mnist_cnn_keras3.keras re-saves with the same schema at every depth" {
            TestData.inTempFolder "config-schema" (fun folder ->
                let original = TestData.kerasFile "mnist_cnn_keras3.keras"
                let model = Keras.LoadModel original
                let path = System.IO.Path.Combine(folder, "again.keras")
                model.Save path

                let found =
                    schemaDifferences "config.json" (archiveConfig path) (archiveConfig original)

                // Deliberate: the file compiled with names ("adam", "categorical_crossentropy"); the library writes
                // the optimizer and loss it rebuilt as serialized objects (Keras's form for objects given to compile),
                // which carry the learning rate and options. Keras 3.1.1 reads both forms.
                let deliberate =
                    set
                        [
                            "config.json.compile_config.loss: Object, Keras has String"
                            "config.json.compile_config.optimizer: Object, Keras has String"
                        ]

                let found = found |> List.filter (fun d -> not (deliberate.Contains d))
                Expect.isEmpty found (String.concat "; " found))
        }

        test "a compiled functional model's file: Keras 3.1.1's wrapper, metadata and single input/output lists" {
            TestData.inTempFolder "config-schema" (fun folder ->
                let input = Keras.Input(shape = [ 3 ], name = "x")
                let model = Keras.Model(input, input --> Layers.Dense(2, name = "out"), name = "m")
                model.Compile(Optimizers.Adam(), loss = "mse") |> ignore
                let path = System.IO.Path.Combine(folder, "m.keras")
                model.Save path
                let saved = archiveConfig path

                Expect.equal
                    (keysOfObject (saved.AsObject()))
                    (set
                        [
                            "module"
                            "class_name"
                            "config"
                            "registered_name"
                            "build_config"
                            "compile_config"
                        ])
                    "serialize_keras_object(model) with build and compile configs"

                // Functional is not exported by Keras 3.1.1: its module and registered name are the class's own.
                Expect.equal (saved["module"].GetValue<string>()) "keras.src.models.functional" "module"
                // Keras's Functional is built with build(None) in its constructor: its build_config has a null shape.
                Expect.equal (saved.["build_config"].ToJsonString()) """{"input_shape":null}""" "build_config"
                Expect.equal (saved["registered_name"].GetValue<string>()) "Functional" "registered_name"
                // Keras 3.1.1's Functional.get_config writes one tensor as a list of one; its reader needs the list.
                Expect.equal (saved.["config"].["input_layers"].ToJsonString()) """[["x",0,0]]""" "input_layers"
                Expect.equal (saved.["config"].["output_layers"].ToJsonString()) """[["out",0,0]]""" "output_layers"

                use zip = System.IO.Compression.ZipFile.OpenRead path
                use reader = new System.IO.StreamReader(zip.GetEntry("metadata.json").Open())
                let metadata = JsonNode.Parse(reader.ReadToEnd()).AsObject()
                Expect.equal (keysOfObject metadata) (set [ "keras_version"; "date_saved" ]) "metadata keys"

                Expect.equal
                    (metadata["keras_version"].GetValue<string>())
                    "3.1.1"
                    "the version whose format is written"

                Expect.isMatch
                    (metadata["date_saved"].GetValue<string>())
                    @"^\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}$"
                    "saving_lib's date format"

                // Keras 3.4+ writes the bare triple; both forms read back to the same model and config.
                let config = Model.getConfig model
                let later = config.DeepClone().AsObject()
                later["input_layers"] <- JsonNode.Parse """["x",0,0]"""
                later["output_layers"] <- JsonNode.Parse """["out",0,0]"""

                Expect.equal
                    ((Model.getConfig (Model.fromConfig later CustomObjects.none)).ToJsonString())
                    (config.ToJsonString())
                    "Keras 3.4+'s form"

                Expect.equal
                    ((Model.getConfig (Model.fromConfig config CustomObjects.none)).ToJsonString())
                    (config.ToJsonString())
                    "Keras 3.1.1's form")
        }
    ]
