// Issue 13 through the C# facade: a recommender with Dot, a block with ReLU(maxValue: 6), Normalization.Adapt.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class Issue13Tests
{
    private static Model Recommender()
    {
        var user = KerasApi.Input(shape: new[] { 1 }, dtype: "int64", name: "user");
        var item = KerasApi.Input(shape: new[] { 1 }, dtype: "int64", name: "item");
        var u = Layers.Flatten().Call(Layers.Embedding(20, 8).Call(user));
        var i = Layers.Flatten().Call(Layers.Embedding(30, 8).Call(item));
        var score = Layers.Dot(1, normalize: true).Call(u, i);
        return new Model(new[] { user, item }, score, name: "recommender");
    }

    [Fact]
    public void RecommenderWithDotTrainsAndRoundTrips()
    {
        torch.manual_seed(31);
        var model = Recommender();
        Assert.Equal(400L, model.CountParams());
        var users = torch.randint(20, new long[] { 128, 1 }, dtype: torch.ScalarType.Int64);
        var items = torch.randint(30, new long[] { 128, 1 }, dtype: torch.ScalarType.Int64);
        var two = torch.tensor(2L);
        var target = users.remainder(two).eq(items.remainder(two)).to_type(torch.ScalarType.Float32) * 2 - 1;
        model.Compile(Optimizers.Adam(0.01), Losses.MeanSquaredError());
        var history = model.Fit(new[] { users, items }, target, batchSize: 32, epochs: 6, verbose: 0);
        Assert.True(history["loss"].Last() < history["loss"].First());

        var path = Path.Combine(Path.GetTempPath(), $"issue13-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            var before = model.PredictMany(new[] { users, items })[0];
            var after = loaded.PredictMany(new[] { users, items })[0];
            Assert.Equal(new long[] { 128, 1 }, after.shape);
            Assert.True(torch.allclose(before, after, 1e-6, 1e-6));
            Assert.Contains("(Dot)", loaded.SummaryText);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ReLU6ClipsAndLeakyReLUUsesKeras3Default()
    {
        var x = torch.tensor(new[] { -2.0f, 3.0f, 9.0f }).reshape(1, 3);
        var input = KerasApi.Input(shape: new[] { 3 });
        var relu6 = new Model(input, Layers.ReLU(maxValue: 6).Call(input));
        Assert.Equal(new[] { 0.0f, 3.0f, 6.0f }, relu6.Predict(x).data<float>().ToArray());
        var leaky = new Model(input, Layers.LeakyReLU().Call(input));
        Assert.Equal(new[] { -0.6f, 3.0f, 9.0f }, leaky.Predict(x).data<float>().ToArray(), (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void NormalizationAdaptsAndSoftmaxSumsToOne()
    {
        var norm = Layers.Normalization();
        norm.Adapt(torch.tensor(new float[,] { { 0, 7, 4 }, { 2, 9, 6 }, { 0, 7, 4 }, { 2, 9, 6 } }));
        var input = KerasApi.Input(shape: new[] { 3 });
        var model = new Model(input, Layers.Softmax().Call(norm.Call(input)));
        var y = model.Predict(torch.tensor(new float[,] { { 0, 7, 4 } }));
        // Normalized to [-1, -1, -1], so the softmax is uniform.
        Assert.All(y.data<float>().ToArray(), v => Assert.InRange(v, 1f / 3 - 1e-6f, 1f / 3 + 1e-6f));
    }
}
