using System.Collections.Generic;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>Keras's <c>adapt</c> of the numeric preprocessing layers (issue 13): <c>discretization.Adapt(data)</c>.</summary>
public static class NumericPreprocessingExtensions
{
    /// <summary>Keras's <c>Discretization.adapt(data)</c>: learns <c>num_bins − 1</c> bin boundaries at the approximate
    /// quantiles of <paramref name="data"/>, replacing earlier ones.</summary>
    /// <param name="layer">A <see cref="Layers.Discretization"/> made with <c>numBins</c>.</param>
    /// <param name="data">The values (any shape).</param>
    /// <exception cref="KerasException">When the layer is not a Discretization made with <c>numBins</c>.</exception>
    public static void Adapt(this Layer layer, Tensor data) => Fs.NumericPreprocessingLayers.adapt(layer.Core, data);

    /// <summary>Keras's <c>adapt</c> over batches (one summary update per batch).</summary>
    /// <param name="layer">A <see cref="Layers.Discretization"/> made with <c>numBins</c>.</param>
    /// <param name="batches">The batches of values.</param>
    /// <exception cref="KerasException">When the layer is not a Discretization made with <c>numBins</c>.</exception>
    public static void Adapt(this Layer layer, IEnumerable<Tensor> batches) =>
        Fs.NumericPreprocessingLayers.adaptBatches(layer.Core, batches);
}
