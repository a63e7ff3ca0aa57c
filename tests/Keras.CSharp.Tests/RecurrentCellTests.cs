// User recurrent cells in C#: a RecurrentCell subclass driven by Layers.RNN, compared with SimpleRNN, trained, counted
// in the summary and saved/loaded through its registered factory.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Keras.CSharp;
using TorchSharp;
using Xunit;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp.Tests;

/// <summary>Keras's MinimalRNNCell with a bias: h = tanh(x·kernel + h·recurrent_kernel + bias), which is SimpleRNN's step.</summary>
public sealed class MinimalRNNCell : RecurrentCell
{
    private readonly int units;
    private Weight? kernel, recurrentKernel, bias;

    public MinimalRNNCell(int units, string? name = null) : base(name) => this.units = units;

    public override IReadOnlyList<int> StateSize => new[] { units };

    public override void Build(IReadOnlyList<int?> inputShape)
    {
        kernel = AddWeight("kernel", new[] { inputShape[^1]!.Value, units });
        recurrentKernel = AddWeight("recurrent_kernel", new[] { units, units }, Initializers.Orthogonal());
        bias = AddWeight("bias", new[] { units }, Initializers.Zeros());
    }

    public override (Tensor Output, IReadOnlyList<Tensor> States) Call(Tensor inputs, IReadOnlyList<Tensor> states, bool training)
    {
        var h = (torch.matmul(inputs, kernel!) + torch.matmul(states[0], recurrentKernel!) + bias!).tanh();
        return (h, new[] { h });
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = units;
        return config;
    }
}

/// <summary>A cell that scales its output by 2 while training, recording the flags it sees.</summary>
public sealed class TrainingAwareCell : RecurrentCell
{
    private Weight? kernel;

    public List<bool> Seen { get; } = new();

    public override IReadOnlyList<int> StateSize => new[] { 2 };

    public override void Build(IReadOnlyList<int?> inputShape) => kernel = AddWeight("kernel", new[] { inputShape[^1]!.Value, 2 });

    public override (Tensor Output, IReadOnlyList<Tensor> States) Call(Tensor inputs, IReadOnlyList<Tensor> states, bool training)
    {
        Seen.Add(training);
        var h = (torch.matmul(inputs, kernel!) + states[0]).tanh();
        return (training ? h * 2 : h, new[] { h });
    }
}

// Seeded training runs share TorchSharp's global generator: the classes of this collection run one after another, so
// that the guide's MNIST run (a threshold on its accuracy) is not fed random numbers drawn by another test.
[Collection("Global random generator")]
public class RecurrentCellTests
{
    [Fact]
    public void MinimalRnnCellEqualsSimpleRnnWithTheSameWeights()
    {
        KerasApi.LoadNativeLibraries();
        var g = new torch.Generator(23);
        var x = torch.randn(new long[] { 3, 6, 5 }, generator: g);
        var simple = Layers.SimpleRNN(4, returnSequences: true);
        var rnn = Layers.RNN(new MinimalRNNCell(4), returnSequences: true);
        var expected = simple.Call(x);
        rnn.Call(x);
        // kernel 5·4, recurrent_kernel 4·4, bias 4: SimpleRNN's weights, in its order.
        Assert.Equal(40L, rnn.CountParams());
        Assert.Equal(simple.GetWeights().Select(w => w.shape), rnn.GetWeights().Select(w => w.shape));
        rnn.SetWeights(simple.GetWeights().ToArray());
        Assert.True(torch.allclose(expected, rnn.Call(x), 1e-5, 1e-5));
        var cell = rnn.GetConfig()["cell"]!;
        Assert.Equal("MinimalRNNCell", (string)cell["class_name"]!);
        Assert.Equal(4, (int)cell["config"]!["units"]!);
    }

    [Fact]
    public void MinimalRnnCellTrainsIsCountedInTheSummaryAndRoundTripsThroughAKerasFile()
    {
        Utils.SetRandomSeed(29);
        CustomLayer.Register("MinimalRNNCell", c => new MinimalRNNCell((int)c["units"]!));
        var inputs = KerasApi.Input(shape: new[] { -1, 3 });
        var features = Layers.RNN(new MinimalRNNCell(8), name: "minimal_rnn").Call(inputs);
        var model = new Model(inputs, Layers.Dense(1).Call(features));
        // RNN: 3·8 + 8·8 + 8 = 96; Dense: 8 + 1.
        Assert.Equal(105L, model.CountParams());
        Assert.Contains("minimal_rnn (RNN)", model.SummaryText);
        Assert.Contains("Total params: 105 (420.00 B)", model.SummaryText);

        // Learnable: the mean of each sequence's first feature.
        var g = new torch.Generator(31);
        var x = torch.randn(new long[] { 64, 5, 3 }, generator: g);
        var y = x.select(2, 0).mean(new long[] { 1 }, keepdim: true);
        model.Compile(Optimizers.Adam(0.01), "mse");
        var before = model.Evaluate(x, y, verbose: 0)["loss"];
        model.Fit(x, y, epochs: 30, batchSize: 16, verbose: 0);
        var after = model.Evaluate(x, y, verbose: 0)["loss"];
        Assert.True(after < before / 2, $"loss {before} → {after}");

        var path = Path.Combine(Path.GetTempPath(), $"minimal-rnn-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(105L, loaded.CountParams());
            Assert.Equal("MinimalRNNCell", (string)loaded.GetLayer("minimal_rnn").GetConfig()["cell"]!["class_name"]!);
            Assert.True(torch.allclose(model.Predict(x), loaded.Predict(x), 1e-6, 1e-6));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ACellSeesTheTrainingFlag()
    {
        var cell = new TrainingAwareCell();
        var inputs = KerasApi.Input(shape: new[] { 4, 3 });
        var model = new Model(inputs, Layers.RNN(cell).Call(inputs));
        var x = torch.ones(2, 4, 3);
        var inference = model.Predict(x);
        Assert.All(cell.Seen, flag => Assert.False(flag));
        Assert.True(torch.allclose(inference * 2, model.Call(x, training: true), 1e-6, 1e-6));
        cell.Seen.Clear();
        model.Compile("sgd", "mse");
        model.Fit(x, torch.zeros(2, 2), epochs: 1, verbose: 0);
        Assert.Contains(true, cell.Seen);
    }
}
