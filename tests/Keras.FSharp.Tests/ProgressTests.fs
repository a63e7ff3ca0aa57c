/// Keras's progress output: the exact line formats, and what fit and evaluate print when output is not a terminal.
module ProgressTests

open System
open System.Collections.Generic
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators

let private logs (pairs: (string * float) list) =
    let d = Dictionary<string, float>()

    for k, v in pairs do
        d[k] <- v

    d :> IReadOnlyDictionary<_, _>

[<Tests>]
let tests =
    testList
        "Progress"
        [
            test "The finished line of an epoch is Keras's" {
                let values =
                    logs
                        [
                            "val_loss", 0.1711
                            "loss", 0.5733
                            "accuracy", 0.8425
                            "val_accuracy", 0.9496
                        ]

                let line = Progress.line 750 750 1.2 863e-6 values

                Expect.equal
                    line.Text
                    "750/750 ━━━━━━━━━━━━━━━━━━━━ 1s 863us/step - accuracy: 0.8425 - loss: 0.5733 - val_accuracy: 0.9496 - val_loss: 0.1711"
                    "line"
            }

            test "A running line shows the partial bar and the ETA" {
                let line = Progress.line 75 750 0.5 0.002 (logs [ "loss", 1.23456 ])

                Expect.equal
                    line.Text
                    " 75/750 ━━━━━━━━━━━━━━━━━━━━ 1s 2ms/step - loss: 1.2346"
                    "padded count, ETA of 675 steps at 2 ms"

                Expect.equal (line.Done, line.Remaining) (2, 18) "two of twenty segments done"
            }

            test "The evaluate line is Keras's verbose=2 format" {
                Expect.equal
                    (Progress.summaryLine 313 0.1 341e-6 (logs [ "loss", 0.1288; "accuracy", 0.9613 ]))
                    "313/313 - 0s - 341us/step - accuracy: 0.9613 - loss: 0.1288"
                    "summary line"
            }

            test "Values, times and ETAs use Keras's formats" {
                Expect.equal (Progress.formatValue 0.5) "0.5000" "four decimals"
                Expect.equal (Progress.formatValue 0.00012) "1.2000e-04" "small values in scientific notation"
                Expect.equal (Progress.formatStepTime 2.4) "2s/step" "seconds"
                Expect.equal (Progress.formatStepTime 0.0153) "15ms/step" "milliseconds"
                Expect.equal (Progress.formatEta 65.0) "1:05" "minutes"
                Expect.equal (Progress.formatEta 3725.0) "1:02:05" "hours"
            }

            testSequenced
            <| test "fit and evaluate print Keras's lines when output is not a terminal" {
                let inputs = Keras.Input(shape = [ 3 ])

                let compiled =
                    Keras
                        .Model(inputs, inputs --> Layers.Dense(1))
                        .Compile(optimizer = "sgd", loss = "mse", metrics = [ "mae" ])

                let x, y = torch.rand (40L, 3L), torch.rand (40L, 1L)
                let original = Console.Out
                use capture = new StringWriter()
                Console.SetOut capture

                try
                    compiled.Fit(x, y, batchSize = 16, epochs = 2, validationSplit = 0.25) |> ignore
                    compiled.Evaluate(x, y) |> ignore
                finally
                    Console.SetOut original

                let lines = capture.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
                Expect.equal lines.Length 5 $"two epochs of two lines, then evaluate: {capture}"
                Expect.equal lines[0] "Epoch 1/2" "epoch header"

                Expect.isMatch
                    lines[1]
                    @"^2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: \d\.\d{4}$"
                    "epoch line"

                Expect.equal lines[2] "Epoch 2/2" "second header"

                Expect.isMatch
                    lines[4]
                    @"^2/2 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}$"
                    "evaluate line"
            }

            test "to_categorical one-hot encodes labels and refuses out-of-range ones" {
                let y = Utils.toCategorical (torch.tensor [| 2L; 0L; 1L |]) (Some 3)
                Expect.equal y.shape [| 3L; 3L |] "shape"
                Expect.equal (TestData.values y) [| 0.f; 0.f; 1.f; 1.f; 0.f; 0.f; 0.f; 1.f; 0.f |] "rows"

                Expect.equal
                    (Utils.toCategorical (torch.tensor [| 4L |]) None).shape
                    [| 1L; 5L |]
                    "classes from the largest label"

                Expect.throwsT<KerasException>
                    (fun () -> Utils.toCategorical (torch.tensor [| 3L |]) (Some 3) |> ignore)
                    "label 3 of 3 classes"
            }
        ]
