// BatchNormalization's and MultiHeadAttention's regularizers and constraints from C#: named optional arguments, the
// constraint holding after a training step, and the options surviving Save → LoadModel.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class LayerRegularizerTests
{
    private static float[] Values(torch.Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Fact]
    public void BatchNormalizationAndMultiHeadAttentionConstraintsHoldAfterAStep()
    {
        var seq = KerasApi.Input(shape: new[] { 4, 6 });
        var attention = Layers.MultiHeadAttention(2, 3, biasInitializer: Initializers.Constant(-1.0), kernelRegularizer: Regularizers.L2(1e-3), kernelConstraint: "non_neg", biasConstraint: "non_neg");
        var norm = Layers.BatchNormalization(gammaInitializer: Initializers.Constant(-1.0), gammaRegularizer: Regularizers.L1(0.01), gammaConstraint: "non_neg");
        var output = norm.Call(attention.Call(seq, seq));
        var model = new Model(seq, output);
        model.Compile(Optimizers.SGD(learningRate: 0.1), loss: "mse");
        torch.manual_seed(11);
        var x = torch.randn(5, 4, 6);
        var y = torch.randn(5, 4, 6);
        model.Fit(x, y, batchSize: 5, epochs: 1, verbose: 0, shuffle: false);

        foreach (var w in attention.GetWeights()) Assert.All(Values(w), v => Assert.True(v >= 0f));
        Assert.All(Values(norm.GetWeights()[0]), v => Assert.Equal(0f, v));

        var folder = Path.Combine(Path.GetTempPath(), "keras-csharp-layer-regularizers", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "model.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path, compile: false);
            Assert.Equal(model.ToJson(), loaded.ToJson());
            Assert.Contains("\"gamma_constraint\":{\"module\":\"keras.constraints\",\"class_name\":\"NonNeg\"", model.ToJson().Replace(" ", ""));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
    [Fact]
    public void ConvLstmTakesRegularizersAndConstraintsAsNamedArguments()
    {
        var seq = KerasApi.Input(shape: new[] { 2, 4, 4, 3 });
        var layer = Layers.ConvLSTM2D(2, (3, 3), padding: "same", kernelRegularizer: Regularizers.L2(0.01), kernelConstraint: "non_neg");
        var model = new Model(seq, layer.Call(seq));
        model.Compile(Optimizers.SGD(learningRate: 1.0), loss: "mse");
        torch.manual_seed(12);
        model.Fit(torch.randn(new long[] { 4, 2, 4, 4, 3 }), torch.randn(4, 4, 4, 2).mul(10f), batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        Assert.All(Values(layer.GetWeights()[0]), v => Assert.True(v >= 0f));
        var json = model.ToJson().Replace(" ", "");
        Assert.Contains("\"kernel_regularizer\":{\"module\":\"keras.regularizers\",\"class_name\":\"L2\"", json);
        Assert.Equal(json, KerasApi.ModelFromJson(model.ToJson()).ToJson().Replace(" ", ""));
    }
}
