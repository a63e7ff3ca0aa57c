/// The guide's MNIST section end to end: build the model, print its summary, train it with RMSprop on the real
/// data, evaluate it on the test set.
/// Usage: MnistDemo [folder with the MNIST IDX files or mnist.npz]; without one, Keras's cache folder is used.
module MnistDemo

open Keras
open Keras.Operators
open Keras.Datasets

[<EntryPoint>]
let main argv =
    Utils.setRandomSeed 1337
    let inputs = Keras.Input(shape = [ 784 ])
    let x = inputs --> Layers.Dense(64, activation = "relu")
    let x = x --> Layers.Dense(64, activation = "relu")
    let outputs = x --> Layers.Dense(10)
    let model = Keras.Model(inputs, outputs, name = "mnist_model")
    model.Summary()

    let (xTrain, yTrain), (xTest, yTest) =
        match argv with
        | [| folder |] -> Mnist.loadDataFrom folder
        | _ -> Mnist.loadData ()

    // As the guide: flatten to 784 features and scale pixels to [0, 1].
    let xTrain, yTrain = Tensors.ofImagesFlatScaled xTrain, Tensors.ofLabels yTrain
    let xTest, yTest = Tensors.ofImagesFlatScaled xTest, Tensors.ofLabels yTest

    let compiled =
        model.Compile(
            optimizer = Optimizers.RMSprop(),
            loss = SparseCategoricalCrossentropy(fromLogits = true),
            metrics = [ "accuracy" ]
        )

    let _history =
        compiled.Fit(xTrain, yTrain, batchSize = 64, epochs = 2, validationSplit = 0.2)

    let scores = compiled.Evaluate(xTest, yTest, verbose = 2)
    printfn "Test loss: %.4f" scores["loss"]
    printfn "Test accuracy: %.4f" scores["accuracy"]
    let predictions = model.Predict(xTest)
    printfn "Predictions: %s" (Shape.format (Layer.specOf predictions).Shape)
    if scores["accuracy"] >= 0.96 then 0 else 1
