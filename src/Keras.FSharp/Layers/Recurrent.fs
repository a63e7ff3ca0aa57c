/// Recurrent layers over dense cells: SimpleRNN, LSTM and GRU, with Keras 3's arguments, defaults, weight layouts,
/// masking and dropout semantics. The loop itself is in <c>RecurrentDriver</c>.
module Keras.RecurrentLayers

open System.Text.Json.Nodes
open TorchSharp
open Keras
open Keras.RecurrentDriver

type private Tensor = torch.Tensor

// ---------------------------------------------------------------------------------------------------------------
// Configurations
// ---------------------------------------------------------------------------------------------------------------

/// Configuration of <see cref="simpleRNN"/>, with Keras's defaults in <see cref="SimpleRNNConfig.Default"/>.
type SimpleRNNConfig =
    {
        /// Size of the output and of the state.
        Units: int
        /// Activation of the new state (tanh).
        Activation: Activation
        /// Whether the cell adds a bias.
        UseBias: bool
        /// Initializer of <c>kernel</c> (input_dim, units).
        KernelInitializer: Initializer
        /// Initializer of <c>recurrent_kernel</c> (units, units).
        RecurrentInitializer: Initializer
        /// Initializer of <c>bias</c> (units).
        BiasInitializer: Initializer
        /// Penalty on <c>kernel</c> added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on <c>recurrent_kernel</c> added to the training loss.
        RecurrentRegularizer: Regularizer option
        /// Penalty on <c>bias</c> added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's outputs added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of <c>kernel</c> after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of <c>recurrent_kernel</c> after each optimizer step.
        RecurrentConstraint: Constraint option
        /// Projection of <c>bias</c> after each optimizer step.
        BiasConstraint: Constraint option
        /// Fraction of the inputs dropped in training (one mask per sequence, shared by all timesteps); clamped to [0, 1].
        Dropout: float
        /// Fraction of the recurrent state dropped in training; clamped to [0, 1].
        RecurrentDropout: float
        /// Seed of the dropout masks; the global generator when absent.
        Seed: int option
        /// Whether to return the whole output sequence or only the last output.
        ReturnSequences: bool
        /// Whether to return the last state after the output.
        ReturnState: bool
        /// Whether to process the sequence backwards (and return the output sequence reversed).
        GoBackwards: bool
        /// Keras's stateful mode: the last states of a batch start the next call (the batch size must be fixed).
        Stateful: bool
    }

    /// Keras's defaults: tanh, bias, glorot_uniform kernel, orthogonal recurrent kernel, zero bias, no dropout,
    /// last output only.
    static member Default(units) =
        {
            Units = units
            Activation = Tanh
            UseBias = true
            KernelInitializer = GlorotUniform
            RecurrentInitializer = Orthogonal 1.0
            BiasInitializer = Zeros
            KernelRegularizer = None
            RecurrentRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            RecurrentConstraint = None
            BiasConstraint = None
            Dropout = 0.0
            RecurrentDropout = 0.0
            Seed = None
            ReturnSequences = false
            ReturnState = false
            GoBackwards = false
            Stateful = false
        }

/// Configuration of <see cref="lstm"/>, with Keras's defaults in <see cref="LSTMConfig.Default"/>.
type LSTMConfig =
    {
        /// Size of the output and of each state (h and c).
        Units: int
        /// Activation of the candidate cell state and of the output (tanh).
        Activation: Activation
        /// Activation of the input, forget and output gates (sigmoid).
        RecurrentActivation: Activation
        /// Whether the cell adds a bias.
        UseBias: bool
        /// Initializer of <c>kernel</c> (input_dim, 4·units), gates in the order i, f, c, o.
        KernelInitializer: Initializer
        /// Initializer of <c>recurrent_kernel</c> (units, 4·units).
        RecurrentInitializer: Initializer
        /// Initializer of <c>bias</c> (4·units).
        BiasInitializer: Initializer
        /// Penalty on <c>kernel</c> added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on <c>recurrent_kernel</c> added to the training loss.
        RecurrentRegularizer: Regularizer option
        /// Penalty on <c>bias</c> added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's outputs added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of <c>kernel</c> after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of <c>recurrent_kernel</c> after each optimizer step.
        RecurrentConstraint: Constraint option
        /// Projection of <c>bias</c> after each optimizer step.
        BiasConstraint: Constraint option
        /// When true, the forget-gate part of the bias starts at 1 (the other parts use the bias initializer).
        UnitForgetBias: bool
        /// Fraction of the inputs dropped in training; clamped to [0, 1].
        Dropout: float
        /// Fraction of the recurrent state dropped in training; clamped to [0, 1]. When non-zero the gates get
        /// separate masks (Keras's implementation 1).
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

    /// Keras's defaults: tanh and sigmoid, bias with unit forget bias, glorot_uniform / orthogonal / zeros, no
    /// dropout, last output only.
    static member Default(units) =
        {
            Units = units
            Activation = Tanh
            RecurrentActivation = Sigmoid
            UseBias = true
            KernelInitializer = GlorotUniform
            RecurrentInitializer = Orthogonal 1.0
            BiasInitializer = Zeros
            KernelRegularizer = None
            RecurrentRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            RecurrentConstraint = None
            BiasConstraint = None
            UnitForgetBias = true
            Dropout = 0.0
            RecurrentDropout = 0.0
            Seed = None
            ReturnSequences = false
            ReturnState = false
            GoBackwards = false
            Stateful = false
        }

/// Configuration of <see cref="gru"/>, with Keras's defaults in <see cref="GRUConfig.Default"/>.
type GRUConfig =
    {
        /// Size of the output and of the state.
        Units: int
        /// Activation of the candidate state (tanh).
        Activation: Activation
        /// Activation of the update and reset gates (sigmoid).
        RecurrentActivation: Activation
        /// Whether the cell adds a bias.
        UseBias: bool
        /// Initializer of <c>kernel</c> (input_dim, 3·units), gates in the order z, r, h.
        KernelInitializer: Initializer
        /// Initializer of <c>recurrent_kernel</c> (units, 3·units).
        RecurrentInitializer: Initializer
        /// Initializer of <c>bias</c>: (2, 3·units) with reset_after (input and recurrent biases), else (3·units).
        BiasInitializer: Initializer
        /// Penalty on <c>kernel</c> added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on <c>recurrent_kernel</c> added to the training loss.
        RecurrentRegularizer: Regularizer option
        /// Penalty on <c>bias</c> added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's outputs added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of <c>kernel</c> after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of <c>recurrent_kernel</c> after each optimizer step.
        RecurrentConstraint: Constraint option
        /// Projection of <c>bias</c> after each optimizer step.
        BiasConstraint: Constraint option
        /// Fraction of the inputs dropped in training; clamped to [0, 1].
        Dropout: float
        /// Fraction of the recurrent state dropped in training; clamped to [0, 1].
        RecurrentDropout: float
        /// Apply the reset gate after the recurrent matrix product (Keras's default, cuDNN-compatible) or before.
        ResetAfter: bool
        /// Seed of the dropout masks; the global generator when absent.
        Seed: int option
        /// Whether to return the whole output sequence or only the last output.
        ReturnSequences: bool
        /// Whether to return the last state after the output.
        ReturnState: bool
        /// Whether to process the sequence backwards (and return the output sequence reversed).
        GoBackwards: bool
        /// Keras's stateful mode: the last states of a batch start the next call (the batch size must be fixed).
        Stateful: bool
    }

    /// Keras's defaults: tanh and sigmoid, bias, glorot_uniform / orthogonal / zeros, reset_after, no dropout,
    /// last output only.
    static member Default(units) =
        {
            Units = units
            Activation = Tanh
            RecurrentActivation = Sigmoid
            UseBias = true
            KernelInitializer = GlorotUniform
            RecurrentInitializer = Orthogonal 1.0
            BiasInitializer = Zeros
            KernelRegularizer = None
            RecurrentRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            RecurrentConstraint = None
            BiasConstraint = None
            Dropout = 0.0
            RecurrentDropout = 0.0
            ResetAfter = true
            Seed = None
            ReturnSequences = false
            ReturnState = false
            GoBackwards = false
            Stateful = false
        }

// ---------------------------------------------------------------------------------------------------------------
// SimpleRNN, LSTM, GRU
// ---------------------------------------------------------------------------------------------------------------

/// The penalties of a SimpleRNN, LSTM or GRU configuration.
let inline private penaltiesOf (config: ^C) : Penalties =
    {
        Kernel = (^C: (member KernelRegularizer: Regularizer option) config)
        Recurrent = (^C: (member RecurrentRegularizer: Regularizer option) config)
        Bias = (^C: (member BiasRegularizer: Regularizer option) config)
        Activity = (^C: (member ActivityRegularizer: Regularizer option) config)
        KernelConstraint = (^C: (member KernelConstraint: Constraint option) config)
        RecurrentConstraint = (^C: (member RecurrentConstraint: Constraint option) config)
        BiasConstraint = (^C: (member BiasConstraint: Constraint option) config)
    }

let internal simpleRnnDef (config: SimpleRNNConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.size(0)

        let inMask =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout 1 [| batch; 1L; x.size(2) |])
            else
                None

        let projected = maskedMatmul x w[0].Value inMask

        let projected =
            if config.UseBias then
                projected.add w[2].Value
            else
                projected

        let recMask =
            if dropoutActive training recurrentDropout then
                Some(dropoutMasks generator recurrentDropout 1 [| batch; units |])
            else
                None

        let recurrentKernel = w[1].Value

        {
            Initial = [ zeros [| batch; units |] ]
            Step =
                fun t states ->
                    let h = List.head states

                    let output =
                        Activation.apply
                            config.Activation
                            (projected.select(1L, t).add(maskedMatmul h recurrentKernel recMask))

                    output, [ output ]
        }

    {
        ClassName = "SimpleRNN"
        CellClassName = "SimpleRNNCell"
        CellName = "simple_rnn_cell"
        InputNDim = 3
        StateCount = 1
        StateShapes = None
        OutputShape = dense1D "SimpleRNN" config.Units
        Weights =
            fun step ->
                let d = inputDim step

                [
                    yield weight "kernel" [ d; config.Units ] config.KernelInitializer config.KernelConstraint
                    yield
                        weight
                            "recurrent_kernel"
                            [ config.Units; config.Units ]
                            config.RecurrentInitializer
                            config.RecurrentConstraint
                    if config.UseBias then
                        yield weight "bias" [ config.Units ] config.BiasInitializer config.BiasConstraint
                ]
        AfterBuild = ignore
        RegularizationLosses = cellPenalties penalties
        ActivityRegularizer = penalties.Activity
        Config =
            fun () ->
                rnnEntries config.Units config.Activation None
                @ [
                    "use_bias", Config.value config.UseBias
                    "kernel_initializer", Config.initializer config.KernelInitializer
                    "recurrent_initializer", Config.initializer config.RecurrentInitializer
                    "bias_initializer", Config.initializer config.BiasInitializer
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
        ToInternal = id
        ToExternal = id
    }

let internal lstmDef (config: LSTMConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    // Keras switches to per-gate dropout masks (implementation 1) when recurrent dropout is on.
    let maskCount = if recurrentDropout <> 0.0 then 4 else 1

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.size(0)

        let inMasks =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout maskCount [| batch; 1L; x.size(2) |])
            else
                None

        let projected = maskedMatmul x w[0].Value inMasks

        let projected =
            if config.UseBias then
                projected.add w[2].Value
            else
                projected

        let recMasks =
            if dropoutActive training recurrentDropout then
                Some(dropoutMasks generator recurrentDropout 4 [| batch; units |])
            else
                None

        let recurrentKernel = w[1].Value
        let act = Activation.apply config.Activation
        let gate = Activation.apply config.RecurrentActivation

        {
            Initial = [ zeros [| batch; units |]; zeros [| batch; units |] ]
            Step =
                fun t states ->
                    match states with
                    | [ h; c ] ->
                        let z = projected.select(1L, t).add(maskedMatmul h recurrentKernel recMasks)
                        let parts = z.chunk (4L, -1L)
                        let i = gate parts[0]
                        let f = gate parts[1]
                        let c = f.mul(c).add(i.mul (act parts[2]))
                        let o = gate parts[3]
                        let h = o.mul (act c)
                        h, [ h; c ]
                    | _ -> invalidOp "An LSTM step takes two states."
        }

    {
        ClassName = "LSTM"
        CellClassName = "LSTMCell"
        CellName = "lstm_cell"
        InputNDim = 3
        StateCount = 2
        StateShapes = None
        OutputShape = dense1D "LSTM" config.Units
        Weights =
            fun step ->
                let d = inputDim step

                [
                    yield weight "kernel" [ d; 4 * config.Units ] config.KernelInitializer config.KernelConstraint
                    yield
                        weight
                            "recurrent_kernel"
                            [ config.Units; 4 * config.Units ]
                            config.RecurrentInitializer
                            config.RecurrentConstraint
                    if config.UseBias then
                        yield weight "bias" [ 4 * config.Units ] config.BiasInitializer config.BiasConstraint
                ]
        AfterBuild =
            fun ws ->
                if config.UseBias && config.UnitForgetBias then
                    unitForgetBias ws[2] config.Units
        RegularizationLosses = cellPenalties penalties
        ActivityRegularizer = penalties.Activity
        Config =
            fun () ->
                rnnEntries config.Units config.Activation (Some config.RecurrentActivation)
                @ [
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
        Fused =
            fun training ->
                match config.Activation, config.RecurrentActivation with
                | Tanh, Sigmoid when not (dropoutActive training dropout || dropoutActive training recurrentDropout) ->
                    Some(fun w x initial ->
                        RecurrentFused.run
                            RecurrentFused.FusedLstm
                            (int64 config.Units)
                            [ for v in w -> v.Value :> Tensor ]
                            x
                            initial)
                | _ -> None
        ToInternal = id
        ToExternal = id
    }

let internal gruDef (config: GRUConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    let maskCount = if recurrentDropout <> 0.0 then 3 else 1

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.size(0)

        let inMasks =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout maskCount [| batch; 1L; x.size(2) |])
            else
                None

        let inputBias, recurrentBias =
            match config.UseBias, config.ResetAfter with
            | false, _ -> None, None
            | true, true -> Some(w[2].Value.select(0L, 0L)), Some(w[2].Value.select(0L, 1L))
            | true, false -> Some w[2].Value, None

        let projected = maskedMatmul x w[0].Value inMasks

        let projected =
            match inputBias with
            | Some b -> projected.add b
            | None -> projected

        let recMasks =
            if dropoutActive training recurrentDropout then
                Some(dropoutMasks generator recurrentDropout 3 [| batch; units |])
            else
                None

        let recurrentKernel = w[1].Value
        let act = Activation.apply config.Activation
        let gate = Activation.apply config.RecurrentActivation

        let step t (states: Tensor list) =
            let h = List.head states
            let xs = projected.select(1L, t).chunk(3L, -1L)

            let hh =
                if config.ResetAfter then
                    let inner = maskedMatmul h recurrentKernel recMasks

                    let inner =
                        match recurrentBias with
                        | Some b -> inner.add b
                        | None -> inner

                    let rs = inner.chunk (3L, -1L)
                    let z = gate (xs[0].add rs[0])
                    let r = gate (xs[1].add rs[1])
                    z, act (xs[2].add(r.mul rs[2]))
                else
                    let zrKernel = recurrentKernel.narrow (-1L, 0L, 2L * units)
                    let hKernel = recurrentKernel.narrow (-1L, 2L * units, units)

                    let zrMasks, hMask =
                        match recMasks with
                        | Some [ m0; m1; m2 ] -> Some [ m0; m1 ], Some m2
                        | _ -> None, None

                    let rs = (maskedMatmul h zrKernel zrMasks).chunk(2L, -1L)
                    let z = gate (xs[0].add rs[0])
                    let r = gate (xs[1].add rs[1])

                    let hIn =
                        match hMask with
                        | Some m -> h.mul m
                        | None -> h

                    z, act (xs[2].add(Ops.matmul (r.mul hIn) hKernel))

            let z, candidate = hh
            let h = z.mul(h).add((torch.ones_like z).sub(z).mul candidate)
            h, [ h ]

        {
            Initial = [ zeros [| batch; units |] ]
            Step = step
        }

    {
        ClassName = "GRU"
        CellClassName = "GRUCell"
        CellName = "gru_cell"
        InputNDim = 3
        StateCount = 1
        StateShapes = None
        OutputShape = dense1D "GRU" config.Units
        Weights =
            fun step ->
                let d = inputDim step

                [
                    yield weight "kernel" [ d; 3 * config.Units ] config.KernelInitializer config.KernelConstraint
                    yield
                        weight
                            "recurrent_kernel"
                            [ config.Units; 3 * config.Units ]
                            config.RecurrentInitializer
                            config.RecurrentConstraint
                    if config.UseBias then
                        yield
                            weight
                                "bias"
                                (if config.ResetAfter then
                                     [ 2; 3 * config.Units ]
                                 else
                                     [ 3 * config.Units ])
                                config.BiasInitializer
                                config.BiasConstraint
                ]
        AfterBuild = ignore
        RegularizationLosses = cellPenalties penalties
        ActivityRegularizer = penalties.Activity
        Config =
            fun () ->
                rnnEntries config.Units config.Activation (Some config.RecurrentActivation)
                @ [
                    "use_bias", Config.value config.UseBias
                    "kernel_initializer", Config.initializer config.KernelInitializer
                    "recurrent_initializer", Config.initializer config.RecurrentInitializer
                    "bias_initializer", Config.initializer config.BiasInitializer
                ]
                @ regularizerEntries penalties
                @ [
                    "dropout", Config.value dropout
                    "recurrent_dropout", Config.value recurrentDropout
                    "reset_after", Config.value config.ResetAfter
                    "seed", seedValue config.Seed
                ]
        Seed = config.Seed
        Prepare = prepare
        Fused =
            fun training ->
                match config.Activation, config.RecurrentActivation with
                | Tanh, Sigmoid when
                    config.ResetAfter
                    && not (dropoutActive training dropout || dropoutActive training recurrentDropout)
                    ->
                    Some(fun w x initial ->
                        RecurrentFused.run
                            RecurrentFused.FusedGru
                            (int64 config.Units)
                            [ for v in w -> v.Value :> Tensor ]
                            x
                            initial)
                | _ -> None
        ToInternal = id
        ToExternal = id
    }

/// <summary>Keras's SimpleRNN: <c>h_t = activation(x_t·kernel + h_{t-1}·recurrent_kernel + bias)</c>; the output is h.
/// Input (batch, time, features); output (batch, units), or (batch, time, units) with return_sequences; with
/// return_state the outputs are [output; h]. Optional extra inputs give the initial state.</summary>
/// <exception cref="KerasException">When units is not positive.</exception>
let simpleRNN (config: SimpleRNNConfig) (name: string option) : Layer =
    checkCommon "SimpleRNN" config.Units "units"

    recurrentLayer
        (simpleRnnDef config)
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards config.Stateful)
        name

/// <summary>Keras's LSTM (gates i, f, c, o): <c>z = x_t·kernel + h·recurrent_kernel + bias</c>,
/// <c>c = σ(z_f)·c + σ(z_i)·tanh(z_c)</c>, <c>h = σ(z_o)·tanh(c)</c>. With return_state the outputs are
/// [output; h; c]. Masked timesteps (from ctx masks) keep the states unchanged. Optional extra inputs [h0; c0] give the
/// initial states.</summary>
/// <exception cref="KerasException">When units is not positive.</exception>
let lstm (config: LSTMConfig) (name: string option) : Layer =
    checkCommon "LSTM" config.Units "units"

    recurrentLayer
        (lstmDef config)
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards config.Stateful)
        name

/// <summary>Keras's GRU (gates z, r, h). With reset_after (the default):
/// <c>z = σ(x_z + h·U_z + b'_z)</c>, <c>r = σ(x_r + h·U_r + b'_r)</c>, <c>ĥ = tanh(x_h + r·(h·U_h + b'_h))</c>,
/// <c>h = z·h + (1 - z)·ĥ</c>, where <c>x = x_t·kernel + b</c> and the bias is (2, 3·units) = [b; b'].
/// Without reset_after, <c>ĥ = tanh(x_h + (r·h)·U_h)</c> and the bias is (3·units).</summary>
/// <exception cref="KerasException">When units is not positive.</exception>
let gru (config: GRUConfig) (name: string option) : Layer =
    checkCommon "GRU" config.Units "units"

    recurrentLayer
        (gruDef config)
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards config.Stateful)
        name
