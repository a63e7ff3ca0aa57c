using System.Collections.Generic;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>Keras's <c>layer.adapt(data)</c> for the preprocessing <see cref="Layers.Normalization"/> layer (issue 13):
/// sets its <c>mean</c> and <c>variance</c> weights from data.</summary>
public static class LayerAdaptExtensions
{
    /// <summary>Sets the layer's mean and variance to those of <paramref name="data"/> over every axis but the kept ones.</summary>
    /// <param name="layer">A Normalization layer made without a mean and variance.</param>
    /// <param name="data">The data, batch first.</param>
    /// <exception cref="Fs.KerasException">When the layer is not such a Normalization layer, or the data does not fit it.</exception>
    public static void Adapt(this Layer layer, Tensor data) => Fs.NormalizationExtraLayers.adapt(layer.Core, data);

    /// <summary>Adapts over batches, merged as Keras does (the same as adapting their concatenation).</summary>
    /// <param name="layer">A Normalization layer made without a mean and variance.</param>
    /// <param name="batches">The batches.</param>
    /// <exception cref="Fs.KerasException">When there is no batch, or as <see cref="Adapt(Layer, Tensor)"/>.</exception>
    public static void Adapt(this Layer layer, IEnumerable<Tensor> batches) => Fs.NormalizationExtraLayers.adaptBatches(layer.Core, batches);
}
