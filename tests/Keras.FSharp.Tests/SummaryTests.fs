/// Golden tests of model.summary() against the Keras guide's printed tables.
module SummaryTests

open Expecto
open Keras
open Keras.Operators

/// The summary the guide prints for its first model.
let private mnistGolden =
    """Model: "mnist_model"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━┓
┃ Layer (type)                         ┃ Output Shape                ┃         Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━┩
│ input_layer_5 (InputLayer)           │ (None, 784)                 │               0 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_10 (Dense)                     │ (None, 64)                  │          50,240 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_11 (Dense)                     │ (None, 64)                  │           4,160 │
├──────────────────────────────────────┼─────────────────────────────┼─────────────────┤
│ dense_12 (Dense)                     │ (None, 10)                  │             650 │
└──────────────────────────────────────┴─────────────────────────────┴─────────────────┘
 Total params: 55,050 (215.04 KB)
 Trainable params: 55,050 (215.04 KB)
 Non-trainable params: 0 (0.00 B)
"""

[<Tests>]
let tests =
    testList
        "Summary"
        [
            test "The guide's MNIST model prints the guide's table and footer" {
                // The guide's names come from earlier cells in its notebook; name the layers alike.
                let inputs = Keras.Input(shape = [ 784 ], name = "input_layer_5")
                let x = inputs --> Layers.Dense(64, activation = "relu", name = "dense_10")
                let x = x --> Layers.Dense(64, activation = "relu", name = "dense_11")
                let outputs = x --> Layers.Dense(10, name = "dense_12")
                let model = Keras.Model(inputs, outputs, name = "mnist_model")
                Expect.equal (model.SummaryText()) mnistGolden "golden summary"
            }

            test "Readable sizes use Keras's units" {
                Expect.equal (Summary.readableSize 0.0) "0.00 B" "zero"
                Expect.equal (Summary.readableSize 220200.0) "215.04 KB" "55,050 float32"
                Expect.equal (Summary.readableSize (3.0 * 1024.0 * 1024.0)) "3.00 MB" "megabytes"
            }

            test "A graph with merges gets the Connected to column, Keras's 108 columns and wrapping" {
                let a = Keras.Input(shape = [ 3 ], name = "left")
                let b = Keras.Input(shape = [ 3 ], name = "right")
                let merged = Layers.concatenate ([ a; b ], name = "merge")
                let out = merged --> Layers.Dense(2, name = "dense_with_a_long_name")
                let model = Keras.Model([ a; b ], out, name = "two_inputs")
                let lines = model.SummaryText().Split('\n')
                Expect.equal lines[0] "Model: \"two_inputs\"" "title"
                Expect.equal lines[1].Length 108 "line length"
                Expect.stringContains lines[2] "Connected to" "fourth column"
                Expect.isTrue (lines |> Array.exists (fun l -> l.Contains "left[0][0], right[0][0]")) "merge inputs"
                Expect.isTrue (lines |> Array.exists (fun l -> l.Contains "merge[0][0]")) "dense input"
                // "dense_with_a_long_name (Dense)" is 30 characters: it wraps at the space in the 29-character column.
                Expect.isTrue
                    (lines
                     |> Array.exists (fun l -> l.StartsWith "│ dense_with_a_long_name        │"))
                    "name on the first line"

                Expect.isTrue (lines |> Array.exists (fun l -> l.StartsWith "│ (Dense) ")) "class on the second line"
                Expect.stringContains (model.SummaryText()) " Total params: 14 (56.00 B)" "footer"
            }

            test "Words longer than the column are cut with an ellipsis, as rich does" {
                let a = Keras.Input(shape = [ 3 ], name = "x")
                let b = Keras.Input(shape = [ 3 ], name = "y")

                let out =
                    Layers.add [ a; b ] --> Layers.Dense(2, name = "a_dense_layer_with_a_long_name")

                let lines = Keras.Model([ a; b ], out).SummaryText().Split('\n')

                Expect.isTrue
                    (lines
                     |> Array.exists (fun l -> l.StartsWith "│ a_dense_layer_with_a_long_na… │"))
                    "28 characters and an ellipsis"

                Expect.isTrue
                    (lines
                     |> Array.exists (fun l -> l.StartsWith "│ (Dense)                       │"))
                    "the next word on its own line"
            }

            test "A nested model is one row with its total" {
                let inner = ModelTests.mnistModel ()
                let i = Keras.Input(shape = [ 784 ], name = "outer_input")

                let outer =
                    Keras.Model(i, inner.Call i --> Layers.Dense(1, name = "head"), name = "outer")

                let text = outer.SummaryText()
                Expect.stringContains text "│ mnist_model (Functional)" "nested row"
                Expect.stringContains text "55,050 │" "nested total"
                Expect.stringContains text "Total params: 55,061 (215.08 KB)" "footer counts the nested weights"
            }
        ]
