// The Keras guide "The Functional API", section by section, in C# through the facade alone: the figures the guide
// prints are the expected values.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using Keras.CSharp;
using TorchSharp;
using Xunit;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp.Tests;

/// <summary>The guide's CustomDense, in C#.</summary>
public sealed class CustomDense : CustomLayer
{
    private readonly int units;
    private Weight? w, b;

    public CustomDense(int units = 32, string? name = null) : base(name) => this.units = units;

    public override void Build(IReadOnlyList<int?> inputShape)
    {
        w = AddWeight("w", new[] { inputShape[^1]!.Value, units }, "random_normal");
        b = AddWeight("b", new[] { units }, "random_normal");
    }

    public override Tensor Call(Tensor inputs, bool training, Tensor? mask) => torch.matmul(inputs, w!) + b!;

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = units;
        return config;
    }
}

/// <summary>The guide's CustomRNN, in C#: held Dense layers and a held functional model, called step by step.</summary>
public sealed class CustomRNN : CustomLayer
{
    private readonly int units;
    private readonly Layer projection1, projection2;
    private readonly Model classifier;

    public CustomRNN(int units, Model classifier)
    {
        this.units = units;
        projection1 = Layers.Dense(units, activation: "tanh");
        projection2 = Layers.Dense(units, activation: "tanh");
        this.classifier = classifier;
    }

    public override Tensor Call(Tensor inputs, bool training, Tensor? mask)
    {
        var outputs = new List<Tensor>();
        var state = torch.zeros(inputs.shape[0], units);
        for (long t = 0; t < inputs.shape[1]; t++)
        {
            var x = inputs.select(1, t);
            var h = CallLayer(projection1, x);
            var y = h + CallLayer(projection2, state);
            state = y;
            outputs.Add(y);
        }
        return CallLayer(classifier, torch.stack(outputs, 1));
    }
}

/// <summary>A C# subclass of the facade's Callback: counts hooks and stops after a set epoch.</summary>
public sealed class CountingCallback : Callback
{
    private readonly int stopAfter;

    public CountingCallback(int stopAfter) => this.stopAfter = stopAfter;

    public int Batches { get; private set; }
    public List<double> Losses { get; } = new();

    public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) => Batches++;

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        Losses.Add(logs["loss"]);
        if (epoch == stopAfter) StopTraining = true;
    }
}

// Seeded training runs share TorchSharp's global generator: the classes of this collection run one after another, so
// that the guide's MNIST run (a threshold on its accuracy) is not fed random numbers drawn by another test.
[Collection("Global random generator")]
public class GuideTests
{
    static GuideTests() => Utils.SetRandomSeed(1337);

    internal static string SharedData(string sub)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                var candidate = Path.Combine(d.FullName, "shared", "data", sub);
                if (Directory.Exists(candidate)) return candidate;
            }
        throw new DirectoryNotFoundException($"shared/data/{sub} not found above the test binary");
    }

    private static Model Mnist()
    {
        var inputs = KerasApi.Input(shape: new[] { 784 });
        var x = Layers.Dense(64, activation: "relu").Call(inputs);
        x = Layers.Dense(64, activation: "relu").Call(x);
        var outputs = Layers.Dense(10).Call(x);
        return new Model(inputs, outputs, name: "mnist_model");
    }

    [Fact]
    public void MnistModelHasTheGuidesSummaryAndTrainsOnTheRealDataToAtLeast96Percent()
    {
        // The same seed, order and settings as examples/MnistCSharp: the run is reproducible whatever ran before.
        Utils.SetRandomSeed(1337);
        var model = Mnist();
        Assert.Contains("Total params: 55,050 (215.04 KB)", model.SummaryText);
        Assert.Equal(55050L, model.CountParams());

        var ((xTrain, yTrain), (xTest, yTest)) = Datasets.Mnist.LoadData(SharedData("mnist"));
        xTrain = xTrain.reshape(60000, 784).to_type(torch.ScalarType.Float32) / 255;
        xTest = xTest.reshape(10000, 784).to_type(torch.ScalarType.Float32) / 255;
        model.Compile(optimizer: Optimizers.RMSprop(), loss: Losses.SparseCategoricalCrossentropy(fromLogits: true), metrics: new[] { "accuracy" });
        var history = model.Fit(xTrain, yTrain, batchSize: 64, epochs: 2, validationSplit: 0.2, verbose: 0);
        Assert.Equal(2, history["loss"].Count);
        Assert.True(history["loss"][1] < history["loss"][0]);
        var scores = model.Evaluate(xTest, yTest, verbose: 0);
        Assert.True(scores["accuracy"] >= 0.96, $"test accuracy {scores["accuracy"]}");
    }

    private static KerasTensor EncoderLayers(KerasTensor input)
    {
        var x = Layers.Conv2D(16, 3, activation: "relu").Call(input);
        x = Layers.Conv2D(32, 3, activation: "relu").Call(x);
        x = Layers.MaxPooling2D(3).Call(x);
        x = Layers.Conv2D(32, 3, activation: "relu").Call(x);
        x = Layers.Conv2D(16, 3, activation: "relu").Call(x);
        return Layers.GlobalMaxPooling2D().Call(x);
    }

    private static KerasTensor DecoderLayers(KerasTensor input)
    {
        var x = Layers.Reshape(new[] { 4, 4, 1 }).Call(input);
        x = Layers.Conv2DTranspose(16, 3, activation: "relu").Call(x);
        x = Layers.Conv2DTranspose(32, 3, activation: "relu").Call(x);
        x = Layers.UpSampling2D(3).Call(x);
        x = Layers.Conv2DTranspose(16, 3, activation: "relu").Call(x);
        return Layers.Conv2DTranspose(1, 3, activation: "relu").Call(x);
    }

    [Fact]
    public void OneGraphDefinesEncoderAndAutoencoder()
    {
        var encoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "img");
        var encoderOutput = EncoderLayers(encoderInput);
        var encoder = new Model(encoderInput, encoderOutput, name: "encoder");
        var autoencoder = new Model(encoderInput, DecoderLayers(encoderOutput), name: "autoencoder");
        Assert.Equal(18672L, encoder.CountParams());
        Assert.Equal(28241L, autoencoder.CountParams());
        Assert.Contains("Total params: 28,241 (110.32 KB)", autoencoder.SummaryText);
        Assert.Equal(new int?[] { null, 28, 28, 1 }, autoencoder.Outputs[0].Shape);
    }

    [Fact]
    public void ModelsAreCallableLikeLayers()
    {
        var encoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "original_img");
        var encoder = new Model(encoderInput, EncoderLayers(encoderInput), name: "encoder");
        var decoderInput = KerasApi.Input(shape: new[] { 16 }, name: "encoded_img");
        var decoder = new Model(decoderInput, DecoderLayers(decoderInput), name: "decoder");
        var autoencoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "img");
        var autoencoder = new Model(autoencoderInput, decoder.Call(encoder.Call(autoencoderInput)), name: "autoencoder");
        Assert.Equal(18672L, encoder.CountParams());
        Assert.Equal(9569L, decoder.CountParams());
        Assert.Equal(28241L, autoencoder.CountParams());
        Assert.Contains("encoder (Functional)", autoencoder.SummaryText);
        // Nesting shares weights: the autoencoder's encoder is the encoder.
        var image = torch.rand(2, 28, 28, 1);
        Assert.True(torch.allclose(autoencoder.Predict(image), decoder.Predict(encoder.Predict(image)), 1e-5, 1e-6));
    }

    [Fact]
    public void AnEnsembleAveragesNestedModels()
    {
        static Model GetModel()
        {
            var inputs = KerasApi.Input(shape: new[] { 128 });
            return new Model(inputs, Layers.Dense(1).Call(inputs));
        }

        var (model1, model2, model3) = (GetModel(), GetModel(), GetModel());
        var inputs = KerasApi.Input(shape: new[] { 128 });
        var outputs = Layers.AverageTensors(model1.Call(inputs), model2.Call(inputs), model3.Call(inputs));
        var ensemble = new Model(inputs, outputs);
        Assert.Equal(3 * 129L, ensemble.CountParams());
        var x = torch.rand(4, 128);
        var expected = (model1.Predict(x) + model2.Predict(x) + model3.Predict(x)) / 3;
        Assert.True(torch.allclose(ensemble.Predict(x), expected, 1e-5, 1e-6));
    }

    [Fact]
    public void TicketRoutingTrainsWithDictionariesAndLossWeightsByName()
    {
        const int numTags = 12, numWords = 10000, numDepartments = 4;
        var titleInput = KerasApi.Input(shape: new[] { -1 }, dtype: "int64", name: "title");
        var bodyInput = KerasApi.Input(shape: new[] { -1 }, dtype: "int64", name: "body");
        var tagsInput = KerasApi.Input(shape: new[] { numTags }, name: "tags");
        var titleFeatures = Layers.LSTM(128).Call(Layers.Embedding(numWords, 64).Call(titleInput));
        var bodyFeatures = Layers.LSTM(32).Call(Layers.Embedding(numWords, 64).Call(bodyInput));
        var x = Layers.ConcatenateTensors(titleFeatures, bodyFeatures, tagsInput);
        var priority = Layers.Dense(1, name: "priority").Call(x);
        var department = Layers.Dense(numDepartments, name: "department").Call(x);
        var model = new Model(new[] { titleInput, bodyInput, tagsInput }, new Dictionary<string, KerasTensor>
        {
            ["priority"] = priority,
            ["department"] = department,
        });
        Assert.Equal(new[] { "priority", "department" }, model.OutputNames);

        model.Compile(
            optimizer: Optimizers.RMSprop(1e-3),
            losses: new Dictionary<string, Loss>
            {
                ["priority"] = Losses.BinaryCrossentropy(fromLogits: true),
                ["department"] = Losses.CategoricalCrossentropy(fromLogits: true),
            },
            lossWeights: new Dictionary<string, double> { ["priority"] = 1.0, ["department"] = 0.2 });

        const int n = 64;
        var g = new torch.Generator(3);
        var data = new Dictionary<string, Tensor>
        {
            ["title"] = torch.randint(0, numWords, new long[] { n, 10 }, generator: g),
            ["body"] = torch.randint(0, numWords, new long[] { n, 100 }, generator: g),
            ["tags"] = torch.randint(0, 2, new long[] { n, numTags }, generator: g).to_type(torch.ScalarType.Float32),
        };
        var targets = new Dictionary<string, Tensor>
        {
            ["priority"] = torch.rand(new long[] { n, 1 }, generator: g),
            ["department"] = torch.randint(0, 2, new long[] { n, numDepartments }, generator: g).to_type(torch.ScalarType.Float32),
        };
        var history = model.Fit(data, targets, epochs: 2, batchSize: 32, verbose: 0);
        Assert.Equal(2, history["loss"].Count);
        var predictions = model.Predict(data);
        Assert.Equal(new long[] { n, numDepartments }, predictions["department"].shape);
    }

    public static Model ToyResNet()
    {
        var inputs = KerasApi.Input(shape: new[] { 32, 32, 3 }, name: "img");
        var x = Layers.Conv2D(32, 3, activation: "relu").Call(inputs);
        x = Layers.Conv2D(64, 3, activation: "relu").Call(x);
        var block1 = Layers.MaxPooling2D(3).Call(x);
        x = Layers.Conv2D(64, 3, activation: "relu", padding: "same").Call(block1);
        x = Layers.Conv2D(64, 3, activation: "relu", padding: "same").Call(x);
        var block2 = Layers.AddTensors(x, block1);
        x = Layers.Conv2D(64, 3, activation: "relu", padding: "same").Call(block2);
        x = Layers.Conv2D(64, 3, activation: "relu", padding: "same").Call(x);
        var block3 = Layers.AddTensors(x, block2);
        x = Layers.Conv2D(64, 3, activation: "relu").Call(block3);
        x = Layers.GlobalAveragePooling2D().Call(x);
        x = Layers.Dense(256, activation: "relu").Call(x);
        x = Layers.Dropout(0.5).Call(x);
        return new Model(inputs, Layers.Dense(10).Call(x), name: "toy_resnet");
    }

    [Fact]
    public void TheToyResNetHas223242ParametersAndTrains()
    {
        var model = ToyResNet();
        Assert.Equal(223242L, model.CountParams());
        Assert.Contains("Total params: 223,242 (872.04 KB)", model.SummaryText);
        Assert.Contains("Connected to", model.SummaryText);
        var g = new torch.Generator(5);
        var x = torch.rand(new long[] { 64, 32, 32, 3 }, generator: g);
        var y = Utils.ToCategorical(torch.randint(0, 10, new long[] { 64 }, generator: g), 10);
        model.Compile(Optimizers.RMSprop(1e-3), Losses.CategoricalCrossentropy(fromLogits: true), new[] { "accuracy" });
        var history = model.Fit(x, y, batchSize: 64, epochs: 1, validationSplit: 0.2, verbose: 0);
        Assert.True(double.IsFinite(history["loss"][0]));
    }

    [Fact]
    public void SharedLayersShareWeights()
    {
        var sharedEmbedding = Layers.Embedding(1000, 128);
        var textA = KerasApi.Input(shape: new[] { -1 }, dtype: "int32");
        var textB = KerasApi.Input(shape: new[] { -1 }, dtype: "int32");
        var model = new Model(new[] { textA, textB }, new[] { sharedEmbedding.Call(textA), sharedEmbedding.Call(textB) });
        Assert.Equal(128000L, model.CountParams());
        var tokens = torch.tensor(new long[] { 1, 2, 3 }).reshape(1, 3).to_type(torch.ScalarType.Int32);
        var outs = model.PredictMany(new[] { tokens, tokens });
        Assert.True(torch.allclose(outs[0], outs[1]));
    }

    [Fact]
    public void Vgg19FeatureExtractionFromLayerOutputs()
    {
        var vgg19 = Applications.VGG19(includeTop: false, inputShape: new[] { 32, 32, 3 });
        var featuresList = vgg19.Layers.Select(layer => layer.Output).ToArray();
        var featExtraction = new Model(vgg19.Inputs[0], featuresList);
        Assert.Equal(vgg19.Layers.Count, featExtraction.Outputs.Count);
        var features = featExtraction.PredictMany(new[] { torch.rand(1, 32, 32, 3) });
        Assert.Equal(new long[] { 1, 32, 32, 64 }, features[1].shape);
        Assert.Equal(new long[] { 1, 1, 1, 512 }, features[^1].shape);
        Assert.Equal(20024384L, vgg19.CountParams());
    }

    [Fact]
    public void CustomDenseWrittenInCSharpHas50ParamsTrainsAndRoundTripsItsConfig()
    {
        var inputs = KerasApi.Input(shape: new[] { 4 });
        var outputs = new CustomDense(10).Call(inputs);
        var model = new Model(inputs, outputs);
        Assert.Equal(50L, model.CountParams());
        Assert.Contains("custom_dense (CustomDense)", model.SummaryText);

        var g = new torch.Generator(11);
        var x = torch.randn(new long[] { 64, 4 }, generator: g);
        var y = x.sum(1, keepdim: true).expand(64, 10).contiguous();
        model.Compile("adam", "mse");
        var before = model.Evaluate(x, y, verbose: 0)["loss"];
        model.Fit(x, y, epochs: 20, batchSize: 16, verbose: 0);
        Assert.True(model.Evaluate(x, y, verbose: 0)["loss"] < before);

        var config = model.GetConfig();
        var restored = Model.FromConfig(config, new Dictionary<string, Func<JsonObject, Layer>>
        {
            ["CustomDense"] = c => new CustomDense((int)c["units"]!),
        });
        Assert.Equal(50L, restored.CountParams());
        Assert.Equal(config.ToJsonString(), restored.GetConfig().ToJsonString());
        restored.SetWeights(model.GetWeights());
        Assert.True(torch.allclose(model.Predict(x), restored.Predict(x), 1e-5, 1e-6));
    }

    [Fact]
    public void MixAndMatchACustomRnnAroundAFunctionalModelAndAFunctionalModelAroundIt()
    {
        const int units = 32, timesteps = 10, inputDim = 5;
        var inputs = KerasApi.Input(shape: new[] { -1, units });
        var classifier = new Model(inputs, Layers.Dense(1).Call(Layers.GlobalAveragePooling1D().Call(inputs)));

        var rnn = new CustomRNN(units, classifier);
        var y = rnn.Call(torch.zeros(1, timesteps, inputDim));
        Assert.Equal(new long[] { 1, 1 }, y.shape);
        // projection_1 (5 → 32), projection_2 (32 → 32) and the classifier's Dense (32 → 1).
        Assert.Equal((inputDim * units + units) + (units * units + units) + (units + 1), rnn.CountParams());

        // A functional model around the custom layer, with a static batch size.
        const int batchSize = 16;
        var seq = KerasApi.Input(batchShape: new[] { batchSize, timesteps, inputDim });
        var x = Layers.Conv1D(32, 3).Call(seq);
        var features = KerasApi.Input(shape: new[] { -1, units });
        var perStep = new Model(features, Layers.Dense(1).Call(features));
        var model = new Model(seq, new CustomRNN(units, perStep).Call(x));
        var output = model.Predict(torch.zeros(batchSize, timesteps, inputDim), batchSize: batchSize);
        Assert.Equal(new long[] { batchSize, timesteps - 2, 1 }, output.shape);
    }

    [Fact]
    public void CSharpCallbackSubclassesAndBuiltInsRunInFit()
    {
        var model = Mnist();
        var g = new torch.Generator(7);
        var x = torch.randn(new long[] { 200, 784 }, generator: g);
        var y = x.narrow(1, 0, 10).argmax(1);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        var counting = new CountingCallback(stopAfter: 1);
        var rates = new List<double>();
        var history = model.Fit(x, y, batchSize: 50, epochs: 5, verbose: 0, callbacks: new[]
        {
            counting,
            Callbacks.LearningRateScheduler((epoch, rate) => epoch == 0 ? rate : rate / 2),
            Callbacks.LambdaCallback(onEpochBegin: _ => { }),
            Callbacks.TerminateOnNaN(),
        });
        Assert.Equal(2, history.Epoch.Count);
        Assert.Equal(8, counting.Batches);
        Assert.Equal(history["loss"], counting.Losses);
    }

    [Fact]
    public void FitStopsWithOperationCanceledExceptionWhenTheTokenIsCancelled()
    {
        var model = Mnist();
        var x = torch.randn(100, 784);
        var y = torch.zeros(new long[] { 100 }, torch.ScalarType.Int64);
        model.Compile("sgd", "sparse_categorical_crossentropy");
        using var cts = new System.Threading.CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => model.Fit(x, y, epochs: 3, verbose: 0, cancellationToken: cts.Token));
    }

    [Fact]
    public void ErrorsCarryAKindAndPascalCaseProperties()
    {
        var dense = Layers.Dense(64);
        dense.Call(KerasApi.Input(shape: new[] { 784 }));
        var e = Assert.Throws<global::Keras.KerasException>(() => dense.Call(KerasApi.Input(shape: new[] { 32 })));
        Assert.Equal(global::Keras.KerasErrorKind.IncompatibleInput, e.Kind);
        Assert.Equal(dense.Name, e.Layer);
        Assert.Contains("784", e.Expected);
        Assert.Throws<ArgumentException>(() => KerasApi.Input(shape: new[] { 3 }, dtype: "float33"));
        var unknown = Assert.Throws<global::Keras.KerasException>(() => Mnist().GetLayer("nope"));
        Assert.Equal(global::Keras.KerasErrorKind.UnknownName, unknown.Kind);
        Assert.Equal("nope", unknown.Argument);
    }

    [Fact]
    public void EveryLayerFamilyBuildsFromTheFacade()
    {
        var image = KerasApi.Input(shape: new[] { 8, 8, 3 });
        Assert.Equal(new int?[] { null, 8, 8, 4 }, Layers.SeparableConv2D(4, 3, padding: "same").Call(image).Shape);
        Assert.Equal(new int?[] { null, 8, 8, 3 }, Layers.DepthwiseConv2D(3, padding: "same").Call(image).Shape);
        Assert.Equal(new int?[] { null, 10, 10, 3 }, Layers.ZeroPadding2D(1).Call(image).Shape);
        Assert.Equal(new int?[] { null, 6, 4, 3 }, Layers.Cropping2D(((1, 1), (2, 2))).Call(image).Shape);
        Assert.Equal(new int?[] { null, 4, 4, 3 }, Layers.AveragePooling2D((2, 2)).Call(image).Shape);
        Assert.Equal(new int?[] { null, 8, 8, 3 }, Layers.GroupNormalization(groups: 3).Call(image).Shape);
        var seq = KerasApi.Input(shape: new[] { 5, 6 });
        Assert.Equal(new int?[] { null, 5, 6 }, Layers.MultiHeadAttention(2, 3).Call(seq, seq).Shape);
        Assert.Equal(new int?[] { null, 3, 6 }, Layers.RepeatVector(3).Call(KerasApi.Input(shape: new[] { 6 })).Shape);
        Assert.Equal(new int?[] { null, 6, 5 }, Layers.Permute(new[] { 2, 1 }).Call(seq).Shape);
        var dense = Layers.Dense(3, kernelInitializer: Initializers.Zeros(), kernelRegularizer: Regularizers.L2(1e-3), kernelConstraint: "non_neg");
        Assert.Equal(new long[] { 2, 3 }, dense.Call(torch.ones(2, 4)).shape);
        Assert.Equal(0f, dense.GetWeights()[0].abs().sum().item<float>());
    }
}
