/// <summary>
/// Reader for the IDX format (LeCun's MNIST file format): a big-endian header
/// <c>0x00 0x00 type ndim</c>, then <c>ndim</c> big-endian int32 dimensions, then the data in C order.
/// Only element type <c>0x08</c> (unsigned byte) is supported, which is what MNIST uses.
/// </summary>
/// <remarks>Pure .NET (System.IO.Compression): no native dependency, so datasets load without TorchSharp.</remarks>
module Keras.Datasets.Idx

open System
open System.IO
open System.IO.Compression

/// <summary>An IDX array of unsigned bytes: its dimensions and its elements in C (row-major) order.</summary>
type IdxArray =
    {
        /// <summary>The dimensions, outermost first (for MNIST images: count, rows, columns).</summary>
        Shape: int[]
        /// <summary>The elements in C order; its length is the product of <c>Shape</c>.</summary>
        Data: byte[]
    }

/// <summary>The IDX element-type code for unsigned bytes.</summary>
[<Literal>]
let UInt8Type = 0x08uy

/// <summary>The IDX magic number of an unsigned-byte array with <paramref name="ndim"/> dimensions.</summary>
/// <param name="ndim">The number of dimensions.</param>
/// <returns>The magic number, e.g. 2049 for labels (1 dimension) or 2051 for images (3 dimensions).</returns>
let uint8Magic (ndim: int) : int = (int UInt8Type <<< 8) + ndim

// ---------------------------------------------------------------------------------------------
// Low-level reading. Every error names the source so a user can tell which file is broken.
// ---------------------------------------------------------------------------------------------

/// Reads until `count` bytes are in `buffer` or the stream ends; returns how many were read.
/// Decoder errors (corrupt deflate data) are re-raised naming the source.
let private readUpTo (source: string) (stream: Stream) (buffer: byte[]) (count: int) : int =
    let rec loop total =
        if total >= count then
            total
        else
            let n =
                try
                    stream.Read(buffer, total, count - total)
                with :? InvalidDataException as e ->
                    raise (InvalidDataException($"corrupt compressed data in '{source}': {e.Message}", e))

            if n = 0 then total else loop (total + n)

    loop 0

/// Reads exactly `count` bytes, or fails saying what was being read and how much was found. The buffer grows as data
/// arrives, so a header declaring far more than the file holds costs no more memory than the file's content.
let private readExactly (source: string) (what: string) (stream: Stream) (count: int) : byte[] =
    let step = 1 <<< 24
    let mutable buffer = Array.zeroCreate (min count step)
    let mutable total = 0
    let mutable ended = false

    while total < count && not ended do
        if total = buffer.Length then
            Array.Resize(&buffer, int (min (int64 count) (int64 buffer.Length * 2L)))

        let n =
            try
                stream.Read(buffer, total, buffer.Length - total)
            with :? InvalidDataException as e ->
                raise (InvalidDataException($"corrupt compressed data in '{source}': {e.Message}", e))

        if n = 0 then ended <- true else total <- total + n

    if total < count then
        raise (InvalidDataException($"truncated IDX file '{source}': expected {count} bytes of {what}, found {total}"))

    buffer

/// Big-endian int32 from 4 bytes at `offset` (IDX is big-endian; BitConverter follows the machine).
let private bigEndianInt32 (bytes: byte[]) (offset: int) : int =
    (int bytes[offset] <<< 24)
    ||| (int bytes[offset + 1] <<< 16)
    ||| (int bytes[offset + 2] <<< 8)
    ||| int bytes[offset + 3]

/// Checks the generic magic: two zero bytes, then the unsigned-byte type code, then ndim ≥ 1.
let private checkMagic (source: string) (magic: byte[]) : unit =
    let found = bigEndianInt32 magic 0

    if magic[0] <> 0uy || magic[1] <> 0uy then
        raise (
            InvalidDataException(
                $"not an IDX file '{source}': expected magic bytes 00 00 08 <ndim>, found %02X{magic[0]} %02X{magic[1]} %02X{magic[2]} %02X{magic[3]} (magic {found})"
            )
        )

    if magic[2] <> UInt8Type then
        raise (
            InvalidDataException(
                $"unsupported IDX element type 0x%02X{magic[2]} in '{source}' (magic {found}): only 0x08 (unsigned byte) is supported"
            )
        )

    if magic[3] = 0uy then
        raise (InvalidDataException($"IDX file '{source}' declares 0 dimensions (magic {found}); expected at least 1"))

/// Reads the dimensions and checks that the element count fits in one .NET array.
let private readShape (source: string) (stream: Stream) (ndim: int) : int[] =
    let bytes = readExactly source $"header ({ndim} dimensions)" stream (4 * ndim)
    let shape = Array.init ndim (fun i -> bigEndianInt32 bytes (4 * i))

    if shape |> Array.exists (fun d -> d < 0) then
        raise (InvalidDataException($"IDX file '{source}' has a negative dimension: %A{shape}"))

    let total = shape |> Array.fold (fun acc d -> acc * int64 d) 1L

    if total > int64 Array.MaxLength then
        raise (InvalidDataException($"IDX file '{source}' is too large: %A{shape} holds {total} elements"))

    shape

/// Fails when the stream holds more than the declared data (a sign of a wrong or mixed-up file).
let private checkAtEnd (source: string) (stream: Stream) (expected: int) : unit =
    let probe = Array.zeroCreate 1

    if readUpTo source stream probe 1 <> 0 then
        raise (InvalidDataException($"IDX file '{source}' has more data than its header declares ({expected} bytes)"))

/// Reads the rest of an IDX array after a validated magic.
let private readBody (source: string) (stream: Stream) (magic: byte[]) : IdxArray =
    let shape = readShape source stream (int magic[3])
    let count = shape |> Array.fold (*) 1
    let data = readExactly source "data" stream count
    checkAtEnd source stream count
    { Shape = shape; Data = data }

/// <summary>Reads an unsigned-byte IDX array of any rank from a (decompressed) stream.</summary>
/// <param name="source">What the stream was read from (a path), used in error messages.</param>
/// <param name="stream">The IDX bytes, positioned at the magic number; read to its end.</param>
/// <returns>The array's shape and data.</returns>
/// <exception cref="System.IO.InvalidDataException">Bad magic, unsupported type, truncated or trailing data.</exception>
let read (source: string) (stream: Stream) : IdxArray =
    let magic = readExactly source "magic number" stream 4
    checkMagic source magic
    readBody source stream magic

/// <summary>Reads an IDX array from a stream and checks its magic number against the one expected.</summary>
/// <param name="expectedMagic">The magic the caller needs, e.g. <c>uint8Magic 3</c> = 2051 for images.</param>
/// <param name="what">What the file should hold (e.g. "images"), used in error messages.</param>
/// <param name="source">What the stream was read from (a path), used in error messages.</param>
/// <param name="stream">The IDX bytes, positioned at the magic number; read to its end.</param>
/// <returns>The array's shape and data.</returns>
/// <exception cref="System.IO.InvalidDataException">
/// The magic differs (e.g. "expected IDX magic 2051 for images in '…', found 2049"), or the data is truncated.
/// </exception>
let readExpecting (expectedMagic: int) (what: string) (source: string) (stream: Stream) : IdxArray =
    let magic = readExactly source "magic number" stream 4
    let found = bigEndianInt32 magic 0

    // Checked before the generic test so a wrong file gets the most useful message.
    if found <> expectedMagic then
        raise (InvalidDataException($"expected IDX magic {expectedMagic} for {what} in '{source}', found {found}"))

    checkMagic source magic
    readBody source stream magic

// ---------------------------------------------------------------------------------------------
// Gzip files, whole or split into parts.
// ---------------------------------------------------------------------------------------------

/// A read-only, forward-only stream over several files read one after another, so that parts of
/// one split file can feed a single decoder without first being joined on disk.
type private ConcatenatedStream(paths: string list) =
    inherit Stream()
    let mutable remaining = paths
    let mutable current: FileStream option = None

    /// Closes the current part and opens the next; false when there is none.
    member private _.Advance() : bool =
        current |> Option.iter (fun s -> s.Dispose())
        current <- None

        match remaining with
        | [] -> false
        | path :: rest ->
            current <- Some(File.OpenRead path)
            remaining <- rest
            true

    override _.CanRead = true
    override _.CanSeek = false
    override _.CanWrite = false
    override _.Length = raise (NotSupportedException "ConcatenatedStream has no length")

    override _.Position
        with get () = raise (NotSupportedException "ConcatenatedStream cannot seek")
        and set _ = raise (NotSupportedException "ConcatenatedStream cannot seek")

    override _.Flush() = ()

    override _.Seek(_, _) =
        raise (NotSupportedException "ConcatenatedStream cannot seek")

    override _.SetLength _ =
        raise (NotSupportedException "ConcatenatedStream is read-only")

    override _.Write(_, _, _) =
        raise (NotSupportedException "ConcatenatedStream is read-only")

    override this.Read(buffer: byte[], offset: int, count: int) : int =
        let n =
            match current with
            | Some s -> s.Read(buffer, offset, count)
            | None -> 0

        // An empty read means this part is exhausted (or none is open yet): move on to the next.
        if n > 0 || count = 0 then n
        elif this.Advance() then this.Read(buffer, offset, count)
        else 0

    override _.Dispose(disposing: bool) =
        if disposing then
            current |> Option.iter (fun s -> s.Dispose())
            current <- None
            remaining <- []

        base.Dispose disposing

/// Fails with FileNotFoundException naming the path when a file is missing.
let private requireFile (what: string) (path: string) : unit =
    if not (File.Exists path) then
        raise (FileNotFoundException($"{what} not found: '{path}'", path))

/// Checks the gzip signature (1F 8B) so a non-gzip file gets a clear message instead of a decoder error.
let private checkGzipMagic (source: string) (paths: string list) : unit =
    use raw = new ConcatenatedStream(paths)
    let head = Array.zeroCreate 2
    let n = readUpTo source raw head 2

    if n < 2 || head[0] <> 0x1Fuy || head[1] <> 0x8Buy then
        let found =
            if n = 0 then
                "an empty file"
            else
                head[.. n - 1] |> Array.map (sprintf "%02X") |> String.concat " "

        raise (InvalidDataException($"expected gzip data (bytes 1F 8B) in '{source}', found {found}"))

/// Describes a list of part files for error messages: every path, in order.
let private describeParts (paths: string list) : string = String.Join("' + '", paths)

/// Opens the decompressed content of files that together form one gzip file.
let private openGzipFiles (source: string) (paths: string list) : Stream =
    checkGzipMagic source paths
    new GZipStream(new ConcatenatedStream(paths), CompressionMode.Decompress) :> Stream

/// <summary>Opens a gzip file and returns its decompressed content as a stream.</summary>
/// <param name="path">The gzip file.</param>
/// <returns>A read-only stream of the decompressed bytes; the caller disposes it.</returns>
/// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">The file does not start with the gzip signature.</exception>
let openGzip (path: string) : Stream =
    requireFile "gzip file" path
    openGzipFiles path [ path ]

/// <summary>
/// Opens files that, joined in the given order, form one gzip file, and returns the decompressed content.
/// The parts are streamed one after another through one decoder; nothing is written to disk.
/// </summary>
/// <param name="paths">The part files, in order (e.g. <c>x.gz.part-00</c>, <c>x.gz.part-01</c>, …).</param>
/// <returns>A read-only stream of the decompressed bytes; the caller disposes it.</returns>
/// <exception cref="System.ArgumentException">No parts were given.</exception>
/// <exception cref="System.IO.FileNotFoundException">A part does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">The first part does not start with the gzip signature.</exception>
let openGzipParts (paths: string seq) : Stream =
    let parts = List.ofSeq paths

    if List.isEmpty parts then
        invalidArg (nameof paths) "expected at least one part file, got none"

    parts |> List.iter (requireFile "gzip part file")
    openGzipFiles (describeParts parts) parts

/// <summary>The part files <c>path.part-00</c>, <c>path.part-01</c>, … that exist beside <paramref name="path"/>, in order.</summary>
/// <param name="path">The path the joined file would have (e.g. <c>…/train-images-idx3-ubyte.gz</c>).</param>
/// <returns>The consecutive parts starting at <c>part-00</c>; empty when <c>part-00</c> is absent.</returns>
/// <remarks>Stops at the first missing number, so a gap leaves later parts out and decoding then reports truncation.</remarks>
let partsOf (path: string) : string list =
    // Two-digit numbering as the data is shipped; wider numbers are accepted if the parts use them.
    let partPath (i: int) = $"{path}.part-%02d{i}"

    Seq.initInfinite partPath |> Seq.takeWhile File.Exists |> List.ofSeq

/// <summary>
/// Opens the decompressed content of a gzip file, or of its parts (<c>path.part-00</c>, …) when the whole file is absent.
/// </summary>
/// <param name="path">The gzip file's path.</param>
/// <returns>A description of what was opened (for error messages) and the decompressed stream (the caller disposes it).</returns>
/// <exception cref="System.IO.FileNotFoundException">Neither the file nor its <c>part-00</c> exists.</exception>
let openGzipOrParts (path: string) : string * Stream =
    if File.Exists path then
        path, openGzip path
    else
        match partsOf path with
        | [] ->
            raise (FileNotFoundException($"gzip file not found: '{path}' (nor its parts '{path}.part-00', …)", path))
        | parts -> describeParts parts, openGzipParts parts

/// <summary>Reads an unsigned-byte IDX array from a gzip file.</summary>
/// <param name="path">The gzip file.</param>
/// <returns>The array's shape and data.</returns>
/// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">Not gzip, corrupt, or not a valid unsigned-byte IDX array.</exception>
let readGzip (path: string) : IdxArray =
    use stream = openGzip path
    read path stream

/// <summary>Reads an unsigned-byte IDX array from part files that, joined in order, form one gzip file.</summary>
/// <param name="paths">The part files, in order.</param>
/// <returns>The array's shape and data.</returns>
/// <exception cref="System.IO.FileNotFoundException">A part does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">Not gzip, corrupt, or not a valid unsigned-byte IDX array.</exception>
let readGzipParts (paths: string seq) : IdxArray =
    let parts = List.ofSeq paths
    use stream = openGzipParts parts
    read (describeParts parts) stream
