// The Keras guide "The Functional API", section by section, as a C# top-level-statements program over the facade.
// Usage: FunctionalGuide [section ...]; sections: mnist, autoencoder, nested, ensemble, tickets, resnet, shared, vgg19,
// custom, rnn, subclassed, cells (all but mnist by default; mnist reads ../shared/data/mnist or Keras's cache).
// `using Keras.CSharp;` alone brings every facade type; the core's exception is `Keras.KerasException`.
using System.Text.Json.Nodes;
using Keras.CSharp;
using TorchSharp;
using Tensor = TorchSharp.torch.Tensor;

KerasApi.LoadNativeLibraries(); // only needed because TorchSharp is called before any facade type below
Utils.SetRandomSeed(1337);
var sections = args.Length > 0 ? args : new[] { "autoencoder", "nested", "ensemble", "tickets", "resnet", "shared", "vgg19", "custom", "rnn", "subclassed", "cells" };

try
{
    foreach (var section in sections)
    {
        Console.WriteLine($"== {section}");
        switch (section)
        {
            case "mnist": Sections.Mnist(); break;
            case "autoencoder": Sections.Autoencoder(); break;
            case "nested": Sections.Nested(); break;
            case "ensemble": Sections.Ensemble(); break;
            case "tickets": Sections.Tickets(); break;
            case "resnet": Sections.ToyResNet(); break;
            case "shared": Sections.SharedLayers(); break;
            case "vgg19": Sections.Vgg19(); break;
            case "custom": Sections.Custom(); break;
            case "rnn": Sections.MixAndMatch(); break;
            case "subclassed": Sections.Subclassed(); break;
            case "cells": Sections.Cells(); break;
            default: Console.Error.WriteLine($"unknown section {section}"); return 2;
        }
    }
    return 0;
}
catch (Keras.KerasException e) when (e.Kind == Keras.KerasErrorKind.IncompatibleInput)
{
    Console.Error.WriteLine($"Layer {e.Layer}: {e.Expected}");
    return 1;
}

static class Sections
{
    public static void Mnist()
    {
        var inputs = KerasApi.Input(shape: new[] { 784 });
        var x = Layers.Dense(64, activation: "relu").Call(inputs);
        x = Layers.Dense(64, activation: "relu").Call(x);
        var model = new Model(inputs, Layers.Dense(10).Call(x), name: "mnist_model");
        model.Summary();
        var data = Path.GetFullPath(Path.Combine("..", "shared", "data", "mnist"));
        var ((xTrain, yTrain), (xTest, yTest)) = Datasets.Mnist.LoadData(Directory.Exists(data) ? data : null);
        xTrain = xTrain.reshape(60000, 784).to_type(torch.ScalarType.Float32) / 255;
        xTest = xTest.reshape(10000, 784).to_type(torch.ScalarType.Float32) / 255;
        model.Compile(Optimizers.RMSprop(), Losses.SparseCategoricalCrossentropy(fromLogits: true), new[] { "accuracy" });
        model.Fit(xTrain, yTrain, batchSize: 64, epochs: 2, validationSplit: 0.2);
        var scores = model.Evaluate(xTest, yTest, verbose: 2);
        Console.WriteLine($"Test loss: {scores["loss"]:F4}, test accuracy: {scores["accuracy"]:F4}");
    }

    static KerasTensor Encode(KerasTensor input)
    {
        var x = Layers.Conv2D(16, 3, activation: "relu").Call(input);
        x = Layers.Conv2D(32, 3, activation: "relu").Call(x);
        x = Layers.MaxPooling2D(3).Call(x);
        x = Layers.Conv2D(32, 3, activation: "relu").Call(x);
        x = Layers.Conv2D(16, 3, activation: "relu").Call(x);
        return Layers.GlobalMaxPooling2D().Call(x);
    }

    static KerasTensor Decode(KerasTensor input)
    {
        var x = Layers.Reshape(new[] { 4, 4, 1 }).Call(input);
        x = Layers.Conv2DTranspose(16, 3, activation: "relu").Call(x);
        x = Layers.Conv2DTranspose(32, 3, activation: "relu").Call(x);
        x = Layers.UpSampling2D(3).Call(x);
        x = Layers.Conv2DTranspose(16, 3, activation: "relu").Call(x);
        return Layers.Conv2DTranspose(1, 3, activation: "relu").Call(x);
    }

    public static void Autoencoder()
    {
        var encoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "img");
        var encoderOutput = Encode(encoderInput);
        new Model(encoderInput, encoderOutput, name: "encoder").Summary();
        new Model(encoderInput, Decode(encoderOutput), name: "autoencoder").Summary();
    }

    public static void Nested()
    {
        var encoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "original_img");
        var encoder = new Model(encoderInput, Encode(encoderInput), name: "encoder");
        var decoderInput = KerasApi.Input(shape: new[] { 16 }, name: "encoded_img");
        var decoder = new Model(decoderInput, Decode(decoderInput), name: "decoder");
        encoder.Summary();
        decoder.Summary();
        var autoencoderInput = KerasApi.Input(shape: new[] { 28, 28, 1 }, name: "img");
        new Model(autoencoderInput, decoder.Call(encoder.Call(autoencoderInput)), name: "autoencoder").Summary();
    }

    public static void Ensemble()
    {
        static Model GetModel()
        {
            var inputs = KerasApi.Input(shape: new[] { 128 });
            return new Model(inputs, Layers.Dense(1).Call(inputs));
        }

        var models = new[] { GetModel(), GetModel(), GetModel() };
        var inputs = KerasApi.Input(shape: new[] { 128 });
        var ensemble = new Model(inputs, Layers.AverageTensors(models.Select(m => m.Call(inputs)).ToArray()));
        Console.WriteLine($"ensemble params: {ensemble.CountParams():N0}");
    }

    public static void Tickets()
    {
        const int numTags = 12, numWords = 10000, numDepartments = 4;
        var title = KerasApi.Input(shape: new[] { -1 }, dtype: "int64", name: "title");
        var body = KerasApi.Input(shape: new[] { -1 }, dtype: "int64", name: "body");
        var tags = KerasApi.Input(shape: new[] { numTags }, name: "tags");
        var x = Layers.ConcatenateTensors(
            Layers.LSTM(128).Call(Layers.Embedding(numWords, 64).Call(title)),
            Layers.LSTM(32).Call(Layers.Embedding(numWords, 64).Call(body)),
            tags);
        var model = new Model(new[] { title, body, tags }, new Dictionary<string, KerasTensor>
        {
            ["priority"] = Layers.Dense(1, name: "priority").Call(x),
            ["department"] = Layers.Dense(numDepartments, name: "department").Call(x),
        }, name: "ticket_routing");
        model.Summary();
        model.Compile(Optimizers.RMSprop(1e-3),
            losses: new Dictionary<string, Loss>
            {
                ["priority"] = Losses.BinaryCrossentropy(fromLogits: true),
                ["department"] = Losses.CategoricalCrossentropy(fromLogits: true),
            },
            lossWeights: new Dictionary<string, double> { ["priority"] = 1.0, ["department"] = 0.2 });
        const int n = 1280;
        var inputs = new Dictionary<string, Tensor>
        {
            ["title"] = torch.randint(0, numWords, new long[] { n, 10 }),
            ["body"] = torch.randint(0, numWords, new long[] { n, 100 }),
            ["tags"] = torch.randint(0, 2, new long[] { n, numTags }).to_type(torch.ScalarType.Float32),
        };
        var targets = new Dictionary<string, Tensor>
        {
            ["priority"] = torch.rand(n, 1),
            ["department"] = torch.randint(0, 2, new long[] { n, numDepartments }).to_type(torch.ScalarType.Float32),
        };
        model.Fit(inputs, targets, epochs: 2, batchSize: 32);
    }

    public static void ToyResNet()
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
        var model = new Model(inputs, Layers.Dense(10).Call(x), name: "toy_resnet");
        model.Summary();
    }

    public static void SharedLayers()
    {
        var sharedEmbedding = Layers.Embedding(1000, 128);
        var textA = KerasApi.Input(shape: new[] { -1 }, dtype: "int32");
        var textB = KerasApi.Input(shape: new[] { -1 }, dtype: "int32");
        var model = new Model(new[] { textA, textB }, new[] { sharedEmbedding.Call(textA), sharedEmbedding.Call(textB) });
        Console.WriteLine($"shared embedding: {model.CountParams():N0} parameters for two inputs");
    }

    public static void Vgg19()
    {
        var vgg19 = Applications.VGG19(includeTop: false, inputShape: new[] { 64, 64, 3 });
        var featExtraction = new Model(vgg19.Inputs[0], vgg19.Layers.Select(layer => layer.Output).ToArray());
        var features = featExtraction.PredictMany(new[] { torch.rand(1, 64, 64, 3) });
        Console.WriteLine($"{features.Count} feature maps; the last: ({string.Join(", ", features[^1].shape)})");
    }

    public static void Custom()
    {
        var inputs = KerasApi.Input(shape: new[] { 4 });
        var model = new Model(inputs, new CustomDense(10).Call(inputs));
        model.Summary();
        var config = model.GetConfig();
        var newModel = Model.FromConfig(config, new Dictionary<string, Func<JsonObject, Layer>>
        {
            ["CustomDense"] = c => new CustomDense((int)c["units"]!),
        });
        Console.WriteLine($"from_config: {newModel.CountParams()} parameters");
    }

    public static void MixAndMatch()
    {
        const int units = 32, timesteps = 10, inputDim = 5;
        var features = KerasApi.Input(shape: new[] { -1, units });
        var classifier = new Model(features, Layers.Dense(1).Call(Layers.GlobalAveragePooling1D().Call(features)));
        var rnn = new CustomRNN(units, classifier);
        Console.WriteLine($"custom RNN over a functional model: ({string.Join(", ", rnn.Call(torch.zeros(1, timesteps, inputDim)).shape)})");

        const int batchSize = 16;
        var inputs = KerasApi.Input(batchShape: new[] { batchSize, timesteps, inputDim });
        var x = Layers.Conv1D(32, 3).Call(inputs);
        var perStep = KerasApi.Input(shape: new[] { -1, units });
        var model = new Model(inputs, new CustomRNN(units, new Model(perStep, Layers.Dense(1).Call(perStep))).Call(x));
        model.Summary();
    }

    /// <summary>The guide's subclassed MLP: built by its first call, trained, saved and loaded (registered), and called
    /// inside a functional model.</summary>
    public static void Subclassed()
    {
        SubclassedModel.Register("MLP", c => new MLP((string?)c["name"]));
        var mlp = new MLP();
        _ = mlp.Call(torch.zeros(1, 32)); // the model has no state until it is called once, as in Keras
        mlp.Summary();

        var g = new torch.Generator(7);
        var x = torch.randn(new long[] { 256, 32 }, generator: g);
        var y = x.narrow(1, 0, 10).argmax(1);
        mlp.Compile(Optimizers.Adam(1e-2), Losses.SparseCategoricalCrossentropy(fromLogits: true), new[] { "accuracy" });
        var history = mlp.Fit(x, y, batchSize: 32, epochs: 5, verbose: 0);
        Console.WriteLine($"loss {history["loss"][0]:F4} -> {history["loss"][^1]:F4}, accuracy {history["accuracy"][^1]:F4}");

        var path = Path.Combine(Path.GetTempPath(), "mlp.keras");
        mlp.Save(path);
        var loaded = (MLP)KerasApi.LoadModel(path);
        Console.WriteLine($"loaded {loaded}; largest difference {(loaded.Predict(x) - mlp.Predict(x)).abs().max().item<float>()}");
        File.Delete(path);

        var inputs = KerasApi.Input(shape: new[] { 32 });
        var model = new Model(inputs, Layers.Softmax().Call(mlp.Call(inputs)), name: "mlp_with_softmax");
        model.Summary();
    }

    /// <summary>A recurrent cell written in C# (Keras's MinimalRNNCell) driven by RNN: SimpleRNN's step, so with
    /// SimpleRNN's weights it computes what SimpleRNN does.</summary>
    public static void Cells()
    {
        CustomLayer.Register("MinimalRNNCell", c => new MinimalRNNCell((int)c["units"]!));
        var inputs = KerasApi.Input(shape: new[] { -1, 5 });
        var rnn = Layers.RNN(new MinimalRNNCell(8));
        var model = new Model(inputs, Layers.Dense(1).Call(rnn.Call(inputs)), name: "minimal_rnn_model");
        model.Summary();

        var g = new torch.Generator(11);
        var x = torch.randn(new long[] { 128, 6, 5 }, generator: g);
        var simple = Layers.SimpleRNN(8);
        var expected = simple.Call(x);
        rnn.SetWeights(simple.GetWeights().ToArray());
        Console.WriteLine($"RNN(MinimalRNNCell) vs SimpleRNN, same weights: largest difference {(rnn.Call(x) - expected).abs().max().item<float>()}");

        var y = x.select(2, 0).mean(new long[] { 1 }, keepdim: true);
        model.Compile(Optimizers.Adam(1e-2), "mse");
        var history = model.Fit(x, y, batchSize: 32, epochs: 10, verbose: 0);
        Console.WriteLine($"loss {history["loss"][0]:F4} -> {history["loss"][^1]:F4}");

        var path = Path.Combine(Path.GetTempPath(), "minimal_rnn.keras");
        model.Save(path);
        var loaded = KerasApi.LoadModel(path);
        Console.WriteLine($"loaded: largest difference {(loaded.Predict(x) - model.Predict(x)).abs().max().item<float>()}");
        File.Delete(path);
    }
}

/// <summary>The guide's subclassed MLP: layers created in the constructor, the computation in Call.</summary>
sealed class MLP : SubclassedModel
{
    private readonly Layer dense1, dense2;

    public MLP(string? name = null) : base(name)
    {
        dense1 = Layers.Dense(64, activation: "relu");
        dense2 = Layers.Dense(10);
    }

    public override Tensor Call(Tensor inputs, bool training, Tensor? mask) => CallLayer(dense2, CallLayer(dense1, inputs));
}

/// <summary>Keras's MinimalRNNCell with a bias: h = tanh(x·kernel + h·recurrent_kernel + bias).</summary>
sealed class MinimalRNNCell : RecurrentCell
{
    private readonly int units;
    private Weight? kernel, recurrentKernel, bias;

    public MinimalRNNCell(int units) => this.units = units;

    public override IReadOnlyList<int> StateSize => new[] { units };

    public override void Build(IReadOnlyList<int?> inputShape)
    {
        kernel = AddWeight("kernel", new[] { inputShape[^1]!.Value, units });
        recurrentKernel = AddWeight("recurrent_kernel", new[] { units, units }, Initializers.Orthogonal());
        bias = AddWeight("bias", new[] { units }, Initializers.Zeros());
    }

    public override (Tensor Output, IReadOnlyList<Tensor> States) Call(Tensor inputs, IReadOnlyList<Tensor> states, bool training)
    {
        var h = (torch.matmul(inputs, kernel!) + torch.matmul(states[0], recurrentKernel!) + bias!).tanh();
        return (h, new[] { h });
    }

    public override JsonObject GetConfig()
    {
        var config = base.GetConfig();
        config["units"] = units;
        return config;
    }
}

/// <summary>The guide's CustomDense.</summary>
sealed class CustomDense : CustomLayer
{
    private readonly int units;
    private Weight? w, b;

    public CustomDense(int units = 32) => this.units = units;

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

/// <summary>The guide's CustomRNN: two Dense projections stepped over time, then a classifier.</summary>
sealed class CustomRNN : CustomLayer
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
            var y = CallLayer(projection1, inputs.select(1, t)) + CallLayer(projection2, state);
            state = y;
            outputs.Add(y);
        }
        return CallLayer(classifier, torch.stack(outputs, 1));
    }
}
