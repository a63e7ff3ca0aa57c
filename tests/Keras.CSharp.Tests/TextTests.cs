// String inputs through the C# facade: a TextVectorization -> Embedding -> GRU -> Dense classifier fed with .NET
// strings, trained, saved and loaded; and the lookup layers' vocabulary methods.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class TextTests
{
    private static float[] Values(torch.Tensor t) => t.to_type(torch.ScalarType.Float32).contiguous().data<float>().ToArray();

    private static long[] Longs(torch.Tensor t) => t.to_type(torch.ScalarType.Int64).contiguous().data<long>().ToArray();

    [Fact]
    public void TextClassifierTrainsOnStringsAndRoundTrips()
    {
        torch.manual_seed(11);
        string[] texts = { "good movie", "great film", "loved it", "good fun", "bad movie", "awful film", "hated it", "bad fun" };
        var labels = new float[8, 1];
        for (var i = 0; i < 4; i++) labels[i, 0] = 1f;

        var vectorizer = Layers.TextVectorization(maxTokens: 20, outputSequenceLength: 3);
        vectorizer.Adapt(texts);
        Assert.Equal(new[] { "", "[UNK]" }, vectorizer.GetVocabulary().Take(2));

        var input = KerasApi.Input(shape: new[] { 1 }, dtype: "string", name: "text");
        var x = vectorizer.Call(input);
        x = Layers.Embedding(20, 8).Call(x);
        x = Layers.GRU(8).Call(x);
        var output = Layers.Dense(1, activation: "sigmoid").Call(x);
        var model = new Model(input, output, name: "text_classifier");

        model.Compile(optimizer: Optimizers.Adam(learningRate: 0.05), loss: Losses.BinaryCrossentropy());
        var history = model.Fit(texts, labels, batchSize: 4, epochs: 8, verbose: 0);
        Assert.True(history["loss"][^1] < history["loss"][0], "loss decreases");

        var before = model.Predict(texts);
        Assert.Equal(new long[] { 8, 1 }, before.shape);
        var path = Path.Combine(Path.GetTempPath(), $"csharp-text-{Guid.NewGuid():N}.keras");
        try
        {
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.Equal(Values(before), Values(loaded.Predict(texts)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LookupAndHashingLayers()
    {
        var lookup = Layers.StringLookup();
        lookup.Adapt(new[] { "a", "b", "b", "c", "c", "c" });
        Assert.Equal(new[] { "[UNK]", "c", "b", "a" }, lookup.GetVocabulary());
        Assert.Equal(new long[] { 3, 1, 0 }, Longs(lookup.Call(new[] { "a", "c", "zzz" })));

        var hashing = Layers.Hashing(3);
        Assert.Equal(new long[] { 1, 0, 1, 1, 2 }, Longs(hashing.Call(new[] { "A", "B", "C", "D", "E" })));

        var ints = Layers.IntegerLookup();
        ints.Adapt(new long[] { 7, 7, 9 });
        Assert.Equal(new[] { "-1", "7", "9" }, ints.GetVocabulary());
        Assert.Equal(3, ints.VocabularySize());
    }
}
