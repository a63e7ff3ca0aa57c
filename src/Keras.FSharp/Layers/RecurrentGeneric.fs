/// Keras's generic RNN layer over a cell: the cells SimpleRNNCell, LSTMCell and GRUCell (layers that hold the
/// weights and run one step), user cells through <see cref="IRecurrentCell"/>, and <c>RNN(cell)</c> driving any of them
/// with the shared loop of <c>RecurrentDriver</c>.
module Keras.RNNLayers

open System.Text.Json.Nodes
open TorchSharp
open Keras
open Keras.RecurrentDriver
open Keras.RecurrentLayers

/// <summary>A user-defined recurrent cell, as Keras's custom cells: the state sizes, the weights it builds from the
/// input feature size, and one step. <c>RNN(cell)</c> drives it over a (batch, time, features) sequence.</summary>
type IRecurrentCell =
    /// Keras class name written in configs (e.g. "MinimalRNNCell").
    abstract ClassName: string
    /// Size of the per-step output.
    abstract OutputSize: int
    /// Size of each state; every state has shape (batch, size).
    abstract StateSizes: int list
    /// <summary>The weights built for inputs with <paramref name="inputDim"/> features (e.g. a kernel).</summary>
    abstract Build: inputDim: int -> WeightSpec list

    /// <summary>One step: the weights (in build order), the step input (batch, features) and the states; returns the
    /// output (batch, OutputSize) and the new states.</summary>
    abstract Step:
        weights: torch.Tensor list * input: torch.Tensor * states: torch.Tensor list -> torch.Tensor * torch.Tensor list

    /// The cell's own Keras config entries (without name, trainable, dtype).
    abstract Config: unit -> JsonObject

/// <summary>A user cell whose step also reads the training flag (Keras's <c>call(inputs, states, training)</c>): true
/// inside <c>fit</c>. <c>RNN(cell)</c> calls <c>StepTraining</c> instead of <c>Step</c>.</summary>
type IRecurrentCellWithTraining =
    inherit IRecurrentCell

    /// <summary>One step, as <c>Step</c>, knowing whether the model is training.</summary>
    abstract StepTraining:
        weights: torch.Tensor list * input: torch.Tensor * states: torch.Tensor list * training: bool ->
            torch.Tensor * torch.Tensor list

/// A cell definition from a user cell; each state has shape (batch, its size), which may differ from the output's.
let private customDef (cell: IRecurrentCell) : CellDef =
    let units = cell.OutputSize

    if
        units <= 0
        || cell.StateSizes.IsEmpty
        || cell.StateSizes |> List.exists (fun s -> s <= 0)
    then
        Errors.raiseKeras (
            InvalidArgument(
                cell.ClassName,
                "state_size",
                "A user cell needs a positive output size and at least one state, each of a positive size.",
                $"output_size={units}, state_size={cell.StateSizes}"
            )
        )

    {
        ClassName = "RNN"
        CellClassName = cell.ClassName
        CellName = Ids.snakeCase cell.ClassName
        InputNDim = 3
        StateCount = cell.StateSizes.Length
        StateShapes = Some(fun _ -> cell.StateSizes |> List.map (fun size -> [ Some size ]))
        OutputShape =
            fun step ->
                match step with
                | [ _; Some _ ] -> Ok [ Some units ]
                | _ -> Error "Expected a step input of rank 2 (batch, features) with a known feature size."
        Weights = fun step -> cell.Build(List.last step |> Option.get)
        AfterBuild = ignore
        RegularizationLosses = fun _ -> []
        ActivityRegularizer = None
        Config =
            fun () ->
                [
                    for KeyValue(key, value) in cell.Config() -> key, (if isNull value then null else value.DeepClone())
                ]
        Seed = None
        Prepare =
            fun weights training _ x ->
                let ws = weights |> Array.map (fun w -> w.Value :> torch.Tensor) |> List.ofArray

                {
                    Initial = cell.StateSizes |> List.map (fun s -> zeros [| x.size(0); int64 s |])
                    Step =
                        match cell with
                        | :? IRecurrentCellWithTraining as c ->
                            fun t states -> c.StepTraining(ws, x.select (1L, t), states, training)
                        | _ -> fun t states -> cell.Step(ws, x.select (1L, t), states)
                }
        Fused = fun _ -> None
        ToInternal = id
        ToExternal = id
    }

/// <summary>Keras's SimpleRNNCell: one step of <see cref="simpleRNN"/>; the RNN-level fields of the configuration
/// (return_sequences, ...) are ignored.</summary>
let simpleRNNCell (config: SimpleRNNConfig) (name: string option) : Layer =
    checkCommon "SimpleRNNCell" config.Units "units"
    makeCell (simpleRnnDef config) name

/// <summary>Keras's LSTMCell: one step of <see cref="lstm"/>, weights kernel, recurrent_kernel, bias.</summary>
let lstmCell (config: LSTMConfig) (name: string option) : Layer =
    checkCommon "LSTMCell" config.Units "units"
    makeCell (lstmDef config) name

/// <summary>Keras's GRUCell: one step of <see cref="gru"/> (reset_after by default).</summary>
let gruCell (config: GRUConfig) (name: string option) : Layer =
    checkCommon "GRUCell" config.Units "units"
    makeCell (gruDef config) name

/// <summary>A cell layer from a user cell, for <see cref="rnn"/>, serialized as Keras writes a registered class:
/// <c>{"module": "__main__", "class_name": ClassName, "config": ..., "registered_name": registeredName}</c>. To load it
/// back, register a factory under <paramref name="registeredName"/> (Keras's <c>package>Name</c>, e.g.
/// "Custom>MinimalRNNCell"): <c>CustomObjects.register "Custom>MinimalRNNCell" (fun config -> registeredCell ...)</c>.</summary>
let registeredCell (cell: IRecurrentCell) (registeredName: string) (name: string option) : Layer =
    if System.String.IsNullOrWhiteSpace registeredName then
        Errors.raiseKeras (
            InvalidArgument(cell.ClassName, "registered_name", "A user cell needs a registered name.", "''")
        )

    let layer = makeCell (customDef cell) name
    userCells.Add(layer.Identity, ("__main__", registeredName))
    layer

/// <summary>A cell layer from a user cell, for <see cref="rnn"/>; its registered name is its class name (see
/// <see cref="registeredCell"/>).</summary>
let customCell (cell: IRecurrentCell) (name: string option) : Layer = registeredCell cell cell.ClassName name

// ---------------------------------------------------------------------------------------------------------------
// StackedRNNCells (issue 13)
// ---------------------------------------------------------------------------------------------------------------

/// The cells of every StackedRNNCells layer, for Bidirectional's fresh copies.
let private stackRegistry =
    System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, Layer list>()

let private cellDefOf (owner: string) (cell: Layer) =
    match cellRegistry.TryGetValue cell.Identity with
    | true, def when def.InputNDim = 3 -> def
    | _ ->
        Errors.raiseKeras (
            InvalidArgument(
                owner,
                "cells",
                "All cells must be recurrent cell layers (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells or a user cell).",
                string cell
            )
        )

/// Keras's StackedRNNCells as one cell: each cell's output is the next one's step input; the states are every
/// cell's states, concatenated in order (Keras's flattened state_size).
let private stackedDef (cells: Layer list) (defs: CellDef list) : CellDef =
    let counts = defs |> List.map _.StateCount

    /// Each cell's step input shape and output shape, or the first reason one does not fit.
    let chain (step: Shape) =
        let batch = List.head step

        ((Ok [], step), defs)
        ||> List.fold (fun (acc, input) def ->
            match acc with
            | Error e -> Error e, input
            | Ok links ->
                match def.OutputShape input with
                | Ok out -> Ok(links @ [ def, input, out ]), batch :: out
                | Error e -> Error e, input)
        |> fst

    let split (states: 'T list) =
        let rec go (states: 'T list) (counts: int list) =
            match counts with
            | [] -> []
            | n :: rest -> List.take n states :: go (List.skip n states) rest

        go states counts

    let generators = defs |> List.map generatorOf

    {
        ClassName = "RNN"
        CellClassName = "StackedRNNCells"
        CellName = "stacked_rnn_cells"
        InputNDim = 3
        StateCount = List.sum counts
        OutputShape = fun step -> chain step |> Result.map (fun links -> let _, _, out = List.last links in out)
        StateShapes =
            Some(fun step ->
                match chain step with
                | Ok links -> links |> List.collect (fun (def, input, out) -> stateShapesOf def input out)
                | Error _ -> [])
        // Building the stack builds each cell on the previous cell's output; the stack has no weights of its own.
        Weights =
            fun step ->
                let batch = List.head step

                (step, List.zip cells defs)
                ||> List.fold (fun input (cell, def) ->
                    Weights.ensureBuilt cell [ { Shape = input; DType = Float32 } ] |> ignore

                    match def.OutputShape input with
                    | Ok out -> batch :: out
                    | Error _ -> input)
                |> ignore

                []
        AfterBuild =
            fun _ ->
                for cell, def in List.zip cells defs do
                    def.AfterBuild(Weights.ofLayer cell)
        RegularizationLosses = fun _ -> []
        ActivityRegularizer = None
        Config =
            fun () ->
                [
                    "cells", JsonArray(cells |> List.map serializeLayer |> Array.ofList) :> JsonNode
                ]
        Seed = None
        // The first cell prepares the whole sequence; each later cell one step at a time on the previous output.
        // Keras draws a cell's dropout masks once per sequence: in training, each later cell's generator (or the
        // global one) is put back at every step to its state at the start of the sequence, so that every step draws
        // the same masks, and the generator ends one draw further on, as after a single draw.
        Prepare =
            fun _ training _ x ->
                let first =
                    defs.Head.Prepare (Weights.ofLayer cells.Head) training generators.Head.Value x

                let rewind (generator: torch.Generator) : unit -> unit =
                    if not training then
                        ignore
                    elif isNull generator then
                        let state = torch.get_rng_state ()
                        fun () -> torch.set_rng_state state
                    else
                        let state = generator.get_state ()
                        fun () -> generator.set_state state

                let rest =
                    List.zip3 cells.Tail defs.Tail generators.Tail
                    |> List.map (fun (cell, def, generator) ->
                        Weights.ofLayer cell, def, generator, rewind generator.Value)

                let initial =
                    let batch = Some(int (x.size(0)))

                    match chain [ batch; Some(int (x.size(2))) ] with
                    | Ok links ->
                        links
                        |> List.mapi (fun i (def, input, out) ->
                            if i = 0 then
                                first.Initial
                            else
                                stateShapesOf def input out
                                |> List.map (fun shape ->
                                    zeros (
                                        Array.append
                                            [| x.size(0) |]
                                            (shape |> List.map (Option.defaultValue 1 >> int64) |> Array.ofList)
                                    )))
                        |> List.concat
                    | Error reason -> invalidOp reason

                {
                    Initial = initial
                    Step =
                        fun t states ->
                            match split states with
                            | firstStates :: restStates ->
                                let output, next = first.Step t firstStates

                                let output, nexts =
                                    ((output, [ next ]), List.zip rest restStates)
                                    ||> List.fold (fun (input, acc) ((weights, def, generator, rewind), cellStates) ->
                                        rewind ()
                                        let run = def.Prepare weights training generator.Value (input.unsqueeze 1L)
                                        let output, next = run.Step 0L cellStates
                                        output, acc @ [ next ])

                                output, List.concat nexts
                            | [] -> invalidOp "A StackedRNNCells step takes the states of every cell."
                }
        Fused = fun _ -> None
        ToInternal = id
        ToExternal = id
    }

/// <summary>Keras's StackedRNNCells: <paramref name="cells"/> (cell layers: <see cref="lstmCell"/>,
/// <see cref="gruCell"/>, <see cref="simpleRNNCell"/>, <see cref="customCell"/> or another stack) behaving as one cell
/// for <see cref="rnn"/>: each cell's output is the next cell's input, the output is the last cell's, and the states are
/// every cell's states in order (with return_state, <c>[output; h1; c1; h2; c2; ...]</c> for LSTM cells). The weights
/// stay with the cells (saved under <c>cell/cells/lstm_cell</c>, <c>cell/cells/lstm_cell_1</c>, ...).</summary>
/// <exception cref="KerasException">When <paramref name="cells"/> is empty or holds a layer that is not a cell.</exception>
let stackedRNNCells (cells: Layer list) (name: string option) : Layer =
    if cells.IsEmpty then
        Errors.raiseKeras (InvalidArgument("StackedRNNCells", "cells", "Expected a non-empty list of RNN cells.", "[]"))

    let defs = cells |> List.map (cellDefOf "StackedRNNCells")
    let stack = makeCellWith cells (stackedDef cells defs) name
    stackRegistry.Add(stack.Identity, cells)
    stack

/// A fresh cell of the same configuration (new weights), for Bidirectional's copies.
let rec private freshCell (cell: Layer) (def: CellDef) =
    match stackRegistry.TryGetValue cell.Identity with
    | true, cells ->
        let copies =
            cells |> List.map (fun c -> freshCell c (cellDefOf "StackedRNNCells" c))

        stackedRNNCells copies None
    | _ ->
        let copy = makeCell def None

        match userCells.TryGetValue cell.Identity with
        | true, info -> userCells.Add(copy.Identity, info)
        | _ -> ()

        copy

/// <summary>Keras's <c>RNN(cell)</c>: drives a cell layer (<see cref="lstmCell"/>, <see cref="gruCell"/>,
/// <see cref="simpleRNNCell"/> or <see cref="customCell"/>) over a (batch, time, features) sequence, with Keras's
/// return_sequences, return_state, go_backwards, stateful and zero_output_for_mask. The weights belong to the cell
/// (saved under <c>cell</c>), so <c>RNN(LSTMCell(n))</c> computes what <c>LSTM(n)</c> does with the same weights.
/// Optional extra inputs give the initial states.</summary>
/// <exception cref="KerasException">When <paramref name="cell"/> is not a cell layer.</exception>
let rnn
    (cell: Layer)
    (returnSequences: bool)
    (returnState: bool)
    (goBackwards: bool)
    (stateful: bool)
    (zeroOutputForMask: bool)
    (name: string option)
    : Layer =
    let def =
        match cellRegistry.TryGetValue cell.Identity with
        | true, def -> def
        | _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    "RNN",
                    "cell",
                    "Argument `cell` should be a recurrent cell layer (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells or a user cell).",
                    string cell
                )
            )

    let options =
        { rnnOptions returnSequences returnState goBackwards stateful with
            ZeroOutputForMask = zeroOutputForMask
        }

    let rec make (cell: Layer) (options: RnnOptions) (name: string option) =
        let layer =
            driveCell "RNN" (fun () -> [ "cell", serializeLayer cell ]) def cell options name

        registry.Add(
            layer.Identity,
            {
                Def = def
                Options = options
                // Bidirectional's copies get cells of their own.
                Recreate = fun o n -> make (freshCell cell def) o n
            }
        )

        layer

    make cell options name

/// <summary>Keras's <c>reset_states</c> of a stateful recurrent layer: its next call starts from zero states.
/// Does nothing for other layers.</summary>
let resetStates (layer: Layer) = RecurrentDriver.resetStates layer
