/// The guide's first example end to end: build the MNIST model, print its summary, run it on the MNIST test set.
/// Usage: MnistDemo [folder with the MNIST IDX files or mnist.npz]; without one, Keras's cache folder is used.
module MnistDemo

open Keras
open Keras.Operators
open Keras.Datasets

[<EntryPoint>]
let main argv =
    let inputs = Keras.Input(shape = [ 784 ])
    let x = inputs --> Layers.Dense(64, activation = "relu")
    let x = x --> Layers.Dense(64, activation = "relu")
    let outputs = x --> Layers.Dense(10)
    let model = Keras.Model(inputs, outputs, name = "mnist_model")
    model.Summary()

    let (_, _), (xTest, yTest) =
        match argv with
        | [| folder |] -> Mnist.loadDataFrom folder
        | _ -> Mnist.loadData ()

    let xTest = Tensors.ofImagesFlatScaled xTest
    printfn "Test images: %s, labels: %d" (Shape.format (Layer.specOf xTest).Shape) yTest.Length
    let predictions = model.Predict(xTest)
    printfn "Output shape: %s" (Shape.format (Layer.specOf predictions).Shape)
    0
