// Preprocessing layers (issue 13) through the C# facade: an augmenting image classifier, and Discretization.Adapt.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class PreprocessingTests
{
    [Fact]
    public void AugmentingImageClassifierTrainsPredictsDeterministicallyAndRoundTrips()
    {
        KerasApi.LoadNativeLibraries();
        Utils.SetRandomSeed(7);
        var input = KerasApi.Input(new[] { 64, 64, 3 });
        var x = Layers.Rescaling(1.0 / 255).Call(input);
        x = Layers.Resizing(32, 32).Call(x);
        x = Layers.RandomFlip(seed: 1).Call(x);
        x = Layers.RandomRotation(0.1, seed: 2).Call(x);
        x = Layers.RandomZoom(0.1, seed: 3).Call(x);
        x = Layers.Conv2D(8, 3, activation: "relu").Call(x);
        x = Layers.GlobalAveragePooling2D().Call(x);
        var model = new Model(input, Layers.Dense(10).Call(x));
        Assert.Contains("(None, 32, 32, 3)", model.SummaryText);

        // The class is the bright vertical band of the image.
        var labels = Enumerable.Range(0, 32).Select(i => (long)(i % 10)).ToArray();
        var generator = new torch.Generator(11);
        var images = torch.rand(new long[] { 32, 64, 64, 3 }, generator: generator) * 60;
        for (var i = 0; i < 32; i++)
            images[i].narrow(1, labels[i] * 6, 6).add_(180);

        model.Compile(Optimizers.Adam(0.01), Losses.SparseCategoricalCrossentropy(fromLogits: true));
        var history = model.Fit(images, labels, batchSize: 8, epochs: 6, verbose: 0);
        Assert.True(history["loss"][^1] < history["loss"][0], $"loss {history["loss"][0]} -> {history["loss"][^1]}");

        var p1 = model.Predict(images);
        var p2 = model.Predict(images);
        Assert.True(p1.allclose(p2, rtol: 0, atol: 0), "inference is deterministic");

        var path = Path.Combine(Path.GetTempPath(), $"keras-csharp-preprocessing-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.True(loaded.Predict(images).allclose(p1, rtol: 0, atol: 1e-6), "same predictions after load");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DiscretizationAdaptLearnsQuantileBoundaries()
    {
        KerasApi.LoadNativeLibraries();
        var layer = Layers.Discretization(numBins: 4);
        layer.Adapt(torch.arange(100).to_type(torch.ScalarType.Float32));
        var config = layer.GetConfig();
        var boundaries = config["bin_boundaries"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        Assert.Equal(3, boundaries.Length);
        Assert.Equal(new[] { 24.0, 49.0, 74.0 }, boundaries.Select(b => Math.Round(b, 3)).ToArray());
        var bins = layer.Call(torch.tensor(new[] { 10f, 30f, 60f, 99f }));
        Assert.Equal(new[] { 0, 1, 2, 3 }, bins.data<int>().ToArray());
    }
}
