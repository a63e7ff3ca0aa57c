/// Activations that Keras 3.1.1's layer configs cannot express: a layer's activation is written as a plain name
/// ("leaky_relu" means negative_slope 0.2), so saving a LeakyRelu with another slope raises an error naming the layer,
/// the activation and the LeakyReLU layer to use instead, and leaves any existing file untouched.
module UnsavableActivationTests

open System.IO
open Expecto
open TorchSharp
open Keras
open TestData

/// Every case of Activation with the values a user can give it (custom activations are written by their name).
let private everyActivation =
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
        LeakyRelu 0.1
        LeakyRelu 0.3
        LeakyRelu 0.0
    ]

/// Input(3) → Dense(2, activation) named "slope_dense", with known weights.
let private denseModel (activation: Activation) =
    let inputs = Keras.Input(shape = [ 3 ])
    let dense = Layers.Dense(2, activation = activation, name = "slope_dense")
    let model = Keras.Model(inputs, Layer.call dense inputs)

    Layer.setWeights
        dense
        [
            tensor2 [ [ 1.f; -2.f ]; [ 0.5f; 3.f ]; [ -1.5f; 0.25f ] ]
            torch.tensor [| 0.5f; -1.f |]
        ]

    model, dense

/// The layer and message of an unsavable-activation error.
let private expectUnsavable (layerName: string) (slope: float) (f: unit -> 'a) =
    let error, message = kerasError f

    match error with
    | InvalidArgument(owner, "activation", _, received) ->
        Expect.equal owner layerName "the error names the layer"
        Expect.equal received $"LeakyRelu(negative_slope={slope})" "the activation received"
    | other -> failtest $"expected InvalidArgument on activation, got {other}"

    Expect.stringContains message $"\"{layerName}\"" "the message names the layer"
    Expect.stringContains message "\"leaky_relu\" means negative_slope=0.2" "why"
    Expect.stringContains message $"Layers.LeakyReLU(negativeSlope = {slope})" "the way out"
    Expect.stringContains message $"Received: activation=LeakyRelu(negative_slope={slope})" "what was received"

[<Tests>]
let tests =
    testList
        "Unsavable activations"
        [
            test "only a LeakyRelu slope other than 0.2 cannot be written; every other case writes its Keras name" {
                for a in everyActivation do
                    match a with
                    | LeakyRelu slope when slope <> 0.2 ->
                        Expect.isSome (Activation.unsavableReason a) $"{a}: unsavable"
                        Expect.throwsT<KerasException> (fun () -> Config.activation a |> ignore) $"{a}: raises"
                    | _ ->
                        Expect.isNone (Activation.unsavableReason a) $"{a}: a name says everything"
                        let node = Config.activation a
                        let read = ConfigReader.activation "t" CustomObjects.none node
                        Expect.equal read a $"{a}: its name reads back to the same activation"

                let custom = CustomActivation("my_act", fun x -> x.mul (2.f.ToScalar()))
                Expect.isNone (Activation.unsavableReason custom) "a custom activation is written by its name"
                Expect.equal ((Config.activation custom).GetValue<string>()) "my_act" "its name"
            }

            test "Dense(LeakyRelu 0.1): get_config, the model's config, to_json and save raise naming the layer" {
                let model, dense = denseModel (LeakyRelu 0.1)
                // The layer itself works: slope 0.1 on the negative side.
                let y = Model.predict model (tensor2 [ [ 1.f; 1.f; 1.f ] ])
                // x·W + b = [0 + 0.5, 1.25 - 1] = [0.5, 0.25]; with x = [-1, 0, 0]: [-1 + 0.5, 2 - 1] = [-0.5, 1].
                closeTo 1e-6f [| 0.5f; 0.25f |] (values y) "positive side"
                let yNeg = Model.predict model (tensor2 [ [ -1.f; 0.f; 0.f ] ])
                closeTo 1e-6f [| -0.05f; 1.f |] (values yNeg) "negative side scaled by 0.1"

                expectUnsavable "slope_dense" 0.1 (fun () -> Layer.getConfig dense)
                expectUnsavable "slope_dense" 0.1 (fun () -> LayerSerialization.layerConfig dense)
                expectUnsavable "slope_dense" 0.1 (fun () -> Model.getConfig model)
                expectUnsavable "slope_dense" 0.1 (fun () -> KerasFile.toJson model)
                expectUnsavable "slope_dense" 0.1 (fun () -> KerasFile.cloneModel model CustomObjects.none)

                inTempFolder "unsavable-activation" (fun folder ->
                    let path = Path.Combine(folder, "new.keras")
                    expectUnsavable "slope_dense" 0.1 (fun () -> KerasFile.save model path)
                    Expect.isFalse (File.Exists path) "no file is written"
                    Expect.isEmpty (Directory.GetFiles folder) "and no temporary file is left")
            }

            test "Dense(LeakyRelu 0.2) saves as Keras's \"leaky_relu\" and loads with the same predictions" {
                let model, _ = denseModel (LeakyRelu 0.2)
                let config = Model.getConfig model
                Expect.stringContains (config.ToJsonString()) "\"activation\":\"leaky_relu\"" "Keras's name"

                inTempFolder "savable-activation" (fun folder ->
                    let path = Path.Combine(folder, "m.keras")
                    KerasFile.save model path
                    let loaded = KerasFile.load path CustomObjects.none
                    expectSameAfterLoad model loaded (torch.randn (6L, 3L)))
            }

            test "saving over an existing file: the error leaves the old file byte for byte" {
                inTempFolder "unsavable-overwrite" (fun folder ->
                    let path = Path.Combine(folder, "model.keras")
                    let good, _ = denseModel Relu
                    KerasFile.save good path
                    let before = File.ReadAllBytes path
                    let bad, _ = denseModel (LeakyRelu 0.1)
                    expectUnsavable "slope_dense" 0.1 (fun () -> KerasFile.save bad path)
                    Expect.equal (File.ReadAllBytes path) before "the old file is untouched"

                    Expect.equal
                        (Directory.GetFiles folder |> Array.map Path.GetFileName)
                        [| "model.keras" |]
                        "no temp file"

                    let loaded = KerasFile.load path CustomObjects.none
                    expectSameAfterLoad good loaded (torch.randn (5L, 3L)))
            }

            test "every layer that takes an activation: Conv2D, SimpleRNN, LSTM's recurrent activation, Activation" {
                let image = Keras.Input(shape = [ 4; 4; 1 ])
                let conv = Layers.Conv2D(2, 3, activation = LeakyRelu 0.05, name = "conv_slope")

                expectUnsavable "conv_slope" 0.05 (fun () ->
                    Model.getConfig (Keras.Model(image, Layer.call conv image)))

                let seq = Keras.Input(shape = [ 3; 2 ])
                let rnn = Layers.SimpleRNN(4, activation = LeakyRelu 0.25, name = "rnn_slope")
                expectUnsavable "rnn_slope" 0.25 (fun () -> KerasFile.toJson (Keras.Model(seq, Layer.call rnn seq)))

                let lstm = Layers.LSTM(4, recurrentActivation = LeakyRelu 0.01, name = "lstm_slope")
                expectUnsavable "lstm_slope" 0.01 (fun () -> Layer.getConfig lstm)

                let act = Layers.Activation(LeakyRelu 0.1, name = "act_slope")
                expectUnsavable "act_slope" 0.1 (fun () -> Layer.getConfig act)
                Expect.isNotNull (Layer.getConfig (Layers.Activation(LeakyRelu 0.2))) "slope 0.2 is fine"
            }

            test "the way out: a linear Dense then LeakyReLU(0.1) predicts the same and round-trips through a file" {
                let model, dense = denseModel (LeakyRelu 0.1)
                let inputs = Keras.Input(shape = [ 3 ])
                let linear = Layers.Dense(2, name = "linear_dense")
                let leaky = Layers.LeakyReLU(negativeSlope = 0.1)
                let fixedModel = Keras.Model(inputs, Layer.call leaky (Layer.call linear inputs))
                Layer.setWeights linear (Layer.getWeights dense)
                let x = torch.randn (8L, 3L)
                closeTo 1e-6f (values (Model.predict model x)) (values (Model.predict fixedModel x)) "same function"

                inTempFolder "leaky-layer" (fun folder ->
                    let path = Path.Combine(folder, "fixed.keras")
                    KerasFile.save fixedModel path
                    let loaded = KerasFile.load path CustomObjects.none
                    expectSameAfterLoad fixedModel loaded x
                    closeTo 1e-6f (values (Model.predict model x)) (values (Model.predict loaded x)) "slope kept")
            }
        ]
