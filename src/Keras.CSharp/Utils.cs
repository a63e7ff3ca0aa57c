using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>Keras's utilities.</summary>
public static class Utils
{
    /// <summary>Seeds weight initialization, dropout and shuffling (Keras's <c>keras.utils.set_random_seed</c>).</summary>
    /// <param name="seed">The seed.</param>
    public static void SetRandomSeed(int seed) => Fs.Utils.setRandomSeed(seed);

    /// <summary>One-hot encodes integer labels as float32 (Keras's <c>to_categorical</c>).</summary>
    /// <param name="labels">Integer class labels.</param>
    /// <param name="numClasses">Number of columns; the largest label + 1 when null.</param>
    public static Tensor ToCategorical(Tensor labels, int? numClasses = null) => Fs.Utils.toCategorical(labels, Fx.Val(numClasses));
}
