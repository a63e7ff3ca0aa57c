/// <summary>The schema of what the library writes, against Keras 3.1.1 (the version stamped into
/// <c>metadata.json</c>): the top-level config keys of the preprocessing layers, the nested objects
/// (initializers, regularizers, constraints, optimizers, learning-rate schedules, losses, metrics) and the model-level
/// entries. Every key the library writes for a default instance must also be an argument Keras 3.1.1's constructor
/// accepts, or Keras 3.1.1 refuses the file (<c>Layer.__init__</c> raises "Unrecognized keyword arguments").</summary>
module ConfigSchemaTests

open System.Text.Json.Nodes
open Expecto
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
let private lookupHidden = [ "vocabulary_size"; "has_input_vocabulary"; "trainable"; "dtype"; "name" ]

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
            (baseKeys @ [ "height"; "width"; "interpolation"; "crop_to_aspect_ratio" ] @ image)
            (baseArguments @ [ "height"; "width"; "interpolation"; "crop_to_aspect_ratio" ] @ image)
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
             @ [
                 "factor"
                 "value_range"
                 "fill_mode"
                 "fill_value"
                 "interpolation"
                 "seed"
             ]
             @ image)
            (baseArguments
             @ [
                 "factor"
                 "fill_mode"
                 "interpolation"
                 "seed"
                 "fill_value"
                 "value_range"
             ]
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

[<Tests>]
let tests =
    testList
        "Config schema"
        [
            test "the preprocessing classes write Keras 3.1.1's top-level keys, all of them accepted by its constructors" {
                let found = differences preprocessingTable
                Expect.isEmpty found (String.concat "; " found)
            }

            test "every preprocessing class of the table is a built-in class the library serializes" {
                for r in preprocessingTable do
                    Expect.contains LayerSerialization.builtInClasses r.ClassName r.ClassName
            }
        ]
