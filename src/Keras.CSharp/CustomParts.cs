using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Core;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>What a C# class defining a layer's computation (<see cref="CustomLayer"/>, <see cref="SubclassedModel"/>)
/// hands to the core's one custom-layer mechanism (<c>CustomObjectLayer.Create</c>): its build step with
/// <c>AddWeight</c>, its call with the held layers and weights, its config, and the layers held in its fields.</summary>
internal sealed class CustomParts
{
    private readonly object owner;
    private readonly Type stop;
    private Fs.LayerBuilder? builder;
    private Fs.CustomCall? current;

    /// <param name="owner">The object whose fields hold layers and models.</param>
    /// <param name="stop">The facade base class: fields of it and above are not the user's.</param>
    internal CustomParts(object owner, Type stop)
    {
        this.owner = owner;
        this.stop = stop;
    }

    /// <summary>The core layer: <paramref name="build"/> runs inside the core's build step (its first input's shape and
    /// dtype are given to <paramref name="built"/> first), <paramref name="call"/> inside the core's call.</summary>
    internal Fs.Layer Create(string className, Func<JsonObject> config, Action<IReadOnlyList<int?>> build,
        Func<Tensor, bool, Tensor?, Tensor> call, string? name, Action<Fs.TensorSpec>? built = null) =>
        Fs.CustomObjectLayer.Create(
            className,
            FuncConvert.FromFunc(config),
            FuncConvert.FromAction<Fs.LayerBuilder>(b =>
            {
                if (built is not null && !b.Inputs.IsEmpty) built(b.Inputs.Head);
                builder = b;
                try { build(b.InputShape.Select(OptionModule.ToNullable).ToArray()); }
                finally { builder = null; }
            }),
            FuncConvert.FromFunc<Fs.CustomCall, Tensor, Tensor>((self, x) =>
            {
                var outer = current;
                current = self;
                try { return call(x, self.Training, self.Mask?.Value); }
                finally { current = outer; }
            }),
            FuncConvert.FromFunc(() => Fx.List(Held())),
            Fx.Ref(name));

    /// <summary>Declares a weight; only inside the build step.</summary>
    internal Weight AddWeight(string name, int[] shape, Initializer? initializer, bool trainable)
    {
        var b = builder ?? throw new InvalidOperationException("AddWeight is only valid inside Build.");
        b.AddWeight(name, Fx.List(shape), Fx.Some((initializer ?? Initializers.GlorotUniform()).Core), Fx.Some(trainable), null);
        return new Weight(name, () => Current[name]);
    }

    /// <summary>Runs a held layer on a tensor inside the call.</summary>
    internal Tensor CallLayer(Fs.Layer layer, Tensor input) => Current.Call(layer, input);

    /// <summary>Adds a loss term inside the call.</summary>
    internal void AddLoss(Tensor loss) => Current.AddLoss(loss);

    private Fs.CustomCall Current => current ?? throw new InvalidOperationException("Weights and held layers are only reachable inside Call.");

    /// <summary>The layers and models in the owner's fields (Keras tracks attributes the same way).</summary>
    private IEnumerable<Fs.Layer> Held()
    {
        for (var t = owner.GetType(); t is not null && t != stop; t = t.BaseType)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                switch (f.GetValue(owner))
                {
                    case Layer l: yield return l.Core; break;
                    case Model m: yield return m.LayerCore; break;
                    case IEnumerable<Layer> ls: foreach (var l in ls) yield return l.Core; break;
                    case IEnumerable<Model> ms: foreach (var m in ms) yield return m.LayerCore; break;
                }
    }
}
