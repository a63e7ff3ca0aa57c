namespace Keras

/// A tensor shape as Keras writes it: one entry per axis, <c>None</c> where the size is not known
/// (usually the batch axis).
type Shape = int option list

/// Shape arithmetic used by every layer's shape rule. Functions return the result shape or an error text
/// describing what was expected, so the caller can name the layer.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Shape =
    /// <summary>Python's tuple rendering, as Keras prints shapes.</summary>
    /// <example><c>Shape.format [None; Some 784]</c> is <c>"(None, 784)"</c>; <c>Shape.format [None]</c> is <c>"(None,)"</c>.</example>
    let format (shape: Shape) =
        let dim d =
            match d with
            | Some n -> string n
            | None -> "None"

        match shape with
        | [ single ] -> $"({dim single},)"
        | dims -> "(" + (dims |> List.map dim |> String.concat ", ") + ")"

    /// <summary>A concrete tensor's dimensions (int64, as TorchSharp gives them) in Python's tuple rendering, exact at
    /// any size: <c>formatDims [| 1099511627776L; 4L |]</c> is <c>"(1099511627776, 4)"</c>.</summary>
    let formatDims (dims: int64 seq) =
        match List.ofSeq dims with
        | [ single ] -> $"({single},)"
        | ds -> "(" + (ds |> List.map string |> String.concat ", ") + ")"

    /// <summary>The shape of concrete dimensions, or an error text when one is larger than a <see cref="Shape"/>
    /// dimension holds (2^31 - 1): converting it would silently wrap (2^40 became 0).</summary>
    let tryOfDims (dims: int64 seq) : Result<Shape, string> =
        let dims = Array.ofSeq dims

        match dims |> Array.tryFindIndex (fun d -> d > int64 System.Int32.MaxValue || d < 0L) with
        | Some axis ->
            Error
                $"expected every dimension to be at most {System.Int32.MaxValue}, but axis {axis} has size {dims[axis]}. Full shape received: {formatDims dims}"
        | None -> Ok(dims |> Array.map (int >> Some) |> List.ofArray)

    /// A shape whose every dimension is known.
    let ofInts (dims: int seq) : Shape = dims |> Seq.map Some |> List.ofSeq

    /// The shape of a batch of <paramref name="dims"/>-shaped samples with an unknown batch size.
    let batchOf (dims: int seq) : Shape = None :: ofInts dims

    /// Number of axes.
    let rank (shape: Shape) = List.length shape

    /// The product of the known dimensions after the batch axis, or None when one of them is unknown.
    let sampleSize (shape: Shape) =
        match shape with
        | [] -> Some 1
        | _ :: rest -> rest |> List.fold (fun acc d -> Option.map2 (*) acc d) (Some 1)

    /// Normalizes a possibly negative axis against a rank, as Python indexing does.
    let normalizeAxis rank axis = if axis < 0 then rank + axis else axis

    /// Two dimensions are compatible when either is unknown or both are equal.
    let dimsCompatible (a: int option) (b: int option) =
        match a, b with
        | Some x, Some y -> x = y
        | _ -> true

    /// The more precise of two compatible dimensions.
    let mergeDim (a: int option) (b: int option) =
        match a with
        | Some _ -> a
        | None -> b

    /// True when every dimension is known.
    let isFullyDefined (shape: Shape) = shape |> List.forall Option.isSome

    /// The known dimensions, failing when one is unknown.
    let toInts (shape: Shape) =
        shape
        |> List.map (fun d ->
            match d with
            | Some n -> n
            | None -> invalidArg (nameof shape) $"Shape {format shape} has an unknown dimension.")
