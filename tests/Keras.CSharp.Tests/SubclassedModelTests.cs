// Keras's model subclassing in C#: a SubclassedModel creates its layers in the constructor and overrides Call; it
// trains, summarizes, saves and loads (registered), and is called like a layer inside functional models.
using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Keras.CSharp;
using TorchSharp;
using Xunit;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp.Tests;

/// <summary>The guide's MLP as a C# subclassed model: Dense(units, relu) then Dense(10), with dropout in training.</summary>
public sealed class MLP : SubclassedModel
{
    private readonly int units;
    private readonly Layer dense1, dense2, dropout;

    public MLP(int units = 64, string? name = null) : base(name)
    {
        this.units = units;
        dense1 = Layers.Dense(units, activation: "relu");
        dropout = Layers.Dropout(0.1);
        dense2 = Layers.Dense(10);
    }

    public override Tensor Call(Tensor inputs, bool training, Tensor? mask)
    {
        var h = CallLayer(dense1, inputs);
        if (training) h = CallLayer(dropout, h);
        return CallLayer(dense2, h);
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = units;
        return config;
    }
}

/// <summary>A subclassed model with a weight of its own (a learned scale) and no registered factory.</summary>
public sealed class ScaledLinear : SubclassedModel
{
    private readonly Layer dense = Layers.Dense(2);
    private Weight? scale;

    public override void Build(System.Collections.Generic.IReadOnlyList<int?> inputShape) =>
        scale = AddWeight("scale", new[] { 1 }, Initializers.Ones());

    public override Tensor Call(Tensor inputs, bool training, Tensor? mask) => CallLayer(dense, inputs) * scale!;
}

// Seeded training runs share TorchSharp's global generator: the classes of this collection run one after another, so
// that the guide's MNIST run (a threshold on its accuracy) is not fed random numbers drawn by another test.
[Collection("Global random generator")]
public class SubclassedModelTests
{
    private static (Tensor X, Tensor Y, Tensor XTest, Tensor YTest) MnistSubset(int train, int test)
    {
        var ((xTrain, yTrain), (xTest, yTest)) = Datasets.Mnist.LoadData(GuideTests.SharedData("mnist"));
        var x = xTrain.narrow(0, 0, train).reshape(train, 784).to_type(torch.ScalarType.Float32) / 255;
        var xt = xTest.narrow(0, 0, test).reshape(test, 784).to_type(torch.ScalarType.Float32) / 255;
        return (x, yTrain.narrow(0, 0, train), xt, yTest.narrow(0, 0, test));
    }

    [Fact]
    public void SubclassedMlpTrainsOnRealMnistSummarizesAndRoundTripsThroughAKerasFile()
    {
        Utils.SetRandomSeed(1337);
        SubclassedModel.Register("MLP", c => new MLP((int)c["units"]!, (string?)c["name"]));
        var mlp = new MLP(64);
        Assert.False(mlp.Built);
        var notBuilt = Assert.Throws<InvalidOperationException>(() => mlp.CountParams());
        Assert.Contains("has not yet been built", notBuilt.Message);

        // Compiled before it is built, as in Keras; built by Fit on the first data.
        mlp.Compile(Optimizers.RMSprop(), Losses.SparseCategoricalCrossentropy(fromLogits: true), new[] { "accuracy" });
        var (x, y, xTest, yTest) = MnistSubset(30000, 5000);
        var history = mlp.Fit(x, y, batchSize: 32, epochs: 1, verbose: 0);
        Assert.True(mlp.Built);
        Assert.Single(history["loss"]);
        var scores = mlp.Evaluate(xTest, yTest, verbose: 0);
        Assert.True(scores["accuracy"] >= 0.9, $"test accuracy {scores["accuracy"]}");

        // 784·64 + 64 + 64·10 + 10: the held layers' weights are the model's.
        Assert.Equal(50890L, mlp.CountParams());
        Assert.Contains("Total params: 50,890 (198.79 KB)", mlp.SummaryText);
        Assert.Contains($"{mlp.Name} (MLP)", mlp.SummaryText);
        Assert.Equal(4, mlp.GetWeights().Count);
        Assert.Equal($"<MLP name={mlp.Name}, built=True>", mlp.ToString());

        var path = Path.Combine(Path.GetTempPath(), $"mlp-{Guid.NewGuid():N}.keras");
        try
        {
            mlp.Save(path);
            var loaded = KerasApi.LoadModel(path);
            var restored = Assert.IsType<MLP>(loaded);
            Assert.Equal(mlp.Name, restored.Name);
            Assert.Equal(64, (int)restored.GetConfig()["units"]!);
            Assert.True(restored.IsCompiled);
            Assert.True(torch.allclose(mlp.Predict(xTest), restored.Predict(xTest), 1e-6, 1e-6));
            Assert.Equal(scores["accuracy"], restored.Evaluate(xTest, yTest, verbose: 0)["accuracy"], 6);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ASubclassedModelIsOneLayerOfAFunctionalModelAndSharesItsWeights()
    {
        SubclassedModel.Register("MLP", c => new MLP((int)c["units"]!, (string?)c["name"]));
        var mlp = new MLP(16);
        var inputs = KerasApi.Input(shape: new[] { 784 });
        var model = new Model(inputs, Layers.Softmax().Call(mlp.Call(inputs)));
        Assert.True(mlp.Built);
        // 784·16 + 16 + 16·10 + 10.
        Assert.Equal(12730L, model.CountParams());
        Assert.Equal(12730L, mlp.CountParams());
        Assert.Contains($"{mlp.Name} (MLP)", model.SummaryText);
        Assert.Contains("(None, 10)", model.SummaryText);

        var x = torch.rand(5, 784);
        Assert.True(torch.allclose(model.Predict(x), torch.nn.functional.softmax(mlp.Predict(x), 1), 1e-5, 1e-6));
        Assert.Equal(new long[] { 1, 10 }, mlp.Call(torch.zeros(1, 784)).shape);

        // GetWeights / SetWeights move the weights to another instance, built by an eager call.
        var other = new MLP(16);
        other.Call(torch.zeros(1, 784));
        other.SetWeights(mlp.GetWeights());
        Assert.True(torch.allclose(mlp.Predict(x), other.Predict(x), 1e-6, 1e-6));

        // The functional model around it saves and loads through the registered class.
        var path = Path.Combine(Path.GetTempPath(), $"functional-mlp-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.IsNotType<MLP>(loaded);
            Assert.True(torch.allclose(model.Predict(x), loaded.Predict(x), 1e-6, 1e-6));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OwnWeightsTrainAndAnUnregisteredClassDoesNotLoad()
    {
        var model = new ScaledLinear();
        var g = new torch.Generator(17);
        var x = torch.randn(new long[] { 32, 3 }, generator: g);
        var y = (x.sum(1, keepdim: true) * 3).expand(32, 2).contiguous();
        model.Compile("adam", "mse");
        var before = model.Evaluate(x, y, verbose: 0)["loss"];
        model.Fit(x, y, epochs: 30, batchSize: 8, verbose: 0);
        Assert.True(model.Evaluate(x, y, verbose: 0)["loss"] < before);
        // Dense(2) on 3 features, and the scale.
        Assert.Equal(3 * 2 + 2 + 1L, model.CountParams());
        Assert.NotEqual(1f, model.GetWeights().Single(w => w.NumberOfElements == 1).item<float>());

        var path = Path.Combine(Path.GetTempPath(), $"scaled-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var e = Assert.Throws<global::Keras.KerasException>(() => KerasApi.LoadModel(path));
            Assert.Contains("subclassed model", e.Message);
            Assert.Contains("ScaledLinear", e.Message);
        }
        finally { File.Delete(path); }
    }
}
