using System.Linq;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// A kernel size, stride or dilation: Keras's "int or tuple of ints". Converts implicitly from an <c>int</c> (the same
/// size on every spatial axis), a tuple <c>(3, 3)</c> / <c>(3, 3, 3)</c>, or an <c>int[]</c>:
/// <c>Layers.Conv2D(16, 3)</c>, <c>Layers.Conv2D(16, (3, 5))</c>.
/// </summary>
public sealed class Dims
{
    private Dims(int[] sizes) => Sizes = sizes;

    /// <summary>The sizes, one per axis (or one for every axis).</summary>
    public System.Collections.Generic.IReadOnlyList<int> Sizes { get; }

    internal Fs.ConvolutionLayers.Dims Core => Fs.ConvolutionLayers.Dims.NewDims(Fx.List(Sizes));

    /// <summary>The same size on every axis.</summary>
    /// <param name="size">The size.</param>
    public static implicit operator Dims(int size) => new(new[] { size });

    /// <summary>One size per axis.</summary>
    /// <param name="sizes">The sizes.</param>
    public static implicit operator Dims(int[] sizes) => new(sizes.ToArray());

    /// <summary>(rows, columns).</summary>
    /// <param name="sizes">The sizes.</param>
    public static implicit operator Dims((int, int) sizes) => new(new[] { sizes.Item1, sizes.Item2 });

    /// <summary>(depth, rows, columns).</summary>
    /// <param name="sizes">The sizes.</param>
    public static implicit operator Dims((int, int, int) sizes) => new(new[] { sizes.Item1, sizes.Item2, sizes.Item3 });

    /// <summary>Keras's tuple text, e.g. <c>(3, 3)</c>.</summary>
    public override string ToString() => "(" + string.Join(", ", Sizes) + ")";
}
