using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// Keras's top-level functions: <c>Keras.Input(shape: new[] { 784 })</c>.
/// <c>Keras</c> is also the library's root namespace: for <c>Keras.Input</c> to mean this class, put
/// <c>using Keras.CSharp;</c> after a file-scoped <c>namespace</c> declaration (or inside a namespace block), or write
/// <see cref="Layers.Input"/>, Keras's other name for the same function.
/// </summary>
public static class Keras
{
    /// <summary>A symbolic input (Keras's <c>keras.Input</c>).</summary>
    /// <param name="shape">The sample shape without the batch axis, e.g. <c>new[] { 784 }</c>; -1 for an unknown size.</param>
    /// <param name="dtype">Keras dtype name: "float32" (default), "int64", "int32", ...</param>
    /// <param name="name">The input layer's name; "input_layer", "input_layer_1", ... by default.</param>
    /// <param name="batchShape">The full shape with the batch axis, instead of <paramref name="shape"/>.</param>
    /// <returns>A symbolic tensor of shape <c>(None, *shape)</c>, or <paramref name="batchShape"/>.</returns>
    /// <exception cref="Fs.KerasException">For an unknown dtype, or when neither or both shapes are given.</exception>
    public static KerasTensor Input(int[]? shape = null, string dtype = "float32", string? name = null, int[]? batchShape = null) =>
        new(Fs.Keras.Input(Fx.Ref(shape is null ? null : Fx.List(shape)), Fx.Ref(batchShape is null ? null : Fx.List(batchShape)), Fx.Some(ParseDType(dtype)), Fx.Ref(name)));

    private static Fs.DType ParseDType(string dtype) =>
        Fs.DTypeModule.tryParse(dtype)?.Value
        ?? throw new Fs.KerasException(Fs.KerasError.NewInvalidArgument("Input", "dtype", "Unknown dtype.", dtype));
}
