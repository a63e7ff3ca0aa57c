/// Keras's ConvLSTM1D, ConvLSTM2D and ConvLSTM3D: an LSTM whose input and recurrent transformations are convolutions of
/// rank 1, 2 or 3, driven by <c>RecurrentDriver</c>. One implementation serves every rank.
module Keras.ConvLSTMLayers

open TorchSharp
open Keras
open Keras.RecurrentDriver

type private Tensor = torch.Tensor

/// Configuration of <see cref="convLSTM2D"/>, with Keras's defaults in <see cref="ConvLSTM2DConfig.Default"/>.
type ConvLSTM2DConfig =
    {
        /// Number of output channels (and of state channels).
        Filters: int
        /// Height and width of the convolution window.
        KernelSize: int * int
        /// Strides of the input convolution (the recurrent one always uses 1).
        Strides: int * int
        /// "valid" or "same" for the input convolution (the recurrent one always uses "same").
        Padding: string
        /// Dilation of the input convolution.
        DilationRate: int * int
        /// Activation of the candidate cell state and of the output (tanh).
        Activation: Activation
        /// Activation of the gates (sigmoid).
        RecurrentActivation: Activation
        /// Whether the cell adds a bias.
        UseBias: bool
        /// Initializer of <c>kernel</c> (kh, kw, channels, 4·filters).
        KernelInitializer: Initializer
        /// Initializer of <c>recurrent_kernel</c> (kh, kw, filters, 4·filters).
        RecurrentInitializer: Initializer
        /// Initializer of <c>bias</c> (4·filters).
        BiasInitializer: Initializer
        /// When true, the forget-gate part of the bias starts at 1.
        UnitForgetBias: bool
        /// Fraction of the inputs dropped in training (one mask per gate); clamped to [0, 1].
        Dropout: float
        /// Fraction of the recurrent state dropped in training (one mask per gate); clamped to [0, 1].
        RecurrentDropout: float
        /// Seed of the dropout masks; the global generator when absent.
        Seed: int option
        /// Whether to return the whole output sequence or only the last output.
        ReturnSequences: bool
        /// Whether to return the last states (h, then c) after the output.
        ReturnState: bool
        /// Whether to process the sequence backwards (and return the output sequence reversed).
        GoBackwards: bool
        /// Keras's stateful mode: the last states of a batch start the next call (the batch size must be fixed).
        Stateful: bool
        /// Penalty on <c>kernel</c> added to the loss.
        KernelRegularizer: Regularizer option
        /// Penalty on <c>recurrent_kernel</c> added to the loss.
        RecurrentRegularizer: Regularizer option
        /// Penalty on <c>bias</c> added to the loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the loss.
        ActivityRegularizer: Regularizer option
        /// Projection applied to <c>kernel</c> after each optimizer update.
        KernelConstraint: Constraint option
        /// Projection applied to <c>recurrent_kernel</c> after each optimizer update.
        RecurrentConstraint: Constraint option
        /// Projection applied to <c>bias</c> after each optimizer update.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: strides 1, "valid", dilation 1, tanh and sigmoid, bias with unit forget bias,
    /// glorot_uniform / orthogonal / zeros, no dropout, last output only.
    static member Default(filters, kernelSize) =
        {
            Filters = filters
            KernelSize = kernelSize
            Strides = (1, 1)
            Padding = "valid"
            DilationRate = (1, 1)
            Activation = Tanh
            RecurrentActivation = Sigmoid
            UseBias = true
            KernelInitializer = GlorotUniform
            RecurrentInitializer = Orthogonal 1.0
            BiasInitializer = Zeros
            UnitForgetBias = true
            Dropout = 0.0
            RecurrentDropout = 0.0
            Seed = None
            ReturnSequences = false
            ReturnState = false
            GoBackwards = false
            Stateful = false
            KernelRegularizer = None
            RecurrentRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            RecurrentConstraint = None
            BiasConstraint = None
        }


/// <summary>Configuration of a ConvLSTM layer of any rank (<see cref="convLSTM"/>): ConvLSTM1D (rank 1), ConvLSTM2D
/// (rank 2) or ConvLSTM3D (rank 3), with Keras's defaults in <see cref="ConvLSTMConfig.Default"/>. The window,
/// strides and dilation hold one value per spatial axis.</summary>
type ConvLSTMConfig =
    {
        /// Number of spatial axes: 1, 2 or 3.
        Rank: int
        /// Number of output channels (and of state channels).
        Filters: int
        /// Size of the convolution window along each spatial axis.
        KernelSize: int list
        /// Strides of the input convolution along each spatial axis (the recurrent one always uses 1).
        Strides: int list
        /// "valid" or "same" for the input convolution (the recurrent one always uses "same").
        Padding: string
        /// Dilation of the input convolution along each spatial axis.
        DilationRate: int list
        /// Activation of the candidate cell state and of the output (tanh).
        Activation: Activation
        /// Activation of the gates (sigmoid).
        RecurrentActivation: Activation
        /// Whether the cell adds a bias.
        UseBias: bool
        /// Initializer of <c>kernel</c> (k..., channels, 4·filters).
        KernelInitializer: Initializer
        /// Initializer of <c>recurrent_kernel</c> (k..., filters, 4·filters).
        RecurrentInitializer: Initializer
        /// Initializer of <c>bias</c> (4·filters).
        BiasInitializer: Initializer
        /// When true, the forget-gate part of the bias starts at 1.
        UnitForgetBias: bool
        /// Fraction of the inputs dropped in training (one mask per gate); clamped to [0, 1].
        Dropout: float
        /// Fraction of the recurrent state dropped in training (one mask per gate); clamped to [0, 1].
        RecurrentDropout: float
        /// Seed of the dropout masks; the global generator when absent.
        Seed: int option
        /// Whether to return the whole output sequence or only the last output.
        ReturnSequences: bool
        /// Whether to return the last states (h, then c) after the output.
        ReturnState: bool
        /// Whether to process the sequence backwards (and return the output sequence reversed).
        GoBackwards: bool
        /// Keras's stateful mode: the last states of a batch start the next call (the batch size must be fixed).
        Stateful: bool
        /// Penalty on <c>kernel</c> added to the loss.
        KernelRegularizer: Regularizer option
        /// Penalty on <c>recurrent_kernel</c> added to the loss.
        RecurrentRegularizer: Regularizer option
        /// Penalty on <c>bias</c> added to the loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the loss.
        ActivityRegularizer: Regularizer option
        /// Projection applied to <c>kernel</c> after each optimizer update.
        KernelConstraint: Constraint option
        /// Projection applied to <c>recurrent_kernel</c> after each optimizer update.
        RecurrentConstraint: Constraint option
        /// Projection applied to <c>bias</c> after each optimizer update.
        BiasConstraint: Constraint option
    }

    /// <summary>Keras's defaults for a layer of rank <paramref name="rank"/>: strides 1, "valid", dilation 1, tanh and
    /// sigmoid, bias with unit forget bias, glorot_uniform / orthogonal / zeros, no dropout, last output only. A
    /// single-value <paramref name="kernelSize"/> applies to every spatial axis.</summary>
    static member Default(rank: int, filters: int, kernelSize: int list) =
        let d = ConvLSTM2DConfig.Default(filters, (1, 1))

        {
            Rank = rank
            Filters = filters
            KernelSize =
                (match kernelSize with
                 | [ k ] -> List.replicate rank k
                 | ks -> ks)
            Strides = List.replicate rank 1
            Padding = d.Padding
            DilationRate = List.replicate rank 1
            Activation = d.Activation
            RecurrentActivation = d.RecurrentActivation
            UseBias = d.UseBias
            KernelInitializer = d.KernelInitializer
            RecurrentInitializer = d.RecurrentInitializer
            BiasInitializer = d.BiasInitializer
            UnitForgetBias = d.UnitForgetBias
            Dropout = d.Dropout
            RecurrentDropout = d.RecurrentDropout
            Seed = d.Seed
            ReturnSequences = d.ReturnSequences
            ReturnState = d.ReturnState
            GoBackwards = d.GoBackwards
            Stateful = d.Stateful
            KernelRegularizer = None
            RecurrentRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            RecurrentConstraint = None
            BiasConstraint = None
        }

    /// <summary>The rank-2 configuration of ConvLSTM2D as a general one.</summary>
    static member OfConvLSTM2D(c: ConvLSTM2DConfig) =
        let two (a, b) = [ a; b ]

        {
            Rank = 2
            Filters = c.Filters
            KernelSize = two c.KernelSize
            Strides = two c.Strides
            Padding = c.Padding
            DilationRate = two c.DilationRate
            Activation = c.Activation
            RecurrentActivation = c.RecurrentActivation
            UseBias = c.UseBias
            KernelInitializer = c.KernelInitializer
            RecurrentInitializer = c.RecurrentInitializer
            BiasInitializer = c.BiasInitializer
            UnitForgetBias = c.UnitForgetBias
            Dropout = c.Dropout
            RecurrentDropout = c.RecurrentDropout
            Seed = c.Seed
            ReturnSequences = c.ReturnSequences
            ReturnState = c.ReturnState
            GoBackwards = c.GoBackwards
            Stateful = c.Stateful
            KernelRegularizer = c.KernelRegularizer
            RecurrentRegularizer = c.RecurrentRegularizer
            BiasRegularizer = c.BiasRegularizer
            ActivityRegularizer = c.ActivityRegularizer
            KernelConstraint = c.KernelConstraint
            RecurrentConstraint = c.RecurrentConstraint
            BiasConstraint = c.BiasConstraint
        }

// ---------------------------------------------------------------------------------------------------------------
// The convolutional LSTM of any rank
// ---------------------------------------------------------------------------------------------------------------

/// TensorFlow's "same" padding (before, after) of one axis; the extra pixel goes after.
let private samePadding (size: int64) (kernel: int64) (stride: int64) (dilation: int64) =
    let out = (size + stride - 1L) / stride
    let total = max 0L ((out - 1L) * stride + (kernel - 1L) * dilation + 1L - size)
    total / 2L, total - total / 2L

/// A convolution of rank <paramref name="rank"/> of a channels-first tensor (N, C, spatial...) with Keras's padding
/// rules; the weight is (out, in, kernel...).
let private convN
    (rank: int)
    (x: Tensor)
    (weight: Tensor)
    (bias: Tensor)
    (strides: int list)
    (dilation: int list)
    (same: bool)
    =
    let strides = strides |> List.map int64 |> Array.ofList
    let dilation = dilation |> List.map int64 |> Array.ofList

    let x =
        if same then
            // torch's pad lists (before, after) from the last axis to the first.
            let pads =
                [|
                    for axis in rank - 1 .. -1 .. 0 do
                        let before, after =
                            samePadding (x.size(2 + axis)) (weight.size(2 + axis)) strides[axis] dilation[axis]

                        yield before
                        yield after
                |]

            if Array.forall ((=) 0L) pads then
                x
            else
                torch.nn.functional.pad (x, pads, PaddingModes.Constant, 0.0)
        else
            x

    TorchConvolution.conv rank x weight bias strides (Array.zeroCreate rank) dilation 1L

/// Output size of one spatial axis of a convolution, as Keras computes it.
let private convOutputSize (size: int) (kernel: int) (stride: int) (dilation: int) (same: bool) =
    if same then
        (size + stride - 1) / stride
    else
        (size - dilation * (kernel - 1) - 1) / stride + 1

/// Moves the channel axis of a tensor with <paramref name="rank"/> spatial axes from before them to last:
/// (..., C, spatial...) to (..., spatial..., C).
let private channelsLast (rank: int) (t: Tensor) =
    let r = t.dim ()
    let c = r - 1L - int64 rank
    t.permute (Array.concat [ [| 0L .. c - 1L |]; [| c + 1L .. r - 1L |]; [| c |] ])

/// Moves the channel axis of a tensor with <paramref name="rank"/> spatial axes from last to before them:
/// (..., spatial..., C) to (..., C, spatial...).
let private channelsFirst (rank: int) (t: Tensor) =
    let r = t.dim ()
    let c = r - 1L - int64 rank
    t.permute (Array.concat [ [| 0L .. c - 1L |]; [| r - 1L |]; [| c .. r - 2L |] ])

let private axisNames =
    function
    | 1 -> "steps"
    | 2 -> "rows, cols"
    | _ -> "conv_dim1, conv_dim2, conv_dim3"

let private convLstmDef (config: ConvLSTMConfig) (padding: string) : CellDef =
    let rank = config.Rank
    let className = $"ConvLSTM{rank}D"

    let penalties =
        {
            Kernel = config.KernelRegularizer
            Recurrent = config.RecurrentRegularizer
            Bias = config.BiasRegularizer
            Activity = config.ActivityRegularizer
            KernelConstraint = config.KernelConstraint
            RecurrentConstraint = config.RecurrentConstraint
            BiasConstraint = config.BiasConstraint
        }

    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    let same = padding = "same"
    let f = config.Filters
    let ones = List.replicate rank 1
    // (k..., in, 4f) -> (4f, in, k...)
    let kernelOrder =
        Array.append [| int64 rank + 1L; int64 rank |] [| 0L .. int64 rank - 1L |]

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let batch, time = x.size(0), x.size(1)
        // (batch, time, spatial..., ch) -> (batch, time, ch, spatial...)
        let xs = channelsFirst rank x
        let kernel = w[0].Value.permute kernelOrder
        let recurrentKernel = w[1].Value.permute kernelOrder
        let bias = if config.UseBias then w[2].Value else null

        let fold (t: Tensor) =
            t.reshape (Array.append [| batch * time |] t.Sizes[2..])

        let projected =
            if dropoutActive training dropout then
                let masks =
                    dropoutMasks generator dropout 4 (Array.append [| batch; 1L |] xs.Sizes[2..])

                let parts =
                    masks
                    |> List.mapi (fun g m ->
                        let gateBias =
                            if isNull bias then
                                null
                            else
                                bias.narrow (0L, int64 (g * f), int64 f)

                        convN
                            rank
                            (fold (xs.mul m))
                            (kernel.narrow (0L, int64 (g * f), int64 f))
                            gateBias
                            config.Strides
                            config.DilationRate
                            same)

                torch.cat (Array.ofList parts, 1L)
            else
                convN rank (fold xs) kernel bias config.Strides config.DilationRate same

        let projected =
            projected.reshape (Array.append [| batch; time |] projected.Sizes[1..])

        let stateShape =
            Array.append [| batch |] projected.Sizes[2..]
            |> Array.mapi (fun i d -> if i = 1 then int64 f else d)

        let recMasks =
            if dropoutActive training recurrentDropout then
                Some(dropoutMasks generator recurrentDropout 4 stateShape)
            else
                None

        let act = Activation.apply config.Activation
        let gate = Activation.apply config.RecurrentActivation

        let recurrent (h: Tensor) =
            match recMasks with
            | None -> convN rank h recurrentKernel null ones ones true
            | Some ms ->
                torch.cat (
                    [|
                        for g, m in List.indexed ms ->
                            convN
                                rank
                                (h.mul m)
                                (recurrentKernel.narrow (0L, int64 (g * f), int64 f))
                                null
                                ones
                                ones
                                true
                    |],
                    1L
                )

        {
            Initial = [ zeros stateShape; zeros stateShape ]
            Step =
                fun t states ->
                    match states with
                    | [ h; c ] ->
                        let z = projected.select(1L, t).add(recurrent h)
                        let parts = z.chunk (4L, 1L)
                        let i = gate parts[0]
                        let fg = gate parts[1]
                        let c = fg.mul(c).add(i.mul (act parts[2]))
                        let o = gate parts[3]
                        let h = o.mul (act c)
                        h, [ h; c ]
                    | _ -> invalidOp $"A {className} step takes two states."
        }

    {
        ClassName = className
        CellClassName = "ConvLSTMCell"
        CellName = "conv_lstm_cell"
        InputNDim = rank + 3
        StateCount = 2
        StateShapes = None
        OutputShape =
            fun step ->
                match step with
                | _ :: dims when dims.Length = rank + 1 ->
                    let spatial = List.take rank dims

                    match List.last dims with
                    | None -> Error "The channel dimension of the inputs (last axis) should be defined. Found None."
                    | Some _ when spatial |> List.exists Option.isNone ->
                        Error "ConvLSTM layers only support static input shapes for the spatial dimension."
                    | Some _ ->
                        let sizes = spatial |> List.map Option.get

                        let outs =
                            List.init rank (fun a ->
                                convOutputSize
                                    sizes[a]
                                    config.KernelSize[a]
                                    config.Strides[a]
                                    config.DilationRate[a]
                                    same)

                        if outs |> List.exists (fun o -> o <= 0) then
                            Error
                                $"The convolution window {Shape.format (config.KernelSize |> List.map Some)} does not fit in the input's spatial size {Shape.format spatial}."
                        else
                            Ok((outs |> List.map Some) @ [ Some f ])
                | _ -> Error $"Expected a sequence of rank {rank + 3} (batch, time, {axisNames rank}, channels)."
        Weights =
            fun step ->
                let d = inputDim step

                [
                    yield weight "kernel" (config.KernelSize @ [ d; 4 * f ]) config.KernelInitializer config.KernelConstraint
                    yield
                        weight
                            "recurrent_kernel"
                            (config.KernelSize @ [ f; 4 * f ])
                            config.RecurrentInitializer
                            config.RecurrentConstraint
                    if config.UseBias then
                        yield weight "bias" [ 4 * f ] config.BiasInitializer config.BiasConstraint
                ]
        AfterBuild =
            fun ws ->
                if config.UseBias && config.UnitForgetBias then
                    unitForgetBias ws[2] f
        RegularizationLosses = cellPenalties penalties
        ActivityRegularizer = penalties.Activity
        Config =
            fun () ->
                [
                    "filters", Config.value f
                    "kernel_size", Config.ints config.KernelSize
                    "strides", Config.ints config.Strides
                    "padding", Config.value padding
                    "data_format", Config.value "channels_last"
                    "dilation_rate", Config.ints config.DilationRate
                    "activation", Config.activation config.Activation
                    "recurrent_activation", Config.activation config.RecurrentActivation
                    "use_bias", Config.value config.UseBias
                    "kernel_initializer", Config.initializer config.KernelInitializer
                    "recurrent_initializer", Config.initializer config.RecurrentInitializer
                    "bias_initializer", Config.initializer config.BiasInitializer
                    "unit_forget_bias", Config.value config.UnitForgetBias
                ]
                @ regularizerEntries penalties
                @ [
                    "dropout", Config.value dropout
                    "recurrent_dropout", Config.value recurrentDropout
                    "seed", seedValue config.Seed
                ]
        Seed = config.Seed
        Prepare = prepare
        Fused = fun _ -> None
        ToInternal = channelsFirst rank
        ToExternal = channelsLast rank
    }

/// <summary>Keras's ConvLSTM1D, ConvLSTM2D or ConvLSTM3D (by <c>config.Rank</c>) on channels-last sequences
/// (batch, time, spatial..., channels): an LSTM whose input and recurrent transformations are convolutions (the
/// recurrent one with "same" padding and stride 1). Output (batch, spatial'..., filters), or
/// (batch, time, spatial'..., filters) with return_sequences; with return_state [output; h; c]. Weights kernel
/// (k..., channels, 4·filters), recurrent_kernel (k..., filters, 4·filters) and bias (4·filters).</summary>
/// <exception cref="KerasException">When the rank is not 1, 2 or 3, a window, stride or dilation has the wrong length
/// or is not positive, padding is not "valid"/"same", or strides and dilation are both above 1.</exception>
let convLSTM (config: ConvLSTMConfig) (name: string option) : Layer =
    if config.Rank < 1 || config.Rank > 3 then
        Errors.raiseKeras (InvalidArgument("ConvLSTM", "rank", "Expected a rank of 1, 2 or 3.", string config.Rank))

    let className = $"ConvLSTM{config.Rank}D"
    checkCommon className config.Filters "filters"

    let expand (argument: string) (values: int list) =
        let values =
            match values with
            | [ v ] -> List.replicate config.Rank v
            | vs -> vs

        if values.Length <> config.Rank || values |> List.exists (fun v -> v <= 0) then
            Errors.raiseKeras (
                InvalidArgument(
                    className,
                    argument,
                    $"The `{argument}` argument must be a tuple of {config.Rank} positive integers.",
                    string values
                )
            )

        values

    let config =
        { config with
            KernelSize = expand "kernel_size" config.KernelSize
            Strides = expand "strides" config.Strides
            DilationRate = expand "dilation_rate" config.DilationRate
        }

    if List.max config.Strides > 1 && List.max config.DilationRate > 1 then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                "strides",
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`.",
                $"{config.Strides} and dilation_rate={config.DilationRate}"
            )
        )

    let padding = config.Padding.Trim().ToLowerInvariant()

    if padding <> "valid" && padding <> "same" then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                "padding",
                "The `padding` argument must be one of \"valid\", \"same\".",
                config.Padding
            )
        )

    recurrentLayer
        (convLstmDef config padding)
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards config.Stateful)
        name

/// <summary>Keras's ConvLSTM2D on channels-last sequences (batch, time, rows, cols, channels): <see cref="convLSTM"/>
/// of rank 2. Output (batch, rows', cols', filters), or (batch, time, rows', cols', filters) with return_sequences;
/// with return_state [output; h; c].</summary>
/// <exception cref="KerasException">When filters, kernel size, strides or dilation are not positive, padding is not
/// "valid"/"same", or strides and dilation are both above 1.</exception>
let convLSTM2D (config: ConvLSTM2DConfig) (name: string option) : Layer =
    convLSTM (ConvLSTMConfig.OfConvLSTM2D config) name
