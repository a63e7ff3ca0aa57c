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

/// A summary row holding every part (layer type, output shape, parameter count). A row is the block of lines between
/// two rules of the table, so a name or type wrapped onto a second line still counts. Layer names are left out where
/// they carry a number: Keras numbers them per session (the guide's "dense_10"), we per process.
let private row (lines: ResizeArray<string>) (parts: string list) =
    let rows =
        lines
        |> Seq.collect (fun (l: string) -> l.Split '\n')
        |> Seq.fold
            (fun (acc: string list list) (line: string) ->
                if line.StartsWith "│" then
                    match acc with
                    | current :: rest -> (line :: current) :: rest
                    | [] -> [ [ line ] ]
                else
                    [] :: acc)
            []
        |> List.map (fun block -> String.concat " " (List.rev block))

    let found =
        rows
        |> List.exists (fun r -> parts |> List.forall (fun (p: string) -> r.Contains p))

    Expect.isTrue found (sprintf "a summary row with %A" parts)

let private cleanUp (outDir: string) =
    if Directory.Exists outDir then
        Directory.Delete(outDir, true)

/// A picture file exists and is a PNG of sensible size (width and height from its header).
let private pngOfSensibleSize (outDir: string) (file: string) =
    let width, height = VisualizationTests.pngSize (Path.Combine(outDir, file))
    Expect.isTrue (width >= 100 && height >= 100 && max width height <= 20000) $"{file}: {width} × {height}"

/// A picture was written (a PNG of sensible size), or (without Graphviz) the example said why and where the DOT file is.
let private pictureOrReason (lines: ResizeArray<string>) (outDir: string) (file: string) =
    let all = text lines

    if Keras.ModelDot.findDot().IsSome then
        Expect.isTrue (File.Exists(Path.Combine(outDir, file))) $"{file} written"
        pngOfSensibleSize outDir file
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
                Expect.stringContains all "Model: \"mnist_model\"" "the summary's title"
                row lines [ "(InputLayer)"; "(None, 784)"; " 0 │" ]
                row lines [ "(Dense)"; "(None, 64)"; "50,240" ]
                row lines [ "(Dense)"; "(None, 64)"; "4,160" ]
                row lines [ "(Dense)"; "(None, 10)"; "650" ]
                Expect.stringContains all "Total params: 55,050 (215.04 KB)" "the guide's parameter count"
                Expect.stringContains all "Trainable params: 55,050 (215.04 KB)" "all trainable"
                Expect.stringContains all "Non-trainable params: 0 (0.00 B)" "none frozen"
                Expect.stringContains all "Test loss: " "evaluation printed"
                Expect.stringContains all "Test accuracy: " "evaluation printed"
                Expect.isGreaterThan scores["accuracy"] 0.8 "learns on 4096 samples"

                Expect.stringContains
                    all
                    "Reloaded my_model.keras: 55050 parameters, same predictions: True"
                    "saved and recreated from the file"

                pictureOrReason lines outDir "my_first_model.png"
                pictureOrReason lines outDir "my_first_model_with_shape_info.png"

                Expect.stringContains all "Wrote mnist_training_curves.png" "says where the curves are"

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
                let all = text lines
                Expect.stringContains all "Model: \"encoder\"" "encoder summary"
                Expect.stringContains all "Total params: 18,672 (72.94 KB)" "the guide's encoder total"
                Expect.stringContains all "Model: \"autoencoder\"" "autoencoder summary"
                Expect.stringContains all "Total params: 28,241 (110.32 KB)" "the guide's autoencoder total"
                row lines [ "(InputLayer)"; "(None, 28, 28, 1)"; " 0 │" ]
                row lines [ "(MaxPooling2D)"; "(None, 8, 8, 32)" ]
                row lines [ "(Conv2D)"; "(None, 4, 4, 16)"; "4,624" ]
                row lines [ "(GlobalMaxPooling2D)"; "(None, 16)"; " 0 │" ]
                row lines [ "(Reshape)"; "(None, 4, 4, 1)" ]
                row lines [ "(UpSampling2D)"; "(None, 24, 24, 32)" ]
                row lines [ "(Conv2DTranspose)"; "(None, 28, 28, 1)"; "145" ]
                cleanUp outDir
            }
            test "nested_models: encoder and decoder nested, an ensemble of three averaged" {
                let run, lines, outDir = quickRun ()
                let autoencoder, ensemble = Examples.NestedModels.main run
                let all = text lines
                Expect.stringContains all "Model: \"decoder\"" "decoder summary"
                Expect.stringContains all "Total params: 18,672 (72.94 KB)" "the guide's encoder total"
                Expect.stringContains all "Total params: 9,569 (37.38 KB)" "the guide's decoder total"
                Expect.stringContains all "Total params: 28,241 (110.32 KB)" "the guide's autoencoder total"
                row lines [ "original_img (InputLayer)"; "(None, 28, 28, 1)" ]
                row lines [ "encoded_img (InputLayer)"; "(None, 16)" ]
                row lines [ "encoder (Functional)"; "(None, 16)"; "18,672" ]
                row lines [ "decoder (Functional)"; "(None, 28, 28, 1)"; "9,569" ]
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

                // The picture's graph: three named inputs with the guide's shapes, two named outputs.
                let dot = File.ReadAllText(Path.Combine(outDir, "multi_input_and_output_model.dot"))

                for name in [ "title"; "body"; "tags"; "priority"; "department" ] do
                    Expect.stringContains dot $"<b>{name}</b>" $"a box for {name}"

                Expect.stringContains dot "Output shape: (None, None)" "variable-length text inputs"
                Expect.stringContains dot "Output shape: (None, 12)" "the tags input"
                Expect.stringContains dot "Output shape: (None, 172)" "the concatenated features"
                cleanUp outDir
            }
            test "toy_resnet: summary, plot, one epoch on CIFAR-10 or random data, saying which" {
                let run, lines, outDir = quickRun ()
                let model, history = Examples.ToyResNet.main run
                let all = text lines
                Expect.stringContains all "Model: \"toy_resnet\"" "the summary's title"
                Expect.stringContains all "Connected to" "the fourth column of a non-sequential graph"
                row lines [ "(Conv2D)"; "(None, 30, 30, 32)"; "896" ]
                row lines [ "(Conv2D)"; "(None, 28, 28, 64)"; "18,496" ]
                row lines [ "(MaxPooling2D)"; "(None, 9, 9, 64)" ]
                row lines [ "(Add)"; "(None, 9, 9, 64)"; "max_pooling2d" ] // the first skip connection

                Expect.isTrue
                    (Text.RegularExpressions.Regex.IsMatch(all, @"\badd(_\d+)?\[0\]\[0\]"))
                    "an Add's output feeds the next block"

                row lines [ "(Conv2D)"; "(None, 7, 7, 64)"; "36,928" ]
                row lines [ "(Dense)"; "(None, 256)"; "16,640" ]
                row lines [ "(Dropout)"; "(None, 256)" ]
                row lines [ "(Dense)"; "(None, 10)"; "2,570" ]
                Expect.stringContains all "Total params: 223,242 (872.04 KB)" "the guide's total"
                Expect.stringContains all "epoch 1: acc: " "the guide's metric name"
                Expect.stringContains all " - val_loss: " "validation split"

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
                let all = text lines
                row lines [ "(CustomDense)"; "(None, 10)"; "50" ]
                Expect.stringContains all "prediction: (2, 10)" "predicts"

                Expect.stringContains
                    all
                    "new_model: 50 parameters, same config: True"
                    "from_config with the custom class gives the same config"

                cleanUp outDir
            }
            test "when_to_use: the MLP functional and subclassed, checked while defined, cloned" {
                let run, lines, outDir = quickRun ()
                let mlp, subclassed = Examples.WhenToUse.main run
                let all = text lines
                // 32 × 64 + 64 and 64 × 10 + 10, both ways.
                Expect.stringContains all "mlp: 2762 parameters; subclassed MLP: 2762 parameters" "the same MLP"
                Expect.equal (mlp.CountParams(), subclassed.CountParams()) (2762, 2762) "parameters"

                Expect.stringContains
                    all
                    "is incompatible with the layer: expected axis -1 of input shape to have value 32, but received input with shape (None, 16)"
                    "Keras's message, at definition time"

                Expect.stringContains all "clone_model: 3 layers, 2762 parameters" "cloned from its config"
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
