using System.Collections.Generic;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// Layer constructors with Keras's names, arguments and defaults: <c>Layers.Dense(64, activation: "relu")</c>.
/// Each returns a <see cref="Layer"/> to call on symbolic tensors: <c>Layers.Dense(10).Call(x)</c>.
/// Arguments left out (or null) take Keras's defaults; names are Keras's in camelCase.
/// </summary>
public static class Layers
{
    /// <summary>A symbolic input: the same as <see cref="Keras.Input"/> (Keras's <c>keras.layers.Input</c>).</summary>
    /// <param name="shape">The sample shape without the batch axis; -1 for an unknown size.</param>
    /// <param name="dtype">Keras dtype name; "float32" by default.</param>
    /// <param name="name">The input layer's name.</param>
    /// <param name="batchShape">The full shape with the batch axis, instead of <paramref name="shape"/>.</param>
    public static KerasTensor Input(int[]? shape = null, string dtype = "float32", string? name = null, int[]? batchShape = null) =>
        Keras.Input(shape, dtype, name, batchShape);

    // ---- Core ----

    /// <summary>Densely connected layer: <c>activation(dot(input, kernel) + bias)</c>; kernel (in, units), bias (units).</summary>
    /// <param name="units">Size of the output's last axis.</param>
    /// <param name="activation">Keras activation name ("relu", "softmax", ...); linear when null.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="name">Layer name; "dense", "dense_1", ... by default.</param>
    public static Layer Dense(int units, string? activation = null, bool useBias = true, string? name = null) =>
        new(Fs.Layers.Dense(units, activation: Fx.Activation(activation), useBias: Fx.Some(useBias), kernelInitializer: null, biasInitializer: null,
            kernelRegularizer: null, biasRegularizer: null, activityRegularizer: null, kernelConstraint: null, biasConstraint: null, name: Fx.Ref(name)));

    /// <summary>Applies an activation function by Keras name.</summary>
    /// <param name="activation">Keras activation name.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Activation(string activation, string? name = null) => new(Fs.Layers.Activation(Fs.Activation.Parse(activation), Fx.Ref(name)));

    /// <summary>Randomly zeroes a fraction <paramref name="rate"/> of the inputs during training only.</summary>
    /// <param name="rate">Fraction of inputs to drop, in [0, 1).</param>
    /// <param name="seed">Seed of the dropout mask; the global generator when null.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Dropout(double rate, int? seed = null, string? name = null) => new(Fs.Layers.Dropout(rate, Fx.Val(seed), Fx.Ref(name)));

    /// <summary>Flattens each sample to one axis.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Flatten(string? name = null) => new(Fs.Layers.Flatten(Fx.Ref(name)));

    /// <summary>Reshapes each sample to <paramref name="targetShape"/> (the batch axis is kept; one entry may be -1).</summary>
    /// <param name="targetShape">The sample shape, e.g. <c>new[] { 28, 28, 1 }</c>.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Reshape(int[] targetShape, string? name = null) => new(Fs.Layers.Reshape(Fx.List(targetShape), Fx.Ref(name)));

    // ---- Merging ----

    /// <summary>Adds its inputs elementwise.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Add(string? name = null) => new(Fs.Layers.Add(Fx.Ref(name)));

    /// <summary>Subtracts its second input from its first.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Subtract(string? name = null) => new(Fs.Layers.Subtract(Fx.Ref(name)));

    /// <summary>Multiplies its inputs elementwise.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Multiply(string? name = null) => new(Fs.Layers.Multiply(Fx.Ref(name)));

    /// <summary>Averages its inputs elementwise.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Average(string? name = null) => new(Fs.Layers.Average(Fx.Ref(name)));

    /// <summary>Elementwise maximum of its inputs.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Maximum(string? name = null) => new(Fs.Layers.Maximum(Fx.Ref(name)));

    /// <summary>Elementwise minimum of its inputs.</summary>
    /// <param name="name">Layer name.</param>
    public static Layer Minimum(string? name = null) => new(Fs.Layers.Minimum(Fx.Ref(name)));

    /// <summary>Concatenates its inputs along <paramref name="axis"/>.</summary>
    /// <param name="axis">The axis; the last by default.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Concatenate(int axis = -1, string? name = null) => new(Fs.Layers.Concatenate(Fx.Some(axis), Fx.Ref(name)));

    /// <summary>Keras's <c>layers.add</c>: adds the tensors with a new Add layer.</summary>
    /// <param name="inputs">Tensors of the same shape.</param>
    public static KerasTensor AddTensors(params KerasTensor[] inputs) => AddTensors(inputs, null);

    /// <summary>Keras's <c>layers.add</c> with a layer name.</summary>
    /// <param name="inputs">Tensors of the same shape.</param>
    /// <param name="name">The Add layer's name.</param>
    public static KerasTensor AddTensors(IEnumerable<KerasTensor> inputs, string? name = null) =>
        new(Fs.Layers.add(KerasTensor.Cores(inputs), Fx.Ref(name)));

    /// <summary>Keras's <c>layers.average</c>: averages the tensors with a new Average layer.</summary>
    /// <param name="inputs">Tensors of the same shape.</param>
    public static KerasTensor AverageTensors(params KerasTensor[] inputs) => AverageTensors(inputs, null);

    /// <summary>Keras's <c>layers.average</c> with a layer name.</summary>
    /// <param name="inputs">Tensors of the same shape.</param>
    /// <param name="name">The Average layer's name.</param>
    public static KerasTensor AverageTensors(IEnumerable<KerasTensor> inputs, string? name = null) =>
        new(Fs.Layers.average(KerasTensor.Cores(inputs), Fx.Ref(name)));

    /// <summary>Keras's <c>layers.concatenate</c>: concatenates the tensors along the last axis.</summary>
    /// <param name="inputs">Tensors whose shapes agree except on the last axis.</param>
    public static KerasTensor ConcatenateTensors(params KerasTensor[] inputs) => ConcatenateTensors(inputs, -1, null);

    /// <summary>Keras's <c>layers.concatenate</c> along <paramref name="axis"/>.</summary>
    /// <param name="inputs">Tensors whose shapes agree except on <paramref name="axis"/>.</param>
    /// <param name="axis">The axis; the last by default.</param>
    /// <param name="name">The Concatenate layer's name.</param>
    public static KerasTensor ConcatenateTensors(IEnumerable<KerasTensor> inputs, int axis = -1, string? name = null) =>
        new(Fs.Layers.concatenate(KerasTensor.Cores(inputs), Fx.Some(axis), Fx.Ref(name)));

    // ---- Convolution and pooling (channels last) ----

    /// <summary>1D convolution over (batch, steps, channels); kernel (kernelSize, channels / groups, filters).</summary>
    /// <param name="filters">Number of output channels.</param>
    /// <param name="kernelSize">Window length.</param>
    /// <param name="strides">Step between windows.</param>
    /// <param name="padding">"valid", "same" or "causal".</param>
    /// <param name="activation">Keras activation name; linear when null.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="dilationRate">Spacing between kernel taps.</param>
    /// <param name="groups">Number of channel groups.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Conv1D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, bool useBias = true,
        int dilationRate = 1, int groups = 1, string? name = null) =>
        new(Fs.Layers.Conv1D(filters, Fx.Dims(kernelSize), strides: Fx.Some(Fx.Dims(strides)), padding: Fx.Some(padding), dataFormat: null,
            dilationRate: Fx.Some(Fx.Dims(dilationRate)), groups: Fx.Some(groups), activation: Fx.Activation(activation), useBias: Fx.Some(useBias),
            kernelInitializer: null, biasInitializer: null, kernelRegularizer: null, biasRegularizer: null, activityRegularizer: null,
            kernelConstraint: null, biasConstraint: null, name: Fx.Ref(name)));

    /// <summary>2D convolution over (batch, height, width, channels) with a square window; kernel (k, k, channels / groups, filters).
    /// <c>Layers.Conv2D(16, 3)</c> on one channel has 160 parameters.</summary>
    /// <param name="filters">Number of output channels.</param>
    /// <param name="kernelSize">Window height and width.</param>
    /// <param name="strides">Step between windows on both axes.</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="activation">Keras activation name; linear when null.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="dilationRate">Spacing between kernel taps on both axes.</param>
    /// <param name="groups">Number of channel groups.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Conv2D(int filters, int kernelSize, int strides = 1, string padding = "valid", string? activation = null, bool useBias = true,
        int dilationRate = 1, int groups = 1, string? name = null) =>
        new(Fs.Layers.Conv2D(filters, Fx.Dims(kernelSize), strides: Fx.Some(Fx.Dims(strides)), padding: Fx.Some(padding), dataFormat: null,
            dilationRate: Fx.Some(Fx.Dims(dilationRate)), groups: Fx.Some(groups), activation: Fx.Activation(activation), useBias: Fx.Some(useBias),
            kernelInitializer: null, biasInitializer: null, kernelRegularizer: null, biasRegularizer: null, activityRegularizer: null,
            kernelConstraint: null, biasConstraint: null, name: Fx.Ref(name)));

    /// <summary>Max pooling over rows and columns with a square window.</summary>
    /// <param name="poolSize">Window height and width.</param>
    /// <param name="strides">Step between windows; the pool size when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="name">Layer name.</param>
    public static Layer MaxPooling2D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null) =>
        new(Fs.Layers.MaxPooling2D(Fx.Some(poolSize), Fx.Val(strides), Fx.Some(padding), Fx.Ref(name)));

    /// <summary>Average pooling over rows and columns with a square window.</summary>
    /// <param name="poolSize">Window height and width.</param>
    /// <param name="strides">Step between windows; the pool size when null.</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="name">Layer name.</param>
    public static Layer AveragePooling2D(int poolSize = 2, int? strides = null, string padding = "valid", string? name = null) =>
        new(Fs.Layers.AveragePooling2D(Fx.Some(poolSize), Fx.Val(strides), Fx.Some(padding), Fx.Ref(name)));

    /// <summary>The maximum over rows and columns: (batch, height, width, channels) to (batch, channels).</summary>
    /// <param name="keepdims">Keep the pooled axes with size 1.</param>
    /// <param name="name">Layer name.</param>
    public static Layer GlobalMaxPooling2D(bool keepdims = false, string? name = null) => new(Fs.Layers.GlobalMaxPooling2D(Fx.Some(keepdims), Fx.Ref(name)));

    /// <summary>The mean over rows and columns: (batch, height, width, channels) to (batch, channels).</summary>
    /// <param name="keepdims">Keep the pooled axes with size 1.</param>
    /// <param name="name">Layer name.</param>
    public static Layer GlobalAveragePooling2D(bool keepdims = false, string? name = null) =>
        new(Fs.Layers.GlobalAveragePooling2D(Fx.Some(keepdims), Fx.Ref(name)));

    /// <summary>The maximum over the time axis: (batch, steps, features) to (batch, features).</summary>
    /// <param name="keepdims">Keep the pooled axis with size 1.</param>
    /// <param name="name">Layer name.</param>
    public static Layer GlobalMaxPooling1D(bool keepdims = false, string? name = null) => new(Fs.Layers.GlobalMaxPooling1D(Fx.Some(keepdims), Fx.Ref(name)));

    /// <summary>The mean over the time axis (masked steps left out): (batch, steps, features) to (batch, features).</summary>
    /// <param name="keepdims">Keep the pooled axis with size 1.</param>
    /// <param name="name">Layer name.</param>
    public static Layer GlobalAveragePooling1D(bool keepdims = false, string? name = null) =>
        new(Fs.Layers.GlobalAveragePooling1D(Fx.Some(keepdims), Fx.Ref(name)));

    // ---- Embedding and recurrent ----

    /// <summary>Turns integer indices into vectors: (…) ints to (…, outputDim) float32; weight <c>embeddings</c> (inputDim, outputDim).</summary>
    /// <param name="inputDim">Vocabulary size (largest index + 1).</param>
    /// <param name="outputDim">Vector size.</param>
    /// <param name="maskZero">Treat index 0 as padding and mask it for the layers after.</param>
    /// <param name="name">Layer name.</param>
    public static Layer Embedding(int inputDim, int outputDim, bool maskZero = false, string? name = null) =>
        new(Fs.Layers.Embedding(inputDim, outputDim, embeddingsInitializer: null, maskZero: Fx.Some(maskZero), embeddingsRegularizer: null,
            activityRegularizer: null, embeddingsConstraint: null, name: Fx.Ref(name)));

    /// <summary>Long Short-Term Memory over (batch, steps, features); gates i, f, c, o. With <paramref name="returnState"/>,
    /// use <see cref="Layer.CallMany"/> to get [output, h, c].</summary>
    /// <param name="units">Size of the state.</param>
    /// <param name="activation">Keras activation name of the cell and output.</param>
    /// <param name="recurrentActivation">Keras activation name of the gates.</param>
    /// <param name="useBias">Whether to add biases.</param>
    /// <param name="dropout">Dropout rate of the inputs, in training.</param>
    /// <param name="recurrentDropout">Dropout rate of the recurrent state, in training.</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the final states.</param>
    /// <param name="goBackwards">Process the sequence backwards.</param>
    /// <param name="stateful">Keep the final states of a batch as the initial ones of the next.</param>
    /// <param name="seed">Seed of the dropout masks.</param>
    /// <param name="name">Layer name.</param>
    public static Layer LSTM(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, double dropout = 0.0,
        double recurrentDropout = 0.0, bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false,
        int? seed = null, string? name = null) =>
        new(Fs.Layers.LSTM(units, activation: Fx.Activation(activation), recurrentActivation: Fx.Activation(recurrentActivation), useBias: Fx.Some(useBias),
            kernelInitializer: null, recurrentInitializer: null, biasInitializer: null, unitForgetBias: null, dropout: Fx.Some(dropout),
            recurrentDropout: Fx.Some(recurrentDropout), returnSequences: Fx.Some(returnSequences), returnState: Fx.Some(returnState),
            goBackwards: Fx.Some(goBackwards), stateful: Fx.Some(stateful), seed: Fx.Val(seed), kernelRegularizer: null, recurrentRegularizer: null,
            biasRegularizer: null, activityRegularizer: null, kernelConstraint: null, recurrentConstraint: null, biasConstraint: null, name: Fx.Ref(name)));

    /// <summary>Gated Recurrent Unit over (batch, steps, features); gates z, r, h.</summary>
    /// <param name="units">Size of the state.</param>
    /// <param name="activation">Keras activation name of the candidate state.</param>
    /// <param name="recurrentActivation">Keras activation name of the gates.</param>
    /// <param name="useBias">Whether to add biases.</param>
    /// <param name="dropout">Dropout rate of the inputs, in training.</param>
    /// <param name="recurrentDropout">Dropout rate of the recurrent state, in training.</param>
    /// <param name="resetAfter">Apply the reset gate after the recurrent product (Keras 3's default; bias (2, 3·units)).</param>
    /// <param name="returnSequences">Return every step's output instead of the last.</param>
    /// <param name="returnState">Also return the final state.</param>
    /// <param name="goBackwards">Process the sequence backwards.</param>
    /// <param name="stateful">Keep the final state of a batch as the initial one of the next.</param>
    /// <param name="seed">Seed of the dropout masks.</param>
    /// <param name="name">Layer name.</param>
    public static Layer GRU(int units, string activation = "tanh", string recurrentActivation = "sigmoid", bool useBias = true, double dropout = 0.0,
        double recurrentDropout = 0.0, bool resetAfter = true, bool returnSequences = false, bool returnState = false, bool goBackwards = false,
        bool stateful = false, int? seed = null, string? name = null) =>
        new(Fs.Layers.GRU(units, activation: Fx.Activation(activation), recurrentActivation: Fx.Activation(recurrentActivation), useBias: Fx.Some(useBias),
            kernelInitializer: null, recurrentInitializer: null, biasInitializer: null, dropout: Fx.Some(dropout), recurrentDropout: Fx.Some(recurrentDropout),
            resetAfter: Fx.Some(resetAfter), returnSequences: Fx.Some(returnSequences), returnState: Fx.Some(returnState), goBackwards: Fx.Some(goBackwards),
            stateful: Fx.Some(stateful), seed: Fx.Val(seed), kernelRegularizer: null, recurrentRegularizer: null, biasRegularizer: null,
            activityRegularizer: null, kernelConstraint: null, recurrentConstraint: null, biasConstraint: null, name: Fx.Ref(name)));

    /// <summary>Runs a recurrent layer forwards and a copy backwards and merges their outputs.</summary>
    /// <param name="layer">The recurrent layer.</param>
    /// <param name="mergeMode">"concat", "sum", "mul" or "ave"; null returns both outputs (call with <see cref="Layer.CallMany"/>).</param>
    /// <param name="name">Layer name.</param>
    public static Layer Bidirectional(Layer layer, string? mergeMode = "concat", string? name = null) =>
        new(Fs.Layers.Bidirectional(layer.Core, Fx.Some(mergeMode), Fx.Ref(name)));

    /// <summary>Applies <paramref name="layer"/> to every step of a (batch, steps, ...) input, sharing its weights.</summary>
    /// <param name="layer">The layer to apply.</param>
    /// <param name="name">Layer name.</param>
    public static Layer TimeDistributed(Layer layer, string? name = null) => new(Fs.Layers.TimeDistributed(layer.Core, Fx.Ref(name)));

    // ---- Normalization ----

    /// <summary>Batch normalization: batch statistics in training, moving ones at inference.</summary>
    /// <param name="axis">The feature axis.</param>
    /// <param name="momentum">Momentum of the moving statistics.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="center">Learn an offset (beta).</param>
    /// <param name="scale">Learn a scale (gamma).</param>
    /// <param name="name">Layer name.</param>
    public static Layer BatchNormalization(int axis = -1, double momentum = 0.99, double epsilon = 0.001, bool center = true, bool scale = true,
        string? name = null) =>
        new(Fs.Layers.BatchNormalization(Fx.Some(axis), Fx.Some(momentum), Fx.Some(epsilon), Fx.Some(center), Fx.Some(scale),
            betaInitializer: null, gammaInitializer: null, movingMeanInitializer: null, movingVarianceInitializer: null, name: Fx.Ref(name)));

    /// <summary>Layer normalization over the last axis.</summary>
    /// <param name="axis">The normalized axis.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <param name="center">Learn an offset (beta).</param>
    /// <param name="scale">Learn a scale (gamma).</param>
    /// <param name="name">Layer name.</param>
    public static Layer LayerNormalization(int axis = -1, double epsilon = 0.001, bool center = true, bool scale = true, string? name = null) =>
        new(Fs.Layers.LayerNormalization(Fx.Some(Fx.List(new[] { axis })), Fx.Some(epsilon), Fx.Some(center), Fx.Some(scale),
            betaInitializer: null, gammaInitializer: null, name: Fx.Ref(name)));
}
