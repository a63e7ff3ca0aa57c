/// <summary>The schema of what the library writes, against Keras 3.1.1 (the version stamped into
/// <c>metadata.json</c>): here the top-level config keys of the preprocessing layers; the nested objects and the
/// model-level entries are in ConfigSchemaObjectTests, run in the same "Config schema" list. Every key the library
/// writes for a default instance must also be an argument Keras 3.1.1's constructor accepts, or Keras 3.1.1 refuses
/// the file (<c>Layer.__init__</c> raises "Unrecognized keyword arguments").</summary>
module ConfigSchemaTests

open System.Text.Json.Nodes
open Expecto
open FsCheck
open FsCheck.FSharp
open Keras

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

/// A class whose own config keys are exactly the arguments its constructor accepts besides the base ones.
let private rowOwn className make (own: string list) =
    row className make (baseKeys @ own) (baseArguments @ own)

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
        rowOwn
            "Rescaling"
            (fun () -> Layers.Rescaling(1.0 / 255.0))
            ([ "scale"; "offset" ])
        // Keras 3.3+ adds pad_to_aspect_ratio, fill_mode and fill_value, 3.9+ antialias: written only when set.
        rowOwn
            "Resizing"
            (fun () -> Layers.Resizing(8, 8))
            ([ "height"; "width"; "interpolation"; "crop_to_aspect_ratio" ]
             @ image)
        rowOwn
            "CenterCrop"
            (fun () -> Layers.CenterCrop(4, 4))
            ([ "height"; "width" ] @ image)
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
        rowOwn
            "RandomZoom"
            (fun () -> Layers.RandomZoom 0.1)
            ([
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
        rowOwn
            "RandomTranslation"
            (fun () -> Layers.RandomTranslation(0.1, 0.1))
            ([
                 "height_factor"
                 "width_factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
             ]
             @ image)
        // Keras 3.8+ adds value_range (default (0, 255)), later data_format: written only when set.
        rowOwn
            "RandomContrast"
            (fun () -> Layers.RandomContrast 0.2)
            ([ "factor"; "seed" ])
        rowOwn
            "RandomBrightness"
            (fun () -> Layers.RandomBrightness 0.2)
            ([ "factor"; "value_range"; "seed" ])
        // Keras 3.1.1's CategoryEncoding has no `sparse` argument (later ones take it but never write it).
        rowOwn
            "CategoryEncoding"
            (fun () -> Layers.CategoryEncoding 4)
            ([ "num_tokens"; "output_mode" ])
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

            test "configs written by later Keras (their extra keys at Keras's defaults, a DTypePolicy dtype) still read" {
                for r in preprocessingTable do
                    let layer = r.Make()
                    let serialized = LayerSerialization.serialize layer None
                    let config = serialized["config"].AsObject()

                    for key, value in laterKeys |> Map.tryFind r.ClassName |> Option.defaultValue [] do
                        config[key] <- (if isNull value then null else value.DeepClone())

                    // Keras 3.4+'s dtype form.
                    let dtype = config["dtype"].GetValue<string>()

                    config["dtype"] <-
                        JsonNode.Parse(
                            $"""{{"module":"keras","class_name":"DTypePolicy","config":{{"name":"{dtype}"}},"registered_name":null}}"""
                        )

                    let again = LayerSerialization.deserialize CustomObjects.none serialized

                    Expect.equal
                        ((LayerSerialization.layerConfig again).ToJsonString())
                        ((LayerSerialization.layerConfig layer).ToJsonString())
                        r.ClassName
            }

            testProperty
                "preprocessing configs with any options: a key Keras 3.1.1 refuses is only a later one, set off its default"
                (Prop.forAll (Arb.fromGen preprocessingCases) (fun layer ->
                    let found = needlessKeys layer
                    found.IsEmpty |> Prop.label (String.concat "; " found)))

            yield! ConfigSchemaObjectTests.nestedTests
            yield! ConfigSchemaObjectTests.modelTests
        ]
