using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Collections;
using Fs = global::Keras;
using Tensor = TorchSharp.torch.Tensor;

namespace Keras.CSharp;

/// <summary>A layer: call it on symbolic tensors to build a graph (<c>layer.Call(x)</c>), or on tensors to run it.
/// Write your own by subclassing <see cref="CustomLayer"/>.</summary>
public class Layer
{
    private Fs.Layer? core;

    internal Layer(Fs.Layer core) => this.core = core;

    /// <summary>For <see cref="CustomLayer"/>, whose core layer is made on first use.</summary>
    private protected Layer() { }

    /// <summary>The core's layer.</summary>
    internal Fs.Layer Core => core ??= CreateCore();

    /// <summary>Makes the core layer of a layer defined by a subclass.</summary>
    private protected virtual Fs.Layer CreateCore() => throw new InvalidOperationException("This layer has no definition.");

    /// <summary>The input of the layer's first call (Keras's <c>layer.input</c>); for an input layer, the tensor it makes.</summary>
    /// <exception cref="Fs.KerasException">When the layer was never called, or its first call took several inputs (see <see cref="Inputs"/>).</exception>
    public KerasTensor Input => new(Fs.LayerModule.input(Core));

    /// <summary>The output of the layer's first call (Keras's <c>layer.output</c>), for feature extraction:
    /// <c>new Model(vgg.Inputs[0], vgg.Layers.Select(l =&gt; l.Output).ToArray())</c>.</summary>
    /// <exception cref="Fs.KerasException">When the layer was never called, or has several outputs (see <see cref="Outputs"/>).</exception>
    public KerasTensor Output => new(Fs.LayerModule.output(Core));

    /// <summary>Every input of the layer's first call (Keras's <c>layer.input</c> as a list).</summary>
    /// <exception cref="Fs.KerasException">When the layer was never called.</exception>
    public IReadOnlyList<KerasTensor> Inputs => KerasTensor.Wrap(Fs.LayerModule.inputs(Core));

    /// <summary>Every output of the layer's first call (Keras's <c>layer.output</c> as a list).</summary>
    /// <exception cref="Fs.KerasException">When the layer was never called.</exception>
    public IReadOnlyList<KerasTensor> Outputs => KerasTensor.Wrap(Fs.LayerModule.outputs(Core));

    /// <summary>
    /// Keras's <c>layer.trainable</c>. Setting it false freezes the layer and every layer it holds: <see cref="Model.Fit"/>
    /// leaves their weights unchanged, the summary counts them as non-trainable, and a frozen BatchNormalization runs in
    /// inference mode. As in Keras, call <see cref="Model.Compile"/> again after changing it.
    /// </summary>
    public bool Trainable
    {
        get => Fs.LayerModule.isTrainable(Core);
        set => Fs.LayerModule.setTrainable(value, Core);
    }

    /// <summary>The layer's name ("dense", "dense_1", ... unless given).</summary>
    public string Name => Core.Name;

    /// <summary>The Keras class name ("Dense", "Conv2D", ...).</summary>
    public string ClassName => Core.ClassName;

    /// <summary>Calls the layer on one symbolic tensor.</summary>
    /// <param name="input">The input tensor.</param>
    /// <returns>The output tensor.</returns>
    /// <exception cref="Fs.KerasException">When the input does not fit the layer (Keras's message).</exception>
    public KerasTensor Call(KerasTensor input) => new(Fs.LayerModule.call(Core, input.Core));

    /// <summary>Calls a layer that takes several inputs (a merge layer) and has one output.</summary>
    /// <param name="inputs">The input tensors.</param>
    /// <returns>The output tensor.</returns>
    public KerasTensor Call(params KerasTensor[] inputs) => new(ListModule.ExactlyOne(Fs.LayerModule.callMany(Core, KerasTensor.Cores(inputs))));

    /// <summary>Calls the layer on symbolic tensors and returns every output (e.g. an LSTM with <c>returnState</c>).</summary>
    /// <param name="inputs">The input tensors.</param>
    /// <returns>The output tensors, in the layer's order.</returns>
    public IReadOnlyList<KerasTensor> CallMany(params KerasTensor[] inputs) => KerasTensor.Wrap(Fs.LayerModule.callMany(Core, KerasTensor.Cores(inputs)));

    /// <summary>Calls a recurrent layer on a sequence with Keras's <c>initial_state=[...]</c> (an LSTM's h and c);
    /// returns all the layer's outputs.</summary>
    /// <param name="input">The sequence (batch, time, features).</param>
    /// <param name="initialState">The initial states.</param>
    public IReadOnlyList<KerasTensor> Call(KerasTensor input, IReadOnlyList<KerasTensor> initialState) =>
        KerasTensor.Wrap(Fs.LayerModule.callMany(Core, KerasTensor.Cores(new[] { input }.Concat(initialState).ToArray())));

    /// <summary>Keras's <c>reset_states</c>: a stateful recurrent layer's next call starts from zero states.</summary>
    public void ResetStates() => Fs.RNNLayers.resetStates(Core);

    /// <summary>Runs the layer eagerly on a tensor, building its weights on the first call.</summary>
    /// <param name="input">A concrete tensor with the batch axis first.</param>
    /// <param name="training">Training behaviour (Dropout drops, BatchNormalization uses batch statistics).</param>
    /// <returns>The output tensor.</returns>
    public Tensor Call(Tensor input, bool training = false) => ListModule.ExactlyOne(Fs.LayerModule.callEager(Core, training, Fx.List(new[] { input })));

    // ---- Text and lookup preprocessing (issue 13) ----

    /// <summary>Runs a string layer (StringLookup, Hashing, TextVectorization) on one string per sample.</summary>
    /// <param name="texts">The strings.</param>
    /// <returns>The output tensor.</returns>
    public Tensor Call(string[] texts) => ListModule.ExactlyOne(Fs.LayerModule.callEager(Core, false, Fx.List(new[] { Fs.StringTensor.ofArray(texts) })));

    /// <summary>Runs a string layer on rows of strings.</summary>
    /// <param name="texts">The strings.</param>
    /// <returns>The output tensor.</returns>
    public Tensor Call(string[,] texts) => ListModule.ExactlyOne(Fs.LayerModule.callEager(Core, false, Fx.List(new[] { Fs.StringTensor.ofArray2D(texts) })));

    /// <summary>Learns the vocabulary of a StringLookup or TextVectorization (Keras's <c>adapt</c>), one document per string.</summary>
    /// <param name="texts">The strings.</param>
    public void Adapt(IEnumerable<string> texts) => Fs.TextLayers.Vocabulary.adaptStrings(Core, texts);

    /// <summary>Learns the vocabulary of an IntegerLookup (Keras's <c>adapt</c>).</summary>
    /// <param name="values">The integers.</param>
    public void Adapt(IEnumerable<long> values) => Fs.TextLayers.Vocabulary.adaptIntegers(Core, values);

    /// <summary>Keras's <c>get_vocabulary</c>: the token of each index (IntegerLookup's as decimal text).</summary>
    /// <param name="includeSpecialTokens">Include the mask and OOV tokens first.</param>
    public IReadOnlyList<string> GetVocabulary(bool includeSpecialTokens = true) => Fs.TextLayers.Vocabulary.get(Core, includeSpecialTokens).ToArray();

    /// <summary>Keras's <c>set_vocabulary</c>.</summary>
    /// <param name="vocabulary">The tokens, optionally preceded by the special tokens.</param>
    /// <param name="idfWeights">Idf weights, for "tf_idf" mode.</param>
    public void SetVocabulary(IEnumerable<string> vocabulary, IEnumerable<double>? idfWeights = null) =>
        Fs.TextLayers.Vocabulary.set(Core, Fx.List(vocabulary), idfWeights is null ? null : Fx.Some(Fx.List(idfWeights)));

    /// <summary>Keras's <c>vocabulary_size()</c>: tokens plus mask and OOV indices.</summary>
    public int VocabularySize() => Fs.TextLayers.Vocabulary.size(Core);

    /// <summary>Number of scalars in the layer's weights (Keras's <c>count_params</c>).</summary>
    public long CountParams() => Fs.LayerModule.countParams(Core);

    /// <summary>Copies of the layer's weights in Keras's order and layouts (Keras's <c>get_weights</c>).</summary>
    public IReadOnlyList<Tensor> GetWeights() => Fs.LayerModule.getWeights(Core).ToArray();

    /// <summary>Sets the layer's weights from values in Keras's order and layouts (Keras's <c>set_weights</c>).</summary>
    /// <param name="weights">One tensor per weight.</param>
    /// <exception cref="Fs.KerasException">When the count or a shape differs.</exception>
    public void SetWeights(params Tensor[] weights) => Fs.LayerModule.setWeights(Core, Fx.List(weights));

    /// <summary>Keras's <c>get_config</c> as JSON, with Keras's keys: the config a saved file holds for this layer (Keras
    /// 3.1.1's keys, see <c>KerasFile.KerasVersion</c>). A <see cref="CustomLayer"/> overrides it to add its
    /// constructor's arguments: <c>var config = base.GetConfig(); config["units"] = units; return config;</c>.</summary>
    public virtual JsonObject GetConfig() => Fs.LayerSerialization.layerConfig(Core);

    /// <summary>Keras's representation, e.g. <c>&lt;Dense name=dense&gt;</c>.</summary>
    public override string ToString() => Core.ToString();

    /// <summary>Two wrappers are equal when they wrap the same layer (sharing its weights).</summary>
    public override bool Equals(object? obj) => obj is Layer other && Core.Equals(other.Core);

    /// <summary>The wrapped layer's hash.</summary>
    public override int GetHashCode() => Core.GetHashCode();
}
