using System.Collections.Generic;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>Keras's <c>layer.adapt(data)</c> for the numeric preprocessing layers: <see cref="Layers.Normalization"/>
/// learns its mean and variance, <see cref="Layers.Discretization"/> its bin boundaries. (String and integer
/// vocabularies adapt through <see cref="Layer.Adapt(IEnumerable{string})"/>.)</summary>
public static class LayerAdaptExtensions
{
    /// <summary>Adapts the layer to <paramref name="data"/>.</summary>
    /// <param name="layer">A Normalization made without a mean and variance, or a Discretization made with <c>numBins</c>.</param>
    /// <param name="data">The data, batch first.</param>
    /// <exception cref="Fs.KerasException">When the layer does not adapt on tensors, or the data does not fit it.</exception>
    public static void Adapt(this Layer layer, Tensor data) => Fs.Adapt.tensor(layer.Core, data);

    /// <summary>Adapts over batches, as Keras's <c>adapt</c> on a dataset (Normalization: the same as adapting their
    /// concatenation).</summary>
    /// <param name="layer">As <see cref="Adapt(Layer, Tensor)"/>.</param>
    /// <param name="batches">The batches.</param>
    /// <exception cref="Fs.KerasException">When there is no batch, or as <see cref="Adapt(Layer, Tensor)"/>.</exception>
    public static void Adapt(this Layer layer, IEnumerable<Tensor> batches) => Fs.Adapt.batches(layer.Core, batches);
}
