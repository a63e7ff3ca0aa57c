/// Weights files: Keras 3's `.weights.h5` round trips and layout, failure safety, loading the real Keras files in
/// shared/data/keras (accuracies and outputs against their NumPy references), and ModelCheckpoint.
module SavingTests

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Text.Json
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

let private kerasError (f: unit -> 'a) =
    try
        f () |> ignore
        failtest "expected a KerasException"
    with :? KerasException as e ->
        e.Message

let private expectContains (message: string) (parts: string list) =
    for p in parts do
        Expect.stringContains message p $"the message names {p}"

/// A Dense stack: Input(sizes.Head) then one Dense per further size (relu inside, linear at the end).
let private denseModel (sizes: int list) (useBias: bool) =
    let input = Keras.Input(shape = [ sizes.Head ])
    let hidden = sizes.Tail

    let output =
        hidden
        |> List.mapi (fun i units -> i, units)
        |> List.fold
            (fun x (i, units) ->
                let activation = if i = hidden.Length - 1 then "linear" else "relu"
                x --> Layers.Dense(units, activation = activation, useBias = useBias))
            input

    Keras.Model(input, output)

/// Gives every weight new random values (positive, so variances stay valid) so a round trip can't pass by accident.
let private randomize (model: Model) =
    use _ = torch.no_grad ()

    for w in Model.weights model do
        w.Value.copy_ (torch.rand(w.Value.shape).mul(torch.tensor 2.0f).add(torch.tensor 0.1f))
        |> ignore

let private predictValues (model: Model) (x: torch.Tensor) =
    values (Model.predictMany model 64 [ x ] |> List.head)

/// Every dataset in an HDF5 file as (path, shape); every group as (path, None).
let private h5Listing (path: string) =
    use file = H5File.OpenRead path

    let rec walk (prefix: string) (g: IH5Group) =
        [
            for c in g.Children() do
                let p = if prefix = "" then c.Name else prefix + "/" + c.Name

                match c with
                | :? IH5Group as sub ->
                    yield p, None
                    yield! walk p sub
                | :? IH5Dataset as d -> yield p, Some(d.Space.Dimensions |> Array.map int |> List.ofArray)
                | _ -> ()
        ]

    walk "" file |> Map.ofList

// ---------------------------------------------------------------------------------------------------------------
// Real Keras files

type private Reference =
    {
        Correct: int option
        FirstOutputs: float32[]
    }

let private reference (name: string) =
    use doc = JsonDocument.Parse(File.ReadAllText(kerasFile name))
    let root = doc.RootElement

    let correct =
        match root.TryGetProperty "correct" with
        | true, v -> Some(v.GetInt32())
        | _ -> None

    let rows =
        match root.TryGetProperty "first_outputs" with
        | true, v -> v
        | _ -> root.GetProperty "outputs"

    {
        Correct = correct
        FirstOutputs =
            [|
                for row in rows.EnumerateArray() do
                    for v in row.EnumerateArray() -> float32 (v.GetDouble())
            |]
    }

let private cnnImages =
    lazy ((fst mnistTest.Value).unsqueeze(-1L).DetachFromDisposeScope())

/// mnist_mlp_keras2.h5's architecture; with names = false the layers get automatic names.
let private mnistMlp (names: bool) =
    let name n = if names then Some n else None
    let input = Keras.Input(shape = [ 28; 28 ])

    let output =
        input
        --> Layers.Flatten(?name = name "flatten_3")
        --> Layers.Dense(128, activation = "relu", ?name = name "dense_6")
        --> Layers.Dense(10, activation = "softmax", ?name = name "dense_7")

    Keras.Model(input, output)

let private realFileTests =
    testList
        "real Keras files"
        [
            test "mnist_cnn_keras3.keras: the archive's weights reproduce accuracy 0.9918 and the reference outputs" {
                let model = mnistCnn ()
                WeightsFile.loadWeightsFromKerasArchive model (kerasFile "mnist_cnn_keras3.keras")
                let expected = reference "mnist_cnn_keras3.reference.json"
                let correct, first = evaluateMnist model cnnImages.Value
                Expect.equal correct 9918 "correct predictions on the 10,000 test images (accuracy 0.9918)"
                Expect.equal (Some correct) expected.Correct "the reference count"
                closeTo 1e-4f expected.FirstOutputs first "outputs for the first 8 test images"
            }

            test "mnist_cnn_keras3_legacy.h5: Keras 3 legacy HDF5 by layer name reproduces accuracy 0.9928" {
                let model = mnistCnn ()
                WeightsFile.loadLegacyH5Weights model (kerasFile "mnist_cnn_keras3_legacy.h5")
                let expected = reference "mnist_cnn_keras3_legacy.reference.json"
                let correct, first = evaluateMnist model cnnImages.Value
                Expect.equal correct 9928 "correct predictions (accuracy 0.9928)"
                Expect.equal (Some correct) expected.Correct "the reference count"
                closeTo 1e-4f expected.FirstOutputs first "outputs for the first 8 test images"
            }

            test "mnist_mlp_keras2.h5: Keras 2 `:0` weight names by layer name reproduce accuracy 0.9719" {
                let model = mnistMlp true
                WeightsFile.loadLegacyH5Weights model (kerasFile "mnist_mlp_keras2.h5")
                let expected = reference "mnist_mlp_keras2.reference.json"
                let correct, first = evaluateMnist model (fst mnistTest.Value)
                Expect.equal correct 9719 "correct predictions (accuracy 0.9719)"
                Expect.equal (Some correct) expected.Correct "the reference count"
                closeTo 1e-4f expected.FirstOutputs first "outputs for the first 8 test images"
            }

            test "mnist_mlp_keras2.h5 in layer order (Keras's default) fits automatically named layers" {
                let model = mnistMlp false
                WeightsFile.loadLegacyH5WeightsInOrder model (kerasFile "mnist_mlp_keras2.h5")
                let expected = reference "mnist_mlp_keras2.reference.json"
                let x = (fst mnistTest.Value).narrow(0L, 0L, 8L)
                closeTo 1e-4f expected.FirstOutputs (predictValues model x) "outputs for the first 8 test images"
            }

            test "functional_mlp_keras2.h5 (Keras 2.0.9 functional model) gives the reference outputs" {
                let input = Keras.Input(shape = [ 100 ])

                let output =
                    input
                    --> Layers.Dense(64, activation = "relu", name = "dense_3")
                    --> Layers.Dense(10, activation = "softmax", name = "dense_4")

                let model = Keras.Model(input, output)
                WeightsFile.loadLegacyH5Weights model (kerasFile "functional_mlp_keras2.h5")
                // x[n,k] = sin(0.37*(n+1)*(k+1)), as the reference's input_formula says.
                let x =
                    Array2D.init 4 100 (fun n k -> float32 (sin (0.37 * float (n + 1) * float (k + 1))))

                closeTo
                    1e-5f
                    (reference "functional_mlp_keras2.reference.json").FirstOutputs
                    (predictValues model (torch.tensor x))
                    "outputs"
            }

            test "keras3_nested_container_custom.keras (Keras 3.15, named vars groups) loads into the same Dense stack" {
                let input = Keras.Input(shape = [ 4 ])

                let output =
                    input
                    --> Layers.Dense(4, useBias = false)
                    --> Layers.Dense(4, useBias = false)
                    --> Layers.Dense(4, useBias = false)
                    --> Layers.Dense(2)

                let model = Keras.Model(input, output)
                WeightsFile.loadWeightsFromKerasArchive model (kerasFile "keras3_nested_container_custom.keras")
                let filled value count = Array.create count value

                Expect.equal
                    (snapshot model)
                    [ filled 0.1f 16; filled 0.2f 16; filled 0.3f 16; filled 0.5f 8; filled 0.0f 2 ]
                    "kernels 0.1, 0.2, 0.3 (4×4), output kernel 0.5 (4×2), bias 0, as Keras's test asserts"
            }

            test "WeightsFile.load recognises the archive, the Keras 3 weights file and legacy files by content" {
                let x = cnnImages.Value.narrow (0L, 0L, 8L)
                let viaArchive = mnistCnn ()
                viaArchive.LoadWeights(kerasFile "mnist_cnn_keras3.keras")

                closeTo
                    1e-4f
                    (reference "mnist_cnn_keras3.reference.json").FirstOutputs
                    (predictValues viaArchive x)
                    "archive"

                let legacy = mnistCnn ()
                legacy.LoadWeights(kerasFile "mnist_cnn_keras3_legacy.h5")

                closeTo
                    1e-4f
                    (reference "mnist_cnn_keras3_legacy.reference.json").FirstOutputs
                    (predictValues legacy x)
                    "legacy"

                inTempFolder "saving" (fun folder ->
                    let path = Path.Combine(folder, "cnn.weights.h5")
                    viaArchive.SaveWeights path
                    let again = mnistCnn ()
                    again.LoadWeights path
                    Expect.equal (predictValues again x) (predictValues viaArchive x) "weights file")
            }

            test "a saved CNN has exactly the datasets, paths and shapes of the Keras 3.1.1 file, and loads back" {
                inTempFolder "saving" (fun folder ->
                    let model = mnistCnn ()
                    WeightsFile.loadWeightsFromKerasArchive model (kerasFile "mnist_cnn_keras3.keras")
                    let path = Path.Combine(folder, "cnn.weights.h5")
                    WeightsFile.saveWeights model path

                    let keras =
                        use zip = ZipFile.OpenRead(kerasFile "mnist_cnn_keras3.keras")
                        let extracted = Path.Combine(folder, "keras.weights.h5")
                        zip.GetEntry("model.weights.h5").ExtractToFile extracted
                        h5Listing extracted

                    let ours = h5Listing path

                    let datasets (listing: Map<string, int list option>) =
                        listing |> Map.filter (fun k v -> v.IsSome && k.StartsWith "layers/")

                    Expect.equal (datasets ours) (datasets keras) "layers/<class>/vars/<i> datasets and shapes"
                    // Keras 3.1.1 reads the model's own vars group at the root; every Keras layer group is there too.
                    Expect.isTrue (ours.ContainsKey "vars") "root vars group"

                    for KeyValue(k, _) in keras |> Map.filter (fun k v -> v.IsNone && k.StartsWith "layers/") do
                        Expect.isTrue (ours.ContainsKey k) $"group {k}"

                    let reloaded = mnistCnn ()
                    WeightsFile.loadWeights reloaded path
                    let x = cnnImages.Value.narrow (0L, 0L, 16L)
                    Expect.equal (predictValues reloaded x) (predictValues model x) "identical predictions")
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// Round trips and layout

type private Architecture = { Sizes: int list; UseBias: bool }

let private architectures =
    gen {
        let! input = Gen.choose (1, 6)
        let! depth = Gen.choose (1, 3)
        let! widths = Gen.listOfLength depth (Gen.choose (1, 6))
        let! useBias = Gen.elements [ true; false ]

        return
            {
                Sizes = input :: widths
                UseBias = useBias
            }
    }

let private roundTripHolds (arch: Architecture) =
    inTempFolder "saving" (fun folder ->
        let source = denseModel arch.Sizes arch.UseBias
        randomize source
        let path = Path.Combine(folder, "model.weights.h5")
        WeightsFile.saveWeights source path
        let target = denseModel arch.Sizes arch.UseBias
        WeightsFile.loadWeights target path
        let x = torch.randn (5L, int64 arch.Sizes.Head)

        predictValues target x = predictValues source x
        && snapshot target = snapshot source)

let private roundTripTests =
    testList
        "round trips"
        [
            test "a Dense model's weights round-trip exactly, stored by class and position whatever the layer names" {
                inTempFolder "saving" (fun folder ->
                    let source = denseModel [ 4; 8; 3 ] true
                    randomize source
                    let path = Path.Combine(folder, "dense.weights.h5")
                    source.SaveWeights path
                    let listing = h5Listing path
                    Expect.equal listing["layers/dense/vars/0"] (Some [ 4; 8 ]) "first kernel (in, out)"
                    Expect.equal listing["layers/dense/vars/1"] (Some [ 8 ]) "first bias"
                    Expect.equal listing["layers/dense_1/vars/0"] (Some [ 8; 3 ]) "second kernel"
                    Expect.equal listing["layers/dense_1/vars/1"] (Some [ 3 ]) "second bias"

                    Expect.equal
                        listing["layers/input_layer/vars"]
                        None
                        "the input layer's empty vars group (Functional)"

                    Expect.equal listing["vars"] None "the model's own vars group"
                    Expect.equal (listing |> Map.filter (fun _ v -> v.IsSome) |> Map.count) 4 "four datasets"

                    let target = denseModel [ 4; 8; 3 ] true
                    Expect.notEqual (snapshot target) (snapshot source) "fresh weights differ"
                    WeightsFile.loadWeights target path
                    Expect.equal (snapshot target) (snapshot source) "weights"
                    let x = torch.randn (7L, 4L)
                    Expect.equal (predictValues target x) (predictValues source x) "identical predictions")
            }

            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 25
                }
                "random Dense architectures round-trip to identical predictions"
                (Prop.forAll (Arb.fromGen architectures) roundTripHolds)

            test
                "nested models, recurrent cells, Bidirectional, TimeDistributed, BatchNormalization and MultiHeadAttention use Keras's paths" {
                inTempFolder "saving" (fun folder ->
                    let build () =
                        let innerInput = Keras.Input(shape = [ 6 ])

                        let inner =
                            Keras.Model(innerInput, innerInput --> Layers.Dense(6, activation = "tanh"))

                        let input = Keras.Input(shape = [ 5; 3 ])
                        let x = input --> Layers.LSTM(4, returnSequences = true)
                        let x = x --> Layers.Bidirectional(Layers.GRU(3, returnSequences = true))
                        let x = x --> Layers.BatchNormalization()

                        let attended =
                            Layer.callMany (Layers.MultiHeadAttention(2, 3)) [ x; x ] |> List.head

                        let x = attended --> Layers.TimeDistributed(Layers.Dense(6))
                        let x = x --> Layers.GlobalAveragePooling1D() --> inner --> Layers.Dense(2)
                        Keras.Model(input, x)

                    let source = build ()
                    randomize source
                    let path = Path.Combine(folder, "composite.weights.h5")
                    source.SaveWeights path
                    let listing = h5Listing path
                    let shape p = Map.tryFind p listing |> Option.flatten

                    Expect.equal (shape "layers/lstm/cell/vars/0") (Some [ 3; 16 ]) "LSTM kernel under its cell"
                    Expect.equal (shape "layers/lstm/cell/vars/1") (Some [ 4; 16 ]) "LSTM recurrent kernel"
                    Expect.equal (shape "layers/lstm/cell/vars/2") (Some [ 16 ]) "LSTM bias"
                    Expect.isTrue (listing.ContainsKey "layers/lstm/vars") "the LSTM's own (empty) vars"

                    Expect.equal
                        (shape "layers/bidirectional/forward_layer/cell/vars/0")
                        (Some [ 4; 9 ])
                        "forward GRU kernel"

                    Expect.equal
                        (shape "layers/bidirectional/backward_layer/cell/vars/0")
                        (Some [ 4; 9 ])
                        "backward GRU kernel"

                    Expect.equal
                        (shape "layers/batch_normalization/vars/3")
                        (Some [ 6 ])
                        "moving variance is the 4th variable"

                    Expect.equal
                        (shape "layers/multi_head_attention/_query_dense/vars/0")
                        (Some [ 6; 2; 3 ])
                        "query kernel"

                    Expect.equal (shape "layers/multi_head_attention/_query_dense/vars/1") (Some [ 2; 3 ]) "query bias"

                    Expect.equal
                        (shape "layers/multi_head_attention/_output_dense/vars/0")
                        (Some [ 2; 3; 6 ])
                        "output kernel"

                    Expect.equal
                        (shape "layers/time_distributed/layer/vars/0")
                        (Some [ 6; 6 ])
                        "TimeDistributed's inner kernel"

                    Expect.equal (shape "layers/functional/layers/dense/vars/0") (Some [ 6; 6 ]) "nested model's Dense"

                    Expect.isTrue
                        (listing.ContainsKey "layers/functional/layers/input_layer/vars")
                        "nested model's input layer"

                    Expect.equal
                        (shape "layers/dense/vars/0")
                        (Some [ 6; 2 ])
                        "the top-level Dense is the first top-level dense"

                    let datasets = listing |> Map.filter (fun _ v -> v.IsSome) |> Map.count
                    Expect.equal datasets (Model.weights source).Length "one dataset per weight"

                    let target = build ()
                    WeightsFile.loadWeights target path
                    Expect.equal (snapshot target) (snapshot source) "weights, in Keras order"
                    let x = torch.randn (3L, 5L, 3L)
                    Expect.equal (predictValues target x) (predictValues source x) "identical predictions")
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// Failures

/// A layer holding a boolean weight, which a weights file cannot store.
let private flagLayer () =
    Layer.create
        None
        { Layer.simpleSpec "FlagHolder" (fun _ xs -> xs) with
            Build =
                fun _ ->
                    {
                        Weights =
                            [
                                {
                                    Name = "flags"
                                    Shape = [ 3 ]
                                    Initializer = Zeros
                                    Trainable = false
                                    DType = Bool
                                    Constraint = None
                                }
                            ]
                        InputSpecs = []
                    }
        }

let private failureTests =
    testList
        "failures"
        [
            test "a save that fails leaves the existing file intact and no temporary file behind" {
                inTempFolder "saving" (fun folder ->
                    let path = Path.Combine(folder, "model.weights.h5")
                    let good = denseModel [ 4; 2 ] true
                    good.SaveWeights path
                    let before = File.ReadAllBytes path

                    let input = Keras.Input(shape = [ 4 ])
                    let bad = Keras.Model(input, input --> Layers.Dense(2) --> flagLayer ())
                    let message = kerasError (fun () -> WeightsFile.saveWeights bad path)
                    expectContains message [ "flags"; "Bool" ]

                    Expect.equal (File.ReadAllBytes path) before "the old file is unchanged"

                    Expect.equal
                        (Directory.GetFiles folder |> Array.map Path.GetFileName)
                        [| "model.weights.h5" |]
                        "no stray files"

                    let reloaded = denseModel [ 4; 2 ] true
                    reloaded.LoadWeights path
                    Expect.equal (snapshot reloaded) (snapshot good) "the old file still loads")
            }

            test "a path not ending in .weights.h5 is refused, as Keras does" {
                inTempFolder "saving" (fun folder ->
                    let message =
                        kerasError (fun () ->
                            WeightsFile.saveWeights (denseModel [ 2; 1 ] true) (Path.Combine(folder, "model.h5")))

                    expectContains message [ "must end in `.weights.h5`" ]
                    Expect.isEmpty (Directory.GetFiles folder) "nothing written")
            }

            test "a mismatched shape names the layer and both shapes, and changes no weight" {
                inTempFolder "saving" (fun folder ->
                    let path = Path.Combine(folder, "model.weights.h5")
                    let source = denseModel [ 4; 8; 3 ] true
                    source.SaveWeights path
                    let target = denseModel [ 4; 5; 3 ] true
                    let before = snapshot target
                    let message = kerasError (fun () -> WeightsFile.loadWeights target path)
                    let first = target.Layers[1].Name

                    expectContains
                        message
                        [ first; "variable.shape=(4, 5)"; "value.shape=(4, 8)"; "layers/dense/vars/0" ]

                    Expect.equal (snapshot target) before "weights unchanged")
            }

            test "a layer the file lacks is a clear error; so are weights for a layer the model lacks" {
                inTempFolder "saving" (fun folder ->
                    let path = Path.Combine(folder, "model.weights.h5")
                    (denseModel [ 4; 8; 3 ] true).SaveWeights path

                    let deeper = denseModel [ 4; 8; 3; 2 ] true
                    let before = snapshot deeper
                    let message = kerasError (fun () -> WeightsFile.loadWeights deeper path)

                    expectContains
                        message
                        [
                            deeper.Layers[3].Name
                            "expected 2 variables, but received 0"
                            "layers/dense_2/vars"
                        ]

                    Expect.equal (snapshot deeper) before "weights unchanged"

                    let shallower = denseModel [ 4; 8 ] true
                    let message = kerasError (fun () -> WeightsFile.loadWeights shallower path)
                    expectContains message [ "layers/dense_1"; "another architecture" ]

                    let noBias = denseModel [ 4; 8; 3 ] false
                    let message = kerasError (fun () -> WeightsFile.loadWeights noBias path)
                    expectContains message [ "expected 1 variables, but received 2"; "['kernel']" ])
            }

            test "corrupt, truncated and foreign files give KerasExceptions and change no weight" {
                inTempFolder "saving" (fun folder ->
                    let target = denseModel [ 4; 8; 3 ] true
                    let before = snapshot target

                    let garbage = Path.Combine(folder, "garbage.weights.h5")
                    File.WriteAllBytes(garbage, Array.init 4096 (fun i -> byte ((i * 7919) % 251)))
                    expectContains (kerasError (fun () -> WeightsFile.loadWeights target garbage)) [ garbage ]

                    let good = Path.Combine(folder, "good.weights.h5")
                    let source = denseModel [ 4; 8; 3 ] true
                    randomize source
                    source.SaveWeights good
                    let bytes = File.ReadAllBytes good

                    for keep in [ bytes.Length / 2; bytes.Length - 64; 100; 0 ] do
                        let truncated = Path.Combine(folder, $"truncated{keep}.weights.h5")
                        File.WriteAllBytes(truncated, bytes[.. keep - 1])
                        expectContains (kerasError (fun () -> WeightsFile.loadWeights target truncated)) [ truncated ]

                    expectContains
                        (kerasError (fun () ->
                            WeightsFile.loadWeights (mnistMlp true) (kerasFile "mnist_mlp_keras2.h5")))
                        [ "not a Keras 3 weights file" ]

                    expectContains
                        (kerasError (fun () -> WeightsFile.loadLegacyH5Weights target good))
                        [ "not a legacy Keras HDF5 file" ]

                    expectContains
                        (kerasError (fun () -> WeightsFile.loadWeightsFromKerasArchive target good))
                        [ "not a `.keras` archive" ]

                    Expect.equal (snapshot target) before "weights unchanged"

                    Expect.throwsT<FileNotFoundException>
                        (fun () -> WeightsFile.loadWeights target (Path.Combine(folder, "missing.weights.h5")))
                        "missing file")
            }

            test "legacy loading by name reports Keras's messages for missing layers and shape mismatches" {
                let renamed = mnistMlp false

                let message =
                    kerasError (fun () -> WeightsFile.loadLegacyH5Weights renamed (kerasFile "mnist_mlp_keras2.h5"))

                expectContains message [ renamed.Layers[2].Name; "['dense_6', 'dense_7']" ]

                let input = Keras.Input(shape = [ 28; 28 ])

                let wrong =
                    Keras.Model(
                        input,
                        input
                        --> Layers.Flatten()
                        --> Layers.Dense(64, name = "dense_6")
                        --> Layers.Dense(10, name = "dense_7")
                    )

                let before = snapshot wrong

                let message =
                    kerasError (fun () -> WeightsFile.loadLegacyH5Weights wrong (kerasFile "mnist_mlp_keras2.h5"))

                expectContains message [ "named \"dense_6\""; "expects shape (784, 64)"; "with shape (784, 128)" ]
                Expect.equal (snapshot wrong) before "weights unchanged"
            }
        ]

// ---------------------------------------------------------------------------------------------------------------
// ModelCheckpoint

let private logsOf (pairs: (string * float) list) =
    let d = Dictionary<string, float>()

    for k, v in pairs do
        d[k] <- v

    d :> IReadOnlyDictionary<string, float>

let private controlFor (model: Model) =
    {
        Model = model
        Optimizer = OptimizerState(Optimizers.SGD())
        StopTraining = false
        Epochs = 5
        Steps = 1
    }

/// Sets every weight of the model to one value, so a file shows which epoch wrote it.
let private fill (model: Model) (value: float32) =
    use _ = torch.no_grad ()

    for w in Model.weights model do
        w.Value.fill_ value |> ignore

let private filledWith (path: string) =
    let probe = denseModel [ 3; 2 ] true
    WeightsFile.loadWeights probe path
    snapshot probe |> List.collect List.ofArray |> List.distinct

/// Records the weights at the end of every epoch (runs after the checkpoint in the callback list).
type private Recorder() =
    inherit Callback()
    member val Snapshots = ResizeArray<float32[] list>()

    override this.OnEpochEnd(control, _, _) =
        this.Snapshots.Add(snapshot control.Model)

let private checkpointTests =
    testList
        "ModelCheckpoint"
        [
            test "saveBestOnly with {epoch:02d} writes a file only for the epochs that improve val_loss" {
                inTempFolder "saving" (fun folder ->
                    let model = denseModel [ 3; 2 ] true
                    let control = controlFor model

                    let checkpoint =
                        ModelCheckpoint(Path.Combine(folder, "ckpt-{epoch:02d}.weights.h5"), saveBestOnly = true)

                    [ 1.0; 0.5; 0.7; 0.4; 0.4 ]
                    |> List.iteri (fun epoch loss ->
                        fill model (float32 (epoch + 1))
                        checkpoint.OnEpochEnd(control, epoch, logsOf [ "loss", 9.0; "val_loss", loss ]))

                    let files = Directory.GetFiles folder |> Array.map Path.GetFileName |> Array.sort

                    Expect.equal
                        files
                        [| "ckpt-01.weights.h5"; "ckpt-02.weights.h5"; "ckpt-04.weights.h5" |]
                        "epochs 1, 2 and 4 improved"

                    Expect.equal
                        (checkpoint.SavedPaths |> List.map Path.GetFileName)
                        (List.ofArray files)
                        "saved paths in order"

                    Expect.equal checkpoint.Best 0.4 "best val_loss"

                    for name, epoch in [ "ckpt-01.weights.h5", 1; "ckpt-02.weights.h5", 2; "ckpt-04.weights.h5", 4 ] do
                        Expect.equal
                            (filledWith (Path.Combine(folder, name)))
                            [ float32 epoch ]
                            $"{name} holds epoch {epoch}'s weights")
            }

            test "a fixed name keeps the weights of the best epoch; without saveBestOnly every epoch is written" {
                inTempFolder "saving" (fun folder ->
                    let model = denseModel [ 3; 2 ] true
                    let control = controlFor model
                    let best = Path.Combine(folder, "best.weights.h5")
                    let bestOnly = ModelCheckpoint(best, monitor = "val_accuracy", saveBestOnly = true)
                    let every = ModelCheckpoint(Path.Combine(folder, "all", "e{epoch}.weights.h5"))

                    // val_accuracy is maximized (mode Auto): epochs 1, 2 and 4 improve, 3 and 5 do not.
                    [ 0.5; 0.8; 0.7; 0.9; 0.9 ]
                    |> List.iteri (fun epoch acc ->
                        fill model (float32 (epoch + 1))
                        let logs = logsOf [ "val_accuracy", acc ]
                        bestOnly.OnEpochEnd(control, epoch, logs)
                        every.OnEpochEnd(control, epoch, logs))

                    Expect.equal bestOnly.SavedPaths.Length 3 "three writes"
                    Expect.equal (filledWith best) [ 4.0f ] "the file holds epoch 4's weights"

                    let all =
                        Directory.GetFiles(Path.Combine(folder, "all"))
                        |> Array.map Path.GetFileName
                        |> Array.sort

                    Expect.equal all [| for e in 1..5 -> $"e{e}.weights.h5" |] "one file per epoch, folder created"

                    let minimize =
                        ModelCheckpoint(
                            Path.Combine(folder, "min.weights.h5"),
                            monitor = "val_accuracy",
                            mode = Min,
                            saveBestOnly = true
                        )

                    [ 0.5; 0.8; 0.4 ]
                    |> List.iteri (fun e v -> minimize.OnEpochEnd(control, e, logsOf [ "val_accuracy", v ]))

                    Expect.equal minimize.SavedPaths.Length 2 "mode Min: epochs 1 and 3"

                    let absent =
                        ModelCheckpoint(Path.Combine(folder, "absent.weights.h5"), saveBestOnly = true)

                    absent.OnEpochEnd(control, 0, logsOf [ "loss", 1.0 ])
                    Expect.isEmpty absent.SavedPaths "no val_loss: nothing saved")
            }

            test "during fit, saveBestOnly writes once per improvement and the file holds the best epoch's weights" {
                inTempFolder "saving" (fun folder ->
                    torch.manual_seed 7L |> ignore
                    let model = denseModel [ 3; 8; 1 ] true

                    let compiled =
                        model.Compile(optimizer = Optimizers.SGD(learningRate = ConstantRate 0.05), loss = "mse")

                    let x = torch.randn (64L, 3L)
                    let y = x.sum(1L, true).mul(torch.tensor 0.5f)
                    let vx = torch.randn (16L, 3L)
                    let vy = vx.sum(1L, true).mul(torch.tensor 0.5f)
                    let path = Path.Combine(folder, "fit.weights.h5")
                    let checkpoint = ModelCheckpoint(path, saveBestOnly = true)
                    let recorder = Recorder()

                    let history =
                        compiled.Fit(
                            x,
                            y,
                            batchSize = 16,
                            epochs = 6,
                            verbose = 0,
                            validationData = (Data.Tensor vx, Data.Tensor vy),
                            callbacks = [ checkpoint; recorder ]
                        )

                    let losses = history["val_loss"]

                    let improvements =
                        losses
                        |> List.fold
                            (fun (best, n) v -> if v < best then v, n + 1 else best, n)
                            (Double.PositiveInfinity, 0)
                        |> snd

                    Expect.equal checkpoint.SavedPaths.Length improvements "one write per improvement"
                    let bestEpoch = losses |> List.indexed |> List.minBy snd |> fst
                    let reloaded = denseModel [ 3; 8; 1 ] true
                    WeightsFile.loadWeights reloaded path
                    Expect.equal (snapshot reloaded) recorder.Snapshots[bestEpoch] "the best epoch's weights")
            }

            test "file names follow Python's format placeholders" {
                let checkpoint = ModelCheckpoint("w-{epoch:02d}-{val_loss:.2f}.weights.h5")

                Expect.equal
                    (checkpoint.FormatPath(2, logsOf [ "val_loss", 0.12345 ]))
                    "w-03-0.12.weights.h5"
                    "{epoch:02d} and {val_loss:.2f}"

                let plain = ModelCheckpoint("{{x}}-{epoch}-{loss}-{acc:.1e}-{acc:08.3f}.weights.h5")

                Expect.equal
                    (plain.FormatPath(9, logsOf [ "loss", 0.5; "acc", 0.000123 ]))
                    "{x}-10-0.5-1.2e-04-0000.000.weights.h5"
                    "{epoch}, repr of a float, .1e and zero padding"

                let missing = ModelCheckpoint("{val_auc:.3f}.weights.h5")

                expectContains
                    (kerasError (fun () -> missing.FormatPath(0, logsOf [ "loss", 1.0 ])))
                    [ "val_auc"; "loss" ]
            }

            test "only weights can be checkpointed for now: .keras, save_weights_only=False and other names are refused" {
                expectContains
                    (kerasError (fun () -> ModelCheckpoint("model.keras")))
                    [ "not supported yet"; ".weights.h5" ]

                expectContains
                    (kerasError (fun () -> ModelCheckpoint("model.weights.h5", saveWeightsOnly = false)))
                    [ "save_weights_only" ]

                expectContains (kerasError (fun () -> ModelCheckpoint("model.h5"))) [ "must end in `.weights.h5`" ]
            }
        ]

[<Tests>]
let tests =
    testList "Saving" [ roundTripTests; failureTests; realFileTests; checkpointTests ]
