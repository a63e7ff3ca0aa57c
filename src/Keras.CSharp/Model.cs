using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>
/// A functional model: the graph from its inputs to its outputs, Keras-style. <see cref="Compile"/> keeps the training
/// configuration inside the model, so <see cref="Fit"/> and <see cref="Evaluate"/> follow it as in Keras. For Keras's
/// model subclassing, derive from <see cref="SubclassedModel"/>.
/// </summary>
public class Model
{
    private Fs.Model? core;
    private Fs.CompiledModel? compiled;
    private Func<Fs.CompiledModel>? pendingCompile;

    internal Model(Fs.Model core) => this.core = core;

    internal Model(Fs.Model core, Fs.CompiledModel? compiled)
    {
        this.core = core;
        this.compiled = compiled;
    }

    /// <summary>For <see cref="SubclassedModel"/>, whose core model is made when its input shape is known.</summary>
    private protected Model() { }

    /// <summary>Whether the model was compiled (by <see cref="Compile"/>, or by <see cref="KerasApi.LoadModel"/> from a
    /// file saved after compiling).</summary>
    public bool IsCompiled => compiled is not null || pendingCompile is not null;

    /// <summary>The model of the core, or the wrapper of a model loaded from a file: the user's
    /// <see cref="SubclassedModel"/> instance when the file holds a registered subclassed model made by its factory.</summary>
    internal static Model Of(Fs.Model core, Fs.CompiledModel? compiled = null) =>
        SubclassedModel.Adopting(core, compiled) ?? new Model(core, compiled);

    /// <summary>Makes the core model of a model defined by a subclass (when its input shape is known).</summary>
    private protected virtual Fs.Model CreateCore() => throw new InvalidOperationException("This model has no definition.");

    /// <summary>Whether <see cref="CreateCore"/> can make the core model now.</summary>
    private protected virtual bool CanCreateCore => false;

    /// <summary>Builds a subclassed model from the first data it is given (Keras builds on the first batch).</summary>
    private protected virtual void BuildFor(Data x) { }

    /// <summary>Whether the core model exists.</summary>
    internal bool HasCore => core is not null;

    /// <summary>Takes the core model (and compiled state) a file was loaded into.</summary>
    internal void Adopt(Fs.Model model, Fs.CompiledModel? compiledModel)
    {
        core = model;
        compiled = compiledModel;
        pendingCompile = null;
    }

    /// <summary>The layer other graphs call when this model is called on symbolic tensors or held by a custom layer.</summary>
    internal virtual Fs.Layer LayerCore => Core.AsLayer;

    /// <summary>A model with one input and one output.</summary>
    /// <param name="input">The input, from <see cref="KerasApi.Input"/>.</param>
    /// <param name="output">The output tensor.</param>
    /// <param name="name">The model's name; "functional", "functional_1", ... by default.</param>
    /// <exception cref="Fs.KerasException">When the graph is invalid (Keras's message).</exception>
    public Model(KerasTensor input, KerasTensor output, string? name = null)
        : this(Fs.Keras.Model(input.Core, output.Core, Fx.Ref(name))) { }

    /// <summary>A model with several inputs and one output.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <param name="output">The output tensor.</param>
    /// <param name="name">The model's name.</param>
    public Model(IReadOnlyList<KerasTensor> inputs, KerasTensor output, string? name = null)
        : this(Fs.Keras.Model(KerasTensor.Cores(inputs), output.Core, Fx.Ref(name))) { }

    /// <summary>A model with one input and a list of outputs.</summary>
    /// <param name="input">The input.</param>
    /// <param name="outputs">The outputs, in order.</param>
    /// <param name="name">The model's name.</param>
    public Model(KerasTensor input, IReadOnlyList<KerasTensor> outputs, string? name = null)
        : this(Fs.Keras.Model(input.Core, KerasTensor.Cores(outputs), Fx.Ref(name))) { }

    /// <summary>A model with several inputs and a list of outputs.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <param name="outputs">The outputs, in order.</param>
    /// <param name="name">The model's name.</param>
    public Model(IReadOnlyList<KerasTensor> inputs, IReadOnlyList<KerasTensor> outputs, string? name = null)
        : this(Fs.Keras.Model(KerasTensor.Cores(inputs), KerasTensor.Cores(outputs), Fx.Ref(name))) { }

    /// <summary>A model whose outputs are named (Keras's dict of outputs), in the dictionary's order; losses, loss
    /// weights, targets and predictions are then keyed by these names.</summary>
    /// <param name="inputs">The inputs, in order.</param>
    /// <param name="outputs">The outputs by name.</param>
    /// <param name="name">The model's name.</param>
    public Model(IReadOnlyList<KerasTensor> inputs, IReadOnlyDictionary<string, KerasTensor> outputs, string? name = null)
        : this(Fs.Keras.Model(KerasTensor.Cores(inputs), Fx.Pairs(outputs, t => t.Core), Fx.Ref(name))) { }

    /// <summary>The core's model.</summary>
    internal Fs.Model Core => core ??= CreateCore();

    /// <summary>Copies of every weight, in Keras's order (Keras's <c>model.get_weights()</c>).</summary>
    public IReadOnlyList<Tensor> GetWeights() => Fs.LayerModule.getWeights(Core.AsLayer).ToArray();

    /// <summary>Sets every weight from values in Keras's order (Keras's <c>model.set_weights()</c>).</summary>
    /// <param name="weights">One tensor per weight.</param>
    /// <exception cref="Fs.KerasException">When the count or a shape differs.</exception>
    public void SetWeights(IEnumerable<Tensor> weights) => Fs.LayerModule.setWeights(Core.AsLayer, Fx.List(weights));

    /// <summary>Runs the model eagerly on a tensor (Keras's <c>model(x)</c>), building its weights if needed.</summary>
    /// <param name="input">The input, samples first.</param>
    /// <param name="training">Training behaviour (Dropout drops, BatchNormalization uses batch statistics).</param>
    /// <returns>The first output.</returns>
    public Tensor Call(Tensor input, bool training = false)
    {
        BuildFor(input);
        return Fs.ModelModule.callEager(Core, training, Fx.List(new[] { input })).Head;
    }

    /// <summary>Keras 3's functional config (<c>model.get_config()</c>) as JSON; a <see cref="SubclassedModel"/>
    /// gives its own config.</summary>
    public virtual System.Text.Json.Nodes.JsonObject GetConfig() => Fs.ModelConfigExtensions.ModelModule.getConfig(Core);

    /// <summary>Rebuilds a model from <see cref="GetConfig"/> with fresh weights (Keras's <c>Model.from_config</c>); custom
    /// layers are found in <paramref name="customObjects"/>, then among those registered with <see cref="CustomLayer.Register"/>.</summary>
    /// <param name="config">The config.</param>
    /// <param name="customObjects">Factories of custom layer classes by class name (Keras's <c>custom_objects</c>),
    /// looked up before the registered ones.</param>
    /// <exception cref="Fs.KerasException">For an unknown class or a malformed config.</exception>
    public static Model FromConfig(System.Text.Json.Nodes.JsonObject config,
        IReadOnlyDictionary<string, Func<System.Text.Json.Nodes.JsonObject, Layer>>? customObjects = null) =>
        Of(Fs.ModelConfigExtensions.ModelModule.fromConfig(config, CustomObjectsOf(customObjects)));

    /// <summary>The core's custom objects from factories of custom layer classes by class or registered name.</summary>
    internal static IDictionary<string, Fs.CustomObject> CustomObjectsOf(
        IReadOnlyDictionary<string, Func<System.Text.Json.Nodes.JsonObject, Layer>>? customObjects) =>
        customObjects is null
            ? Fs.CustomObjects.none
            : customObjects.ToDictionary(kv => kv.Key,
                kv => Fs.CustomObject.NewLayerClass(FuncConvert.FromFunc<System.Text.Json.Nodes.JsonObject, Fs.Layer>(c => kv.Value(c).Core)));

    /// <summary>The model's name.</summary>
    public string Name => core?.Name ?? LayerCore.Name;

    /// <summary>The symbolic inputs.</summary>
    public IReadOnlyList<KerasTensor> Inputs => KerasTensor.Wrap(Core.Inputs);

    /// <summary>The symbolic outputs.</summary>
    public IReadOnlyList<KerasTensor> Outputs => KerasTensor.Wrap(Core.Outputs);

    /// <summary>The names of the inputs (their input layers' names): the keys of named input data.</summary>
    public IReadOnlyList<string> InputNames => Fs.ModelModule.inputNames(Core).ToArray();

    /// <summary>The names of the outputs (dict keys, or the names of the layers producing them): the keys of named targets.</summary>
    public IReadOnlyList<string> OutputNames => Fs.ModelModule.outputNames(Core).ToArray();

    /// <summary>The layers in Keras's order, input layers included (Keras's <c>model.layers</c>).</summary>
    public IReadOnlyList<Layer> Layers => Core.Layers.Select(l => new Layer(l)).ToArray();

    /// <summary>The layer with this name.</summary>
    /// <param name="name">The layer's name.</param>
    /// <exception cref="Fs.KerasException">When the model has no such layer.</exception>
    public Layer GetLayer(string name) => new(Fs.ModelModule.getLayer(Core, name));

    /// <summary>Number of scalars in all weights (Keras's <c>count_params</c>).</summary>
    public long CountParams() => Fs.ModelModule.countParams(Core);

    /// <summary>
    /// Keras's <c>model.trainable</c>. Setting it false freezes every layer of the model, nested models included (the
    /// transfer-learning recipe: freeze a pretrained base, train a new head, then unfreeze and fine-tune with a low learning
    /// rate). As in Keras, the weights <see cref="Fit"/> updates are fixed by <see cref="Compile"/>: compile again after
    /// changing it.
    /// </summary>
    public bool Trainable
    {
        get => Fs.LayerModule.isTrainable(LayerCore);
        set => Fs.LayerModule.setTrainable(value, LayerCore);
    }

    /// <summary>Number of scalars in the weights <see cref="Fit"/> updates (Keras's trainable params of the summary).</summary>
    public long CountTrainableParams() => Fs.Weights.count(Fs.ModelModule.trainableWeights(Core));

    /// <summary>Number of scalars in the weights <see cref="Fit"/> leaves alone (Keras's non-trainable params).</summary>
    public long CountNonTrainableParams() => Fs.Weights.count(Fs.ModelModule.nonTrainableWeights(Core));

    /// <summary>Keras's summary table as text.</summary>
    public string SummaryText => Fs.Summary.renderWith(null, Core);

    /// <summary>Prints Keras's summary table.</summary>
    /// <param name="lineLength">Width of the table; Keras's default when null.</param>
    public void Summary(int? lineLength = null) => Console.Write(Fs.Summary.renderWith(Fx.Val(lineLength), Core));

    /// <summary>Calls the model on a symbolic tensor, like a layer: nests it in another model, sharing its weights.</summary>
    /// <param name="input">The input tensor.</param>
    public KerasTensor Call(KerasTensor input) => new(Fs.LayerModule.call(LayerCore, input.Core));

    /// <summary>Calls the model on several symbolic tensors; one tensor per output.</summary>
    /// <param name="inputs">One tensor per model input.</param>
    public IReadOnlyList<KerasTensor> CallMany(params KerasTensor[] inputs) => KerasTensor.Wrap(Fs.LayerModule.callMany(LayerCore, KerasTensor.Cores(inputs)));

    /// <summary>Predicts in batches, in inference mode; for a model with several outputs, the first (see <see cref="PredictMany"/>).</summary>
    /// <param name="x">The input data, samples first.</param>
    /// <param name="batchSize">Samples per batch.</param>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        BuildFor(x);
        return Fs.ModelModule.predictMany(Core, batchSize, Fx.List(new[] { x })).Head;
    }

    // ---- String inputs (issue 13, text) ----

    /// <summary>Predicts from one string per sample (a model whose input has dtype "string").</summary>
    /// <param name="texts">The strings.</param>
    /// <param name="batchSize">Rows per batch.</param>
    public Tensor Predict(string[] texts, int batchSize = 32) => Predict(Fs.StringTensor.ofArray(texts), batchSize);

    /// <summary>Predicts from rows of strings (an input of shape (None, columns) with dtype "string").</summary>
    /// <param name="texts">The strings.</param>
    /// <param name="batchSize">Rows per batch.</param>
    public Tensor Predict(string[,] texts, int batchSize = 32) => Predict(Fs.StringTensor.ofArray2D(texts), batchSize);

    /// <summary>Predicts from inputs named by their <see cref="KerasApi.Input"/> names; outputs keyed by output name.</summary>
    /// <param name="x">One tensor per input name.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <exception cref="Fs.KerasException">When a name is missing or unknown.</exception>
    public IReadOnlyDictionary<string, Tensor> Predict(IReadOnlyDictionary<string, Tensor> x, int batchSize = 32) =>
        new Dictionary<string, Tensor>(Fs.ModelModule.predictNamed(Core, batchSize, x));

    /// <summary>Predicts from inputs in input order; one tensor per output.</summary>
    /// <param name="x">One tensor per input.</param>
    /// <param name="batchSize">Samples per batch.</param>
    public IReadOnlyList<Tensor> PredictMany(IReadOnlyList<Tensor> x, int batchSize = 32)
    {
        BuildFor(Data.Of(x.ToArray()));
        return Fs.ModelModule.predictMany(Core, batchSize, Fx.List(x)).ToArray();
    }

    /// <summary>
    /// Configures the model for training (Keras's <c>compile</c>); <see cref="Fit"/> and <see cref="Evaluate"/> then use
    /// it. Give <paramref name="loss"/> for every output, or <paramref name="losses"/> by output name.
    /// </summary>
    /// <param name="optimizer">An optimizer from <see cref="Optimizers"/> or a Keras name ("rmsprop", "adam", ...).</param>
    /// <param name="loss">One loss for every output: from <see cref="Losses"/> or a Keras name ("mse", ...).</param>
    /// <param name="metrics">Metrics for every output by Keras name ("accuracy", "mae", "precision", "recall", "auc").</param>
    /// <param name="losses">Losses keyed by output name.</param>
    /// <param name="lossWeights">Loss weights keyed by output name (1.0 for outputs not named).</param>
    /// <param name="outputMetrics">Metrics keyed by output name.</param>
    /// <exception cref="Fs.KerasException">For an unknown name, or a missing loss (Keras's message).</exception>
    public void Compile(Optimizer optimizer, Loss? loss = null, IEnumerable<string>? metrics = null, IReadOnlyDictionary<string, Loss>? losses = null,
        IReadOnlyDictionary<string, double>? lossWeights = null, IReadOnlyDictionary<string, string[]>? outputMetrics = null)
    {
        var metricNames = metrics?.ToArray();
        Fs.CompiledModel Make() =>
            CoreEntryPoints.Compile(Core, optimizer.Core, Fx.Ref(loss?.Core), Fx.Ref(losses is null ? null : Fx.Pairs(losses, l => l.Core)), null,
                Fx.Ref(lossWeights is null ? null : Fx.Pairs(lossWeights, w => w)), null, Fx.Ref(metricNames is null ? null : Fx.List(metricNames)), null,
                Fx.Ref(outputMetrics is null ? null : Fx.Pairs(outputMetrics, names => Fx.List(names.Select(Fs.MetricSpec.NewNamed)))));

        // A subclassed model not yet built compiles at its first Fit or Evaluate, as Keras compiles before building.
        if (core is not null || CanCreateCore)
        {
            compiled = Make();
            pendingCompile = null;
        }
        else
        {
            compiled = null;
            pendingCompile = Make;
        }
    }

    /// <summary>Trains the model in place (Keras's <c>fit</c>), after <see cref="Compile"/>.</summary>
    /// <param name="x">Inputs: a tensor, tensors in input order, or tensors keyed by input name.</param>
    /// <param name="y">Targets: a tensor, tensors in output order, or tensors keyed by output name.</param>
    /// <param name="batchSize">Samples per step.</param>
    /// <param name="epochs">Epochs to train.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch.</param>
    /// <param name="callbacks">Callbacks called during training (see <see cref="Callbacks"/>).</param>
    /// <param name="validationSplit">Fraction of the data (the last samples, before shuffling) held out for validation.</param>
    /// <param name="validationData">Validation inputs and targets, instead of <paramref name="validationSplit"/>.</param>
    /// <param name="shuffle">Shuffle the training samples each epoch.</param>
    /// <param name="classWeight">Weight of each class in the loss.</param>
    /// <param name="sampleWeight">Weight of each sample in the loss.</param>
    /// <param name="initialEpoch">Epoch to start from (for resuming).</param>
    /// <param name="cancellationToken">Cancels training at the next batch boundary.</param>
    /// <returns>Each epoch's loss and metrics.</returns>
    /// <exception cref="InvalidOperationException">Before <see cref="Compile"/>.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    /// <exception cref="Fs.KerasException">When the data does not fit the model (Keras's message).</exception>
    public History Fit(Data x, Data y, int batchSize = 32, int epochs = 1, int verbose = 1, IEnumerable<Callback>? callbacks = null,
        double validationSplit = 0.0, (Data X, Data Y)? validationData = null, bool shuffle = true, IReadOnlyDictionary<int, double>? classWeight = null,
        Tensor? sampleWeight = null, int initialEpoch = 0, System.Threading.CancellationToken cancellationToken = default)
    {
        BuildFor(x);
        return new(Compiled("fit").Fit(x.Core, y.Core, Fx.Some(batchSize), Fx.Some(epochs), Fx.Some(verbose),
            Fx.Some(Fx.List((callbacks ?? Enumerable.Empty<Callback>()).Select(c => c.Core)
                .Concat(cancellationToken.CanBeCanceled ? new Fs.Callback[] { new Fs.CancellationCallback(cancellationToken) } : Array.Empty<Fs.Callback>()))),
            Fx.Some(validationSplit), validationData is { } v ? Fx.Some(Tuple.Create(v.X.Core, v.Y.Core)) : null, Fx.Some(shuffle), Fx.Ref(classWeight),
            Fx.Ref(sampleWeight), Fx.Some(initialEpoch)));
    }

    /// <summary>Loss and metrics on data, in inference mode (Keras's <c>evaluate</c>), after <see cref="Compile"/>.</summary>
    /// <param name="x">Inputs, as for <see cref="Fit"/>.</param>
    /// <param name="y">Targets, as for <see cref="Fit"/>.</param>
    /// <param name="batchSize">Samples per step.</param>
    /// <param name="verbose">0 silent, otherwise one line.</param>
    /// <param name="sampleWeight">Weight of each sample in the loss.</param>
    /// <returns>The values by name: "loss", "accuracy", ...</returns>
    /// <exception cref="InvalidOperationException">Before <see cref="Compile"/>.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(Data x, Data y, int batchSize = 32, int verbose = 1, Tensor? sampleWeight = null)
    {
        BuildFor(x);
        return Compiled("evaluate").Evaluate(x.Core, y.Core, Fx.Some(batchSize), Fx.Some(verbose), Fx.Ref(sampleWeight));
    }

    /// <summary>Writes the weights to a Keras 3 <c>.weights.h5</c> file (Keras's <c>save_weights</c>).</summary>
    /// <param name="path">The file; replaced once the new one is complete.</param>
    public void SaveWeights(string path) => Fs.WeightsFile.saveWeights(Core, path);

    /// <summary>Reads weights from a Keras 3 <c>.weights.h5</c> file, a <c>.keras</c> archive, or a legacy <c>.h5</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="Fs.KerasException">When the file does not fit the model.</exception>
    public void LoadWeights(string path) => Fs.WeightsFile.load(Core, path);

    /// <summary>Saves the whole model (config and weights) as a Keras 3 <c>.keras</c> file (Keras's <c>model.save</c>);
    /// after <see cref="Compile"/> also its <c>compile_config</c> and the optimizer's state.</summary>
    /// <exception cref="Fs.KerasException">When the path does not end in <c>.keras</c> or its folder does not exist.</exception>
    public void Save(string path)
    {
        if (Resolved() is { } c) Fs.KerasFile.saveCompiled(c, path);
        else Fs.KerasFile.saveWith(Core, null, path);
    }

    /// <summary>Keras's <c>model.to_json()</c>.</summary>
    public string ToJson() => Fs.KerasFile.toJson(Core);

    /// <summary>Keras's representation, e.g. <c>&lt;Functional name=mnist_model&gt;</c>.</summary>
    public override string ToString() => Core.ToString();

    /// <summary>The compiled model, compiling now when <see cref="Compile"/> waited for the model to be built.</summary>
    private Fs.CompiledModel? Resolved()
    {
        if (compiled is null && pendingCompile is { } make && (core is not null || CanCreateCore))
        {
            compiled = make();
            pendingCompile = null;
        }
        return compiled;
    }

    private Fs.CompiledModel Compiled(string method) =>
        Resolved() ?? throw new InvalidOperationException($"You must call `compile()` before calling `{method}()`.");
}

/// <summary>Core entry points under names C# can call.</summary>
internal static class CoreEntryPoints
{
    /// <summary>The core's <c>model.Compile(...)</c> (an F# extension member) as its plain static form.</summary>
    internal static Fs.CompiledModel Compile(Fs.Model model, Fs.Optimizer optimizer, FSharpOption<Fs.Loss>? loss,
        FSharpOption<FSharpList<Tuple<string, Fs.Loss>>>? losses, FSharpOption<FSharpList<Fs.Loss>>? lossList,
        FSharpOption<FSharpList<Tuple<string, double>>>? lossWeights, FSharpOption<FSharpList<double>>? lossWeightList,
        FSharpOption<FSharpList<string>>? metrics, FSharpOption<FSharpList<Fs.MetricSpec>>? metricSpecs,
        FSharpOption<FSharpList<Tuple<string, FSharpList<Fs.MetricSpec>>>>? outputMetrics) =>
        Fs.CompileExtensions.compileModel(model, optimizer, loss!, losses!, lossList!, lossWeights!, lossWeightList!, metrics!, metricSpecs!, outputMetrics!);
}
