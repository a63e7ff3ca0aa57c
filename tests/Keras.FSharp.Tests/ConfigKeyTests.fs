/// The top-level keys of the configs the library writes, against the keys Keras writes for the same class.
module ConfigKeyTests

open Expecto
open Keras
open Keras.Operators

/// <summary>Keras 3.1.1's top-level config keys per class — the version the library writes into
/// <c>metadata.json</c> (KerasFile.KerasVersion), so a file it writes loads in Keras 3.1.1 and later. Taken from
/// Keras 3.1.1's sources (keras/layers/**: each class's <c>get_config</c>, merged with its bases': RNN for
/// SimpleRNN/LSTM/GRU, BaseConv, BasePooling, BaseGlobalPooling) and checked against the real file
/// ../shared/data/keras/mnist_cnn_keras3.keras (Keras 3.1.1: InputLayer, Conv2D, MaxPooling2D, Flatten, Dropout,
/// Dense). The base Layer's <c>name</c>, <c>trainable</c> and <c>dtype</c> are added below for every class but
/// InputLayer (whose get_config does not call Layer's); Keras 3 writes nothing else at top level (the base Layer's
/// <c>activity_regularizer</c> only when one is set, and Dense does not list it itself).</summary>
/// <remarks>Later Keras versions add keys (Dense and Embedding <c>quantization_config</c> 3.10+, InputLayer
/// <c>optional</c> and <c>ragged</c>, BatchNormalization <c>renorm*</c>, LayerNormalization <c>rms_scaling</c>,
/// MultiHeadAttention <c>use_gate</c> and <c>sliding_window</c>); older versions would refuse them as unknown
/// arguments, so the library does not write them while they hold the value older Keras implies (a newer key is
/// written only when a user set something 3.1.1 cannot express, e.g. MultiHeadAttention's <c>seed</c>), and reads files
/// that have them.</remarks>
let rnnKeys =
    [
        "return_sequences"
        "return_state"
        "go_backwards"
        "stateful"
        "unroll"
        "zero_output_for_mask"
    ]

let recurrentKeys =
    [
        "units"
        "activation"
        "use_bias"
        "kernel_initializer"
        "recurrent_initializer"
        "bias_initializer"
        "kernel_regularizer"
        "recurrent_regularizer"
        "bias_regularizer"
        "activity_regularizer"
        "kernel_constraint"
        "recurrent_constraint"
        "bias_constraint"
        "dropout"
        "recurrent_dropout"
    ]

let convKeys =
    [
        "filters"
        "kernel_size"
        "strides"
        "padding"
        "data_format"
        "dilation_rate"
        "groups"
        "activation"
        "use_bias"
        "kernel_initializer"
        "bias_initializer"
        "kernel_regularizer"
        "bias_regularizer"
        "activity_regularizer"
        "kernel_constraint"
        "bias_constraint"
    ]

let poolingKeys = [ "pool_size"; "padding"; "strides"; "data_format" ]
let globalPoolingKeys = [ "data_format"; "keepdims" ]

/// (class, an instance, Keras 3.1.1's keys without the base Layer's, deliberate extra keys of ours with the reason).
let private table: (string * (unit -> Layer) * string list * (string * string) list) list =
    [
        "Dense",
        (fun () -> Layers.Dense(3)),
        [
            "units"
            "activation"
            "use_bias"
            "kernel_initializer"
            "bias_initializer"
            "kernel_regularizer"
            "bias_regularizer"
            "kernel_constraint"
            "bias_constraint"
        ],
        []
        "Activation", (fun () -> Layers.Activation "relu"), [ "activation" ], []
        "Dropout", (fun () -> Layers.Dropout 0.5), [ "rate"; "seed"; "noise_shape" ], []
        "Flatten", (fun () -> Layers.Flatten()), [ "data_format" ], []
        "Reshape", (fun () -> Layers.Reshape [ 2; 3 ]), [ "target_shape" ], []
        "Concatenate", (fun () -> Layers.Concatenate()), [ "axis" ], []
        "Add", (fun () -> Layers.Add()), [], []
        "Embedding",
        (fun () -> Layers.Embedding(10, 4)),
        [
            "input_dim"
            "output_dim"
            "embeddings_initializer"
            "embeddings_regularizer"
            "activity_regularizer"
            "embeddings_constraint"
            "mask_zero"
        ],
        []
        "SimpleRNN",
        (fun () -> Layers.SimpleRNN 4),
        rnnKeys @ recurrentKeys,
        // Keras's SimpleRNN takes `seed` (and passes it to its cell) but its get_config forgets it, in every version.
        [
            "seed", "SimpleRNN(seed=...) is accepted by Keras; writing it keeps the dropout seed"
        ]
        "LSTM",
        (fun () -> Layers.LSTM 4),
        rnnKeys @ recurrentKeys @ [ "recurrent_activation"; "unit_forget_bias"; "seed" ],
        []
        "GRU", (fun () -> Layers.GRU 4), rnnKeys @ recurrentKeys @ [ "recurrent_activation"; "reset_after"; "seed" ], []
        "Conv1D", (fun () -> Layers.Conv1D(4, 3)), convKeys, []
        "Conv2D", (fun () -> Layers.Conv2D(4, 3)), convKeys, []
        "MaxPooling1D", (fun () -> Layers.MaxPooling1D()), poolingKeys, []
        "MaxPooling2D", (fun () -> Layers.MaxPooling2D()), poolingKeys, []
        "AveragePooling2D", (fun () -> Layers.AveragePooling2D()), poolingKeys, []
        "GlobalMaxPooling1D", (fun () -> Layers.GlobalMaxPooling1D()), globalPoolingKeys, []
        "GlobalAveragePooling2D", (fun () -> Layers.GlobalAveragePooling2D()), globalPoolingKeys, []
        "BatchNormalization",
        (fun () -> Layers.BatchNormalization()),
        [
            "axis"
            "momentum"
            "epsilon"
            "center"
            "scale"
            "beta_initializer"
            "gamma_initializer"
            "moving_mean_initializer"
            "moving_variance_initializer"
            "beta_regularizer"
            "gamma_regularizer"
            "beta_constraint"
            "gamma_constraint"
            "synchronized"
        ],
        []
        "LayerNormalization",
        (fun () -> Layers.LayerNormalization()),
        [
            "axis"
            "epsilon"
            "center"
            "scale"
            "beta_initializer"
            "gamma_initializer"
            "beta_regularizer"
            "gamma_regularizer"
            "beta_constraint"
            "gamma_constraint"
        ],
        // Keras 3.2+ writes `rms_scaling`; the library supports only false, the value Keras 3.1.1 implies, so it is not
        // written (KerasFile.KerasVersion).
        []
        "MultiHeadAttention",
        (fun () -> Layers.MultiHeadAttention(2, 4)),
        [
            "num_heads"
            "key_dim"
            "value_dim"
            "dropout"
            "use_bias"
            "output_shape"
            "attention_axes"
            "kernel_initializer"
            "bias_initializer"
            "kernel_regularizer"
            "bias_regularizer"
            "activity_regularizer"
            "kernel_constraint"
            "bias_constraint"
        ],
        // Keras writes `seed` from 3.4 on (3.1.1 refuses it): the library writes it only when a seed is set (below).
        []
    ]

let baseKeys = [ "name"; "trainable"; "dtype" ]

let keysOf (layer: Layer) =
    LayerSerialization.layerConfig layer |> Seq.map _.Key |> Set.ofSeq

/// Each missing and each extra key of each class of a table (class, instance, Keras's keys without the base Layer's,
/// deliberate extras), against the base keys <paramref name="baseKeysOf"/> gives for the class.
let keyDifferences
    (baseKeysOf: string -> string list)
    (table: (string * (unit -> Layer) * string list * (string * string) list) list)
    =
    [
        for className, make, keras, extras in table do
            let layer = make ()
            Expect.equal layer.ClassName className "class of the instance"
            let ours = keysOf layer
            let expected = Set.ofList (baseKeysOf className @ keras @ List.map fst extras)

            for missing in Set.difference expected ours do
                yield $"{className}: missing `{missing}`"

            for extra in Set.difference ours expected do
                yield $"{className}: extra `{extra}`"
    ]

[<Tests>]
let tests =
    testList
        "ConfigKeys"
        [
            test "the guide's and the most common classes write Keras 3.1.1's top-level keys" {
                let differences = keyDifferences (fun _ -> baseKeys) table

                Expect.isEmpty differences (String.concat "; " differences)
            }

            test "InputLayer writes batch_shape, dtype, sparse and name only (its get_config skips Layer's)" {
                let input = Keras.Input(shape = [ 3 ], name = "features")
                let model = Keras.Model(input, input --> Layers.Dense(2))
                let layer = Model.getLayer model "features"
                Expect.equal (keysOf layer) (Set.ofList [ "batch_shape"; "dtype"; "sparse"; "name" ]) "keys"
            }

            test "every class of the table is a built-in class the library serializes" {
                for className, _, _, _ in table do
                    Expect.contains LayerSerialization.builtInClasses className className
            }
        ]
