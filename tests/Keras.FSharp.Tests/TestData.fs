/// Shared test helpers: where the real data lives, tensors from arrays, and Keras's layer-test helper.
module TestData

open System
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators

/// A directory and its ancestors, nearest first.
let rec private ancestors (dir: DirectoryInfo) =
    match dir.Parent with
    | null -> [ dir ]
    | parent -> dir :: ancestors parent

/// <c>shared/data/&lt;sub&gt;</c> beside an ancestor of the test binary or of the current directory
/// (CI clones the repository with <c>shared</c> as a sibling of its root).
let sharedData (sub: string) =
    [ AppContext.BaseDirectory; Environment.CurrentDirectory ]
    |> List.collect (DirectoryInfo >> ancestors)
    |> List.map (fun d -> Path.Combine(d.FullName, "shared", "data", sub))
    |> List.tryFind Directory.Exists
    |> Option.defaultWith (fun () ->
        failtestf "shared/data/%s not found above the test binary or the current directory" sub)

/// A float32 tensor from rows.
let tensor2 (rows: float32 list list) =
    Native.NativeLoader.ensureLoaded ()
    torch.tensor (array2D rows)

/// The values of a tensor as a flat float array.
let values (t: torch.Tensor) =
    t.detach().cpu().to_type(torch.ScalarType.Float32).contiguous().data<float32>().ToArray()

/// Asserts two float arrays agree within a tolerance.
let closeTo (tolerance: float32) (expected: float32[]) (actual: float32[]) message =
    Expect.equal actual.Length expected.Length $"{message}: length"

    Array.iteri2
        (fun i (e: float32) (a: float32) ->
            if abs (e - a) > tolerance then
                failtestf "%s: element %d is %g, expected %g (tolerance %g)" message i a e tolerance)
        expected
        actual

/// Keras's <c>run_layer_test</c>: calls the layer symbolically on <paramref name="inputShapes"/> and checks the
/// output shape and weight count, then eagerly on random data with the unknown dimensions set to 2 and checks the
/// concrete output shape agrees with the symbolic one.
let runLayerTest (layer: Layer) (inputShapes: Shape list) (expectedOutput: Shape) (expectedWeights: int) =
    let symbolic =
        inputShapes |> List.map (fun s -> CoreLayers.input None (Some s) Float32 None)

    let output = Layer.callMany layer symbolic |> List.exactlyOne
    Expect.equal output.Shape expectedOutput $"symbolic output shape of {layer.Name}"
    Expect.equal (Layer.weights layer).Length expectedWeights $"number of weights of {layer.Name}"

    let concrete =
        inputShapes
        |> List.map (fun s -> torch.randn (s |> List.map (Option.defaultValue 2 >> int64) |> Array.ofList))

    let result = Layer.callEager layer false concrete |> List.exactlyOne
    Expect.equal result.shape.Length expectedOutput.Length $"eager output rank of {layer.Name}"

    // Known dimensions must match exactly; an unknown one was either the batch (2) or depends on the data.
    expectedOutput
    |> List.iteri (fun i d ->
        d
        |> Option.iter (fun n -> Expect.equal result.shape[i] (int64 n) $"eager output axis {i} of {layer.Name}"))

    Expect.equal result.shape[0] 2L $"eager batch of {layer.Name}"

/// The error and message of the KerasException the action raises; fails the test when it raises none.
let kerasError (f: unit -> 'a) =
    try
        f () |> ignore
        failtest "expected a KerasException"
    with :? KerasException as e ->
        e.Error, e.Message

/// Runs <paramref name="f"/> in a fresh temporary folder (under keras-fsharp-<paramref name="purpose"/>), removed
/// afterwards.
let inTempFolder (purpose: string) (f: string -> 'T) =
    let folder =
        Path.Combine(Path.GetTempPath(), $"keras-fsharp-{purpose}", Guid.NewGuid().ToString "N")

    Directory.CreateDirectory folder |> ignore

    try
        f folder
    finally
        try
            Directory.Delete(folder, true)
        with _ ->
            ()

/// <summary>A model loaded from a saved copy of <paramref name="model"/> has the same config and predicts the same
/// (1e-6, batches of 8) on <paramref name="x"/>.</summary>
let expectSameAfterLoad (model: Model) (loaded: Model) (x: torch.Tensor) =
    Expect.equal ((Model.getConfig loaded).ToJsonString()) ((Model.getConfig model).ToJsonString()) "same config"

    closeTo
        1e-6f
        (values (Model.predictMany model 8 [ x ] |> List.head))
        (values (Model.predictMany loaded 8 [ x ] |> List.head))
        "same predictions"

/// A model file written by Python Keras, in shared/data/keras.
let kerasFile (name: string) = Path.Combine(sharedData "keras", name)

/// The real MNIST test set: images / 255 as float32 (10000, 28, 28) and the labels.
let mnistTest =
    lazy
        (let data = Keras.Datasets.Mnist.loadFrom (sharedData "mnist")
         use raw = Keras.Datasets.Tensors.ofImages data.XTest

         let x =
             raw.to_type(torch.ScalarType.Float32).div(torch.tensor 255.0f).DetachFromDisposeScope()

         x, torch.tensor(data.YTest |> Array.map int64).DetachFromDisposeScope())

/// Correct predictions of a model on the 10,000 MNIST test images (given as <paramref name="x"/> in the model's input
/// layout), and its outputs for the first 8.
let evaluateMnist (model: Model) (x: torch.Tensor) =
    let _, labels = mnistTest.Value
    let probabilities = Model.predictMany model 1000 [ x ] |> List.head
    let correct = probabilities.argmax(1L).eq(labels).sum().item<int64>() |> int
    correct, values (probabilities.narrow (0L, 0L, 8L))

/// Every weight of a model as flat values, in Keras's order.
let snapshot (model: Model) =
    Model.weights model |> List.map (fun w -> values w.Value)

/// The CNN of mnist_cnn_keras3.keras and mnist_cnn_keras3_legacy.h5, with the layer names of their configs.
let mnistCnn () =
    let input = Keras.Input(shape = [ 28; 28; 1 ])

    let output =
        input
        --> Layers.Conv2D(32, 3, activation = "relu", name = "conv2d")
        --> Layers.MaxPooling2D(2, name = "max_pooling2d")
        --> Layers.Conv2D(64, 3, activation = "relu", name = "conv2d_1")
        --> Layers.MaxPooling2D(2, name = "max_pooling2d_1")
        --> Layers.Flatten(name = "flatten")
        --> Layers.Dropout(0.5, name = "dropout")
        --> Layers.Dense(10, activation = "softmax", name = "dense")

    Keras.Model(input, output, name = "sequential")
