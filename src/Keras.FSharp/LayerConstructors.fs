namespace Keras

/// Turning Keras-style tuples into the lists the layer configs take.
module internal Tuples =
    let pair (a: int, b: int) = [ a; b ]
    let triple (a: int, b: int, c: int) = [ a; b; c ]

/// <summary>Layer constructors with Keras's names, arguments and defaults: <c>Layers.Dense(64, activation = "relu")</c>.</summary>
[<AbstractClass; Sealed>]
type Layers =
    /// <summary>Densely connected layer: <c>activation(dot(input, kernel) + bias)</c>.</summary>
    /// <param name="units">Size of the output's last axis.</param>
    /// <param name="activation">Activation by value or Keras name; linear by default.</param>
    /// <param name="useBias">Whether to add a bias; true by default.</param>
    /// <param name="kernelInitializer">glorot_uniform by default.</param>
    /// <param name="biasInitializer">zeros by default.</param>
    /// <param name="kernelRegularizer">Penalty on the kernel (e.g. <c>L2 0.01</c> or <c>"l2"</c>); none by default.</param>
    /// <param name="biasRegularizer">Penalty on the bias; none by default.</param>
    /// <param name="activityRegularizer">Penalty on the output, summed over the batch; none by default.</param>
    /// <param name="kernelConstraint">Projection of the kernel after each step (e.g. <c>MaxNorm(1.0, [ 0 ])</c>).</param>
    /// <param name="biasConstraint">Projection of the bias after each step.</param>
    /// <param name="name">Layer name; "dense", "dense_1", ... by default.</param>
    static member Dense
        (
            units: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = CoreLayers.DenseConfig.Default units

        CoreLayers.dense
            { d with
                Activation = defaultArg activation d.Activation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                KernelRegularizer = kernelRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                BiasConstraint = biasConstraint
            }
            name

    /// <summary>Applies an activation function.</summary>
    static member Activation(activation: Activation, ?name: string) : Layer = CoreLayers.activation activation name

    /// <summary>Randomly zeroes a fraction <paramref name="rate"/> of inputs during training only.</summary>
    static member Dropout(rate: float, ?seed: int, ?name: string) : Layer = CoreLayers.dropout rate seed name

    /// <summary>Flattens each sample to one axis.</summary>
    static member Flatten(?name: string) : Layer = ReshapingLayers.flatten name

    /// <summary>Reshapes each sample to <paramref name="targetShape"/> (one entry may be -1).</summary>
    static member Reshape(targetShape: int list, ?name: string) : Layer =
        ReshapingLayers.reshape targetShape name

    /// <summary>Adds inputs elementwise.</summary>
    static member Add(?name: string) : Layer = MergingLayers.add name

    /// <summary>Subtracts the second input from the first.</summary>
    static member Subtract(?name: string) : Layer = MergingLayers.subtract name

    /// <summary>Multiplies inputs elementwise.</summary>
    static member Multiply(?name: string) : Layer = MergingLayers.multiply name

    /// <summary>Averages inputs elementwise.</summary>
    static member Average(?name: string) : Layer = MergingLayers.average name

    /// <summary>Elementwise maximum of the inputs.</summary>
    static member Maximum(?name: string) : Layer = MergingLayers.maximum name

    /// <summary>Elementwise minimum of the inputs.</summary>
    static member Minimum(?name: string) : Layer = MergingLayers.minimum name

    /// <summary>Concatenates inputs along <paramref name="axis"/> (-1 by default).</summary>
    static member Concatenate(?axis: int, ?name: string) : Layer =
        MergingLayers.concatenate (defaultArg axis -1) name

    // ---- Embedding and masking ----

    /// <summary>Turns integer indices into vectors: (…) int to (…, outputDim) float32; weight <c>embeddings</c>
    /// (inputDim, outputDim); with <paramref name="maskZero"/>, index 0 is padding and masked.</summary>
    static member Embedding
        (
            inputDim: int,
            outputDim: int,
            ?embeddingsInitializer: Initializer,
            ?maskZero: bool,
            ?embeddingsRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?embeddingsConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = EmbeddingLayers.EmbeddingConfig.Default(inputDim, outputDim)

        EmbeddingLayers.embedding
            { d with
                EmbeddingsInitializer = defaultArg embeddingsInitializer d.EmbeddingsInitializer
                MaskZero = defaultArg maskZero d.MaskZero
                EmbeddingsRegularizer = embeddingsRegularizer
                ActivityRegularizer = activityRegularizer
                EmbeddingsConstraint = embeddingsConstraint
            }
            name

    /// <summary>Masks timesteps whose features all equal <paramref name="maskValue"/> (0.0 by default).</summary>
    static member Masking(?maskValue: float, ?name: string) : Layer =
        EmbeddingLayers.masking (defaultArg maskValue 0.0) name

    // ---- Recurrent (Keras 3 defaults: tanh, sigmoid gates, orthogonal recurrent kernels) ----

    /// <summary>Fully-connected RNN: <c>h = activation(x·kernel + h·recurrent_kernel + bias)</c>.</summary>
    static member SimpleRNN
        (
            units: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?recurrentInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?dropout: float,
            ?recurrentDropout: float,
            ?returnSequences: bool,
            ?returnState: bool,
            ?goBackwards: bool,
            ?stateful: bool,
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.SimpleRNNConfig.Default units

        RecurrentLayers.simpleRNN
            { d with
                Activation = defaultArg activation d.Activation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                RecurrentInitializer = defaultArg recurrentInitializer d.RecurrentInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                Dropout = defaultArg dropout d.Dropout
                RecurrentDropout = defaultArg recurrentDropout d.RecurrentDropout
                ReturnSequences = defaultArg returnSequences d.ReturnSequences
                ReturnState = defaultArg returnState d.ReturnState
                GoBackwards = defaultArg goBackwards d.GoBackwards
                Stateful = defaultArg stateful d.Stateful
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Long Short-Term Memory (gates i, f, c, o); kernel (features, 4·units), recurrent_kernel (units, 4·units),
    /// bias (4·units); with <paramref name="returnState"/> the outputs are [output; h; c].</summary>
    static member LSTM
        (
            units: int,
            ?activation: Activation,
            ?recurrentActivation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?recurrentInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?unitForgetBias: bool,
            ?dropout: float,
            ?recurrentDropout: float,
            ?returnSequences: bool,
            ?returnState: bool,
            ?goBackwards: bool,
            ?stateful: bool,
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.LSTMConfig.Default units

        RecurrentLayers.lstm
            { d with
                Activation = defaultArg activation d.Activation
                RecurrentActivation = defaultArg recurrentActivation d.RecurrentActivation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                RecurrentInitializer = defaultArg recurrentInitializer d.RecurrentInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                UnitForgetBias = defaultArg unitForgetBias d.UnitForgetBias
                Dropout = defaultArg dropout d.Dropout
                RecurrentDropout = defaultArg recurrentDropout d.RecurrentDropout
                ReturnSequences = defaultArg returnSequences d.ReturnSequences
                ReturnState = defaultArg returnState d.ReturnState
                GoBackwards = defaultArg goBackwards d.GoBackwards
                Stateful = defaultArg stateful d.Stateful
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Gated Recurrent Unit (gates z, r, h); bias (2, 3·units) with <paramref name="resetAfter"/> (Keras 3's default).</summary>
    static member GRU
        (
            units: int,
            ?activation: Activation,
            ?recurrentActivation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?recurrentInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?dropout: float,
            ?recurrentDropout: float,
            ?resetAfter: bool,
            ?returnSequences: bool,
            ?returnState: bool,
            ?goBackwards: bool,
            ?stateful: bool,
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.GRUConfig.Default units

        RecurrentLayers.gru
            { d with
                Activation = defaultArg activation d.Activation
                RecurrentActivation = defaultArg recurrentActivation d.RecurrentActivation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                RecurrentInitializer = defaultArg recurrentInitializer d.RecurrentInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                Dropout = defaultArg dropout d.Dropout
                RecurrentDropout = defaultArg recurrentDropout d.RecurrentDropout
                ResetAfter = defaultArg resetAfter d.ResetAfter
                ReturnSequences = defaultArg returnSequences d.ReturnSequences
                ReturnState = defaultArg returnState d.ReturnState
                GoBackwards = defaultArg goBackwards d.GoBackwards
                Stateful = defaultArg stateful d.Stateful
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Runs copies of a recurrent layer forwards and backwards and merges their outputs ("concat" by default;
    /// "sum", "mul", "ave", or null for both outputs).</summary>
    static member Bidirectional(layer: Layer, ?mergeMode: string, ?name: string) : Layer =
        let mode =
            match mergeMode with
            | None -> Some "concat"
            | Some null -> None
            | Some m when m.Trim().ToLowerInvariant() = "none" -> None
            | Some m -> Some(m.Trim().ToLowerInvariant())

        RecurrentLayers.bidirectional layer mode name

    /// <summary>Applies <paramref name="layer"/> to every timestep of a (batch, time, ...) input, sharing its weights.</summary>
    static member TimeDistributed(layer: Layer, ?name: string) : Layer =
        RecurrentLayers.timeDistributed layer name

    /// <summary>Convolutional LSTM over (batch, time, rows, cols, channels); kernel (kh, kw, channels, 4·filters).</summary>
    static member ConvLSTM2D
        (
            filters: int,
            kernelSize: int * int,
            ?strides: int * int,
            ?padding: string,
            ?dilationRate: int * int,
            ?activation: Activation,
            ?recurrentActivation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?recurrentInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?unitForgetBias: bool,
            ?dropout: float,
            ?recurrentDropout: float,
            ?returnSequences: bool,
            ?returnState: bool,
            ?goBackwards: bool,
            ?seed: int,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.ConvLSTM2DConfig.Default(filters, kernelSize)

        RecurrentLayers.convLSTM2D
            { d with
                Strides = defaultArg strides d.Strides
                Padding = defaultArg padding d.Padding
                DilationRate = defaultArg dilationRate d.DilationRate
                Activation = defaultArg activation d.Activation
                RecurrentActivation = defaultArg recurrentActivation d.RecurrentActivation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                RecurrentInitializer = defaultArg recurrentInitializer d.RecurrentInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                UnitForgetBias = defaultArg unitForgetBias d.UnitForgetBias
                Dropout = defaultArg dropout d.Dropout
                RecurrentDropout = defaultArg recurrentDropout d.RecurrentDropout
                ReturnSequences = defaultArg returnSequences d.ReturnSequences
                ReturnState = defaultArg returnState d.ReturnState
                GoBackwards = defaultArg goBackwards d.GoBackwards
                Seed = seed
            }
            name

    // ---- Convolution (Keras's arguments; kernel sizes, strides and dilation take an int, a pair, a triple or a list) ----

    /// <summary>1D convolution over (batch, steps, channels); kernel (k, channels / groups, filters); padding "valid", "same" (extra padding at the end) or "causal".</summary>
    static member Conv1D
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?groups: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv1d
            (ConvolutionLayers.ConvConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?groups = groups,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>2D convolution over (batch, height, width, channels); kernel (kh, kw, channels / groups, filters). <c>Layers.Conv2D(16, 3)</c> on 1 channel has 160 parameters.</summary>
    static member Conv2D
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?groups: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv2d
            (ConvolutionLayers.ConvConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?groups = groups,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>3D convolution over (batch, d1, d2, d3, channels); kernel (k1, k2, k3, channels / groups, filters).</summary>
    static member Conv3D
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?groups: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv3d
            (ConvolutionLayers.ConvConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?groups = groups,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Transposed 1D convolution; kernel (k, filters, channels).</summary>
    static member Conv1DTranspose
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?outputPadding: ConvolutionLayers.Dims,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv1dTranspose
            (ConvolutionLayers.ConvTransposeConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?outputPadding = outputPadding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Transposed 2D convolution; kernel (kh, kw, filters, channels); "valid" output (n − 1)·s + max(k, s), "same" n·s.</summary>
    static member Conv2DTranspose
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?outputPadding: ConvolutionLayers.Dims,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv2dTranspose
            (ConvolutionLayers.ConvTransposeConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?outputPadding = outputPadding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Transposed 3D convolution; kernel (k1, k2, k3, filters, channels).</summary>
    static member Conv3DTranspose
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?outputPadding: ConvolutionLayers.Dims,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.conv3dTranspose
            (ConvolutionLayers.ConvTransposeConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?outputPadding = outputPadding,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?kernelInitializer = kernelInitializer,
                ?biasInitializer = biasInitializer,
                ?kernelRegularizer = kernelRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?kernelConstraint = kernelConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Depthwise 1D convolution: each channel with its own depthMultiplier filters; kernel (k, channels, depthMultiplier).</summary>
    static member DepthwiseConv1D
        (
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.depthwiseConv1d
            (ConvolutionLayers.DepthwiseConvConfig.Create(
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?depthMultiplier = depthMultiplier,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?depthwiseInitializer = depthwiseInitializer,
                ?biasInitializer = biasInitializer,
                ?depthwiseRegularizer = depthwiseRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?depthwiseConstraint = depthwiseConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Depthwise 2D convolution; kernel (kh, kw, channels, depthMultiplier).</summary>
    static member DepthwiseConv2D
        (
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.depthwiseConv2d
            (ConvolutionLayers.DepthwiseConvConfig.Create(
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?depthMultiplier = depthMultiplier,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?depthwiseInitializer = depthwiseInitializer,
                ?biasInitializer = biasInitializer,
                ?depthwiseRegularizer = depthwiseRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?depthwiseConstraint = depthwiseConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Separable 1D convolution: depthwise, then pointwise (1, channels · depthMultiplier, filters), then the bias.</summary>
    static member SeparableConv1D
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?pointwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?pointwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?pointwiseConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.separableConv1d
            (ConvolutionLayers.SeparableConvConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?depthMultiplier = depthMultiplier,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?depthwiseInitializer = depthwiseInitializer,
                ?pointwiseInitializer = pointwiseInitializer,
                ?biasInitializer = biasInitializer,
                ?depthwiseRegularizer = depthwiseRegularizer,
                ?pointwiseRegularizer = pointwiseRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?depthwiseConstraint = depthwiseConstraint,
                ?pointwiseConstraint = pointwiseConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    /// <summary>Separable 2D convolution: depthwise kernel (kh, kw, channels, depthMultiplier), pointwise kernel (1, 1, channels · depthMultiplier, filters).</summary>
    static member SeparableConv2D
        (
            filters: int,
            kernelSize: ConvolutionLayers.Dims,
            ?strides: ConvolutionLayers.Dims,
            ?padding: string,
            ?depthMultiplier: int,
            ?dataFormat: string,
            ?dilationRate: ConvolutionLayers.Dims,
            ?activation: Activation,
            ?useBias: bool,
            ?depthwiseInitializer: Initializer,
            ?pointwiseInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?depthwiseRegularizer: Regularizer,
            ?pointwiseRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?depthwiseConstraint: Constraint,
            ?pointwiseConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        ConvolutionLayers.separableConv2d
            (ConvolutionLayers.SeparableConvConfig.Create(
                filters,
                kernelSize,
                ?strides = strides,
                ?padding = padding,
                ?depthMultiplier = depthMultiplier,
                ?dataFormat = dataFormat,
                ?dilationRate = dilationRate,
                ?activation = activation,
                ?useBias = useBias,
                ?depthwiseInitializer = depthwiseInitializer,
                ?pointwiseInitializer = pointwiseInitializer,
                ?biasInitializer = biasInitializer,
                ?depthwiseRegularizer = depthwiseRegularizer,
                ?pointwiseRegularizer = pointwiseRegularizer,
                ?biasRegularizer = biasRegularizer,
                ?activityRegularizer = activityRegularizer,
                ?depthwiseConstraint = depthwiseConstraint,
                ?pointwiseConstraint = pointwiseConstraint,
                ?biasConstraint = biasConstraint
            ))
            name

    // ---- Pooling ----

    /// <summary>Max pooling over windows of the time axis (pool 2, strides = pool, "valid" by default).</summary>
    static member MaxPooling1D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.maxPooling1D
            (PoolingLayers.PoolingConfig.Of(
                1,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Max pooling over rows and columns with one window size for both (2 by default).</summary>
    static member MaxPooling2D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.maxPooling2D
            (PoolingLayers.PoolingConfig.Of(
                2,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Max pooling with a (rows, columns) window.</summary>
    static member MaxPooling2D(poolSize: int * int, ?strides: int * int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.maxPooling2D
            (PoolingLayers.PoolingConfig.Of(
                2,
                Tuples.pair poolSize,
                ?strides = Option.map Tuples.pair strides,
                ?padding = padding
            ))
            name

    /// <summary>Max pooling over the three spatial axes with one window size (2 by default).</summary>
    static member MaxPooling3D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.maxPooling3D
            (PoolingLayers.PoolingConfig.Of(
                3,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Max pooling with a (d1, d2, d3) window.</summary>
    static member MaxPooling3D
        (poolSize: int * int * int, ?strides: int * int * int, ?padding: string, ?name: string)
        : Layer =
        PoolingLayers.maxPooling3D
            (PoolingLayers.PoolingConfig.Of(
                3,
                Tuples.triple poolSize,
                ?strides = Option.map Tuples.triple strides,
                ?padding = padding
            ))
            name

    /// <summary>Average pooling over windows of the time axis; with "same" padding each window averages only its real cells.</summary>
    static member AveragePooling1D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.averagePooling1D
            (PoolingLayers.PoolingConfig.Of(
                1,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Average pooling over rows and columns with one window size (2 by default).</summary>
    static member AveragePooling2D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.averagePooling2D
            (PoolingLayers.PoolingConfig.Of(
                2,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Average pooling with a (rows, columns) window.</summary>
    static member AveragePooling2D(poolSize: int * int, ?strides: int * int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.averagePooling2D
            (PoolingLayers.PoolingConfig.Of(
                2,
                Tuples.pair poolSize,
                ?strides = Option.map Tuples.pair strides,
                ?padding = padding
            ))
            name

    /// <summary>Average pooling over the three spatial axes with one window size (2 by default).</summary>
    static member AveragePooling3D(?poolSize: int, ?strides: int, ?padding: string, ?name: string) : Layer =
        PoolingLayers.averagePooling3D
            (PoolingLayers.PoolingConfig.Of(
                3,
                ?poolSize = Option.map List.singleton poolSize,
                ?strides = Option.map List.singleton strides,
                ?padding = padding
            ))
            name

    /// <summary>Average pooling with a (d1, d2, d3) window.</summary>
    static member AveragePooling3D
        (poolSize: int * int * int, ?strides: int * int * int, ?padding: string, ?name: string)
        : Layer =
        PoolingLayers.averagePooling3D
            (PoolingLayers.PoolingConfig.Of(
                3,
                Tuples.triple poolSize,
                ?strides = Option.map Tuples.triple strides,
                ?padding = padding
            ))
            name

    /// <summary>The maximum over the time axis: (batch, steps, features) to (batch, features).</summary>
    static member GlobalMaxPooling1D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalMaxPooling1D { KeepDims = defaultArg keepdims false } name

    /// <summary>The maximum over rows and columns: (batch, height, width, channels) to (batch, channels).</summary>
    static member GlobalMaxPooling2D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalMaxPooling2D { KeepDims = defaultArg keepdims false } name

    /// <summary>The maximum over the three spatial axes.</summary>
    static member GlobalMaxPooling3D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalMaxPooling3D { KeepDims = defaultArg keepdims false } name

    /// <summary>The mean over the time axis; masked steps are left out of the mean.</summary>
    static member GlobalAveragePooling1D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalAveragePooling1D { KeepDims = defaultArg keepdims false } name

    /// <summary>The mean over rows and columns.</summary>
    static member GlobalAveragePooling2D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalAveragePooling2D { KeepDims = defaultArg keepdims false } name

    /// <summary>The mean over the three spatial axes.</summary>
    static member GlobalAveragePooling3D(?keepdims: bool, ?name: string) : Layer =
        PoolingLayers.globalAveragePooling3D { KeepDims = defaultArg keepdims false } name

    // ---- Reshaping ----

    /// <summary>Repeats each time step <paramref name="size"/> times (2 by default).</summary>
    static member UpSampling1D(?size: int, ?name: string) : Layer =
        ReshapingLayers.upSampling1D (defaultArg size 2) name

    /// <summary>Scales rows and columns by one factor (2 by default): "nearest" (default) or "bilinear" (half-pixel centres).</summary>
    static member UpSampling2D(?size: int, ?interpolation: string, ?name: string) : Layer =
        let s = defaultArg size 2

        ReshapingLayers.upSampling2D
            {
                Size = (s, s)
                Interpolation = defaultArg interpolation "nearest"
            }
            name

    /// <summary>Scales rows and columns by (rows, columns) factors.</summary>
    static member UpSampling2D(size: int * int, ?interpolation: string, ?name: string) : Layer =
        ReshapingLayers.upSampling2D
            {
                Size = size
                Interpolation = defaultArg interpolation "nearest"
            }
            name

    /// <summary>Repeats cells of the three spatial axes by one factor (2 by default).</summary>
    static member UpSampling3D(?size: int, ?name: string) : Layer =
        let s = defaultArg size 2
        ReshapingLayers.upSampling3D (s, s, s) name

    /// <summary>Repeats cells of the three spatial axes by (d1, d2, d3) factors.</summary>
    static member UpSampling3D(size: int * int * int, ?name: string) : Layer = ReshapingLayers.upSampling3D size name

    /// <summary>Adds zero steps on both sides of the time axis (1 by default).</summary>
    static member ZeroPadding1D(?padding: int, ?name: string) : Layer =
        let p = defaultArg padding 1
        ReshapingLayers.zeroPadding1D (p, p) name

    /// <summary>Adds (before, after) zero steps around the time axis.</summary>
    static member ZeroPadding1D(padding: int * int, ?name: string) : Layer =
        ReshapingLayers.zeroPadding1D padding name

    /// <summary>Adds the same number of zero rows and columns on every side (1 by default).</summary>
    static member ZeroPadding2D(?padding: int, ?name: string) : Layer =
        let p = defaultArg padding 1
        ReshapingLayers.zeroPadding2D ((p, p), (p, p)) name

    /// <summary>Adds (rows, columns) zeros, symmetric on each axis.</summary>
    static member ZeroPadding2D(padding: int * int, ?name: string) : Layer =
        let h, w = padding
        ReshapingLayers.zeroPadding2D ((h, h), (w, w)) name

    /// <summary>Adds ((top, bottom), (left, right)) zero rows and columns.</summary>
    static member ZeroPadding2D(padding: (int * int) * (int * int), ?name: string) : Layer =
        ReshapingLayers.zeroPadding2D padding name

    /// <summary>Adds the same number of zeros on both sides of the three spatial axes (1 by default).</summary>
    static member ZeroPadding3D(?padding: int, ?name: string) : Layer =
        let p = defaultArg padding 1
        ReshapingLayers.zeroPadding3D ((p, p), (p, p), (p, p)) name

    /// <summary>Adds ((before, after), ...) zeros per spatial axis.</summary>
    static member ZeroPadding3D(padding: (int * int) * (int * int) * (int * int), ?name: string) : Layer =
        ReshapingLayers.zeroPadding3D padding name

    /// <summary>Removes steps from both ends of the time axis (1 by default).</summary>
    static member Cropping1D(?cropping: int, ?name: string) : Layer =
        let c = defaultArg cropping 1
        ReshapingLayers.cropping1D (c, c) name

    /// <summary>Removes (start, end) steps from the time axis.</summary>
    static member Cropping1D(cropping: int * int, ?name: string) : Layer =
        ReshapingLayers.cropping1D cropping name

    /// <summary>Removes the same number of rows and columns on every side (0 by default).</summary>
    static member Cropping2D(?cropping: int, ?name: string) : Layer =
        let c = defaultArg cropping 0
        ReshapingLayers.cropping2D ((c, c), (c, c)) name

    /// <summary>Removes ((top, bottom), (left, right)) rows and columns.</summary>
    static member Cropping2D(cropping: (int * int) * (int * int), ?name: string) : Layer =
        ReshapingLayers.cropping2D cropping name

    /// <summary>Removes ((start, end), ...) cells per spatial axis.</summary>
    static member Cropping3D(cropping: (int * int) * (int * int) * (int * int), ?name: string) : Layer =
        ReshapingLayers.cropping3D cropping name

    /// <summary>Permutes the axes after the batch axis; <paramref name="dims"/> is 1-based, e.g. [2; 1].</summary>
    static member Permute(dims: int list, ?name: string) : Layer = ReshapingLayers.permute dims name

    /// <summary>Repeats a (batch, features) input <paramref name="n"/> times: (batch, n, features).</summary>
    static member RepeatVector(n: int, ?name: string) : Layer = ReshapingLayers.repeatVector n name

    // ---- Normalization ----

    /// <summary>Batch normalization (axis -1, momentum 0.99, epsilon 1e-3): batch statistics in training, moving ones at inference.</summary>
    static member BatchNormalization
        (
            ?axis: int,
            ?momentum: float,
            ?epsilon: float,
            ?center: bool,
            ?scale: bool,
            ?betaInitializer: Initializer,
            ?gammaInitializer: Initializer,
            ?movingMeanInitializer: Initializer,
            ?movingVarianceInitializer: Initializer,
            ?name: string
        ) : Layer =
        let d = NormalizationLayers.BatchNormalizationConfig.Default

        NormalizationLayers.batchNormalization
            { d with
                Axis = defaultArg axis d.Axis
                Momentum = defaultArg momentum d.Momentum
                Epsilon = defaultArg epsilon d.Epsilon
                Center = defaultArg center d.Center
                Scale = defaultArg scale d.Scale
                BetaInitializer = defaultArg betaInitializer d.BetaInitializer
                GammaInitializer = defaultArg gammaInitializer d.GammaInitializer
                MovingMeanInitializer = defaultArg movingMeanInitializer d.MovingMeanInitializer
                MovingVarianceInitializer = defaultArg movingVarianceInitializer d.MovingVarianceInitializer
            }
            name

    /// <summary>Layer normalization over <paramref name="axis"/> ([-1] by default), epsilon 1e-3.</summary>
    static member LayerNormalization
        (
            ?axis: int list,
            ?epsilon: float,
            ?center: bool,
            ?scale: bool,
            ?betaInitializer: Initializer,
            ?gammaInitializer: Initializer,
            ?name: string
        ) : Layer =
        let d = NormalizationLayers.LayerNormalizationConfig.Default

        NormalizationLayers.layerNormalization
            { d with
                Axis = defaultArg axis d.Axis
                Epsilon = defaultArg epsilon d.Epsilon
                Center = defaultArg center d.Center
                Scale = defaultArg scale d.Scale
                BetaInitializer = defaultArg betaInitializer d.BetaInitializer
                GammaInitializer = defaultArg gammaInitializer d.GammaInitializer
            }
            name

    /// <summary>Group normalization (32 groups by default; -1 for one group per channel).</summary>
    static member GroupNormalization
        (
            ?groups: int,
            ?axis: int,
            ?epsilon: float,
            ?center: bool,
            ?scale: bool,
            ?betaInitializer: Initializer,
            ?gammaInitializer: Initializer,
            ?name: string
        ) : Layer =
        let d = NormalizationLayers.GroupNormalizationConfig.Default

        NormalizationLayers.groupNormalization
            { d with
                Groups = defaultArg groups d.Groups
                Axis = defaultArg axis d.Axis
                Epsilon = defaultArg epsilon d.Epsilon
                Center = defaultArg center d.Center
                Scale = defaultArg scale d.Scale
                BetaInitializer = defaultArg betaInitializer d.BetaInitializer
                GammaInitializer = defaultArg gammaInitializer d.GammaInitializer
            }
            name

    /// <summary>Scales each sample to unit L2 norm over <paramref name="axis"/> ([-1] by default).</summary>
    static member UnitNormalization(?axis: int list, ?name: string) : Layer =
        NormalizationLayers.unitNormalization (defaultArg axis [ -1 ]) name

    // ---- Regularization ----

    /// <summary>Drops whole channels of (batch, steps, channels) inputs during training only.</summary>
    static member SpatialDropout1D(rate: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.spatialDropout1D rate seed name

    /// <summary>Drops whole channels of (batch, rows, cols, channels) inputs during training only.</summary>
    static member SpatialDropout2D(rate: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.spatialDropout2D rate seed name

    /// <summary>Drops whole channels of 5D channels-last inputs during training only.</summary>
    static member SpatialDropout3D(rate: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.spatialDropout3D rate seed name

    /// <summary>Adds zero-centred Gaussian noise of standard deviation <paramref name="stddev"/> during training only.</summary>
    static member GaussianNoise(stddev: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.gaussianNoise stddev seed name

    /// <summary>Multiplies by 1-centred Gaussian noise of stddev √(rate / (1 − rate)) during training only.</summary>
    static member GaussianDropout(rate: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.gaussianDropout rate seed name

    /// <summary>Alpha dropout for SELU networks (keeps mean and variance) during training only.</summary>
    static member AlphaDropout(rate: float, ?seed: int, ?name: string) : Layer =
        RegularizationLayers.alphaDropout rate seed name

    // ---- Attention ----

    /// <summary>Multi-head attention on <c>[query; value]</c> or <c>[query; value; key]</c>; with
    /// <paramref name="useAttentionMask"/> the boolean (batch, T, S) mask is the last input.</summary>
    static member MultiHeadAttention
        (
            numHeads: int,
            keyDim: int,
            ?valueDim: int,
            ?dropout: float,
            ?useBias: bool,
            ?outputShape: int list,
            ?attentionAxes: int list,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?seed: int,
            ?returnAttentionScores: bool,
            ?useCausalMask: bool,
            ?useAttentionMask: bool,
            ?name: string
        ) : Layer =
        let d = AttentionLayers.MultiHeadAttentionConfig.Default(numHeads, keyDim)

        AttentionLayers.multiHeadAttention
            { d with
                ValueDim = valueDim
                Dropout = defaultArg dropout d.Dropout
                UseBias = defaultArg useBias d.UseBias
                OutputShape = outputShape
                AttentionAxes = attentionAxes
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                Seed = seed
                ReturnAttentionScores = defaultArg returnAttentionScores false
                UseCausalMask = defaultArg useCausalMask false
                UseAttentionMask = defaultArg useAttentionMask false
            }
            name

    /// <summary>Dot-product (Luong) attention on <c>[query; value]</c> or <c>[query; value; key]</c>.</summary>
    static member Attention
        (
            ?useScale: bool,
            ?scoreMode: string,
            ?dropout: float,
            ?seed: int,
            ?returnAttentionScores: bool,
            ?useCausalMask: bool,
            ?name: string
        ) : Layer =
        let d = AttentionLayers.AttentionConfig.Default

        AttentionLayers.attention
            { d with
                UseScale = defaultArg useScale d.UseScale
                ScoreMode = defaultArg scoreMode d.ScoreMode
                Dropout = defaultArg dropout d.Dropout
                Seed = seed
                ReturnAttentionScores = defaultArg returnAttentionScores false
                UseCausalMask = defaultArg useCausalMask false
            }
            name

    /// <summary>Additive (Bahdanau) attention on <c>[query; value]</c> or <c>[query; value; key]</c>.</summary>
    static member AdditiveAttention
        (?useScale: bool, ?dropout: float, ?seed: int, ?returnAttentionScores: bool, ?useCausalMask: bool, ?name: string) : Layer =
        let d = AttentionLayers.AttentionConfig.AdditiveDefault

        AttentionLayers.additiveAttention
            { d with
                UseScale = defaultArg useScale d.UseScale
                Dropout = defaultArg dropout d.Dropout
                Seed = seed
                ReturnAttentionScores = defaultArg returnAttentionScores false
                UseCausalMask = defaultArg useCausalMask false
            }
            name

    // ---- Issue 13: activation layers, core/merging extras, normalization extras ----

    /// <summary>ReLU with Keras's options: <c>x</c> above <paramref name="threshold"/> (clipped to
    /// <paramref name="maxValue"/>), <c>negativeSlope·(x - threshold)</c> at or below it. <c>ReLU(maxValue = 6.0)</c> is
    /// ReLU6.</summary>
    /// <param name="maxValue">Upper bound of the output; unbounded by default.</param>
    /// <param name="negativeSlope">Slope below the threshold; 0.0 by default.</param>
    /// <param name="threshold">Values at or below it are cut; 0.0 by default.</param>
    /// <param name="name">Layer name; "re_lu", "re_lu_1", ... by default.</param>
    static member ReLU(?maxValue: float, ?negativeSlope: float, ?threshold: float, ?name: string) : Layer =
        ActivationLayers.relu maxValue (defaultArg negativeSlope 0.0) (defaultArg threshold 0.0) name

    /// <summary>Leaky ReLU: <c>x</c> for <c>x ≥ 0</c>, <c>negativeSlope·x</c> otherwise (0.3 by default, Keras 3's).</summary>
    /// <param name="negativeSlope">The slope below zero; 0.3 by default.</param>
    /// <param name="name">Layer name; "leaky_re_lu", ... by default.</param>
    static member LeakyReLU(?negativeSlope: float, ?name: string) : Layer =
        ActivationLayers.leakyRelu (defaultArg negativeSlope 0.3) name

    /// <summary>Parametric ReLU: <c>relu(x) - alpha·relu(-x)</c>, <c>alpha</c> learned with shape
    /// <c>input_shape[1:]</c> (1 on the shared axes).</summary>
    /// <param name="alphaInitializer">zeros by default.</param>
    /// <param name="alphaRegularizer">Penalty on alpha; none by default.</param>
    /// <param name="alphaConstraint">Projection of alpha after each step; none by default.</param>
    /// <param name="sharedAxes">Axes (1-based) sharing one alpha, e.g. <c>[ 1; 2 ]</c> for one per channel of an image.</param>
    /// <param name="name">Layer name; "p_re_lu", ... by default.</param>
    static member PReLU
        (
            ?alphaInitializer: Initializer,
            ?alphaRegularizer: Regularizer,
            ?alphaConstraint: Constraint,
            ?sharedAxes: int list,
            ?name: string
        ) : Layer =
        let d = ActivationLayers.PReLUConfig.Default

        ActivationLayers.prelu
            { d with
                AlphaInitializer = defaultArg alphaInitializer d.AlphaInitializer
                AlphaRegularizer = alphaRegularizer
                AlphaConstraint = alphaConstraint
                SharedAxes = sharedAxes
            }
            name

    /// <summary>Exponential linear unit: <c>x</c> for <c>x &gt; 0</c>, <c>alpha·(exp(x) - 1)</c> otherwise.</summary>
    /// <param name="alpha">Scale of the negative part; 1.0 by default.</param>
    /// <param name="name">Layer name; "elu", ... by default.</param>
    static member ELU(?alpha: float, ?name: string) : Layer =
        ActivationLayers.elu (defaultArg alpha 1.0) name

    /// <summary>Softmax over <paramref name="axis"/> ([-1] by default; several axes normalize jointly); masked positions
    /// (a Keras mask from the previous layer) get 0.</summary>
    /// <param name="axis">The axis or axes normalized over.</param>
    /// <param name="name">Layer name; "softmax", ... by default.</param>
    static member Softmax(?axis: int list, ?name: string) : Layer =
        ActivationLayers.softmax (defaultArg axis [ -1 ]) name

    /// <summary>Returns its input unchanged (a placeholder layer).</summary>
    /// <param name="name">Layer name; "identity", ... by default.</param>
    static member Identity(?name: string) : Layer = CoreExtraLayers.identity name

    /// <summary>Returns its input unchanged and adds <c>l1·sum(|x|) + l2·sum(x²)</c> of it to the training loss.</summary>
    /// <param name="l1">L1 factor; 0.0 by default.</param>
    /// <param name="l2">L2 factor; 0.0 by default.</param>
    /// <param name="name">Layer name; "activity_regularization", ... by default.</param>
    static member ActivityRegularization(?l1: float, ?l2: float, ?name: string) : Layer =
        CoreExtraLayers.activityRegularization (defaultArg l1 0.0) (defaultArg l2 0.0) name

    /// <summary>Dot product of two inputs over the same axis of each, sample by sample (Keras's batch dot):
    /// <c>Dot(axes = 1)</c> on two (batch, n) inputs gives (batch, 1).</summary>
    /// <param name="axes">The axis of both inputs (negative counts from the end); never 0, the batch axis.</param>
    /// <param name="normalize">L2-normalize both inputs along the axis first (cosine proximity); false by default.</param>
    /// <param name="name">Layer name; "dot", ... by default.</param>
    static member Dot(axes: int, ?normalize: bool, ?name: string) : Layer =
        CoreExtraLayers.dot (CoreExtraLayers.Both axes) (defaultArg normalize false) name

    /// <summary>Dot product of two inputs over an axis of the first and an axis of the second.</summary>
    /// <param name="axes">(axis of the first input, axis of the second).</param>
    /// <param name="normalize">L2-normalize both inputs along their axes first; false by default.</param>
    /// <param name="name">Layer name; "dot", ... by default.</param>
    static member Dot(axes: int * int, ?normalize: bool, ?name: string) : Layer =
        CoreExtraLayers.dot (CoreExtraLayers.Pair axes) (defaultArg normalize false) name

    /// <summary>A dense layer computed by einsum: <c>activation(einsum(equation, x, kernel) + bias)</c>, e.g.
    /// <c>EinsumDense("abc,cd->abd", [ None; Some 64 ], biasAxes = "d")</c>; Keras derives the kernel and bias shapes
    /// from the equation.</summary>
    /// <param name="equation">"ab,bc->ac", "...b,bc->...c" or "ab...,bc->ac...".</param>
    /// <param name="outputShape">Output shape without the batch and elided axes; None for a size to infer.</param>
    /// <param name="activation">Activation; linear by default.</param>
    /// <param name="biasAxes">Output subscripts that get a bias; no bias by default.</param>
    /// <param name="kernelInitializer">glorot_uniform by default.</param>
    /// <param name="biasInitializer">zeros by default.</param>
    /// <param name="kernelRegularizer">Penalty on the kernel; none by default.</param>
    /// <param name="biasRegularizer">Penalty on the bias; none by default.</param>
    /// <param name="activityRegularizer">Penalty on the output; none by default.</param>
    /// <param name="kernelConstraint">Projection of the kernel after each step; none by default.</param>
    /// <param name="biasConstraint">Projection of the bias after each step; none by default.</param>
    /// <param name="name">Layer name; "einsum_dense", ... by default.</param>
    static member EinsumDense
        (
            equation: string,
            outputShape: int option list,
            ?activation: Activation,
            ?biasAxes: string,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = CoreExtraLayers.EinsumDenseConfig.Default(equation, outputShape)

        CoreExtraLayers.einsumDense
            { d with
                Activation = defaultArg activation d.Activation
                BiasAxes = biasAxes
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                KernelRegularizer = kernelRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                BiasConstraint = biasConstraint
            }
            name

    /// <summary>A dense layer computed by einsum, with every output size known: <c>EinsumDense("ab,bc->ac", [ 64 ])</c>.</summary>
    /// <param name="equation">"ab,bc->ac", "...b,bc->...c" or "ab...,bc->ac...".</param>
    /// <param name="outputShape">Output shape without the batch and elided axes.</param>
    /// <param name="activation">Activation; linear by default.</param>
    /// <param name="biasAxes">Output subscripts that get a bias; no bias by default.</param>
    /// <param name="kernelInitializer">glorot_uniform by default.</param>
    /// <param name="biasInitializer">zeros by default.</param>
    /// <param name="kernelRegularizer">Penalty on the kernel; none by default.</param>
    /// <param name="biasRegularizer">Penalty on the bias; none by default.</param>
    /// <param name="activityRegularizer">Penalty on the output; none by default.</param>
    /// <param name="kernelConstraint">Projection of the kernel after each step; none by default.</param>
    /// <param name="biasConstraint">Projection of the bias after each step; none by default.</param>
    /// <param name="name">Layer name; "einsum_dense", ... by default.</param>
    static member EinsumDense
        (
            equation: string,
            outputShape: int list,
            ?activation: Activation,
            ?biasAxes: string,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        Layers.EinsumDense(
            equation,
            outputShape |> List.map Some,
            ?activation = activation,
            ?biasAxes = biasAxes,
            ?kernelInitializer = kernelInitializer,
            ?biasInitializer = biasInitializer,
            ?kernelRegularizer = kernelRegularizer,
            ?biasRegularizer = biasRegularizer,
            ?activityRegularizer = activityRegularizer,
            ?kernelConstraint = kernelConstraint,
            ?biasConstraint = biasConstraint,
            ?name = name
        )

    /// <summary>Root-mean-square normalization over <paramref name="axis"/> ([-1] by default) with a learned
    /// <c>scale</c>: <c>x · rsqrt(mean(x²) + epsilon) · scale</c>.</summary>
    /// <param name="axis">The axis or axes normalized over.</param>
    /// <param name="epsilon">Added to the mean square; 1e-6 by default.</param>
    /// <param name="name">Layer name; "rms_normalization", ... by default.</param>
    static member RMSNormalization(?axis: int list, ?epsilon: float, ?name: string) : Layer =
        NormalizationExtraLayers.rmsNormalization (defaultArg axis [ -1 ]) (defaultArg epsilon 1e-6) name

    /// <summary>Wraps a layer with a kernel (Dense, Conv2D, ...) or embeddings and, in training, divides that weight by
    /// its spectral norm (power iteration state in the non-trainable <c>vector_u</c>).</summary>
    /// <param name="layer">The wrapped layer.</param>
    /// <param name="powerIterations">Power iterations per training step; 1 by default.</param>
    /// <param name="name">Layer name; "spectral_normalization", ... by default.</param>
    static member SpectralNormalization(layer: Layer, ?powerIterations: int, ?name: string) : Layer =
        NormalizationExtraLayers.spectralNormalization layer (defaultArg powerIterations 1) name

    /// <summary>Preprocessing normalization: <c>(x - mean) / sqrt(variance)</c> per index of the kept
    /// <paramref name="axis"/>; the values are given, or learned by <c>NormalizationExtraLayers.adapt</c>. With
    /// <paramref name="invert"/>, denormalizes.</summary>
    /// <param name="axis">Kept axes ([-1] by default); an empty list is Keras's <c>axis=None</c> (one scalar mean).</param>
    /// <param name="mean">Given mean: one value (a scalar) or one per index of the last kept axis.</param>
    /// <param name="variance">Given variance, of the same length as <paramref name="mean"/>.</param>
    /// <param name="invert">Apply the inverse transformation; false by default.</param>
    /// <param name="name">Layer name; "normalization", ... by default.</param>
    static member Normalization
        (?axis: int list, ?mean: float list, ?variance: float list, ?invert: bool, ?name: string)
        : Layer =
        let values (v: float list) =
            match v with
            | [ single ] -> NormalizationExtraLayers.NormalizationValues.Scalar single
            | many -> NormalizationExtraLayers.NormalizationValues.Vector many

        let d = NormalizationExtraLayers.NormalizationConfig.Default

        NormalizationExtraLayers.normalization
            { d with
                Axis = defaultArg axis d.Axis
                Mean = mean |> Option.map values
                Variance = variance |> Option.map values
                Invert = defaultArg invert d.Invert
            }
            name

    // ---- end of issue 13 ----

    /// <summary>Keras's <c>layers.add</c>: adds the tensors with a new Add layer.</summary>
    static member add(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.add name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.subtract</c>.</summary>
    static member subtract(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.subtract name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.multiply</c>.</summary>
    static member multiply(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.multiply name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.average</c>: averages the tensors with a new Average layer.</summary>
    static member average(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.average name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.maximum</c>.</summary>
    static member maximum(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.maximum name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.minimum</c>.</summary>
    static member minimum(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.minimum name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.concatenate</c>: concatenates the tensors along <paramref name="axis"/>.</summary>
    static member concatenate(inputs: KerasTensor list, ?axis: int, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.concatenate (defaultArg axis -1) name) inputs
        |> List.exactlyOne

    // ---- Issue 13: functional form of Dot ----

    /// <summary>Keras's <c>layers.dot</c>: the dot product of two tensors over <paramref name="axes"/> (-1 by default)
    /// with a new Dot layer.</summary>
    static member dot(inputs: KerasTensor list, ?axes: int, ?normalize: bool, ?name: string) : KerasTensor =
        Layer.callMany
            (CoreExtraLayers.dot (CoreExtraLayers.Both(defaultArg axes -1)) (defaultArg normalize false) name)
            inputs
        |> List.exactlyOne
