// Issue 9 through the C# facade: configs hold Keras 3.1.1's keys; a key only newer Keras writes appears only when set.
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class ConfigKeyTests
{
    [Fact]
    public void NewerKeysAreWrittenOnlyWhenSet()
    {
        Assert.False(Layers.MultiHeadAttention(2, 4).GetConfig().ContainsKey("seed"));
        Assert.Equal(7, (int)Layers.MultiHeadAttention(2, 4, seed: 7).GetConfig()["seed"]!);
        Assert.False(Layers.Attention().GetConfig().ContainsKey("seed"));
        Assert.Equal(3, (int)Layers.Attention(seed: 3).GetConfig()["seed"]!);
        Assert.False(Layers.Conv2DTranspose(4, (3, 3), strides: (2, 2)).GetConfig().ContainsKey("output_padding"));
        var padded = Layers.Conv2DTranspose(4, (3, 3), strides: (2, 2), outputPadding: (1, 0)).GetConfig();
        Assert.Equal(new[] { 1, 0 }, padded["output_padding"]!.AsArray().Select(n => (int)n!).ToArray());
        Assert.False(Layers.LayerNormalization().GetConfig().ContainsKey("rms_scaling"));
        Assert.False(Layers.ZeroPadding1D(2).GetConfig().ContainsKey("data_format"));
    }

    [Fact]
    public void MultiHeadAttentionValueDimDefaultsToKeyDim()
    {
        // Keras's value_dim defaults to key_dim: a C# literal default would fix it to one number for every key_dim.
        Assert.Equal(16, (int)Layers.MultiHeadAttention(4, 16).GetConfig()["value_dim"]!);
        Assert.Equal(8, (int)Layers.MultiHeadAttention(4, 16, valueDim: 8).GetConfig()["value_dim"]!);
        var seq = KerasApi.Input(shape: new[] { 5, 32 });
        var layer = Layers.MultiHeadAttention(4, 16);
        layer.Call(seq, seq);
        // query/key/value kernels 32·4·16 and biases 4·16 each, output kernel 4·16·32 and bias 32.
        Assert.Equal(3L * (32 * 64 + 64) + 64 * 32 + 32, layer.CountParams());
    }

    [Fact]
    public void SpatialDropoutWritesNoTrainableAndASavedModelLoadsAgain()
    {
        KerasApi.LoadNativeLibraries();
        var config = Layers.SpatialDropout1D(0.5, seed: 1).GetConfig();
        Assert.Equal(new[] { "name", "dtype", "rate", "seed" }.OrderBy(k => k), config.Select(p => p.Key).OrderBy(k => k));

        var input = KerasApi.Input(shape: new[] { 5, 3 });
        var x = Layers.SpatialDropout1D(0.5, seed: 1).Call(input);
        var output = Layers.MultiHeadAttention(2, 4, seed: 9).Call(x, x);
        var model = new Model(input, output, name: "keys");
        var path = Path.Combine(Path.GetTempPath(), $"config-keys-{System.Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(model.GetConfig().ToJsonString(), loaded.GetConfig().ToJsonString());
            var data = torch.randn(2, 5, 3);
            var expected = model.Predict(data);
            var actual = loaded.Predict(data);
            Assert.True(expected.allclose(actual, rtol: 0, atol: 1e-6));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
