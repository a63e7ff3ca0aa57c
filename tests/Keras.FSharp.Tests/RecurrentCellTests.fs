/// StackedRNNCells and user cells in configs (issue 13): a stack of cells equals the same recurrent layers stacked with
/// return_sequences, Keras's config and weight paths, and user cells saved with their registered name.
module RecurrentCellTests

open System.IO
open System.Text.Json.Nodes
open Expecto
open PureHDF
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private h5Shapes (path: string) =
    use file = H5File.OpenRead path

    let rec walk (prefix: string) (g: IH5Group) =
        [
            for c in g.Children() do
                let p = if prefix = "" then c.Name else prefix + "/" + c.Name

                match c with
                | :? IH5Group as sub -> yield! walk p sub
                | :? IH5Dataset as d -> yield p, (d.Space.Dimensions |> Array.map int |> List.ofArray)
                | _ -> ()
        ]

    walk "" file |> Map.ofList

let private first (outputs: torch.Tensor list) = List.head outputs

/// The JSON node at a path of keys.
let private node (root: JsonNode) (keys: string list) =
    (root, keys) ||> List.fold (fun n (key: string) -> n[key])

/// A user cell with two states of different sizes: h = tanh(x·W + h·U), a running sum s of the inputs projected to 2.
type private TwoStateCell(units: int) =
    interface RNNLayers.IRecurrentCell with
        member _.ClassName = "TwoStateCell"
        member _.OutputSize = units
        member _.StateSizes = [ units; 2 ]

        member _.Build(inputDim) =
            [
                Constraint.trainableWeight "kernel" [ inputDim; units ] GlorotUniform None
                Constraint.trainableWeight "recurrent_kernel" [ units; units ] (Orthogonal 1.0) None
                Constraint.trainableWeight "summary" [ inputDim; 2 ] GlorotUniform None
            ]

        member _.Step(weights, input, states) =
            match states with
            | [ h; s ] ->
                let output = (Ops.matmul input weights[0]).add(Ops.matmul h weights[1]).tanh()
                output, [ output; s.add (Ops.matmul input weights[2]) ]
            | _ -> failwith "two states"

        member _.Config() =
            Config.ofList [ "units", Config.value units ]

let private registered = "Custom>TwoStateCell"

let private registerTwoState () =
    CustomObjects.register registered (fun config ->
        RNNLayers.registeredCell (TwoStateCell(config["units"].GetValue<int>())) registered None)

[<Tests>]
let stackedTests =
    testList
        "StackedRNNCells"
        [
            // Keras draws a cell's dropout masks once per sequence. With a time-constant input and no recurrent weights,
            // each step of the second cell sees the same input, so its outputs are equal at every step exactly when its
            // masks are; they differ from inference, so the masks do drop.
            for seeded in [ true; false ] do
                test $"a later cell's dropout masks are drawn once per sequence in training (seeded {seeded})" {
                    torch.manual_seed 83L |> ignore
                    let seed = if seeded then Some 5 else None

                    let layer =
                        Layers.RNN(
                            Layers.StackedRNNCells(
                                [ Layers.SimpleRNNCell(5); Layers.SimpleRNNCell(6, dropout = 0.5, ?seed = seed) ]
                            ),
                            returnSequences = true
                        )

                    let step = torch.randn (2L, 1L, 4L)
                    let x = step.expand(2L, 7L, 4L).contiguous ()
                    Layer.callEager layer false [ x ] |> ignore

                    // Zero recurrent kernels: each step's output depends on that step's input only.
                    Layer.setWeights
                        layer
                        (Layer.weights layer
                         |> List.map (fun w ->
                             if w.Name.Contains "recurrent_kernel" then
                                 torch.zeros_like w.Value
                             else
                                 w.Value :> torch.Tensor))

                    let trained = Layer.callEager layer true [ x ] |> List.exactlyOne
                    let inferred = Layer.callEager layer false [ x ] |> List.exactlyOne

                    for t in 1..6 do
                        closeTo 1e-6f (values (trained.select (1L, 0L))) (values (trained.select (1L, int64 t))) $"step {t}"

                    let changed =
                        Array.map2 (fun (a: float32) b -> abs (a - b)) (values trained) (values inferred)
                        |> Array.max

                    Expect.isGreaterThan changed 1e-3f "dropout changes the training output"
                }

            test
                "RNN(StackedRNNCells([LSTMCell, GRUCell])) equals LSTM then GRU with return_sequences and the same weights" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 81L |> ignore
                let x = torch.randn (2L, 5L, 3L)

                for returnSequences in [ true; false ] do
                    let stacked =
                        Layers.RNN(
                            Layers.StackedRNNCells([ Layers.LSTMCell(4); Layers.GRUCell(3) ]),
                            returnSequences = returnSequences
                        )

                    let lstm = Layers.LSTM(4, returnSequences = true)
                    let gru = Layers.GRU(3, returnSequences = returnSequences)

                    let expected =
                        Layer.callEager gru false [ first (Layer.callEager lstm false [ x ]) ] |> first

                    Layer.callEager stacked false [ x ] |> ignore

                    Expect.equal
                        (Layer.countParams stacked)
                        (4L * 4L * (3L + 4L + 1L) + (3L * 3L * (4L + 3L) + 2L * 9L))
                        "params"

                    Expect.equal
                        (Layer.weights stacked |> List.map (fun w -> w.Name, w.Value.shape))
                        (Layer.weights lstm @ Layer.weights gru
                         |> List.map (fun w -> w.Name, w.Value.shape))
                        "the cells' weights in order"

                    Layer.setWeights stacked (Layer.getWeights lstm @ Layer.getWeights gru)
                    let actual = Layer.callEager stacked false [ x ] |> first
                    Expect.equal actual.shape expected.shape "shape"
                    closeTo 1e-5f (values expected) (values actual) $"outputs (return_sequences={returnSequences})"
            }

            test "return_state gives every cell's states in order; initial states are taken in that order" {
                Native.NativeLoader.ensureLoaded ()
                torch.manual_seed 82L |> ignore
                let x = torch.randn (2L, 4L, 3L)

                let stacked =
                    Layers.RNN(
                        Layers.StackedRNNCells([ Layers.LSTMCell(4); Layers.SimpleRNNCell(2) ]),
                        returnState = true
                    )

                let outs = Layer.callMany stacked [ sym [ None; Some 4; Some 3 ] ]

                Expect.equal
                    (outs |> List.map _.Shape)
                    [ [ None; Some 2 ]; [ None; Some 4 ]; [ None; Some 4 ]; [ None; Some 2 ] ]
                    "output, h1, c1, h2"

                let lstm = Layers.LSTM(4, returnSequences = true, returnState = true)
                let simple = Layers.SimpleRNN(2, returnState = true)

                let h1, c1, sequence =
                    match Layer.callEager lstm false [ x ] with
                    | [ s; h; c ] -> h, c, s
                    | _ -> failtest "three outputs"

                let out2, h2 =
                    match Layer.callEager simple false [ sequence ] with
                    | [ o; h ] -> o, h
                    | _ -> failtest "two outputs"

                Layer.setWeights stacked (Layer.getWeights lstm @ Layer.getWeights simple)

                match Layer.callEager stacked false [ x ] with
                | [ o; a; b; c ] ->
                    closeTo 1e-5f (values out2) (values o) "output"
                    closeTo 1e-5f (values h1) (values a) "h1"
                    closeTo 1e-5f (values c1) (values b) "c1"
                    closeTo 1e-5f (values h2) (values c) "h2"
                | other -> failtestf "expected four outputs, got %d" other.Length

                // Initial states: the LSTM's (h, c), then the SimpleRNN's h.
                let init = [ torch.randn (2L, 4L); torch.randn (2L, 4L); torch.randn (2L, 2L) ]

                let _, _, sequence' =
                    match Layer.callEager lstm false [ x; init[0]; init[1] ] with
                    | [ s; h; c ] -> h, c, s
                    | _ -> failtest "three outputs"

                let expected = Layer.callEager simple false [ sequence'; init[2] ] |> first

                closeTo
                    1e-5f
                    (values expected)
                    (values (Layer.callEager stacked false (x :: init) |> first))
                    "from initial states"

                let _, message =
                    kerasError (fun () ->
                        Layer.callMany
                            (Layers.RNN(Layers.StackedRNNCells([ Layers.LSTMCell(4); Layers.SimpleRNNCell(2) ])))
                            [
                                sym [ None; Some 4; Some 3 ]
                                sym [ None; Some 4 ]
                                sym [ None; Some 4 ]
                                sym [ None; Some 4 ]
                            ])

                Expect.stringContains message "(None, 2)" "the third state has the SimpleRNN's size"
            }

            test "The config nests the cells as Keras writes them and rebuilds; a Keras 3 config loads" {
                let layer =
                    Layers.RNN(
                        Layers.StackedRNNCells(
                            [ Layers.LSTMCell(4); Layers.GRUCell(3, resetAfter = false) ],
                            name = "stack"
                        ),
                        returnSequences = true,
                        name = "stacked_rnn"
                    )

                let config = Layer.getConfig layer
                let cell = config["cell"]
                Expect.equal (cell["class_name"].GetValue<string>()) "StackedRNNCells" "cell class"
                Expect.equal (cell["module"].GetValue<string>()) "keras.layers" "module"
                Expect.isNull cell["registered_name"] "a built-in class"
                let cells = (node cell [ "config"; "cells" ]).AsArray()

                Expect.equal
                    (cells |> Seq.map (fun c -> c["class_name"].GetValue<string>()) |> List.ofSeq)
                    [ "LSTMCell"; "GRUCell" ]
                    "cells"

                Expect.equal ((node cell [ "config"; "name" ]).GetValue<string>()) "stack" "stack name"
                Expect.isFalse ((node cells[1] [ "config"; "reset_after" ]).GetValue<bool>()) "reset_after"
                let serialized = LayerSerialization.serialize layer None
                let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized
                Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"

                let keras =
                    """{"module": "keras.layers", "class_name": "RNN", "config": {"name": "rnn", "trainable": true, "dtype": "float32", "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "zero_output_for_mask": false, "cell": {"module": "keras.layers", "class_name": "StackedRNNCells", "config": {"name": "stacked_rnn_cells", "trainable": true, "dtype": "float32", "cells": [{"module": "keras.layers", "class_name": "LSTMCell", "config": {"name": "lstm_cell", "trainable": true, "dtype": "float32", "units": 5, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": null}, "registered_name": null}, {"module": "keras.layers", "class_name": "LSTMCell", "config": {"name": "lstm_cell_1", "trainable": true, "dtype": "float32", "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": null}, "registered_name": null}]}, "registered_name": null}}, "registered_name": null}"""

                let loaded =
                    LayerSerialization.deserialize CustomObjects.none (JsonNode.Parse(keras).AsObject())

                let out = Layer.call loaded (sym [ None; Some 7; Some 3 ])
                Expect.equal out.Shape [ None; Some 2 ] "last cell's output"
                Expect.equal (Layer.countParams loaded) (4L * 5L * (3L + 5L + 1L) + 4L * 2L * (5L + 2L + 1L)) "params"
            }

            test "A model with RNN(StackedRNNCells) round-trips through a .keras file, weights at Keras's paths" {
                Utils.setRandomSeed 83
                let input = Keras.Input(shape = [ 5; 3 ])

                let output =
                    input
                    --> Layers.RNN(
                        Layers.StackedRNNCells([ Layers.LSTMCell(4); Layers.LSTMCell(2); Layers.GRUCell(3) ])
                    )
                    --> Layers.Dense(2)

                let model = Keras.Model(input, output)
                let x = torch.randn (3L, 5L, 3L)

                inTempFolder "stacked" (fun folder ->
                    let path = Path.Combine(folder, "stacked.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    expectSameAfterLoad model loaded x

                    let weightsPath = Path.Combine(folder, "stacked.weights.h5")
                    model.SaveWeights weightsPath
                    let shapes = h5Shapes weightsPath

                    let expected =
                        [
                            "layers/rnn/cell/cells/lstm_cell/vars/0", [ 3; 16 ]
                            "layers/rnn/cell/cells/lstm_cell/vars/1", [ 4; 16 ]
                            "layers/rnn/cell/cells/lstm_cell/vars/2", [ 16 ]
                            "layers/rnn/cell/cells/lstm_cell_1/vars/0", [ 4; 8 ]
                            "layers/rnn/cell/cells/lstm_cell_1/vars/1", [ 2; 8 ]
                            "layers/rnn/cell/cells/lstm_cell_1/vars/2", [ 8 ]
                            "layers/rnn/cell/cells/gru_cell/vars/0", [ 2; 9 ]
                            "layers/rnn/cell/cells/gru_cell/vars/1", [ 3; 9 ]
                            "layers/rnn/cell/cells/gru_cell/vars/2", [ 2; 9 ]
                        ]

                    for key, shape in expected do
                        Expect.equal (Map.tryFind key shapes) (Some shape) key

                    Expect.equal
                        (shapes |> Map.filter (fun k _ -> k.StartsWith "layers/rnn/") |> Map.count)
                        expected.Length
                        "no other datasets under the RNN")
            }

            test "Bidirectional over RNN(StackedRNNCells) gets a fresh stack backwards" {
                Utils.setRandomSeed 84

                let layer =
                    Layers.Bidirectional(
                        Layers.RNN(
                            Layers.StackedRNNCells([ Layers.SimpleRNNCell(3); Layers.GRUCell(2) ]),
                            returnSequences = true
                        )
                    )

                let out = Layer.call layer (sym [ None; Some 4; Some 3 ])
                Expect.equal out.Shape [ None; Some 4; Some 4 ] "concat of two stacks ending in 2 units"
                Expect.equal (Layer.weights layer).Length 12 "two stacks of two cells of three weights"
            }

            test "A stack of non-cells is refused" {
                let _, message = kerasError (fun () -> Layers.StackedRNNCells([ Layers.Dense(3) ]))
                Expect.stringContains message "cells" "names the argument"
                let _, message = kerasError (fun () -> Layers.StackedRNNCells([]))
                Expect.stringContains message "non-empty" "empty list"
            }
        ]

[<Tests>]
let userCellTests =
    testList
        "User cells in configs"
        [
            test "A registered F# cell serializes inside RNN with its registered name and loads back" {
                registerTwoState ()

                try
                    Utils.setRandomSeed 85
                    let input = Keras.Input(shape = [ 4; 3 ])

                    let rnn =
                        Layers.RNN(RNNLayers.registeredCell (TwoStateCell 5) registered None, returnState = true)

                    let outs = Layer.callMany rnn [ input ]

                    Expect.equal
                        (outs |> List.map _.Shape)
                        [ [ None; Some 5 ]; [ None; Some 5 ]; [ None; Some 2 ] ]
                        "states of different sizes"

                    let cell = (Layer.getConfig rnn)["cell"]
                    Expect.equal (cell["class_name"].GetValue<string>()) "TwoStateCell" "class"
                    Expect.equal (cell["registered_name"].GetValue<string>()) registered "registered name"
                    Expect.equal (cell["module"].GetValue<string>()) "__main__" "module"
                    Expect.equal ((node cell [ "config"; "units" ]).GetValue<int>()) 5 "the cell's own config"

                    let model = Keras.Model(input, [ outs[0] --> Layers.Dense(2); outs[2] ])

                    let x = torch.randn (3L, 4L, 3L)

                    inTempFolder "usercell" (fun folder ->
                        let path = Path.Combine(folder, "usercell.keras")
                        model.Save path
                        let loaded = Keras.LoadModel path

                        Expect.equal
                            ((Model.getConfig loaded).ToJsonString())
                            ((Model.getConfig model).ToJsonString())
                            "same config"

                        for a, b in List.zip (Model.predictMany model 8 [ x ]) (Model.predictMany loaded 8 [ x ]) do
                            closeTo 1e-6f (values a) (values b) "same predictions"

                        let weightsPath = Path.Combine(folder, "usercell.weights.h5")
                        model.SaveWeights weightsPath
                        let shapes = h5Shapes weightsPath

                        Expect.equal
                            (Map.tryFind "layers/rnn/cell/vars/2" shapes)
                            (Some [ 3; 2 ])
                            "the cell's third weight"

                        // Unregistered: a clear error naming the class and the registered name to register.
                        CustomObjects.unregister registered
                        let _, message = kerasError (fun () -> Keras.LoadModel path)
                        Expect.stringContains message "TwoStateCell" "names the class"
                        Expect.stringContains message registered "names the registered name"
                        Expect.stringContains message "register" "says to register it")
                finally
                    CustomObjects.unregister registered
            }

            test "A registered user cell inside StackedRNNCells round-trips" {
                registerTwoState ()

                try
                    let layer =
                        Layers.RNN(
                            Layers.StackedRNNCells(
                                [
                                    Layers.LSTMCell(3)
                                    RNNLayers.registeredCell (TwoStateCell 2) registered None
                                ]
                            ),
                            returnState = true
                        )

                    let outs = Layer.callMany layer [ sym [ None; Some 4; Some 3 ] ]

                    Expect.equal
                        (outs |> List.map _.Shape)
                        [
                            [ None; Some 2 ]
                            [ None; Some 3 ]
                            [ None; Some 3 ]
                            [ None; Some 2 ]
                            [ None; Some 2 ]
                        ]
                        "output, LSTM h and c, the user cell's two states"

                    let serialized = LayerSerialization.serialize layer None
                    let cells = (node serialized [ "config"; "cell"; "config"; "cells" ]).AsArray()
                    Expect.equal ((node cells[1] [ "registered_name" ]).GetValue<string>()) registered "registered name"
                    let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized

                    Expect.equal
                        ((Layer.getConfig rebuilt).ToJsonString())
                        ((Layer.getConfig layer).ToJsonString())
                        "same config"
                finally
                    CustomObjects.unregister registered
            }
        ]
