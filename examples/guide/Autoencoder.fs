/// The guide's "All models are callable, just like layers" start: one graph of layers, two models (encoder, autoencoder).
module Examples.Autoencoder

open Keras
open Keras.Operators
open Examples.Example

let main (run: Run) =
    let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")
    let x = encoderInput --> Layers.Conv2D(16, 3, activation = "relu")
    let x = x --> Layers.Conv2D(32, 3, activation = "relu")
    let x = x --> Layers.MaxPooling2D(3)
    let x = x --> Layers.Conv2D(32, 3, activation = "relu")
    let x = x --> Layers.Conv2D(16, 3, activation = "relu")
    let encoderOutput = x --> Layers.GlobalMaxPooling2D()
    let encoder = Keras.Model(encoderInput, encoderOutput, name = "encoder")
    run.Print(encoder.SummaryText())

    let x = encoderOutput --> Layers.Reshape([ 4; 4; 1 ])
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu")
    let x = x --> Layers.Conv2DTranspose(32, 3, activation = "relu")
    let x = x --> Layers.UpSampling2D(3)
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu")
    let decoderOutput = x --> Layers.Conv2DTranspose(1, 3, activation = "relu")
    let autoencoder = Keras.Model(encoderInput, decoderOutput, name = "autoencoder")
    run.Print(autoencoder.SummaryText())
    encoder, autoencoder
