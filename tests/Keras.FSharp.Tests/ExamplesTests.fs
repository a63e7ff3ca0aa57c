/// Every guide example (examples/guide/*.fs, the logic behind its .fsx script) run in quick mode, in process, with
/// its key output lines checked, so the examples never rot.
module ExamplesTests

open System
open System.IO
open Expecto
open Keras
open Examples.Example

/// A quick run that collects the printed lines, writing pictures to a fresh temporary folder.
let private quickRun () =
    let lines = ResizeArray<string>()
    let outDir = Path.Combine(Path.GetTempPath(), $"keras-examples-{Guid.NewGuid():N}")

    let run =
        {
            Quick = true
            Print = fun line -> lock lines (fun () -> lines.Add line)
            OutDir = outDir
        }

    run, lines, outDir

let private text (lines: ResizeArray<string>) = String.Join("\n", lines)

let private cleanUp (outDir: string) =
    if Directory.Exists outDir then
        Directory.Delete(outDir, true)

/// A picture was written, or (without Graphviz) the example said why and where the DOT file is.
let private pictureOrReason (lines: ResizeArray<string>) (outDir: string) (file: string) =
    let all = text lines

    if Keras.ModelDot.findDot().IsSome then
        Expect.isTrue (File.Exists(Path.Combine(outDir, file))) $"{file} written"
    else
        Expect.stringContains all "apt-get install graphviz" "says how to install Graphviz"

    Expect.isTrue (File.Exists(Path.Combine(outDir, Path.ChangeExtension(file, ".dot")))) "the DOT file is written"

[<Tests>]
let tests =
    // Alone, after the parallel tests: examples train and seed the generator; ScottPlot and Skia draw.
    testSequenced
    <| testList
        "Examples"
        [
            test "mnist_mlp: inputs, summary, plots, fit, evaluate and training curves" {
                let run, lines, outDir = quickRun ()
                let scores = Examples.MnistMlp.main run (Some(TestData.sharedData "mnist"))
                let all = text lines
                Expect.stringContains all "inputs.shape: (None, 784)" "the guide's inputs.shape"
                Expect.stringContains all "inputs.dtype: float32" "the guide's inputs.dtype"
                Expect.stringContains all "Total params: 55,050 (215.04 KB)" "the guide's parameter count"
                Expect.stringContains all "Test accuracy: " "evaluation printed"
                Expect.isGreaterThan scores["accuracy"] 0.8 "learns on 4096 samples"
                pictureOrReason lines outDir "my_first_model_with_shape_info.png"

                let width, height =
                    VisualizationTests.pngSize (Path.Combine(outDir, "mnist_training_curves.png"))

                Expect.equal (width, height) (640, 720) "loss and accuracy panels"
                cleanUp outDir
            }
            test "autoencoder: one graph of layers, two models" {
                let run, lines, outDir = quickRun ()
                let encoder, autoencoder = Examples.Autoencoder.main run
                Expect.equal (encoder.CountParams()) 18672 "encoder"
                Expect.equal (autoencoder.CountParams()) 28241 "autoencoder"
                Expect.stringContains (text lines) "Total params: 28,241 (110.32 KB)" "summary printed"
                cleanUp outDir
            }
            test "nested_models: encoder and decoder nested, an ensemble of three averaged" {
                let run, lines, outDir = quickRun ()
                let autoencoder, ensemble = Examples.NestedModels.main run
                let all = text lines
                Expect.stringContains all "Model: \"decoder\"" "decoder summary"
                Expect.stringContains all "encoder (Functional)" "the encoder is one layer of the autoencoder"
                Expect.equal (autoencoder.CountParams()) 28241 "same parameters as the flat autoencoder"
                Expect.stringContains all "ensemble output: (4, 1), 387 parameters" "three Dense(1) on 128 features"
                Expect.equal (ensemble.CountParams()) 387 "ensemble"
                pictureOrReason lines outDir "autoencoder_nested.png"
                cleanUp outDir
            }
            test "ticket_routing: plot, list and dict losses, fit on random data" {
                let run, lines, outDir = quickRun ()
                let model, history = Examples.TicketRouting.main run
                Expect.equal (model.Inputs.Length, model.Outputs.Length) (3, 2) "three inputs, two outputs"
                Expect.isTrue (history.History.ContainsKey "priority_loss") "per-output losses"
                Expect.stringContains (text lines) "final loss: " "fit ran"
                pictureOrReason lines outDir "multi_input_and_output_model.png"
                cleanUp outDir
            }
            test "toy_resnet: summary, plot, one epoch on CIFAR-10 or random data, saying which" {
                let run, lines, outDir = quickRun ()
                let model, history = Examples.ToyResNet.main run
                let all = text lines
                Expect.stringContains all "Total params: 223,242 (872.04 KB)" "the guide's total"

                Expect.isTrue
                    (all.Contains "CIFAR-10 from Keras's cache"
                     || all.Contains "training on random data")
                    "says which data"

                Expect.equal history["loss"].Length 1 "one epoch"
                Expect.equal (model.CountParams()) 223242 "parameters"
                pictureOrReason lines outDir "mini_resnet.png"
                cleanUp outDir
            }
            test "shared_layers: one embedding, two inputs" {
                let run, lines, outDir = quickRun ()
                let model = Examples.SharedLayers.main run
                Expect.equal (model.CountParams()) 128000 "one table of 1000 × 128"
                Expect.stringContains (text lines) "shape=(None, None, 128)" "encoded inputs printed"
                cleanUp outDir
            }
            test "intermediate_outputs: VGG19's activations as outputs, no pretrained weights said" {
                let run, lines, outDir = quickRun ()
                let model = Examples.IntermediateOutputs.main run None
                let all = text lines
                Expect.stringContains all "No pretrained weights here" "says there are no pretrained weights"
                Expect.stringContains all "vgg19: 20024384 parameters" "the convolutional base"
                Expect.equal model.Outputs.Length 21 "one output per layer after the input"
                Expect.stringContains all "21 feature maps, the last (1, 1, 1, 512)" "features extracted"
                cleanUp outDir
            }
            test "custom_layers: CustomDense in a functional model" {
                let run, lines, outDir = quickRun ()
                let model = Examples.CustomLayers.main run
                Expect.equal (model.CountParams()) 50 "4 × 10 + 10"
                Expect.stringContains (text lines) "prediction: (2, 10)" "predicts"
                cleanUp outDir
            }
            test "mix_and_match: a model in a custom RNN, the RNN in a model" {
                let run, lines, outDir = quickRun ()
                let _ = Examples.MixAndMatch.main run
                let all = text lines
                Expect.stringContains all "features: (1, 10, 32)" "the guide's printed features shape"

                Expect.stringContains
                    all
                    "prediction: (16, 8, 1)"
                    "the functional model around the RNN (Conv1D leaves 8 steps)"

                cleanUp outDir
            }
        ]
