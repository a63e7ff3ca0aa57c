/// Tests for the IDX reader and the MNIST loader: real MNIST from ../shared/data/mnist, plus small
/// synthetic IDX, gzip-part and npz files written to temporary folders for round trips and corrupt inputs.
module DatasetTests

open System
open System.IO
open System.IO.Compression
open System.Security.Cryptography
open System.Text
open Expecto
open Keras.Datasets

// ---------------------------------------------------------------------------------------------
// The real data: shared/data/mnist, found by TestData.sharedData.
// ---------------------------------------------------------------------------------------------

/// shared/data/mnist (the four IDX files, training images in parts).
let private mnistFolder: Lazy<string> = lazy (TestData.sharedData "mnist")

/// Full MNIST, read once for all tests that need it (DownloadTests too).
let realMnist: Lazy<Mnist.MnistData> = lazy (Mnist.loadFrom mnistFolder.Value)

// ---------------------------------------------------------------------------------------------
// Helpers: temporary folders, writers for IDX, gzip, npy and npz, and exception checks.
// The public ones are shared with DownloadTests.
// ---------------------------------------------------------------------------------------------

/// Runs `f` with a fresh temporary folder, deleted afterwards.
let withTempDir (f: string -> unit) : unit =
    let dir = Path.Combine(Path.GetTempPath(), $"keras-datasets-{Guid.NewGuid():N}")
    Directory.CreateDirectory dir |> ignore

    try
        f dir
    finally
        Directory.Delete(dir, true)

/// Big-endian int32, as IDX stores numbers.
let private bigEndian (v: int) : byte[] =
    [| byte (v >>> 24); byte (v >>> 16); byte (v >>> 8); byte v |]

/// An IDX file's bytes with an explicit magic number.
let private idxWithMagic (magic: int) (shape: int[]) (data: byte[]) : byte[] =
    Array.concat
        [
            yield bigEndian magic
            for d in shape do
                yield bigEndian d
            yield data
        ]

/// An unsigned-byte IDX file's bytes.
let private idxBytes (shape: int[]) (data: byte[]) : byte[] =
    idxWithMagic (Idx.uint8Magic shape.Length) shape data

/// Gzip-compresses bytes.
let private gzip (bytes: byte[]) : byte[] =
    use output = new MemoryStream()

    (use z = new GZipStream(output, CompressionLevel.Fastest, true)
     z.Write(bytes, 0, bytes.Length))

    output.ToArray()

/// Deterministic synthetic pixels for `n` images.
let private pixels (n: int) (seed: int) : byte[] =
    Array.init (n * 28 * 28) (fun k -> byte ((k * 31 + seed) % 256))

/// Deterministic synthetic labels 0-9.
let private labels (n: int) (seed: int) : byte[] =
    Array.init n (fun i -> byte ((i + seed) % 10))

/// A .npy file's bytes (version 1, 2 or 3) for a uint8 array; header padded to a multiple of 64 like NumPy.
let npyBytes (version: int) (descr: string) (fortran: bool) (shape: int[]) (data: byte[]) : byte[] =
    let dims =
        if shape.Length = 1 then
            $"{shape[0]},"
        else
            String.Join(", ", shape)

    let dict =
        $"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': ({dims}), }}"

    let lengthBytes = if version = 1 then 2 else 4
    let prefix = 6 + 2 + lengthBytes

    let padded =
        dict.PadRight(((prefix + dict.Length + 1 + 63) / 64) * 64 - prefix - 1) + "\n"

    let header = Encoding.ASCII.GetBytes padded

    let length =
        if version = 1 then
            BitConverter.GetBytes(uint16 header.Length)
        else
            BitConverter.GetBytes header.Length

    Array.concat
        [
            [| 0x93uy |]
            Encoding.ASCII.GetBytes "NUMPY"
            [| byte version; 0uy |]
            length
            header
            data
        ]

/// A .npy file's bytes for a standard uint8 C-order array.
let npy (version: int) (shape: int[]) (data: byte[]) : byte[] = npyBytes version "|u1" false shape data

/// Writes a zip (npz) of named entries, deflated like np.savez_compressed.
let writeNpz (path: string) (entries: (string * byte[]) list) : unit =
    use archive = ZipFile.Open(path, ZipArchiveMode.Create)

    for name, bytes in entries do
        use s = archive.CreateEntry(name, CompressionLevel.Fastest).Open()
        s.Write(bytes, 0, bytes.Length)

/// The four entries of a valid small mnist.npz, using every npy version.
let private npzEntries (nTrain: int) (nTest: int) : (string * byte[]) list =
    [
        "x_train.npy", npy 1 [| nTrain; 28; 28 |] (pixels nTrain 1)
        "y_train.npy", npy 2 [| nTrain |] (labels nTrain 2)
        "x_test.npy", npy 3 [| nTest; 28; 28 |] (pixels nTest 3)
        "y_test.npy", npy 1 [| nTest |] (labels nTest 4)
    ]

/// Writes the four IDX gzip files; the training images as `parts` part files when parts > 1.
let private writeIdxFolder (folder: string) (nTrain: int) (nTest: int) (parts: int) : unit =
    Directory.CreateDirectory folder |> ignore

    let write name (bytes: byte[]) =
        File.WriteAllBytes(Path.Combine(folder, name), bytes)

    let trainImages = gzip (idxBytes [| nTrain; 28; 28 |] (pixels nTrain 1))

    if parts <= 1 then
        write Mnist.TrainImagesFile trainImages
    else
        // Cut the gzip bytes anywhere: the parts only make sense joined, which is what the reader must do.
        let size = (trainImages.Length + parts - 1) / parts

        trainImages
        |> Array.chunkBySize size
        |> Array.iteri (fun i chunk -> write $"{Mnist.TrainImagesFile}.part-%02d{i}" chunk)

    write Mnist.TrainLabelsFile (gzip (idxBytes [| nTrain |] (labels nTrain 2)))
    write Mnist.TestImagesFile (gzip (idxBytes [| nTest; 28; 28 |] (pixels nTest 3)))
    write Mnist.TestLabelsFile (gzip (idxBytes [| nTest |] (labels nTest 4)))

/// Flattens a 3-D byte array in C order.
let flatten (images: byte[,,]) : byte[] =
    let flat = Array.zeroCreate images.Length
    Buffer.BlockCopy(images, 0, flat, 0, flat.Length)
    flat

/// Checks `f` raises exactly the exception type `expected` and that its message contains every fragment.
let expectErrorOf (expected: Type) (fragments: string list) (f: unit -> unit) : unit =
    let raised =
        try
            f ()
            None
        with e ->
            Some e

    match raised with
    | Some e when e.GetType() = expected ->
        for fragment in fragments do
            Expect.stringContains e.Message fragment $"the {expected.Name} message names '{fragment}'"
    | Some e -> failtestf "expected %s, got %s: %s" expected.Name (e.GetType().Name) e.Message
    | None -> failtestf "expected %s, nothing was raised" expected.Name

/// Checks `f` raises InvalidDataException whose message contains every fragment.
let private invalidData (fragments: string list) (f: unit -> 'a) : unit =
    expectErrorOf typeof<InvalidDataException> fragments (fun () -> f () |> ignore)

/// Checks `f` raises FileNotFoundException whose message contains every fragment.
let private fileNotFound (fragments: string list) (f: unit -> 'a) : unit =
    expectErrorOf typeof<FileNotFoundException> fragments (fun () -> f () |> ignore)

/// MD5 of a stream, as lowercase hex.
let private md5Hex (stream: Stream) : string =
    MD5.HashData(stream) |> Convert.ToHexString |> fun s -> s.ToLowerInvariant()

/// MD5 of the canonical decompressed train-images-idx3-ubyte (README of shared/data).
[<Literal>]
let private TrainImagesMd5 = "6bbc9ace898e44ae57da46a324031adb"

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

let private realTests =
    testList
        "real MNIST"
        [
            test "shapes are 60000x28x28 and 10000x28x28" {
                let d = realMnist.Value

                Expect.equal
                    [ Array3D.length1 d.XTrain; Array3D.length2 d.XTrain; Array3D.length3 d.XTrain ]
                    [ 60000; 28; 28 ]
                    "xTrain"

                Expect.equal
                    [ Array3D.length1 d.XTest; Array3D.length2 d.XTest; Array3D.length3 d.XTest ]
                    [ 10000; 28; 28 ]
                    "xTest"

                Expect.equal d.YTrain.Length 60000 "yTrain"
                Expect.equal d.YTest.Length 10000 "yTest"
            }

            test "first labels are 5 (train) and 7 (test)" {
                let (_, yTrain), (_, yTest) = realMnist.Value.AsTuple
                Expect.equal yTrain[0] 5uy "first training label"
                Expect.equal yTest[0] 7uy "first test label"
            }

            test "label histograms sum to the counts and match the published class counts" {
                let d = realMnist.Value

                let histogram (ys: byte[]) =
                    Array.init 10 (fun k -> ys |> Array.filter (fun y -> int y = k) |> Array.length)

                let train = histogram d.YTrain
                let test = histogram d.YTest
                Expect.equal (Array.sum train) 60000 "training histogram sum"
                Expect.equal (Array.sum test) 10000 "test histogram sum"

                Expect.equal
                    train
                    [| 5923; 6742; 5958; 6131; 5842; 5421; 5918; 6265; 5851; 5949 |]
                    "training class counts"

                Expect.equal test [| 980; 1135; 1032; 1010; 982; 892; 958; 1028; 974; 1009 |] "test class counts"
            }

            test "decompressed training-image parts have the canonical md5" {
                let parts = Idx.partsOf (Path.Combine(mnistFolder.Value, Mnist.TrainImagesFile))
                Expect.equal parts.Length 4 "four parts"
                use stream = Idx.openGzipParts parts
                Expect.equal (md5Hex stream) TrainImagesMd5 "md5 of train-images-idx3-ubyte"
            }

            test "loaded training images re-encode to the canonical IDX bytes" {
                // Header + pixels rebuilt from xTrain: proves the 3-D layout keeps IDX's C order exactly.
                let xTrain = realMnist.Value.XTrain
                let bytes = idxBytes [| 60000; 28; 28 |] (flatten xTrain)
                Expect.equal bytes.Length 47_040_016 "IDX size"
                use stream = new MemoryStream(bytes)
                Expect.equal (md5Hex stream) TrainImagesMd5 "md5 of re-encoded xTrain"
            }

            test "tryFind accepts the shared folder as an IDX folder" {
                Expect.equal (Mnist.tryFind mnistFolder.Value) (Some(Mnist.IdxFolder mnistFolder.Value)) "found"
            }
        ]

let private idxTests =
    testList
        "Idx"
        [
            test "reads shape and data of any rank" {
                let data = [| 1uy .. 24uy |]
                use stream = new MemoryStream(idxBytes [| 2; 3; 4 |] data)
                let array = Idx.read "mem" stream
                Expect.equal array.Shape [| 2; 3; 4 |] "shape"
                Expect.equal array.Data data "data"
            }

            test "parts stream through one decoder, including a one-byte part" {
                withTempDir (fun dir ->
                    let content = idxBytes [| 5; 28; 28 |] (pixels 5 9)
                    let whole = gzip content

                    let cuts =
                        [ whole[..0]; whole[1 .. whole.Length / 2]; whole[whole.Length / 2 + 1 ..] ]

                    let path = Path.Combine(dir, "x.gz")
                    cuts |> List.iteri (fun i c -> File.WriteAllBytes($"{path}.part-%02d{i}", c))
                    let parts = Idx.partsOf path
                    Expect.equal parts [ for i in 0..2 -> $"{path}.part-%02d{i}" ] "parts in order"
                    let array = Idx.readGzipParts parts
                    Expect.equal array.Shape [| 5; 28; 28 |] "shape"
                    Expect.equal (idxBytes array.Shape array.Data) content "content")
            }

            test "wrong magic names expected and found values and the path" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "y.gz")
                    File.WriteAllBytes(path, gzip (idxWithMagic 1234 [| 1 |] [| 0uy |]))

                    invalidData [ "expected IDX magic 2051 for images"; path; "found 1234" ] (fun () ->
                        let source, stream = Idx.openGzipOrParts path
                        use stream = stream
                        Idx.readExpecting 2051 "images" source stream))
            }

            test "non-IDX bytes and unsupported element types are rejected" {
                withTempDir (fun dir ->
                    let notIdx = Path.Combine(dir, "a.gz")
                    File.WriteAllBytes(notIdx, gzip (Encoding.ASCII.GetBytes "hello world"))
                    invalidData [ "not an IDX file"; notIdx ] (fun () -> Idx.readGzip notIdx)
                    let floats = Path.Combine(dir, "f.gz")
                    File.WriteAllBytes(floats, gzip (idxWithMagic 0x0D01 [| 1 |] [| 0uy; 0uy; 0uy; 0uy |]))
                    invalidData [ "0x0D"; floats; "0x08" ] (fun () -> Idx.readGzip floats))
            }

            test "truncated IDX data names the path and the byte counts" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "t.gz")
                    let content = idxBytes [| 2; 28; 28 |] (pixels 2 0)
                    File.WriteAllBytes(path, gzip content[.. content.Length - 11])
                    invalidData [ "truncated"; path; "expected 1568"; "found 1558" ] (fun () -> Idx.readGzip path))
            }

            test "truncated gzip file names the path" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "cut.gz")
                    let whole = gzip (idxBytes [| 50; 28; 28 |] (pixels 50 5))
                    File.WriteAllBytes(path, whole[.. whole.Length / 2])
                    invalidData [ path ] (fun () -> Idx.readGzip path))
            }

            test "data beyond the declared shape is rejected" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "long.gz")
                    File.WriteAllBytes(path, gzip (Array.append (idxBytes [| 3 |] [| 1uy; 2uy; 3uy |]) [| 4uy |]))
                    invalidData [ path; "more data" ] (fun () -> Idx.readGzip path))
            }

            test "a non-gzip file names the path and the bytes found" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "plain.gz")
                    File.WriteAllBytes(path, idxBytes [| 1 |] [| 7uy |])
                    invalidData [ "expected gzip data"; path; "00 00" ] (fun () -> Idx.readGzip path)
                    let empty = Path.Combine(dir, "empty.gz")
                    File.WriteAllBytes(empty, [||])
                    invalidData [ empty; "empty" ] (fun () -> Idx.readGzip empty))
            }

            test "missing files and parts raise FileNotFoundException with the path" {
                withTempDir (fun dir ->
                    let path = Path.Combine(dir, "none.gz")
                    fileNotFound [ path ] (fun () -> Idx.readGzip path)
                    fileNotFound [ path + ".part-00" ] (fun () -> Idx.openGzipOrParts path)
                    fileNotFound [ path + ".part-01" ] (fun () -> Idx.readGzipParts [ path + ".part-01" ]))
            }
        ]

let private mnistTests =
    testList
        "Mnist"
        [
            test "npz round trip through loadDataIn (npy v1, v2, v3)" {
                withTempDir (fun dir ->
                    writeNpz (Path.Combine(dir, Mnist.NpzFile)) (npzEntries 3 2)
                    let (xTrain, yTrain), (xTest, yTest) = Mnist.loadDataIn dir

                    Expect.equal
                        [ Array3D.length1 xTrain; Array3D.length2 xTrain; Array3D.length3 xTrain ]
                        [ 3; 28; 28 ]
                        "xTrain shape"

                    Expect.equal (Array3D.length1 xTest) 2 "xTest count"
                    Expect.equal (flatten xTrain) (pixels 3 1) "xTrain pixels"
                    let expected = pixels 3 1
                    Expect.equal xTrain[2, 5, 7] expected[2 * 784 + 5 * 28 + 7] "C order"
                    Expect.equal yTrain (labels 3 2) "yTrain"
                    Expect.equal (flatten xTest) (pixels 2 3) "xTest pixels"
                    Expect.equal yTest (labels 2 4) "yTest")
            }

            test "IDX files in a mnist/ subfolder, training images as parts" {
                withTempDir (fun dir ->
                    writeIdxFolder (Path.Combine(dir, "mnist")) 4 3 3

                    Expect.equal
                        (Mnist.tryFind dir)
                        (Some(Mnist.IdxFolder(Path.Combine(dir, "mnist"))))
                        "found in mnist/"

                    let d = Mnist.loadIn dir
                    Expect.equal (flatten d.XTrain) (pixels 4 1) "xTrain"
                    Expect.equal d.YTrain (labels 4 2) "yTrain"
                    Expect.equal (flatten d.XTest) (pixels 3 3) "xTest"
                    Expect.equal d.YTest (labels 3 4) "yTest")
            }

            test "mnist.npz is preferred over IDX files and loadDataFrom reads an npz path" {
                withTempDir (fun dir ->
                    writeIdxFolder dir 4 3 1
                    let npz = Path.Combine(dir, Mnist.NpzFile)
                    writeNpz npz (npzEntries 3 2)
                    Expect.equal (Mnist.tryFind dir) (Some(Mnist.Npz npz)) "npz first"
                    let (xTrain, _), _ = Mnist.loadDataFrom npz
                    Expect.equal (Array3D.length1 xTrain) 3 "from npz"
                    let (xTrain, _), _ = Mnist.loadDataFrom dir
                    Expect.equal (Array3D.length1 xTrain) 4 "from the IDX folder")
            }

            test "nothing found lists every path looked at" {
                withTempDir (fun dir ->
                    Expect.isNone (Mnist.tryFind dir) "empty folder"

                    fileNotFound
                        [
                            Path.Combine(dir, "mnist.npz")
                            Path.Combine(dir, Mnist.TrainImagesFile)
                            Path.Combine(dir, "mnist", Mnist.TestLabelsFile)
                            "part-00"
                        ]
                        (fun () -> Mnist.loadDataIn dir))
            }

            test "a missing folder or file raises FileNotFoundException naming it" {
                withTempDir (fun dir ->
                    let missing = Path.Combine(dir, "nope")
                    fileNotFound [ missing ] (fun () -> Mnist.loadDataFrom missing)
                    fileNotFound [ missing ] (fun () -> Mnist.loadDataIn missing)
                    writeIdxFolder dir 2 2 1
                    File.Delete(Path.Combine(dir, Mnist.TestLabelsFile))
                    fileNotFound [ Path.Combine(dir, Mnist.TestLabelsFile) ] (fun () -> Mnist.loadDataFrom dir))
            }

            test "labels given as images: magic 2051 expected, 2049 found" {
                withTempDir (fun dir ->
                    writeIdxFolder dir 2 2 1
                    let images = Path.Combine(dir, Mnist.TestImagesFile)
                    File.Copy(Path.Combine(dir, Mnist.TestLabelsFile), images, true)

                    invalidData [ "expected IDX magic 2051 for images"; images; "found 2049" ] (fun () ->
                        Mnist.loadDataFrom dir))
            }

            test "count mismatch, bad image size and bad labels name the files" {
                withTempDir (fun dir ->
                    writeIdxFolder dir 3 2 1

                    let write name (bytes: byte[]) =
                        File.WriteAllBytes(Path.Combine(dir, name), gzip bytes)

                    let labelsPath = Path.Combine(dir, Mnist.TrainLabelsFile)
                    write Mnist.TrainLabelsFile (idxBytes [| 2 |] [| 1uy; 2uy |])

                    invalidData
                        [ Path.Combine(dir, Mnist.TrainImagesFile); labelsPath; "3 images"; "2 labels" ]
                        (fun () -> Mnist.loadDataFrom dir)

                    write Mnist.TrainLabelsFile (idxBytes [| 3 |] [| 1uy; 10uy; 2uy |])
                    invalidData [ labelsPath; "label 10 at index 1" ] (fun () -> Mnist.loadDataFrom dir)
                    write Mnist.TrainLabelsFile (idxBytes [| 3 |] (labels 3 0))
                    write Mnist.TestImagesFile (idxBytes [| 2; 28; 27 |] (Array.zeroCreate (2 * 28 * 27)))

                    invalidData [ Path.Combine(dir, Mnist.TestImagesFile); "(2, 28, 27)" ] (fun () ->
                        Mnist.loadDataFrom dir))
            }

            test "bad npz contents name the file and entry" {
                withTempDir (fun dir ->
                    let npz = Path.Combine(dir, Mnist.NpzFile)

                    let replace name bytes =
                        npzEntries 3 2 |> List.map (fun (n, b) -> if n = name then n, bytes else n, b)

                    let check entries fragments =
                        File.Delete npz
                        writeNpz npz entries
                        invalidData (npz :: fragments) (fun () -> Mnist.loadDataFrom npz)

                    check
                        (replace "x_test.npy" (npyBytes 1 "|u1" true [| 2; 28; 28 |] (pixels 2 0)))
                        [ "x_test.npy"; "fortran_order" ]

                    check
                        (replace "y_train.npy" (npyBytes 1 "<i8" false [| 3 |] (Array.zeroCreate 24)))
                        [ "y_train.npy"; "<i8" ]

                    check (replace "x_train.npy" (npy 1 [| 3; 28; 28 |] (pixels 2 0))) [ "x_train.npy"; "truncated" ]
                    check (replace "y_test.npy" (Encoding.ASCII.GetBytes "not numpy")) [ "y_test.npy"; "NUMPY" ]

                    check
                        (npzEntries 3 2 |> List.filter (fun (n, _) -> n <> "y_test.npy"))
                        [ "y_test.npy"; "x_train.npy" ]

                    File.WriteAllText(npz, "not a zip")
                    invalidData [ npz; "zip" ] (fun () -> Mnist.loadDataFrom npz))
            }

            test "cacheDir follows KERAS_HOME, else ~/.keras" {
                // The only test that touches the environment; restored whatever happens.
                let saved = Environment.GetEnvironmentVariable "KERAS_HOME"

                try
                    Environment.SetEnvironmentVariable("KERAS_HOME", "/some/keras home")
                    Expect.equal (Mnist.cacheDir ()) (Path.Combine("/some/keras home", "datasets")) "KERAS_HOME"
                    Environment.SetEnvironmentVariable("KERAS_HOME", null)
                    let home = Environment.GetFolderPath Environment.SpecialFolder.UserProfile
                    Expect.equal (Mnist.cacheDir ()) (Path.Combine(home, ".keras", "datasets")) "default"
                    Expect.equal (Download.kerasHome ()) (Path.Combine(home, ".keras")) "Keras home by default"

                    Expect.equal
                        (Download.DownloadOptions.Default().CacheRoot)
                        (Path.Combine(home, ".keras"))
                        "default cache root"

                    Environment.SetEnvironmentVariable("KERAS_HOME", "/some/keras home")
                    Expect.equal (Download.kerasHome ()) "/some/keras home" "Keras home from KERAS_HOME"
                finally
                    Environment.SetEnvironmentVariable("KERAS_HOME", saved)
            }
        ]

/// All dataset tests.
[<Tests>]
let tests = testList "Datasets" [ realTests; idxTests; mnistTests ]
