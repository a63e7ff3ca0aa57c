/// The guide's first sections: the MNIST MLP built, summarized, plotted, trained and evaluated, its training curves,
/// then saved to one .keras file and recreated from it ("Save and serialize").
module Examples.MnistMlp

open System.IO
open TorchSharp
open Keras
open Keras.Operators
open Keras.Datasets
open Examples.Example

/// Where the MNIST files are: the argument, ../shared/data/mnist beside the repository, or Keras's cache.
let findData (repoRoot: string) =
    let shared = Path.Combine(repoRoot, "..", "shared", "data", "mnist")
    if Directory.Exists shared then Some shared else None

let main (run: Run) (dataFolder: string option) =
    Utils.setRandomSeed 1337
    let inputs = Keras.Input(shape = [ 784 ])
    run.Print $"inputs.shape: {Shape.format inputs.Shape}"
    run.Print $"inputs.dtype: {DType.name inputs.DType}"
    let dense = Layers.Dense(64, activation = "relu")
    let x = inputs --> dense
    let x = x --> Layers.Dense(64, activation = "relu")
    let outputs = x --> Layers.Dense(10)
    let model = Keras.Model(inputs, outputs, name = "mnist_model")
    run.Print(model.SummaryText())
    plot run model "my_first_model.png" false
    plot run model "my_first_model_with_shape_info.png" true

    let (xTrain, yTrain), (xTest, yTest) =
        match dataFolder with
        | Some folder -> Mnist.loadDataFrom folder
        | None -> Mnist.loadData ()

    let xTrain, yTrain = Tensors.ofImagesFlatScaled xTrain, Tensors.ofLabels yTrain
    let xTest, yTest = Tensors.ofImagesFlatScaled xTest, Tensors.ofLabels yTest
    let xTrain, yTrain = take run 4096L xTrain, take run 4096L yTrain
    let xTest, yTest = take run 1024L xTest, take run 1024L yTest

    let compiled =
        model.Compile(
            optimizer = Optimizers.RMSprop(),
            loss = SparseCategoricalCrossentropy(fromLogits = true),
            metrics = [ "accuracy" ]
        )

    let epochs = 2

    let history =
        compiled.Fit(
            xTrain,
            yTrain,
            batchSize = 64,
            epochs = epochs,
            validationSplit = 0.2,
            verbose = (if run.Quick then 0 else 1)
        )

    let scores = compiled.Evaluate(xTest, yTest, verbose = (if run.Quick then 0 else 2))
    run.Print $"""Test loss: %.4f{scores["loss"]}"""
    run.Print $"""Test accuracy: %.4f{scores["accuracy"]}"""
    Directory.CreateDirectory run.OutDir |> ignore

    // Save and serialize: architecture, weights, compile config and optimizer state in one file; the model comes back
    // from the file alone (Keras's model.save / keras.models.load_model).
    let saved = Path.Combine(run.OutDir, "my_model.keras")
    compiled.Save saved
    let reloaded = Keras.LoadModel saved
    let probe = xTest.narrow (0L, 0L, 16L)
    let same = torch.allclose (model.Predict probe, reloaded.Predict probe)
    run.Print $"Reloaded {Path.GetFileName saved}: {reloaded.CountParams()} parameters, same predictions: {same}"

    let curves = history.Plot(Path.Combine(run.OutDir, "mnist_training_curves.png"))
    run.Print $"Wrote {Path.GetFileName curves}"
    scores
