namespace Keras

open System.Collections.Generic
open TorchSharp

/// Data for a model's inputs or targets: one tensor, a list in input (output) order, or tensors keyed by the
/// <c>Input</c> names (output names). .NET arrays and dictionaries convert implicitly at method calls.
type Data =
    /// <summary>One tensor: the data of a model with one input (or one output), batch axis first.</summary>
    | Tensor of torch.Tensor
    /// <summary>One tensor per input (or output), in the model's input (output) order.</summary>
    | Tensors of torch.Tensor list
    /// <summary>Tensors keyed by <c>Input</c> name (or output name), as Keras's dict of arrays.</summary>
    | Named of IReadOnlyDictionary<string, torch.Tensor>

    /// <summary>Tensors keyed by input (or output) name: <c>Data.Of [ "title", titleData; "body", bodyData ]</c>.</summary>
    static member Of(pairs: (string * torch.Tensor) list) =
        let d = Dictionary<string, torch.Tensor>()

        for k, v in pairs do
            d[k] <- v

        Named d

    /// One tensor.
    static member op_Implicit(t: torch.Tensor) = Tensor t
    /// Tensors in input (or output) order.
    static member op_Implicit(ts: torch.Tensor list) = Tensors ts
    /// Tensors keyed by name.
    static member op_Implicit(d: IReadOnlyDictionary<string, torch.Tensor>) = Named d
    /// Tensors keyed by name.
    static member op_Implicit(d: Dictionary<string, torch.Tensor>) = Named d

    /// Rows of float features.
    static member op_Implicit(a: float32[,]) =
        Native.NativeLoader.ensureLoaded ()
        Tensor(torch.tensor a)

    /// One float per sample.
    static member op_Implicit(a: float32[]) =
        Native.NativeLoader.ensureLoaded ()
        Tensor(torch.tensor a)

    /// Integer labels, one per sample.
    static member op_Implicit(a: int64[]) =
        Native.NativeLoader.ensureLoaded ()
        Tensor(torch.tensor a)

    /// Integer labels, one per sample.
    static member op_Implicit(a: int[]) =
        Native.NativeLoader.ensureLoaded ()
        Tensor(torch.tensor a)

    /// <summary>One string per sample, for an input with dtype string (see <c>StringTensor</c>).</summary>
    static member op_Implicit(a: string[]) = Tensor(StringTensor.ofArray a)

    /// <summary>Rows of strings, for an input with dtype string of shape <c>(None, columns)</c>.</summary>
    static member op_Implicit(a: string[,]) = Tensor(StringTensor.ofArray2D a)

/// Matching data to a model's inputs and outputs.
[<RequireQualifiedAccess>]
module Data =
    let private byNames
        (model: string)
        (kind: string)
        (names: string list)
        (data: IReadOnlyDictionary<string, torch.Tensor>)
        =
        for KeyValue(k, _) in data do
            if not (List.contains k names) then
                Errors.raiseKeras (UnknownName(model, kind, k, names))

        names
        |> List.map (fun n ->
            match data.TryGetValue n with
            | true, v -> v
            | _ ->
                Errors.raiseKeras (
                    DataMismatch(
                        model,
                        $"""No data for {kind} '{n}'. Expected keys: {String.concat ", " names}.""",
                        String.concat ", " data.Keys
                    )
                ))

    let private inOrder (model: string) (kind: string) (names: string list) (data: Data) =
        match data with
        | Tensor t when names.Length = 1 -> [ t ]
        | Tensor _ ->
            Errors.raiseKeras (
                DataMismatch(
                    model,
                    $"The model has {names.Length} {kind}s; pass a list or a dictionary keyed by {kind} name.",
                    "one tensor"
                )
            )
        | Tensors ts when ts.Length = names.Length -> ts
        | Tensors ts ->
            Errors.raiseKeras (
                DataMismatch(
                    model,
                    $"""Expected {names.Length} {kind} arrays ({String.concat ", " names}).""",
                    $"{ts.Length} arrays"
                )
            )
        | Named d -> byNames model kind names d

    /// The input tensors in the model's input order.
    let inputs (model: Model) (x: Data) =
        inOrder model.Name "input" (Model.inputNames model) x

    /// The target tensors in the model's output order.
    let targets (model: Model) (y: Data) =
        inOrder model.Name "output" (Model.outputNames model) y

    /// <summary>The common number of rows, or Keras's "Data cardinality is ambiguous" error.</summary>
    let rows (model: Model) (xs: torch.Tensor list) (ys: torch.Tensor list) =
        let sizes (ts: torch.Tensor list) =
            ts |> List.map (fun t -> if t.dim () = 0L then 0L else t.size(0))

        match (sizes xs @ sizes ys) |> List.distinct with
        | [ n ] -> n
        | _ ->
            let show ts =
                sizes ts |> List.map string |> String.concat ", "

            Errors.raiseKeras (
                DataMismatch(
                    model.Name,
                    "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples.",
                    $"'x' sizes: {show xs}, 'y' sizes: {show ys}"
                )
            )
