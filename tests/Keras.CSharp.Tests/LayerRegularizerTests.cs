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
    [Fact]
    public void OrthogonalRegularizerAddsKerasPenaltyAndRoundTrips()
    {
        // Kernel (3, 2) in rows mode: rows (1,0), (1,1), (0,2) have |cos| 1/√2, 0, 1/√2 pairwise; mean √2/3.
        var input = KerasApi.Input(shape: new[] { 3 });
        var dense = Layers.Dense(2, useBias: false, kernelRegularizer: Regularizers.OrthogonalRegularizer(factor: 0.3));
        var model = new Model(input, dense.Call(input));
        dense.SetWeights(torch.tensor(new float[] { 1f, 0f, 1f, 1f, 0f, 2f }).reshape(3, 2));
        model.Compile(Optimizers.SGD(learningRate: 0.1), loss: "mse");
        // x = [1, 1, 1] gives [2, 3]; the targets [2, 3] make the data loss 0, so the loss is the penalty alone.
        var loss = model.Evaluate(torch.ones(1, 3), torch.tensor(new float[] { 2f, 3f }).reshape(1, 2), verbose: 0)["loss"];
        Assert.Equal(0.3 * Math.Sqrt(2.0) / 3.0, loss, 5);

        var json = model.ToJson().Replace(" ", "");
        Assert.Contains("\"kernel_regularizer\":{\"module\":\"keras.regularizers\",\"class_name\":\"OrthogonalRegularizer\",\"config\":{\"factor\":0.3,\"mode\":\"rows\"}", json);
        Assert.Equal(json, KerasApi.ModelFromJson(model.ToJson()).ToJson().Replace(" ", ""));
        Assert.Equal("OrthogonalRegularizer", Regularizers.OrthogonalRegularizer(mode: "columns").ToString());
        Regularizer byName = "orthogonal_regularizer";
        Assert.Equal("OrthogonalRegularizer", byName.ToString());

        var error = Assert.Throws<global::Keras.KerasException>(() => Regularizers.OrthogonalRegularizer(mode: "diagonal"));
        Assert.Contains("Expected one of {\"rows\", \"columns\"}", error.Message);
    }
}
