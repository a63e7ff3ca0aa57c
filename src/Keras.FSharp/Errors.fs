namespace Keras

/// Every error the library reports, as data. Each case carries what Keras's message needs:
/// the layer or model concerned, what was expected and what was received.
type KerasError =
    /// An input of a layer call does not satisfy the layer's input rules; <c>detail</c> says what was
    /// expected and what was received.
    | IncompatibleInput of layer: string * inputIndex: int * detail: string
    /// A layer received inputs that do not fit together (merge layers, reshape).
    | InvalidInputs of layer: string * className: string * reason: string * received: string
    /// A configuration value is out of range or of the wrong kind.
    | InvalidArgument of owner: string * argument: string * reason: string * received: string
    /// A model's outputs need a tensor that cannot be computed from its inputs.
    | GraphDisconnected of tensor: string * layer: string * accessed: string list
    /// Two layers in one model share a name.
    | DuplicateLayerName of name: string * count: int
    /// A model input does not lead to any of the model's outputs.
    | InputNotReached of model: string * input: string
    /// A model input is not the output of an `Input`.
    | NotAnInput of model: string * tensor: string
    /// A layer or output name that the model does not have.
    | UnknownName of model: string * kind: string * name: string * known: string list
    /// Concrete data given to a model does not match its inputs.
    | DataMismatch of model: string * reason: string * received: string
    /// Native libraries could not be loaded.
    | NativeLoadFailed of details: string
    /// Targets given for an output do not fit its loss or metric (e.g. a class label out of range); <c>what</c> names
    /// the loss or metric.
    | InvalidTargets of output: string * what: string * reason: string * received: string
    /// A computation failed inside the native library (libtorch); <c>what</c> says what was being computed (a layer
    /// with its class, or a loss or metric of an output) and <c>detail</c> is the native message without its C++ trace.
    | ComputationFailed of owner: string * what: string * detail: string

/// Renders errors in Keras's wording.
[<RequireQualifiedAccess>]
module KerasError =
    /// <summary>The Keras-style text of an error.</summary>
    /// <example><c>IncompatibleInput("dense_1", 0, "expected axis -1 of input shape to have value 784, but received input with shape (None, 32)")</c> renders as
    /// <c>Input 0 of layer "dense_1" is incompatible with the layer: expected axis -1 of input shape to have value 784, but received input with shape (None, 32)</c>.</example>
    let render error =
        match error with
        | IncompatibleInput(layer, index, detail) ->
            $"Input {index} of layer \"{layer}\" is incompatible with the layer: {detail}"
        | InvalidInputs(layer, className, reason, received) ->
            $"Layer \"{layer}\" ({className}): {reason} Received: {received}"
        | InvalidArgument(owner, argument, reason, received) ->
            $"Invalid value for argument `{argument}` of \"{owner}\": {reason} Received: {argument}={received}"
        | GraphDisconnected(tensor, layer, accessed) ->
            let names = accessed |> List.map (fun n -> $"'{n}'") |> String.concat ", "
            $"Graph disconnected: cannot find parent for tensor {tensor} at operation '{layer}'. The following previous operations were accessed without issue: [{names}]"
        | DuplicateLayerName(name, count) ->
            $"The name \"{name}\" is used {count} times in the model. All operation names should be unique."
        | InputNotReached(model, input) ->
            $"Input \"{input}\" of model \"{model}\" is not connected to any of the model's outputs. Remove it from `inputs` or use it."
        | NotAnInput(model, tensor) ->
            $"All `inputs` of model \"{model}\" must be tensors created by `Input`. Received: {tensor}"
        | UnknownName(model, kind, name, known) ->
            let names = known |> List.map (fun n -> $"'{n}'") |> String.concat ", "
            $"No {kind} named '{name}' in model \"{model}\". Available: [{names}]"
        | DataMismatch(model, reason, received) -> $"Model \"{model}\": {reason} Received: {received}"
        | NativeLoadFailed details -> $"TorchSharp's native libraries could not be loaded. {details}"
        | InvalidTargets(output, what, reason, received) ->
            $"Invalid targets for output \"{output}\" ({what}): {reason} Received: {received}"
        | ComputationFailed(owner, what, detail) -> $"Exception encountered when calling {what} \"{owner}\": {detail}"

/// <summary>The case of a <see cref="KerasError"/> as a plain enum, for languages that switch on a value
/// (<c>catch (KerasException e) when (e.Kind == KerasErrorKind.IncompatibleInput)</c>).</summary>
type KerasErrorKind =
    /// <see cref="KerasError.IncompatibleInput"/>.
    | IncompatibleInput = 0
    /// <see cref="KerasError.InvalidInputs"/>.
    | InvalidInputs = 1
    /// <see cref="KerasError.InvalidArgument"/>.
    | InvalidArgument = 2
    /// <see cref="KerasError.GraphDisconnected"/>.
    | GraphDisconnected = 3
    /// <see cref="KerasError.DuplicateLayerName"/>.
    | DuplicateLayerName = 4
    /// <see cref="KerasError.InputNotReached"/>.
    | InputNotReached = 5
    /// <see cref="KerasError.NotAnInput"/>.
    | NotAnInput = 6
    /// <see cref="KerasError.UnknownName"/>.
    | UnknownName = 7
    /// <see cref="KerasError.DataMismatch"/>.
    | DataMismatch = 8
    /// <see cref="KerasError.NativeLoadFailed"/>.
    | NativeLoadFailed = 9
    /// <see cref="KerasError.InvalidTargets"/>.
    | InvalidTargets = 10
    /// <see cref="KerasError.ComputationFailed"/>.
    | ComputationFailed = 11

/// The one exception type the throwing API raises; it carries the error as data (<see cref="Error"/>, for F#), and as
/// plain properties (<see cref="Kind"/>, <see cref="Layer"/>, <see cref="Argument"/>, <see cref="Expected"/>,
/// <see cref="Received"/>) for C#.
type KerasException(error: KerasError, inner: exn) =
    inherit System.Exception(KerasError.render error, inner)

    /// An exception for the error, with no inner exception.
    new(error: KerasError) = KerasException(error, null)

    /// The error this exception reports.
    member _.Error = error

    /// <summary>The error's case as an enum.</summary>
    member _.Kind: KerasErrorKind =
        match error with
        | IncompatibleInput _ -> KerasErrorKind.IncompatibleInput
        | InvalidInputs _ -> KerasErrorKind.InvalidInputs
        | InvalidArgument _ -> KerasErrorKind.InvalidArgument
        | GraphDisconnected _ -> KerasErrorKind.GraphDisconnected
        | DuplicateLayerName _ -> KerasErrorKind.DuplicateLayerName
        | InputNotReached _ -> KerasErrorKind.InputNotReached
        | NotAnInput _ -> KerasErrorKind.NotAnInput
        | UnknownName _ -> KerasErrorKind.UnknownName
        | DataMismatch _ -> KerasErrorKind.DataMismatch
        | NativeLoadFailed _ -> KerasErrorKind.NativeLoadFailed
        | InvalidTargets _ -> KerasErrorKind.InvalidTargets
        | ComputationFailed _ -> KerasErrorKind.ComputationFailed

    /// <summary>The layer, model, output or owner the error is about (a layer name for <c>IncompatibleInput</c>, the
    /// model's name for graph errors, the output's name for <c>InvalidTargets</c>); null when the error names none.</summary>
    member _.Layer: string =
        match error with
        | IncompatibleInput(layer, _, _)
        | InvalidInputs(layer, _, _, _)
        | GraphDisconnected(_, layer, _) -> layer
        | InvalidArgument(owner, _, _, _)
        | ComputationFailed(owner, _, _) -> owner
        | InputNotReached(model, _)
        | NotAnInput(model, _)
        | UnknownName(model, _, _, _)
        | DataMismatch(model, _, _) -> model
        | InvalidTargets(output, _, _, _) -> output
        | DuplicateLayerName(name, _) -> name
        | NativeLoadFailed _ -> null

    /// <summary>The argument or name at fault: the argument of <c>InvalidArgument</c>, the unknown name of
    /// <c>UnknownName</c>, the input of <c>InputNotReached</c>; null otherwise.</summary>
    member _.Argument: string =
        match error with
        | InvalidArgument(_, argument, _, _) -> argument
        | UnknownName(_, _, name, _) -> name
        | InputNotReached(_, input) -> input
        | _ -> null

    /// <summary>What was expected (the reason or detail of the error, in Keras's words); null when the error has none.</summary>
    member _.Expected: string =
        match error with
        | IncompatibleInput(_, _, detail) -> detail
        | InvalidInputs(_, _, reason, _)
        | InvalidArgument(_, _, reason, _)
        | DataMismatch(_, reason, _)
        | InvalidTargets(_, _, reason, _) -> reason
        | UnknownName(_, kind, _, known) -> $"""a {kind} among [{String.concat ", " known}]"""
        | ComputationFailed(_, what, _) -> what
        | _ -> null

    /// <summary>What was received, as Keras prints it; null when the error has no received value.</summary>
    member _.Received: string =
        match error with
        | InvalidInputs(_, _, _, received)
        | InvalidArgument(_, _, _, received)
        | DataMismatch(_, _, received)
        | InvalidTargets(_, _, _, received) -> received
        | NotAnInput(_, tensor) -> tensor
        | GraphDisconnected(tensor, _, _) -> tensor
        | ComputationFailed(_, _, detail) -> detail
        | NativeLoadFailed details -> details
        | _ -> null

/// Raising and converting errors.
[<RequireQualifiedAccess>]
module Errors =
    /// Raises a <see cref="KerasException"/> for the error.
    let raiseKeras (error: KerasError) : 'T = raise (KerasException error)

    /// <summary>The readable part of a native (libtorch) message: the text before its C++ stack trace
    /// ("Exception raised from ..."), trimmed.</summary>
    let nativeText (message: string) =
        if isNull message then
            ""
        else
            let cut = message.IndexOf("Exception raised from", System.StringComparison.Ordinal)
            (if cut >= 0 then message.Substring(0, cut) else message).Trim()

    /// <summary>As <see cref="guard"/>, with the description made only when something fails: layer calls run on every
    /// batch, where formatting it each time would cost more than the check.</summary>
    let internal guardDescribed (owner: string) (describe: unit -> string) (f: unit -> 'T) : 'T =
        try
            f ()
        with
        | :? KerasException -> reraise ()
        | :? System.OperationCanceledException -> reraise ()
        | :? System.OutOfMemoryException -> reraise ()
        | e -> raise (KerasException(ComputationFailed(owner, describe (), nativeText e.Message), e))

    /// <summary>Runs <paramref name="f"/>; an exception other than a <see cref="KerasException"/> (a native libtorch
    /// error, a .NET argument error from TorchSharp) becomes a KerasException for <c>ComputationFailed(owner, what, ...)</c>
    /// with the original exception as its inner exception.</summary>
    let guard (owner: string) (what: string) (f: unit -> 'T) : 'T = guardDescribed owner (fun () -> what) f

    /// Returns the value of an Ok result, or raises its error as a <see cref="KerasException"/>.
    let orRaise (result: Result<'T, KerasError>) : 'T =
        match result with
        | Ok value -> value
        | Error error -> raiseKeras error
