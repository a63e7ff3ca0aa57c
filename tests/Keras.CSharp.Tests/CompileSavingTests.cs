// Whole-model saving after compile, from C#: Save writes the compile config and the optimizer state, LoadModel compiles
// the model again and restores that state, so that the next training step is the one the original model takes.
using System;
using System.IO;
using System.Linq;
using Keras.CSharp;
using TorchSharp;
using Xunit;

namespace Keras.CSharp.Tests;

public class CompileSavingTests
{
    private static Model SmallModel()
    {
        var input = KerasApi.Input(shape: new[] { 5 });
        var hidden = Layers.Dense(6, activation: "tanh").Call(input);
        var output = Layers.Dense(3, activation: "softmax").Call(hidden);
        return new Model(input, output);
    }

    private static float[] Values(torch.Tensor t) => t.detach().contiguous().data<float>().ToArray();

    [Fact]
    public void CompileFitSaveLoadModelGivesTheSamePredictionsAndTheSameNextStep()
    {
        var generator = new torch.Generator(7);
        var x = torch.randn(new long[] { 16, 5 }, generator: generator);
        var y = torch.nn.functional.one_hot(torch.randint(3, new long[] { 16 }, generator: generator), 3).to_type(torch.ScalarType.Float32);
        var model = SmallModel();
        model.Compile(Optimizers.Adam(learningRate: 0.01), loss: "categorical_crossentropy", metrics: new[] { "accuracy" });
        model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0, shuffle: false);

        var folder = Path.Combine(Path.GetTempPath(), "keras-csharp-compile-saving", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "model.keras");
            model.Save(path);
            var loaded = KerasApi.LoadModel(path);
            Assert.True(loaded.IsCompiled);
            Assert.False(KerasApi.LoadModel(path, compile: false).IsCompiled);
            Assert.Equal(Values(model.Predict(x)), Values(loaded.Predict(x)));

            // One more step on the same batch in both: bit-identical, because the optimizer state was restored.
            model.Fit(x, y, batchSize: 16, epochs: 1, verbose: 0, shuffle: false);
            loaded.Fit(x, y, batchSize: 16, epochs: 1, verbose: 0, shuffle: false);
            var after = model.GetWeights();
            var resumed = loaded.GetWeights();
            Assert.Equal(after.Count, resumed.Count);
            for (var i = 0; i < after.Count; i++) Assert.Equal(Values(after[i]), Values(resumed[i]));
            Assert.Equal(Values(model.Predict(x)), Values(loaded.Predict(x)));

            // The JSON config and a weights file, through the same entry point.
            var json = Path.Combine(folder, "model.json");
            File.WriteAllText(json, model.ToJson());
            var weights = Path.Combine(folder, "model.weights.h5");
            model.SaveWeights(weights);
            var pair = KerasApi.LoadModel(json, weightsPath: weights);
            Assert.False(pair.IsCompiled);
            Assert.Equal(Values(model.Predict(x)), Values(pair.Predict(x)));
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
