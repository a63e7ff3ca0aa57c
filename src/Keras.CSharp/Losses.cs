using System;
using Microsoft.FSharp.Core;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>A loss. A Keras name converts to one: <c>model.Compile("rmsprop", loss: "mse")</c>.</summary>
public sealed class Loss
{
    internal Loss(Fs.Loss core) => Core = core;

    internal Fs.Loss Core { get; }

    /// <summary>The loss for a Keras name ("sparse_categorical_crossentropy", "mse", "mae", "huber", ...).</summary>
    /// <param name="name">The Keras name.</param>
    /// <exception cref="Fs.KerasException">For an unknown name.</exception>
    public static implicit operator Loss(string name) => new((Fs.Loss)name);

    /// <summary>Keras's representation, e.g. <c>SparseCategoricalCrossentropy(from_logits=True)</c>.</summary>
    public override string ToString() => Core.ToString();
}

/// <summary>Losses with Keras's names and defaults: <c>Losses.SparseCategoricalCrossentropy(fromLogits: true)</c>.</summary>
public static class Losses
{
    /// <summary>Cross-entropy of integer class labels against class scores.</summary>
    /// <param name="fromLogits">The predictions are logits, not probabilities.</param>
    public static Loss SparseCategoricalCrossentropy(bool fromLogits = false) => new(Fs.Loss.NewSparseCategoricalCrossentropy(fromLogits));

    /// <summary>Cross-entropy of one-hot labels against class scores.</summary>
    /// <param name="fromLogits">The predictions are logits, not probabilities.</param>
    public static Loss CategoricalCrossentropy(bool fromLogits = false) => new(Fs.Loss.NewCategoricalCrossentropy(fromLogits));

    /// <summary>Binary cross-entropy of 0/1 labels.</summary>
    /// <param name="fromLogits">The predictions are logits, not probabilities.</param>
    public static Loss BinaryCrossentropy(bool fromLogits = false) => new(Fs.Loss.NewBinaryCrossentropy(fromLogits));

    /// <summary>Mean of squared differences.</summary>
    public static Loss MeanSquaredError() => new(Fs.Loss.MeanSquaredError);

    /// <summary>Mean of absolute differences.</summary>
    public static Loss MeanAbsoluteError() => new(Fs.Loss.MeanAbsoluteError);

    /// <summary>Huber loss: quadratic within <paramref name="delta"/>, linear beyond.</summary>
    /// <param name="delta">Where the loss turns linear.</param>
    public static Loss Huber(double delta = 1.0) => new(Fs.Loss.NewHuber(delta));

    /// <summary>A user loss: <paramref name="perSample"/> maps (yTrue, yPred) to one value per sample; the mean is the loss.</summary>
    /// <param name="name">The name the loss is reported under.</param>
    /// <param name="perSample">The per-sample loss on TorchSharp tensors (differentiable).</param>
    public static Loss Custom(string name, Func<Tensor, Tensor, Tensor> perSample) =>
        new(Fs.Loss.NewCustomLoss(name, FuncConvert.FromFunc(perSample)));
}
