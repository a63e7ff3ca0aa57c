/// Keras's ConvLSTM2D: an LSTM whose input and recurrent transformations are convolutions, driven by
/// <c>RecurrentDriver</c>.
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
        }

// ---------------------------------------------------------------------------------------------------------------
// ConvLSTM2D
// ---------------------------------------------------------------------------------------------------------------

/// TensorFlow's "same" padding (before, after) of one axis; the extra pixel goes after.
let private samePadding (size: int64) (kernel: int64) (stride: int64) (dilation: int64) =
    let out = (size + stride - 1L) / stride
    let total = max 0L ((out - 1L) * stride + (kernel - 1L) * dilation + 1L - size)
    total / 2L, total - total / 2L

/// A 2-D convolution of a channels-first tensor with Keras's padding rules.
let private conv2d (x: Tensor) (weight: Tensor) (bias: Tensor) (strides: int * int) (dilation: int * int) (same: bool) =
    let sh, sw = int64 (fst strides), int64 (snd strides)
    let dh, dw = int64 (fst dilation), int64 (snd dilation)

    let x =
        if same then
            let top, bottom = samePadding x.shape[2] weight.shape[2] sh dh
            let left, right = samePadding x.shape[3] weight.shape[3] sw dw

            if top + bottom + left + right = 0L then
                x
            else
                torch.nn.functional.pad (x, [| left; right; top; bottom |], PaddingModes.Constant, 0.0)
        else
            x

    TorchConvolution.conv 2 x weight bias [| sh; sw |] [| 0L; 0L |] [| dh; dw |] 1L

/// Output size of one spatial axis of a convolution, as Keras computes it.
let private convOutputSize (size: int) (kernel: int) (stride: int) (dilation: int) (same: bool) =
    if same then
        (size + stride - 1) / stride
    else
        (size - dilation * (kernel - 1) - 1) / stride + 1

/// Moves the channel axis from third-to-last to last: (..., C, H, W) to (..., H, W, C).
let private channelsLast (t: Tensor) =
    let r = t.dim ()
    t.permute (Array.append [| 0L .. r - 4L |] [| r - 2L; r - 1L; r - 3L |])

/// Moves the channel axis from last to third-to-last: (..., H, W, C) to (..., C, H, W).
let private channelsFirst (t: Tensor) =
    let r = t.dim ()
    t.permute (Array.append [| 0L .. r - 4L |] [| r - 1L; r - 3L; r - 2L |])

let private convLstmDef (config: ConvLSTM2DConfig) (padding: string) : CellDef =
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    let kh, kw = config.KernelSize
    let same = padding = "same"
    let f = config.Filters

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let batch, time = x.shape[0], x.shape[1]
        // (batch, time, rows, cols, ch) -> (batch, time, ch, rows, cols)
        let xs = x.permute (0L, 1L, 4L, 2L, 3L)
        let kernel = w[0].Value.permute(3L, 2L, 0L, 1L) // (4f, ch, kh, kw)
        let recurrentKernel = w[1].Value.permute(3L, 2L, 0L, 1L) // (4f, f, kh, kw)
        let bias = if config.UseBias then w[2].Value else null

        let fold (t: Tensor) =
            t.reshape (Array.append [| batch * time |] t.shape[2..])

        let projected =
            if dropoutActive training dropout then
                let masks =
                    dropoutMasks generator dropout 4 (Array.append [| batch; 1L |] xs.shape[2..])

                let parts =
                    masks
                    |> List.mapi (fun g m ->
                        let gateBias =
                            if isNull bias then
                                null
                            else
                                bias.narrow (0L, int64 (g * f), int64 f)

                        conv2d
                            (fold (xs.mul m))
                            (kernel.narrow (0L, int64 (g * f), int64 f))
                            gateBias
                            config.Strides
                            config.DilationRate
                            same)

                torch.cat (Array.ofList parts, 1L)
            else
                conv2d (fold xs) kernel bias config.Strides config.DilationRate same

        let projected =
            projected.reshape (Array.append [| batch; time |] projected.shape[1..])

        let stateShape =
            Array.append [| batch |] projected.shape[2..]
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
            | None -> conv2d h recurrentKernel null (1, 1) (1, 1) true
            | Some ms ->
                torch.cat (
                    [|
                        for g, m in List.indexed ms ->
                            conv2d
                                (h.mul m)
                                (recurrentKernel.narrow (0L, int64 (g * f), int64 f))
                                null
                                (1, 1)
                                (1, 1)
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
                    | _ -> invalidOp "A ConvLSTM2D step takes two states."
        }

    {
        ClassName = "ConvLSTM2D"
        CellClassName = "ConvLSTMCell"
        CellName = "conv_lstm_cell"
        InputNDim = 5
        StateCount = 2
        OutputShape =
            fun step ->
                match step with
                | [ _; Some rows; Some cols; Some _ ] ->
                    let outRows =
                        convOutputSize rows kh (fst config.Strides) (fst config.DilationRate) same

                    let outCols =
                        convOutputSize cols kw (snd config.Strides) (snd config.DilationRate) same

                    if outRows <= 0 || outCols <= 0 then
                        Error
                            $"The convolution window {Shape.format [ Some kh; Some kw ]} does not fit in the input's spatial size {Shape.format [ Some rows; Some cols ]}."
                    else
                        Ok [ Some outRows; Some outCols; Some f ]
                | [ _; _; _; None ] ->
                    Error "The channel dimension of the inputs (last axis) should be defined. Found None."
                | [ _; _; _; _ ] -> Error "ConvLSTM layers only support static input shapes for the spatial dimension."
                | _ -> Error "Expected a sequence of rank 5 (batch, time, rows, cols, channels)."
        Weights =
            fun step ->
                let d = inputDim step

                [
                    yield weight "kernel" [ kh; kw; d; 4 * f ] config.KernelInitializer None
                    yield weight "recurrent_kernel" [ kh; kw; f; 4 * f ] config.RecurrentInitializer None
                    if config.UseBias then
                        yield weight "bias" [ 4 * f ] config.BiasInitializer None
                ]
        AfterBuild =
            fun ws ->
                if config.UseBias && config.UnitForgetBias then
                    unitForgetBias ws[2] f
        RegularizationLosses = fun _ -> []
        ActivityRegularizer = None
        Config =
            fun () ->
                [
                    "filters", Config.value f
                    "kernel_size", Config.ints [ kh; kw ]
                    "strides", Config.ints [ fst config.Strides; snd config.Strides ]
                    "padding", Config.value padding
                    "data_format", Config.value "channels_last"
                    "dilation_rate", Config.ints [ fst config.DilationRate; snd config.DilationRate ]
                    "activation", Config.activation config.Activation
                    "recurrent_activation", Config.activation config.RecurrentActivation
                    "use_bias", Config.value config.UseBias
                    "kernel_initializer", Config.initializer config.KernelInitializer
                    "recurrent_initializer", Config.initializer config.RecurrentInitializer
                    "bias_initializer", Config.initializer config.BiasInitializer
                    "unit_forget_bias", Config.value config.UnitForgetBias
                ]
                @ regularizerEntries noPenalties
                @ [
                    "dropout", Config.value dropout
                    "recurrent_dropout", Config.value recurrentDropout
                    "seed", seedValue config.Seed
                ]
        Seed = config.Seed
        Prepare = prepare
        Fused = fun _ -> None
        ToInternal = channelsFirst
        ToExternal = channelsLast
    }

/// <summary>Keras's ConvLSTM2D on channels-last sequences (batch, time, rows, cols, channels): an LSTM whose input and
/// recurrent transformations are 2-D convolutions (the recurrent one with "same" padding and stride 1). Output
/// (batch, rows', cols', filters), or (batch, time, rows', cols', filters) with return_sequences; with return_state
/// [output; h; c].</summary>
/// <exception cref="KerasException">When filters, kernel size, strides or dilation are not positive, padding is not
/// "valid"/"same", strides and dilation are both above 1, or stateful is requested.</exception>
let convLSTM2D (config: ConvLSTM2DConfig) (name: string option) : Layer =
    checkCommon "ConvLSTM2D" config.Filters "filters"

    let positive (argument: string) (a, b) =
        if a <= 0 || b <= 0 then
            Errors.raiseKeras (InvalidArgument("ConvLSTM2D", argument, "Expected positive integers.", $"({a}, {b})"))

    positive "kernel_size" config.KernelSize
    positive "strides" config.Strides
    positive "dilation_rate" config.DilationRate

    if
        max (fst config.Strides) (snd config.Strides) > 1
        && max (fst config.DilationRate) (snd config.DilationRate) > 1
    then
        Errors.raiseKeras (
            InvalidArgument(
                "ConvLSTM2D",
                "strides",
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`.",
                $"{config.Strides} and dilation_rate={config.DilationRate}"
            )
        )

    let padding = config.Padding.Trim().ToLowerInvariant()

    if padding <> "valid" && padding <> "same" then
        Errors.raiseKeras (
            InvalidArgument(
                "ConvLSTM2D",
                "padding",
                "The `padding` argument must be one of \"valid\", \"same\".",
                config.Padding
            )
        )

    recurrentLayer
        (convLstmDef config padding)
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards config.Stateful)
        name
