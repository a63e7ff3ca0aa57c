using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Core;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>
/// Base class of subclassed models written in C# (Keras's <c>class MLP(keras.Model)</c>): create the layers in the
/// constructor and keep them in fields, override <see cref="Call(Tensor, bool, Tensor)"/> to run them with
/// <see cref="CallLayer(Layer, Tensor)"/> (and optionally <see cref="Build"/> with <see cref="AddWeight"/>, and
/// <see cref="GetConfig"/> for the constructor's arguments). The model is built on its first call or its first data (a
/// symbolic tensor, an eager call, <c>Fit</c>, <c>Evaluate</c> or <c>Predict</c>); then everything a model does works:
/// <c>Compile</c> (before or after building), <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>, <c>Summary</c>,
/// <c>CountParams</c>, <c>GetWeights</c>/<c>SetWeights</c>, <c>Save</c>, and calls on symbolic tensors inside a
/// functional model, where it appears as one layer. <see cref="KerasApi.LoadModel"/> gives back an instance of the class
/// when it is registered with <see cref="Register{TModel}"/> (as Keras needs the class registered to load a subclassed
/// model); otherwise loading fails with a message naming the class.
/// </summary>
/// <example><code>
/// class MLP : SubclassedModel
/// {
///     private readonly Layer dense1 = Layers.Dense(64, activation: "relu");
///     private readonly Layer dense2 = Layers.Dense(10);
///     public override Tensor Call(Tensor inputs, bool training, Tensor? mask) =&gt; CallLayer(dense2, CallLayer(dense1, inputs));
/// }
/// </code></example>
public abstract class SubclassedModel : Model
{
    private static readonly ConditionalWeakTable<Fs.LayerIdentity, SubclassedModel> Instances = new();
    private readonly string? requestedName;
    private readonly CustomParts parts;
    private Fs.Layer? body;
    private Fs.TensorSpec? builtInput;
    private bool readingOwnConfig;

    /// <summary>A subclassed model.</summary>
    /// <param name="name">The model's name; the snake case of the class name, numbered, when null.</param>
    protected SubclassedModel(string? name = null)
    {
        requestedName = name;
        parts = new CustomParts(this, typeof(SubclassedModel));
    }

    /// <summary>The layer constructors of <see cref="global::Keras.CSharp.Layers"/>: inside a subclass, <c>Layers.Dense(64)</c>
    /// makes a layer, as anywhere else (the inherited list <see cref="Model.Layers"/> is hidden here by this name;
    /// read it through a <see cref="Model"/> reference).</summary>
    protected new abstract class Layers : global::Keras.CSharp.Layers
    {
        private Layers() { }
    }

    /// <summary>The Keras class name written in configs, files and summaries; the C# class name by default.</summary>
    protected virtual string KerasClassName => GetType().Name;

    /// <summary>Declares weights of the model itself from the input's shape (Keras's <c>build</c>); runs once, when the
    /// model is built. The layers held in fields build themselves on their first call.</summary>
    /// <param name="inputShape">The input shape, batch axis first; null where a size is unknown.</param>
    public virtual void Build(IReadOnlyList<int?> inputShape) { }

    /// <summary>The forward computation on TorchSharp tensors (Keras's <c>call</c>).</summary>
    /// <param name="inputs">The input, batch axis first.</param>
    /// <param name="training">True inside <c>Fit</c>: training behaviour (as for Dropout).</param>
    /// <param name="mask">The input's mask, if any.</param>
    /// <returns>The output.</returns>
    public abstract Tensor Call(Tensor inputs, bool training, Tensor? mask);

    /// <summary>Keras's <c>get_config</c>: name, trainable and dtype; override it, starting from
    /// <c>base.GetConfig()</c>, to add the constructor's arguments the registered factory reads back.</summary>
    public override JsonObject GetConfig() => readingOwnConfig ? new JsonObject() : Fs.LayerModule.getConfig(Body);

    /// <summary>Declares a weight of the model itself; only inside <see cref="Build"/>.</summary>
    /// <param name="name">The weight's name, unique in the model.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="initializer">Its initializer; glorot_uniform when null.</param>
    /// <param name="trainable">Whether training updates it.</param>
    /// <returns>A handle whose <see cref="Weight.Value"/> is the weight's tensor inside <see cref="Call(Tensor, bool, Tensor)"/>.</returns>
    /// <exception cref="InvalidOperationException">Outside <see cref="Build"/>.</exception>
    protected Weight AddWeight(string name, int[] shape, Initializer? initializer = null, bool trainable = true) =>
        parts.AddWeight(name, shape, initializer, trainable);

    /// <summary>Runs a layer held by this model (in a field) on a tensor, inside <see cref="Call(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="layer">The held layer.</param>
    /// <param name="input">Its input.</param>
    protected Tensor CallLayer(Layer layer, Tensor input) => parts.CallLayer(layer.Core, input);

    /// <summary>Runs a model held by this model (in a field) on a tensor, inside <see cref="Call(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="model">The held model.</param>
    /// <param name="input">Its input.</param>
    protected Tensor CallLayer(Model model, Tensor input) => parts.CallLayer(model.LayerCore, input);

    /// <summary>Adds a loss term during the call (Keras's <c>self.add_loss</c>).</summary>
    /// <param name="loss">A scalar tensor.</param>
    protected void AddLoss(Tensor loss) => parts.AddLoss(loss);

    /// <summary>Whether the model is built (its input shape known).</summary>
    public bool Built => HasCore || builtInput is not null;

    /// <summary>Keras's representation, e.g. <c>&lt;MLP name=mlp, built=True&gt;</c>.</summary>
    public override string ToString() => $"<{KerasClassName} name={Name}, built={(Built ? "True" : "False")}>";

    /// <summary>The core layer running this model's call: what a functional model calls, and what the core's
    /// subclassed model is built around.</summary>
    internal Fs.Layer Body
    {
        get
        {
            if (body is null)
            {
                body = parts.Create(KerasClassName, OwnConfig, Build, Call, requestedName, spec => builtInput ??= spec);
                Instances.AddOrUpdate(body.Identity, this);
            }
            return body;
        }
    }

    internal override Fs.Layer LayerCore => Body;

    private protected override bool CanCreateCore => builtInput is not null;

    private protected override Fs.Model CreateCore()
    {
        var spec = builtInput ?? throw new InvalidOperationException(
            $"This model has not yet been built. Build the model first by calling it on a batch of data (Call, Fit, Evaluate or Predict) or on a symbolic tensor. Received: model={Name}");
        var shape = spec.Shape.Skip(1).Select(d => OptionModule.IsSome(d) ? d.Value : -1).ToArray();
        var input = Fs.Keras.Input(Fx.Some(Fx.List(shape)), null, Fx.Some(spec.DType), null);
        return Fs.CustomModel.OfLayer(Body, input);
    }

    private protected override void BuildFor(Data x)
    {
        if (HasCore || builtInput is not null) return;
        var t = x.Core switch
        {
            Fs.Data.Tensor one => one.Item,
            Fs.Data.Tensors { Item.Length: 1 } list => list.Item.Head,
            _ => throw new InvalidOperationException($"A subclassed model takes one input tensor; build it by calling it on one first. Received: model={Name}"),
        };
        var dims = t.shape.Select((d, i) => i == 0 ? FSharpOption<int>.None : FSharpOption<int>.Some((int)d));
        var dtype = Fs.DTypeModule.tryOfTorch(t.dtype)?.Value ?? Fs.DType.Float32;
        builtInput = new Fs.TensorSpec(Fx.List(dims), dtype);
    }

    private JsonObject OwnConfig()
    {
        readingOwnConfig = true;
        try { return GetConfig(); }
        finally { readingOwnConfig = false; }
    }

    /// <summary>The registered instance whose body a loaded subclassed model was built around, now holding that model.</summary>
    internal static SubclassedModel? Adopting(Fs.Model model, Fs.CompiledModel? compiled)
    {
        var found = Fs.CustomModel.TryBody(model);
        if (found is null || !Instances.TryGetValue(found.Value.Identity, out var instance) || instance.HasCore) return null;
        instance.Adopt(model, compiled);
        return instance;
    }

    /// <summary>Registers the factory of a subclassed model class (Keras's <c>register_keras_serializable</c>), so that
    /// <see cref="KerasApi.LoadModel"/> rebuilds it, as an instance of the class, from a saved file, and functional models
    /// that call it load too: <c>SubclassedModel.Register("MLP", c =&gt; new MLP((int)c["units"]!))</c>.</summary>
    /// <typeparam name="TModel">The model class.</typeparam>
    /// <param name="className">The Keras class name in configs (<see cref="KerasClassName"/>, the C# class name by default).</param>
    /// <param name="fromConfig">Makes the model from its config (Keras's <c>from_config</c>).</param>
    public static void Register<TModel>(string className, Func<JsonObject, TModel> fromConfig) where TModel : SubclassedModel =>
        Fs.CustomObjects.register(className, FuncConvert.FromFunc<JsonObject, Fs.Layer>(c => fromConfig(c).Body));
}
