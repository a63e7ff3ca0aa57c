/// The guide's "Shared layers": one Embedding layer encoding two text inputs, with the same weights.
module Examples.SharedLayers

open Keras
open Keras.Operators
open Examples.Example

let main (run: Run) =
    // Embedding for 1000 unique words mapped to 128-dimensional vectors
    let sharedEmbedding = Layers.Embedding(1000, 128)
    // Variable-length sequence of integers
    let textInputA = Keras.Input(shape = [ Dim.Unknown ], dtype = Int32)
    // Variable-length sequence of integers
    let textInputB = Keras.Input(shape = [ Dim.Unknown ], dtype = Int32)
    // Reuse the same layer to encode both inputs
    let encodedInputA = textInputA --> sharedEmbedding
    let encodedInputB = textInputB --> sharedEmbedding
    run.Print $"encoded_input_a: {encodedInputA}"
    run.Print $"encoded_input_b: {encodedInputB}"

    let model =
        Keras.Model([ textInputA; textInputB ], [ encodedInputA; encodedInputB ], name = "shared_embedding")

    run.Print $"{model.Layers.Length} layers, {model.CountParams()} parameters (one embedding table)"
    model
