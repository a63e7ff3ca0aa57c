/// The top-level config keys of the remaining layer classes (issue 9), against Keras 3.1.1's — the version the library
/// stamps into metadata.json — and config → from_config → config round trips.
module ConfigKeyTestsMore

open System.Collections.Generic
open System.Text.Json.Nodes
open Expecto
open Keras
open ConfigKeyTests

/// ConvLSTMCell's / ConvLSTM's keys (keras/layers/rnn/conv_lstm.py at v3.1.1; ConvLSTM1D/2D/3D add none).
let private convLstmKeys =
    [
        "filters"
        "kernel_size"
        "strides"
        "padding"
        "data_format"
        "dilation_rate"
        "activation"
        "recurrent_activation"
        "use_bias"
        "kernel_initializer"
        "recurrent_initializer"
        "bias_initializer"
        "unit_forget_bias"
        "kernel_regularizer"
        "recurrent_regularizer"
        "bias_regularizer"
        "activity_regularizer"
        "kernel_constraint"
        "recurrent_constraint"
        "bias_constraint"
        "dropout"
        "recurrent_dropout"
        "seed"
    ]

/// A cell's keys (SimpleRNNCell, LSTMCell, GRUCell at v3.1.1): the layer's without activity_regularizer, plus seed.
let private cellKeys =
    (recurrentKeys |> List.filter ((<>) "activity_regularizer")) @ [ "seed" ]

/// BaseConvTranspose.get_config at v3.1.1 (no groups; output_padding only from Keras 3.15).
let private convTransposeKeys =
    [
        "filters"
        "kernel_size"
        "strides"
        "padding"
        "data_format"
        "dilation_rate"
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

/// BaseDepthwiseConv.get_config at v3.1.1.
let private depthwiseKeys =
    [
        "depth_multiplier"
        "kernel_size"
        "strides"
        "padding"
        "data_format"
        "dilation_rate"
        "activation"
        "use_bias"
        "depthwise_initializer"
        "bias_initializer"
        "depthwise_regularizer"
        "bias_regularizer"
        "activity_regularizer"
        "depthwise_constraint"
        "bias_constraint"
    ]

/// BaseSeparableConv.get_config at v3.1.1.
let private separableKeys =
    [
        "depth_multiplier"
        "filters"
        "kernel_size"
        "strides"
        "padding"
        "data_format"
        "dilation_rate"
        "activation"
        "use_bias"
        "depthwise_initializer"
        "pointwise_initializer"
        "bias_initializer"
        "depthwise_regularizer"
        "pointwise_regularizer"
        "bias_regularizer"
        "activity_regularizer"
        "depthwise_constraint"
        "pointwise_constraint"
        "bias_constraint"
    ]

let private normalizationWeightKeys =
    [
        "beta_initializer"
        "gamma_initializer"
        "beta_regularizer"
        "gamma_regularizer"
        "beta_constraint"
        "gamma_constraint"
    ]

/// The function Lambda instances of the table apply, registered under this name so their configs can be read back.
let private lambdaFunction = "config_keys_more_double"

let private registerLambda () =
    CustomObjects.registerFunction lambdaFunction (fun x -> x * 2.0f)

/// <summary>(class, an instance, Keras's top-level keys without the base Layer's, deliberate extra keys of ours with
/// the reason). Keras 3.1.1's sources (keras/layers/** at tag v3.1.1: each class's <c>get_config</c> merged with its
/// bases'); RMSNormalization is not in 3.1.1, its keys are Keras 3.9.0's (its first release). The base Layer's
/// <c>name</c>, <c>trainable</c>, <c>dtype</c> are added for every class but SpatialDropout1D/2D/3D, whose get_config
/// (BaseSpatialDropout's) skips Layer's and writes rate, seed, name and dtype only — its constructor takes no
/// <c>trainable</c>, in every Keras 3 version. Classes without a get_config of their own (ELU, Identity) write Keras's
/// automatic config: the constructor arguments that were given.</summary>
let private table: (string * (unit -> Layer) * string list * (string * string) list) list =
    [
        // Reshaping and merging.
        "Permute", (fun () -> Layers.Permute [ 2; 1 ]), [ "dims" ], []
        "RepeatVector", (fun () -> Layers.RepeatVector 3), [ "n" ], []
        "Subtract", (fun () -> Layers.Subtract()), [], []
        "Multiply", (fun () -> Layers.Multiply()), [], []
        "Average", (fun () -> Layers.Average()), [], []
        "Maximum", (fun () -> Layers.Maximum()), [], []
        "Minimum", (fun () -> Layers.Minimum()), [], []
        "Dot", (fun () -> Layers.Dot 1), [ "axes"; "normalize" ], []
        "Masking", (fun () -> Layers.Masking()), [ "mask_value" ], []
        "UpSampling1D", (fun () -> Layers.UpSampling1D()), [ "size" ], []
        "UpSampling2D", (fun () -> Layers.UpSampling2D()), [ "size"; "data_format"; "interpolation" ], []
        "UpSampling3D", (fun () -> Layers.UpSampling3D()), [ "size"; "data_format" ], []
        // ZeroPadding1D's data_format is Keras 3.5+.
        "ZeroPadding1D", (fun () -> Layers.ZeroPadding1D()), [ "padding" ], []
        "ZeroPadding2D", (fun () -> Layers.ZeroPadding2D()), [ "padding"; "data_format" ], []
        "ZeroPadding3D", (fun () -> Layers.ZeroPadding3D()), [ "padding"; "data_format" ], []
        "Cropping1D", (fun () -> Layers.Cropping1D()), [ "cropping" ], []
        "Cropping2D", (fun () -> Layers.Cropping2D()), [ "cropping"; "data_format" ], []
        "Cropping3D", (fun () -> Layers.Cropping3D(((1, 1), (1, 1), (1, 1)))), [ "cropping"; "data_format" ], []
        // Wrappers and recurrent layers.
        "Bidirectional",
        (fun () -> Layers.Bidirectional(Layers.LSTM 4)),
        [ "merge_mode"; "layer"; "backward_layer" ],
        []
        "TimeDistributed", (fun () -> Layers.TimeDistributed(Layers.Dense 3)), [ "layer" ], []
        "RNN", (fun () -> Layers.RNN(Layers.SimpleRNNCell 4)), rnnKeys @ [ "cell" ], []
        "SimpleRNNCell", (fun () -> Layers.SimpleRNNCell 4), cellKeys, []
        "LSTMCell", (fun () -> Layers.LSTMCell 4), cellKeys @ [ "recurrent_activation"; "unit_forget_bias" ], []
        "GRUCell", (fun () -> Layers.GRUCell 4), cellKeys @ [ "recurrent_activation"; "reset_after" ], []
        "StackedRNNCells", (fun () -> Layers.StackedRNNCells [ Layers.LSTMCell 4; Layers.GRUCell 2 ]), [ "cells" ], []
        "ConvLSTM1D", (fun () -> Layers.ConvLSTM1D(4, 3)), rnnKeys @ convLstmKeys, []
        "ConvLSTM2D", (fun () -> Layers.ConvLSTM2D(4, (3, 3))), rnnKeys @ convLstmKeys, []
        "ConvLSTM3D", (fun () -> Layers.ConvLSTM3D(4, (3, 3, 3))), rnnKeys @ convLstmKeys, []
        // Convolutions.
        "Conv3D", (fun () -> Layers.Conv3D(4, (3, 3, 3))), convKeys, []
        "Conv1DTranspose", (fun () -> Layers.Conv1DTranspose(4, 3)), convTransposeKeys, []
        "Conv2DTranspose", (fun () -> Layers.Conv2DTranspose(4, (3, 3))), convTransposeKeys, []
        "Conv3DTranspose", (fun () -> Layers.Conv3DTranspose(4, (3, 3, 3))), convTransposeKeys, []
        "DepthwiseConv1D", (fun () -> Layers.DepthwiseConv1D 3), depthwiseKeys, []
        "DepthwiseConv2D", (fun () -> Layers.DepthwiseConv2D((3, 3))), depthwiseKeys, []
        "SeparableConv1D", (fun () -> Layers.SeparableConv1D(4, 3)), separableKeys, []
        "SeparableConv2D", (fun () -> Layers.SeparableConv2D(4, (3, 3))), separableKeys, []
        // Pooling.
        "MaxPooling3D", (fun () -> Layers.MaxPooling3D()), poolingKeys, []
        "AveragePooling1D", (fun () -> Layers.AveragePooling1D()), poolingKeys, []
        "AveragePooling3D", (fun () -> Layers.AveragePooling3D()), poolingKeys, []
        "GlobalMaxPooling2D", (fun () -> Layers.GlobalMaxPooling2D()), globalPoolingKeys, []
        "GlobalMaxPooling3D", (fun () -> Layers.GlobalMaxPooling3D()), globalPoolingKeys, []
        "GlobalAveragePooling1D", (fun () -> Layers.GlobalAveragePooling1D()), globalPoolingKeys, []
        "GlobalAveragePooling3D", (fun () -> Layers.GlobalAveragePooling3D()), globalPoolingKeys, []
        // Normalization.
        "GroupNormalization",
        (fun () -> Layers.GroupNormalization(groups = 2)),
        [ "groups"; "axis"; "epsilon"; "center"; "scale" ] @ normalizationWeightKeys,
        []
        "UnitNormalization", (fun () -> Layers.UnitNormalization()), [ "axis" ], []
        "RMSNormalization", (fun () -> Layers.RMSNormalization()), [ "axis"; "epsilon" ], []
        "SpectralNormalization",
        (fun () -> Layers.SpectralNormalization(Layers.Dense 3)),
        [ "layer"; "power_iterations" ],
        []
        // Regularization.
        "SpatialDropout1D", (fun () -> Layers.SpatialDropout1D 0.5), [ "rate"; "seed" ], []
        "SpatialDropout2D", (fun () -> Layers.SpatialDropout2D 0.5), [ "rate"; "seed"; "data_format" ], []
        "SpatialDropout3D", (fun () -> Layers.SpatialDropout3D 0.5), [ "rate"; "seed"; "data_format" ], []
        "GaussianNoise", (fun () -> Layers.GaussianNoise 0.1), [ "stddev"; "seed" ], []
        "GaussianDropout", (fun () -> Layers.GaussianDropout 0.1), [ "rate"; "seed" ], []
        "AlphaDropout", (fun () -> Layers.AlphaDropout 0.1), [ "rate"; "seed"; "noise_shape" ], []
        "ActivityRegularization", (fun () -> Layers.ActivityRegularization()), [ "l1"; "l2" ], []
        // Attention.
        "Attention", (fun () -> Layers.Attention()), [ "use_scale"; "score_mode"; "dropout" ], []
        "AdditiveAttention", (fun () -> Layers.AdditiveAttention()), [ "use_scale"; "dropout" ], []
        // Keras exports the class as GroupQueryAttention and writes class_name GroupedQueryAttention (3.1.1).
        "GroupedQueryAttention",
        (fun () -> Layers.GroupQueryAttention(4, 2, 1)),
        [
            "head_dim"
            "num_query_heads"
            "num_key_value_heads"
            "use_bias"
            "dropout"
            "kernel_initializer"
            "bias_initializer"
            "kernel_regularizer"
            "bias_regularizer"
            "activity_regularizer"
            "kernel_constraint"
            "bias_constraint"
        ],
        []
        // Activation layers and core extras.
        "ReLU", (fun () -> Layers.ReLU()), [ "max_value"; "negative_slope"; "threshold" ], []
        "LeakyReLU", (fun () -> Layers.LeakyReLU()), [ "negative_slope" ], []
        "PReLU",
        (fun () -> Layers.PReLU()),
        [ "alpha_initializer"; "alpha_regularizer"; "alpha_constraint"; "shared_axes" ],
        []
        // ELU has no get_config in any Keras 3 version: its automatic config holds the constructor arguments given,
        // here alpha. The library always writes alpha (ELU() too, where Keras would write none); Keras 3.1.1 reads it.
        "ELU", (fun () -> Layers.ELU(alpha = 0.5)), [ "alpha" ], []
        "Softmax", (fun () -> Layers.Softmax()), [ "axis" ], []
        "Identity", (fun () -> Layers.Identity()), [], []
        "EinsumDense",
        (fun () -> Layers.EinsumDense("ab,bc->ac", [ Some 4 ])),
        [
            "output_shape"
            "equation"
            "activation"
            "bias_axes"
            "kernel_initializer"
            "bias_initializer"
            "kernel_regularizer"
            "bias_regularizer"
            "activity_regularizer"
            "kernel_constraint"
            "bias_constraint"
        ],
        []
        // Lambda writes output_shape only when given (as Keras), and mask only when given (the library has none).
        "Lambda",
        (fun () ->
            registerLambda ()
            Lambda.Create((fun x -> x * 2.0f), functionName = lambdaFunction, outputShape = [ Some 3 ])),
        [ "function"; "output_shape"; "arguments" ],
        []
    ]

/// Classes whose Keras get_config does not call the base Layer's: they write name and dtype but no trainable.
let private withoutLayerConfig =
    set [ "SpatialDropout1D"; "SpatialDropout2D"; "SpatialDropout3D" ]

let private baseKeysOf className =
    if withoutLayerConfig.Contains className then
        [ "name"; "dtype" ]
    else
        baseKeys

/// config → from_config → config, as JSON text, for a layer of the table.
let private reread (layer: Layer) =
    let serialized = LayerSerialization.serialize layer None

    let rebuilt =
        LayerSerialization.deserialize (Dictionary<string, CustomObject>()) serialized

    rebuilt, (LayerSerialization.layerConfig rebuilt).ToJsonString()

let private configText (layer: Layer) =
    (LayerSerialization.layerConfig layer).ToJsonString()

/// Instances of the table's classes with values other than Keras's defaults, so that config → from_config → config
/// shows each value is read back (a reader ignoring a key would write the default instead).
let private nonDefault: (unit -> Layer) list =
    [
        fun () -> Layers.Permute([ 3; 1; 2 ], name = "p")
        fun () -> Layers.Masking(maskValue = -1.5)
        fun () -> Layers.Dot((1, 2), normalize = true)
        fun () -> Layers.UpSampling1D 3
        fun () -> Layers.UpSampling2D((2, 3), interpolation = "bilinear")
        fun () -> Layers.UpSampling3D((1, 2, 3))
        fun () -> Layers.ZeroPadding1D((1, 2))
        fun () -> Layers.ZeroPadding2D(((1, 2), (3, 4)))
        fun () -> Layers.ZeroPadding3D(((1, 2), (3, 4), (0, 1)))
        fun () -> Layers.Cropping1D((2, 1))
        fun () -> Layers.Cropping2D(((1, 2), (0, 3)))
        fun () -> Layers.Bidirectional(Layers.GRU(3, returnSequences = true), mergeMode = "sum")
        fun () -> Layers.Bidirectional(Layers.LSTM 2, mergeMode = "none")
        fun () -> Layers.TimeDistributed(Layers.Dense(3, activation = Relu))
        fun () -> Layers.RNN(Layers.LSTMCell 3, returnSequences = true, returnState = true, goBackwards = true)
        fun () ->
            Layers.SimpleRNNCell(
                4,
                activation = Relu,
                useBias = false,
                dropout = 0.1,
                recurrentDropout = 0.2,
                seed = 3,
                kernelRegularizer = L2 0.01,
                recurrentConstraint = NonNeg
            )
        fun () ->
            Layers.LSTMCell(4, recurrentActivation = Tanh, unitForgetBias = false, seed = 5, biasRegularizer = L1 0.1)
        fun () -> Layers.GRUCell(4, resetAfter = false, recurrentInitializer = GlorotNormal, seed = 6)
        fun () -> Layers.StackedRNNCells [ Layers.SimpleRNNCell 3; Layers.LSTMCell(2, dropout = 0.5) ]
        fun () ->
            Layers.ConvLSTM1D(
                3,
                2,
                strides = 2,
                padding = "same",
                dropout = 0.1,
                returnSequences = true,
                seed = 7,
                kernelRegularizer = L2 0.1
            )
        fun () -> Layers.ConvLSTM2D(2, (3, 1), dilationRate = (2, 1), unitForgetBias = false, goBackwards = true)
        fun () -> Layers.ConvLSTM3D(2, (1, 2, 3), padding = "same", recurrentActivation = Tanh)
        fun () ->
            Layers.Conv3D(
                4,
                (1, 2, 3),
                strides = (1, 2, 1),
                padding = "same",
                activation = Relu,
                useBias = false,
                kernelConstraint = NonNeg
            )
        fun () -> Layers.Conv1DTranspose(4, 3, strides = 2, padding = "same", biasRegularizer = L1 0.5)
        fun () -> Layers.Conv3DTranspose(2, (2, 2, 2), strides = (2, 2, 2), outputPadding = (1, 0, 1))
        fun () ->
            Layers.DepthwiseConv1D(
                3,
                depthMultiplier = 2,
                padding = "same",
                depthwiseInitializer = HeUniform,
                depthwiseRegularizer = L2 0.2,
                depthwiseConstraint = NonNeg
            )
        fun () -> Layers.DepthwiseConv2D((3, 2), strides = (2, 1), useBias = false, activation = Tanh)
        fun () ->
            Layers.SeparableConv1D(
                4,
                3,
                depthMultiplier = 3,
                pointwiseInitializer = Zeros,
                pointwiseRegularizer = L1 0.3,
                pointwiseConstraint = NonNeg
            )
        fun () -> Layers.SeparableConv2D(4, (3, 3), dilationRate = (2, 2), activation = Relu)
        fun () -> Layers.MaxPooling3D((2, 1, 2), strides = (1, 1, 2), padding = "same")
        fun () -> Layers.AveragePooling1D(3, strides = 1, padding = "same")
        fun () -> Layers.AveragePooling3D(3, padding = "same")
        fun () -> Layers.GlobalMaxPooling2D(keepdims = true)
        fun () -> Layers.GlobalAveragePooling3D(keepdims = true)
        fun () -> Layers.GlobalAveragePooling1D(keepdims = true)
        fun () ->
            Layers.GroupNormalization(groups = 4, axis = 1, epsilon = 0.01, center = false, betaInitializer = Ones)
        fun () -> Layers.UnitNormalization(axis = [ 1; 2 ])
        fun () -> Layers.RMSNormalization(axis = [ 1 ], epsilon = 0.01)
        fun () -> Layers.SpectralNormalization(Layers.Conv2D(2, 3), powerIterations = 3)
        fun () -> Layers.SpatialDropout2D(0.3, seed = 4)
        fun () -> Layers.GaussianNoise(0.2, seed = 5)
        fun () -> Layers.GaussianDropout(0.4, seed = 6)
        fun () -> Layers.AlphaDropout(0.2, seed = 7)
        fun () -> Layers.ActivityRegularization(l1 = 0.1, l2 = 0.2)
        fun () -> Layers.Attention(useScale = true, scoreMode = "concat", dropout = 0.1, seed = 2)
        fun () -> Layers.AdditiveAttention(useScale = false, dropout = 0.2)
        fun () -> Layers.GroupQueryAttention(8, 4, 2, dropout = 0.1, useBias = false, kernelInitializer = HeUniform)
        fun () -> Layers.ReLU(maxValue = 6.0, negativeSlope = 0.1, threshold = 0.5)
        fun () -> Layers.LeakyReLU(negativeSlope = 0.2)
        fun () -> Layers.PReLU(alphaInitializer = Constant 0.25, alphaRegularizer = L2 0.1, sharedAxes = [ 1; 2 ])
        fun () -> Layers.Softmax(axis = [ 1 ])
        fun () ->
            Layers.EinsumDense(
                "abc,cd->abd",
                [ None; Some 8 ],
                activation = Relu,
                biasAxes = "d",
                kernelRegularizer = L2 0.01,
                biasConstraint = NonNeg
            )
    ]

/// <summary>Keys only Keras newer than 3.1.1 writes, with the layer that must not write them (the value older Keras
/// implies) and the layer that must (a value older Keras cannot express, or reads without writing), and that key's
/// expected JSON. The rule is documented on KerasFile.KerasVersion.</summary>
let private newerKeys: (string * (unit -> Layer) * (unit -> Layer) option * string) list =
    [
        "seed",
        (fun () -> Layers.MultiHeadAttention(2, 4)),
        Some(fun () -> Layers.MultiHeadAttention(2, 4, seed = 7)),
        "7"
        "seed", (fun () -> Layers.Attention()), Some(fun () -> Layers.Attention(seed = 3)), "3"
        "seed", (fun () -> Layers.AdditiveAttention()), Some(fun () -> Layers.AdditiveAttention(seed = 4)), "4"
        "seed",
        (fun () -> Layers.GroupQueryAttention(4, 2, 1)),
        Some(fun () -> Layers.GroupQueryAttention(4, 2, 1, seed = 5)),
        "5"
        "use_gate", (fun () -> Layers.GroupQueryAttention(4, 2, 1)), None, ""
        "sliding_window", (fun () -> Layers.GroupQueryAttention(4, 2, 1)), None, ""
        "output_padding",
        (fun () -> Layers.Conv2DTranspose(4, (3, 3), strides = (2, 2))),
        Some(fun () -> Layers.Conv2DTranspose(4, (3, 3), strides = (2, 2), outputPadding = (1, 0))),
        "[1,0]"
        "output_padding",
        (fun () -> Layers.Conv1DTranspose(4, 3, strides = 2)),
        Some(fun () -> Layers.Conv1DTranspose(4, 3, strides = 2, outputPadding = 1)),
        "[1]"
        "rms_scaling", (fun () -> Layers.LayerNormalization()), None, ""
        "quantization_config", (fun () -> Layers.EinsumDense("ab,bc->ac", [ Some 4 ])), None, ""
        "data_format", (fun () -> Layers.ZeroPadding1D 2), None, ""
    ]

[<Tests>]
let tests =
    testList
        "ConfigKeys more classes"
        [
            test "every class of the table writes Keras 3.1.1's top-level keys" {
                let differences = keyDifferences baseKeysOf table

                Expect.isEmpty differences (String.concat "; " differences)
            }

            test "every class of the table is a built-in class the library serializes" {
                for className, _, _, _ in table do
                    Expect.contains LayerSerialization.builtInClasses className className
            }

            test "config → from_config → config gives the same JSON for every class of the table" {
                for className, make, _, _ in table do
                    let layer = make ()
                    let rebuilt, text = reread layer
                    Expect.equal rebuilt.ClassName className $"{className}: class"
                    Expect.equal text (configText layer) $"{className}: config after from_config"
            }

            test "config → from_config → config keeps values other than the defaults" {
                for make in nonDefault do
                    let layer = make ()
                    let rebuilt, text = reread layer
                    Expect.equal rebuilt.ClassName layer.ClassName $"{layer.ClassName}: class"
                    Expect.equal text (configText layer) $"{layer.ClassName}: config after from_config"
            }

            test "a key only newer Keras writes is written only when its value differs from what Keras 3.1.1 implies" {
                for key, plain, set, json in newerKeys do
                    let layer = plain ()
                    let config = LayerSerialization.layerConfig layer
                    Expect.isFalse (config.ContainsKey key) $"{layer.ClassName}: no `{key}` by default"

                    match set with
                    | Some make ->
                        let layer = make ()
                        let config = LayerSerialization.layerConfig layer
                        Expect.isTrue (config.ContainsKey key) $"{layer.ClassName}: `{key}` when set"
                        Expect.equal (config[key].ToJsonString()) json $"{layer.ClassName}: `{key}`"
                        // The value survives from_config.
                        let _, text = reread layer
                        Expect.equal text (config.ToJsonString()) $"{layer.ClassName}: config after from_config"
                    | None -> ()
            }

            test "configs of newer Keras with those keys at Keras 3.1.1's implied value are read" {
                let read (className: string) (config: string) =
                    let data =
                        JsonNode
                            .Parse(
                                $"{{\"module\": \"keras.layers\", \"class_name\": \"{className}\", \"config\": {config}, \"registered_name\": null}}"
                            )
                            .AsObject()

                    LayerSerialization.deserialize (Dictionary<string, CustomObject>()) data

                let layerNorm =
                    read "LayerNormalization" """{"name": "ln", "axis": -1, "rms_scaling": false}"""

                Expect.isFalse ((LayerSerialization.layerConfig layerNorm).ContainsKey "rms_scaling") "rms_scaling"

                let gqa =
                    read
                        "GroupedQueryAttention"
                        """{"name": "g", "head_dim": 4, "num_query_heads": 2, "num_key_value_heads": 1, "use_gate": false, "sliding_window": null, "seed": 9}"""

                let gqaConfig = LayerSerialization.layerConfig gqa
                Expect.equal (gqaConfig["seed"].ToJsonString()) "9" "GroupedQueryAttention keeps its seed"
                Expect.isFalse (gqaConfig.ContainsKey "use_gate") "no use_gate"

                let pad =
                    read "ZeroPadding1D" """{"name": "z", "padding": [1, 2], "data_format": "channels_last"}"""

                let padConfig = LayerSerialization.layerConfig pad
                Expect.equal (padConfig["padding"].ToJsonString()) "[1,2]" "padding"

                // channels_first is refused with a reason instead of being ignored.
                let _, message =
                    TestData.kerasError (fun () ->
                        read "ZeroPadding1D" """{"name": "z", "padding": 1, "data_format": "channels_first"}""")

                Expect.stringContains message "channels_last" "ZeroPadding1D channels_first"
            }

            test "SpatialDropout configs have no trainable (Keras's constructors take none) and load in a model" {
                for layer in
                    [
                        Layers.SpatialDropout1D(0.5, seed = 1)
                        Layers.SpatialDropout2D 0.5
                        Layers.SpatialDropout3D 0.5
                    ] do
                    let config = LayerSerialization.layerConfig layer
                    Expect.isFalse (config.ContainsKey "trainable") $"{layer.ClassName}: no trainable"
                    Expect.equal (config["rate"].ToJsonString()) "0.5" $"{layer.ClassName}: rate"

                let seeded = LayerSerialization.layerConfig (Layers.SpatialDropout1D(0.5, seed = 1))
                Expect.equal (seeded["seed"].ToJsonString()) "1" "seed"
            }
        ]
