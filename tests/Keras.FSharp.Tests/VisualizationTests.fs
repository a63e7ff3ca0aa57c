/// plot_model's DOT text and pictures for the guide's models, and training curves drawn from a History.
module VisualizationTests

open System
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators

/// The guide's first model: the MNIST MLP.
let mnistMlp () =
    let inputs = Keras.Input(shape = [ 784 ], name = "mnist_input")
    let x = inputs --> Layers.Dense(64, activation = "relu", name = "mlp_dense")
    let x = x --> Layers.Dense(64, activation = "relu", name = "mlp_dense_1")
    let outputs = x --> Layers.Dense(10, name = "mlp_dense_2")
    Keras.Model(inputs, outputs, name = "mnist_model")

/// The guide's ticket-routing model: three inputs, two named outputs.
let ticketRouting () =
    let numTags, numWords, numDepartments = 12, 10000, 4
    let title = Keras.Input(shape = [ -1 ], name = "title", dtype = Int64)
    let body = Keras.Input(shape = [ -1 ], name = "body", dtype = Int64)
    let tags = Keras.Input(shape = [ numTags ], name = "tags")
    let titleFeatures = title --> Layers.Embedding(numWords, 64) --> Layers.LSTM(128)
    let bodyFeatures = body --> Layers.Embedding(numWords, 64) --> Layers.LSTM(32)
    let x = Layers.concatenate [ titleFeatures; bodyFeatures; tags ]
    let priority = x --> Layers.Dense(1, name = "priority")
    let department = x --> Layers.Dense(numDepartments, name = "department")
    Keras.Model([ title; body; tags ], [ "priority", priority; "department", department ], name = "ticket_routing")

let private tempFile (ext: string) =
    Path.Combine(Path.GetTempPath(), $"keras-plot-{Guid.NewGuid():N}.{ext}")

/// Width and height from a PNG's IHDR chunk, after checking the signature.
let pngSize (file: string) =
    let bytes = File.ReadAllBytes file
    let signature = [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |]
    Expect.isGreaterThan bytes.Length 33 "a PNG has a header"
    Expect.sequenceEqual bytes[0..7] signature "PNG signature"

    let be (i: int) =
        (int bytes[i] <<< 24)
        ||| (int bytes[i + 1] <<< 16)
        ||| (int bytes[i + 2] <<< 8)
        ||| int bytes[i + 3]

    be 16, be 20

let private count (text: string) (part: string) =
    (text.Length - text.Replace(part, "").Length) / part.Length

let private edgeCount (dot: string) = count dot "\" -> \""

[<Tests>]
let tests =
    // Alone, after the parallel tests: examples train and seed the generator; ScottPlot and Skia draw.
    testSequenced
    <| testList
        "Visualization"
        [
            test "The MNIST MLP's DOT has one box per layer, three edges, and Keras's shape labels" {
                let model = mnistMlp ()
                let dot = Plot.ModelToDot(model, showShapes = true, showLayerActivations = true)
                Expect.stringStarts dot "digraph \"mnist_model\" {" "a digraph named after the model"
                Expect.equal (count dot "[label=<") 4 "input and three Dense boxes"
                Expect.equal (edgeCount dot) 3 "a chain of three edges"
                Expect.stringContains dot "<b>mlp_dense</b> (Dense)" "name and class"
                Expect.stringContains dot "Input shape: (None, 784)" "the input's shape"
                Expect.stringContains dot "Output shape: (None, 64)" "a Dense output shape"
                Expect.stringContains dot "Output shape: (None, 10)" "the logits' shape"
                Expect.stringContains dot "Activation: relu" "activations shown"
                Expect.stringContains dot "rankdir=\"TB\"" "top to bottom by default"
            }
            test "Options hide names and shapes, show dtypes and turn the graph left to right" {
                let dot =
                    Plot.ModelToDot(mnistMlp (), showLayerNames = false, showDtype = true, rankdir = "LR")

                Expect.isFalse (dot.Contains "mlp_dense</b>") "no layer names"
                Expect.isFalse (dot.Contains "shape:") "no shapes by default"
                Expect.stringContains dot "<b>Dense</b>" "the class alone"
                Expect.stringContains dot "Output dtype: float32" "dtypes"
                Expect.stringContains dot "rankdir=\"LR\"" "left to right"
            }
            test "The ticket-routing DOT joins three branches in the concatenation and ends in two outputs" {
                let dot = Plot.ModelToDot(ticketRouting (), showShapes = true)
                Expect.equal (count dot "(InputLayer)") 3 "three inputs"

                Expect.stringContains
                    dot
                    "Input shape: [(None, 128), (None, 32), (None, 12)]"
                    "the concatenation's inputs"

                Expect.stringContains dot "Output shape: (None, 172)" "its output"
                Expect.stringContains dot "<b>priority</b> (Dense)" "priority head"
                Expect.stringContains dot "<b>department</b> (Dense)" "department head"
                Expect.equal (edgeCount dot) 9 "2 + 2 + 3 + 2 edges"
            }
            test "The toy ResNet's DOT shows both skip connections" {
                let dot = Plot.ModelToDot(GuideTests.toyResnet (), showShapes = true)
                Expect.equal (count dot "(Add)") 2 "two Add boxes"
                Expect.equal (edgeCount dot) 16 "14 chained edges and 2 skip edges"
                Expect.stringContains dot "Output shape: (None, 9, 9, 64)" "the residual blocks' shape"
            }
            test "A nested model is one box, or a cluster of its layers when expanded" {
                let encoderInput = Keras.Input(shape = [ 8 ], name = "enc_in")

                let encoder =
                    Keras.Model(encoderInput, encoderInput --> Layers.Dense(4, name = "enc_dense"), name = "enc")

                let outerInput = Keras.Input(shape = [ 8 ], name = "outer_in")

                let outer =
                    Keras.Model(outerInput, outerInput --> encoder --> Layers.Dense(2, name = "head"), name = "outer")

                let flat = Plot.ModelToDot(outer)
                Expect.stringContains flat "<b>enc</b> (Functional)" "one box"
                Expect.isFalse (flat.Contains "cluster") "no cluster"
                let expanded = Plot.ModelToDot(outer, expandNested = true)
                Expect.stringContains expanded "subgraph \"cluster_" "a cluster"
                Expect.stringContains expanded "label=\"enc (Functional)\"" "labelled with the nested model"
                Expect.stringContains expanded "<b>enc_dense</b> (Dense)" "its layers inside"
                Expect.equal (edgeCount expanded) 3 "outer_in → enc_in → enc_dense → head"
            }
            test "Without Graphviz, a PNG request writes the DOT file and says how to install dot" {
                let file = tempFile "png"

                let error =
                    try
                        ModelDot.plotUsing None ModelDot.defaultOptions file (mnistMlp ()) |> ignore
                        failtest "expected a KerasException"
                    with :? KerasException as e ->
                        e

                let dotFile = Path.ChangeExtension(file, ".dot")
                Expect.isTrue (File.Exists dotFile) "the DOT file is written"
                Expect.stringContains error.Message "apt-get install graphviz" "how to install"
                Expect.stringContains error.Message dotFile "where the DOT file is"
                File.Delete dotFile
            }
            test "A .dot file needs no Graphviz" {
                let file = tempFile "dot"
                let written = ModelDot.plotUsing None ModelDot.defaultOptions file (mnistMlp ())
                Expect.stringStarts (File.ReadAllText written) "digraph" "DOT text"
                File.Delete written
            }
            test "Where Graphviz is installed, the guide's models render to PNGs of sensible size" {
                match ModelDot.findDot () with
                | None -> skiptest "Graphviz's dot is not installed"
                | Some _ ->
                    for model, minHeight in [ mnistMlp (), 200; ticketRouting (), 200; GuideTests.toyResnet (), 600 ] do
                        let file = tempFile "png"
                        Plot.Model(model, file, showShapes = true, dpi = 72) |> ignore
                        let width, height = pngSize file
                        Expect.isGreaterThan width 100 $"{model.Name}: width {width}"
                        Expect.isGreaterThan height minHeight $"{model.Name}: height {height}"
                        Expect.isLessThan (max width height) 20000 $"{model.Name}: not absurd"
                        File.Delete file
                        File.Delete(Path.ChangeExtension(file, ".dot"))
            }
            test "A history plots one panel per metric to PNG and SVG" {
                let values =
                    readOnlyDict
                        [
                            "loss", [ 1.0; 0.6; 0.4 ]
                            "accuracy", [ 0.5; 0.7; 0.8 ]
                            "val_loss", [ 1.1; 0.7; 0.5 ]
                            "val_accuracy", [ 0.45; 0.65; 0.75 ]
                        ]

                let history = History([ 0; 1; 2 ], values)
                let panels = HistoryPlot.panels history
                Expect.equal (panels |> List.map (fun (n, _, _) -> n)) [ "loss"; "accuracy" ] "val_ merged into panels"
                let png = history.Plot(tempFile "png")
                Expect.equal (pngSize png) (640, 720) "two 640×360 panels"

                // Each panel is drawn (ScottPlot clears what it draws on: a later panel must not erase an earlier one).
                use bitmap = SkiaSharp.SKBitmap.Decode png

                let inked (top: int) =
                    seq {
                        for y in top + 40 .. 8 .. top + 320 do
                            for x in 80..8..600 -> bitmap.GetPixel(x, y)
                    }
                    |> Seq.filter (fun c -> c.Red < 200uy || c.Green < 200uy || c.Blue < 200uy)
                    |> Seq.length

                Expect.isGreaterThan (inked 0) 10 "the loss panel is drawn"
                Expect.isGreaterThan (inked 360) 10 "the accuracy panel is drawn"
                let svg = Plot.History(history, tempFile "svg", width = 400, panelHeight = 300)
                let text = File.ReadAllText svg
                Expect.stringContains text "<svg" "an SVG"
                Expect.stringContains text "validation" "the legend"
                File.Delete png
                File.Delete svg
            }
        ]
