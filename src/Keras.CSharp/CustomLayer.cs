using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Core;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>
/// Base class of custom layers written in C# (Keras's <c>class CustomDense(layers.Layer)</c>). Override
/// <see cref="Build"/> to declare weights with <see cref="AddWeight"/>, <see cref="Call(Tensor, bool, Tensor)"/> for the
/// forward computation on TorchSharp tensors, and <see cref="GetConfig"/> to add the constructor's arguments; register a
/// factory with <see cref="Register"/> so <see cref="Model.FromConfig"/> can rebuild it. Layers and models held in
/// fields are tracked (their weights are this layer's); call them inside <c>Call</c> with
/// <see cref="CallLayer(Layer, Tensor)"/>. A custom layer is an ordinary layer of the core: it appears in summaries with
/// its parameters, trains in <c>Fit</c>, and shares its weights when called twice.
/// </summary>
/// <example><code>
/// class CustomDense : CustomLayer
/// {
///     private readonly int units;
///     private Weight? w, b;
///     public CustomDense(int units = 32, string? name = null) : base(name) => this.units = units;
///     public override void Build(IReadOnlyList&lt;int?&gt; inputShape)
///     {
///         w = AddWeight("w", new[] { inputShape[^1]!.Value, units }, "random_normal");
///         b = AddWeight("b", new[] { units }, "random_normal");
///     }
///     public override Tensor Call(Tensor inputs, bool training, Tensor? mask) =&gt; torch.matmul(inputs, w!) + b!;
///     public override JsonObject GetConfig() { var c = base.GetConfig(); c["units"] = units; return c; }
/// }
/// </code></example>
public abstract class CustomLayer : Layer
{
    private readonly string? requestedName;
    private readonly CustomParts parts;
    private bool readingOwnConfig;

    /// <summary>A custom layer.</summary>
    /// <param name="name">The layer's name; the snake case of the class name, numbered, when null.</param>
    protected CustomLayer(string? name = null)
    {
        requestedName = name;
        parts = new CustomParts(this, typeof(CustomLayer));
    }

    /// <summary>The Keras class name written in configs and summaries; the C# class name by default.</summary>
    protected virtual string KerasClassName => GetType().Name;

    /// <summary>Declares the weights from the input's shape (Keras's <c>build</c>); runs once, on the first call.</summary>
    /// <param name="inputShape">The input shape, batch axis first; null where a size is unknown.</param>
    public virtual void Build(IReadOnlyList<int?> inputShape) { }

    /// <summary>The forward computation on TorchSharp tensors (Keras's <c>call</c>).</summary>
    /// <param name="inputs">The input, batch axis first.</param>
    /// <param name="training">Training behaviour (as for Dropout).</param>
    /// <param name="mask">The input's mask, if any.</param>
    /// <returns>The output.</returns>
    public abstract Tensor Call(Tensor inputs, bool training, Tensor? mask);

    /// <summary>Keras's <c>get_config</c>: override it, starting from <c>base.GetConfig()</c>, to add the constructor's
    /// arguments with Keras's names.</summary>
    public override JsonObject GetConfig() => readingOwnConfig ? new JsonObject() : base.GetConfig();

    /// <summary>Declares a weight; only inside <see cref="Build"/>.</summary>
    /// <param name="name">The weight's name, unique in the layer.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="initializer">Its initializer; glorot_uniform when null.</param>
    /// <param name="trainable">Whether training updates it.</param>
    /// <returns>A handle whose <see cref="Weight.Value"/> is the weight's tensor inside <see cref="Call(Tensor, bool, Tensor)"/>.</returns>
    /// <exception cref="InvalidOperationException">Outside <see cref="Build"/>.</exception>
    protected Weight AddWeight(string name, int[] shape, Initializer? initializer = null, bool trainable = true) =>
        parts.AddWeight(name, shape, initializer, trainable);

    /// <summary>Runs a layer held by this one (in a field) on a tensor, inside <see cref="Call(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="layer">The held layer.</param>
    /// <param name="input">Its input.</param>
    protected Tensor CallLayer(Layer layer, Tensor input) => parts.CallLayer(layer.Core, input);

    /// <summary>Runs a model held by this layer (in a field) on a tensor, inside <see cref="Call(Tensor, bool, Tensor)"/>.</summary>
    /// <param name="model">The held model.</param>
    /// <param name="input">Its input.</param>
    protected Tensor CallLayer(Model model, Tensor input) => parts.CallLayer(model.LayerCore, input);

    /// <summary>Adds a loss term during the call (Keras's <c>self.add_loss</c>).</summary>
    /// <param name="loss">A scalar tensor.</param>
    protected void AddLoss(Tensor loss) => parts.AddLoss(loss);

    private protected override Fs.Layer CreateCore() =>
        parts.Create(KerasClassName, OwnConfig, Build, Call, requestedName);

    private JsonObject OwnConfig()
    {
        readingOwnConfig = true;
        try { return GetConfig(); }
        finally { readingOwnConfig = false; }
    }

    /// <summary>Registers a factory for a custom class name (Keras's <c>register_keras_serializable</c>), used by
    /// <see cref="Model.FromConfig"/>: <c>CustomLayer.Register("CustomDense", c =&gt; new CustomDense((int)c["units"]!))</c>.</summary>
    /// <param name="className">The Keras class name in configs.</param>
    /// <param name="fromConfig">Makes the layer from its config (Keras's <c>from_config</c>).</param>
    public static void Register(string className, Func<JsonObject, Layer> fromConfig) =>
        Fs.CustomObjects.register(className, FuncConvert.FromFunc<JsonObject, Fs.Layer>(c => fromConfig(c).Core));
}

/// <summary>A weight declared by <see cref="CustomLayer.Build"/>; inside <c>Call</c>, <see cref="Value"/> (or the implicit
/// conversion) is its tensor.</summary>
public sealed class Weight
{
    private readonly Func<Tensor> read;

    internal Weight(string name, Func<Tensor> read)
    {
        Name = name;
        this.read = read;
    }

    /// <summary>The weight's name in its layer.</summary>
    public string Name { get; }

    /// <summary>The weight's tensor in the running call.</summary>
    /// <exception cref="InvalidOperationException">Outside the layer's <c>Call</c>.</exception>
    public Tensor Value => read();

    /// <summary>The weight's tensor in the running call.</summary>
    /// <param name="weight">The weight.</param>
    public static implicit operator Tensor(Weight weight) => weight.Value;
}
