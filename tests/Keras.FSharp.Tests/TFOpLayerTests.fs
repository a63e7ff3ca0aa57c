/// tf.keras 2's op layers (TFOpLambda, SlicingOpLambda): loading a functional config in tf.keras 2's exact JSON, the
/// value and shape of each op against hand-computed results, round trips, and the error for an unsupported op.
module TFOpLayerTests

open System
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// Deterministic weights: w[i] = sin(seed + 0.7 i) / 2.
let private weightValues (seed: float) (n: int) =
    Array.init n (fun i -> float32 (Math.Sin(seed + 0.7 * float i) / 2.0))

/// Kernel (rows × cols) and bias for a Dense layer, as row-major arrays and as tensors.
let private denseWeights (seed: float) (rows: int) (cols: int) =
    let kernel = weightValues seed (rows * cols)
    let bias = weightValues (seed + 100.0) cols
    kernel, bias

let private setDense (layer: Layer) (kernel: float32[], bias: float32[]) (rows: int) (cols: int) =
    Layer.setWeights layer [ torch.tensor(kernel).reshape(int64 rows, int64 cols); torch.tensor bias ]

/// A tf.keras 2 Dense config as model.to_json() writes it.
let private denseJson (name: string) (units: int) (inbound: string) =
    $$$"""{"class_name": "Dense", "config": {"name": "{{{name}}}", "trainable": true, "dtype": "float32", "units": {{{units}}}, "activation": "linear", "use_bias": true, "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": null}}, "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": null, "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}, "name": "{{{name}}}", "inbound_nodes": {{{inbound}}}}"""

/// A tf.keras 2 op layer as model.to_json() writes it.
let private opJson (className: string) (name: string) (fn: string) (inbound: string) =
    $$"""{"class_name": "{{className}}", "config": {"name": "{{name}}", "trainable": true, "dtype": "float32", "function": "{{fn}}"}, "name": "{{name}}", "inbound_nodes": {{inbound}}}"""

/// The acceptance model, as tf.keras 2.15's model.to_json() writes
/// <code>
/// x = Input((8,)); a = Dense(12)(x); b = Dense(12, name="dense_1")(x)
/// h = tf.nn.relu(tf.math.multiply(a + b, 0.5)); r = tf.reshape(h, [-1, 4, 3])
/// m = tf.linalg.matmul(r, r, transpose_b=True); c = tf.concat([m, tf.reshape(b, [-1, 4, 3])], axis=-1)
/// out = Dense(3)(tf.concat([c[:, -1], tf.math.reduce_mean(c, axis=1)], axis=1))
/// </code>
let acceptanceJson =
    let layers =
        [
            """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 8], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}"""
            denseJson "dense" 12 """[[["input_1", 0, 0, {}]]]"""
            denseJson "dense_1" 12 """[[["input_1", 0, 0, {}]]]"""
            opJson
                "TFOpLambda"
                "tf.__operators__.add"
                "__operators__.add"
                """[["dense", 0, 0, {"y": ["dense_1", 0, 0], "name": null}]]"""
            opJson
                "TFOpLambda"
                "tf.math.multiply"
                "math.multiply"
                """[["tf.__operators__.add", 0, 0, {"y": 0.5, "name": null}]]"""
            opJson "TFOpLambda" "tf.nn.relu" "nn.relu" """[["tf.math.multiply", 0, 0, {"name": null}]]"""
            opJson "TFOpLambda" "tf.reshape" "reshape" """[["tf.nn.relu", 0, 0, {"shape": [-1, 4, 3], "name": null}]]"""
            opJson
                "TFOpLambda"
                "tf.linalg.matmul"
                "linalg.matmul"
                """[["tf.reshape", 0, 0, {"b": ["tf.reshape", 0, 0], "transpose_b": true, "name": null}]]"""
            opJson "TFOpLambda" "tf.reshape_1" "reshape" """[["dense_1", 0, 0, {"shape": [-1, 4, 3], "name": null}]]"""
            opJson
                "TFOpLambda"
                "tf.concat"
                "concat"
                """[[["tf.linalg.matmul", 0, 0, {"axis": -1, "name": "concat"}], ["tf.reshape_1", 0, 0, {"axis": -1, "name": "concat"}]]]"""
            opJson
                "SlicingOpLambda"
                "tf.__operators__.getitem"
                "__operators__.getitem"
                """[["tf.concat", 0, 0, {"slice_spec": [{"start": null, "stop": null, "step": null}, -1]}]]"""
            opJson
                "TFOpLambda"
                "tf.math.reduce_mean"
                "math.reduce_mean"
                """[["tf.concat", 0, 0, {"axis": 1, "name": null}]]"""
            opJson
                "TFOpLambda"
                "tf.concat_1"
                "concat"
                """[[["tf.__operators__.getitem", 0, 0, {"axis": 1}], ["tf.math.reduce_mean", 0, 0, {"axis": 1}]]]"""
            denseJson "dense_2" 3 """[[["tf.concat_1", 0, 0, {}]]]"""
        ]

    $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{String.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}"""

let private w0 = denseWeights 0.3 8 12
let private w1 = denseWeights 1.7 8 12
let private w2 = denseWeights 2.9 14 3

let private setAcceptanceWeights (model: Model) =
    setDense (Model.getLayer model "dense") w0 8 12
    setDense (Model.getLayer model "dense_1") w1 8 12
    setDense (Model.getLayer model "dense_2") w2 14 3

/// The same model from the library's layers: Dense, Add, Activation, Reshape, Concatenate, GlobalAveragePooling1D,
/// and Lambda layers for the multiplication, the matmul and the slice.
let private handBuilt () =
    let x = Keras.Input(shape = [ 8 ])
    let dense = Layers.Dense(12)
    let dense1 = Layers.Dense(12)
    let a = x --> dense
    let b = x --> dense1
    let sum = Layer.callMany (Layers.Add()) [ a; b ] |> List.exactlyOne
    let half = sum --> Lambda.Create(fun t -> t.mul (torch.tensor 0.5f))
    let relu = half --> Layers.Activation("relu")
    let r = relu --> Layers.Reshape([ 4; 3 ])
    let m = r --> Lambda.Create(fun t -> torch.matmul (t, t.transpose (1L, 2L)))
    let r1 = b --> Layers.Reshape([ 4; 3 ])
    let c = Layer.callMany (Layers.Concatenate(axis = -1)) [ m; r1 ] |> List.exactlyOne
    let last = c --> Lambda.Create(fun t -> t.select (1L, -1L))
    let mean = c --> Layers.GlobalAveragePooling1D()

    let both =
        Layer.callMany (Layers.Concatenate(axis = 1)) [ last; mean ] |> List.exactlyOne

    let dense2 = Layers.Dense(3)
    let out = both --> dense2
    let model = Keras.Model(x, out)
    setDense dense w0 8 12
    setDense dense1 w1 8 12
    setDense dense2 w2 14 3
    model

/// The acceptance model in plain loops over arrays.
let private loopReference (x: float32[]) (batch: int) =
    let denseLoop (input: float32[]) (n: int) (rows: int) (cols: int) (kernel: float32[], bias: float32[]) =
        Array.init (n * cols) (fun idx ->
            let i, j = idx / cols, idx % cols
            let mutable s = float bias[j]

            for k in 0 .. rows - 1 do
                s <- s + float input[i * rows + k] * float kernel[k * cols + j]

            float32 s)

    let a = denseLoop x batch 8 12 w0
    let b = denseLoop x batch 8 12 w1
    let h = Array.map2 (fun p q -> max 0.0f ((p + q) * 0.5f)) a b
    let features = Array.zeroCreate<float32>(batch * 14)

    for s in 0 .. batch - 1 do
        // c[s] is 4 × 7: columns 0..3 are r·rᵀ, columns 4..6 the reshaped b.
        let c =
            Array2D.init 4 7 (fun i j ->
                if j < 4 then
                    let mutable acc = 0.0f

                    for k in 0..2 do
                        acc <- acc + h[s * 12 + i * 3 + k] * h[s * 12 + j * 3 + k]

                    acc
                else
                    b[s * 12 + i * 3 + (j - 4)])

        for j in 0..6 do
            features[s * 14 + j] <- c[3, j]
            features[s * 14 + 7 + j] <- (c[0, j] + c[1, j] + c[2, j] + c[3, j]) / 4.0f

    denseLoop features batch 14 3 w2

let private inputData (batch: int) =
    Array.init (batch * 8) (fun i -> float32 (Math.Cos(0.37 * float i) * 1.5))

let private loadAcceptance () =
    let model = Keras.ModelFromJson acceptanceJson
    setAcceptanceWeights model
    model

let private predictValues (model: Model) (x: float32[]) (batch: int) =
    values (Model.predict model (torch.tensor(x).reshape(int64 batch, 8L)))

// ---- single ops ----------------------------------------------------------------------------------------------

/// An op layer from one node in tf.keras 2's format (its tensors taken in order as the layer's inputs).
let private opLayer (className: string) (fn: string) (node: string) =
    let _, call = OpLayerNodes.read "op" fn (JsonNode.Parse node)
    TFOpLayers.create $"tf.{fn}_{Guid.NewGuid():N}" className call

/// Calls the op symbolically (shape) and eagerly (values).
let private runOp (layer: Layer) (shapes: Shape list) (inputs: torch.Tensor list) =
    let symbolic =
        shapes |> List.map (fun s -> CoreLayers.input None (Some s) Float32 None)

    let out = Layer.callMany layer symbolic |> List.exactlyOne
    let result = Layer.callEager layer false inputs |> List.exactlyOne
    out.Shape, result

let private t (data: float32[]) (dims: int list) =
    Native.NativeLoader.ensureLoaded ()
    torch.tensor(data).reshape(dims |> List.map int64 |> Array.ofList)

let private seq n =
    Array.init n (fun i -> float32 i - float32 n / 3.0f)

let private dimsOf (r: torch.Tensor) =
    r.shape |> Array.map int |> List.ofArray

[<Tests>]
let tests =
    testList
        "TFOpLayers"
        [
            test "a tf.keras 2 config with op layers predicts as the same model built by hand and as plain loops" {
                let model = loadAcceptance ()
                let batch = 5
                let x = inputData batch

                Expect.equal
                    (model.Layers
                     |> List.map (fun l -> l.Name, l.ClassName)
                     |> List.filter (fun (_, c) -> c.EndsWith "OpLambda")
                     |> List.length)
                    10
                    "ten op layers"

                Expect.equal
                    (model.Layers |> List.find (fun l -> l.Name = "tf.__operators__.getitem")).ClassName
                    "SlicingOpLambda"
                    "slicing class"

                Expect.equal model.Outputs.Head.Shape [ None; Some 3 ] "output shape"

                Expect.equal
                    (model.CountParams())
                    (int64 (8 * 12 + 12 + 8 * 12 + 12 + 14 * 3 + 3))
                    "only the Dense layers have weights"

                let loaded = predictValues model x batch
                let byHand = predictValues (handBuilt ()) x batch
                closeTo 1e-6f byHand loaded "loaded vs built by hand"
                closeTo 1e-5f (loopReference x batch) loaded "loaded vs plain loops"
            }

            test "symbolic shapes of the loaded op layers, with the batch unknown" {
                let model = loadAcceptance ()

                let shapeOf name =
                    let layer = Model.getLayer model name
                    (model.Nodes |> List.find (fun n -> n.Layer = layer)).Outputs.Head.Shape

                Expect.equal (shapeOf "tf.reshape") [ None; Some 4; Some 3 ] "reshape [-1, 4, 3]"
                Expect.equal (shapeOf "tf.linalg.matmul") [ None; Some 4; Some 4 ] "matmul transpose_b"
                Expect.equal (shapeOf "tf.concat") [ None; Some 4; Some 7 ] "concat axis -1"
                Expect.equal (shapeOf "tf.__operators__.getitem") [ None; Some 7 ] "x[:, -1]"
                Expect.equal (shapeOf "tf.math.reduce_mean") [ None; Some 7 ] "reduce_mean axis 1"
                Expect.equal (shapeOf "tf.concat_1") [ None; Some 14 ] "concat axis 1"
            }

            test "round trip: get_config writes TFOpLambda nodes in tf.keras 2's format and reloads to the same model" {
                let model = loadAcceptance ()
                let config = Model.getConfig model
                let reloaded = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig reloaded).ToJsonString()) (config.ToJsonString()) "same config"
                setAcceptanceWeights reloaded
                let x = inputData 3
                closeTo 1e-6f (predictValues model x 3) (predictValues reloaded x 3) "same predictions"

                let layers = config["layers"].AsArray()

                let add =
                    layers
                    |> Seq.find (fun l -> l["name"].GetValue<string>() = "tf.__operators__.add")

                Expect.equal (add["class_name"].GetValue<string>()) "TFOpLambda" "class"
                Expect.equal (add["config"].["function"].GetValue<string>()) "__operators__.add" "function"

                Expect.equal
                    (add["inbound_nodes"].ToJsonString())
                    """[["dense",0,0,{"y":["dense_1",0,0]}]]"""
                    "tf.keras 2 node: first tensor, then the other arguments by name"

                let concat =
                    layers |> Seq.find (fun l -> l["name"].GetValue<string>() = "tf.concat")

                Expect.equal
                    (concat["inbound_nodes"].ToJsonString())
                    """[[["tf.linalg.matmul",0,0,{"axis":-1}],["tf.reshape_1",0,0,{"axis":-1}]]]"""
                    "a list first argument keeps its structure"
            }

            test "round trip through a .keras file" {
                inTempFolder "tfop" (fun folder ->
                    let model = loadAcceptance ()
                    let path = IO.Path.Combine(folder, "ops.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path
                    let x = inputData 4

                    closeTo
                        0.0f
                        (predictValues model x 4)
                        (predictValues loaded x 4)
                        "same predictions after save/load")
            }

            test "an unsupported op fails at load with a KerasException naming the op and the layer" {
                let json =
                    acceptanceJson.Replace("\"function\": \"nn.relu\"", "\"function\": \"math.bessel_i0\"")

                let error, message = kerasError (fun () -> Keras.ModelFromJson json)

                match error with
                | InvalidArgument("tf.nn.relu", "function", _, _) -> ()
                | other -> failtestf "unexpected error %A" other

                Expect.stringContains message "tf.math.bessel_i0" "names the op"
                Expect.stringContains message "'tf.nn.relu'" "names the layer"
                Expect.stringContains message "tf.math.reduce_mean" "lists the supported ops"
            }

            test "a reshape shape with a nested list is refused with the layer named" {
                let error, message =
                    kerasError (fun () ->
                        opLayer "TFOpLambda" "reshape" """["x", 0, 0, {"shape": [["s", 0, 0], [1, 2]]}]""")

                match error with
                | InvalidArgument(_, "inbound_nodes", _, _) -> ()
                | other -> failtestf "unexpected error %A" other

                Expect.stringContains message "tf.reshape" "names the op"
            }

            test "elementwise binary ops with tensors, scalars and broadcasting" {
                let x = seq 6
                let y = [| 2.0f; -1.0f; 0.5f |]
                let xt = t x [ 2; 3 ]
                let yt = t y [ 3 ]

                let check fn (node: string) (shapes: Shape list) inputs (f: int -> float32) =
                    let shape, result = runOp (opLayer "TFOpLambda" fn node) shapes inputs
                    Expect.equal shape [ None; Some 3 ] $"{fn} shape"
                    closeTo 1e-5f (Array.init 6 f) (values result) fn

                let both = [ Shape.batchOf [ 3 ]; [ Some 3 ] ]

                check "__operators__.add" """["x", 0, 0, {"y": ["y", 0, 0]}]""" both [ xt; yt ] (fun i ->
                    x[i] + y[i % 3])

                check "math.subtract" """["x", 0, 0, {"y": ["y", 0, 0]}]""" both [ xt; yt ] (fun i -> x[i] - y[i % 3])

                check "math.multiply" """["x", 0, 0, {"y": 2.5}]""" [ Shape.batchOf [ 3 ] ] [ xt ] (fun i ->
                    x[i] * 2.5f)

                check "math.truediv" """["x", 0, 0, {"y": ["y", 0, 0]}]""" both [ xt; yt ] (fun i -> x[i] / y[i % 3])
                check "math.divide" """["x", 0, 0, {"y": 4.0}]""" [ Shape.batchOf [ 3 ] ] [ xt ] (fun i -> x[i] / 4.0f)
                check "math.pow" """["x", 0, 0, {"y": 2}]""" [ Shape.batchOf [ 3 ] ] [ xt ] (fun i -> x[i] * x[i])

                check "math.maximum" """["x", 0, 0, {"y": 0.0}]""" [ Shape.batchOf [ 3 ] ] [ xt ] (fun i ->
                    max x[i] 0.0f)

                check "math.minimum" """["x", 0, 0, {"y": [1.0, 0.0, -1.0]}]""" [ Shape.batchOf [ 3 ] ] [ xt ] (fun i ->
                    min x[i] ([| 1.0f; 0.0f; -1.0f |]).[i % 3])

                check "math.squared_difference" """["x", 0, 0, {"y": ["y", 0, 0]}]""" both [ xt; yt ] (fun i ->
                    (x[i] - y[i % 3]) * (x[i] - y[i % 3]))
                // 2.0 - x: tf.keras 2 records the constant first argument as _CONSTANT_VALUE.
                check
                    "math.subtract"
                    """["_CONSTANT_VALUE", -1, 2.0, {"y": ["x", 0, 0], "name": null}]"""
                    [ Shape.batchOf [ 3 ] ]
                    [ xt ]
                    (fun i -> 2.0f - x[i])
            }

            test "broadcasting shapes with an unknown batch, and incompatible shapes" {
                let layer =
                    opLayer "TFOpLambda" "__operators__.add" """["x", 0, 0, {"y": ["y", 0, 0]}]"""

                let a = CoreLayers.input None (Some [ None; Some 4; Some 1 ]) Float32 None
                let b = CoreLayers.input None (Some [ None; Some 1; Some 5 ]) Float32 None
                let out = Layer.callMany layer [ a; b ] |> List.exactlyOne
                Expect.equal out.Shape [ None; Some 4; Some 5 ] "broadcast"

                let bad = opLayer "TFOpLambda" "math.multiply" """["x", 0, 0, {"y": ["y", 0, 0]}]"""
                let c = CoreLayers.input None (Some [ None; Some 3 ]) Float32 None
                let d = CoreLayers.input None (Some [ None; Some 4 ]) Float32 None
                let _, message = kerasError (fun () -> Layer.callMany bad [ c; d ])
                Expect.stringContains message "cannot be broadcast" "names the problem"
                Expect.stringContains message "(None, 3)" "shows the shapes"
            }

            test "unary math and nn ops against hand-computed values" {
                let x = [| -2.0f; -0.5f; 0.25f; 1.0f; 3.0f; 0.0f |]
                let xt = t x [ 2; 3 ]
                let pos = Array.map abs x |> Array.map (fun v -> v + 0.5f)
                let pt = t pos [ 2; 3 ]

                let check fn (node: string) input (data: float32[]) (f: float -> float) =
                    let shape, result =
                        runOp (opLayer "TFOpLambda" fn node) [ Shape.batchOf [ 3 ] ] [ input ]

                    Expect.equal shape [ None; Some 3 ] $"{fn} keeps the shape"
                    closeTo 1e-5f (data |> Array.map (fun v -> float32 (f (float v)))) (values result) fn

                let plain = """["x", 0, 0, {"name": null}]"""
                check "math.negative" plain xt x (fun v -> -v)
                check "math.abs" plain xt x abs
                check "math.exp" plain xt x exp
                check "math.log" plain pt pos log
                check "math.sqrt" plain pt pos sqrt
                check "math.rsqrt" plain pt pos (fun v -> 1.0 / sqrt v)
                check "math.square" plain xt x (fun v -> v * v)
                check "math.sigmoid" plain xt x (fun v -> 1.0 / (1.0 + exp -v))
                check "math.tanh" plain xt x tanh
                check "nn.relu" plain xt x (fun v -> max v 0.0)

                check
                    "nn.relu6"
                    """["x", 0, 0, {}]"""
                    (t (Array.map ((*) 3.0f) x) [ 2; 3 ])
                    (Array.map ((*) 3.0f) x)
                    (fun v -> min (max v 0.0) 6.0)

                check "nn.leaky_relu" """["x", 0, 0, {"alpha": 0.1}]""" xt x (fun v -> if v > 0.0 then v else 0.1 * v)
                check "nn.silu" plain xt x (fun v -> v / (1.0 + exp -v))
                check "math.softplus" plain xt x (fun v -> log (1.0 + exp v))
                check "nn.elu" plain xt x (fun v -> if v > 0.0 then v else exp v - 1.0)

                check "clip_by_value" """["x", 0, 0, {"clip_value_min": -1.0, "clip_value_max": 0.5}]""" xt x (fun v ->
                    min (max v -1.0) 0.5)

                // Exact GELU: x Φ(x), Φ from erf (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
                let erf (z: float) =
                    let s = if z < 0.0 then -1.0 else 1.0
                    let a = abs z
                    let k = 1.0 / (1.0 + 0.3275911 * a)

                    let poly =
                        k
                        * (0.254829592
                           + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))))

                    s * (1.0 - poly * exp (-a * a))

                check "nn.gelu" plain xt x (fun v -> 0.5 * v * (1.0 + erf (v / sqrt 2.0)))

                check "nn.gelu" """["x", 0, 0, {"approximate": true}]""" xt x (fun v ->
                    0.5 * v * (1.0 + tanh (sqrt (2.0 / Math.PI) * (v + 0.044715 * v * v * v))))
            }

            test "softmax over the last axis and over axis 1" {
                let x = seq 6
                let xt = t x [ 1; 2; 3 ]

                let shape, result =
                    runOp (opLayer "TFOpLambda" "nn.softmax" """["x", 0, 0, {}]""") [ Shape.batchOf [ 2; 3 ] ] [ xt ]

                Expect.equal shape [ None; Some 2; Some 3 ] "shape"

                let expected =
                    Array.init 6 (fun i ->
                        let row = i / 3
                        let z = [ 0..2 ] |> List.sumBy (fun j -> exp (float x[row * 3 + j]))
                        float32 (exp (float x[i]) / z))

                closeTo 1e-6f expected (values result) "softmax axis -1"

                let _, result1 =
                    runOp
                        (opLayer "TFOpLambda" "nn.softmax" """["x", 0, 0, {"axis": 1}]""")
                        [ Shape.batchOf [ 2; 3 ] ]
                        [ xt ]

                let expected1 =
                    Array.init 6 (fun i ->
                        let col = i % 3
                        let z = exp (float x[col]) + exp (float x[3 + col])
                        float32 (exp (float x[i]) / z))

                closeTo 1e-6f expected1 (values result1) "softmax axis 1"
            }

            test "reductions with axis, keepdims and no axis" {
                let x = seq 24
                let xt = t x [ 2; 3; 4 ]
                let at b i j = x[b * 12 + i * 4 + j]

                let reduceOver fn (node: string) (expectedShape: Shape) (expected: float32[]) =
                    let shape, result =
                        runOp (opLayer "TFOpLambda" fn node) [ Shape.batchOf [ 3; 4 ] ] [ xt ]

                    Expect.equal shape expectedShape $"{fn} {node} shape"
                    closeTo 1e-5f expected (values result) $"{fn} {node}"

                reduceOver
                    "math.reduce_mean"
                    """["x", 0, 0, {"axis": 1}]"""
                    [ None; Some 4 ]
                    (Array.init 8 (fun k -> (at (k / 4) 0 (k % 4) + at (k / 4) 1 (k % 4) + at (k / 4) 2 (k % 4)) / 3.0f))

                reduceOver
                    "math.reduce_sum"
                    """["x", 0, 0, {"axis": -1, "keepdims": true}]"""
                    [ None; Some 3; Some 1 ]
                    (Array.init 6 (fun k -> [ 0..3 ] |> List.sumBy (fun j -> at (k / 3) (k % 3) j)))

                reduceOver "math.reduce_max" """["x", 0, 0, {"axis": [1, 2]}]""" [ None ] [| at 0 2 3; at 1 2 3 |]

                reduceOver
                    "math.reduce_min"
                    """["x", 0, 0, {"axis": 2}]"""
                    [ None; Some 3 ]
                    (Array.init 6 (fun k -> at (k / 3) (k % 3) 0))

                reduceOver "math.reduce_mean" """["x", 0, 0, {"axis": null}]""" [] [| Array.average x |]
            }

            test "reshape, expand_dims, squeeze and transpose" {
                let x = seq 24
                let xt = t x [ 2; 3; 4 ]
                let input = [ Shape.batchOf [ 3; 4 ] ]

                let shape, r =
                    runOp (opLayer "TFOpLambda" "reshape" """["x", 0, 0, {"shape": [-1, 2, 6]}]""") input [ xt ]

                Expect.equal shape [ None; Some 2; Some 6 ] "reshape shape"
                Expect.equal (dimsOf r) [ 2; 2; 6 ] "reshape dims"
                closeTo 0.0f x (values r) "reshape keeps the order"

                let shape, e =
                    runOp (opLayer "TFOpLambda" "expand_dims" """["x", 0, 0, {"axis": -1}]""") input [ xt ]

                Expect.equal shape [ None; Some 3; Some 4; Some 1 ] "expand_dims shape"
                Expect.equal (dimsOf e) [ 2; 3; 4; 1 ] "expand_dims dims"

                let shape, s =
                    runOp
                        (opLayer "TFOpLambda" "squeeze" """["x", 0, 0, {"axis": [2]}]""")
                        [ Shape.batchOf [ 3; 1 ] ]
                        [ t (seq 6) [ 2; 3; 1 ] ]

                Expect.equal shape [ None; Some 3 ] "squeeze shape"
                Expect.equal (dimsOf s) [ 2; 3 ] "squeeze dims"

                let _, message =
                    kerasError (fun () ->
                        runOp (opLayer "TFOpLambda" "squeeze" """["x", 0, 0, {"axis": 1}]""") input [ xt ])

                Expect.stringContains message "not 1" "squeezing a dimension that is not 1"

                let shape, p =
                    runOp
                        (opLayer "TFOpLambda" "compat.v1.transpose" """["x", 0, 0, {"perm": [0, 2, 1]}]""")
                        input
                        [ xt ]

                Expect.equal shape [ None; Some 4; Some 3 ] "transpose shape"

                closeTo
                    0.0f
                    (Array.init 24 (fun k -> let b, j, i = k / 12, (k % 12) / 3, k % 3 in x[b * 12 + i * 4 + j]))
                    (values p)
                    "transpose values"
            }

            test "concat and stack of two tensors" {
                let a = seq 6
                let b = Array.init 4 (fun i -> 10.0f + float32 i)
                let at = t a [ 2; 3 ]
                let bt = t b [ 2; 2 ]

                let layer =
                    opLayer "TFOpLambda" "concat" """[["a", 0, 0, {"axis": 1}], ["b", 0, 0, {"axis": 1}]]"""

                let shape, c = runOp layer [ Shape.batchOf [ 3 ]; Shape.batchOf [ 2 ] ] [ at; bt ]
                Expect.equal shape [ None; Some 5 ] "concat shape"
                closeTo 0.0f [| a[0]; a[1]; a[2]; b[0]; b[1]; a[3]; a[4]; a[5]; b[2]; b[3] |] (values c) "concat values"

                let stack =
                    opLayer "TFOpLambda" "stack" """[["a", 0, 0, {"axis": 1}], ["b", 0, 0, {"axis": 1}]]"""

                let shape, s =
                    runOp stack [ Shape.batchOf [ 3 ]; Shape.batchOf [ 3 ] ] [ at; t (seq 6) [ 2; 3 ] ]

                Expect.equal shape [ None; Some 2; Some 3 ] "stack shape"
                Expect.equal (dimsOf s) [ 2; 2; 3 ] "stack dims"

                let bad =
                    opLayer "TFOpLambda" "concat" """[["a", 0, 0, {"axis": 2}], ["b", 0, 0, {"axis": 2}]]"""

                let _, message =
                    kerasError (fun () ->
                        runOp
                            bad
                            [ Shape.batchOf [ 3; 2 ]; Shape.batchOf [ 4; 2 ] ]
                            [ t (seq 12) [ 2; 3; 2 ]; t (seq 16) [ 2; 4; 2 ] ])

                Expect.stringContains message "except on the concatenation axis" "mismatched dims"
            }

            test "matmul with transpose_a and transpose_b" {
                let a = seq 12 // (2, 3, 2)
                let b = Array.init 12 (fun i -> float32 (i % 5) - 1.0f) // (2, 3, 2)
                let at = t a [ 2; 3; 2 ]
                let bt = t b [ 2; 3; 2 ]

                let layer =
                    opLayer "TFOpLambda" "linalg.matmul" """["a", 0, 0, {"b": ["b", 0, 0], "transpose_a": true}]"""

                let shape, r =
                    runOp layer [ Shape.batchOf [ 3; 2 ]; Shape.batchOf [ 3; 2 ] ] [ at; bt ]

                Expect.equal shape [ None; Some 2; Some 2 ] "aᵀ b shape"

                let expected =
                    Array.init 8 (fun k ->
                        let s, i, j = k / 4, (k % 4) / 2, k % 2
                        [ 0..2 ] |> List.sumBy (fun m -> a[s * 6 + m * 2 + i] * b[s * 6 + m * 2 + j]))

                closeTo 1e-5f expected (values r) "aᵀ b"

                let mismatch = opLayer "TFOpLambda" "matmul" """["a", 0, 0, {"b": ["b", 0, 0]}]"""

                let _, message =
                    kerasError (fun () -> runOp mismatch [ Shape.batchOf [ 3; 2 ]; Shape.batchOf [ 3; 2 ] ] [ at; bt ])

                Expect.stringContains
                    message
                    "inner dimensions"
                    "a (3, 2) times b (3, 2) is refused before libtorch runs"
            }

            test "cast changes the dtype" {
                let layer = opLayer "TFOpLambda" "cast" """["x", 0, 0, {"dtype": "int32"}]"""
                let input = CoreLayers.input None (Some [ None; Some 3 ]) Float32 None
                let out = Layer.callMany layer [ input ] |> List.exactlyOne
                Expect.equal out.DType Int32 "symbolic dtype"

                let r =
                    Layer.callEager layer false [ t [| 1.7f; -2.2f; 3.0f |] [ 1; 3 ] ]
                    |> List.exactlyOne

                Expect.equal r.dtype torch.int32 "eager dtype"
                Expect.equal (r.data<int>().ToArray()) [| 1; -2; 3 |] "truncates toward zero as tf.cast does"
            }

            test "getitem: x[:, -1], ranges, steps, Ellipsis and newaxis" {
                let x = seq 24
                let xt = t x [ 2; 3; 4 ]
                let input = [ Shape.batchOf [ 3; 4 ] ]
                let at b i j = x[b * 12 + i * 4 + j]

                let slice (spec: string) (expectedShape: Shape) (expected: float32[]) =
                    let layer =
                        opLayer "SlicingOpLambda" "__operators__.getitem" $$"""["x", 0, 0, {"slice_spec": {{spec}}}]"""

                    let shape, r = runOp layer input [ xt ]
                    Expect.equal shape expectedShape $"x[{spec}] shape"
                    closeTo 0.0f expected (values r) $"x[{spec}]"

                let all = """{"start": null, "stop": null, "step": null}"""
                slice $"[{all}, -1]" [ None; Some 4 ] (Array.init 8 (fun k -> at (k / 4) 2 (k % 4)))

                slice
                    $"""[{all}, {{"start": 1, "stop": 3, "step": null}}]"""
                    [ None; Some 2; Some 4 ]
                    (Array.init 16 (fun k -> at (k / 8) (1 + (k % 8) / 4) (k % 4)))

                slice
                    $"""[{all}, {all}, {{"start": null, "stop": null, "step": -2}}]"""
                    [ None; Some 3; Some 2 ]
                    (Array.init 12 (fun k -> at (k / 6) ((k % 6) / 2) (3 - 2 * (k % 2))))

                slice
                    """[{"class_name": "__ellipsis__"}, 0]"""
                    [ None; Some 3 ]
                    (Array.init 6 (fun k -> at (k / 3) (k % 3) 0))

                slice $"[{all}, null, 1]" [ None; Some 1; Some 4 ] (Array.init 8 (fun k -> at (k / 4) 1 (k % 4)))

                slice
                    """{"start": null, "stop": -1, "step": null}"""
                    [ None; Some 3; Some 4 ]
                    (Array.init 12 (fun k -> x[k]))
            }
        ]

// ---- comparison and boolean ops (issue 13) -------------------------------------------------------------------

/// A tf.keras 2.15 model using comparisons, logical ops, tf.where and tf.cast to and from bool, as model.to_json()
/// writes it:
/// <code>
/// x = Input((4,)); d = Dense(4)(x); e = Dense(4, name="dense_1")(x)
/// a = tf.math.logical_and(d > 0, tf.math.logical_not(d &lt;= e)); o = tf.math.logical_or(d > 0, tf.math.equal(e, 0.0))
/// w = tf.where(tf.math.less(e, -0.5), 0.0, tf.where(a, d, e))
/// out = ((w + tf.cast(o, "float32")) + tf.cast(e >= 0.5, "float32") * 2.0) * tf.cast(tf.math.not_equal(e, 0.0), "float32")
///       + tf.cast(tf.cast(d, "bool"), "float32")
/// </code>
let private booleanJson =
    let op name fn inbound = opJson "TFOpLambda" name fn inbound

    let layers =
        [
            """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 4], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}"""
            denseJson "dense" 4 """[[["input_1", 0, 0, {}]]]"""
            denseJson "dense_1" 4 """[[["input_1", 0, 0, {}]]]"""
            op "tf.math.greater" "math.greater" """[["dense", 0, 0, {"y": 0.0, "name": null}]]"""
            op "tf.math.less_equal" "math.less_equal" """[["dense", 0, 0, {"y": ["dense_1", 0, 0], "name": null}]]"""
            op "tf.math.logical_not" "math.logical_not" """[["tf.math.less_equal", 0, 0, {"name": null}]]"""
            op
                "tf.math.logical_and"
                "math.logical_and"
                """[["tf.math.greater", 0, 0, {"y": ["tf.math.logical_not", 0, 0], "name": null}]]"""
            op "tf.math.equal" "math.equal" """[["dense_1", 0, 0, {"y": 0.0, "name": null}]]"""
            op
                "tf.math.logical_or"
                "math.logical_or"
                """[["tf.math.greater", 0, 0, {"y": ["tf.math.equal", 0, 0], "name": null}]]"""
            op "tf.math.not_equal" "math.not_equal" """[["dense_1", 0, 0, {"y": 0.0, "name": null}]]"""
            op "tf.math.greater_equal" "math.greater_equal" """[["dense_1", 0, 0, {"y": 0.5, "name": null}]]"""
            op "tf.math.less" "math.less" """[["dense_1", 0, 0, {"y": -0.5, "name": null}]]"""
            op
                "tf.where"
                "where"
                """[["tf.math.logical_and", 0, 0, {"x": ["dense", 0, 0], "y": ["dense_1", 0, 0], "name": null}]]"""
            op "tf.where_1" "where" """[["tf.math.less", 0, 0, {"x": 0.0, "y": ["tf.where", 0, 0], "name": null}]]"""
            op "tf.cast" "cast" """[["tf.math.logical_or", 0, 0, {"dtype": "float32", "name": null}]]"""
            op "tf.cast_1" "cast" """[["tf.math.greater_equal", 0, 0, {"dtype": "float32", "name": null}]]"""
            op "tf.cast_2" "cast" """[["tf.math.not_equal", 0, 0, {"dtype": "float32", "name": null}]]"""
            op
                "tf.__operators__.add"
                "__operators__.add"
                """[["tf.where_1", 0, 0, {"y": ["tf.cast", 0, 0], "name": null}]]"""
            op "tf.math.multiply" "math.multiply" """[["tf.cast_1", 0, 0, {"y": 2.0, "name": null}]]"""
            op
                "tf.__operators__.add_1"
                "__operators__.add"
                """[["tf.__operators__.add", 0, 0, {"y": ["tf.math.multiply", 0, 0], "name": null}]]"""
            op
                "tf.math.multiply_1"
                "math.multiply"
                """[["tf.__operators__.add_1", 0, 0, {"y": ["tf.cast_2", 0, 0], "name": null}]]"""
            op "tf.cast_3" "cast" """[["dense", 0, 0, {"dtype": "bool", "name": null}]]"""
            op "tf.cast_4" "cast" """[["tf.cast_3", 0, 0, {"dtype": "float32", "name": null}]]"""
            op
                "tf.__operators__.add_2"
                "__operators__.add"
                """[["tf.math.multiply_1", 0, 0, {"y": ["tf.cast_4", 0, 0], "name": null}]]"""
        ]

    $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{String.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.__operators__.add_2", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}"""

let private predictValues4 (model: Model) (x: float32[]) (batch: int) =
    values (Model.predict model (torch.tensor(x).reshape(int64 batch, 4L)))

let private wb0 = denseWeights 0.9 4 4
let private wb1 = denseWeights 2.2 4 4

let private loadBoolean () =
    let model = Keras.ModelFromJson booleanJson
    setDense (Model.getLayer model "dense") wb0 4 4
    setDense (Model.getLayer model "dense_1") wb1 4 4
    model

/// The boolean model in plain loops.
let private booleanReference (x: float32[]) (batch: int) =
    let dense (kernel: float32[], bias: float32[]) (s: int) (j: int) =
        let mutable acc = bias[j]

        for k in 0..3 do
            acc <- acc + x[s * 4 + k] * kernel[k * 4 + j]

        acc

    let f (b: bool) = if b then 1.0f else 0.0f

    Array.init (batch * 4) (fun idx ->
        let s, j = idx / 4, idx % 4
        let d, e = dense wb0 s j, dense wb1 s j
        let a = d > 0.0f && not (d <= e)
        let o = d > 0.0f || e = 0.0f
        let w = if e < -0.5f then 0.0f else (if a then d else e)
        (w + f o + f (e >= 0.5f) * 2.0f) * f (e <> 0.0f) + f (d <> 0.0f))

/// The same model from the library's layers, with Lambda layers for the boolean logic.
let private booleanByHand () =
    let x = Keras.Input(shape = [ 4 ])
    let dense = Layers.Dense(4)
    let dense1 = Layers.Dense(4)
    let d = x --> dense
    let e = x --> dense1

    let combine =
        Lambda.Create(fun (t: torch.Tensor) ->
            let d, e = t.select (1L, 0L), t.select (1L, 1L)
            let gt = d.gt (torch.tensor 0.0f)
            let a = gt.logical_and (d.le(e).logical_not())
            let o = gt.logical_or (e.eq (torch.tensor 0.0f))

            let w =
                torch.where (e.lt (torch.tensor -0.5f), torch.zeros_like e, torch.where (a, d, e))

            let ge = e.ge(torch.tensor 0.5f).to_type(torch.ScalarType.Float32)
            let ne = e.ne(torch.tensor 0.0f).to_type(torch.ScalarType.Float32)
            let nz = d.ne(torch.tensor 0.0f).to_type(torch.ScalarType.Float32)
            w.add(o.to_type torch.ScalarType.Float32).add(ge.mul (torch.tensor 2.0f)).mul(ne).add(nz))

    let stacked =
        Layer.callMany (Layers.Concatenate(axis = 1)) [ d --> Layers.Reshape([ 1; 4 ]); e --> Layers.Reshape([ 1; 4 ]) ]
        |> List.exactlyOne

    let model = Keras.Model(x, stacked --> combine)
    setDense dense wb0 4 4
    setDense dense1 wb1 4 4
    model

[<Tests>]
let booleanTests =
    testList
        "TFOpLayers: comparison and boolean ops"
        [
            test "a tf.keras 2 config with comparisons, logical ops, tf.where and bool casts predicts as plain loops" {
                let model = loadBoolean ()
                let batch = 6
                let x = Array.init (batch * 4) (fun i -> float32 (Math.Sin(0.91 * float i) * 2.0))
                let loaded = predictValues4 model x batch
                closeTo 1e-5f (booleanReference x batch) loaded "loaded vs plain loops"
                closeTo 1e-6f (predictValues4 (booleanByHand ()) x batch) loaded "loaded vs built by hand"

                let shapeOf name =
                    let layer = Model.getLayer model name
                    (model.Nodes |> List.find (fun n -> n.Layer = layer)).Outputs.Head

                for name in [ "tf.math.greater"; "tf.math.logical_and"; "tf.math.logical_not"; "tf.cast_3" ] do
                    Expect.equal (shapeOf name).DType Bool $"{name} is boolean"
                    Expect.equal (shapeOf name).Shape [ None; Some 4 ] $"{name} shape"

                Expect.equal (shapeOf "tf.where_1").DType Float32 "tf.where takes y's dtype when x is a constant"
            }

            test "round trip: the boolean ops write tf.keras 2 nodes and reload to the same model, also through .keras" {
                let model = loadBoolean ()
                let config = Model.getConfig model
                let reloaded = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig reloaded).ToJsonString()) (config.ToJsonString()) "same config"
                setDense (Model.getLayer reloaded "dense") wb0 4 4
                setDense (Model.getLayer reloaded "dense_1") wb1 4 4
                let x = Array.init 12 (fun i -> float32 (Math.Cos(0.53 * float i)))
                closeTo 0.0f (predictValues4 model x 3) (predictValues4 reloaded x 3) "same predictions"

                let where =
                    config["layers"].AsArray()
                    |> Seq.find (fun l -> l["name"].GetValue<string>() = "tf.where_1")

                Expect.equal
                    (where["inbound_nodes"].ToJsonString())
                    """[["tf.math.less",0,0,{"x":0.0,"y":["tf.where",0,0]}]]"""
                    "condition first, then x and y by name"

                inTempFolder "tfop-bool" (fun folder ->
                    let path = IO.Path.Combine(folder, "bool.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    closeTo
                        0.0f
                        (predictValues4 model x 3)
                        (predictValues4 loaded x 3)
                        "same predictions after save/load")
            }

            test "single comparison ops broadcast and give booleans; tf.where with one argument is refused" {
                let xt = t [| -1.0f; 0.0f; 2.0f; 3.0f; 0.5f; -2.0f |] [ 2; 3 ]
                let yt = t [| 0.0f; 0.0f; 3.0f |] [ 3 ]
                let both = [ Shape.batchOf [ 3 ]; [ Some 3 ] ]

                let check fn (expected: bool[]) =
                    let shape, result =
                        runOp (opLayer "TFOpLambda" fn """["x", 0, 0, {"y": ["y", 0, 0]}]""") both [ xt; yt ]

                    Expect.equal shape [ None; Some 3 ] $"{fn} shape"
                    Expect.equal result.dtype torch.ScalarType.Bool $"{fn} dtype"
                    Expect.equal (result.data<bool>().ToArray()) expected fn

                check "math.equal" [| false; true; false; false; false; false |]
                check "math.not_equal" [| true; false; true; true; true; true |]
                check "math.greater" [| false; false; false; true; true; false |]
                check "math.greater_equal" [| false; true; false; true; true; false |]
                check "math.less" [| true; false; true; false; false; true |]
                check "math.less_equal" [| true; true; true; false; false; true |]

                let error =
                    try
                        let layer = opLayer "TFOpLambda" "where" """["x", 0, 0, {"name": null}]"""
                        runOp layer [ Shape.batchOf [ 3 ] ] [ xt ] |> ignore
                        None
                    with e ->
                        Some e.Message

                Expect.isSome error "one-argument tf.where refused"
                Expect.stringContains error.Value "three-argument" "says which form is supported"
            }
        ]

// ---- tf.shape and reshape to a tensor-valued shape (issue 13) --------------------------------------------------

/// A tf.keras 2.15 model reshaping with shapes built from tf.shape, as model.to_json() writes it:
/// <code>
/// x = Input((6,)); d = Dense(12)(x)
/// r = tf.reshape(d, [tf.compat.v1.shape(d)[0], -1, 3])
/// s = tf.shape(r); flat = tf.reshape(r, tf.stack([s[0], s[1] * 3]))
/// </code>
let private dynamicReshapeJson =
    let op name fn inbound = opJson "TFOpLambda" name fn inbound

    let slicing name inbound =
        opJson "SlicingOpLambda" name "__operators__.getitem" inbound

    let layers =
        [
            """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}"""
            denseJson "dense" 12 """[[["input_1", 0, 0, {}]]]"""
            op "tf.compat.v1.shape" "compat.v1.shape" """[["dense", 0, 0, {"out_type": "int32", "name": null}]]"""
            slicing "tf.__operators__.getitem" """[["tf.compat.v1.shape", 0, 0, {"slice_spec": 0}]]"""
            op
                "tf.reshape"
                "reshape"
                """[["dense", 0, 0, {"shape": [["tf.__operators__.getitem", 0, 0], -1, 3], "name": null}]]"""
            op "tf.shape" "shape" """[["tf.reshape", 0, 0, {"out_type": "int32", "name": null}]]"""
            slicing "tf.__operators__.getitem_1" """[["tf.shape", 0, 0, {"slice_spec": 0}]]"""
            slicing "tf.__operators__.getitem_2" """[["tf.shape", 0, 0, {"slice_spec": 1}]]"""
            op "tf.math.multiply" "math.multiply" """[["tf.__operators__.getitem_2", 0, 0, {"y": 3, "name": null}]]"""
            op
                "tf.stack"
                "stack"
                """[[["tf.__operators__.getitem_1", 0, 0, {"axis": 0, "name": "stack"}], ["tf.math.multiply", 0, 0, {"axis": 0, "name": "stack"}]]]"""
            op "tf.reshape_1" "reshape" """[["tf.reshape", 0, 0, {"shape": ["tf.stack", 0, 0], "name": null}]]"""
        ]

    $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{String.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.reshape", 0, 0], ["tf.reshape_1", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}"""

let private wr = denseWeights 3.3 6 12

[<Tests>]
let dynamicReshapeTests =
    testList
        "TFOpLayers: tf.shape and tensor-valued reshape"
        [
            test "tf.reshape with shapes built from tf.shape predicts as Dense then Reshape" {
                let model = Keras.ModelFromJson dynamicReshapeJson
                setDense (Model.getLayer model "dense") wr 6 12

                let shapeOf name =
                    let layer = Model.getLayer model name
                    (model.Nodes |> List.find (fun n -> n.Layer = layer)).Outputs.Head

                Expect.equal (shapeOf "tf.compat.v1.shape").Shape [ Some 2 ] "tf.shape of a rank-2 tensor"
                Expect.equal (shapeOf "tf.compat.v1.shape").DType Int32 "int32"
                Expect.equal (shapeOf "tf.__operators__.getitem").Shape [] "a scalar"

                Expect.equal
                    (shapeOf "tf.reshape").Shape
                    [ None; None; Some 3 ]
                    "[batch, -1, 3]: the tensor entry is unknown"

                Expect.equal (shapeOf "tf.stack").Shape [ Some 2 ] "stack of two scalars"
                Expect.equal (shapeOf "tf.reshape_1").Shape [ None; None ] "a whole shape tensor of length 2"

                let input = Keras.Input(shape = [ 6 ])
                let dense = Layers.Dense(12)
                let d = input --> dense
                let byHand = Keras.Model(input, [ d --> Layers.Reshape([ 4; 3 ]); d ])
                setDense dense wr 6 12

                let x =
                    torch.tensor(Array.init 30 (fun i -> float32 (Math.Sin(0.29 * float i)))).reshape(5L, 6L)

                let loaded = Model.predictMany model 8 [ x ]
                let expected = Model.predictMany byHand 8 [ x ]
                Expect.equal (loaded |> List.map (fun r -> r.shape)) [ [| 5L; 4L; 3L |]; [| 5L; 12L |] ] "shapes"

                List.iter2
                    (fun (e: torch.Tensor) (a: torch.Tensor) -> closeTo 1e-6f (values e) (values a) "values")
                    expected
                    loaded

                let config = Model.getConfig model
                let reloaded = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig reloaded).ToJsonString()) (config.ToJsonString()) "same config"

                let reshape =
                    config["layers"].AsArray()
                    |> Seq.find (fun l -> l["name"].GetValue<string>() = "tf.reshape")

                Expect.equal
                    (reshape["inbound_nodes"].ToJsonString())
                    """[["dense",0,0,{"shape":[["tf.__operators__.getitem",0,0],-1,3]}]]"""
                    "the tensor entry is written back as a node reference"
            }

            // tf.keras 2 writes a constant in the first argument as ["_CONSTANT_VALUE", -1, value, kwargs].
            test "tf.stack of a shape entry and constants ([s[0], 4, 3]) reshapes as Keras's Reshape" {
                let op name fn inbound = opJson "TFOpLambda" name fn inbound

                let layers =
                    [
                        """{"class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}, "name": "input_1", "inbound_nodes": []}"""
                        denseJson "dense" 12 """[[["input_1", 0, 0, {}]]]"""
                        op "tf.shape" "shape" """[["dense", 0, 0, {"out_type": "int32", "name": null}]]"""
                        opJson
                            "SlicingOpLambda"
                            "tf.__operators__.getitem"
                            "__operators__.getitem"
                            """[["tf.shape", 0, 0, {"slice_spec": 0}]]"""
                        op
                            "tf.stack"
                            "stack"
                            """[[["tf.__operators__.getitem", 0, 0, {"axis": 0, "name": "stack"}], ["_CONSTANT_VALUE", -1, 4, {"axis": 0, "name": "stack"}], ["_CONSTANT_VALUE", -1, 3, {"axis": 0, "name": "stack"}]]]"""
                        op "tf.reshape" "reshape" """[["dense", 0, 0, {"shape": ["tf.stack", 0, 0], "name": null}]]"""
                    ]

                let json =
                    $$"""{"class_name": "Functional", "config": {"name": "model", "trainable": true, "layers": [{{String.Join(", ", layers)}}], "input_layers": [["input_1", 0, 0]], "output_layers": [["tf.reshape", 0, 0], ["tf.stack", 0, 0]]}, "keras_version": "2.15.0", "backend": "tensorflow"}"""

                let model = Keras.ModelFromJson json
                setDense (Model.getLayer model "dense") wr 6 12
                let stack = Model.getLayer model "tf.stack"
                let node = model.Nodes |> List.find (fun n -> n.Layer = stack)
                Expect.equal node.Outputs.Head.Shape [ Some 3 ] "three entries"

                let input = Keras.Input(shape = [ 6 ])
                let dense = Layers.Dense(12)
                let byHand = Keras.Model(input, input --> dense --> Layers.Reshape([ 4; 3 ]))
                setDense dense wr 6 12

                let x =
                    torch.tensor(Array.init 30 (fun i -> float32 (Math.Cos(0.31 * float i)))).reshape (5L, 6L)

                match Model.predictMany model 8 [ x ] with
                | [ reshaped; shape ] ->
                    Expect.equal (values (shape.to_type torch.ScalarType.Float32)) [| 5.f; 4.f; 3.f |] "[5, 4, 3]"
                    Expect.equal reshaped.shape [| 5L; 4L; 3L |] "reshaped"
                    closeTo 1e-6f (values (Model.predict byHand x)) (values reshaped) "values"
                | outs -> failtestf "expected two outputs, got %d" outs.Length

                let config = Model.getConfig model
                let reloaded = Model.fromConfig config CustomObjects.none
                Expect.equal ((Model.getConfig reloaded).ToJsonString()) (config.ToJsonString()) "same config"
            }

            test "a shape that does not fit the input fails with a message, not a native error" {
                let layer =
                    opLayer "TFOpLambda" "reshape" """["x", 0, 0, {"shape": [["s", 0, 0], 5]}]"""

                let x = t (Array.init 12 float32) [ 2; 6 ]
                let s = torch.tensor (2L)

                let message =
                    try
                        Layer.callEager layer false [ x; s ] |> ignore
                        ""
                    with e ->
                        e.Message

                Expect.stringContains message "Cannot reshape" "a readable error"
            }
        ]
