/// ConvLSTM1D and ConvLSTM3D (one implementation with ConvLSTM2D): shape rules, Keras's weight shapes and paths,
/// values against a plain-loop convolution reference of any rank, config and .keras round trips.
module ConvLSTMTests

open System.IO
open Expecto
open PureHDF
open TorchSharp
open Keras
open Keras.Operators
open Keras.ConvLSTMLayers
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private sigmoid (v: float) = 1.0 / (1.0 + exp -v)

/// Every multi-index of <paramref name="dims"/> in row-major order.
let private indices (dims: int[]) =
    let total = Array.fold (*) 1 dims

    [|
        for flat in 0 .. total - 1 ->
            let idx = Array.zeroCreate dims.Length
            let mutable rest = flat

            for a in dims.Length - 1 .. -1 .. 0 do
                idx[a] <- rest % dims[a]
                rest <- rest / dims[a]

            idx
    |]

let private flatIndex (dims: int[]) (idx: int[]) =
    Array.fold2 (fun acc d i -> acc * d + i) 0 dims idx

/// A plain-loop channels-last convolution of any rank (dilation 1) with Keras's "valid"/"same" rules:
/// x (sizes..., channels), w (kernel..., channels, outs); returns the output sizes and values (outs last).
let private convRef
    (sizes: int[])
    (channels: int)
    (x: float[])
    (kernel: int[])
    (w: float[])
    (outs: int)
    (strides: int[])
    (same: bool)
    =
    let rank = sizes.Length

    let outSizes =
        Array.init rank (fun a ->
            if same then
                (sizes[a] + strides[a] - 1) / strides[a]
            else
                (sizes[a] - kernel[a]) / strides[a] + 1)

    let before =
        Array.init rank (fun a ->
            if same then
                max 0 ((outSizes[a] - 1) * strides[a] + kernel[a] - sizes[a]) / 2
            else
                0)

    let result = Array.zeroCreate (Array.fold (*) 1 outSizes * outs)

    for o in indices outSizes do
        let oFlat = flatIndex outSizes o

        for k in indices kernel do
            let p = Array.init rank (fun a -> o[a] * strides[a] + k[a] - before[a])

            if Array.forall2 (fun pa s -> pa >= 0 && pa < s) p sizes then
                let pFlat = flatIndex sizes p
                let kFlat = flatIndex kernel k

                for c in 0 .. channels - 1 do
                    for g in 0 .. outs - 1 do
                        result[oFlat * outs + g] <-
                            result[oFlat * outs + g]
                            + x[pFlat * channels + c] * w[(kFlat * channels + c) * outs + g]

    outSizes, result

/// The ConvLSTM recurrence over a channels-last sequence (time, sizes..., channels) with the plain-loop convolution:
/// the output sequence (time, sizes'..., filters) and the last cell state.
let private convLstmRef
    (time: int)
    (sizes: int[])
    (channels: int)
    (x: float[])
    (kernel: int[])
    (k: float[])
    (rk: float[])
    (bias: float[])
    (filters: int)
    (strides: int[])
    (same: bool)
    =
    let frame = Array.fold (*) 1 sizes * channels

    let outSizes, _ =
        convRef sizes channels (Array.zeroCreate frame) kernel k (4 * filters) strides same

    let cells = Array.fold (*) 1 outSizes
    let mutable h = Array.zeroCreate (cells * filters)
    let mutable c = Array.zeroCreate (cells * filters)
    let outputs = ResizeArray<float>()

    for t in 0 .. time - 1 do
        let _, xz =
            convRef sizes channels x[t * frame .. (t + 1) * frame - 1] kernel k (4 * filters) strides same

        let _, hz =
            convRef outSizes filters h kernel rk (4 * filters) (Array.create sizes.Length 1) true

        let z p g j =
            xz[p * 4 * filters + g * filters + j]
            + hz[p * 4 * filters + g * filters + j]
            + bias[g * filters + j]

        let c' =
            Array.init (cells * filters) (fun n ->
                let p, j = n / filters, n % filters
                sigmoid (z p 1 j) * c[n] + sigmoid (z p 0 j) * tanh (z p 2 j))

        let h' =
            Array.init (cells * filters) (fun n ->
                let p, j = n / filters, n % filters
                sigmoid (z p 3 j) * tanh c'[n])

        h <- h'
        c <- c'
        outputs.AddRange h'

    outSizes, Array.ofSeq outputs, c

let private f32 (xs: float seq) = xs |> Seq.map float32 |> Array.ofSeq
let private f64 (t: torch.Tensor) = values t |> Array.map float

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

/// Checks one layer against the plain-loop reference on random data with a random bias.
let private againstReference
    (layer: Layer)
    (time: int)
    (sizes: int[])
    (channels: int)
    (kernel: int[])
    (filters: int)
    (strides: int[])
    (same: bool)
    =
    let shape =
        [ None; Some time ] @ (Array.toList sizes |> List.map Some) @ [ Some channels ]

    Layer.callMany layer [ sym shape ] |> ignore
    let ws = Layer.getWeights layer
    let bias = torch.randn([| 4L * int64 filters |]).mul(torch.tensor 0.5f)
    Layer.setWeights layer [ ws[0]; ws[1]; bias ]

    let x =
        torch.randn (Array.concat [ [| 1L; int64 time |]; sizes |> Array.map int64; [| int64 channels |] ])

    let outSizes, expected, lastC =
        convLstmRef time sizes channels (f64 x) kernel (f64 ws[0]) (f64 ws[1]) (f64 bias) filters strides same

    match Layer.callEager layer false [ x ] with
    | [ output; h; c ] ->
        let outShape =
            Array.concat [ [| 1L; int64 time |]; outSizes |> Array.map int64; [| int64 filters |] ]

        Expect.equal output.shape outShape "channels-last output sequence"
        closeTo 2e-5f (f32 expected) (values output) "output sequence"
        let last = expected[expected.Length - lastC.Length ..]
        closeTo 2e-5f (f32 last) (values h) "h"
        closeTo 2e-5f (f32 lastC) (values c) "c"
    | other -> failtestf "expected three outputs, got %d" other.Length

[<Tests>]
let tests =
    testList
        "ConvLSTM"
        [
            test "ConvLSTM1D(2, 3) valid on (None, 4, 7, 3): shape, Keras's weight shapes and parameter count" {
                let layer = Layers.ConvLSTM1D(2, 3)
                runLayerTest layer [ [ None; Some 4; Some 7; Some 3 ] ] [ None; Some 5; Some 2 ] 3
                Expect.equal layer.ClassName "ConvLSTM1D" "class"
                Expect.equal (Layer.countParams layer) (3L * 3L * 8L + 3L * 2L * 8L + 8L) "3·3·8 + 3·2·8 + 8"

                Expect.equal
                    (Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape))
                    [
                        "kernel", [| 3L; 3L; 8L |]
                        "recurrent_kernel", [| 3L; 2L; 8L |]
                        "bias", [| 8L |]
                    ]
                    "(k, in, 4f), (k, f, 4f), (4f)"

                let bias = values (List.item 2 (Layer.weights layer)).Value
                Expect.equal bias (f32 [ 0.; 0.; 1.; 1.; 0.; 0.; 0.; 0. ]) "unit forget bias"
            }

            test "ConvLSTM1D shape rules: same, strides, return_sequences, return_state" {
                runLayerTest
                    (Layers.ConvLSTM1D(4, 3, padding = "same", returnSequences = true))
                    [ [ None; Some 3; Some 7; Some 2 ] ]
                    [ None; Some 3; Some 7; Some 4 ]
                    3

                runLayerTest
                    (Layers.ConvLSTM1D(4, 3, strides = 2, padding = "same"))
                    [ [ None; Some 3; Some 7; Some 2 ] ]
                    [ None; Some 4; Some 4 ]
                    3

                runLayerTest
                    (Layers.ConvLSTM1D(4, 3, strides = 2))
                    [ [ None; Some 3; Some 8; Some 2 ] ]
                    [ None; Some 3; Some 4 ]
                    3

                runLayerTest
                    (Layers.ConvLSTM1D(1, 2, dilationRate = 2))
                    [ [ None; Some 3; Some 8; Some 2 ] ]
                    [ None; Some 6; Some 1 ]
                    3

                let outs =
                    Layer.callMany
                        (Layers.ConvLSTM1D(4, 3, returnSequences = true, returnState = true))
                        [ sym [ None; Some 3; Some 7; Some 2 ] ]

                Expect.equal
                    (outs |> List.map _.Shape)
                    [
                        [ None; Some 3; Some 5; Some 4 ]
                        [ None; Some 5; Some 4 ]
                        [ None; Some 5; Some 4 ]
                    ]
                    "sequence, h, c"
            }

            test "ConvLSTM3D shape rules and Keras's weight shapes" {
                let layer = Layers.ConvLSTM3D(2, (2, 3, 1))

                runLayerTest
                    layer
                    [ [ None; Some 3; Some 4; Some 5; Some 2; Some 3 ] ]
                    [ None; Some 3; Some 3; Some 2; Some 2 ]
                    3

                Expect.equal
                    (Layer.weights layer |> List.map (fun w -> w.Value.shape))
                    [ [| 2L; 3L; 1L; 3L; 8L |]; [| 2L; 3L; 1L; 2L; 8L |]; [| 8L |] ]
                    "(k1, k2, k3, in, 4f), (k1, k2, k3, f, 4f), (4f)"

                Expect.equal (Layer.countParams layer) (6L * 3L * 8L + 6L * 2L * 8L + 8L) "params"

                runLayerTest
                    (Layers.ConvLSTM3D(2, (3, 3, 3), strides = (2, 1, 2), padding = "same", returnSequences = true))
                    [ [ None; Some 2; Some 5; Some 4; Some 3; Some 1 ] ]
                    [ None; Some 2; Some 3; Some 4; Some 2; Some 2 ]
                    3
            }

            test "ConvLSTM2D is the same layer of rank 2: shapes and class unchanged" {
                let layer = Layers.ConvLSTM2D(2, (3, 3), padding = "same", strides = (2, 1))
                runLayerTest layer [ [ None; Some 2; Some 5; Some 6; Some 3 ] ] [ None; Some 3; Some 6; Some 2 ] 3
                Expect.equal layer.ClassName "ConvLSTM2D" "class"
                let config = Layer.getConfig layer
                Expect.equal (config["kernel_size"].ToJsonString()) "[3,3]" "kernel_size"
            }

            test "ConvLSTM1D valid with strides 2 equals the plain-loop reference for three steps" {
                torch.manual_seed 61L |> ignore

                againstReference
                    (Layers.ConvLSTM1D(2, 3, strides = 2, returnSequences = true, returnState = true))
                    3
                    [| 7 |]
                    3
                    [| 3 |]
                    2
                    [| 2 |]
                    false
            }

            test "ConvLSTM1D same equals the plain-loop reference" {
                torch.manual_seed 62L |> ignore

                againstReference
                    (Layers.ConvLSTM1D(3, 2, padding = "same", returnSequences = true, returnState = true))
                    2
                    [| 5 |]
                    2
                    [| 2 |]
                    3
                    [| 1 |]
                    true
            }

            test "ConvLSTM2D valid equals the plain-loop reference of any rank" {
                torch.manual_seed 63L |> ignore

                againstReference
                    (Layers.ConvLSTM2D(2, (2, 3), returnSequences = true, returnState = true))
                    2
                    [| 4; 5 |]
                    2
                    [| 2; 3 |]
                    2
                    [| 1; 1 |]
                    false
            }

            test "ConvLSTM3D same with strides equals the plain-loop reference for two steps" {
                torch.manual_seed 64L |> ignore

                let layer =
                    Layers.ConvLSTM3D(
                        2,
                        (2, 3, 2),
                        strides = (1, 2, 1),
                        padding = "same",
                        returnSequences = true,
                        returnState = true
                    )

                againstReference layer 2 [| 3; 4; 3 |] 2 [| 2; 3; 2 |] 2 [| 1; 2; 1 |] true
            }

            test "Bad arguments and inputs are refused with Keras's messages" {
                let _, message = kerasError (fun () -> Layers.ConvLSTM1D(2, 3, padding = "causal"))
                Expect.stringContains message "padding" "padding"
                let _, message = kerasError (fun () -> Layers.ConvLSTM3D(2, (3, 0, 3)))
                Expect.stringContains message "kernel_size" "kernel size"

                let _, message =
                    kerasError (fun () -> Layers.ConvLSTM1D(2, 3, strides = 2, dilationRate = 2))

                Expect.stringContains message "dilation_rate > 1" "strides and dilation"

                let _, message =
                    kerasError (fun () ->
                        Layer.call (Layers.ConvLSTM1D(2, 3)) (sym [ None; Some 3; Some 4; Some 5; Some 2 ]))

                Expect.stringContains message "ndim=4" "rank of a ConvLSTM1D input"

                let _, message =
                    kerasError (fun () ->
                        Layer.call
                            (Layers.ConvLSTM3D(2, (3, 3, 3)))
                            (sym [ None; Some 3; Some 2; Some 5; Some 5; Some 2 ]))

                Expect.stringContains message "does not fit" "window larger than the input"
            }

            test "Configs have Keras's keys and rebuild the same layer" {
                for layer in
                    [
                        Layers.ConvLSTM1D(
                            3,
                            3,
                            strides = 2,
                            padding = "same",
                            recurrentActivation = Relu,
                            returnSequences = true,
                            goBackwards = true,
                            dropout = 0.1,
                            seed = 5
                        )
                        Layers.ConvLSTM3D(2, (1, 2, 3), dilationRate = (1, 2, 1), useBias = false, returnState = true)
                    ] do
                    let config = Layer.getConfig layer
                    let keys = config |> Seq.map _.Key |> Set.ofSeq

                    for key in
                        [
                            "filters"
                            "kernel_size"
                            "strides"
                            "padding"
                            "data_format"
                            "dilation_rate"
                            "activation"
                            "recurrent_activation"
                            "use_bias"
                            "kernel_initializer"
                            "recurrent_initializer"
                            "bias_initializer"
                            "unit_forget_bias"
                            "kernel_regularizer"
                            "recurrent_regularizer"
                            "bias_regularizer"
                            "activity_regularizer"
                            "kernel_constraint"
                            "recurrent_constraint"
                            "bias_constraint"
                            "dropout"
                            "recurrent_dropout"
                            "seed"
                            "return_sequences"
                            "return_state"
                            "go_backwards"
                            "stateful"
                            "unroll"
                        ] do
                        Expect.isTrue (keys.Contains key) $"{layer.ClassName} writes {key}"

                    let serialized = LayerSerialization.serialize layer None
                    let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized
                    Expect.equal rebuilt.ClassName layer.ClassName "class"
                    Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"

                let config = Layer.getConfig (Layers.ConvLSTM3D(2, (1, 2, 3), strides = (1, 1, 2)))
                Expect.equal (config["kernel_size"].ToJsonString()) "[1,2,3]" "kernel_size triple"
                Expect.equal (config["strides"].ToJsonString()) "[1,1,2]" "strides triple"
                let config1 = Layer.getConfig (Layers.ConvLSTM1D(2, 3))
                Expect.equal (config1["kernel_size"].ToJsonString()) "[3]" "kernel_size of one axis"
            }

            test "A Keras 3 ConvLSTM1D config (ints as one-element lists) rebuilds" {
                let text =
                    """{"module": "keras.layers", "class_name": "ConvLSTM1D", "config": {"name": "conv_lstm1d", "trainable": true, "dtype": "float32", "return_sequences": true, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "zero_output_for_mask": false, "filters": 4, "kernel_size": [3], "strides": [1], "padding": "same", "data_format": "channels_last", "dilation_rate": [1], "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": null}, "registered_name": null}, "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal", "config": {"gain": 1.0, "seed": null}, "registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "unit_forget_bias": true, "kernel_regularizer": null, "recurrent_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "recurrent_constraint": null, "bias_constraint": null, "dropout": 0.0, "recurrent_dropout": 0.0, "seed": null}, "registered_name": null}"""

                let layer =
                    LayerSerialization.deserialize
                        CustomObjects.none
                        (System.Text.Json.Nodes.JsonNode.Parse(text).AsObject())

                Expect.equal layer.ClassName "ConvLSTM1D" "class"
                Expect.equal layer.Name "conv_lstm1d" "name"
                let out = Layer.call layer (sym [ None; Some 5; Some 9; Some 2 ])
                Expect.equal out.Shape [ None; Some 5; Some 9; Some 4 ] "same padding, return_sequences"
            }

            test "Models with ConvLSTM1D and ConvLSTM3D round-trip through .keras files at Keras's weight paths" {
                Utils.setRandomSeed 65

                let cases =
                    [
                        "conv_lstm1d",
                        [ 4; 6; 2 ],
                        (fun (x: KerasTensor) ->
                            x --> Layers.ConvLSTM1D(3, 3, padding = "same", returnSequences = true)),
                        [ 3; 2; 12 ]
                        "conv_lstm3d",
                        [ 2; 3; 4; 3; 1 ],
                        (fun (x: KerasTensor) -> x --> Layers.ConvLSTM3D(2, (2, 2, 2))),
                        [ 2; 2; 2; 1; 8 ]
                    ]

                for layerName, shape, apply, kernelShape in cases do
                    let input = Keras.Input(shape = shape)
                    let model = Keras.Model(input, apply input --> Layers.Flatten() --> Layers.Dense(2))

                    let x =
                        torch.randn (Array.append [| 3L |] (shape |> List.map int64 |> Array.ofList))

                    inTempFolder "convlstm" (fun folder ->
                        let path = Path.Combine(folder, "model.keras")
                        model.Save path
                        let loaded = Keras.LoadModel path

                        expectSameAfterLoad model loaded x

                        let weightsPath = Path.Combine(folder, "model.weights.h5")
                        model.SaveWeights weightsPath
                        let shapes = h5Shapes weightsPath
                        let filters = List.last kernelShape / 4

                        Expect.equal
                            (Map.tryFind $"layers/{layerName}/cell/vars/0" shapes)
                            (Some kernelShape)
                            "kernel under the cell"

                        Expect.equal
                            (Map.tryFind $"layers/{layerName}/cell/vars/1" shapes)
                            (Some(List.take (kernelShape.Length - 2) kernelShape @ [ filters; 4 * filters ]))
                            "recurrent kernel under the cell"

                        Expect.equal
                            (Map.tryFind $"layers/{layerName}/cell/vars/2" shapes)
                            (Some [ 4 * filters ])
                            "bias under the cell")
            }
        ]

/// Regularizers and constraints of the ConvLSTM layers (Keras's kernel/recurrent/bias/activity regularizers and
/// kernel/recurrent/bias constraints): the penalty against a hand-computed sum, the constraint after an SGD step, and
/// the config entries both ways, written as Keras writes them.
[<Tests>]
let penaltyTests =
    let sumOf (f: float32 -> float) (t: torch.Tensor) = values t |> Array.sumBy f

    testList
        "ConvLSTM regularizers and constraints"
        [
            test "ConvLSTM2D: kernel, recurrent and bias penalties are Keras's and reach the compiled loss" {
                torch.manual_seed 81L |> ignore

                let layer =
                    Layers.ConvLSTM2D(
                        2,
                        (3, 3),
                        padding = "same",
                        kernelRegularizer = L2 0.01,
                        recurrentRegularizer = L1 0.02,
                        biasRegularizer = L1L2(0.03, 0.04)
                    )

                let input = Keras.Input(shape = [ 2; 4; 4; 3 ])
                let model = Keras.Model(input, input --> layer)
                let ws = Layer.weights layer |> List.map (fun w -> w.Value :> torch.Tensor)
                // Non-zero bias so that its term counts.
                Layer.setWeights layer [ ws[0]; ws[1]; torch.rand(ws[2].shape).sub (0.5f.ToScalar()) ]
                let ws = Layer.weights layer |> List.map (fun w -> w.Value :> torch.Tensor)

                let expected =
                    0.01 * sumOf (fun v -> float v * float v) ws[0]
                    + 0.02 * sumOf (fun v -> abs (float v)) ws[1]
                    + 0.03 * sumOf (fun v -> abs (float v)) ws[2]
                    + 0.04 * sumOf (fun v -> float v * float v) ws[2]

                // The cell (a sub-layer, as in Keras) owns the weights and their penalties.
                let penalty =
                    layer :: layer.Spec.SubLayers()
                    |> List.collect (fun l -> l.Spec.RegularizationLosses(Weights.ofLayer l))
                    |> List.sumBy (fun t -> float (t.item<float32> ()))

                Expect.floatClose Accuracy.medium penalty expected "kernel + recurrent + bias penalties"
                // Against its own predictions the data loss is 0: the evaluated loss is the penalty alone.
                let x = torch.randn [| 3L; 2L; 4L; 4L; 3L |]
                let compiled = model.Compile(Optimizers.SGD(learningRate = 0.0), loss = "mse")
                let logs = compiled.TestOnBatch(Data.Tensor x, Data.Tensor(model.Predict x))
                Expect.floatClose Accuracy.medium logs["loss"] expected "evaluated loss"
            }

            test "ConvLSTM1D: constraints hold after an SGD step" {
                torch.manual_seed 82L |> ignore

                let layer =
                    Layers.ConvLSTM1D(2, 3, padding = "same", kernelConstraint = NonNeg, biasConstraint = NonNeg)

                let input = Keras.Input(shape = [ 3; 5; 2 ])
                let model = Keras.Model(input, input --> layer --> Layers.Flatten() --> Layers.Dense(1))
                let compiled = model.Compile(Optimizers.SGD(learningRate = 1.0), loss = "mse")
                let x = torch.randn (4L, 3L, 5L, 2L)
                let y = torch.randn(4L, 1L).mul (10.0f.ToScalar())
                compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

                match Layer.weights layer with
                | kernel :: recurrent :: bias :: _ ->
                    Expect.isTrue (values kernel.Value |> Array.forall (fun v -> v >= 0.f)) "kernel ≥ 0"
                    Expect.isTrue (values bias.Value |> Array.forall (fun v -> v >= 0.f)) "bias ≥ 0"
                    // The recurrent kernel is unconstrained: the step moves some of it below zero.
                    Expect.isTrue (values recurrent.Value |> Array.exists (fun v -> v < 0.f)) "recurrent kernel free"
                | ws -> failtestf "expected 3 weights, got %d" ws.Length
            }

            test "ConvLSTM3D: the entries are written and read back, from Keras's own form too" {
                let layer =
                    Layers.ConvLSTM3D(
                        2,
                        (1, 2, 2),
                        kernelRegularizer = L2 0.01,
                        activityRegularizer = L1 0.5,
                        recurrentConstraint = MaxNorm(2.0, [ 0; 1; 2; 3 ]),
                        name = "cl3"
                    )

                let config = Layer.getConfig layer
                let entry (key: string) = config[key].ToJsonString()
                Expect.stringContains (entry "kernel_regularizer") "\"class_name\":\"L2\"" "kernel_regularizer"
                Expect.stringContains (entry "activity_regularizer") "\"class_name\":\"L1\"" "activity_regularizer"
                Expect.stringContains (entry "recurrent_constraint") "\"class_name\":\"MaxNorm\"" "recurrent_constraint"
                Expect.isNull config["bias_regularizer"] "bias_regularizer"

                let rebuilt =
                    LayerSerialization.deserialize CustomObjects.none (LayerSerialization.serialize layer None)

                Expect.equal
                    ((Layer.getConfig rebuilt).ToJsonString())
                    (config.ToJsonString())
                    "from_config gives the same config"
            }
        ]
