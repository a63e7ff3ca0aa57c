/// <summary>The schema of what the library writes, against Keras 3.1.1 (the version stamped into
/// <c>metadata.json</c>): the top-level config keys of the preprocessing layers, the nested objects
/// (initializers, regularizers, constraints, optimizers, learning-rate schedules, losses, metrics) and the model-level
/// entries. Every key the library writes for a default instance must also be an argument Keras 3.1.1's constructor
/// accepts, or Keras 3.1.1 refuses the file (<c>Layer.__init__</c> raises "Unrecognized keyword arguments").</summary>
module ConfigSchemaTests

open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Keras
open Keras.Operators

/// The keys of a JSON object.
let private keysOfObject (o: JsonObject) = o |> Seq.map _.Key |> Set.ofSeq

/// The top-level keys of a layer's config, as the library writes it into a file.
let private keysOf (layer: Layer) =
    keysOfObject (LayerSerialization.layerConfig layer)

/// The base Layer's keys (Keras 3.1.1's <c>Layer.get_config</c>: name from Operation, trainable, dtype).
let private baseKeys = [ "name"; "trainable"; "dtype" ]

/// Keras 3.1.1's <c>Layer.__init__</c> arguments (besides the subclass's own): what a config may also carry.
let private baseArguments =
    [
        "name"
        "trainable"
        "dtype"
        "activity_regularizer"
        "autocast"
        "input_dim"
        "input_shape"
    ]

/// Keras 3.1.1's IndexLookup pops these from its kwargs (and raises on any other unknown one).
let private lookupHidden =
    [ "vocabulary_size"; "has_input_vocabulary"; "trainable"; "dtype"; "name" ]

/// One class of the table: an instance with Keras's defaults, Keras 3.1.1's keys (all of them, base keys included),
/// the arguments Keras 3.1.1's constructor accepts, and our deliberate extra keys with the reason.
type private Row =
    {
        ClassName: string
        Make: unit -> Layer
        Keys: string list
        Accepted: string list
        Extras: (string * string) list
    }

let private row className make keys accepted =
    {
        ClassName = className
        Make = make
        Keys = keys
        Accepted = accepted
        Extras = []
    }

/// <summary>Keras 3.1.1's <c>get_config</c> of each preprocessing class (keras/layers/preprocessing/*.py at tag
/// v3.1.1, merged with its bases': TFDataLayer adds nothing, Layer adds name, trainable and dtype; Discretization's
/// get_config does not call Layer's and writes name and dtype only) and its <c>__init__</c> arguments.</summary>
let private preprocessingTable: Row list =
    let image = [ "data_format" ]

    [
        row
            "Normalization"
            (fun () -> Layers.Normalization())
            (baseKeys @ [ "axis"; "invert"; "mean"; "variance" ])
            (baseArguments @ [ "axis"; "mean"; "variance"; "invert" ])
        row
            "Rescaling"
            (fun () -> Layers.Rescaling(1.0 / 255.0))
            (baseKeys @ [ "scale"; "offset" ])
            (baseArguments @ [ "scale"; "offset" ])
        // Keras 3.3+ adds pad_to_aspect_ratio, fill_mode and fill_value, 3.9+ antialias: written only when set.
        row
            "Resizing"
            (fun () -> Layers.Resizing(8, 8))
            (baseKeys
             @ [ "height"; "width"; "interpolation"; "crop_to_aspect_ratio" ]
             @ image)
            (baseArguments
             @ [ "height"; "width"; "interpolation"; "crop_to_aspect_ratio" ]
             @ image)
        row
            "CenterCrop"
            (fun () -> Layers.CenterCrop(4, 4))
            (baseKeys @ [ "height"; "width" ] @ image)
            (baseArguments @ [ "height"; "width" ] @ image)
        // Keras 3.6+ adds data_format; the library is channels_last only, Keras 3.1.1's implied format.
        row
            "RandomFlip"
            (fun () -> Layers.RandomFlip())
            (baseKeys @ [ "seed"; "mode" ])
            (baseArguments @ [ "mode"; "seed" ])
        row
            "RandomRotation"
            (fun () -> Layers.RandomRotation 0.1)
            (baseKeys
             @ [ "factor"; "value_range"; "fill_mode"; "fill_value"; "interpolation"; "seed" ]
             @ image)
            (baseArguments
             @ [ "factor"; "fill_mode"; "interpolation"; "seed"; "fill_value"; "value_range" ]
             @ image)
        row
            "RandomZoom"
            (fun () -> Layers.RandomZoom 0.1)
            (baseKeys
             @ [
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
            (baseArguments
             @ [
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
        row
            "RandomTranslation"
            (fun () -> Layers.RandomTranslation(0.1, 0.1))
            (baseKeys
             @ [
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
            (baseArguments
             @ [
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
        // Keras 3.8+ adds value_range (default (0, 255)), later data_format: written only when set.
        row
            "RandomContrast"
            (fun () -> Layers.RandomContrast 0.2)
            (baseKeys @ [ "factor"; "seed" ])
            (baseArguments @ [ "factor"; "seed" ])
        row
            "RandomBrightness"
            (fun () -> Layers.RandomBrightness 0.2)
            (baseKeys @ [ "factor"; "value_range"; "seed" ])
            (baseArguments @ [ "factor"; "value_range"; "seed" ])
        // Keras 3.1.1's CategoryEncoding has no `sparse` argument (later ones take it but never write it).
        row
            "CategoryEncoding"
            (fun () -> Layers.CategoryEncoding 4)
            (baseKeys @ [ "num_tokens"; "output_mode" ])
            (baseArguments @ [ "num_tokens"; "output_mode" ])
        row
            "Discretization"
            (fun () -> Layers.Discretization(binBoundaries = [ 0.0; 1.0 ]))
            [
                "bin_boundaries"
                "num_bins"
                "epsilon"
                "output_mode"
                "sparse"
                "name"
                "dtype"
            ]
            [
                "bin_boundaries"
                "num_bins"
                "epsilon"
                "output_mode"
                "sparse"
                "dtype"
                "name"
            ]
        row
            "Hashing"
            (fun () -> Layers.Hashing 8)
            (baseKeys @ [ "num_bins"; "salt"; "mask_value"; "output_mode"; "sparse" ])
            (baseArguments @ [ "num_bins"; "mask_value"; "salt"; "output_mode"; "sparse" ])
        // Keras's IndexLookup writes oov_method and salt from a later release on: written only when set.
        row
            "StringLookup"
            (fun () -> Layers.StringLookup(vocabulary = [ "a"; "b" ]))
            (baseKeys
             @ [
                 "invert"
                 "max_tokens"
                 "num_oov_indices"
                 "oov_token"
                 "mask_token"
                 "output_mode"
                 "sparse"
                 "pad_to_max_tokens"
                 "idf_weights"
                 "vocabulary"
                 "vocabulary_size"
                 "encoding"
             ])
            (lookupHidden
             @ [
                 "max_tokens"
                 "num_oov_indices"
                 "mask_token"
                 "oov_token"
                 "vocabulary"
                 "idf_weights"
                 "invert"
                 "output_mode"
                 "pad_to_max_tokens"
                 "sparse"
                 "encoding"
             ])
        row
            "IntegerLookup"
            (fun () -> Layers.IntegerLookup(vocabulary = [ 1; 2 ]))
            (baseKeys
             @ [
                 "invert"
                 "max_tokens"
                 "num_oov_indices"
                 "oov_token"
                 "mask_token"
                 "output_mode"
                 "sparse"
                 "pad_to_max_tokens"
                 "vocabulary_dtype"
                 "idf_weights"
                 "vocabulary"
                 "vocabulary_size"
             ])
            (lookupHidden
             @ [
                 "max_tokens"
                 "num_oov_indices"
                 "mask_token"
                 "oov_token"
                 "vocabulary"
                 "vocabulary_dtype"
                 "idf_weights"
                 "invert"
                 "output_mode"
                 "sparse"
                 "pad_to_max_tokens"
             ])
        row
            "TextVectorization"
            (fun () -> Layers.TextVectorization(vocabulary = [ "a"; "b" ]))
            (baseKeys
             @ [
                 "max_tokens"
                 "standardize"
                 "split"
                 "ngrams"
                 "output_mode"
                 "output_sequence_length"
                 "pad_to_max_tokens"
                 "sparse"
                 "ragged"
                 "vocabulary"
                 "idf_weights"
                 "encoding"
                 "vocabulary_size"
             ])
            (baseArguments
             @ [
                 "max_tokens"
                 "standardize"
                 "split"
                 "ngrams"
                 "output_mode"
                 "output_sequence_length"
                 "pad_to_max_tokens"
                 "vocabulary"
                 "idf_weights"
                 "sparse"
                 "ragged"
                 "encoding"
                 "vocabulary_size"
                 "has_input_vocabulary"
             ])
    ]

/// Differences between our keys and a row's: missing keys, extra keys, and keys Keras 3.1.1 would refuse.
let private differences (rows: Row list) =
    [
        for r in rows do
            let layer = r.Make()

            if layer.ClassName <> r.ClassName then
                yield $"{r.ClassName}: the instance is a {layer.ClassName}"

            let ours = keysOf layer
            let expected = Set.ofList (r.Keys @ List.map fst r.Extras)

            for missing in Set.difference expected ours do
                yield $"{r.ClassName}: missing `{missing}`"

            for extra in Set.difference ours expected do
                yield $"{r.ClassName}: extra `{extra}`"

            for refused in Set.difference ours (Set.ofList r.Accepted) do
                yield $"{r.ClassName}: Keras 3.1.1's constructor refuses `{refused}`"
    ]

/// <summary>Keys later Keras versions write for the preprocessing classes, with the default Keras 3.1.1 implies:
/// the library writes one only when its value differs (Keras 3.1.1 then refuses the file, as it must refuse a
/// setting it does not have).</summary>
let private laterKeys: Map<string, (string * JsonNode) list> =
    Map.ofList
        [
            "Resizing",
            [
                "pad_to_aspect_ratio", JsonValue.Create false
                "fill_mode", JsonValue.Create "constant"
                "fill_value", JsonValue.Create 0.0
                "antialias", JsonValue.Create false
            ]
            "RandomFlip", [ "data_format", JsonValue.Create "channels_last" ]
            "RandomContrast",
            [
                "value_range", JsonNode.Parse "[0,255]"
                "data_format", JsonValue.Create "channels_last"
            ]
            "RandomBrightness", [ "data_format", JsonValue.Create "channels_last" ]
            "CategoryEncoding", [ "sparse", JsonValue.Create false ]
            "StringLookup", [ "oov_method", JsonValue.Create "floormod"; "salt", null ]
            "IntegerLookup", [ "oov_method", JsonValue.Create "floormod"; "salt", null ]
        ]

/// Whether two config values are the same number, string, bool, null or list of those.
let private sameValue (a: JsonNode) (b: JsonNode) =
    match a, b with
    | null, null -> true
    | null, _
    | _, null -> false
    | a, b -> JsonNode.DeepEquals(a, b) || a.ToJsonString() = b.ToJsonString()

/// Preprocessing layers with options drawn at random, each a valid combination.
let private preprocessingCases: Gen<Layer> =
    let seed = Gen.elements [ None; Some 3 ]
    let affineFill = Gen.elements [ "reflect"; "wrap"; "constant"; "nearest" ]
    let interpolation = Gen.elements [ "bilinear"; "nearest" ]

    Gen.oneof
        [
            gen {
                let! h = Gen.choose (1, 8)
                let! w = Gen.choose (1, 8)
                let! frame = Gen.elements [ "none"; "crop"; "pad" ]
                let! fill = Gen.elements [ 0.0; 1.5 ]
                let! interpolation = interpolation

                return
                    Layers.Resizing(
                        h,
                        w,
                        interpolation = interpolation,
                        cropToAspectRatio = (frame = "crop"),
                        padToAspectRatio = (frame = "pad"),
                        fillValue = fill
                    )
            }
            gen {
                let! mode = Gen.elements [ "horizontal"; "vertical"; "horizontal_and_vertical" ]
                let! seed = seed
                return Layers.RandomFlip(mode, ?seed = seed)
            }
            gen {
                let! factor = Gen.elements [ 0.1; 0.5 ]
                let! fill = affineFill
                let! interpolation = interpolation
                let! value = Gen.elements [ 0.0; 2.0 ]
                let! seed = seed
                let! which = Gen.choose (0, 2)

                return
                    match which with
                    | 0 ->
                        Layers.RandomRotation(
                            factor,
                            fillMode = fill,
                            interpolation = interpolation,
                            fillValue = value,
                            ?seed = seed
                        )
                    | 1 ->
                        Layers.RandomZoom(
                            factor,
                            fillMode = fill,
                            interpolation = interpolation,
                            fillValue = value,
                            ?seed = seed
                        )
                    | _ ->
                        Layers.RandomTranslation(
                            factor,
                            factor,
                            fillMode = fill,
                            interpolation = interpolation,
                            fillValue = value,
                            ?seed = seed
                        )
            }
            gen {
                let! factor = Gen.elements [ 0.2; 0.7 ]
                let! range = Gen.elements [ (0.0, 255.0); (0.0, 1.0); (-1.0, 1.0) ]
                let! seed = seed
                let! contrast = Gen.elements [ true; false ]

                return
                    if contrast then
                        Layers.RandomContrast(factor, valueRange = range, ?seed = seed)
                    else
                        Layers.RandomBrightness(factor, valueRange = range, ?seed = seed)
            }
            gen {
                let! tokens = Gen.choose (1, 9)
                let! mode = Gen.elements [ "multi_hot"; "one_hot"; "count" ]
                return Layers.CategoryEncoding(tokens, outputMode = mode)
            }
            gen {
                let! bins = Gen.choose (1, 9)
                let! mode = Gen.elements [ "int"; "one_hot"; "multi_hot"; "count" ]
                let! salt = Gen.elements [ None; Some 7 ]
                let! mask = Gen.elements [ None; Some "" ]
                return Layers.Hashing(bins, outputMode = mode, ?salt = salt, ?maskValue = mask)
            }
            gen {
                let! mode = Gen.elements [ "int"; "one_hot"; "multi_hot"; "count" ]
                return Layers.Discretization(binBoundaries = [ 0.0; 1.0 ], outputMode = mode)
            }
            gen {
                let! mode = Gen.elements [ "int"; "one_hot"; "multi_hot"; "count" ]
                let! oov = Gen.choose (0, 2)
                let! mask = Gen.elements [ None; Some "" ]
                let! strings = Gen.elements [ true; false ]

                return
                    if strings then
                        Layers.StringLookup(
                            vocabulary = [ "a"; "b"; "c" ],
                            outputMode = mode,
                            numOovIndices = oov,
                            ?maskToken = mask
                        )
                    else
                        Layers.IntegerLookup(
                            vocabulary = [ 1; 2; 3 ],
                            outputMode = mode,
                            numOovIndices = oov,
                            ?maskToken = (mask |> Option.map (fun _ -> 0))
                        )
            }
            gen {
                let! mode = Gen.elements [ "int"; "multi_hot"; "count" ]
                let! ngrams = Gen.elements [ None; Some 2 ]
                let! standardize = Gen.elements [ "lower_and_strip_punctuation"; "lower" ]
                let! length = Gen.elements [ None; Some 4 ]

                return
                    Layers.TextVectorization(
                        vocabulary = [ "a"; "b" ],
                        outputMode = mode,
                        standardize = standardize,
                        ?ngrams = ngrams,
                        ?outputSequenceLength = (if mode = "int" then length else None)
                    )
            }
        ]

/// The keys of a layer's config that Keras 3.1.1 would refuse although they are at the default Keras 3.1.1 implies.
let private needlessKeys (layer: Layer) =
    let row = preprocessingTable |> List.find (fun r -> r.ClassName = layer.ClassName)

    let config = LayerSerialization.layerConfig layer
    let later = laterKeys |> Map.tryFind layer.ClassName |> Option.defaultValue []

    [
        for KeyValue(key, value) in config do
            if not (List.contains key row.Accepted) then
                match later |> List.tryFind (fun (k, _) -> k = key) with
                | Some(_, byDefault) when not (sameValue value byDefault) -> ()
                | Some _ -> yield $"{layer.ClassName}: `{key}` written at its default"
                | None -> yield $"{layer.ClassName}: `{key}` is no Keras key Keras 3.1.1 accepts"
    ]

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

let private nestedTests =
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

        test "layer dtypes are Keras 3.1.1's policy names (strings), for layers and Sequential models" {
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

let private modelTests =
    [
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

[<Tests>]
let tests =
    testList
        "Config schema"
        [
            test
                "the preprocessing classes write Keras 3.1.1's top-level keys, all of them accepted by its constructors" {
                let found = differences preprocessingTable
                Expect.isEmpty found (String.concat "; " found)
            }

            test "every preprocessing class of the table is a built-in class the library serializes" {
                for r in preprocessingTable do
                    Expect.contains LayerSerialization.builtInClasses r.ClassName r.ClassName
            }

            test "Hashing and Discretization write Keras 3.1.1's dtype: int64 in output_mode int, float32 otherwise" {
                let dtypeOf (layer: Layer) =
                    (LayerSerialization.layerConfig layer).["dtype"].GetValue<string>()

                // Keras 3.1.1's Hashing raises "When output_mode=\"int\", dtype should be an integer type" otherwise.
                Expect.equal (dtypeOf (Layers.Hashing 8)) "int64" "Hashing, int"
                Expect.equal (dtypeOf (Layers.Hashing(8, outputMode = "one_hot"))) "float32" "Hashing, one_hot"
                Expect.equal (dtypeOf (Layers.Discretization(binBoundaries = [ 0.5 ]))) "int64" "Discretization, int"

                Expect.equal
                    (dtypeOf (Layers.Discretization(binBoundaries = [ 0.5 ], outputMode = "one_hot")))
                    "float32"
                    "Discretization, one_hot"

                // Both read back to the same config.
                for layer in [ Layers.Hashing 8; Layers.Discretization(binBoundaries = [ 0.5 ]) ] do
                    let serialized = LayerSerialization.serialize layer None
                    let again = LayerSerialization.deserialize CustomObjects.none serialized

                    Expect.equal
                        ((LayerSerialization.layerConfig again).ToJsonString())
                        ((LayerSerialization.layerConfig layer).ToJsonString())
                        layer.ClassName
            }

            testProperty
                "preprocessing configs with any options: a key Keras 3.1.1 refuses is only a later one, set off its default"
                (Prop.forAll (Arb.fromGen preprocessingCases) (fun layer ->
                    let found = needlessKeys layer
                    found.IsEmpty |> Prop.label (String.concat "; " found)))

            yield! nestedTests
            yield! modelTests
        ]
