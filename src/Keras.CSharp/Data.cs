using System.Collections.Generic;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>
/// Inputs or targets for <see cref="Model.Fit"/> and <see cref="Model.Evaluate"/>: one tensor, tensors in input (output)
/// order, or tensors keyed by input (output) name. Tensors, arrays of tensors, dictionaries and .NET arrays convert
/// implicitly; an <see cref="IReadOnlyDictionary{TKey, TValue}"/> goes through <see cref="Of(IReadOnlyDictionary{string, Tensor})"/>.
/// </summary>
public sealed class Data
{
    private Data(Fs.Data core) => Core = core;

    internal Fs.Data Core { get; }

    /// <summary>Tensors keyed by input (or output) name.</summary>
    /// <param name="named">The tensors by name.</param>
    public static Data Of(IReadOnlyDictionary<string, Tensor> named) => new(Fs.Data.NewNamed(named));

    /// <summary>Tensors in input (or output) order.</summary>
    /// <param name="tensors">One tensor per input (output).</param>
    public static Data Of(params Tensor[] tensors) => new(Fs.Data.NewTensors(Fx.List(tensors)));

    /// <summary>One tensor.</summary>
    /// <param name="tensor">The tensor.</param>
    public static implicit operator Data(Tensor tensor) => new(Fs.Data.NewTensor(tensor));

    /// <summary>Tensors in input (or output) order.</summary>
    /// <param name="tensors">One tensor per input (output).</param>
    public static implicit operator Data(Tensor[] tensors) => Of(tensors);

    /// <summary>Tensors keyed by input (or output) name.</summary>
    /// <param name="named">The tensors by name.</param>
    public static implicit operator Data(Dictionary<string, Tensor> named) => Of(named);

    /// <summary>Rows of float features.</summary>
    /// <param name="rows">One row per sample.</param>
    public static implicit operator Data(float[,] rows) => new((Fs.Data)rows);

    /// <summary>One float per sample.</summary>
    /// <param name="values">The values.</param>
    public static implicit operator Data(float[] values) => new((Fs.Data)values);

    /// <summary>Integer labels, one per sample.</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator Data(int[] labels) => new((Fs.Data)labels);

    /// <summary>Integer labels, one per sample.</summary>
    /// <param name="labels">The labels.</param>
    public static implicit operator Data(long[] labels) => new((Fs.Data)labels);

    // ---- String inputs (issue 13, text) ----

    /// <summary>One string per sample, for an input with dtype "string".</summary>
    /// <param name="texts">The strings.</param>
    public static implicit operator Data(string[] texts) => new((Fs.Data)texts);

    /// <summary>Rows of strings, for an input with dtype "string" of shape (None, columns).</summary>
    /// <param name="texts">The strings.</param>
    public static implicit operator Data(string[,] texts) => new((Fs.Data)texts);
}
