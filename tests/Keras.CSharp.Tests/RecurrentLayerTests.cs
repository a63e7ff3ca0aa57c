// Issue 13 through the C# facade: ConvLSTM1D and ConvLSTM3D, StackedRNNCells and user cells in configs.
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class RecurrentLayerTests
{
    private static void InTempFolder(string purpose, System.Action<string> action)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"keras-csharp-{purpose}-" + System.Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            action(folder);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    [Fact]
    public void ConvLSTM1DAnd3DHaveKerasShapesAndRoundTripThroughAKerasFile()
    {
        KerasApi.LoadNativeLibraries();
        torch.manual_seed(71);
        var input = KerasApi.Input(shape: new[] { 4, 6, 2 });
        var sequence = Layers.ConvLSTM1D(3, 3, padding: "same", returnSequences: true).Call(input);
        var model = new Model(input, Layers.Dense(2).Call(Layers.Flatten().Call(sequence)));
        Assert.Equal(72L + 108L + 12L + 72L * 2L + 2L, model.CountParams());

        var conv3 = Layers.ConvLSTM3D(2, (2, 2, 2));
        var y3 = conv3.Call(torch.randn(new long[] { 2, 3, 4, 3, 3, 1 }));
        Assert.Equal(new long[] { 2, 3, 2, 2, 2 }, y3.shape);
        Assert.Equal(new long[] { 2, 2, 2, 1, 8 }, conv3.GetWeights()[0].shape);

        var x = torch.randn(3, 4, 6, 2);
        var y = model.PredictMany(new[] { x })[0];
        InTempFolder("convlstm", folder =>
        {
            var path = Path.Combine(folder, "convlstm.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(model.GetConfig().ToJsonString(), loaded.GetConfig().ToJsonString());
            Assert.True(torch.allclose(y, loaded.PredictMany(new[] { x })[0], 1e-6, 1e-7));
        });
    }

    [Fact]
    public void StackedRnnCellsEqualsTheStackedLayersAndRoundTripsThroughAKerasFile()
    {
        KerasApi.LoadNativeLibraries();
        torch.manual_seed(72);
        var x = torch.randn(2, 5, 3);
        var stacked = Layers.RNN(Layers.StackedRNNCells(new[] { Layers.LSTMCell(4), Layers.GRUCell(3) }), returnSequences: true);
        var lstm = Layers.LSTM(4, returnSequences: true);
        var gru = Layers.GRU(3, returnSequences: true);
        var expected = gru.Call(lstm.Call(x));
        stacked.Call(x);
        stacked.SetWeights(lstm.GetWeights().Concat(gru.GetWeights()).ToArray());
        Assert.True(torch.allclose(expected, stacked.Call(x), 1e-5, 1e-6));
        Assert.Equal("StackedRNNCells", (string)stacked.GetConfig()["cell"]!["class_name"]!);

        var input = KerasApi.Input(shape: new[] { 5, 3 });
        var model = new Model(input, Layers.Dense(2).Call(Layers.RNN(Layers.StackedRNNCells(new[] { Layers.LSTMCell(4), Layers.LSTMCell(2) })).Call(input)));
        var y = model.PredictMany(new[] { x })[0];
        InTempFolder("stacked", folder =>
        {
            var path = Path.Combine(folder, "stacked.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(model.GetConfig().ToJsonString(), loaded.GetConfig().ToJsonString());
            Assert.True(torch.allclose(y, loaded.PredictMany(new[] { x })[0], 1e-6, 1e-7));
        });
    }
}
