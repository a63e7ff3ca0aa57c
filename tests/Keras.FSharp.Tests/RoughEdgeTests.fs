/// The F# forms a Keras user expects, each where the old form tripped them up.
module RoughEdgeTests

open System
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators

[<Tests>]
let tests =
    // Alone, after the parallel tests: one starts dotnet fsi, one builds VGG19's 20 million weights.
    testSequenced
    <| testList
        "RoughEdges"
        [
            test "Applications.VGG19 takes Keras's argument names, all optional" {
                let vgg =
                    Applications.VGG19(includeTop = false, inputShape = [ 64; 64; 3 ], pooling = "avg")

                Expect.equal (vgg.CountParams()) 20024384 "Keras's VGG19 without the top"
                Expect.equal (List.last vgg.Outputs).Shape [ None; Some 512 ] "average pooled features"

                let error =
                    Expect.throwsC (fun () -> Applications.VGG19(weights = "imagenet", includeTop = false) |> ignore) id

                Expect.stringContains error.Message "path of a weights file" "says what to give instead"
            }
            test "A constant learning rate is a plain number" {
                // This file compiles with warnings as errors: no implicit-conversion warning either.
                match Optimizers.RMSprop(learningRate = 1e-3) with
                | RMSprop(ConstantRate r, rho, _, _, _, _) -> Expect.equal (r, rho) (1e-3, 0.9) "RMSprop"
                | other -> failtestf "got %A" other

                match Optimizers.Adam(learningRate = 0.01) with
                | Adam(ConstantRate r, _, _, _, _, _) -> Expect.equal r 0.01 "Adam"
                | other -> failtestf "got %A" other

                match Optimizers.SGD(learningRate = 0.1, momentum = 0.9) with
                | SGD(ConstantRate r, m, _, _) -> Expect.equal (r, m) (0.1, 0.9) "SGD"
                | other -> failtestf "got %A" other

                match Optimizers.RMSprop() with
                | RMSprop(ConstantRate r, _, _, _, _, _) -> Expect.equal r 1e-3 "defaults still there"
                | other -> failtestf "got %A" other
            }
            test "An unknown dimension is spelled Dim.Unknown" {
                let x = Keras.Input(shape = [ Dim.Unknown; 32 ])
                Expect.equal x.Shape [ None; None; Some 32 ] "(None, None, 32)"
                Expect.stringContains (string x) "shape=(None, None, 32)" "printed as Keras prints it"
            }
            test "-->> pipes into a layer with several outputs" {
                let inputs = Keras.Input(shape = [ 10; 3 ])

                match inputs -->> Layers.LSTM(4, returnState = true) with
                | [ output; h; c ] ->
                    for t in [ output; h; c ] do
                        Expect.equal t.Shape [ None; Some 4 ] "each (None, 4)"

                    let model = Keras.Model(inputs, [ output; h; c ])
                    Expect.equal model.Outputs.Length 3 "a model of all three"
                | other -> failtestf "expected three outputs, got %d" other.Length

                let single = inputs -->> Layers.Dense(2)
                Expect.equal single.Length 1 "a one-output layer gives a one-element list"
            }
            test "A model copies another's weights with GetWeights and SetWeights" {
                let make () =
                    let inputs = Keras.Input(shape = [ 5 ])
                    Keras.Model(inputs, inputs --> Layers.Dense(4, activation = "relu") --> Layers.Dense(2))

                let original, copy = make (), make ()
                let x = torch.rand (3L, 5L)
                Expect.isFalse (torch.allclose (original.Predict x, copy.Predict x)) "different before"
                copy.SetWeights(original.GetWeights())
                Expect.isTrue (torch.allclose (original.Predict x, copy.Predict x)) "the same after"
                Expect.equal (original.GetWeights().Length) 4 "two kernels and two biases"

                Expect.throwsC (fun () -> copy.SetWeights(original.GetWeights() |> List.take 3)) (fun e ->
                    Expect.stringContains e.Message "expects 4 weights" "count checked")
            }
            test "A custom layer's config takes plain values, no box" {
                let units = 3

                let layer =
                    CustomLayer.Create(
                        "Scale",
                        config = [ "units", units; "name_hint", "s" ],
                        call = fun _ x -> x * 2.0f
                    )

                let y = Keras.Input(shape = [ 3 ]) --> layer
                Expect.equal y.Shape [ None; Some 3 ] "shape inferred"
                let config = Layer.getConfig layer
                Expect.equal (config["units"].GetValue<int>()) 3 "units in the config"
            }
            test "%A (and so dotnet fsi) shows a symbolic tensor as Keras does and a model as its summary" {
                let inputs = Keras.Input(shape = [ 784 ], name = "fsi_in")

                let model =
                    Keras.Model(inputs, inputs --> Layers.Dense(10, name = "fsi_dense"), name = "fsi_model")

                Expect.stringStarts
                    (sprintf "%A" inputs)
                    "<KerasTensor shape=(None, 784), dtype=float32, sparse=False, name="
                    "tensor"

                let shown = sprintf "%A" model
                Expect.stringContains shown "Model: \"fsi_model\"" "summary title"
                Expect.stringContains shown "Total params: 7,850" "summary totals"
            }
            test "dotnet fsi prints a tensor and a model with the printers" {
                let root = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", ".."))
                let references = Path.Combine(root, "examples", "guide", "References.fsx")

                let dll =
                    Path.Combine(root, "src", "Keras.FSharp", "bin", "Release", "net10.0", "Keras.FSharp.dll")

                if not (File.Exists dll) then
                    skiptest "the Release build of Keras.FSharp is not there"

                let input =
                    String.concat
                        "\n"
                        [
                            $"#load @\"{references}\";;"
                            "open Keras;;"
                            "open Keras.Operators;;"
                            "Keras.Native.NativeLoader.ensureLoaded ();;"
                            "let inputs = Keras.Input(shape = [ 784 ]);;"
                            "let model = Keras.Model(inputs, inputs --> Layers.Dense(10), name = \"fsi_model\");;"
                            "#quit;;"
                        ]

                let info =
                    Diagnostics.ProcessStartInfo(
                        "dotnet",
                        [ "fsi"; "--nologo"; "--readline-" ],
                        RedirectStandardInput = true,
                        RedirectStandardOutput = true,
                        RedirectStandardError = true,
                        UseShellExecute = false,
                        WorkingDirectory = root
                    )

                use proc = Diagnostics.Process.Start info
                proc.StandardInput.Write(input + "\n")
                proc.StandardInput.Close()
                let errors = proc.StandardError.ReadToEndAsync()
                let output = proc.StandardOutput.ReadToEnd()
                Expect.isTrue (proc.WaitForExit 180000) "fsi finishes"
                let all = output + errors.Result

                Expect.stringContains all "val inputs: KerasTensor =" "the tensor's binding"

                Expect.stringContains
                    all
                    "<KerasTensor shape=(None, 784), dtype=float32, sparse=False"
                    "shown as Keras does"

                Expect.stringContains all "Model: \"fsi_model\"" "the model's summary"
                Expect.stringContains all "Total params: 7,850" "its totals"
            }
        ]
