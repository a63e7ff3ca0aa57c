/// Keras's recurrent wrappers: Bidirectional (a forward and a backward copy of a recurrent layer) and TimeDistributed.
module Keras.RecurrentWrappers

open TorchSharp
open Keras
open Keras.RecurrentDriver

type private Tensor = torch.Tensor

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
                    "`Bidirectional` wraps a recurrent layer (RNN, SimpleRNN, LSTM, GRU or ConvLSTM).",
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
        info.Recreate
            { info.Options with
                ZeroOutputForMask = zeroOutput
            }
            (Some("forward_" + strip "forward_" layer.Name))

    let backward =
        info.Recreate
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
        let batch, time = x.size(0), x.size(1)
        let folded = x.reshape (Array.append [| batch * time |] x.Sizes[2..])

        // A mask with more than (batch, time) axes belongs to the inner layer's own sequence axis: fold it too.
        let innerMask =
            match List.tryHead ctx.Masks |> Option.flatten with
            | Some m when m.dim () >= 3L -> Some(m.reshape (Array.append [| batch * time |] m.Sizes[2..]))
            | _ -> None

        let y = callInner ctx layer [ innerMask ] [ folded ] |> List.exactlyOne
        [ y.reshape (Array.append [| batch; time |] y.Sizes[1..]) ]

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
