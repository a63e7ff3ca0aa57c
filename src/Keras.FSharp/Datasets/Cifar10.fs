/// <summary>
/// CIFAR-10 (60000 colour images 32 × 32 in 10 classes), with Keras's <c>keras.datasets.cifar10.load_data()</c> layout:
/// images channels-last <c>(count, 32, 32, 3)</c> bytes, labels 0–9.
/// </summary>
/// <remarks>
/// Reads the dataset authors' <em>binary</em> version (<c>cifar-10-batches-bin/data_batch_1.bin</c> … <c>data_batch_5.bin</c>,
/// <c>test_batch.bin</c>), not the Python pickles Keras reads: each record is 1 label byte then 3072 pixel bytes —
/// 1024 red, 1024 green, 1024 blue, each a 32 × 32 plane in row-major order. Same images, same order as Keras.
/// Keras returns labels with shape <c>(count, 1)</c>; here they are a flat <c>byte[]</c> (use <see cref="yAs2D"/> for the Keras shape).
/// </remarks>
module Keras.Datasets.Cifar10

open System
open System.IO

/// <summary>CIFAR-10 as four arrays, named like Keras's variables.</summary>
type Cifar10Data =
    {
        /// <summary>Training images, 50000 × 32 × 32 × 3 (channels last) for the real set; pixels 0–255.</summary>
        XTrain: byte[,,,]
        /// <summary>Training labels 0–9, one per training image.</summary>
        YTrain: byte[]
        /// <summary>Test images, 10000 × 32 × 32 × 3 for the real set.</summary>
        XTest: byte[,,,]
        /// <summary>Test labels 0–9, one per test image.</summary>
        YTest: byte[]
    }

    /// <summary>The Keras tuple form <c>(xTrain, yTrain), (xTest, yTest)</c>.</summary>
    member this.AsTuple: (byte[,,,] * byte[]) * (byte[,,,] * byte[]) =
        (this.XTrain, this.YTrain), (this.XTest, this.YTest)

/// <summary>Image height and width in pixels.</summary>
[<Literal>]
let ImageSize = 32

/// <summary>Colour channels (red, green, blue).</summary>
[<Literal>]
let Channels = 3

/// <summary>Bytes per record in a binary batch file: 1 label byte and 32 × 32 × 3 pixel bytes.</summary>
[<Literal>]
let RecordSize = 3073

/// <summary>The number of classes.</summary>
[<Literal>]
let NumClasses = 10

/// <summary>The folder the binary archive extracts to, and that the cache holds.</summary>
[<Literal>]
let BatchFolder = "cifar-10-batches-bin"

/// <summary>The binary archive's file name.</summary>
[<Literal>]
let ArchiveFile = "cifar-10-binary.tar.gz"

/// <summary>The dataset authors' URL of the binary archive.</summary>
[<Literal>]
let Origin = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

/// <summary>The MD5 the dataset authors publish for the binary archive.</summary>
[<Literal>]
let ArchiveMd5 = "c32a1d4ab5d03f1284b67883e8d87530"

/// <summary>The training batch files, in the order their records are concatenated.</summary>
let TrainBatchFiles: string list = [ for i in 1..5 -> $"data_batch_{i}.bin" ]

/// <summary>The test batch file.</summary>
[<Literal>]
let TestBatchFile = "test_batch.bin"

/// <summary>The class names, indexed by label.</summary>
let classNames: string[] =
    [|
        "airplane"
        "automobile"
        "bird"
        "cat"
        "deer"
        "dog"
        "frog"
        "horse"
        "ship"
        "truck"
    |]

/// <summary>Labels in Keras's shape <c>(count, 1)</c>.</summary>
/// <param name="labels">Labels as returned here.</param>
/// <returns>A <c>count × 1</c> array.</returns>
let yAs2D (labels: byte[]) : byte[,] =
    Array2D.init labels.Length 1 (fun i _ -> labels[i])

/// Converts records (label byte + planar RGB) to channels-last images and labels; `source` names the file in errors.
let private decode (source: string) (bytes: byte[]) : byte[,,,] * byte[] =
    if bytes.Length = 0 || bytes.Length % RecordSize <> 0 then
        raise (
            InvalidDataException(
                $"expected a whole number of {RecordSize}-byte records (1 label byte + 3072 pixel bytes) in '{source}', "
                + $"found {bytes.Length} bytes ({bytes.Length / RecordSize} records and {bytes.Length % RecordSize} bytes left over)"
            )
        )

    let n = bytes.Length / RecordSize
    let plane = ImageSize * ImageSize
    let labels = Array.init n (fun r -> bytes[r * RecordSize])

    match labels |> Array.tryFindIndex (fun y -> int y >= NumClasses) with
    | Some r -> raise (InvalidDataException($"label {labels[r]} of record {r} in '{source}' is not a class 0-9"))
    | None -> ()

    // Planar (c, i, j) to interleaved (i, j, c): pixel k of channel c goes to k * 3 + c.
    let flat = Array.zeroCreate<byte>(n * plane * Channels)

    for r in 0 .. n - 1 do
        let src = r * RecordSize + 1
        let dst = r * plane * Channels

        for c in 0 .. Channels - 1 do
            let channel = src + c * plane

            for k in 0 .. plane - 1 do
                flat[dst + k * Channels + c] <- bytes[channel + k]

    let images = Array4D.zeroCreate n ImageSize ImageSize Channels
    Buffer.BlockCopy(flat, 0, images, 0, flat.Length)
    images, labels

/// <summary>Reads one binary batch file (any number of records).</summary>
/// <param name="path">A file such as <c>data_batch_1.bin</c>.</param>
/// <returns>Images <c>(count, 32, 32, 3)</c> channels-last, and labels.</returns>
/// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">The size is not a whole number of 3073-byte records, or a label is not 0–9.</exception>
let readBatch (path: string) : byte[,,,] * byte[] =
    if not (File.Exists path) then
        raise (FileNotFoundException($"CIFAR-10 batch not found: '{path}'", path))

    decode path (File.ReadAllBytes path)

/// Concatenates batches along the first axis.
let private concat (batches: (byte[,,,] * byte[]) list) : byte[,,,] * byte[] =
    match batches with
    | [ single ] -> single
    | _ ->
        let n = batches |> List.sumBy (fun (_, y) -> y.Length)
        let images = Array4D.zeroCreate n ImageSize ImageSize Channels
        let mutable offset = 0

        for x, _ in batches do
            Buffer.BlockCopy(x, 0, images, offset, x.Length)
            offset <- offset + x.Length

        images, batches |> List.map snd |> Array.concat

/// The folder holding the batch files: the given one, or its cifar-10-batches-bin subfolder.
let private batchFolderOf (folder: string) : string =
    let nested = Path.Combine(folder, BatchFolder)

    if
        Directory.Exists nested
        && not (File.Exists(Path.Combine(folder, TestBatchFile)))
    then
        nested
    else
        folder

/// The six batch files missing from a folder.
let private missingBatches (folder: string) : string list =
    TestBatchFile :: TrainBatchFiles
    |> List.map (fun f -> Path.Combine(folder, f))
    |> List.filter (File.Exists >> not)

/// <summary>Reads the six binary batches from a folder.</summary>
/// <param name="folder">A <c>cifar-10-batches-bin</c> folder, or a folder containing one.</param>
/// <returns>The four arrays: training from <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> in order, test from <c>test_batch.bin</c>.</returns>
/// <exception cref="System.IO.FileNotFoundException">A batch file is missing; the message lists all missing ones.</exception>
/// <exception cref="System.IO.InvalidDataException">A batch has a wrong size or label; names the file.</exception>
let loadFrom (folder: string) : Cifar10Data =
    let batches = batchFolderOf folder

    match missingBatches batches with
    | [] -> ()
    | missing ->
        let names = missing |> List.map (fun p -> $"'{p}'") |> String.concat ", "
        let expected = String.concat ", " TrainBatchFiles

        raise (
            FileNotFoundException(
                $"CIFAR-10 batch files missing: {names}. Expected {expected} and {TestBatchFile} "
                + $"(the binary version, '{ArchiveFile}') in '{batches}'.",
                List.head missing
            )
        )

    let xTrain, yTrain =
        TrainBatchFiles
        |> List.map (fun f -> readBatch (Path.Combine(batches, f)))
        |> concat

    let xTest, yTest = readBatch (Path.Combine(batches, TestBatchFile))

    {
        XTrain = xTrain
        YTrain = yTrain
        XTest = xTest
        YTest = yTest
    }

/// <summary>Reads the six binary batches from a folder, in the Keras tuple form.</summary>
/// <param name="folder">A <c>cifar-10-batches-bin</c> folder, or a folder containing one.</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
let loadDataFrom (folder: string) : (byte[,,,] * byte[]) * (byte[,,,] * byte[]) = (loadFrom folder).AsTuple

/// <summary>
/// Loads CIFAR-10 from the cache root's <c>datasets/cifar-10-batches-bin</c>, first downloading the binary archive from
/// <paramref name="origin"/> (kept as <c>datasets/cifar-10-binary.tar.gz</c>) and extracting it when a batch is missing.
/// </summary>
/// <param name="options">Download options; <c>CacheRoot</c> is the Keras home whose <c>datasets</c> subfolder is used.</param>
/// <param name="origin">The URL of a <c>.tar.gz</c> holding <c>cifar-10-batches-bin/</c> (the authors' is <see cref="Origin"/>).</param>
/// <param name="fileHash">The archive's expected SHA-256 or MD5; <c>None</c> skips verification.</param>
/// <returns>The four arrays.</returns>
/// <remarks>
/// The archive is extracted into a temporary folder beside the cache folder, and its <c>cifar-10-batches-bin</c> replaces
/// an incomplete cached one only when it holds all six batches.
/// </remarks>
/// <exception cref="Keras.Datasets.Download.DownloadException">The download failed; names the URL and path.</exception>
/// <exception cref="Keras.Datasets.Download.FileHashMismatchException">The archive has the wrong hash; nothing was saved.</exception>
/// <exception cref="System.IO.InvalidDataException">The archive is corrupt or lacks batch files; names the archive.</exception>
let loadWith (options: Download.DownloadOptions) (origin: string) (fileHash: string option) : Cifar10Data =
    let datasets = Path.Combine(options.CacheRoot, "datasets")
    let folder = Path.Combine(datasets, BatchFolder)

    if options.ForceDownload || not (List.isEmpty (missingBatches folder)) then
        let archive = Download.getFileWith options origin ArchiveFile "datasets" fileHash
        let staging = Path.Combine(datasets, $".cifar-10-extract-{Guid.NewGuid():N}")

        try
            Download.extractTarGz archive staging
            let extracted = Path.Combine(staging, BatchFolder)

            match missingBatches extracted with
            | [] -> ()
            | missing ->
                let names = missing |> List.map Path.GetFileName |> String.concat ", "

                raise (
                    InvalidDataException(
                        $"the archive '{archive}' (from '{origin}') lacks {BatchFolder}/ files: {names}"
                    )
                )

            if Directory.Exists folder then
                Directory.Delete(folder, true)

            Directory.Move(extracted, folder)
        finally
            if Directory.Exists staging then
                Directory.Delete(staging, true)

    loadFrom folder

/// <summary>Like <see cref="loadWith"/>, in the Keras tuple form.</summary>
/// <param name="options">Download options; <c>CacheRoot</c> is the Keras home whose <c>datasets</c> subfolder is used.</param>
/// <param name="origin">The URL of the binary archive.</param>
/// <param name="fileHash">The archive's expected SHA-256 or MD5; <c>None</c> skips verification.</param>
/// <returns><c>(xTrain, yTrain), (xTest, yTest)</c>.</returns>
let loadDataWith
    (options: Download.DownloadOptions)
    (origin: string)
    (fileHash: string option)
    : (byte[,,,] * byte[]) * (byte[,,,] * byte[]) =
    (loadWith options origin fileHash).AsTuple

/// <summary>
/// Loads CIFAR-10 from the Keras cache (<c>$KERAS_HOME/datasets/cifar-10-batches-bin</c> or <c>~/.keras/…</c>), downloading
/// the authors' binary archive (162 MB, MD5-verified) and extracting it first when a batch is missing.
/// </summary>
/// <returns>The four arrays: 50000 and 10000 images 32 × 32 × 3.</returns>
let load () : Cifar10Data =
    loadWith (Download.DownloadOptions.Default()) Origin (Some ArchiveMd5)

/// <summary>Keras's <c>cifar10.load_data()</c>: <c>(xTrain, yTrain), (xTest, yTest)</c>, downloading into the cache when needed.</summary>
/// <returns>Images <c>(count, 32, 32, 3)</c> channels-last and labels 0–9 (flat; Keras's are <c>(count, 1)</c>, see <see cref="yAs2D"/>).</returns>
let loadData () : (byte[,,,] * byte[]) * (byte[,,,] * byte[]) = (load ()).AsTuple
