namespace Keras

open System
open System.Collections.Generic
open System.Runtime.CompilerServices
open TorchSharp

/// <summary>The strings behind one string tensor: handle <c>First + i</c> stands for <c>Strings[i]</c>. Handles are
/// unique in the process, so a handle alone says which table holds its string.</summary>
[<Sealed; AllowNullLiteral>]
type StringTable internal (first: int64, strings: string[]) =
    /// The handle of the first string.
    member _.First = first
    /// The strings, in handle order.
    member _.Strings = strings
    /// True when the handle belongs to this table.
    member _.Owns(handle: int64) =
        handle >= first && handle < first + int64 strings.Length

/// <summary>String tensors. TorchSharp tensors hold numbers only, so a Keras string tensor (dtype <c>"string"</c>) is
/// an int64 tensor of <em>handles</em>: each handle names one .NET string in a <see cref="StringTable"/>. The graph
/// engine (shape inference, execution, batching, training) moves handles like any int64 data; only the string layers
/// (StringLookup, Hashing, TextVectorization) read the strings, by handle, and produce ordinary numeric tensors.</summary>
/// <remarks>A table lives as long as the tensor made from the strings (<see cref="ofArray"/>): slices and batches of
/// that tensor read it while the tensor is alive, which holds for every call that was given the tensor
/// (<c>Predict</c>, <c>Fit</c>, an eager layer call). Handles start at 2^40, so ordinary integers are never mistaken
/// for strings.</remarks>
[<RequireQualifiedAccess>]
module StringTensor =
    let private gate = obj ()
    let mutable private next = 1L <<< 40

    /// Tables by first handle, in increasing order; weak so that a table goes with its tensor.
    let private tables = List<struct (int64 * WeakReference<StringTable>)>()

    /// The table of each tensor made from strings: keeps the table alive while the tensor object is.
    let private owners = ConditionalWeakTable<torch.Tensor, StringTable>()

    let private register (strings: string[]) =
        lock gate (fun () ->
            // Forget the tables whose tensors are gone.
            tables.RemoveAll(fun (struct (_, weak)) ->
                match weak.TryGetTarget() with
                | true, _ -> false
                | _ -> true)
            |> ignore

            let table = StringTable(next, strings)
            next <- next + int64 (max 1 strings.Length)
            tables.Add(struct (table.First, WeakReference<StringTable>(table)))
            table)

    /// <summary>A table for strings that must outlive any tensor (a layer's vocabulary for <c>invert=True</c>): the
    /// caller keeps it alive by holding it.</summary>
    let createTable (strings: string[]) : StringTable =
        if isNull strings then
            nullArg (nameof strings)

        register (Array.copy strings)

    /// <summary>The live table that owns a handle, if any.</summary>
    let tryTable (handle: int64) : StringTable option =
        lock gate (fun () ->
            // The last table whose first handle is at most the handle.
            let mutable lo = 0
            let mutable hi = tables.Count - 1
            let mutable found = -1

            while lo <= hi do
                let mid = (lo + hi) / 2
                let struct (first, _) = tables[mid]

                if first <= handle then
                    found <- mid
                    lo <- mid + 1
                else
                    hi <- mid - 1

            if found < 0 then
                None
            else
                let struct (_, weak) = tables[found]

                match weak.TryGetTarget() with
                | true, table when table.Owns handle -> Some table
                | _ -> None)

    let private tensorOf (table: StringTable) (dims: int64[]) =
        Native.NativeLoader.ensureLoaded ()
        let handles = Array.init table.Strings.Length (fun i -> table.First + int64 i)
        use flat = torch.tensor handles
        let tensor = flat.reshape(dims).DetachFromDisposeScope()
        owners.AddOrUpdate(tensor, table)
        tensor

    let private checkNoNulls (strings: string seq) =
        if strings |> Seq.exists isNull then
            raise (ArgumentException "A string tensor cannot hold null strings.")

    /// <summary>A string tensor of shape <c>(n,)</c>: one string per sample.</summary>
    /// <exception cref="ArgumentException">When a string is null.</exception>
    let ofArray (strings: string[]) : torch.Tensor =
        if isNull strings then
            nullArg (nameof strings)

        checkNoNulls strings
        tensorOf (register (Array.copy strings)) [| int64 strings.Length |]

    /// <summary>A string tensor of shape <c>(rows, columns)</c>.</summary>
    /// <exception cref="ArgumentException">When a string is null.</exception>
    let ofArray2D (strings: string[,]) : torch.Tensor =
        if isNull strings then
            nullArg (nameof strings)

        let rows, cols = Array2D.length1 strings, Array2D.length2 strings
        let flat = Array.init (rows * cols) (fun k -> strings[k / cols, k % cols])
        checkNoNulls flat
        tensorOf (register flat) [| int64 rows; int64 cols |]

    /// <summary>A string tensor of the given shape from strings in row-major order (handles of an existing table, for
    /// layers that output strings).</summary>
    let ofTable (table: StringTable) (indices: int64[]) (dims: int64[]) : torch.Tensor =
        Native.NativeLoader.ensureLoaded ()
        let handles = indices |> Array.map (fun i -> table.First + i)
        use flat = torch.tensor handles
        let tensor = flat.reshape dims
        owners.AddOrUpdate(tensor, table)
        tensor

    /// <summary>The tensor reshaped, still a string tensor when it was one.</summary>
    let reshape (tensor: torch.Tensor) (dims: int64[]) : torch.Tensor =
        let reshaped = tensor.reshape dims

        match owners.TryGetValue tensor with
        | true, table -> owners.AddOrUpdate(reshaped, table)
        | _ -> ()

        reshaped

    /// <summary>True for a tensor made by <see cref="ofArray"/>, <see cref="ofArray2D"/> or <see cref="ofTable"/>
    /// (the tensor object itself, not a slice of it).</summary>
    let isString (tensor: torch.Tensor) =
        not (isNull tensor)
        && (match owners.TryGetValue tensor with
            | true, _ -> true
            | _ -> false)

    /// <summary>The strings of handles, in order; <c>Error handle</c> for the first handle that names no live string
    /// (numbers that are not string handles).</summary>
    let tryStrings (handles: int64[]) : Result<string[], int64> =
        let result = Array.zeroCreate handles.Length
        let mutable cached: StringTable = null
        let mutable failed = None
        let mutable i = 0

        while failed.IsNone && i < handles.Length do
            let h = handles[i]

            if isNull cached || not (cached.Owns h) then
                cached <-
                    match tryTable h with
                    | Some t -> t
                    | None -> null

            if isNull cached then
                failed <- Some h
            else
                result[i] <- cached.Strings[int (h - cached.First)]

            i <- i + 1

        match failed with
        | Some h -> Error h
        | None -> Ok result

    /// <summary>The strings of a string tensor (or a slice of one), flattened in row-major order.</summary>
    /// <exception cref="ArgumentException">When the tensor does not hold string handles.</exception>
    let toArray (tensor: torch.Tensor) : string[] =
        if tensor.dtype <> torch.ScalarType.Int64 then
            raise (ArgumentException $"Expected a string tensor (int64 handles); received a {tensor.dtype} tensor.")

        let handles = tensor.contiguous().data<int64>().ToArray()

        match tryStrings handles with
        | Ok strings -> strings
        | Error h ->
            raise (
                ArgumentException
                    $"The tensor does not hold strings: {h} is not the handle of a live string. Make string tensors with StringTensor.ofArray."
            )

    /// <summary>The strings of a rank-2 string tensor as a 2D array.</summary>
    let toArray2D (tensor: torch.Tensor) : string[,] =
        if tensor.dim () <> 2L then
            raise (ArgumentException $"Expected a rank-2 string tensor; received rank {tensor.dim ()}.")

        let flat = toArray tensor
        let cols = int (tensor.size(1))
        Array2D.init (int (tensor.size(0))) cols (fun r c -> flat[r * cols + c])

    let private stringClasses =
        System.Collections.Concurrent.ConcurrentDictionary<string, bool>(
            dict
                [
                    "InputLayer", true
                    "Functional", true
                    "Sequential", true
                    "StringLookup", true
                    "Hashing", true
                    "TextVectorization", true
                ]
        )

    /// <summary>Lets layers of a class (a custom layer that reads strings with <see cref="toArray"/>) receive string
    /// tensors; every other layer rejects them with a Keras-style error naming the layer.</summary>
    let acceptStrings (className: string) = stringClasses[className] <- true

    /// True when layers of this class may receive string tensors.
    let acceptsStrings (className: string) = stringClasses.ContainsKey className
