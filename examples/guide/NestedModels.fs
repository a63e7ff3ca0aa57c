/// The guide's "All models are callable, just like layers": an encoder and a decoder nested in an autoencoder, and an
/// ensemble of three models averaged.
module Examples.NestedModels

open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

let main (run: Run) =
    let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "original_img")
    let x = encoderInput --> Layers.Conv2D(16, 3, activation = "relu")
    let x = x --> Layers.Conv2D(32, 3, activation = "relu")
    let x = x --> Layers.MaxPooling2D(3)
    let x = x --> Layers.Conv2D(32, 3, activation = "relu")
    let x = x --> Layers.Conv2D(16, 3, activation = "relu")
    let encoderOutput = x --> Layers.GlobalMaxPooling2D()
    let encoder = Keras.Model(encoderInput, encoderOutput, name = "encoder")
    run.Print(encoder.SummaryText())

    let decoderInput = Keras.Input(shape = [ 16 ], name = "encoded_img")
    let x = decoderInput --> Layers.Reshape([ 4; 4; 1 ])
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu")
    let x = x --> Layers.Conv2DTranspose(32, 3, activation = "relu")
    let x = x --> Layers.UpSampling2D(3)
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu")
    let decoderOutput = x --> Layers.Conv2DTranspose(1, 3, activation = "relu")
    let decoder = Keras.Model(decoderInput, decoderOutput, name = "decoder")
    run.Print(decoder.SummaryText())

    let autoencoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")
    let encodedImg = autoencoderInput --> encoder
    let decodedImg = encodedImg --> decoder
    let autoencoder = Keras.Model(autoencoderInput, decodedImg, name = "autoencoder")
    run.Print(autoencoder.SummaryText())
    plot run autoencoder "autoencoder_nested.png" true

    // An ensemble: three models with the same architecture, their predictions averaged.
    let getModel () =
        let inputs = Keras.Input(shape = [ 128 ])
        let outputs = inputs --> Layers.Dense(1)
        Keras.Model(inputs, outputs)

    let model1, model2, model3 = getModel (), getModel (), getModel ()
    let inputs = Keras.Input(shape = [ 128 ])
    let y1, y2, y3 = inputs --> model1, inputs --> model2, inputs --> model3
    let outputs = Layers.average [ y1; y2; y3 ]
    let ensemble = Keras.Model(inputs, outputs)
    let prediction = ensemble.Predict(torch.rand (4L, 128L))
    run.Print $"ensemble output: {Shape.formatDims prediction.shape}, {ensemble.CountParams()} parameters"
    autoencoder, ensemble
