/// Recurrent layers: SimpleRNN, LSTM, GRU and ConvLSTM2D, and the Bidirectional and TimeDistributed wrappers, with
/// Keras 3's arguments, defaults, weight layouts, masking and dropout semantics.
module Keras.RecurrentLayers

open System.Runtime.CompilerServices
open System.Text.Json.Nodes
open TorchSharp
open Keras

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
        /// Keras's stateful mode; only <c>false</c> is supported.
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
        /// Keras's stateful mode; only <c>false</c> is supported.
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
        /// Keras's stateful mode; only <c>false</c> is supported.
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
        /// Keras's stateful mode; only <c>false</c> is supported.
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
// The shared recurrent machinery
// ---------------------------------------------------------------------------------------------------------------

/// One call's worth of a cell: the step function on (time index, states) and the zero initial states.
type private CellRun =
    {
        Step: int64 -> Tensor list -> Tensor * Tensor list
        Initial: Tensor list
    }

/// What distinguishes one recurrent layer kind from another; the loop, masks, shapes and wrappers are shared.
[<NoEquality; NoComparison>]
type private CellDef =
    {
        ClassName: string
        CellClassName: string
        CellName: string
        /// Rank of the sequence input (3, or 5 for ConvLSTM2D).
        InputNDim: int
        /// Number of states (LSTM: h and c).
        StateCount: int
        /// The per-sample output (= state) shape from the step input shape (batch, features...), or why it does not fit.
        OutputShape: Shape -> Result<Shape, string>
        /// The cell's weights for a step input shape.
        Weights: Shape -> WeightSpec list
        /// Sets initial values no initializer expresses (LSTM's unit forget bias).
        AfterBuild: Weight[] -> unit
        /// The penalties of the cell's weights (kernel, recurrent and bias regularizers).
        RegularizationLosses: Weight[] -> Tensor list
        /// Penalty on the layer's outputs, added through the call context.
        ActivityRegularizer: Regularizer option
        /// The layer's own Keras config entries (after the RNN ones).
        Config: unit -> (string * JsonNode) list
        /// Seed of the dropout masks.
        Seed: int option
        /// Prepares a call on a whole sequence (batch, time, ...): weights, training flag, dropout generator.
        Prepare: Weight[] -> bool -> torch.Generator -> Tensor -> CellRun
        /// From the layer's layout of a state to the cell's (ConvLSTM2D computes channels-first).
        ToInternal: Tensor -> Tensor
        /// From the cell's layout of an output, output sequence or state to the layer's.
        ToExternal: Tensor -> Tensor
    }

/// The RNN options shared by every recurrent layer.
type private RnnOptions =
    {
        ReturnSequences: bool
        ReturnState: bool
        GoBackwards: bool
        ZeroOutputForMask: bool
    }

/// What Bidirectional needs to recreate a recurrent layer forwards and backwards.
[<NoEquality; NoComparison>]
type private RecurrentInfo = { Def: CellDef; Options: RnnOptions }

let private registry = ConditionalWeakTable<LayerIdentity, RecurrentInfo>()

let private dropoutActive (training: bool) (rate: float) = training && rate > 0.0 && rate < 1.0

/// Keras's dropout masks: ones dropped with probability <paramref name="rate"/>, kept ones scaled by 1/(1 - rate).
let private dropoutMasks (generator: torch.Generator) (rate: float) (count: int) (shape: int64[]) =
    [
        for _ in 1..count ->
            torch.empty(shape).bernoulli_(1.0 - rate, generator).mul(torch.tensor (float32 (1.0 / (1.0 - rate))))
    ]

/// x·W; with dropout masks, (x·m)·W for one shared mask, or the per-gate products (x·m_g)·W_g concatenated.
let private maskedMatmul (x: Tensor) (w: Tensor) (masks: Tensor list option) =
    match masks with
    | None -> Ops.matmul x w
    | Some [ m ] -> Ops.matmul (x.mul m) w
    | Some ms ->
        let width = w.shape[w.shape.Length - 1] / int64 ms.Length

        torch.cat (
            [|
                for g, m in List.indexed ms -> Ops.matmul (x.mul m) (w.narrow (-1L, int64 g * width, width))
            |],
            -1L
        )

/// Keras's RNN loop (keras/src/backend/*/rnn.py, unroll=False): runs the step over time, forwards or backwards; at a
/// masked step the states carry over unchanged and the output repeats the previous output (zeros before the first
/// output, or always zeros with zero_output_for_mask). Returns the outputs in processing order (when wanted), the last
/// output and the final states.
let private runLoop (run: CellRun) (steps: int64) (options: RnnOptions) (mask: Tensor option) (initial: Tensor list) =
    let order =
        if options.GoBackwards then
            [ steps - 1L .. -1L .. 0L ]
        else
            [ 0L .. steps - 1L ]

    let outputs = ResizeArray<Tensor>()
    let mutable states = initial
    let mutable last: Tensor = null

    for t in order do
        let output, next = run.Step t states

        match mask with
        | None ->
            last <- output
            states <- next
        | Some m ->
            let keep = m.select (1L, t)

            let expand (v: Tensor) =
                keep.reshape (Array.append [| keep.shape[0] |] (Array.create (int (v.dim ()) - 1) 1L))

            let fill =
                if options.ZeroOutputForMask || isNull last then
                    torch.zeros_like output
                else
                    last

            let output = torch.where (expand output, output, fill)
            states <- List.map2 (fun (n: Tensor) (o: Tensor) -> torch.where (expand n, n, o)) next states
            last <- output

        if options.ReturnSequences then
            outputs.Add last

    let sequence =
        if options.ReturnSequences then
            Some(torch.stack (outputs, 1L))
        else
            None

    sequence, last, states

let private serializeLayer (layer: Layer) : JsonNode =
    Config.ofList
        [
            "module", Config.value "keras.layers"
            "class_name", Config.value layer.ClassName
            "config", Layer.getConfig layer
            "registered_name", null
        ]

let private layerName (className: string) (name: string option) =
    match name with
    | Some n when not (System.String.IsNullOrWhiteSpace n) -> n
    | _ -> Ids.uniqueName (Ids.snakeCase className)

/// The input rules of a recurrent layer: the sequence's rank, and nothing on the optional initial states.
let private rnnInputSpecs (def: CellDef) (axes: (int * int) list) =
    { InputSpec.any with
        NDim = Some def.InputNDim
        Axes = axes
    }
    :: List.replicate def.StateCount InputSpec.any

/// A recurrent layer: a cell sub-layer (holding the weights, as Keras's "lstm_cell") driven by the shared loop.
let private recurrentLayer (def: CellDef) (options: RnnOptions) (name: string option) : Layer =
    let name = layerName def.ClassName name

    let generator =
        lazy
            (match def.Seed with
             | Some s -> new torch.Generator(uint64 s, torch.CPU)
             | None -> null)

    let stepShape (shape: Shape) =
        match shape with
        | batch :: _ :: rest -> batch :: rest
        | _ -> shape

    let stepOutputs layerName (x: TensorSpec) (states: TensorSpec list) =
        let className = def.ClassName

        if not states.IsEmpty && states.Length <> def.StateCount then
            Error(
                InvalidInputs(
                    layerName,
                    className,
                    $"A `{className}` layer takes {def.StateCount} initial state tensor(s).",
                    $"{states.Length} initial states"
                )
            )
        else
            match x.Shape with
            | batch :: _ :: _ ->
                match def.OutputShape(stepShape x.Shape) with
                | Error reason -> Error(InvalidInputs(layerName, className, reason, Shape.format x.Shape))
                | Ok out ->
                    let stateShape = batch :: out

                    match
                        states
                        |> List.tryFind (fun s ->
                            s.Shape.Length <> stateShape.Length
                            || not (List.forall2 Shape.dimsCompatible s.Shape stateShape))
                    with
                    | Some bad ->
                        Error(
                            InvalidInputs(
                                layerName,
                                className,
                                $"An initial state must have shape {Shape.format stateShape}.",
                                Shape.format bad.Shape
                            )
                        )
                    | None -> Ok(batch, out)
            | _ ->
                Error(
                    IncompatibleInput(
                        layerName,
                        0,
                        $"expected ndim={def.InputNDim}, found ndim={x.Shape.Length}. Full shape received: {Shape.format x.Shape}"
                    )
                )

    let cellSpec: LayerSpec =
        {
            ClassName = def.CellClassName
            Config = fun () -> Config.ofList (def.Config())
            InputSpecs = []
            ComputeOutput =
                fun layerName inputs ->
                    match inputs with
                    | x :: _ ->
                        def.OutputShape x.Shape
                        |> Result.mapError (fun reason ->
                            InvalidInputs(layerName, def.CellClassName, reason, Shape.format x.Shape))
                        |> Result.map (fun out ->
                            List.replicate
                                (1 + def.StateCount)
                                {
                                    Shape = List.head x.Shape :: out
                                    DType = Float32
                                })
                    | [] ->
                        Error(
                            InvalidInputs(
                                layerName,
                                def.CellClassName,
                                "A cell takes a step input and its states.",
                                "no inputs"
                            )
                        )
            Build =
                fun inputs ->
                    {
                        Weights = def.Weights (List.head inputs).Shape
                        InputSpecs = []
                    }
            // One step on its own: inputs [x_t; states...], outputs [output; new states...].
            Call =
                fun ctx inputs ->
                    let x = CoreLayers.asFloat inputs.Head
                    let run = def.Prepare ctx.Weights ctx.Training generator.Value (x.unsqueeze 1L)

                    let states =
                        if inputs.Tail.IsEmpty then
                            run.Initial
                        else
                            inputs.Tail |> List.map (CoreLayers.asFloat >> def.ToInternal)

                    let output, next = run.Step 0L states
                    (output :: next) |> List.map def.ToExternal
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses = def.RegularizationLosses
        }

    let cell = Layer.create (Some def.CellName) cellSpec

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [] -> Error(InvalidInputs(layerName, def.ClassName, "A recurrent layer takes a sequence input.", "no inputs"))
        | x :: states ->
            stepOutputs layerName x states
            |> Result.map (fun (batch, out) ->
                let time = x.Shape[1]

                let output =
                    {
                        Shape =
                            (if options.ReturnSequences then
                                 batch :: time :: out
                             else
                                 batch :: out)
                        DType = Float32
                    }

                let stateSpecs =
                    List.replicate
                        def.StateCount
                        {
                            Shape = batch :: out
                            DType = Float32
                        }

                output :: (if options.ReturnState then stateSpecs else []))

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.head inputs
        let step = stepShape x.Shape
        let state = Weights.ensureBuilt cell [ { Shape = step; DType = Float32 } ]
        def.AfterBuild state.Weights
        let features = List.tail step

        let axes =
            features
            |> List.mapi (fun i d -> d |> Option.map (fun n -> i - features.Length, n))
            |> List.choose id

        {
            Weights = []
            InputSpecs = rnnInputSpecs def axes
        }

    let call (ctx: CallContext) (inputs: Tensor list) =
        let x = CoreLayers.asFloat inputs.Head
        let steps = x.shape[1]

        if steps = 0L then
            Errors.raiseKeras (
                InvalidInputs(
                    ctx.LayerName,
                    def.ClassName,
                    "The input sequence has no timesteps.",
                    Shape.format (Layer.specOf x).Shape
                )
            )

        let run = def.Prepare (Weights.ofLayer cell) ctx.Training generator.Value x

        let initial =
            if inputs.Tail.IsEmpty then
                run.Initial
            else
                inputs.Tail |> List.map (CoreLayers.asFloat >> def.ToInternal)

        let mask =
            ctx.Masks
            |> List.tryHead
            |> Option.flatten
            |> Option.map (fun m ->
                if m.dtype = torch.ScalarType.Bool then
                    m
                else
                    m.to_type torch.ScalarType.Bool)

        let sequence, last, states = runLoop run steps options mask initial
        let output = def.ToExternal(defaultArg sequence last)

        output
        :: (if options.ReturnState then
                states |> List.map def.ToExternal
            else
                [])
        |> Regularizer.addActivity def.ActivityRegularizer ctx

    let computeMask (_: Tensor list) (masks: Tensor option list) =
        let mask = List.tryHead masks |> Option.flatten

        match options.ReturnSequences, options.ReturnState with
        | true, false -> [ mask ]
        | true, true -> mask :: List.replicate def.StateCount None
        | false, _ -> []

    let layer =
        Layer.create
            (Some name)
            {
                ClassName = def.ClassName
                Config =
                    fun () ->
                        Config.ofList (
                            [
                                "return_sequences", Config.value options.ReturnSequences
                                "return_state", Config.value options.ReturnState
                                "go_backwards", Config.value options.GoBackwards
                                "stateful", Config.value false
                                "unroll", Config.value false
                                "zero_output_for_mask", Config.value options.ZeroOutputForMask
                            ]
                            @ def.Config()
                        )
                InputSpecs = rnnInputSpecs def []
                ComputeOutput = computeOutput
                Build = build
                Call = call
                SubLayers = fun () -> [ cell ]
                ComputeMask = computeMask
                RegularizationLosses = fun _ -> []
            }

    registry.Add(layer.Identity, { Def = def; Options = options })
    layer

let private checkCommon className (units: int) (unitsName: string) (stateful: bool) =
    if units <= 0 then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                unitsName,
                $"Received an invalid value for argument `{unitsName}`, expected a positive integer.",
                string units
            )
        )

    if stateful then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                "stateful",
                "Stateful recurrent layers are not supported; use stateful=false.",
                "True"
            )
        )

let private clamp01 (v: float) = min 1.0 (max 0.0 v)

let private dense1D (className: string) (units: int) (step: Shape) =
    match step with
    | [ _; Some _ ] -> Ok [ Some units ]
    | [ _; None ] -> Error $"The last dimension of the inputs to `{className}` should be defined. Found `None`."
    | _ -> Error $"Expected a step input of rank 2 (batch, features), i.e. a sequence of rank 3."

let private inputDim (step: Shape) =
    match List.last step with
    | Some d -> d
    | None -> invalidArg (nameof step) "The feature axis must be known to build the layer."

let private weight = Constraint.trainableWeight

let private rnnEntries (units: int) (activation: Activation) (recurrentActivation: Activation option) =
    [
        yield "units", Config.value units
        yield "activation", Config.activation activation
        match recurrentActivation with
        | Some a -> yield "recurrent_activation", Config.activation a
        | None -> ()
    ]

/// The regularizers and constraints of a recurrent layer, as its config fields hold them.
type private Penalties =
    {
        Kernel: Regularizer option
        Recurrent: Regularizer option
        Bias: Regularizer option
        Activity: Regularizer option
        KernelConstraint: Constraint option
        RecurrentConstraint: Constraint option
        BiasConstraint: Constraint option
    }

/// No regularizer or constraint (ConvLSTM2D).
let private noPenalties =
    {
        Kernel = None
        Recurrent = None
        Bias = None
        Activity = None
        KernelConstraint = None
        RecurrentConstraint = None
        BiasConstraint = None
    }

/// Keras's regularizer and constraint entries: their serialized forms, null where absent.
let private regularizerEntries (p: Penalties) : (string * JsonNode) list =
    [
        "kernel_regularizer", Regularizer.configOrNull p.Kernel
        "recurrent_regularizer", Regularizer.configOrNull p.Recurrent
        "bias_regularizer", Regularizer.configOrNull p.Bias
        "activity_regularizer", Regularizer.configOrNull p.Activity
        "kernel_constraint", Constraint.configOrNull p.KernelConstraint
        "recurrent_constraint", Constraint.configOrNull p.RecurrentConstraint
        "bias_constraint", Constraint.configOrNull p.BiasConstraint
    ]

/// The penalties of a cell's kernel, recurrent kernel and bias.
let private cellPenalties (p: Penalties) =
    Regularizer.ofWeights [ p.Kernel, "kernel"; p.Recurrent, "recurrent_kernel"; p.Bias, "bias" ]

let private seedValue (seed: int option) : JsonNode =
    match seed with
    | Some s -> Config.value s
    | None -> null

let private rnnOptions returnSequences returnState goBackwards =
    {
        ReturnSequences = returnSequences
        ReturnState = returnState
        GoBackwards = goBackwards
        ZeroOutputForMask = false
    }

let private zeros (shape: int64[]) =
    torch.zeros (shape, dtype = torch.ScalarType.Float32)

/// Sets the forget-gate quarter of a 4-gate bias to ones, as Keras's unit_forget_bias initializer builds it.
let private unitForgetBias (bias: Weight) (units: int) =
    use _ = torch.no_grad ()
    bias.Value.narrow(0L, int64 units, int64 units).fill_(1.0) |> ignore

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

let private simpleRnnDef (config: SimpleRNNConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.shape[0]

        let inMask =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout 1 [| batch; 1L; x.shape[2] |])
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
        ToInternal = id
        ToExternal = id
    }

let private lstmDef (config: LSTMConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    // Keras switches to per-gate dropout masks (implementation 1) when recurrent dropout is on.
    let maskCount = if recurrentDropout <> 0.0 then 4 else 1

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.shape[0]

        let inMasks =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout maskCount [| batch; 1L; x.shape[2] |])
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
        ToInternal = id
        ToExternal = id
    }

let private gruDef (config: GRUConfig) : CellDef =
    let penalties = penaltiesOf config
    let dropout = clamp01 config.Dropout
    let recurrentDropout = clamp01 config.RecurrentDropout
    let maskCount = if recurrentDropout <> 0.0 then 3 else 1

    let prepare (w: Weight[]) (training: bool) (generator: torch.Generator) (x: Tensor) =
        let units = int64 config.Units
        let batch = x.shape[0]

        let inMasks =
            if dropoutActive training dropout then
                Some(dropoutMasks generator dropout maskCount [| batch; 1L; x.shape[2] |])
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
        ToInternal = id
        ToExternal = id
    }

/// <summary>Keras's SimpleRNN: <c>h_t = activation(x_t·kernel + h_{t-1}·recurrent_kernel + bias)</c>; the output is h.
/// Input (batch, time, features); output (batch, units), or (batch, time, units) with return_sequences; with
/// return_state the outputs are [output; h]. Optional extra inputs give the initial state.</summary>
/// <exception cref="KerasException">When units is not positive or stateful is requested.</exception>
let simpleRNN (config: SimpleRNNConfig) (name: string option) : Layer =
    checkCommon "SimpleRNN" config.Units "units" config.Stateful
    recurrentLayer (simpleRnnDef config) (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards) name

/// <summary>Keras's LSTM (gates i, f, c, o): <c>z = x_t·kernel + h·recurrent_kernel + bias</c>,
/// <c>c = σ(z_f)·c + σ(z_i)·tanh(z_c)</c>, <c>h = σ(z_o)·tanh(c)</c>. With return_state the outputs are
/// [output; h; c]. Masked timesteps (from ctx masks) keep the states unchanged. Optional extra inputs [h0; c0] give the
/// initial states.</summary>
/// <exception cref="KerasException">When units is not positive or stateful is requested.</exception>
let lstm (config: LSTMConfig) (name: string option) : Layer =
    checkCommon "LSTM" config.Units "units" config.Stateful
    recurrentLayer (lstmDef config) (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards) name

/// <summary>Keras's GRU (gates z, r, h). With reset_after (the default):
/// <c>z = σ(x_z + h·U_z + b'_z)</c>, <c>r = σ(x_r + h·U_r + b'_r)</c>, <c>ĥ = tanh(x_h + r·(h·U_h + b'_h))</c>,
/// <c>h = z·h + (1 - z)·ĥ</c>, where <c>x = x_t·kernel + b</c> and the bias is (2, 3·units) = [b; b'].
/// Without reset_after, <c>ĥ = tanh(x_h + (r·h)·U_h)</c> and the bias is (3·units).</summary>
/// <exception cref="KerasException">When units is not positive or stateful is requested.</exception>
let gru (config: GRUConfig) (name: string option) : Layer =
    checkCommon "GRU" config.Units "units" config.Stateful
    recurrentLayer (gruDef config) (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards) name

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
    checkCommon "ConvLSTM2D" config.Filters "filters" config.Stateful

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
        (rnnOptions config.ReturnSequences config.ReturnState config.GoBackwards)
        name

// ---------------------------------------------------------------------------------------------------------------
// Wrappers
// ---------------------------------------------------------------------------------------------------------------

/// Runs a held layer inside a wrapper's call, with the wrapper's training flag and loss sink.
let private callInner (ctx: CallContext) (inner: Layer) (masks: Tensor option list) (inputs: Tensor list) =
    inner.Spec.Call (Layer.contextFor inner ctx.Training masks ctx.AddLoss inputs) inputs

/// <summary>Keras's Bidirectional: a fresh copy of the recurrent <paramref name="layer"/> named "forward_&lt;name&gt;"
/// and one going backwards named "backward_&lt;name&gt;" (the given layer's own weights are not used, as in Keras). The
/// backward output sequence is reversed back to time order, then the two are merged: "concat" (default), "sum",
/// "mul", "ave", or <c>None</c> for both outputs. With return_state the forward then backward states follow. Optional
/// extra inputs give the initial states, the first half to the forward layer.</summary>
/// <exception cref="KerasException">When the layer is not a recurrent layer of this module, goes backwards already, or
/// the merge mode is unknown.</exception>
let bidirectional (layer: Layer) (mergeMode: string option) (name: string option) : Layer =
    match mergeMode with
    | Some m when not (List.contains m [ "sum"; "mul"; "ave"; "concat" ]) ->
        Errors.raiseKeras (
            InvalidArgument(
                "Bidirectional",
                "merge_mode",
                "Merge mode should be one of {\"sum\", \"mul\", \"ave\", \"concat\", None}.",
                m
            )
        )
    | _ -> ()

    let info =
        match registry.TryGetValue layer.Identity with
        | true, info -> info
        | _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    "Bidirectional",
                    "layer",
                    "`Bidirectional` wraps a recurrent layer (SimpleRNN, LSTM, GRU or ConvLSTM2D).",
                    string layer
                )
            )

    if info.Options.GoBackwards then
        Errors.raiseKeras (
            InvalidArgument(
                "Bidirectional",
                "layer",
                "Forward layer and backward layer should have different `go_backwards` value.",
                "forward_layer.go_backwards=True, backward_layer.go_backwards=True"
            )
        )

    let strip (prefix: string) (n: string) =
        if n.StartsWith prefix then n.Substring prefix.Length else n

    let zeroOutput = info.Options.ReturnSequences

    let forward =
        recurrentLayer
            info.Def
            { info.Options with
                ZeroOutputForMask = zeroOutput
            }
            (Some("forward_" + strip "forward_" layer.Name))

    let backward =
        recurrentLayer
            info.Def
            { info.Options with
                GoBackwards = true
                ZeroOutputForMask = zeroOutput
            }
            (Some("backward_" + strip "backward_" layer.Name))

    let returnSequences = info.Options.ReturnSequences
    let returnState = info.Options.ReturnState
    let stateCount = info.Def.StateCount

    let split (inputs: 'T list) =
        match inputs with
        | x :: states ->
            let half = states.Length / 2
            x :: List.take half states, x :: List.skip half states
        | [] -> [], []

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | _ :: states when states.Length <> 0 && states.Length <> 2 * stateCount ->
            Error(
                InvalidInputs(
                    layerName,
                    "Bidirectional",
                    $"`Bidirectional` takes {2 * stateCount} initial state tensor(s): the forward layer's, then the backward layer's.",
                    $"{states.Length} initial states"
                )
            )
        | _ ->
            let forwardInputs, _ = split inputs

            Layer.outputSpecs forward forwardInputs
            |> Result.map (fun specs ->
                let output, states = List.head specs, List.tail specs

                let merged =
                    match mergeMode with
                    | Some "concat" ->
                        let last = List.last output.Shape |> Option.map ((*) 2)

                        [
                            { output with
                                Shape = (List.take (output.Shape.Length - 1) output.Shape) @ [ last ]
                            }
                        ]
                    | Some _ -> [ output ]
                    | None -> [ output; output ]

                merged @ (if returnState then states @ states else []))

    let build (inputs: TensorSpec list) : BuildResult =
        let forwardInputs, backwardInputs = split inputs
        Weights.ensureBuilt forward forwardInputs |> ignore
        Weights.ensureBuilt backward backwardInputs |> ignore
        { Weights = []; InputSpecs = [] }

    let call (ctx: CallContext) (inputs: Tensor list) =
        let forwardInputs, backwardInputs = split inputs
        let masks = [ List.tryHead ctx.Masks |> Option.flatten ]
        let yForward = callInner ctx forward masks forwardInputs
        let yBackward = callInner ctx backward masks backwardInputs
        let y, statesForward = List.head yForward, List.tail yForward
        let yReversed, statesBackward = List.head yBackward, List.tail yBackward

        let yReversed =
            if returnSequences then
                yReversed.flip [| 1L |]
            else
                yReversed

        let merged =
            match mergeMode with
            | Some "concat" -> [ torch.cat ([| y; yReversed |], -1L) ]
            | Some "sum" -> [ y.add yReversed ]
            | Some "mul" -> [ y.mul yReversed ]
            | Some _ -> [ y.add(yReversed).div(torch.tensor 2.0f) ]
            | None -> [ y; yReversed ]

        merged @ (if returnState then statesForward @ statesBackward else [])

    let computeMask (_: Tensor list) (masks: Tensor option list) =
        let mask = List.tryHead masks |> Option.flatten
        let outputs = if mergeMode.IsNone then 2 else 1

        if returnSequences then
            List.replicate outputs mask
            @ (if returnState then
                   List.replicate (2 * stateCount) None
               else
                   [])
        else
            []

    Layer.create
        name
        {
            ClassName = "Bidirectional"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "merge_mode",
                            (match mergeMode with
                             | Some m -> Config.value m
                             | None -> null)
                            "layer", serializeLayer forward
                            "backward_layer", serializeLayer backward
                        ]
            InputSpecs = layer.Spec.InputSpecs
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> [ forward; backward ]
            ComputeMask = computeMask
            RegularizationLosses = fun _ -> []
        }

/// <summary>Keras's TimeDistributed: applies <paramref name="layer"/> to every timestep of a (batch, time, ...) input
/// by folding time into the batch axis, so (batch, time, ...) gives (batch, time, ...inner output). The inner layer's
/// weights are shared across timesteps and count as this layer's. The input mask passes through.</summary>
let timeDistributed (layer: Layer) (name: string option) : Layer =
    let childSpec (x: TensorSpec) =
        match x.Shape with
        | batch :: _ :: rest -> { x with Shape = batch :: rest }
        | _ -> x

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] when x.Shape.Length >= 3 ->
            Layer.outputSpecs layer [ childSpec x ]
            |> Result.bind (fun outputs ->
                match outputs with
                | [ o ] ->
                    match o.Shape with
                    | batch :: rest ->
                        Ok
                            [
                                { o with
                                    Shape = batch :: x.Shape[1] :: rest
                                }
                            ]
                    | [] ->
                        Error(
                            InvalidInputs(
                                layerName,
                                "TimeDistributed",
                                "The wrapped layer returns a scalar.",
                                Shape.format o.Shape
                            )
                        )
                | many ->
                    Error(
                        InvalidInputs(
                            layerName,
                            "TimeDistributed",
                            "The wrapped layer must return exactly one output.",
                            $"{many.Length} outputs"
                        )
                    ))
        | [ x ] ->
            Error(
                InvalidInputs(
                    layerName,
                    "TimeDistributed",
                    "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 dimensions.",
                    Shape.format x.Shape
                )
            )
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    "TimeDistributed",
                    "A `TimeDistributed` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    let build (inputs: TensorSpec list) : BuildResult =
        Weights.ensureBuilt layer [ childSpec (List.head inputs) ] |> ignore
        { Weights = []; InputSpecs = [] }

    let call (ctx: CallContext) (inputs: Tensor list) =
        let x = List.exactlyOne inputs
        let batch, time = x.shape[0], x.shape[1]
        let folded = x.reshape (Array.append [| batch * time |] x.shape[2..])

        // A mask with more than (batch, time) axes belongs to the inner layer's own sequence axis: fold it too.
        let innerMask =
            match List.tryHead ctx.Masks |> Option.flatten with
            | Some m when m.dim () >= 3L -> Some(m.reshape (Array.append [| batch * time |] m.shape[2..]))
            | _ -> None

        let y = callInner ctx layer [ innerMask ] [ folded ] |> List.exactlyOne
        [ y.reshape (Array.append [| batch; time |] y.shape[1..]) ]

    Layer.create
        name
        {
            ClassName = "TimeDistributed"
            Config = fun () -> Config.ofList [ "layer", serializeLayer layer ]
            InputSpecs = [ { InputSpec.any with MinNDim = Some 3 } ]
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> [ layer ]
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }
