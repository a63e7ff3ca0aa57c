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
    abstract Step: weights: torch.Tensor list * input: torch.Tensor * states: torch.Tensor list -> torch.Tensor * torch.Tensor list
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

/// A cell definition from a user cell. All states must have the output's size: the driver's state shape rule.
let private customDef (cell: IRecurrentCell) : CellDef =
    let units = cell.OutputSize

    if units <= 0 || cell.StateSizes.IsEmpty || cell.StateSizes |> List.exists (fun s -> s <> units) then
        Errors.raiseKeras (
            InvalidArgument(
                cell.ClassName,
                "state_size",
                "A user cell needs at least one state, and every state must have the output's size.",
                $"output_size={units}, state_size={cell.StateSizes}"
            )
        )

    {
        ClassName = "RNN"
        CellClassName = cell.ClassName
        CellName = Ids.snakeCase cell.ClassName
        InputNDim = 3
        StateCount = cell.StateSizes.Length
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
                    for KeyValue(key, value) in cell.Config() ->
                        key, (if isNull value then null else value.DeepClone())
                ]
        Seed = None
        Prepare =
            fun weights training _ x ->
                let ws = weights |> Array.map (fun w -> w.Value :> torch.Tensor) |> List.ofArray

                {
                    Initial = cell.StateSizes |> List.map (fun s -> zeros [| x.shape[0]; int64 s |])
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

/// <summary>A cell layer from a user cell, for <see cref="rnn"/>.</summary>
let customCell (cell: IRecurrentCell) (name: string option) : Layer = makeCell (customDef cell) name

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
                    "Argument `cell` should be a recurrent cell layer (SimpleRNNCell, LSTMCell, GRUCell or a user cell).",
                    string cell
                )
            )

    let options =
        { rnnOptions returnSequences returnState goBackwards stateful with
            ZeroOutputForMask = zeroOutputForMask
        }

    let serializedCell (cell: Layer) : JsonNode =
        Config.ofList
            [
                "module", Config.value "keras.layers"
                "class_name", Config.value cell.ClassName
                "config", Layer.getConfig cell
                "registered_name", null
            ]

    let rec make (cell: Layer) (options: RnnOptions) (name: string option) =
        let layer =
            driveCell "RNN" (fun () -> [ "cell", serializedCell cell ]) def cell options name

        registry.Add(
            layer.Identity,
            {
                Def = def
                Options = options
                // Bidirectional's copies get cells of their own.
                Recreate = fun o n -> make (makeCell def None) o n
            }
        )

        layer

    make cell options name

/// <summary>Keras's <c>reset_states</c> of a stateful recurrent layer: its next call starts from zero states.
/// Does nothing for other layers.</summary>
let resetStates (layer: Layer) = RecurrentDriver.resetStates layer
