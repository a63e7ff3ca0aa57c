// Layer freezing (Keras's `trainable`), layer.Input / layer.Output and save → load through the C# facade alone.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp.Tests;

public class TrainableTests
{
    /// <summary>Input(4) → Dense(8) → BatchNormalization: 40 + 16 trainable and 16 moving-statistics parameters.</summary>
    private static Model Base()
    {
        var input = KerasApi.Input(shape: new[] { 4 });
        var x = Layers.Dense(8, activation: "relu", name: "base_dense").Call(input);
        var output = Layers.BatchNormalization(name: "base_bn").Call(x);
        return new Model(input, output, name: "base");
    }

    /// <summary>The base nested under a new head Dense(1): 9 parameters.</summary>
    private static Model WithHead(Model baseModel)
    {
        var input = KerasApi.Input(shape: new[] { 4 });
        var output = Layers.Dense(1, name: "head").Call(baseModel.Call(input));
        return new Model(input, output, name: "transfer");
    }

    private static bool Same(Tensor[] a, Tensor[] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.shape.SequenceEqual(p.Second.shape) && p.First.eq(p.Second).all().item<bool>());

    [Fact]
    public void TransferLearningFreezesTheBaseThenFineTunes()
    {
        Utils.SetRandomSeed(3);
        var baseModel = Base();
        var model = WithHead(baseModel);
        var x = torch.randn(64, 4);
        var y = x.sum(1, keepdim: true) * 0.5f;

        Assert.True(baseModel.Trainable);
        Assert.Equal(65, model.CountTrainableParams());
        Assert.Equal(16, model.CountNonTrainableParams());

        baseModel.Trainable = false;
        Assert.Equal(9, model.CountTrainableParams());
        Assert.Equal(72, model.CountNonTrainableParams());
        Assert.Contains(" Trainable params: 9 (36.00 B)", model.SummaryText);
        Assert.Contains(" Non-trainable params: 72 (288.00 B)", model.SummaryText);
        Assert.False(model.GetLayer("base").Trainable);

        var baseBefore = baseModel.GetWeights().ToArray();
        var headBefore = model.GetLayer("head").GetWeights().ToArray();
        model.Compile(Optimizers.Adam(learningRate: 0.01), Losses.MeanSquaredError());
        model.Fit(x, y, batchSize: 16, epochs: 2, verbose: 0);
        Assert.True(Same(baseModel.GetWeights().ToArray(), baseBefore), "frozen base (and its moving statistics) bit-identical");
        Assert.False(Same(model.GetLayer("head").GetWeights().ToArray(), headBefore), "head trained");

        // Unfreeze, compile again with a low learning rate, fine-tune: the base moves.
        baseModel.Trainable = true;
        model.Compile(Optimizers.SGD(learningRate: 1e-3), Losses.MeanSquaredError());
        model.Fit(x, y, batchSize: 16, epochs: 1, verbose: 0);
        Assert.False(Same(baseModel.GetLayer("base_dense").GetWeights().ToArray(), baseBefore.Take(2).ToArray()), "fine-tuned");
    }

    [Fact]
    public void ALayerFreezesAloneAndFrozenLayersSurviveSaveAndLoad()
    {
        var baseModel = Base();
        var model = WithHead(baseModel);
        var head = model.GetLayer("head");
        head.Trainable = false;
        Assert.False(head.Trainable);
        Assert.Equal(56, model.CountTrainableParams());
        Assert.False(model.GetConfig()["layers"]!.AsArray().Single(l => (string?)l!["name"] == "head")!["config"]!["trainable"]!.GetValue<bool>());

        var folder = Directory.CreateTempSubdirectory("keras-csharp-trainable").FullName;
        try
        {
            var path = Path.Combine(folder, "frozen.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            var x = torch.randn(5, 4);
            Assert.True(model.Predict(x).allclose(loaded.Predict(x), rtol: 0, atol: 1e-6), "same predictions");
            Assert.False(loaded.GetLayer("head").Trainable);
            Assert.True(loaded.GetLayer("base").Trainable);
            Assert.Equal(56, loaded.CountTrainableParams());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void InputAndOutputAreTheTensorsOfTheFirstCall()
    {
        var input = KerasApi.Input(shape: new[] { 3 });
        var dense = Layers.Dense(2);
        var output = dense.Call(input);
        Assert.Equal(input, dense.Input);
        Assert.Equal(output, dense.Output);
        Assert.Equal(new int?[] { null, 2 }, dense.Output.Shape.ToArray());

        // A second call makes a second node; Input and Output stay those of the first call, as in Keras 3.
        var other = KerasApi.Input(shape: new[] { 3 });
        dense.Call(other);
        Assert.Equal(input, dense.Input);

        // A model's layers: the input layer's output is the model's input; a feature-extraction model from them.
        var model = new Model(input, output);
        Assert.Equal(input, model.Layers[0].Output);
        var features = new Model(model.Inputs[0], model.Layers.Select(l => l.Output).ToArray());
        Assert.Equal(2, features.Outputs.Count);

        var never = Layers.Dense(4, name: "never_called");
        var e = Assert.Throws<global::Keras.KerasException>(() => never.Output);
        Assert.Contains("never_called has never been called", e.Message);
        var merge = Layers.Concatenate();
        merge.Call(input, other);
        Assert.Equal(2, merge.Inputs.Count);
        Assert.Throws<global::Keras.KerasException>(() => merge.Input);
    }
}
