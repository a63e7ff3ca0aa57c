/// <summary>
/// The MNIST handwritten digits, with Keras's <c>keras.datasets.mnist.load_data()</c> semantics:
/// <c>(xTrain, yTrain), (xTest, yTest)</c> with images as <c>byte[,,]</c> (count × 28 × 28) and labels 0–9.
/// </summary>
/// <remarks>
/// Reads Keras's <c>mnist.npz</c> or the four canonical IDX gzip files from a folder or from the Keras cache folder.
/// <see cref="loadData"/> and <see cref="load"/> download Keras's <c>mnist.npz</c> into the cache when neither is there;
/// the functions taking a folder or path (<see cref="loadIn"/>, <see cref="loadFrom"/>, …) never touch the network.
/// </remarks>
module Keras.Datasets.Mnist

open System
open System.Buffers.Binary
open System.IO
open System.IO.Compression
open System.Text
open System.Text.RegularExpressions

/// <summary>MNIST as four arrays, named like Keras's variables.</summary>
type MnistData =
    {
        /// <summary>Training images, 60000 × 28 × 28 for the real set; pixels 0–255.</summary>
        XTrain: byte[,,]
        /// <summary>Training labels 0–9, one per training image.</summary>
        YTrain: byte[]
        /// <summary>Test images, 10000 × 28 × 28 for the real set; pixels 0–255.</summary>
        XTest: byte[,,]
        /// <summary>Test labels 0–9, one per test image.</summary>
        YTest: byte[]
    }

    /// <summary>The Keras tuple form <c>(xTrain, yTrain), (xTest, yTest)</c>.</summary>
    member this.AsTuple: (byte[,,] * byte[]) * (byte[,,] * byte[]) =
        (this.XTrain, this.YTrain), (this.XTest, this.YTest)

/// <summary>Where MNIST was found.</summary>
type MnistSource =
    /// <summary>Keras's <c>mnist.npz</c> file (a zip of <c>.npy</c> arrays).</summary>
    | Npz of path: string
    /// <summary>A folder holding the four canonical IDX gzip files.</summary>
    | IdxFolder of folder: string

/// <summary>Image height and width in pixels.</summary>
[<Literal>]
let ImageSize = 28

/// <summary>The number of classes (digits 0–9).</summary>
[<Literal>]
let NumClasses = 10

/// <summary>Canonical file name of the training images (it may be split into <c>.part-00</c>, <c>.part-01</c>, …).</summary>
[<Literal>]
let TrainImagesFile = "train-images-idx3-ubyte.gz"

/// <summary>Canonical file name of the training labels.</summary>
[<Literal>]
let TrainLabelsFile = "train-labels-idx1-ubyte.gz"

/// <summary>Canonical file name of the test images.</summary>
[<Literal>]
let TestImagesFile = "t10k-images-idx3-ubyte.gz"

/// <summary>Canonical file name of the test labels.</summary>
[<Literal>]
let TestLabelsFile = "t10k-labels-idx1-ubyte.gz"

/// <summary>File name Keras uses for MNIST in its cache folder.</summary>
[<Literal>]
let NpzFile = "mnist.npz"

/// <summary>Where Keras downloads <c>mnist.npz</c> from (<c>keras.datasets.mnist.load_data</c>'s origin).</summary>
[<Literal>]
let Origin = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"

/// <summary>The SHA-256 Keras checks <c>mnist.npz</c> against.</summary>
[<Literal>]
let NpzSha256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

/// <summary>Converts the record to the Keras tuple form.</summary>
/// <param name="data">The loaded data.</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
let toTuple (data: MnistData) : (byte[,,] * byte[]) * (byte[,,] * byte[]) = data.AsTuple

// ---------------------------------------------------------------------------------------------
// Validation shared by both formats. `source` names the file in every message.
// ---------------------------------------------------------------------------------------------

/// Formats a shape like NumPy does, e.g. (60000, 28, 28).
let private showShape (shape: int[]) : string =
    match shape with
    | [| d |] -> $"({d},)"
    | _ -> "(" + String.Join(", ", shape) + ")"

/// Checks an image array is n × 28 × 28 and copies it into a 3-D array.
let private toImages (source: string) (shape: int[]) (data: byte[]) : byte[,,] =
    match shape with
    | [| n; ImageSize; ImageSize |] ->
        let images = Array3D.zeroCreate n ImageSize ImageSize
        // Same C order on both sides, so one block copy suffices.
        Buffer.BlockCopy(data, 0, images, 0, data.Length)
        images
    | _ -> raise (InvalidDataException($"expected images of shape (n, 28, 28) in '{source}', found {showShape shape}"))

/// Checks a label array is one-dimensional with every label a digit 0–9.
let private toLabels (source: string) (shape: int[]) (data: byte[]) : byte[] =
    if shape.Length <> 1 then
        raise (InvalidDataException($"expected labels of shape (n,) in '{source}', found {showShape shape}"))

    match data |> Array.tryFindIndex (fun y -> int y >= NumClasses) with
    | Some i -> raise (InvalidDataException($"label {data[i]} at index {i} in '{source}' is not a digit 0-9"))
    | None -> data

/// Checks a split has one label per image.
let private checkCounts
    (split: string)
    (imagesSource: string)
    (images: byte[,,])
    (labelsSource: string)
    (labels: byte[])
    =
    let n = Array3D.length1 images

    if n <> labels.Length then
        raise (
            InvalidDataException(
                $"{split} split: {n} images in '{imagesSource}' but {labels.Length} labels in '{labelsSource}'; expected the same count"
            )
        )

/// Builds the record after checking both splits' counts.
let private assemble (train: (string * byte[,,]) * (string * byte[])) (test: (string * byte[,,]) * (string * byte[])) =
    let (xTrainSource, xTrain), (yTrainSource, yTrain) = train
    let (xTestSource, xTest), (yTestSource, yTest) = test
    checkCounts "training" xTrainSource xTrain yTrainSource yTrain
    checkCounts "test" xTestSource xTest yTestSource yTest

    {
        XTrain = xTrain
        YTrain = yTrain
        XTest = xTest
        YTest = yTest
    }

// ---------------------------------------------------------------------------------------------
// IDX folder.
// ---------------------------------------------------------------------------------------------

/// Reads one IDX gzip file (or its parts) and checks its magic: 2051 for images, 2049 for labels.
let private readIdx (ndim: int) (what: string) (path: string) : string * Idx.IdxArray =
    let source, stream = Idx.openGzipOrParts path
    use stream = stream
    source, Idx.readExpecting (Idx.uint8Magic ndim) what source stream

/// Reads an images file into n × 28 × 28.
let private readIdxImages (path: string) : string * byte[,,] =
    let source, array = readIdx 3 "images" path
    source, toImages source array.Shape array.Data

/// Reads a labels file into a vector of digits.
let private readIdxLabels (path: string) : string * byte[] =
    let source, array = readIdx 1 "labels" path
    source, toLabels source array.Shape array.Data

/// <summary>Reads the four canonical IDX gzip files from a folder.</summary>
/// <param name="folder">
/// The folder holding <c>train-images-idx3-ubyte.gz</c> (or its parts <c>.part-00</c>, <c>.part-01</c>, …),
/// <c>train-labels-idx1-ubyte.gz</c>, <c>t10k-images-idx3-ubyte.gz</c> and <c>t10k-labels-idx1-ubyte.gz</c>.
/// </param>
/// <returns>The four arrays, validated.</returns>
/// <exception cref="System.IO.FileNotFoundException">The folder or a file is missing.</exception>
/// <exception cref="System.IO.InvalidDataException">A file is corrupt or has the wrong shape, count or labels.</exception>
let readIdxFolder (folder: string) : MnistData =
    if not (Directory.Exists folder) then
        raise (FileNotFoundException($"MNIST folder not found: '{folder}'", folder))

    let file name = Path.Combine(folder, name)

    let train =
        readIdxImages (file TrainImagesFile), readIdxLabels (file TrainLabelsFile)

    let test = readIdxImages (file TestImagesFile), readIdxLabels (file TestLabelsFile)
    assemble train test

// ---------------------------------------------------------------------------------------------
// NPY / NPZ. NumPy's format: magic \x93NUMPY, major, minor, header length (uint16 LE for v1,
// uint32 LE for v2 and v3), then a Python dict literal, then the raw data.
// ---------------------------------------------------------------------------------------------

/// The parsed header of an .npy array.
type private NpyHeader =
    {
        Descr: string
        FortranOrder: bool
        Shape: int[]
    }

/// Reads exactly `count` bytes from an npy entry, or fails naming it. The buffer grows as data arrives, so a header
/// declaring far more than the entry holds costs no more memory than the entry's content.
let private readNpyBytes (source: string) (what: string) (stream: Stream) (count: int) : byte[] =
    let mutable buffer = Array.zeroCreate (min count (1 <<< 24))
    let mutable total = 0
    let mutable finished = false

    while not finished && total < count do
        if total = buffer.Length then
            Array.Resize(&buffer, int (min (int64 count) (int64 buffer.Length * 2L)))

        let n = stream.Read(buffer, total, buffer.Length - total)
        if n = 0 then finished <- true else total <- total + n

    if total < count then
        raise (
            InvalidDataException($"truncated .npy data in '{source}': expected {count} bytes of {what}, found {total}")
        )

    buffer

/// Extracts one key's value from the header dict, or fails naming the key.
let private headerField (source: string) (header: string) (key: string) (pattern: string) : Match =
    let m = Regex.Match(header, $"'{key}'\\s*:\\s*{pattern}")

    if not m.Success then
        raise (
            InvalidDataException($"expected key '{key}' in the .npy header of '{source}', found header {header.Trim()}")
        )

    m

/// Parses the Python dict literal NumPy writes, e.g. {'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }.
let private parseNpyHeader (source: string) (header: string) : NpyHeader =
    let descr = (headerField source header "descr" "'([^']*)'").Groups[1].Value

    let fortran =
        (headerField source header "fortran_order" "(True|False)").Groups[1].Value = "True"

    let dims = (headerField source header "shape" "\\(([^)]*)\\)").Groups[1].Value

    let shape =
        dims.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        |> Array.map (fun d ->
            match Int32.TryParse d with
            | true, v when v >= 0 -> v
            | _ -> raise (InvalidDataException($"bad dimension '{d}' in the .npy shape of '{source}': ({dims})")))

    {
        Descr = descr
        FortranOrder = fortran
        Shape = shape
    }

/// Reads the magic, version and header length, and returns the header text.
let private readNpyHeaderText (source: string) (stream: Stream) : string =
    let prefix = readNpyBytes source "magic and version" stream 8

    if prefix[0] <> 0x93uy || Encoding.ASCII.GetString(prefix, 1, 5) <> "NUMPY" then
        let found = prefix |> Array.map (sprintf "%02X") |> String.concat " "
        raise (InvalidDataException($"expected .npy magic \\x93NUMPY in '{source}', found {found}"))

    let major = prefix[6]

    let headerLength =
        match major with
        | 1uy -> int (BinaryPrimitives.ReadUInt16LittleEndian(readNpyBytes source "header length" stream 2))
        | 2uy
        | 3uy -> BinaryPrimitives.ReadInt32LittleEndian(readNpyBytes source "header length" stream 4)
        | v ->
            raise (
                InvalidDataException(
                    $"unsupported .npy version {v}.{prefix[7]} in '{source}': expected 1.0, 2.0 or 3.0"
                )
            )

    if headerLength < 0 then
        raise (InvalidDataException($"bad .npy header length {headerLength} in '{source}'"))

    // Version 3 allows UTF-8 in the header; 1 and 2 are Latin-1, which ASCII dict keys also satisfy.
    Encoding.UTF8.GetString(readNpyBytes source "header" stream headerLength)

/// Reads one unsigned-byte, C-order .npy array: its shape and its data.
let private readNpy (source: string) (stream: Stream) : int[] * byte[] =
    let header = readNpyHeaderText source stream |> parseNpyHeader source

    // One-byte elements have no byte order, so '|u1', '<u1', '>u1' and 'u1' all mean uint8.
    if header.Descr.TrimStart('|', '<', '>', '=') <> "u1" then
        raise (InvalidDataException($"expected dtype '|u1' (uint8) in '{source}', found '{header.Descr}'"))

    if header.FortranOrder && header.Shape.Length > 1 then
        raise (InvalidDataException($"expected C order ('fortran_order': False) in '{source}', found Fortran order"))

    let count = header.Shape |> Array.fold (fun acc d -> acc * int64 d) 1L

    if count > int64 Array.MaxLength then
        raise (InvalidDataException($"array in '{source}' is too large: {showShape header.Shape}"))

    header.Shape, readNpyBytes source "data" stream (int count)

/// Reads one named array from an open npz archive.
let private readNpzEntry (path: string) (archive: ZipArchive) (name: string) : string * int[] * byte[] =
    // Messages quote their source as '{source}', so this reads: '…/mnist.npz' entry 'x_train.npy'.
    let source = $"{path}' entry '{name}"

    match archive.GetEntry name with
    | null ->
        let found = archive.Entries |> Seq.map (fun e -> e.FullName) |> String.concat ", "
        raise (InvalidDataException($"expected entry '{name}' in '{path}', found entries [{found}]"))
    | entry ->
        use stream = entry.Open()
        let shape, data = readNpy source stream
        source, shape, data

/// Opens a zip archive, turning "not a zip" into a message that names the path.
let private openZip (path: string) : ZipArchive =
    if not (File.Exists path) then
        raise (FileNotFoundException($"MNIST npz file not found: '{path}'", path))

    try
        ZipFile.OpenRead path
    with :? InvalidDataException as e ->
        raise (InvalidDataException($"expected a zip (.npz) file at '{path}': {e.Message}", e))

/// <summary>Reads Keras's <c>mnist.npz</c>: a zip of <c>x_train.npy</c>, <c>y_train.npy</c>, <c>x_test.npy</c>, <c>y_test.npy</c>.</summary>
/// <param name="path">The npz file.</param>
/// <returns>The four arrays, validated.</returns>
/// <remarks>Accepts .npy versions 1.0, 2.0 and 3.0 with dtype uint8 in C order, stored or deflated.</remarks>
/// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">Not a zip, an entry is missing or corrupt, or shapes, counts or labels are wrong.</exception>
let readNpz (path: string) : MnistData =
    use archive = openZip path

    let images name =
        let source, shape, data = readNpzEntry path archive name
        source, toImages source shape data

    let labels name =
        let source, shape, data = readNpzEntry path archive name
        source, toLabels source shape data

    assemble (images "x_train.npy", labels "y_train.npy") (images "x_test.npy", labels "y_test.npy")

// ---------------------------------------------------------------------------------------------
// Finding the data: an explicit path, or the Keras cache folder.
// ---------------------------------------------------------------------------------------------

/// <summary>The Keras datasets cache folder: <c>$KERAS_HOME/datasets</c> if <c>KERAS_HOME</c> is set, else <c>~/.keras/datasets</c>.</summary>
/// <returns>The folder's path (it may not exist).</returns>
let cacheDir () : string =
    Path.Combine(Download.kerasHome (), "datasets")

/// True when a folder holds all four IDX files (training images whole or as parts).
let private hasIdxFiles (folder: string) : bool =
    let exists name = File.Exists(Path.Combine(folder, name))

    (exists TrainImagesFile || exists (TrainImagesFile + ".part-00"))
    && exists TrainLabelsFile
    && exists TestImagesFile
    && exists TestLabelsFile

/// <summary>The places <see cref="tryFind"/> looks at, in order of preference.</summary>
/// <param name="datasetsDir">A datasets folder such as <see cref="cacheDir"/>.</param>
/// <returns><c>datasetsDir/mnist.npz</c>, IDX files in <c>datasetsDir</c>, IDX files in <c>datasetsDir/mnist</c>.</returns>
let candidates (datasetsDir: string) : MnistSource list =
    [
        Npz(Path.Combine(datasetsDir, NpzFile))
        IdxFolder datasetsDir
        IdxFolder(Path.Combine(datasetsDir, "mnist"))
    ]

/// True when a candidate's files are all there.
let private isPresent (source: MnistSource) : bool =
    match source with
    | Npz path -> File.Exists path
    | IdxFolder folder -> hasIdxFiles folder

/// <summary>Looks for MNIST in a datasets folder; never touches the network.</summary>
/// <param name="datasetsDir">A datasets folder such as <see cref="cacheDir"/>.</param>
/// <returns>The first complete candidate (see <see cref="candidates"/>), or <c>None</c> — where a downloader can step in.</returns>
let tryFind (datasetsDir: string) : MnistSource option =
    candidates datasetsDir |> List.tryFind isPresent

/// <summary>Reads MNIST from a source found by <see cref="tryFind"/> (or built by hand).</summary>
/// <param name="source">An npz file or a folder of IDX files.</param>
/// <returns>The four arrays, validated.</returns>
let read (source: MnistSource) : MnistData =
    match source with
    | Npz path -> readNpz path
    | IdxFolder folder -> readIdxFolder folder

/// Explains everything that was looked at, so the user knows where to put the files.
let private notFound (datasetsDir: string) : exn =
    let looked =
        candidates datasetsDir
        |> List.map (function
            | Npz path -> $"  '{path}'"
            | IdxFolder folder ->
                let files = [ TrainImagesFile; TrainLabelsFile; TestImagesFile; TestLabelsFile ]

                let paths =
                    files
                    |> List.map (fun f -> $"'{Path.Combine(folder, f)}'")
                    |> String.concat ", "

                $"  {paths} (training images may be split into '{TrainImagesFile}.part-00', '.part-01', ...)")
        |> String.concat Environment.NewLine

    FileNotFoundException(
        $"MNIST not found in '{datasetsDir}' (datasets folder: $KERAS_HOME/datasets or ~/.keras/datasets). "
        + $"Looked for '{NpzFile}' (x_train.npy, y_train.npy, x_test.npy, y_test.npy) or all four IDX files:{Environment.NewLine}{looked}{Environment.NewLine}"
        + "Mnist.loadData () downloads mnist.npz into the cache; otherwise copy the files there, or call Mnist.loadDataFrom with their folder.",
        Path.Combine(datasetsDir, NpzFile)
    )

/// <summary>Loads MNIST from a datasets folder, looking at the places <see cref="candidates"/> lists.</summary>
/// <param name="datasetsDir">A datasets folder such as <see cref="cacheDir"/>; tests pass a temporary one.</param>
/// <returns>The four arrays, validated.</returns>
/// <exception cref="System.IO.FileNotFoundException">Nothing was found; the message lists every path looked at.</exception>
let loadIn (datasetsDir: string) : MnistData =
    match tryFind datasetsDir with
    | Some source -> read source
    | None -> raise (notFound datasetsDir)

/// <summary>Loads MNIST from a given path: an npz file, or a folder of the four IDX gzip files.</summary>
/// <param name="path">A <c>mnist.npz</c> file, or a folder with the IDX files (training images whole or as parts).</param>
/// <returns>The four arrays, validated.</returns>
/// <exception cref="System.IO.FileNotFoundException">The path or a file in the folder is missing.</exception>
/// <exception cref="System.IO.InvalidDataException">A file is corrupt or has the wrong shape, count or labels.</exception>
let loadFrom (path: string) : MnistData =
    if File.Exists path then
        readNpz path
    else
        readIdxFolder path

/// <summary>
/// Loads MNIST from the cache root's <c>datasets</c> folder, downloading <paramref name="origin"/> there as <c>mnist.npz</c>
/// first when neither <c>mnist.npz</c> nor the IDX files are present (see <see cref="candidates"/>).
/// </summary>
/// <param name="options">Download options; <c>CacheRoot</c> is the Keras home whose <c>datasets</c> subfolder is searched and filled.</param>
/// <param name="origin">The URL of an npz file (Keras's is <see cref="Origin"/>).</param>
/// <param name="fileHash">The npz file's expected SHA-256 (or MD5); <c>None</c> skips verification.</param>
/// <returns>The four arrays, validated.</returns>
/// <exception cref="Keras.Datasets.Download.DownloadException">The download failed; names the URL and path.</exception>
/// <exception cref="Keras.Datasets.Download.FileHashMismatchException">The downloaded file has the wrong hash; nothing was saved.</exception>
/// <exception cref="System.IO.InvalidDataException">A cached file is corrupt or has the wrong shape, count or labels.</exception>
let loadWith (options: Download.DownloadOptions) (origin: string) (fileHash: string option) : MnistData =
    let datasetsDir = Path.Combine(options.CacheRoot, "datasets")

    match tryFind datasetsDir with
    | Some source when not options.ForceDownload -> read source
    | _ -> Download.getFileWith options origin NpzFile "datasets" fileHash |> readNpz

/// <summary>Like <see cref="loadWith"/>, in the Keras tuple form.</summary>
/// <param name="options">Download options; <c>CacheRoot</c> is the Keras home whose <c>datasets</c> subfolder is used.</param>
/// <param name="origin">The URL of an npz file (Keras's is <see cref="Origin"/>).</param>
/// <param name="fileHash">The npz file's expected SHA-256 (or MD5); <c>None</c> skips verification.</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
let loadDataWith
    (options: Download.DownloadOptions)
    (origin: string)
    (fileHash: string option)
    : (byte[,,] * byte[]) * (byte[,,] * byte[]) =
    (loadWith options origin fileHash).AsTuple

/// <summary>
/// Loads MNIST from the Keras cache folder (<see cref="cacheDir"/>), like <c>keras.datasets.mnist.load_data()</c>:
/// when nothing is there, downloads Keras's <c>mnist.npz</c> from <see cref="Origin"/> and verifies its SHA-256.
/// </summary>
/// <returns>The four arrays, validated.</returns>
/// <exception cref="Keras.Datasets.Download.DownloadException">The download failed; names the URL and path.</exception>
/// <exception cref="Keras.Datasets.Download.FileHashMismatchException">The downloaded file has the wrong hash; nothing was saved.</exception>
let load () : MnistData =
    loadWith (Download.DownloadOptions.Default()) Origin (Some NpzSha256)

/// <summary>
/// Keras's <c>mnist.load_data()</c>: reads MNIST from the cache folder (<see cref="cacheDir"/>), downloading Keras's
/// <c>mnist.npz</c> there first when neither it nor the IDX files are present.
/// </summary>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>: images 60000 × 28 × 28 and 10000 × 28 × 28, labels 0–9.</returns>
/// <exception cref="Keras.Datasets.Download.DownloadException">The download failed; names the URL and path.</exception>
let loadData () : (byte[,,] * byte[]) * (byte[,,] * byte[]) = (load ()).AsTuple

/// <summary>Like <see cref="loadData"/> but searching the given datasets folder instead of the cache folder.</summary>
/// <param name="datasetsDir">The folder to search (for <c>mnist.npz</c>, the IDX files, or a <c>mnist/</c> subfolder with them).</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
/// <exception cref="System.IO.FileNotFoundException">Nothing was found; the message lists every path looked at.</exception>
let loadDataIn (datasetsDir: string) : (byte[,,] * byte[]) * (byte[,,] * byte[]) = (loadIn datasetsDir).AsTuple

/// <summary>Reads MNIST from a given path in the Keras tuple form.</summary>
/// <param name="path">A <c>mnist.npz</c> file, or a folder with the four IDX gzip files (training images whole or as parts).</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
/// <exception cref="System.IO.FileNotFoundException">The path or a file in the folder is missing.</exception>
/// <exception cref="System.IO.InvalidDataException">A file is corrupt or has the wrong shape, count or labels.</exception>
let loadDataFrom (path: string) : (byte[,,] * byte[]) * (byte[,,] * byte[]) = (loadFrom path).AsTuple
