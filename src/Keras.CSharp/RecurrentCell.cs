using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Collections;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>
/// Base class of recurrent cells written in C# (Keras's custom RNN cells, <c>class MinimalRNNCell(layers.Layer)</c>),
/// driven over a sequence by <c>Layers.RNN(cell)</c> as the built-in LSTMCell, GRUCell and SimpleRNNCell are. Give
/// <see cref="StateSize"/>, declare the weights in <see cref="Build"/> with <see cref="AddWeight"/>, write one step in
/// <see cref="Call(Tensor, IReadOnlyList{Tensor}, bool)"/>, and add the constructor's arguments in <see cref="GetConfig"/>.
/// The weights are the cell's (counted in summaries, trained by <c>Fit</c>, saved under the RNN's <c>cell</c>); register
/// a factory with <see cref="CustomLayer.Register"/> to load models holding the cell.
/// </summary>
/// <example><code>
/// class MinimalRNNCell : RecurrentCell
/// {
///     private readonly int units;
///     private Weight? kernel, recurrentKernel;
///     public MinimalRNNCell(int units) =&gt; this.units = units;
///     public override IReadOnlyList&lt;int&gt; StateSize =&gt; new[] { units };
///     public override void Build(IReadOnlyList&lt;int?&gt; inputShape)
///     {
///         kernel = AddWeight("kernel", new[] { inputShape[^1]!.Value, units });
///         recurrentKernel = AddWeight("recurrent_kernel", new[] { units, units }, Initializers.Orthogonal());
///     }
///     public override (Tensor Output, IReadOnlyList&lt;Tensor&gt; States) Call(Tensor inputs, IReadOnlyList&lt;Tensor&gt; states, bool training)
///     {
///         var h = (torch.matmul(inputs, kernel!) + torch.matmul(states[0], recurrentKernel!)).tanh();
///         return (h, new[] { h });
///     }
/// }
/// </code></example>
public abstract class RecurrentCell : Layer
{
    private readonly string? requestedName;
    private List<Fs.WeightSpec>? building;
    private FSharpList<Tensor>? current;
    private bool readingOwnConfig;

    /// <summary>A recurrent cell.</summary>
    /// <param name="name">The cell's name; the snake case of the class name when null.</param>
    protected RecurrentCell(string? name = null) => requestedName = name;

    /// <summary>The Keras class name written in configs; the C# class name by default.</summary>
    protected virtual string KerasClassName => GetType().Name;

    /// <summary>The size of each state (Keras's <c>state_size</c>); every state has shape (batch, size). RNN's state
    /// shape rule asks every state to have the output's size.</summary>
    public abstract IReadOnlyList<int> StateSize { get; }

    /// <summary>The size of the per-step output (Keras's <c>output_size</c>); the first state's size by default.</summary>
    public virtual int OutputSize => StateSize[0];

    /// <summary>Declares the weights from the step input's shape (Keras's <c>build</c>): (batch, features).</summary>
    /// <param name="inputShape">The step input's shape, batch axis first (null: unknown).</param>
    public virtual void Build(IReadOnlyList<int?> inputShape) { }

    /// <summary>One step (Keras's <c>call(inputs, states, training)</c>).</summary>
    /// <param name="inputs">The step input, (batch, features).</param>
    /// <param name="states">The states, each (batch, size).</param>
    /// <param name="training">True inside <c>Fit</c>.</param>
    /// <returns>The step output (batch, <see cref="OutputSize"/>) and the new states.</returns>
    public abstract (Tensor Output, IReadOnlyList<Tensor> States) Call(Tensor inputs, IReadOnlyList<Tensor> states, bool training);

    /// <summary>Keras's <c>get_config</c>: override it, starting from <c>base.GetConfig()</c>, to add the constructor's
    /// arguments with Keras's names.</summary>
    public override JsonObject GetConfig() => readingOwnConfig ? new JsonObject() : base.GetConfig();

    /// <summary>Declares a weight; only inside <see cref="Build"/>.</summary>
    /// <param name="name">The weight's name, unique in the cell.</param>
    /// <param name="shape">Its shape.</param>
    /// <param name="initializer">Its initializer; glorot_uniform when null.</param>
    /// <param name="trainable">Whether training updates it.</param>
    /// <returns>A handle whose <see cref="Weight.Value"/> is the weight's tensor inside the step.</returns>
    /// <exception cref="InvalidOperationException">Outside <see cref="Build"/>.</exception>
    protected Weight AddWeight(string name, int[] shape, Initializer? initializer = null, bool trainable = true)
    {
        var specs = building ?? throw new InvalidOperationException("AddWeight is only valid inside Build.");
        if (specs.Any(s => s.Name == name))
            throw new ArgumentException($"A weight named '{name}' was already added to this cell; weight names must be unique.", nameof(name));
        var index = specs.Count;
        specs.Add(new Fs.WeightSpec(name, Fx.List(shape), (initializer ?? Initializers.GlorotUniform()).Core, trainable, Fs.DType.Float32, null));
        return new Weight(name, () => (current ?? throw new InvalidOperationException("Weights are only reachable inside Call."))[index]);
    }

    private protected override Fs.Layer CreateCore() => Fs.RNNLayers.customCell(new Adapter(this), Fx.Ref(requestedName));

    /// <summary>The cell as the core's user cell.</summary>
    private sealed class Adapter : Fs.RNNLayers.IRecurrentCellWithTraining
    {
        private readonly RecurrentCell cell;

        internal Adapter(RecurrentCell cell) => this.cell = cell;

        public string ClassName => cell.KerasClassName;

        public int OutputSize => cell.OutputSize;

        public FSharpList<int> StateSizes => Fx.List(cell.StateSize);

        public FSharpList<Fs.WeightSpec> Build(int inputDim)
        {
            cell.building = new List<Fs.WeightSpec>();
            try
            {
                cell.Build(new int?[] { null, inputDim });
                return Fx.List(cell.building);
            }
            finally { cell.building = null; }
        }

        public Tuple<Tensor, FSharpList<Tensor>> Step(FSharpList<Tensor> weights, Tensor input, FSharpList<Tensor> states) =>
            StepTraining(weights, input, states, false);

        public Tuple<Tensor, FSharpList<Tensor>> StepTraining(FSharpList<Tensor> weights, Tensor input, FSharpList<Tensor> states, bool training)
        {
            var outer = cell.current;
            cell.current = weights;
            try
            {
                var (output, next) = cell.Call(input, states.ToArray(), training);
                return Tuple.Create(output, Fx.List(next));
            }
            finally { cell.current = outer; }
        }

        public JsonObject Config()
        {
            cell.readingOwnConfig = true;
            try { return cell.GetConfig(); }
            finally { cell.readingOwnConfig = false; }
        }
    }
}
