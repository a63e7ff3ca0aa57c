namespace Keras

open System
open System.Collections.Generic
open System.IO
open System.Reflection
open System.Runtime.CompilerServices
open PureHDF
open PureHDF.VOL.Native

/// A reason an HDF5 file is refused as hostile or damaged; the loaders turn it into a KerasException naming the file.
exception internal HostileHdf5 of reason: string

/// <summary>Reading HDF5 files that may be hostile, on top of PureHDF. A soft link that leads to itself sends PureHDF
/// into unbounded recursion, and a hard-link cycle sends a naive group walk round forever; both overflow the stack,
/// which no <c>try</c> can catch. So: every read goes through a stream that refuses to read when the stack runs low
/// (PureHDF resolves links through reads, and reports a failure as an unresolved link or an exception); groups are
/// checked for soft and external links before PureHDF resolves them (Keras files have none, and a relative soft link
/// in a compact group recurses without reading); walks track the objects they visited and bound their depth and size.</summary>
module internal Hdf5Guard =
    /// A read-only stream over another that raises InsufficientExecutionStackException instead of reading when the
    /// thread's stack is nearly exhausted.
    type private StackGuardStream(inner: Stream) =
        inherit Stream()
        override _.CanRead = true
        override _.CanSeek = true
        override _.CanWrite = false
        override _.Length = inner.Length

        override _.Position
            with get () = inner.Position
            and set v = inner.Position <- v

        override _.Flush() = ()
        override _.Seek(offset, origin) = inner.Seek(offset, origin)
        override _.SetLength _ = raise (NotSupportedException())
        override _.Write(_: byte[], _: int, _: int) = raise (NotSupportedException())

        override _.Read(buffer: byte[], offset, count) =
            RuntimeHelpers.EnsureSufficientExecutionStack()
            inner.Read(buffer, offset, count)

        override _.Read(buffer: Span<byte>) =
            RuntimeHelpers.EnsureSufficientExecutionStack()
            inner.Read buffer

        override _.ReadByte() =
            RuntimeHelpers.EnsureSufficientExecutionStack()
            inner.ReadByte()

        override _.Dispose disposing =
            if disposing then
                inner.Dispose()

            base.Dispose disposing

    /// Opens HDF5 content from a seekable stream, which the file then owns.
    let openStream (stream: Stream) : NativeFile =
        H5File.Open(new StackGuardStream(stream), false)

    /// Opens an HDF5 file for reading.
    let openFile (path: string) : NativeFile =
        let stream =
            new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 <<< 16)

        try
            openStream stream
        with _ ->
            stream.Dispose()
            reraise ()

    let private flags = BindingFlags.NonPublic ||| BindingFlags.Instance
    let private headerProperty = typeof<NativeObject>.GetProperty("Header", flags)
    let private referenceProperty = typeof<NativeObject>.GetProperty("Reference", flags)

    let private property (name: string) (o: obj) =
        match o with
        | null -> null
        | o ->
            match o.GetType().GetProperty name with
            | null -> null
            | p -> p.GetValue o

    /// The names of the soft and external links stored in a group's own header (compact link storage).
    let private symbolicLinks (group: IH5Group) =
        match group with
        | :? NativeObject as o when not (isNull headerProperty) ->
            let header = headerProperty

            let value =
                try
                    header.GetValue o
                with :? TargetInvocationException as ex when not (isNull ex.InnerException) ->
                    raise ex.InnerException

            match property "HeaderMessages" value with
            | :? Collections.IEnumerable as messages ->
                [
                    for m in messages do
                        let data = property "Data" m

                        if not (isNull data) && data.GetType().Name = "LinkMessage" then
                            match property "LinkInfo" data with
                            | null -> ()
                            | info when info.GetType().Name = "HardLinkInfo" -> ()
                            | _ -> yield string (property "LinkName" data)
                ]
            | _ -> []
        | _ -> []

    /// Refuses a group holding soft or external links before PureHDF follows them.
    let private checkLinks (group: IH5Group) =
        match symbolicLinks group with
        | [] -> ()
        | names ->
            let listed = names |> List.map (fun n -> $"'{n}'") |> String.concat ", "

            raise (
                HostileHdf5
                    $"The group '{group.Name}' holds soft or external links ({listed}). Keras weights files have none, and this library does not follow them (a link may lead to itself or to another file)."
            )

    /// The address of an object in the file, which identifies it whatever the path it was reached by.
    let address (o: IH5Object) : uint64 option =
        match o with
        | :? NativeObject as native when not (isNull referenceProperty) ->
            match property "Value" (referenceProperty.GetValue native) with
            | :? uint64 as v -> Some v
            | _ -> None
        | _ -> None

    /// The resolved children of a group (unresolvable links are left out).
    let children (group: IH5Group) : IH5Object list =
        checkLinks group

        group.Children()
        |> Seq.filter (fun c -> not (c :? IH5UnresolvedLink))
        |> List.ofSeq

    /// The object at a relative path of '/'-separated names, if every step exists and resolves.
    let tryGet (group: IH5Group) (path: string) : IH5Object option =
        let parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries)

        if parts.Length = 0 then
            None
        else
            let step (current: IH5Object option) (part: string) =
                match current with
                | Some(:? IH5Group as g) ->
                    checkLinks g

                    if g.LinkExists part then
                        match g.Get part with
                        | :? IH5UnresolvedLink -> None
                        | o -> Some o
                    else
                        None
                | _ -> None

            parts |> Array.fold step (Some(group :> IH5Object))

    /// Whether a group has a child (of any kind) at a relative path.
    let exists (group: IH5Group) (path: string) = (tryGet group path).IsSome

    /// The deepest group nesting a walk follows; Keras files nest a few levels per nested model.
    [<Literal>]
    let MaxDepth = 64

    /// The most objects a walk visits.
    [<Literal>]
    let MaxObjects = 200_000

    /// True when a group holds a dataset somewhere below it. Each object is visited once (a hard-link cycle or a
    /// group reached by many links costs nothing more), depth and size are bounded.
    let holdsData (group: IH5Group) =
        let seen = HashSet<uint64>()
        let mutable visited = 0

        let rec walk (depth: int) (g: IH5Group) =
            if depth > MaxDepth then
                raise (HostileHdf5 $"Groups nest deeper than {MaxDepth} levels below '{group.Name}'.")

            children g
            |> List.exists (fun c ->
                visited <- visited + 1

                if visited > MaxObjects then
                    raise (HostileHdf5 $"The file holds more than {MaxObjects} objects below '{group.Name}'.")

                match c with
                | :? IH5Dataset -> true
                | :? IH5Group as sub ->
                    match address sub with
                    | Some a when not (seen.Add a) -> false
                    | _ -> walk (depth + 1) sub
                | _ -> false)

        address group |> Option.iter (seen.Add >> ignore)
        walk 0 group

    /// True when a dataset's numbers are stored big-endian (PureHDF reads only the machine's order; raw bytes are
    /// converted by the caller).
    let isBigEndian (dataset: IH5Dataset) =
        match dataset with
        | :? NativeObject as native ->
            match native.GetType().GetProperty("InternalDataType", flags) with
            | null -> false
            | p ->
                let order = p.GetValue native |> property "BitField" |> property "ByteOrder"
                not (isNull order) && string order = "BigEndian"
        | _ -> false
