/// Compiled models in `.keras` files: Keras 3's compile_config (optimizer, loss, metrics, loss weights, as Keras writes
/// them), the optimizer's variables at optimizer/vars/N, load_model(compile=true/false), bit-identical resume of
/// training after save → load for every optimizer, real Keras files' compile configs, and a JSON config + weights pair.
module CompileSavingTests

open System.IO
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private str (n: JsonNode) = n.GetValue<string>()
let private num (n: JsonNode) = n.GetValue<float>()
let private flag (n: JsonNode) = n.GetValue<bool>()
let private intOf (n: JsonNode) = n.GetValue<int>()

let private keys (node: JsonNode) =
    node.AsObject() |> Seq.map _.Key |> Set.ofSeq

let private compileConfigOf (path: string) =
    (KerasFile.readArchiveConfig path).["compile_config"]

/// A small deterministic model: Dense → BatchNormalization → Dense (softmax), no dropout.
let internal smallModel () =
    let input = Keras.Input(shape = [ 5 ])

    let output =
        input
        --> Layers.Dense(6, activation = "tanh")
        --> Layers.BatchNormalization()
        --> Layers.Dense(3, activation = "softmax")

    Keras.Model(input, output)

/// Eight samples of 5 features and one-hot labels of 3 classes, from a generator seeded with <paramref name="seed"/>.
let internal seededBatch (seed: uint64) =
    use _ = torch.NewDisposeScope()
    use gen = new torch.Generator(seed)
    let x = torch.randn ([| 8L; 5L |], generator = gen)
    let labels = torch.randint (3L, [| 8L |], generator = gen)
    let y = torch.nn.functional.one_hot(labels, 3L).to_type(torch.ScalarType.Float32)
    x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope()

let private batch () = seededBatch 1234UL

let private weightsOf (model: Model) =
    Model.weights model |> List.map (fun w -> w.Value.detach().clone())

/// Same shape, dtype and bits.
let private same (a: torch.Tensor) (b: torch.Tensor) =
    a.shape = b.shape
    && a.dtype = b.dtype
    && (values a |> Array.map System.BitConverter.SingleToInt32Bits) =
        (values b |> Array.map System.BitConverter.SingleToInt32Bits)

let private exactlyEqual (a: torch.Tensor list) (b: torch.Tensor list) (message: string) =
    Expect.equal a.Length b.Length $"{message}: weight count"

    List.iteri2
        (fun i (x: torch.Tensor) (y: torch.Tensor) -> Expect.isTrue (same x y) $"{message}: weight {i} bit-identical")
        a
        b

/// Trains three steps, saves, loads (compiled), then takes one more step in both; returns both models' weights and
/// the loaded compiled model.
let private resumeThen (optimizer: Optimizer) (andThen: string -> torch.Tensor * torch.Tensor -> unit) =
    inTempFolder "compile-resume" (fun folder ->
        let model = smallModel ()

        let compiled =
            model.Compile(optimizer, loss = "categorical_crossentropy", metrics = [ "accuracy" ])

        let x, y = batch ()

        for _ in 1..3 do
            compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

        let path = Path.Combine(folder, "m.keras")
        model.Save path
        let loaded = Keras.LoadCompiledModel path
        Expect.equal loaded.Optimizer.Iterations compiled.Optimizer.Iterations "iterations restored"
        compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
        loaded.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
        andThen path (x, y)
        weightsOf model, weightsOf loaded.Model)

let private resume (optimizer: Optimizer) = resumeThen optimizer (fun _ _ -> ())

let private optimizers: (string * Optimizer) list =
    [
        "Adam", Optimizers.Adam(learningRate = 0.01)
        "SGD with momentum", Optimizers.SGD(learningRate = 0.05, momentum = 0.9)
        "SGD with Nesterov momentum", Optimizers.SGD(learningRate = 0.05, momentum = 0.8, nesterov = true)
        "plain SGD", Optimizers.SGD(learningRate = 0.05)
        "RMSprop", Optimizers.RMSprop(learningRate = 0.01, rho = 0.8)
        "AdamW", Optimizers.AdamW(learningRate = 0.01, weightDecay = 0.01)
        "Adagrad", Optimizers.Adagrad(learningRate = 0.05, initialAccumulatorValue = 0.2)
        "Adam with an ExponentialDecay schedule",
        Optimizers.Adam(learningRate = Schedules.exponentialDecay 0.01 2L 0.5 false)
        // Keras 3's base-optimizer options and the extra slot variables (velocity_hat, momentum, average_gradient).
        "Adam with AMSGrad and clipnorm", Optimizers.Adam(learningRate = 0.01, amsgrad = true, clipNorm = 0.5)
        "AdamW with AMSGrad", Optimizers.AdamW(learningRate = 0.01, weightDecay = 0.01, amsgrad = true)
        "centered RMSprop with momentum",
        Optimizers.RMSprop(learningRate = 0.01, momentum = 0.5, centered = true, globalClipNorm = 1.0)
        "centered RMSprop", Optimizers.RMSprop(learningRate = 0.01, centered = true)
        "SGD with weight decay and clipvalue",
        Optimizers.SGD(learningRate = 0.05, momentum = 0.9, weightDecay = 0.1, clipValue = 0.05)
    ]

[<Tests>]
let tests =
    testList
        "CompileSaving"
        [
            testCase "compile_config has Keras 3's shape: optimizer object, loss object, metric names"
            <| fun () ->
                inTempFolder "compile-config" (fun folder ->
                    let model = smallModel ()

                    model.Compile(Optimizers.Adam(learningRate = 0.002), loss = "mse", metrics = [ "mae" ])
                    |> ignore

                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let c = compileConfigOf path

                    Expect.equal
                        (keys c)
                        (set
                            [
                                "optimizer"
                                "loss"
                                "loss_weights"
                                "metrics"
                                "weighted_metrics"
                                "run_eagerly"
                                "steps_per_execution"
                                "jit_compile"
                            ])
                        "trainer.get_compile_config keys"

                    let o = c.["optimizer"]
                    Expect.equal (str (o.["module"])) "keras.optimizers" "module"
                    Expect.equal (str (o.["class_name"])) "Adam" "class"
                    Expect.isNull o.["registered_name"] "registered_name null"
                    Expect.isTrue (o.AsObject().ContainsKey "registered_name") "registered_name present"

                    // Keras 3's BaseOptimizer.get_config keys and Adam's own.
                    Expect.equal
                        (keys o.["config"])
                        (set
                            [
                                "name"
                                "learning_rate"
                                "weight_decay"
                                "clipnorm"
                                "global_clipnorm"
                                "clipvalue"
                                "use_ema"
                                "ema_momentum"
                                "ema_overwrite_frequency"
                                "loss_scale_factor"
                                "gradient_accumulation_steps"
                                "beta_1"
                                "beta_2"
                                "epsilon"
                                "amsgrad"
                            ])
                        "Adam.get_config keys"

                    Expect.equal (str (o.["config"].["name"])) "adam" "auto name"
                    Expect.equal (num (o.["config"].["learning_rate"])) 0.002 "learning rate"
                    Expect.equal (num (o.["config"].["beta_2"])) 0.999 "beta_2"
                    Expect.equal (flag (o.["config"].["amsgrad"])) false "amsgrad"
                    Expect.equal (str (c.["loss"].["class_name"])) "MeanSquaredError" "loss object"
                    Expect.equal (str (c.["loss"].["module"])) "keras.losses" "loss module"

                    Expect.equal
                        (keys c.["loss"].["config"])
                        (set [ "name"; "reduction" ])
                        "MeanSquaredError.get_config keys"

                    Expect.equal ((c.["metrics"]).ToJsonString()) """["mae"]""" "metric names kept"
                    Expect.isNull c.["loss_weights"] "no loss weights"
                    Expect.equal (flag (c.["jit_compile"])) false "jit_compile"
                    Expect.equal (intOf (c.["steps_per_execution"])) 1 "steps_per_execution")

            testCase "an uncompiled model's file has no compile_config; compile=false loads uncompiled"
            <| fun () ->
                inTempFolder "compile-none" (fun folder ->
                    let model = smallModel ()
                    let path = Path.Combine(folder, "m.keras")
                    model.Save path

                    Expect.isFalse
                        ((KerasFile.readArchiveConfig path).ContainsKey "compile_config")
                        "no compile config"

                    Expect.isNone ((Keras.LoadModel path).TryGetCompiled()) "loaded uncompiled"
                    model.Compile("sgd", loss = "mse") |> ignore
                    model.Save path
                    Expect.isSome ((Keras.LoadModel path).TryGetCompiled()) "compile=true by default"
                    Expect.isNone ((Keras.LoadModel(path, compile = false)).TryGetCompiled()) "compile=false")

            testCase "losses per output as a dict, loss weights as a list, metrics by output: written and read back"
            <| fun () ->
                inTempFolder "compile-multi" (fun folder ->
                    let input = Keras.Input(shape = [ 4 ])
                    let a = input --> Layers.Dense(2, name = "a")
                    let b = input --> Layers.Dense(1, activation = "sigmoid", name = "b")
                    let model = Keras.Model([ input ], [ "a", a; "b", b ])

                    model.Compile(
                        Optimizers.RMSprop(learningRate = 0.003),
                        losses = [ "a", Loss.MeanSquaredError; "b", BinaryCrossentropy true ],
                        lossWeightList = [ 0.25; 2.0 ],
                        outputMetrics = [ "b", [ MetricSpec.Named "accuracy"; MetricSpec.AUC 50 ] ]
                    )
                    |> ignore

                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let c = compileConfigOf path
                    Expect.equal (keys c.["loss"]) (set [ "a"; "b" ]) "loss dict keyed by output"
                    Expect.equal (flag (c.["loss"].["b"].["config"].["from_logits"])) true "from_logits"
                    Expect.equal ((c.["loss_weights"]).ToJsonString()) "[0.25,2]" "loss weights list"
                    Expect.equal ((c.["metrics"].["a"]).ToJsonString()) "[]" "no metrics for a"
                    Expect.equal (str (c.["metrics"].["b"].[0])) "accuracy" "name kept"
                    Expect.equal (str (c.["metrics"].["b"].[1].["class_name"])) "AUC" "metric object"
                    Expect.equal (intOf (c.["metrics"].["b"].[1].["config"].["num_thresholds"])) 50 "AUC thresholds"
                    let loaded = Keras.LoadCompiledModel path
                    Expect.equal loaded.Losses [ Loss.MeanSquaredError; BinaryCrossentropy true ] "losses"
                    Expect.equal loaded.LossWeights [ 0.25; 2.0 ] "loss weights"

                    match loaded.Optimizer.Optimizer with
                    | RMSprop(ConstantRate r, rho, eps, _, _, _) ->
                        Expect.equal (r, rho, eps) (0.003, 0.9, 1e-7) "RMSprop hyper-parameters"
                    | other -> failtest $"expected RMSprop, got {other}"

                    // The re-saved config is the same.
                    let again = Path.Combine(folder, "again.keras")
                    loaded.Save again

                    Expect.equal
                        ((compileConfigOf again).ToJsonString())
                        (c.ToJsonString())
                        "compile_config survives a load and save")

            testCase "optimizer variables sit at optimizer/vars/N in Keras's order"
            <| fun () ->
                inTempFolder "compile-vars" (fun folder ->
                    let model = smallModel ()
                    let compiled = model.Compile(Optimizers.Adam(learningRate = 0.01), loss = "mse")
                    let x, y = batch ()

                    for _ in 1..2 do
                        compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let vars = (WeightsFile.readArchiveOptimizer model path).Value
                    let trainable = Model.trainableWeights model
                    // iterations, learning_rate, then (momentum, velocity) per trainable variable.
                    Expect.equal vars.Length (2 + 2 * trainable.Length) "count"
                    Expect.equal vars.[0].dtype torch.ScalarType.Int64 "iterations int64"
                    Expect.equal (vars.[0].item<int64>()) 2L "two steps"
                    Expect.equal vars.[1].dtype torch.ScalarType.Float32 "learning rate float32"
                    Expect.equal (vars.[1].item<float32>()) 0.01f "learning rate"

                    trainable
                    |> List.iteri (fun i w ->
                        let m, v = vars.[2 + 2 * i], vars.[3 + 2 * i]
                        Expect.equal m.shape w.Value.shape $"momentum {i} shape"
                        Expect.equal v.shape w.Value.shape $"velocity {i} shape"
                        Expect.isTrue (same m compiled.Optimizer.Slots.[w.Value].[0]) $"momentum {i}"
                        Expect.isTrue (same v compiled.Optimizer.Slots.[w.Value].[1]) $"velocity {i}"))

            testList
                "the next training step after save → load is bit-identical"
                [
                    for name, optimizer in optimizers ->
                        testCase name
                        <| fun () ->
                            let original, loaded = resume optimizer
                            exactlyEqual original loaded name
                ]

            testCase "without the optimizer state the next step differs (the resume test has teeth)"
            <| fun () ->
                let check (path: string) (x: torch.Tensor, y: torch.Tensor) =
                    let fresh = Keras.LoadModel(path, compile = false)
                    let restored = Keras.LoadCompiledModel path

                    let recompiled =
                        fresh.Compile(Optimizers.Adam(learningRate = 0.01), loss = "categorical_crossentropy")

                    recompiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    restored.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

                    let differs =
                        List.exists2
                            (fun (a: torch.Tensor) (b: torch.Tensor) -> not (same a b))
                            (weightsOf fresh)
                            (weightsOf restored.Model)

                    Expect.isTrue differs "a fresh Adam takes another step"

                resumeThen (Optimizers.Adam(learningRate = 0.01)) check |> ignore

            testCase "a learning rate changed by a callback is saved and restored"
            <| fun () ->
                inTempFolder "compile-lr" (fun folder ->
                    let model = smallModel ()

                    let compiled =
                        model.Compile(Optimizers.SGD(learningRate = 0.1, momentum = 0.5), loss = "mse")

                    let x, y = batch ()
                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    compiled.Optimizer.SetLearningRate 0.025
                    let path = Path.Combine(folder, "m.keras")
                    model.Save path

                    Expect.equal
                        (num ((compileConfigOf path).["optimizer"].["config"].["learning_rate"]))
                        0.025
                        "current rate in the config"

                    let loaded = Keras.LoadCompiledModel path
                    Expect.equal loaded.Optimizer.LearningRate 0.025 "rate restored")

            testCase "a schedule is written as Keras's serialized schedule and rebuilt"
            <| fun () ->
                inTempFolder "compile-schedule" (fun folder ->
                    let model = smallModel ()

                    model.Compile(
                        Optimizers.Adam(learningRate = Schedules.exponentialDecay 0.01 10L 0.5 true),
                        loss = "mse"
                    )
                    |> ignore

                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let rate = (compileConfigOf path).["optimizer"].["config"].["learning_rate"]
                    Expect.equal (str (rate.["module"])) "keras.optimizers.schedules" "module"
                    Expect.equal (str (rate.["class_name"])) "ExponentialDecay" "class"
                    Expect.equal (flag (rate.["config"].["staircase"])) true "staircase"
                    let loaded = Keras.LoadCompiledModel path

                    match loaded.Optimizer.Optimizer with
                    | Adam(Schedule(n, f), _, _, _, _, _) ->
                        Expect.equal n "ExponentialDecay" "schedule"
                        Expect.equal (f 25L) (0.01 * 0.25) "staircase decay at step 25"
                    | other -> failtest $"expected a schedule, got {other}")

            testCase "Keras 3.1.1's mnist_cnn_keras3.keras: compiled from its compile_config, Adam state restored"
            <| fun () ->
                let path = kerasFile "mnist_cnn_keras3.keras"
                let compiled = Keras.LoadCompiledModel path

                match compiled.Optimizer.Optimizer with
                | Adam(ConstantRate r, b1, b2, eps, false, _) ->
                    Expect.equal (r, b1, b2, eps) (0.001, 0.9, 0.999, 1e-7) "adam"
                | other -> failtest $"expected Adam, got {other}"

                Expect.equal compiled.Losses [ CategoricalCrossentropy false ] "loss"
                let stored = (WeightsFile.readArchiveOptimizer compiled.Model path).Value
                Expect.equal stored.Length 14 "iterations, learning rate and 6 × (momentum, velocity)"
                Expect.equal compiled.Optimizer.Iterations (stored.[0].item<int64>()) "iterations restored"
                Expect.isGreaterThan compiled.Optimizer.Iterations 0L "the file was trained"
                let kernel = (Model.trainableWeights compiled.Model).[0].Value
                Expect.isTrue (same compiled.Optimizer.Slots.[kernel].[1] stored.[3]) "first velocity"
                // One more epoch of training runs from the restored state.
                let images, labels = mnistTest.Value
                let x = images.narrow(0L, 0L, 64L).unsqueeze(-1L)

                let y =
                    torch.nn.functional.one_hot(labels.narrow (0L, 0L, 64L), 10L).to_type torch.ScalarType.Float32

                let logs = compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y)
                Expect.isTrue (logs.ContainsKey "accuracy") "metrics from the file"
                Expect.equal compiled.Optimizer.Iterations (stored.[0].item<int64>() + 1L) "one more step"

            testCase "a Keras 2 legacy .h5 is compiled from its training_config"
            <| fun () ->
                let model = Keras.LoadModel(kerasFile "mnist_mlp_keras2.h5")
                let compiled = (model.TryGetCompiled()).Value
                Expect.equal compiled.Losses.Length 1 "one loss"

                Expect.isNone
                    ((Keras.LoadModel(kerasFile "mnist_mlp_keras2.h5", compile = false)).TryGetCompiled())
                    "compile=false"

            testCase "a JSON config and a weights file load as one model"
            <| fun () ->
                inTempFolder "json-weights" (fun folder ->
                    let model = smallModel ()
                    let json = Path.Combine(folder, "m.json")
                    File.WriteAllText(json, model.ToJson())
                    let weights = Path.Combine(folder, "m.weights.h5")
                    model.SaveWeights weights
                    let x, _ = batch ()
                    let loaded = Keras.LoadModel(json, weightsPath = weights)
                    exactlyEqual [ model.Predict x ] [ loaded.Predict x ] "same predictions"
                    // A legacy .h5 weights file too (Keras 3's mnist CNN, layer order).
                    let cnnJson = Path.Combine(folder, "cnn.json")
                    File.WriteAllText(cnnJson, (mnistCnn ()).ToJson())

                    let cnn =
                        Keras.LoadModel(cnnJson, weightsPath = kerasFile "mnist_cnn_keras3_legacy.h5")

                    let reference =
                        Keras.LoadModel(kerasFile "mnist_cnn_keras3_legacy.h5", compile = false)

                    let images = (fst mnistTest.Value).narrow(0L, 0L, 16L).unsqueeze(-1L)
                    exactlyEqual [ cnn.Predict images ] [ reference.Predict images ] "legacy weights"

                    let missing =
                        kerasError (fun () ->
                            Keras.LoadModel(json, weightsPath = Path.Combine(folder, "none.weights.h5")))

                    Expect.stringContains (snd missing) "none.weights.h5" "names the weights file")
        ]

/// Loading weights from a file that carries a config into an existing model checks the architecture first.
[<Tests>]
let configChecks =
    testList
        "ConfigCheckOnLoad"
        [
            testCase "BatchNormalization epsilon 1e-3 against a file's 1e-6 is refused, naming both"
            <| fun () ->
                inTempFolder "config-check" (fun folder ->
                    let build (epsilon: float) =
                        let input = Keras.Input(shape = [ 4 ])
                        Keras.Model(input, input --> Layers.Dense(3) --> Layers.BatchNormalization(epsilon = epsilon))

                    let path = Path.Combine(folder, "m.keras")
                    (build 1e-6).Save path
                    let target = build 1e-3
                    let before = weightsOf target
                    let _, message = kerasError (fun () -> target.LoadWeights path)

                    for part in [ path; "epsilon=0.001"; "epsilon=1E-06"; "BatchNormalization" ] do
                        Expect.stringContains message part $"names {part}"

                    exactlyEqual (weightsOf target) before "nothing loaded")

            testCase "a reordered BatchNormalization is refused although every weight shape fits"
            <| fun () ->
                inTempFolder "config-check" (fun folder ->
                    let input = Keras.Input(shape = [ 4 ])

                    let saved =
                        Keras.Model(
                            input,
                            input
                            --> Layers.Dense(4)
                            --> Layers.BatchNormalization()
                            --> Layers.Dense(4)
                            --> Layers.Dense(4)
                        )

                    let input2 = Keras.Input(shape = [ 4 ])

                    let reordered =
                        Keras.Model(
                            input2,
                            input2
                            --> Layers.Dense(4)
                            --> Layers.Dense(4)
                            --> Layers.BatchNormalization()
                            --> Layers.Dense(4)
                        )

                    let path = Path.Combine(folder, "m.keras")
                    saved.Save path
                    let _, message = kerasError (fun () -> reordered.LoadWeights path)
                    Expect.stringContains message "is a Dense, but the file's layer 2" "names the first difference"
                    Expect.stringContains message "is a BatchNormalization" "names the file's class")

            testCase "BatchNormalization axis and a convolution's strides are compared"
            <| fun () ->
                inTempFolder "config-check" (fun folder ->
                    let bn (axis: int) =
                        let input = Keras.Input(shape = [ 4; 4 ])
                        Keras.Model(input, input --> Layers.BatchNormalization(axis = axis))

                    let path = Path.Combine(folder, "bn.keras")
                    (bn 1).Save path
                    let _, message = kerasError (fun () -> (bn 2).LoadWeights path)
                    Expect.stringContains message "axis=2" "ours"
                    Expect.stringContains message "axis=1" "theirs"
                    // -1 and 2 are the same axis of a rank-3 input: not refused.
                    (bn 2).Save path
                    (bn -1).LoadWeights path

                    let conv (strides: int) =
                        let input = Keras.Input(shape = [ 9; 9; 2 ])

                        Keras.Model(
                            input,
                            input
                            --> Layers.Conv2D(3, 3, strides = strides)
                            --> Layers.GlobalAveragePooling2D()
                        )

                    let path = Path.Combine(folder, "conv.keras")
                    (conv 2).Save path
                    let _, message = kerasError (fun () -> (conv 1).LoadWeights path)
                    Expect.stringContains message "strides" "names strides")

            testCase "a legacy full-model .h5 written by Keras is checked against the model too"
            <| fun () ->
                let input = Keras.Input(shape = [ 28; 28; 1 ])

                let output =
                    input
                    --> Layers.Conv2D(32, 3, activation = "tanh", name = "conv2d")
                    --> Layers.MaxPooling2D(2, name = "max_pooling2d")
                    --> Layers.Conv2D(64, 3, activation = "relu", name = "conv2d_1")
                    --> Layers.MaxPooling2D(2, name = "max_pooling2d_1")
                    --> Layers.Flatten(name = "flatten")
                    --> Layers.Dropout(0.5, name = "dropout")
                    --> Layers.Dense(10, activation = "softmax", name = "dense")

                let model = Keras.Model(input, output)

                let _, message =
                    kerasError (fun () -> model.LoadWeights(kerasFile "mnist_cnn_keras3_legacy.h5"))

                Expect.stringContains message "activation=\"tanh\"" "ours"
                Expect.stringContains message "activation=\"relu\"" "the file's"
                // The same architecture loads.
                (mnistCnn ()).LoadWeights(kerasFile "mnist_cnn_keras3_legacy.h5")
        ]

/// Re-saving what was loaded keeps Keras's layout: Sequential stays Sequential, dtypes are names as Keras 3.1.1 writes them.
[<Tests>]
let resaveFidelity =
    testList
        "ResaveFidelity"
        [
            testCase "a Sequential model loaded from Keras re-saves as Sequential with Keras's config layout"
            <| fun () ->
                inTempFolder "resave" (fun folder ->
                    let original = Keras.LoadModel(kerasFile "mnist_cnn_keras3.keras")
                    let path = Path.Combine(folder, "again.keras")
                    original.Save path
                    let saved = KerasFile.readArchiveConfig path
                    Expect.equal (str (saved.["class_name"])) "Sequential" "class_name"
                    Expect.equal (str (saved.["module"])) "keras" "module"
                    Expect.isNull saved.["registered_name"] "registered_name"
                    let config = saved.["config"]

                    Expect.equal
                        (keys config)
                        (set [ "name"; "trainable"; "dtype"; "layers"; "build_input_shape" ])
                        "Sequential.get_config keys"

                    Expect.equal ((config.["build_input_shape"]).ToJsonString()) "[null,28,28,1]" "build_input_shape"
                    let layers = config.["layers"].AsArray()
                    Expect.equal (str (layers.[0].["class_name"])) "InputLayer" "InputLayer first"

                    Expect.equal
                        [ for l in layers -> str (l.["class_name"]) ]
                        [
                            "InputLayer"
                            "Conv2D"
                            "MaxPooling2D"
                            "Conv2D"
                            "MaxPooling2D"
                            "Flatten"
                            "Dropout"
                            "Dense"
                        ]
                        "layers in order"

                    Expect.isFalse ((layers.[1]).AsObject().ContainsKey "inbound_nodes") "no inbound_nodes"

                    Expect.equal
                        ((layers.[1].["build_config"]).ToJsonString())
                        """{"input_shape":[null,28,28,1]}"""
                        "build_config"
                    // And it loads back to the same predictions, still Sequential.
                    let again = Keras.LoadModel path
                    Expect.isTrue (Model.isSequential again) "still Sequential"
                    let images = (fst mnistTest.Value).narrow(0L, 0L, 8L).unsqueeze(-1L)
                    exactlyEqual [ original.Predict images ] [ again.Predict images ] "same predictions"
                    Expect.isSome (again.TryGetCompiled()) "the compile config travels along")

            testCase
                "layer dtypes are written as Keras 3.1.1's policy name and read as a name or a DTypePolicy (Keras 3.4+)"
            <| fun () ->
                let input = Keras.Input(shape = [ 3 ])
                let model = Keras.Model(input, input --> Layers.Dense(2, name = "d"))
                let config = Model.getConfig model
                let dense = config.["layers"].[1].["config"]

                Expect.equal ((dense.["dtype"]).ToJsonString()) "\"float32\"" "Keras 3.1.1's dtype_policy.name"

                let viaName = Model.fromConfig config CustomObjects.none

                dense.AsObject().["dtype"] <-
                    JsonNode.Parse
                        """{"module":"keras","class_name":"DTypePolicy","config":{"name":"float32"},"registered_name":null}"""

                let viaPolicy = Model.fromConfig config CustomObjects.none

                Expect.equal
                    (viaPolicy.Layers |> List.map _.ClassName)
                    (viaName.Layers |> List.map _.ClassName)
                    "both read"

                Expect.equal
                    ((Model.getConfig viaName).ToJsonString())
                    ((Model.getConfig viaPolicy).ToJsonString())
                    "same config"
        ]
