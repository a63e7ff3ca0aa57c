// The guide's MNIST section in C#, through the Keras.CSharp facade: build the model, print its summary, train it
// with RMSprop, evaluate it on the test set.
// Usage: MnistCSharp [mnist.npz or folder with the MNIST IDX files]; without one, Keras's cache folder is used.
namespace MnistCSharp;

using System;
using Keras.CSharp;
using TorchSharp;

public static class Program
{
    public static int Main(string[] args)
    {
        Utils.SetRandomSeed(1337);
        var inputs = KerasApi.Input(shape: new[] { 784 });
        var x = Layers.Dense(64, activation: "relu").Call(inputs);
        x = Layers.Dense(64, activation: "relu").Call(x);
        var outputs = Layers.Dense(10).Call(x);
        var model = new Model(inputs, outputs, name: "mnist_model");
        model.Summary();

        var ((xTrain, yTrain), (xTest, yTest)) = Datasets.Mnist.LoadData(args.Length > 0 ? args[0] : null);
        xTrain = xTrain.reshape(60000, 784).to_type(torch.ScalarType.Float32) / 255;
        xTest = xTest.reshape(10000, 784).to_type(torch.ScalarType.Float32) / 255;

        model.Compile(
            optimizer: Optimizers.RMSprop(),
            loss: Losses.SparseCategoricalCrossentropy(fromLogits: true),
            metrics: new[] { "accuracy" });

        var history = model.Fit(xTrain, yTrain, batchSize: 64, epochs: 2, validationSplit: 0.2);
        var scores = model.Evaluate(xTest, yTest, verbose: 2);
        Console.WriteLine($"Test loss: {scores["loss"]:F4}");
        Console.WriteLine($"Test accuracy: {scores["accuracy"]:F4}");
        Console.WriteLine($"Epochs: {history.Epoch.Count}, predictions: ({string.Join(", ", model.Predict(xTest).shape)})");
        return scores["accuracy"] >= 0.96 ? 0 : 1;
    }
}
