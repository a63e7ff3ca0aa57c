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

        RecurrentWrappers.bidirectional layer mode name

    /// <summary>Applies <paramref name="layer"/> to every timestep of a (batch, time, ...) input, sharing its weights.</summary>
    static member TimeDistributed(layer: Layer, ?name: string) : Layer =
        RecurrentWrappers.timeDistributed layer name

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
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = ConvLSTMLayers.ConvLSTM2DConfig.Default(filters, kernelSize)

        ConvLSTMLayers.convLSTM2D
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
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
            }
            name

    // ---- ConvLSTM1D and ConvLSTM3D (issue 13): one implementation of every rank ----

    static member private ConvLSTMOfRank
        (
            rank: int,
            filters: int,
            kernelSize: int list,
            strides: int list option,
            padding: string option,
            dilationRate: int list option,
            activation: Activation option,
            recurrentActivation: Activation option,
            useBias: bool option,
            kernelInitializer: Initializer option,
            recurrentInitializer: Initializer option,
            biasInitializer: Initializer option,
            unitForgetBias: bool option,
            dropout: float option,
            recurrentDropout: float option,
            returnSequences: bool option,
            returnState: bool option,
            goBackwards: bool option,
            stateful: bool option,
            seed: int option,
            penalties: (Regularizer option * Regularizer option * Regularizer option * Regularizer option) *
            (Constraint option * Constraint option * Constraint option),
            name: string option
        ) : Layer =
        let (kernelReg, recurrentReg, biasReg, activityReg), (kernelCon, recurrentCon, biasCon) = penalties
        let d = ConvLSTMLayers.ConvLSTMConfig.Default(rank, filters, kernelSize)

        ConvLSTMLayers.convLSTM
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
                Stateful = defaultArg stateful d.Stateful
                Seed = seed
                KernelRegularizer = kernelReg
                RecurrentRegularizer = recurrentReg
                BiasRegularizer = biasReg
                ActivityRegularizer = activityReg
                KernelConstraint = kernelCon
                RecurrentConstraint = recurrentCon
                BiasConstraint = biasCon
            }
            name

    /// <summary>Convolutional LSTM over (batch, time, steps, channels) (Keras's ConvLSTM1D); kernel (k, channels, 4·filters), recurrent_kernel (k, filters, 4·filters). Output (batch, steps', filters), or with the time axis when <paramref name="returnSequences"/>.</summary>
    static member ConvLSTM1D
        (
            filters: int,
            kernelSize: int,
            ?strides: int,
            ?padding: string,
            ?dilationRate: int,
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
        Layers.ConvLSTMOfRank(
            1,
            filters,
            [ kernelSize ],
            (strides |> Option.map (fun s -> [ s ])),
            padding,
            (dilationRate |> Option.map (fun s -> [ s ])),
            activation,
            recurrentActivation,
            useBias,
            kernelInitializer,
            recurrentInitializer,
            biasInitializer,
            unitForgetBias,
            dropout,
            recurrentDropout,
            returnSequences,
            returnState,
            goBackwards,
            stateful,
            seed,
            ((kernelRegularizer, recurrentRegularizer, biasRegularizer, activityRegularizer),
             (kernelConstraint, recurrentConstraint, biasConstraint)),
            name
        )

    /// <summary>Convolutional LSTM over (batch, time, d1, d2, d3, channels) (Keras's ConvLSTM3D); kernel (k1, k2, k3, channels, 4·filters), recurrent_kernel (k1, k2, k3, filters, 4·filters).</summary>
    static member ConvLSTM3D
        (
            filters: int,
            kernelSize: int * int * int,
            ?strides: int * int * int,
            ?padding: string,
            ?dilationRate: int * int * int,
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
        Layers.ConvLSTMOfRank(
            3,
            filters,
            (let a, b, c = kernelSize in [ a; b; c ]),
            (strides |> Option.map (fun (a, b, c) -> [ a; b; c ])),
            padding,
            (dilationRate |> Option.map (fun (a, b, c) -> [ a; b; c ])),
            activation,
            recurrentActivation,
            useBias,
            kernelInitializer,
            recurrentInitializer,
            biasInitializer,
            unitForgetBias,
            dropout,
            recurrentDropout,
            returnSequences,
            returnState,
            goBackwards,
            stateful,
            seed,
            ((kernelRegularizer, recurrentRegularizer, biasRegularizer, activityRegularizer),
             (kernelConstraint, recurrentConstraint, biasConstraint)),
            name
        )

    // ---- end of ConvLSTM1D and ConvLSTM3D ----

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
            ?betaRegularizer: Regularizer,
            ?gammaRegularizer: Regularizer,
            ?betaConstraint: Constraint,
            ?gammaConstraint: Constraint,
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
                BetaRegularizer = betaRegularizer
                GammaRegularizer = gammaRegularizer
                BetaConstraint = betaConstraint
                GammaConstraint = gammaConstraint
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
            ?kernelRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?activityRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?biasConstraint: Constraint,
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
                KernelRegularizer = kernelRegularizer
                BiasRegularizer = biasRegularizer
                ActivityRegularizer = activityRegularizer
                KernelConstraint = kernelConstraint
                BiasConstraint = biasConstraint
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

    // ---- Recurrent extensions and GroupQueryAttention (issue 13) ----

    /// <summary>Grouped-query attention on <c>[query; value]</c> or <c>[query; value; key]</c> (rank 3):
    /// <paramref name="numKeyValueHeads"/> key/value heads shared by groups of the <paramref name="numQueryHeads"/>
    /// query heads; with <paramref name="useAttentionMask"/> the boolean (batch, T, S) mask is the last input.</summary>
    /// <param name="headDim">Size of each head.</param>
    /// <param name="numQueryHeads">Number of query heads.</param>
    /// <param name="numKeyValueHeads">Number of key/value heads; divides <paramref name="numQueryHeads"/>.</param>
    /// <param name="dropout">Dropout rate on the attention probabilities; 0 by default.</param>
    /// <param name="useBias">Whether the projections have biases; true by default.</param>
    /// <param name="kernelInitializer">glorot_uniform by default.</param>
    /// <param name="biasInitializer">zeros by default.</param>
    /// <param name="seed">Seed of the dropout.</param>
    /// <param name="returnAttentionScores">Adds the (batch, num_query_heads, T, S) probabilities as a second output.</param>
    /// <param name="useCausalMask">Query position i attends to key positions j ≤ i only.</param>
    /// <param name="useAttentionMask">The layer takes a boolean (batch, T, S) mask as its last input.</param>
    /// <param name="name">Layer name; "grouped_query_attention", ... by default.</param>
    static member GroupQueryAttention
        (
            headDim: int,
            numQueryHeads: int,
            numKeyValueHeads: int,
            ?dropout: float,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?seed: int,
            ?returnAttentionScores: bool,
            ?useCausalMask: bool,
            ?useAttentionMask: bool,
            ?name: string
        ) : Layer =
        let d =
            GroupedQueryAttentionLayers.GroupQueryAttentionConfig.Default(headDim, numQueryHeads, numKeyValueHeads)

        GroupedQueryAttentionLayers.groupQueryAttention
            { d with
                Dropout = defaultArg dropout d.Dropout
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                Seed = seed
                ReturnAttentionScores = defaultArg returnAttentionScores false
                UseCausalMask = defaultArg useCausalMask false
                UseAttentionMask = defaultArg useAttentionMask false
            }
            name

    /// <summary>Keras's SimpleRNNCell: one step of SimpleRNN, for <c>Layers.RNN</c>; weights kernel, recurrent_kernel,
    /// bias.</summary>
    static member SimpleRNNCell
        (
            units: int,
            ?activation: Activation,
            ?useBias: bool,
            ?kernelInitializer: Initializer,
            ?recurrentInitializer: Initializer,
            ?biasInitializer: Initializer,
            ?dropout: float,
            ?recurrentDropout: float,
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.SimpleRNNConfig.Default units

        RNNLayers.simpleRNNCell
            { d with
                Activation = defaultArg activation d.Activation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                RecurrentInitializer = defaultArg recurrentInitializer d.RecurrentInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer
                Dropout = defaultArg dropout d.Dropout
                RecurrentDropout = defaultArg recurrentDropout d.RecurrentDropout
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Keras's LSTMCell: one step of LSTM (gates i, f, c, o), for <c>Layers.RNN</c>.</summary>
    static member LSTMCell
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
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.LSTMConfig.Default units

        RNNLayers.lstmCell
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
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Keras's GRUCell: one step of GRU (gates z, r, h; reset_after by default), for <c>Layers.RNN</c>.</summary>
    static member GRUCell
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
            ?seed: int,
            ?kernelRegularizer: Regularizer,
            ?recurrentRegularizer: Regularizer,
            ?biasRegularizer: Regularizer,
            ?kernelConstraint: Constraint,
            ?recurrentConstraint: Constraint,
            ?biasConstraint: Constraint,
            ?name: string
        ) : Layer =
        let d = RecurrentLayers.GRUConfig.Default units

        RNNLayers.gruCell
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
                KernelRegularizer = kernelRegularizer
                RecurrentRegularizer = recurrentRegularizer
                BiasRegularizer = biasRegularizer
                KernelConstraint = kernelConstraint
                RecurrentConstraint = recurrentConstraint
                BiasConstraint = biasConstraint
                Seed = seed
            }
            name

    /// <summary>Keras's generic RNN layer driving <paramref name="cell"/> (a <c>Layers.LSTMCell</c>, <c>GRUCell</c>,
    /// <c>SimpleRNNCell</c> or <c>RNNLayers.customCell</c>) over (batch, time, features); the weights are the cell's.</summary>
    /// <param name="cell">The cell layer.</param>
    /// <param name="returnSequences">Return the whole output sequence; false by default.</param>
    /// <param name="returnState">Also return the last states; false by default.</param>
    /// <param name="goBackwards">Process the sequence backwards; false by default.</param>
    /// <param name="stateful">Carry the last states into the next call (fixed batch size); false by default.</param>
    /// <param name="unroll">Accepted for Keras compatibility; the loop is never unrolled.</param>
    /// <param name="zeroOutputForMask">Masked steps output zeros instead of the previous output; false by default.</param>
    /// <param name="name">Layer name; "rnn", "rnn_1", ... by default.</param>
    static member RNN
        (
            cell: Layer,
            ?returnSequences: bool,
            ?returnState: bool,
            ?goBackwards: bool,
            ?stateful: bool,
            ?unroll: bool,
            ?zeroOutputForMask: bool,
            ?name: string
        ) : Layer =
        ignore unroll

        RNNLayers.rnn
            cell
            (defaultArg returnSequences false)
            (defaultArg returnState false)
            (defaultArg goBackwards false)
            (defaultArg stateful false)
            (defaultArg zeroOutputForMask false)
            name

    /// <summary>Keras's StackedRNNCells: <paramref name="cells"/> behaving as one cell for <c>Layers.RNN</c> (each
    /// cell's output feeds the next; the states are every cell's, in order).</summary>
    /// <param name="cells">The cell layers (LSTMCell, GRUCell, SimpleRNNCell, user cells), first to last.</param>
    /// <param name="name">Layer name; "stacked_rnn_cells", ... by default.</param>
    static member StackedRNNCells(cells: Layer list, ?name: string) : Layer = RNNLayers.stackedRNNCells cells name

    // ---- end of issue 13 recurrent extensions ----
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

    // ---- Preprocessing (issue 13): image preprocessing, augmentation, numeric ----

    /// <summary>Rescales inputs to <c>x · scale + offset</c> (e.g. <c>scale = 1/255</c>), in training and at inference.</summary>
    /// <param name="scale">The factor.</param>
    /// <param name="offset">Added after scaling; 0 by default.</param>
    /// <param name="name">Layer name; "rescaling", ... by default.</param>
    static member Rescaling(scale: float, ?offset: float, ?name: string) : Layer =
        ImagePreprocessingLayers.rescaling scale (defaultArg offset 0.0) name

    /// <summary>Resizes (batch, h, w, channels) images to (batch, height, width, channels): "bilinear" (half-pixel
    /// centres, no antialiasing) or "nearest".</summary>
    /// <param name="height">Output rows.</param>
    /// <param name="width">Output columns.</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="cropToAspectRatio">Crop the centred window of the target's aspect ratio first; false by default.</param>
    /// <param name="padToAspectRatio">Pad to the target's aspect ratio first; false by default.</param>
    /// <param name="fillValue">Padding value for <paramref name="padToAspectRatio"/>; 0 by default.</param>
    /// <param name="name">Layer name; "resizing", ... by default.</param>
    static member Resizing
        (
            height: int,
            width: int,
            ?interpolation: string,
            ?cropToAspectRatio: bool,
            ?padToAspectRatio: bool,
            ?fillValue: float,
            ?name: string
        ) : Layer =
        let d = ImagePreprocessingLayers.ResizingConfig.Create(height, width)

        ImagePreprocessingLayers.resizing
            { d with
                Interpolation = defaultArg interpolation d.Interpolation
                CropToAspectRatio = defaultArg cropToAspectRatio d.CropToAspectRatio
                PadToAspectRatio = defaultArg padToAspectRatio d.PadToAspectRatio
                FillValue = defaultArg fillValue d.FillValue
            }
            name

    /// <summary>Crops the central (height, width) window of images; smaller images are cropped to the aspect ratio
    /// and resized, as Keras does.</summary>
    /// <param name="height">Output rows.</param>
    /// <param name="width">Output columns.</param>
    /// <param name="name">Layer name; "center_crop", ... by default.</param>
    static member CenterCrop(height: int, width: int, ?name: string) : Layer =
        ImagePreprocessingLayers.centerCrop height width name

    /// <summary>Flips images at random in training only; the identity at inference.</summary>
    /// <param name="mode">"horizontal", "vertical" or "horizontal_and_vertical" (default).</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="name">Layer name; "random_flip", ... by default.</param>
    static member RandomFlip(?mode: string, ?seed: int, ?name: string) : Layer =
        AugmentationLayers.randomFlip (defaultArg mode "horizontal_and_vertical") seed name

    static member private Affine(fillMode, interpolation, seed, fillValue) =
        let d = AugmentationLayers.AffineSettings.Default

        { d with
            FillMode = defaultArg fillMode d.FillMode
            Interpolation = defaultArg interpolation d.Interpolation
            FillValue = defaultArg fillValue d.FillValue
            Seed = seed
        }

    /// <summary>Rotates images in training by a random angle in [−factor, factor] of a full turn; the identity at inference.</summary>
    /// <param name="factor">Fraction of 2π, in [-1, 1].</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_rotation", ... by default.</param>
    static member RandomRotation
        (factor: float, ?fillMode: string, ?interpolation: string, ?seed: int, ?fillValue: float, ?name: string)
        : Layer =
        AugmentationLayers.randomRotation
            (AugmentationLayers.Single factor)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Rotates images in training by a random angle in [lower, upper] of a full turn.</summary>
    /// <param name="factor">(lower, upper) fractions of 2π.</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_rotation", ... by default.</param>
    static member RandomRotation
        (factor: float * float, ?fillMode: string, ?interpolation: string, ?seed: int, ?fillValue: float, ?name: string)
        : Layer =
        AugmentationLayers.randomRotation
            (AugmentationLayers.Range factor)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Zooms images in training by 1 + a random value in [−heightFactor, heightFactor] (positive zooms out);
    /// the width zoom equals the height zoom unless <paramref name="widthFactor"/> is given.</summary>
    /// <param name="heightFactor">In (-1, 1].</param>
    /// <param name="widthFactor">In (-1, 1]; by default the height zoom (aspect ratio kept).</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_zoom", ... by default.</param>
    static member RandomZoom
        (
            heightFactor: float,
            ?widthFactor: float,
            ?fillMode: string,
            ?interpolation: string,
            ?seed: int,
            ?fillValue: float,
            ?name: string
        ) : Layer =
        AugmentationLayers.randomZoom
            (AugmentationLayers.Single heightFactor)
            (widthFactor |> Option.map AugmentationLayers.Single)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Zooms images in training by 1 + a random value in the (lower, upper) ranges.</summary>
    /// <param name="heightFactor">(lower, upper), each in (-1, 1].</param>
    /// <param name="widthFactor">(lower, upper); by default the height zoom.</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_zoom", ... by default.</param>
    static member RandomZoom
        (
            heightFactor: float * float,
            ?widthFactor: float * float,
            ?fillMode: string,
            ?interpolation: string,
            ?seed: int,
            ?fillValue: float,
            ?name: string
        ) : Layer =
        AugmentationLayers.randomZoom
            (AugmentationLayers.Range heightFactor)
            (widthFactor |> Option.map AugmentationLayers.Range)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Translates images in training by random fractions of their height and width in [−f, f].</summary>
    /// <param name="heightFactor">Fraction of the height, in [-1, 1].</param>
    /// <param name="widthFactor">Fraction of the width, in [-1, 1].</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_translation", ... by default.</param>
    static member RandomTranslation
        (
            heightFactor: float,
            widthFactor: float,
            ?fillMode: string,
            ?interpolation: string,
            ?seed: int,
            ?fillValue: float,
            ?name: string
        ) : Layer =
        AugmentationLayers.randomTranslation
            (AugmentationLayers.Single heightFactor)
            (AugmentationLayers.Single widthFactor)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Translates images in training by random fractions in the (lower, upper) ranges.</summary>
    /// <param name="heightFactor">(lower, upper) fractions of the height.</param>
    /// <param name="widthFactor">(lower, upper) fractions of the width.</param>
    /// <param name="fillMode">"reflect" (default), "wrap", "constant" or "nearest".</param>
    /// <param name="interpolation">"bilinear" (default) or "nearest".</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="fillValue">Value of "constant" filling; 0 by default.</param>
    /// <param name="name">Layer name; "random_translation", ... by default.</param>
    static member RandomTranslation
        (
            heightFactor: float * float,
            widthFactor: float * float,
            ?fillMode: string,
            ?interpolation: string,
            ?seed: int,
            ?fillValue: float,
            ?name: string
        ) : Layer =
        AugmentationLayers.randomTranslation
            (AugmentationLayers.Range heightFactor)
            (AugmentationLayers.Range widthFactor)
            (Layers.Affine(fillMode, interpolation, seed, fillValue))
            name

    /// <summary>Scales each image's contrast in training by k in [1, 1 + factor] (Keras 3's range for one number),
    /// then clips to <paramref name="valueRange"/>.</summary>
    /// <param name="factor">In [0, 1].</param>
    /// <param name="valueRange">(min, max) of the pixel values; (0, 255) by default.</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="name">Layer name; "random_contrast", ... by default.</param>
    static member RandomContrast(factor: float, ?valueRange: float * float, ?seed: int, ?name: string) : Layer =
        AugmentationLayers.randomContrast
            (AugmentationLayers.Single factor)
            (defaultArg valueRange (0.0, 255.0))
            seed
            name

    /// <summary>Scales each image's contrast in training by k in [1 − lower, 1 + upper], then clips.</summary>
    /// <param name="factor">(lower, upper), overlapping [0, 1].</param>
    /// <param name="valueRange">(min, max) of the pixel values; (0, 255) by default.</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="name">Layer name; "random_contrast", ... by default.</param>
    static member RandomContrast(factor: float * float, ?valueRange: float * float, ?seed: int, ?name: string) : Layer =
        AugmentationLayers.randomContrast
            (AugmentationLayers.Range factor)
            (defaultArg valueRange (0.0, 255.0))
            seed
            name

    /// <summary>Adds to each image in training a delta in [−factor, factor] times the value range's width, then clips.</summary>
    /// <param name="factor">In [-1, 1].</param>
    /// <param name="valueRange">(min, max) of the pixel values; (0, 255) by default.</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="name">Layer name; "random_brightness", ... by default.</param>
    static member RandomBrightness(factor: float, ?valueRange: float * float, ?seed: int, ?name: string) : Layer =
        AugmentationLayers.randomBrightness
            (AugmentationLayers.Single factor)
            (defaultArg valueRange (0.0, 255.0))
            seed
            name

    /// <summary>Adds to each image in training a delta in [lower, upper] times the value range's width, then clips.</summary>
    /// <param name="factor">(lower, upper), overlapping [-1, 1].</param>
    /// <param name="valueRange">(min, max) of the pixel values; (0, 255) by default.</param>
    /// <param name="seed">Seed of the layer's random draws.</param>
    /// <param name="name">Layer name; "random_brightness", ... by default.</param>
    static member RandomBrightness
        (factor: float * float, ?valueRange: float * float, ?seed: int, ?name: string)
        : Layer =
        AugmentationLayers.randomBrightness
            (AugmentationLayers.Range factor)
            (defaultArg valueRange (0.0, 255.0))
            seed
            name

    /// <summary>Encodes integer categories in [0, numTokens) as "multi_hot" (default), "one_hot" or "count" vectors.</summary>
    /// <param name="numTokens">Number of categories (the output's last axis).</param>
    /// <param name="outputMode">"multi_hot" (default), "one_hot" or "count".</param>
    /// <param name="name">Layer name; "category_encoding", ... by default.</param>
    static member CategoryEncoding(numTokens: int, ?outputMode: string, ?name: string) : Layer =
        NumericPreprocessingLayers.categoryEncoding numTokens (defaultArg outputMode "multi_hot") name

    /// <summary>Bins numbers by <paramref name="binBoundaries"/>, or by <paramref name="numBins"/> quantile boundaries
    /// learned with <c>NumericPreprocessingLayers.adapt</c>; "int" (default) gives bin indices.</summary>
    /// <param name="binBoundaries">Sorted boundaries: x is in bin i when b(i−1) ≤ x &lt; b(i).</param>
    /// <param name="numBins">Number of bins to learn with adapt (instead of boundaries).</param>
    /// <param name="epsilon">Quantile error tolerance of adapt; 0.01 by default.</param>
    /// <param name="outputMode">"int" (default), "one_hot", "multi_hot" or "count".</param>
    /// <param name="name">Layer name; "discretization", ... by default.</param>
    static member Discretization
        (?binBoundaries: float list, ?numBins: int, ?epsilon: float, ?outputMode: string, ?name: string)
        : Layer =
        NumericPreprocessingLayers.discretization
            {
                BinBoundaries = binBoundaries
                NumBins = numBins
                Epsilon = defaultArg epsilon 0.01
                OutputMode = defaultArg outputMode "int"
            }
            name

    // ---- Text and lookup preprocessing (issue 13): StringLookup, IntegerLookup, Hashing, TextVectorization ----

    /// <summary>Maps strings to indices of a vocabulary (Keras's <c>StringLookup</c>): index 0 is the mask (when
    /// <paramref name="maskToken"/> is set), then <paramref name="numOovIndices"/> OOV indices, then the vocabulary.
    /// Give the vocabulary, or learn it with <c>layer.Adapt(strings)</c>.</summary>
    /// <param name="maxTokens">Largest vocabulary size, special tokens included; no limit by default.</param>
    /// <param name="numOovIndices">Number of OOV indices; 1 by default (several: unknown strings are hashed among them).</param>
    /// <param name="maskToken">The token mapped to index 0 (dropped in the vector modes); none by default.</param>
    /// <param name="oovToken">The OOV token returned by <paramref name="invert"/>; "[UNK]" by default.</param>
    /// <param name="vocabulary">A fixed vocabulary (saved in the config).</param>
    /// <param name="idfWeights">Idf weights of a fixed vocabulary in "tf_idf" mode.</param>
    /// <param name="invert">Map indices back to strings; false by default.</param>
    /// <param name="outputMode">"int" (default), "one_hot", "multi_hot", "count" or "tf_idf".</param>
    /// <param name="padToMaxTokens">Pad vector outputs to <paramref name="maxTokens"/> columns; false by default.</param>
    /// <param name="name">Layer name; "string_lookup", ... by default.</param>
    static member StringLookup
        (
            ?maxTokens: int,
            ?numOovIndices: int,
            ?maskToken: string,
            ?oovToken: string,
            ?vocabulary: string list,
            ?idfWeights: float list,
            ?invert: bool,
            ?outputMode: string,
            ?padToMaxTokens: bool,
            ?name: string
        ) : Layer =
        LookupLayers.stringLookup
            {
                MaxTokens = maxTokens
                NumOovIndices = defaultArg numOovIndices 1
                MaskToken = maskToken
                OovToken = defaultArg oovToken "[UNK]"
                Vocabulary = vocabulary
                IdfWeights = idfWeights
                Invert = defaultArg invert false
                OutputMode =
                    LookupLayers.OutputMode.parse
                        "StringLookup"
                        [ LookupLayers.Int; LookupLayers.OneHot; LookupLayers.MultiHot; LookupLayers.Count; LookupLayers.TfIdf ]
                        (defaultArg outputMode "int")
                PadToMaxTokens = defaultArg padToMaxTokens false
            }
            name

    /// <summary>Maps integers to indices of a vocabulary (Keras's <c>IntegerLookup</c>), as <see cref="StringLookup"/>
    /// does strings. Learn the vocabulary with <c>layer.Adapt(integers)</c>.</summary>
    /// <param name="maxTokens">Largest vocabulary size, special tokens included; no limit by default.</param>
    /// <param name="numOovIndices">Number of OOV indices; 1 by default (several: <c>value mod n</c>).</param>
    /// <param name="maskToken">The value mapped to index 0; none by default.</param>
    /// <param name="oovToken">The OOV value returned by <paramref name="invert"/>; -1 by default.</param>
    /// <param name="vocabulary">A fixed vocabulary (saved in the config).</param>
    /// <param name="idfWeights">Idf weights of a fixed vocabulary in "tf_idf" mode.</param>
    /// <param name="invert">Map indices back to values; false by default.</param>
    /// <param name="outputMode">"int" (default), "one_hot", "multi_hot", "count" or "tf_idf".</param>
    /// <param name="padToMaxTokens">Pad vector outputs to <paramref name="maxTokens"/> columns; false by default.</param>
    /// <param name="name">Layer name; "integer_lookup", ... by default.</param>
    static member IntegerLookup
        (
            ?maxTokens: int,
            ?numOovIndices: int,
            ?maskToken: int,
            ?oovToken: int,
            ?vocabulary: int list,
            ?idfWeights: float list,
            ?invert: bool,
            ?outputMode: string,
            ?padToMaxTokens: bool,
            ?name: string
        ) : Layer =
        LookupLayers.integerLookup
            {
                MaxTokens = maxTokens
                NumOovIndices = defaultArg numOovIndices 1
                MaskToken = maskToken |> Option.map int64
                OovToken = int64 (defaultArg oovToken -1)
                Vocabulary = vocabulary |> Option.map (List.map int64)
                IdfWeights = idfWeights
                Invert = defaultArg invert false
                OutputMode =
                    LookupLayers.OutputMode.parse
                        "IntegerLookup"
                        [ LookupLayers.Int; LookupLayers.OneHot; LookupLayers.MultiHot; LookupLayers.Count; LookupLayers.TfIdf ]
                        (defaultArg outputMode "int")
                PadToMaxTokens = defaultArg padToMaxTokens false
            }
            name

    /// <summary>Hashes strings or integers into <paramref name="numBins"/> bins (Keras's <c>Hashing</c>): FarmHash
    /// Fingerprint64 of each value's text (integers by their decimal form), or SipHash with a salt.</summary>
    /// <param name="numBins">Number of bins; bin 0 is reserved for <paramref name="maskValue"/> when it is set.</param>
    /// <param name="maskValue">The value (as text: "" or "7") hashed to bin 0; none by default.</param>
    /// <param name="salt">A key for keyed hashing (SipHash, Keras's <c>salt=[s, s]</c>); FarmHash by default.</param>
    /// <param name="outputMode">"int" (default), "one_hot", "multi_hot" or "count".</param>
    /// <param name="name">Layer name; "hashing", ... by default.</param>
    static member Hashing(numBins: int, ?maskValue: string, ?salt: int, ?outputMode: string, ?name: string) : Layer =
        LookupLayers.hashing
            {
                NumBins = numBins
                MaskValue = maskValue
                Salt = salt |> Option.map (fun s -> int64 s, int64 s)
                OutputMode =
                    LookupLayers.OutputMode.parse
                        "Hashing"
                        [ LookupLayers.Int; LookupLayers.OneHot; LookupLayers.MultiHot; LookupLayers.Count ]
                        (defaultArg outputMode "int")
            }
            name

    /// <summary>Turns strings into token indices or token vectors (Keras's <c>TextVectorization</c>): standardize,
    /// split, optional n-grams, then a vocabulary lookup (0 is padding, 1 is OOV "[UNK]"). Learn the vocabulary with
    /// <c>layer.Adapt(texts)</c>.</summary>
    /// <param name="maxTokens">Largest vocabulary size, padding and OOV included; no limit by default.</param>
    /// <param name="standardize">"lower_and_strip_punctuation" (default), "lower", "strip_punctuation", or "none".</param>
    /// <param name="split">"whitespace" (default), "character", or "none" (each string one token).</param>
    /// <param name="ngrams">Also emit n-grams of sizes 2 to <paramref name="ngrams"/>; none by default.</param>
    /// <param name="outputMode">"int" (default), "multi_hot", "count" or "tf_idf".</param>
    /// <param name="outputSequenceLength">In "int" mode, pad or truncate to this length; the batch's longest otherwise.</param>
    /// <param name="padToMaxTokens">Pad vector outputs to <paramref name="maxTokens"/> columns; false by default.</param>
    /// <param name="vocabulary">A fixed vocabulary (saved in the config).</param>
    /// <param name="idfWeights">Idf weights of a fixed vocabulary in "tf_idf" mode.</param>
    /// <param name="name">Layer name; "text_vectorization", ... by default.</param>
    static member TextVectorization
        (
            ?maxTokens: int,
            ?standardize: string,
            ?split: string,
            ?ngrams: int,
            ?outputMode: string,
            ?outputSequenceLength: int,
            ?padToMaxTokens: bool,
            ?vocabulary: string list,
            ?idfWeights: float list,
            ?name: string
        ) : Layer =
        let d = TextLayers.TextVectorizationConfig.Default

        let noneable (value: string option) (fallback: string option) =
            match value with
            | Some null -> None
            | Some v when v.Equals("none", System.StringComparison.OrdinalIgnoreCase) -> None
            | Some v -> Some v
            | None -> fallback

        TextLayers.textVectorization
            { d with
                MaxTokens = maxTokens
                Standardize = noneable standardize d.Standardize
                Split = noneable split d.Split
                Ngrams = ngrams |> Option.map (fun n -> [ 1..n ])
                OutputMode =
                    LookupLayers.OutputMode.parse
                        "TextVectorization"
                        [ LookupLayers.Int; LookupLayers.MultiHot; LookupLayers.Count; LookupLayers.TfIdf ]
                        (defaultArg outputMode "int")
                OutputSequenceLength = outputSequenceLength
                PadToMaxTokens = defaultArg padToMaxTokens false
                Vocabulary = vocabulary
                IdfWeights = idfWeights
            }
            name

    // ---- end of text and lookup preprocessing ----

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
