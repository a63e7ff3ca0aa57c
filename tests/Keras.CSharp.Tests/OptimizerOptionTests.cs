// Keras 3's base-optimizer options from C#: weight decay and gradient clipping on every optimizer, AMSGrad, RMSprop's
// momentum and centered variant, as named optional arguments; they survive Save → LoadModel with their state.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class OptimizerOptionTests
{
    private static Model SmallModel()
    {
        var input = KerasApi.Input(shape: new[] { 4 });
        var hidden = Layers.Dense(5, activation: "tanh").Call(input);
        var output = Layers.Dense(2).Call(hidden);
        return new Model(input, output);
    }

    private static float[] Values(torch.Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Fact]
    public void ClipValueBoundsEachStepOfPlainSgd()
    {
        var model = SmallModel();
        var before = model.GetWeights().Select(Values).ToList();
        model.Compile(Optimizers.SGD(learningRate: 0.1, clipValue: 0.01), loss: "mse");
        // Targets far away: the raw gradients are much larger than 0.01.
        var x = torch.linspace(-1.0, 1.0, 32).reshape(8, 4);
        var y = torch.full(new long[] { 8, 2 }, 50.0f);
        model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
        var after = model.GetWeights().Select(Values).ToList();
        var steps = before.Zip(after, (b, a) => b.Zip(a, (u, v) => Math.Abs(u - v))).SelectMany(d => d).ToArray();
        // Each element moves by at most lr · clipValue = 0.001, and the output bias (gradient ≫ 0.01) by exactly that.
        Assert.All(steps, d => Assert.True(d <= 0.001f + 1e-6f, $"step {d}"));
        Assert.Equal(0.001f, steps[^1], 5);
    }

    [Fact]
    public void AmsgradCenteredRmspropAndDecayResumeAfterSaveAndLoad()
    {
        var optimizers = new[]
        {
            Optimizers.Adam(learningRate: 0.01, amsgrad: true, clipNorm: 1.0, weightDecay: 0.01),
            Optimizers.RMSprop(learningRate: 0.01, momentum: 0.5, centered: true, globalClipNorm: 2.0),
            Optimizers.AdamW(learningRate: 0.01, weightDecay: 0.02, amsgrad: true),
            Optimizers.Adagrad(learningRate: 0.05, weightDecay: 0.01, clipValue: 0.5),
        };
        var x = torch.linspace(-1.0, 1.0, 32).reshape(8, 4);
        var y = torch.linspace(0.0, 2.0, 16).reshape(8, 2);
        var folder = Path.Combine(Path.GetTempPath(), "keras-csharp-optimizer-options", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var optimizer in optimizers)
            {
                var model = SmallModel();
                model.Compile(optimizer, loss: "mse");
                model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);
                var path = Path.Combine(folder, "model.keras");
                model.Save(path);
                var loaded = KerasApi.LoadModel(path);
                Assert.True(loaded.IsCompiled);
                model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
                loaded.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0, shuffle: false);
                var a = model.GetWeights();
                var b = loaded.GetWeights();
                for (var i = 0; i < a.Count; i++) Assert.Equal(Values(a[i]), Values(b[i]));
            }
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void TwoClippingOptionsAreRefused()
    {
        var error = Assert.Throws<global::Keras.KerasException>(() => Optimizers.Adam(clipNorm: 1.0, globalClipNorm: 2.0));
        Assert.Contains("Only one of `clipnorm`", error.Message);
    }
}
