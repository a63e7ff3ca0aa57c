// Issue 13 through the C# facade: the sequence-to-sequence encoder-decoder with initial_state, RNN over LSTMCell, and
// GroupQueryAttention.
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class RecurrentExtensionTests
{
    [Fact]
    public void Seq2SeqDecoderStartsFromTheEncoderStatesAndRoundTripsThroughAKerasFile()
    {
        KerasApi.LoadNativeLibraries();
        torch.manual_seed(41);
        var encoderInput = KerasApi.Input(shape: new[] { 5, 3 });
        var states = Layers.LSTM(4, returnState: true).CallMany(encoderInput);
        var decoderInput = KerasApi.Input(shape: new[] { 6, 2 });
        var decoder = Layers.LSTM(4, returnSequences: true, name: "decoder");
        var decoded = decoder.Call(decoderInput, new[] { states[1], states[2] })[0];
        var model = new Model(new[] { encoderInput, decoderInput }, Layers.Dense(2).Call(decoded));
        Assert.Equal(128L + 112L + 10L, model.CountParams());

        var x = new[] { torch.randn(3, 5, 3), torch.randn(3, 6, 2) };
        var y = model.PredictMany(x)[0];
        Assert.Equal(new long[] { 3, 6, 2 }, y.shape);

        Assert.False(torch.allclose(y, torch.zeros_like(y)));

        var folder = Path.Combine(Path.GetTempPath(), "keras-csharp-seq2seq-" + System.Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "seq2seq.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(model.GetConfig().ToJsonString(), loaded.GetConfig().ToJsonString());
            Assert.True(torch.allclose(y, loaded.PredictMany(x)[0], 1e-6, 1e-7));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void RnnOverLstmCellEqualsLstmWithTheSameWeights()
    {
        KerasApi.LoadNativeLibraries();
        torch.manual_seed(42);
        var x = torch.randn(2, 4, 5);
        var lstm = Layers.LSTM(3, returnSequences: true);
        var rnn = Layers.RNN(Layers.LSTMCell(3), returnSequences: true);
        var expected = lstm.Call(x);
        rnn.Call(x);
        Assert.Equal(108L, rnn.CountParams());
        rnn.SetWeights(lstm.GetWeights().ToArray());
        Assert.True(torch.allclose(expected, rnn.Call(x), 1e-6, 1e-7));
        Assert.Equal("LSTMCell", (string)rnn.GetConfig()["cell"]!["class_name"]!);
    }

    [Fact]
    public void GroupQueryAttentionHasKerasWeightsAndRunsOnQueryAndValue()
    {
        KerasApi.LoadNativeLibraries();
        var layer = Layers.GroupQueryAttention(headDim: 3, numQueryHeads: 4, numKeyValueHeads: 2);
        var query = KerasApi.Input(shape: new[] { 5, 6 });
        var value = KerasApi.Input(shape: new[] { 7, 6 });
        var output = layer.Call(query, value);
        Assert.Equal(new int?[] { null, 5, 6 }, output.Shape);
        Assert.Equal(84L + 42L + 42L + 78L, layer.CountParams());
    }
}
