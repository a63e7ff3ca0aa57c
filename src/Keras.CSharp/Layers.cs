using System.Collections.Generic;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// Layer constructors with Keras's names, arguments and defaults: <c>Layers.Dense(64, activation: "relu")</c>.
/// Each returns a <see cref="Layer"/> to call on symbolic tensors: <c>Layers.Dense(10).Call(x)</c>.
/// Arguments left out (or null) take Keras's defaults; names are Keras's in camelCase. Every constructor of the core's
/// <c>Keras.Layers</c> has its adapter in <c>Layers.Generated.cs</c> (made by <c>tools/FacadeLayers.fsx</c>).
/// The class only holds these static constructors; it is not static so that <see cref="SubclassedModel"/> can give its
/// subclasses the same <c>Layers.Dense(...)</c> (there the name would otherwise be the model's <c>Layers</c> list).
/// </summary>
public partial class Layers
{
    /// <summary>Not instantiable: every member is static.</summary>
    private protected Layers() { }

    /// <summary>A symbolic input: the same as <see cref="KerasApi.Input"/> (Keras's <c>keras.layers.Input</c>).</summary>
    /// <param name="shape">The sample shape without the batch axis; -1 for an unknown size.</param>
    /// <param name="dtype">Keras dtype name; "float32" by default.</param>
    /// <param name="name">The input layer's name.</param>
    /// <param name="batchShape">The full shape with the batch axis, instead of <paramref name="shape"/>.</param>
    public static KerasTensor Input(int[]? shape = null, string dtype = "float32", string? name = null, int[]? batchShape = null) =>
        KerasApi.Input(shape, dtype, name, batchShape);
}
