/// The recurrence driver shared by every recurrent layer: what a cell is (<c>CellDef</c>), Keras's RNN loop with masks,
/// the layer that drives a cell sub-layer, and the helpers the cells share (dropout masks, penalties, config entries).
module internal Keras.RecurrentDriver

open System.Runtime.CompilerServices
open System.Text.Json.Nodes
open TorchSharp
open Keras

type internal Tensor = torch.Tensor

// ---------------------------------------------------------------------------------------------------------------
// The shared recurrent machinery
// ---------------------------------------------------------------------------------------------------------------

/// The Keras classes whose calls take <c>initial_state=[...]</c>: their extra inputs are the initial states.
let internal initialStateClasses =
    set
        [
            "SimpleRNN"
            "LSTM"
            "GRU"
            "RNN"
            "ConvLSTM1D"
            "ConvLSTM2D"
            "ConvLSTM3D"
            "Bidirectional"
        ]

/// One call's worth of a cell: the step function on (time index, states) and the zero initial states.
type internal CellRun =
    {
        Step: int64 -> Tensor list -> Tensor * Tensor list
        Initial: Tensor list
    }

/// What distinguishes one recurrent layer kind from another; the loop, masks, shapes and wrappers are shared.
[<NoEquality; NoComparison>]
type internal CellDef =
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
        /// The per-sample shape of each state from the step input shape, when the states do not all have the output's
        /// shape (StackedRNNCells, user cells); called only when <c>OutputShape</c> succeeds.
        StateShapes: (Shape -> Shape list) option
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
        /// libtorch's fused multi-step kernel, for a call with the given training flag, when it computes this
        /// configuration identically: (weights, sequence in processing order, initial states or None for zeros) →
        /// (output sequence in processing order, final states). <c>None</c>: the step loop.
        Fused: bool -> (Weight[] -> Tensor -> Tensor list option -> Tensor * Tensor list) option
        /// From the layer's layout of a state to the cell's (ConvLSTM2D computes channels-first).
        ToInternal: Tensor -> Tensor
        /// From the cell's layout of an output, output sequence or state to the layer's.
        ToExternal: Tensor -> Tensor
    }

/// The per-sample state shapes of a cell for a step input shape whose output shape is <paramref name="out"/>.
let internal stateShapesOf (def: CellDef) (step: Shape) (out: Shape) =
    match def.StateShapes with
    | Some shapes -> shapes step
    | None -> List.replicate def.StateCount out

/// The RNN options shared by every recurrent layer.
type internal RnnOptions =
    {
        ReturnSequences: bool
        ReturnState: bool
        GoBackwards: bool
        ZeroOutputForMask: bool
        /// Keras's stateful mode: the last states of a call start the next call (same batch size).
        Stateful: bool
    }

/// What Bidirectional needs to recreate a recurrent layer forwards and backwards.
[<NoEquality; NoComparison>]
type internal RecurrentInfo =
    {
        Def: CellDef
        Options: RnnOptions
        /// A fresh layer of the same kind and cell configuration with other options and name (Bidirectional's copies).
        Recreate: RnnOptions -> string option -> Layer
    }

let internal registry = ConditionalWeakTable<LayerIdentity, RecurrentInfo>()

/// The carried states of every stateful recurrent layer (in the cell's layout); <c>None</c> after a reset.
let internal carriedStates =
    ConditionalWeakTable<LayerIdentity, Tensor list option ref>()

/// Keras's <c>reset_states</c>: the next call of a stateful layer starts from zeros again.
let internal resetStates (layer: Layer) =
    match carriedStates.TryGetValue layer.Identity with
    | true, holder -> holder.Value <- None
    | _ -> ()

/// The cell definition of every cell layer (LSTMCell, GRUCell, ...), for the generic RNN layer.
let internal cellRegistry = ConditionalWeakTable<LayerIdentity, CellDef>()

let internal dropoutActive (training: bool) (rate: float) = training && rate > 0.0 && rate < 1.0

/// Keras's dropout masks: ones dropped with probability <paramref name="rate"/>, kept ones scaled by 1/(1 - rate).
let internal dropoutMasks (generator: torch.Generator) (rate: float) (count: int) (shape: int64[]) =
    [
        for _ in 1..count ->
            torch.empty(shape).bernoulli_(1.0 - rate, generator).mul(torch.tensor (float32 (1.0 / (1.0 - rate))))
    ]

/// x·W; with dropout masks, (x·m)·W for one shared mask, or the per-gate products (x·m_g)·W_g concatenated.
let internal maskedMatmul (x: Tensor) (w: Tensor) (masks: Tensor list option) =
    match masks with
    | None -> Ops.matmul x w
    | Some [ m ] -> Ops.matmul (x.mul m) w
    | Some ms ->
        let width = w.size(-1) / int64 ms.Length

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
let internal runLoop (run: CellRun) (steps: int64) (options: RnnOptions) (mask: Tensor option) (initial: Tensor list) =
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
                keep.reshape (Array.append [| keep.size(0) |] (Array.create (int (v.dim ()) - 1) 1L))

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

/// Keras's "module" and "registered_name" of user cells (<c>RNNLayers.customCell</c>), keyed by the cell's identity.
let internal userCells = ConditionalWeakTable<LayerIdentity, string * string>()

/// Keras's <c>serialize_keras_object</c> of a layer held by a recurrent layer (a cell, Bidirectional's layers): built-in
/// classes under "keras.layers" with no registered name, user cells under their module and registered name.
let internal serializeLayer (layer: Layer) : JsonNode =
    let modul, registered =
        match userCells.TryGetValue layer.Identity with
        | true, (modul, registered) -> modul, Config.value registered
        | _ -> "keras.layers", null

    Config.ofList
        [
            "module", Config.value modul
            "class_name", Config.value layer.ClassName
            "config", Layer.getConfig layer
            "registered_name", registered
        ]

let internal layerName (className: string) (name: string option) =
    match name with
    | Some n when not (System.String.IsNullOrWhiteSpace n) -> n
    | _ -> Ids.uniqueName (Ids.snakeCase className)

/// The input rules of a recurrent layer: the sequence's rank, and nothing on the optional initial states.
let internal rnnInputSpecs (def: CellDef) (axes: (int * int) list) =
    { InputSpec.any with
        NDim = Some def.InputNDim
        Axes = axes
    }
    :: List.replicate def.StateCount InputSpec.any

/// A recurrent layer: a cell sub-layer (holding the weights, as Keras's "lstm_cell") driven by the shared loop.
let internal generatorOf (def: CellDef) =
    lazy
        (match def.Seed with
         | Some s -> new torch.Generator(uint64 s, torch.CPU)
         | None -> null)

/// A cell layer (Keras's LSTMCell, ...): it holds the weights; called alone it runs one step on [x_t; states...].
/// <paramref name="subLayers"/> are the cells a cell holds (StackedRNNCells), empty otherwise.
let internal makeCellWith (subLayers: Layer list) (def: CellDef) (name: string option) : Layer =
    let generator = generatorOf def

    let cellSpec: LayerSpec =
        {
            ClassName = def.CellClassName
            // A cell's config has no activity regularizer (that belongs to the RNN layer).
            Config =
                fun () -> Config.ofList (def.Config() |> List.filter (fun (key, _) -> key <> "activity_regularizer"))
            InputSpecs = []
            ComputeOutput =
                fun layerName inputs ->
                    match inputs with
                    | x :: _ ->
                        def.OutputShape x.Shape
                        |> Result.mapError (fun reason ->
                            InvalidInputs(layerName, def.CellClassName, reason, Shape.format x.Shape))
                        |> Result.map (fun out ->
                            out :: stateShapesOf def x.Shape out
                            |> List.map (fun shape ->
                                {
                                    Shape = List.head x.Shape :: shape
                                    DType = Float32
                                }))
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
            SubLayers = fun () -> subLayers
            ComputeMask = fun _ _ -> []
            RegularizationLosses = def.RegularizationLosses
        }

    let cell = Layer.create (Some(layerName def.CellClassName name)) cellSpec
    cellRegistry.Add(cell.Identity, def)
    cell

/// Whether a layer is a recurrent cell (LSTMCell, ..., StackedRNNCells, a user cell): Keras saves it under `cell`.
let internal isCell (layer: Layer) =
    match cellRegistry.TryGetValue layer.Identity with
    | true, _ -> true
    | _ -> false

/// A cell layer holding its own weights (LSTMCell, GRUCell, SimpleRNNCell, user cells).
let internal makeCell (def: CellDef) (name: string option) : Layer = makeCellWith [] def name

/// A recurrent layer of class <paramref name="className"/> driving <paramref name="cell"/> (made from
/// <paramref name="def"/>) with the shared loop; its config is the RNN entries then <paramref name="entries"/>.
let internal driveCell
    (className: string)
    (entries: unit -> (string * JsonNode) list)
    (def: CellDef)
    (cell: Layer)
    (options: RnnOptions)
    (name: string option)
    : Layer =
    let name = layerName className name

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
                    let stateShapes =
                        stateShapesOf def (stepShape x.Shape) out
                        |> List.map (fun shape -> batch :: shape)

                    match
                        List.zip (List.truncate states.Length stateShapes) states
                        |> List.tryFind (fun (stateShape, s) ->
                            s.Shape.Length <> stateShape.Length
                            || not (List.forall2 Shape.dimsCompatible s.Shape stateShape))
                    with
                    | Some(stateShape, bad) ->
                        Error(
                            InvalidInputs(
                                layerName,
                                className,
                                $"An initial state must have shape {Shape.format stateShape}.",
                                Shape.format bad.Shape
                            )
                        )
                    | None -> Ok(batch, out, stateShapes)
            | _ ->
                Error(
                    IncompatibleInput(
                        layerName,
                        0,
                        $"expected ndim={def.InputNDim}, found ndim={x.Shape.Length}. Full shape received: {Shape.format x.Shape}"
                    )
                )


    let carried: Tensor list option ref = ref None

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [] -> Error(InvalidInputs(layerName, className, "A recurrent layer takes a sequence input.", "no inputs"))
        | x :: _ when options.Stateful && x.Shape.Head.IsNone ->
            Error(
                InvalidInputs(
                    layerName,
                    className,
                    "When using `stateful=True` in a RNN, the batch size must be static. Found dynamic batch size: sequence.shape="
                    + Shape.format x.Shape,
                    Shape.format x.Shape
                )
            )
        | x :: states ->
            stepOutputs layerName x states
            |> Result.map (fun (batch, out, stateShapes) ->
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
                    stateShapes |> List.map (fun shape -> { Shape = shape; DType = Float32 })

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
        let steps = x.size(1)

        if steps = 0L then
            Errors.raiseKeras (
                InvalidInputs(
                    ctx.LayerName,
                    className,
                    "The input sequence has no timesteps.",
                    Shape.format (Layer.specOf x).Shape
                )
            )

        let explicitStates =
            if not inputs.Tail.IsEmpty then
                Some(inputs.Tail |> List.map (CoreLayers.asFloat >> def.ToInternal))
            else
                match carried.Value with
                | Some(first :: _ as states) when options.Stateful && first.size(0) = x.size(0) -> Some states
                | _ -> None

        let mask =
            ctx.Masks
            |> List.tryHead
            |> Option.flatten
            |> Option.map (fun m ->
                if m.dtype = torch.ScalarType.Bool then
                    m
                else
                    m.to_type torch.ScalarType.Bool)

        let fused =
            match mask with
            | None when RecurrentFused.enabled -> def.Fused ctx.Training
            | _ -> None

        let sequence, last, states =
            match fused with
            | Some runFused ->
                // libtorch's multi-step kernel; backwards is the reversed sequence, outputs in processing order.
                let xs = if options.GoBackwards then x.flip 1L else x
                let outputs, finals = runFused (Weights.ofLayer cell) xs explicitStates

                (if options.ReturnSequences then Some outputs else None), outputs.select (1L, steps - 1L), finals
            | None ->
                let run = def.Prepare (Weights.ofLayer cell) ctx.Training generator.Value x
                let initial = defaultArg explicitStates run.Initial
                runLoop run steps options mask initial

        if options.Stateful then
            // Kept beyond the caller's dispose scope (predict disposes its temporaries after each batch).
            carried.Value <- Some(states |> List.map (fun t -> t.detach().clone().DetachFromDisposeScope()))

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
                ClassName = className
                Config =
                    fun () ->
                        Config.ofList (
                            [
                                "return_sequences", Config.value options.ReturnSequences
                                "return_state", Config.value options.ReturnState
                                "go_backwards", Config.value options.GoBackwards
                                "stateful", Config.value options.Stateful
                                "unroll", Config.value false
                                "zero_output_for_mask", Config.value options.ZeroOutputForMask
                            ]
                            @ entries ()
                        )
                InputSpecs = rnnInputSpecs def []
                ComputeOutput = computeOutput
                Build = build
                Call = call
                SubLayers = fun () -> [ cell ]
                ComputeMask = computeMask
                RegularizationLosses = fun _ -> []
            }

    if options.Stateful then
        carriedStates.Add(layer.Identity, carried)

    layer

/// A recurrent layer with its own cell (SimpleRNN, LSTM, GRU, ConvLSTM): the cell's entries are the layer's config.
let rec internal recurrentLayer (def: CellDef) (options: RnnOptions) (name: string option) : Layer =
    let layer =
        driveCell def.ClassName def.Config def (makeCell def (Some def.CellName)) options name

    registry.Add(
        layer.Identity,
        {
            Def = def
            Options = options
            Recreate = recurrentLayer def
        }
    )

    layer

let internal checkCommon className (units: int) (unitsName: string) =
    if units <= 0 then
        Errors.raiseKeras (
            InvalidArgument(
                className,
                unitsName,
                $"Received an invalid value for argument `{unitsName}`, expected a positive integer.",
                string units
            )
        )

let internal clamp01 (v: float) = min 1.0 (max 0.0 v)

let internal dense1D (className: string) (units: int) (step: Shape) =
    match step with
    | [ _; Some _ ] -> Ok [ Some units ]
    | [ _; None ] -> Error $"The last dimension of the inputs to `{className}` should be defined. Found `None`."
    | _ -> Error $"Expected a step input of rank 2 (batch, features), i.e. a sequence of rank 3."

let internal inputDim (step: Shape) =
    match List.last step with
    | Some d -> d
    | None -> invalidArg (nameof step) "The feature axis must be known to build the layer."

let internal weight = Constraint.trainableWeight

let internal rnnEntries (units: int) (activation: Activation) (recurrentActivation: Activation option) =
    [
        yield "units", Config.value units
        yield "activation", Config.activation activation
        match recurrentActivation with
        | Some a -> yield "recurrent_activation", Config.activation a
        | None -> ()
    ]

/// The regularizers and constraints of a recurrent layer, as its config fields hold them.
type internal Penalties =
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
let internal noPenalties =
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
let internal regularizerEntries (p: Penalties) : (string * JsonNode) list =
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
let internal cellPenalties (p: Penalties) =
    Regularizer.ofWeights [ p.Kernel, "kernel"; p.Recurrent, "recurrent_kernel"; p.Bias, "bias" ]

let internal seedValue (seed: int option) : JsonNode =
    match seed with
    | Some s -> Config.value s
    | None -> null

let internal rnnOptions returnSequences returnState goBackwards stateful =
    {
        ReturnSequences = returnSequences
        ReturnState = returnState
        GoBackwards = goBackwards
        ZeroOutputForMask = false
        Stateful = stateful
    }

let internal zeros (shape: int64[]) =
    torch.zeros (shape, dtype = torch.ScalarType.Float32)

/// Sets the forget-gate quarter of a 4-gate bias to ones, as Keras's unit_forget_bias initializer builds it.
let internal unitForgetBias (bias: Weight) (units: int) =
    use _ = torch.no_grad ()
    bias.Value.narrow(0L, int64 units, int64 units).fill_(1.0) |> ignore
