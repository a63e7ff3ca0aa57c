using System.Collections.Generic;
using System.Linq;
using Microsoft.FSharp.Core;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>A symbolic tensor: the output of <see cref="KerasApi.Input"/> or of a layer call, with a shape and a dtype.</summary>
public sealed class KerasTensor
{
    internal KerasTensor(Fs.KerasTensor core) => Core = core;

    /// <summary>The core's tensor.</summary>
    internal Fs.KerasTensor Core { get; }

    /// <summary>The shape with the batch axis first; null where a size is unknown (Keras's <c>None</c>).</summary>
    public IReadOnlyList<int?> Shape => Core.Shape.Select(OptionModule.ToNullable).ToArray();

    /// <summary>The Keras dtype name: "float32", "int64", ...</summary>
    public string DType => Fs.DTypeModule.name(Core.DType);

    /// <summary>The tensor's name.</summary>
    public string Name => Core.Name;

    /// <summary>Keras's representation, e.g. <c>&lt;KerasTensor shape=(None, 784), dtype=float32, sparse=False, name=keras_tensor_1&gt;</c>.</summary>
    public override string ToString() => Core.ToString();

    /// <summary>Two wrappers are equal when they wrap the same symbolic tensor.</summary>
    public override bool Equals(object? obj) => obj is KerasTensor other && Core.Equals(other.Core);

    /// <summary>The wrapped tensor's hash.</summary>
    public override int GetHashCode() => Core.GetHashCode();

    internal static Microsoft.FSharp.Collections.FSharpList<Fs.KerasTensor> Cores(IEnumerable<KerasTensor> tensors) =>
        Fx.List(tensors.Select(t => t.Core));

    internal static IReadOnlyList<KerasTensor> Wrap(IEnumerable<Fs.KerasTensor> tensors) =>
        tensors.Select(t => new KerasTensor(t)).ToArray();
}
