/// Loading hostile or damaged weights files (issue 8, part 2) and the durability of saving (part 4): crafted files —
/// HDF5 link cycles and self links, zip bombs, duplicate members, bad CRCs, truncations — are made here, and a property
/// mutates valid files, Keras-written and library-written, at random.
module HostileFileTests

open System
open System.IO
open System.IO.Compression
open System.Runtime.ExceptionServices
open System.Runtime.InteropServices
open System.Text
open System.Threading.Tasks
open Expecto
open FsCheck
open FsCheck.FSharp
open PureHDF
open TorchSharp
open Keras
open Keras.Operators
open TestData

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// The message of the KerasException the action raises; the test fails on success or on another exception type.
let private message (f: unit -> unit) = snd (kerasError f)

let private expectContains (text: string) (parts: string list) =
    for p in parts do
        Expect.stringContains text p $"the message names {p}"

/// Input(4) → Dense(3) → Dense(2), with random weights.
let private smallModel () =
    let input = Keras.Input(shape = [ 4 ])

    let model =
        Keras.Model(input, input --> Layers.Dense(3, activation = "relu") --> Layers.Dense(2))

    use _ = torch.no_grad ()

    for w in Model.weights model do
        w.Value.copy_ (torch.rand(w.Value.shape).mul(torch.tensor 2.0f).sub(torch.tensor 1.0f))
        |> ignore

    model

/// The MLP of mnist_mlp_keras2.h5.
let private mnistMlp () =
    let input = Keras.Input(shape = [ 28; 28 ])

    let output =
        input
        --> Layers.Flatten(name = "flatten_3")
        --> Layers.Dense(128, activation = "relu", name = "dense_6")
        --> Layers.Dense(10, activation = "softmax", name = "dense_7")

    Keras.Model(input, output)

/// A zip with the given members, in order (duplicates allowed), stored uncompressed unless a level is given.
let private writeZip (path: string) (level: CompressionLevel) (members: (string * byte[]) list) =
    use zip = ZipFile.Open(path, ZipArchiveMode.Create)

    for name, bytes in members do
        let entry = zip.CreateEntry(name, level)
        use s = entry.Open()
        s.Write(bytes, 0, bytes.Length)

/// A `.keras` archive holding the given weights file bytes.
let private kerasArchive (path: string) (weights: byte[]) =
    writeZip
        path
        CompressionLevel.NoCompression
        [
            "metadata.json", Encoding.UTF8.GetBytes "{\"keras_version\": \"3.1.1\"}"
            "config.json", Encoding.UTF8.GetBytes "{}"
            "model.weights.h5", weights
        ]

/// Copies an HDF5 file's groups and datasets into a new file, converting each dataset with <paramref name="convert"/>
/// and letting <paramref name="extend"/> add objects to the root before writing.
let private rebuild (source: string) (target: string) (convert: IH5Dataset -> obj) (extend: H5File -> unit) =
    let file = H5File()

    do
        use src = H5File.OpenRead source

        let rec copy (from: IH5Group) (into: H5Group) =
            for c in from.Children() do
                match c with
                | :? IH5Group as g ->
                    let sub = H5Group()
                    into[c.Name] <- sub
                    copy g sub
                | :? IH5Dataset as d -> into[c.Name] <- convert d
                | _ -> ()

        copy src file

    extend file
    file.Write target

let private asFloat32 (d: IH5Dataset) : obj =
    H5Dataset(d.Read<float32[]>(), fileDims = d.Space.Dimensions)

let private indexOf (bytes: byte[]) (pattern: byte[]) =
    let span = ReadOnlySpan<byte> bytes
    span.IndexOf(ReadOnlySpan<byte> pattern)

/// Runs a load with a time limit, so that a hang fails the test instead of stalling the run.
let private withinSeconds (seconds: float) (f: unit -> unit) =
    let task = Task.Run(fun () -> f ())

    let finished =
        try
            task.Wait(TimeSpan.FromSeconds seconds)
        with :? AggregateException as e when not (isNull e.InnerException) ->
            ExceptionDispatchInfo.Capture(e.InnerException).Throw()
            false

    if not finished then
        failtestf "the load did not finish within %g s" seconds

// ---------------------------------------------------------------------------------------------------------------
// HDF5: link cycles, self links, byte orders, float16

let private hdf5Tests =
    testList
        "HDF5"
        [
            test "a hard-link cycle (a group linking to itself) is walked once: the weights load, no stack overflow" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let plain = Path.Combine(folder, "plain.weights.h5")
                    source.SaveWeights plain
                    let crafted = Path.Combine(folder, "cycle.weights.h5")

                    rebuild plain crafted asFloat32 (fun file ->
                        let cyclic = H5Group()
                        cyclic["cyclic_link"] <- H5Group()
                        (file["layers"] :?> H5Group)["cyclic_group"] <- cyclic)

                    // Point the link "cyclic_link" at its own parent: each compact link message holds its name
                    // followed by the 8-byte address of the object.
                    let bytes = File.ReadAllBytes crafted
                    let group = indexOf bytes (Encoding.ASCII.GetBytes "cyclic_group")
                    let link = indexOf bytes (Encoding.ASCII.GetBytes "cyclic_link")
                    Expect.isGreaterThan group 0 "the group's link is in the file"
                    Expect.isGreaterThan link 0 "the cyclic link is in the file"
                    Array.blit bytes (group + 12) bytes (link + 11) 8
                    File.WriteAllBytes(crafted, bytes)

                    do
                        use check = H5File.OpenRead crafted
                        let g = check.Group "layers/cyclic_group"
                        let inner = g.Group "cyclic_link"
                        Expect.isTrue (inner.LinkExists "cyclic_link/cyclic_link") "the crafted file holds a cycle"

                    let target = smallModel ()
                    withinSeconds 30.0 (fun () -> WeightsFile.loadWeights target crafted)
                    Expect.equal (snapshot target) (snapshot source) "the weights loaded")
            }

            test "a soft link to itself (relative or absolute) is a KerasException naming the file, not a crash" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let plain = Path.Combine(folder, "plain.weights.h5")
                    source.SaveWeights plain

                    for name, target in [ "relative", "loop"; "absolute", "/layers/loop" ] do
                        let crafted = Path.Combine(folder, $"{name}.weights.h5")

                        rebuild plain crafted asFloat32 (fun file ->
                            (file["layers"] :?> H5Group)["loop"] <- H5SoftLink target)

                        let model = smallModel ()
                        let before = snapshot model

                        let text =
                            message (fun () -> withinSeconds 30.0 (fun () -> WeightsFile.load model crafted))

                        expectContains text [ crafted; "soft or external links"; "'loop'" ]
                        Expect.equal (snapshot model) before "weights unchanged")
            }

            test "a self soft link in a Keras-written (h5py, symbol-table) file is a KerasException, not a crash" {
                inTempFolder "hostile" (fun folder ->
                    let bytes = File.ReadAllBytes(kerasFile "mnist_mlp_keras2.h5")
                    // The root group's symbol table node: "SNOD", version, reserved, symbol count, then 40-byte
                    // entries (name offset 8, header address 8, cache type 4, reserved 4, scratch pad 16). Its first
                    // entry is `model_weights`; make it a soft link (cache type 2) whose value is its own name.
                    let node = indexOf bytes (Encoding.ASCII.GetBytes "SNOD")
                    Expect.equal (BitConverter.ToUInt16(bytes, node + 6)) 2us "model_weights and optimizer_weights"
                    let entry = node + 8
                    let nameOffset = BitConverter.ToUInt64(bytes, entry)
                    Array.blit (BitConverter.GetBytes 2u) 0 bytes (entry + 16) 4
                    Array.blit (BitConverter.GetBytes(uint32 nameOffset)) 0 bytes (entry + 24) 4
                    let path = Path.Combine(folder, "self-link.h5")
                    File.WriteAllBytes(path, bytes)

                    for load in [ WeightsFile.load; WeightsFile.loadLegacyH5Weights; WeightsFile.loadWeights ] do
                        let model = mnistMlp ()
                        let before = snapshot model
                        let text = message (fun () -> withinSeconds 30.0 (fun () -> load model path))
                        expectContains text [ path ]
                        Expect.equal (snapshot model) before "weights unchanged")
            }

            test "big-endian float32 datasets load with their values, as Keras reads them" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let plain = Path.Combine(folder, "plain.weights.h5")
                    source.SaveWeights plain
                    let crafted = Path.Combine(folder, "big.weights.h5")
                    rebuild plain crafted asFloat32 ignore
                    let bytes = File.ReadAllBytes crafted

                    // Every float32 datatype message (version 1 or 3, little-endian IEEE) becomes big-endian ...
                    let mutable patched = 0

                    for i in 0 .. bytes.Length - 8 do
                        if
                            (bytes[i] = 0x11uy || bytes[i] = 0x31uy)
                            && bytes[i + 1] = 0x20uy
                            && bytes[i + 2] = 0x1Fuy
                            && bytes[i + 3] = 0uy
                            && bytes[i + 4] = 4uy
                            && bytes[i + 5] = 0uy
                        then
                            bytes[i + 1] <- 0x21uy
                            patched <- patched + 1

                    Expect.equal patched 4 "one datatype per dataset"

                    // ... and every dataset's values are stored in that order.
                    for w in Model.weights source do
                        let le = MemoryMarshal.AsBytes(ReadOnlySpan<float32>(values w.Value)).ToArray()
                        let at = indexOf bytes le
                        Expect.isGreaterThan at 0 $"the values of {w.Name} are in the file"

                        for k in 0..4 .. le.Length - 4 do
                            Array.Reverse(bytes, at + k, 4)

                    File.WriteAllBytes(crafted, bytes)
                    let target = smallModel ()
                    WeightsFile.load target crafted
                    Expect.equal (snapshot target) (snapshot source) "the values read back")
            }

            test "float16 datasets load, converted to the weights' dtype" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let plain = Path.Combine(folder, "plain.weights.h5")
                    source.SaveWeights plain
                    let crafted = Path.Combine(folder, "half.weights.h5")

                    let toHalf (d: IH5Dataset) : obj =
                        let halves = d.Read<float32[]>() |> Array.map (fun v -> Half.op_Explicit v: Half)
                        H5Dataset(halves, fileDims = d.Space.Dimensions)

                    rebuild plain crafted toHalf ignore
                    let target = smallModel ()
                    WeightsFile.load target crafted

                    let expected =
                        snapshot source
                        |> List.map (Array.map (fun v -> float32 (Half.op_Explicit v: Half)))

                    Expect.equal (snapshot target) expected "the float16 values, widened")
            }

            test "the Keras-written legacy file's shape mismatch names the file" {
                let input = Keras.Input(shape = [ 28; 28 ])

                let wrong =
                    Keras.Model(
                        input,
                        input
                        --> Layers.Flatten()
                        --> Layers.Dense(64, name = "dense_6")
                        --> Layers.Dense(10, name = "dense_7")
                    )

                let path = kerasFile "mnist_mlp_keras2.h5"
                let text = message (fun () -> WeightsFile.loadLegacyH5Weights wrong path)
                expectContains text [ path; "expects shape (784, 64)"; "(784, 128)" ]

                let text = message (fun () -> WeightsFile.loadLegacyH5WeightsInOrder wrong path)
                expectContains text [ path ]
            }

            test "damaged files given to load (format detection) are KerasExceptions naming the file" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let good = Path.Combine(folder, "good.weights.h5")
                    source.SaveWeights good
                    let bytes = File.ReadAllBytes good

                    let cases =
                        [
                            for keep in [ 8; 48; 96; 200; 400; bytes.Length / 2; bytes.Length - 16 ] do
                                yield $"cut{keep}", bytes[.. keep - 1]
                            yield "zip-header-only", [| 0x50uy; 0x4Buy; 0x03uy; 0x04uy |]
                            yield
                                "zip-garbage", Array.append [| 0x50uy; 0x4Buy; 0x03uy; 0x04uy |] (Array.create 300 7uy)
                            yield "hdf5-signature-only", bytes[..7]
                        ]

                    for name, content in cases do
                        let path = Path.Combine(folder, $"{name}.weights.h5")
                        File.WriteAllBytes(path, content)
                        let model = smallModel ()
                        let before = snapshot model
                        let text = message (fun () -> WeightsFile.load model path)
                        expectContains text [ path ]
                        Expect.equal (snapshot model) before $"{name}: weights unchanged")
            }
            test
                "every byte of a Keras-written legacy file's first 400 overwritten in turn: load or a KerasException naming the file" {
                inTempFolder "hostile" (fun folder ->
                    let original = File.ReadAllBytes(kerasFile "mnist_cnn_keras3_legacy.h5")
                    let path = Path.Combine(folder, "damaged.h5")
                    let model = mnistCnn ()

                    for at in 0..3..399 do
                        let bytes = Array.copy original
                        bytes[at] <- ~~~bytes[at]
                        File.WriteAllBytes(path, bytes)

                        try
                            withinSeconds 30.0 (fun () -> WeightsFile.load model path)
                        with
                        | :? KerasException as e -> expectContains e.Message [ path ]
                        | e -> failtestf "byte %d inverted: %s: %s" at (e.GetType().Name) e.Message)
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// .keras archives: zip bombs, lying headers, duplicate members, CRC

let private archiveTests =
    testList
        ".keras archives"
        [
            test "a zip bomb is refused from its declared size, before anything is expanded" {
                inTempFolder "hostile" (fun folder ->
                    let path = Path.Combine(folder, "bomb.keras")
                    writeZip path CompressionLevel.SmallestSize [ "model.weights.h5", Array.zeroCreate (64 <<< 20) ]
                    Expect.isLessThan (FileInfo(path).Length) (1L <<< 20) "the bomb is small on disk"
                    let model = smallModel ()
                    let before = GC.GetAllocatedBytesForCurrentThread()
                    let text = message (fun () -> WeightsFile.load model path)
                    let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                    expectContains text [ path; "declares 67108864 bytes"; "the model's weights can take" ]
                    Expect.isLessThan allocated (16L <<< 20) "at most a few MB allocated")
            }

            test "the bound leaves room for the optimizer's variables Keras 3 saves beside the weights" {
                inTempFolder "hostile" (fun folder ->
                    let input = Keras.Input(shape = [ 600 ])
                    let source = Keras.Model(input, input --> Layers.Dense(600))
                    let plain = Path.Combine(folder, "plain.weights.h5")
                    source.SaveWeights plain
                    let withOptimizer = Path.Combine(folder, "adam.weights.h5")

                    // Adam's iteration count and two slots per weight, as Keras 3 writes them under optimizer/vars.
                    rebuild plain withOptimizer asFloat32 (fun file ->
                        let vars = H5Group()
                        vars["0"] <- H5Dataset([| 1L |], fileDims = [| 1UL |])

                        for i, w in List.indexed (Model.weights source) do
                            for slot in 0..1 do
                                vars[string (1 + 2 * i + slot)] <-
                                    H5Dataset(values w.Value, fileDims = (w.Value.shape |> Array.map uint64))

                        let optimizer = H5Group()
                        optimizer["vars"] <- vars
                        file["optimizer"] <- optimizer)

                    let path = Path.Combine(folder, "adam.keras")
                    kerasArchive path (File.ReadAllBytes withOptimizer)
                    let target = Keras.Model(input, input --> Layers.Dense(600))
                    WeightsFile.load target path
                    Expect.equal (snapshot target) (snapshot source) "the weights loaded")
            }

            test "a member expanding beyond its declared size is refused at the declared size" {
                inTempFolder "hostile" (fun folder ->
                    let path = Path.Combine(folder, "liar.keras")
                    writeZip path CompressionLevel.SmallestSize [ "model.weights.h5", Array.zeroCreate (64 <<< 20) ]
                    let bytes = File.ReadAllBytes path
                    // Declare 4096 bytes in the local header (offset 22) and the central directory entry (offset 24).
                    let local = indexOf bytes [| 0x50uy; 0x4Buy; 0x03uy; 0x04uy |]
                    let central = indexOf bytes [| 0x50uy; 0x4Buy; 0x01uy; 0x02uy |]
                    let small = BitConverter.GetBytes 4096u
                    Array.blit small 0 bytes (local + 22) 4
                    Array.blit small 0 bytes (central + 24) 4
                    File.WriteAllBytes(path, bytes)

                    let before = GC.GetAllocatedBytesForCurrentThread()
                    let text = message (fun () -> WeightsFile.load (smallModel ()) path)
                    let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                    expectContains text [ path; "model.weights.h5" ]
                    Expect.isLessThan allocated (16L <<< 20) "the member was not expanded whole")
            }

            test "an archive holding model.weights.h5 twice is refused (Keras would read the last one)" {
                inTempFolder "hostile" (fun folder ->
                    let first = smallModel ()
                    let second = smallModel ()
                    let a = Path.Combine(folder, "a.weights.h5")
                    let b = Path.Combine(folder, "b.weights.h5")
                    first.SaveWeights a
                    second.SaveWeights b
                    let path = Path.Combine(folder, "twice.keras")

                    writeZip
                        path
                        CompressionLevel.NoCompression
                        [
                            "model.weights.h5", File.ReadAllBytes a
                            "model.weights.h5", File.ReadAllBytes b
                        ]

                    let model = smallModel ()
                    let before = snapshot model
                    let text = message (fun () -> WeightsFile.loadWeightsFromKerasArchive model path)
                    expectContains text [ path; "2 members named `model.weights.h5`" ]
                    Expect.equal (snapshot model) before "weights unchanged")
            }

            test "a bit flipped in a weight value of a stored member fails the CRC check" {
                inTempFolder "hostile" (fun folder ->
                    let source = smallModel ()
                    let weights = Path.Combine(folder, "model.weights.h5")
                    source.SaveWeights weights
                    let path = Path.Combine(folder, "model.keras")
                    kerasArchive path (File.ReadAllBytes weights)

                    let model = smallModel ()
                    WeightsFile.load model path
                    Expect.equal (snapshot model) (snapshot source) "the intact archive loads"

                    let bytes = File.ReadAllBytes path
                    let kernel = values (Model.weights source).Head.Value

                    let at =
                        indexOf bytes (MemoryMarshal.AsBytes(ReadOnlySpan<float32> kernel).ToArray())

                    Expect.isGreaterThan at 0 "the kernel's bytes are stored uncompressed"
                    bytes[at + 1] <- bytes[at + 1] ^^^ 0x10uy
                    File.WriteAllBytes(path, bytes)

                    let target = smallModel ()
                    let before = snapshot target
                    let text = message (fun () -> WeightsFile.load target path)
                    expectContains text [ path; "CRC-32" ]
                    Expect.equal (snapshot target) before "weights unchanged")
            }

            test "a bit flipped inside the Keras-written archive's weights fails the CRC check" {
                inTempFolder "hostile" (fun folder ->
                    let bytes = File.ReadAllBytes(kerasFile "mnist_cnn_keras3.keras")
                    use zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read)
                    let entry = zip.GetEntry "model.weights.h5"
                    Expect.equal entry.CompressedLength entry.Length "Keras stores the weights uncompressed"
                    // Flip a bit in the middle of the member's data: the last third of the file is weight values.
                    let local = indexOf bytes (Encoding.ASCII.GetBytes "model.weights.h5")
                    let at = local + int entry.Length * 2 / 3
                    bytes[at] <- bytes[at] ^^^ 0x01uy
                    let path = Path.Combine(folder, "flipped.keras")
                    File.WriteAllBytes(path, bytes)
                    let text = message (fun () -> WeightsFile.load (mnistCnn ()) path)
                    expectContains text [ path; "CRC-32" ])
            }

            test "a truncated archive is a KerasException naming the file" {
                inTempFolder "hostile" (fun folder ->
                    let bytes = File.ReadAllBytes(kerasFile "mnist_cnn_keras3.keras")

                    for keep in [ 30; 1000; bytes.Length / 2; bytes.Length - 10 ] do
                        let path = Path.Combine(folder, $"cut{keep}.keras")
                        File.WriteAllBytes(path, bytes[.. keep - 1])
                        expectContains (message (fun () -> WeightsFile.load (mnistCnn ()) path)) [ path ])
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// Saving: temporary files, missing folders

let private durabilityTests =
    testList
        "durable saving"
        [
            test "a save removes the temporary files killed saves of the same target left, and only those" {
                inTempFolder "hostile" (fun folder ->
                    let path = Path.Combine(folder, "model.weights.h5")
                    let id () = Guid.NewGuid().ToString "N"

                    let stale =
                        [
                            for _ in 1..3 -> Path.Combine(folder, $".model.weights.h5.saving-{id ()}.tmp")
                        ]

                    let others =
                        [
                            Path.Combine(folder, $".other.weights.h5.saving-{id ()}.tmp")
                            Path.Combine(folder, "notes.tmp")
                            Path.Combine(folder, ".model.weights.h5.saving-mine.tmp")
                        ]

                    for f in stale @ others do
                        File.WriteAllBytes(f, Array.zeroCreate 1000)

                    let model = smallModel ()
                    model.SaveWeights path

                    let left = Directory.GetFiles folder |> Array.map Path.GetFileName |> Array.sort

                    let expected =
                        "model.weights.h5" :: (others |> List.map Path.GetFileName)
                        |> Array.ofList
                        |> Array.sort

                    Expect.equal left expected "the stale temporary files are gone, the rest kept"
                    let back = smallModel ()
                    back.LoadWeights path
                    Expect.equal (snapshot back) (snapshot model) "the new file is complete")
            }

            test "saving into a folder that does not exist is a KerasException naming the folder" {
                inTempFolder "hostile" (fun folder ->
                    let missing = Path.Combine(folder, "no", "such")
                    let path = Path.Combine(missing, "model.weights.h5")
                    let text = message (fun () -> WeightsFile.saveWeights (smallModel ()) path)
                    expectContains text [ missing; "does not exist" ]
                    Expect.isFalse (Directory.Exists missing) "nothing created")
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// Dataset files

let private datasetTests =
    testList
        "dataset files"
        [
            test
                "an npz entry whose .npy header declares 2e9 bytes over 10 bytes is truncated, without a 2 GB allocation" {
                inTempFolder "hostile" (fun folder ->
                    let header =
                        "{'descr': '|u1', 'fortran_order': False, 'shape': (2000, 1000, 1000), }"

                    let padded = header.PadRight(118) + "\n"

                    let npy =
                        Array.concat
                            [
                                [| 0x93uy |]
                                Encoding.ASCII.GetBytes "NUMPY"
                                [| 1uy; 0uy |]
                                BitConverter.GetBytes(uint16 padded.Length)
                                Encoding.ASCII.GetBytes padded
                                Array.create 10 1uy
                            ]

                    let path = Path.Combine(folder, "mnist.npz")
                    writeZip path CompressionLevel.NoCompression [ "x_train.npy", npy ]
                    let before = GC.GetAllocatedBytesForCurrentThread()

                    let error =
                        try
                            Keras.Datasets.Mnist.readNpz path |> ignore
                            failtest "expected an exception"
                        with e ->
                            e

                    let allocated = GC.GetAllocatedBytesForCurrentThread() - before

                    Expect.isTrue
                        (error :? InvalidDataException)
                        $"an InvalidDataException, got {error.GetType().Name}"

                    expectContains error.Message [ path; "truncated"; "found 10" ]
                    Expect.isLessThan allocated (64L <<< 20) "memory follows the data, not the header")
            }

            test "an IDX header declaring 2e9 bytes over 10 bytes of data is truncated, without a 2 GB allocation" {
                let bigEndian (d: int) =
                    [| byte (d >>> 24); byte (d >>> 16); byte (d >>> 8); byte d |]

                let header =
                    Array.concat [ [| 0uy; 0uy; 8uy; 3uy |]; bigEndian 2000; bigEndian 1000; bigEndian 1000 ]

                use stream = new MemoryStream(Array.append header (Array.create 10 1uy))
                let before = GC.GetAllocatedBytesForCurrentThread()

                let error =
                    try
                        Keras.Datasets.Idx.read "hostile.idx" stream |> ignore
                        failtest "expected an exception"
                    with e ->
                        e

                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.isTrue (error :? InvalidDataException) $"an InvalidDataException, got {error.GetType().Name}"
                expectContains error.Message [ "hostile.idx"; "truncated"; "found 10" ]
                Expect.isLessThan allocated (64L <<< 20) "memory follows the data, not the header"
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// Random damage

type private Mutation =
    | Flip of at: float * bit: int
    | Overwrite of at: float * bytes: byte list
    | Truncate of keep: float

type private Damage = { File: int; Mutations: Mutation list }

/// The valid files the property damages, each with the model it loads into.
let private victims =
    lazy
        (let weights, archive =
            inTempFolder "hostile" (fun folder ->
                let weights = Path.Combine(folder, "small.weights.h5")
                (smallModel ()).SaveWeights weights
                let archive = Path.Combine(folder, "small.keras")
                kerasArchive archive (File.ReadAllBytes weights)
                File.ReadAllBytes weights, File.ReadAllBytes archive)

         [|
             "small.weights.h5", weights, smallModel
             "small.keras", archive, smallModel
             "keras3.keras", File.ReadAllBytes(kerasFile "mnist_cnn_keras3.keras"), mnistCnn
             "keras3_legacy.h5", File.ReadAllBytes(kerasFile "mnist_cnn_keras3_legacy.h5"), mnistCnn
             "keras2.h5", File.ReadAllBytes(kerasFile "mnist_mlp_keras2.h5"), mnistMlp
         |])

let private damages =
    let position = Gen.choose (0, 1_000_000) |> Gen.map (fun n -> float n / 1_000_000.0)
    // Most HDF5 structure sits at the start of a file; aim half the mutations there.
    let early = Gen.choose (0, 1_000) |> Gen.map (fun n -> float n / 1_000_000.0)
    let where = Gen.oneof [ position; early ]

    let mutation =
        Gen.frequency
            [
                6, Gen.map2 (fun at bit -> Flip(at, bit)) where (Gen.choose (0, 7))
                3,
                Gen.map2
                    (fun at bytes -> Overwrite(at, bytes))
                    where
                    (Gen.choose (1, 16)
                     |> Gen.bind (fun n -> Gen.listOfLength n (Gen.elements [ 0uy; 0xFFuy; 0x7Fuy; 0x80uy; 1uy; 42uy ])))
                1, Gen.map Truncate position
            ]

    gen {
        let! file = Gen.choose (0, 4)
        let! count = Gen.choose (1, 6)
        let! mutations = Gen.listOfLength count mutation
        return { File = file; Mutations = mutations }
    }

let private apply (bytes: byte[]) (mutations: Mutation list) =
    let index (length: int) (at: float) =
        min (length - 1) (int (at * float length))

    mutations
    |> List.fold
        (fun (b: byte[]) m ->
            if b.Length = 0 then
                b
            else
                match m with
                | Flip(at, bit) ->
                    let i = index b.Length at
                    b[i] <- b[i] ^^^ (1uy <<< bit)
                    b
                | Overwrite(at, values) ->
                    let i = index b.Length at

                    values
                    |> List.iteri (fun k v ->
                        if i + k < b.Length then
                            b[i + k] <- v)

                    b
                | Truncate keep -> b[.. int (keep * float b.Length) - 1])
        (Array.copy bytes)

/// Loads a damaged copy: success or a KerasException naming the file; anything else (or a hang) fails.
let private survives (damage: Damage) =
    let name, bytes, makeModel = victims.Value[damage.File]
    let folder = Path.Combine(Path.GetTempPath(), "keras-fsharp-hostile", "damaged")
    Directory.CreateDirectory folder |> ignore
    let path = Path.Combine(folder, $"{Guid.NewGuid():N}-{name}")
    File.WriteAllBytes(path, apply bytes damage.Mutations)
    let model = makeModel ()

    let outcome =
        try
            withinSeconds 30.0 (fun () -> WeightsFile.load model path)
            true
        with
        | :? KerasException as e ->
            e.Message.Contains path
            || failwithf "%s: KerasException without the file name: %s" name e.Message
        | e -> failwithf "%s %A: %s: %s" name damage.Mutations (e.GetType().Name) e.Message

    File.Delete path
    outcome

/// With KERAS_HOSTILE_ATTACK=N set, loads N random mutants and prints how each ended (a crash ends the run).
let private attack (count: int) =
    let mutable loaded, keras, other = 0, 0, 0
    let seen = Collections.Generic.Dictionary<string, int>()

    for damage in Gen.sample count damages do
        let name, bytes, makeModel = victims.Value[damage.File]
        let folder = Path.Combine(Path.GetTempPath(), "keras-fsharp-hostile", "attack")
        Directory.CreateDirectory folder |> ignore
        let path = Path.Combine(folder, $"{Guid.NewGuid():N}-{name}")
        File.WriteAllBytes(path, apply bytes damage.Mutations)

        try
            try
                withinSeconds 60.0 (fun () -> WeightsFile.load (makeModel ()) path)
                loaded <- loaded + 1
            with
            | :? KerasException as e when e.Message.Contains path -> keras <- keras + 1
            | e ->
                other <- other + 1
                let key = $"{name}: {e.GetType().Name}: {e.Message}"

                seen[key] <-
                    (match seen.TryGetValue key with
                     | true, n -> n + 1
                     | _ -> 1)
        finally
            File.Delete path

    for KeyValue(k, n) in seen do
        printfn "  %dx %s" n (k.Substring(0, min 300 k.Length))

    printfn
        "attack: %d files, %d loaded, %d KerasException naming the file, %d other, 0 crashes, 0 hangs"
        count
        loaded
        keras
        other

    other

let private propertyTests =
    testList
        "random damage"
        [
            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 150
                }
                "byte flips, overwrites and truncations of valid weights files load or raise a KerasException naming the file"
                (Prop.forAll (Arb.fromGen damages) survives)

        ]

// ---------------------------------------------------------------------------------------------------------------
// Harnesses for long attacks, run by the test program's commands (see Main.fs), not part of the test run.

/// Loads <paramref name="count"/> random mutants and prints how each ended (a crash ends the process); returns the
/// number of failures that were not a KerasException naming the file.
let attackHarness (count: int) = attack count

let private harnessModel () =
    let input = Keras.Input(shape = [ 2000 ])
    Keras.Model(input, input --> Layers.Dense(2000))

let private temporaryFiles folder =
    Directory.GetFiles(folder, ".model.weights.h5.saving-*.tmp").Length

/// The kill -9 harness: saves a 16 MB model into <paramref name="folder"/> over and over (each save's weights all one
/// value) until the process is killed.
let saveLoop (folder: string) =
    let m = harnessModel ()
    let path = Path.Combine(folder, "model.weights.h5")

    for i in 1..100_000 do
        use _ = torch.no_grad ()

        for w in Model.weights m do
            w.Value.fill_ (float32 i) |> ignore

        m.SaveWeights path
        printfn "saved %d" i

/// After kills of <see cref="saveLoop"/>: checks the target holds one complete version, and that one more save
/// removes the temporary files the kills left; returns 0 when both hold.
let saveCheck (folder: string) =
    let left = temporaryFiles folder
    let m = harnessModel ()
    let path = Path.Combine(folder, "model.weights.h5")
    m.LoadWeights path
    let distinct = snapshot m |> List.collect List.ofArray |> List.distinct

    printfn
        "check: %d distinct value(s) (%g first), %d temporary file(s) before this check's save"
        distinct.Length
        distinct.Head
        left

    m.SaveWeights path
    let after = temporaryFiles folder
    printfn "check: %d temporary file(s) after one more save" after
    if distinct.Length = 1 && after = 0 then 0 else 1

[<Tests>]
let tests =
    testList "HostileFiles" [ hdf5Tests; archiveTests; durabilityTests; datasetTests; propertyTests ]
