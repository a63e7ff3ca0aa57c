/// Keras 3's base-optimizer options (weight_decay, clipnorm, clipvalue, global_clipnorm), Adam/AdamW's AMSGrad and
/// RMSprop's momentum and centered variant: the update rules against plain-loop references of a few steps, the slot
/// variables in Keras's order, and the compile_config keys as Keras writes them (both ways), including the options
/// the library refuses.
module OptimizerOptionTests

open System.IO
open System.IO.Compression
open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

// ------------------------------------------------------------------------------------------------------------
// A plain-loop reference: weights and gradients as float arrays, one step = clip, decay, then an elementwise rule.

/// One element's update: step number t (from 1), learning rate, weight, gradient and the element's slots (mutated);
/// returns the new weight.
type private Rule = float -> float -> float -> float -> float[] -> float

let private norm (g: float[]) =
    g |> Array.sumBy (fun x -> x * x) |> sqrt

/// Keras's clipnorm: g · c / max(‖g‖, c), per gradient.
let private clipEach (c: float) (gs: float[] list) =
    gs |> List.map (fun g -> g |> Array.map (fun x -> x * c / max (norm g) c))

/// Keras's global_clipnorm: all gradients times c · min(1/‖all‖, 1/c).
let private clipGlobal (c: float) (gs: float[] list) =
    let total = gs |> List.sumBy (fun g -> g |> Array.sumBy (fun x -> x * x)) |> sqrt
    let scale = c * min (1.0 / total) (1.0 / c)
    gs |> List.map (Array.map (fun x -> x * scale))

let private clipValues (v: float) (gs: float[] list) =
    gs |> List.map (Array.map (fun x -> max -v (min v x)))

/// Runs the reference over the steps' gradients; slots start at <paramref name="slotInit"/> for every element.
let private reference
    (clip: float[] list -> float[] list)
    (decay: float)
    (lr: float)
    (slotInit: float[])
    (rule: Rule)
    (init: float[] list)
    (steps: float[] list list)
    =
    let weights = init |> List.map Array.copy
    let slots = init |> List.map (Array.map (fun _ -> Array.copy slotInit))

    steps
    |> List.iteri (fun i grads ->
        let t = float (i + 1)
        let grads = clip grads

        List.iteri2
            (fun k (w: float[]) (g: float[]) ->
                for e in 0 .. w.Length - 1 do
                    let decayed = w[e] - w[e] * decay * lr
                    w[e] <- rule t lr decayed g.[e] slots.[k].[e])
            weights
            grads)

    weights, slots

let private sgdRule (momentum: float) : Rule =
    fun _ lr w g s ->
        if momentum = 0.0 then
            w - lr * g
        else
            s[0] <- momentum * s[0] - lr * g
            w + s[0]

/// Slots: velocity, momentum, average gradient (Keras 3's RMSprop, with √(a + ε)).
let private rmspropRule (rho: float) (eps: float) (momentum: float) (centered: bool) : Rule =
    fun _ lr w g s ->
        s[0] <- rho * s[0] + (1.0 - rho) * g * g

        let denominator =
            if centered then
                s[2] <- rho * s[2] + (1.0 - rho) * g
                s[0] - s[2] * s[2] + eps
            else
                s[0] + eps

        let increment = lr * g / sqrt denominator

        if momentum > 0.0 then
            s[1] <- momentum * s[1] + increment
            w - s[1]
        else
            w - increment

/// Slots: momentum, velocity, velocity_hat.
let private adamRule (b1: float) (b2: float) (eps: float) (amsgrad: bool) : Rule =
    fun t lr w g s ->
        s[0] <- b1 * s[0] + (1.0 - b1) * g
        s[1] <- b2 * s[1] + (1.0 - b2) * g * g
        s[2] <- max s[2] s[1]
        let v = if amsgrad then s[2] else s[1]
        let alpha = lr * sqrt (1.0 - b2 ** t) / (1.0 - b1 ** t)
        w - alpha * s[0] / (sqrt v + eps)

let private adagradRule (eps: float) : Rule =
    fun _ lr w g s ->
        s[0] <- s[0] + g * g
        w - lr * g / sqrt (s[0] + eps)

// ------------------------------------------------------------------------------------------------------------
// The library's side: OptimizerState.Apply on two Parameters.

let private initial = [ [| 1.0; -2.0; 0.5 |]; [| 0.3; 0.7 |] ]

/// Large gradients first, then small ones (so AMSGrad's running maximum differs from the velocity, and the clipping
/// options both clip and leave alone).
let private gradients =
    [
        [ [| 3.0; 4.0; 0.0 |]; [| 0.0; 12.0 |] ]
        [ [| 0.1; -0.2; 0.05 |]; [| 0.3; -0.1 |] ]
        [ [| -0.05; 0.02; 0.4 |]; [| 0.02; 0.01 |] ]
    ]

let private run (optimizer: Optimizer) =
    let state = OptimizerState optimizer

    let parameters =
        initial
        |> List.map (fun a -> new TorchSharp.Modules.Parameter(torch.tensor (Array.map float32 a), true))

    for step in gradients do
        let grads = step |> List.map (fun g -> torch.tensor (Array.map float32 g))
        state.Apply(List.zip parameters grads)

    state, parameters

let private check (optimizer: Optimizer) (expected: float[] list) (message: string) =
    let _, parameters = run optimizer

    List.iteri2
        (fun i (p: TorchSharp.Modules.Parameter) (e: float[]) ->
            closeTo 2e-6f (Array.map float32 e) (values p) $"{message}: weight {i}")
        parameters
        expected

let private noClip: float[] list -> float[] list = id

[<Tests>]
let updateTests =
    testList
        "OptimizerOptions.updates"
        [
            test "clipnorm rescales each gradient to at most its own norm limit" {
                // Step 1: ‖[3, 4, 0]‖ = 5 and ‖[0, 12]‖ = 12 are clipped to 1; later steps are within the limit.
                let expected, _ =
                    reference (clipEach 1.0) 0.0 0.1 [| 0.0 |] (sgdRule 0.0) initial gradients

                Expect.floatClose Accuracy.high expected.[0].[0] (1.0 - 0.1 * 0.6 - 0.1 * 0.1 + 0.1 * 0.05) "by hand"
                check (Optimizers.SGD(learningRate = 0.1, clipNorm = 1.0)) expected "SGD clipnorm"
            }

            test "global_clipnorm rescales all gradients together" {
                // Step 1: the global norm is √(25 + 144) = 13, so every gradient is scaled by 2/13.
                let expected, _ =
                    reference (clipGlobal 2.0) 0.0 0.1 [| 0.0 |] (sgdRule 0.0) initial gradients

                Expect.floatClose
                    Accuracy.high
                    expected.[1].[1]
                    (0.7 - 0.1 * 12.0 * 2.0 / 13.0 + 0.01 - 0.001)
                    "by hand"

                check (Optimizers.SGD(learningRate = 0.1, globalClipNorm = 2.0)) expected "SGD global_clipnorm"
            }

            test "clipvalue clips each element" {
                let expected, _ =
                    reference (clipValues 0.25) 0.0 0.1 [| 0.0 |] (sgdRule 0.9) initial gradients

                check (Optimizers.SGD(learningRate = 0.1, momentum = 0.9, clipValue = 0.25)) expected "SGD clipvalue"
            }

            test "weight_decay decays w by w·wd·lr before every optimizer's update" {
                let decay = 0.2

                let cases =
                    [
                        "SGD",
                        Optimizers.SGD(learningRate = 0.1, momentum = 0.5, weightDecay = decay),
                        [| 0.0 |],
                        sgdRule 0.5
                        "RMSprop",
                        Optimizers.RMSprop(learningRate = 0.01, weightDecay = decay),
                        [| 0.0; 0.0; 0.0 |],
                        rmspropRule 0.9 1e-7 0.0 false
                        "Adam",
                        Optimizers.Adam(learningRate = 0.01, weightDecay = decay),
                        [| 0.0; 0.0; 0.0 |],
                        adamRule 0.9 0.999 1e-7 false
                        "Adagrad",
                        Optimizers.Adagrad(learningRate = 0.05, weightDecay = decay),
                        [| 0.1 |],
                        adagradRule 1e-7
                    ]

                for name, optimizer, slotInit, rule in cases do
                    let lr =
                        match optimizer.BaseLearningRate with
                        | ConstantRate r -> r
                        | _ -> failtest "constant rate"

                    let expected, _ = reference noClip decay lr slotInit rule initial gradients
                    check optimizer expected name
                    // The decay is really there: without it the weights differ.
                    let undecayed, _ = reference noClip 0.0 lr slotInit rule initial gradients
                    Expect.isGreaterThan (abs (expected[0][0] - undecayed[0][0])) 1e-4 $"{name}: decay matters"

                // AdamW is Adam with Keras's weight decay: the same numbers.
                let adam, _ =
                    reference noClip 0.004 0.01 [| 0.0; 0.0; 0.0 |] (adamRule 0.9 0.999 1e-7 false) initial gradients

                check (Optimizers.AdamW(learningRate = 0.01)) adam "AdamW"
            }

            test "Adam and AdamW with AMSGrad use the running maximum of the velocity" {
                // β₂ = 0.5 lets the velocity fall fast after the large first gradient, so v̂ and v part.
                let expected, slots =
                    reference noClip 0.0 0.01 [| 0.0; 0.0; 0.0 |] (adamRule 0.9 0.5 1e-7 true) initial gradients

                let plain, _ =
                    reference noClip 0.0 0.01 [| 0.0; 0.0; 0.0 |] (adamRule 0.9 0.5 1e-7 false) initial gradients

                Expect.isGreaterThan (abs (expected[0][0] - plain[0][0])) 1e-4 "AMSGrad differs from Adam here"
                check (Optimizers.Adam(learningRate = 0.01, beta2 = 0.5, amsgrad = true)) expected "Adam amsgrad"

                // velocity_hat is the maximum, not the last velocity.
                Expect.isGreaterThan slots.[0].[0].[2] slots.[0].[0].[1] "v̂ > v after the large first gradient"

                let withDecay, _ =
                    reference noClip 0.004 0.01 [| 0.0; 0.0; 0.0 |] (adamRule 0.9 0.5 1e-7 true) initial gradients

                check (Optimizers.AdamW(learningRate = 0.01, beta2 = 0.5, amsgrad = true)) withDecay "AdamW amsgrad"
            }

            test "RMSprop: Keras 3's √(a + ε), momentum and the centered variant" {
                for momentum, centered in [ 0.0, false; 0.7, false; 0.0, true; 0.7, true ] do
                    let expected, _ =
                        reference
                            noClip
                            0.0
                            0.01
                            [| 0.0; 0.0; 0.0 |]
                            (rmspropRule 0.9 1e-3 momentum centered)
                            initial
                            gradients

                    check
                        (Optimizers.RMSprop(
                            learningRate = 0.01,
                            epsilon = 1e-3,
                            momentum = momentum,
                            centered = centered
                        ))
                        expected
                        $"momentum {momentum}, centered {centered}"

                let centered, _ =
                    reference noClip 0.0 0.01 [| 0.0; 0.0; 0.0 |] (rmspropRule 0.9 1e-3 0.0 true) initial gradients

                let plain, _ =
                    reference noClip 0.0 0.01 [| 0.0; 0.0; 0.0 |] (rmspropRule 0.9 1e-3 0.0 false) initial gradients

                Expect.isGreaterThan (abs (centered[0][0] - plain[0][0])) 1e-4 "centering matters"
            }

            test "clipping and decay together: clip first, then decay, then the rule (Adam, clipnorm)" {
                let expected, _ =
                    reference
                        (clipEach 0.5)
                        0.1
                        0.01
                        [| 0.0; 0.0; 0.0 |]
                        (adamRule 0.9 0.999 1e-7 true)
                        initial
                        gradients

                check
                    (Optimizers.Adam(learningRate = 0.01, amsgrad = true, clipNorm = 0.5, weightDecay = 0.1))
                    expected
                    "Adam"
            }

            test "more than one clipping option is refused, as Keras refuses it" {
                let error, message =
                    kerasError (fun () -> Optimizers.Adam(clipNorm = 1.0, clipValue = 0.5))

                match error with
                | InvalidArgument(_, argument, _, _) -> Expect.equal argument "clipnorm" "names the option"
                | other -> failtest $"got {other}"

                Expect.stringContains message "Only one of `clipnorm`, `clipvalue` and `global_clipnorm`" "Keras's text"
                Expect.stringContains message "Adam" "names the optimizer"
            }
        ]

// ------------------------------------------------------------------------------------------------------------
// Slot variables in Keras's order (optimizer.variables / optimizer/vars/N).

[<Tests>]
let variableTests =
    testList
        "OptimizerOptions.variables"
        [
            test "AMSGrad: iterations, learning_rate, (momentum, velocity) per weight, then velocity_hat per weight" {
                let state, parameters = run (Optimizers.Adam(learningRate = 0.01, amsgrad = true))
                let vars = state.ExportVariables(parameters)
                Expect.equal vars.Length (2 + 3 * parameters.Length) "count"
                Expect.equal (vars[0].item<int64>()) 3L "iterations"
                let p0, p1 = parameters[0], parameters[1]
                let slot (p: TorchSharp.Modules.Parameter) k = state.Slots[p][k]

                let expected = [ slot p0 0; slot p0 1; slot p1 0; slot p1 1; slot p0 2; slot p1 2 ]

                List.iteri2
                    (fun i (a: torch.Tensor) (b: torch.Tensor) ->
                        Expect.equal (values a) (values b) $"variable {i + 2}")
                    (List.skip 2 vars)
                    expected

                Expect.equal (state.VariableShapes parameters) (vars |> List.map _.shape) "shapes as exported"

                // velocity_hat ≥ velocity everywhere.
                Expect.isTrue
                    (Array.forall2 (>=) (values (slot p0 2)) (values (slot p0 1)))
                    "velocity_hat is the running maximum"
            }

            test "RMSprop: velocities, then momentums, then average gradients, each weight by weight" {
                let state, parameters =
                    run (Optimizers.RMSprop(learningRate = 0.01, momentum = 0.5, centered = true))

                let vars = state.ExportVariables(parameters)
                Expect.equal vars.Length (2 + 3 * parameters.Length) "count"
                let p0, p1 = parameters[0], parameters[1]
                let slot (p: TorchSharp.Modules.Parameter) k = state.Slots[p][k]

                let expected = [ slot p0 0; slot p1 0; slot p0 1; slot p1 1; slot p0 2; slot p1 2 ]

                List.iteri2
                    (fun i (a: torch.Tensor) (b: torch.Tensor) ->
                        Expect.equal (values a) (values b) $"variable {i + 2}")
                    (List.skip 2 vars)
                    expected

                let _, slots =
                    reference noClip 0.0 0.01 [| 0.0; 0.0; 0.0 |] (rmspropRule 0.9 1e-7 0.5 true) initial gradients

                closeTo 1e-6f (slots[0] |> Array.map (fun s -> float32 s[2])) (values (slot p0 2)) "average_gradient"
                closeTo 1e-6f (slots[1] |> Array.map (fun s -> float32 s[1])) (values (slot p1 1)) "momentum"

                // Import restores them in the same order.
                let again = OptimizerState(state.Optimizer)
                again.ImportVariables(parameters, vars)

                for p in parameters do
                    for k in 0..2 do
                        Expect.equal (values (again.Slots[p][k])) (values (state.Slots[p][k])) $"slot {k} restored"
            }

            test "RMSprop without momentum or centering keeps one velocity per weight" {
                let state, parameters = run (Optimizers.RMSprop(learningRate = 0.01))
                Expect.equal (state.ExportVariables(parameters)).Length (2 + parameters.Length) "count"
            }
        ]

// ------------------------------------------------------------------------------------------------------------
// compile_config: Keras's keys both ways, and the options the library refuses.

let private smallModel () =
    let input = Keras.Input(shape = [ 4 ])
    let output = input --> Layers.Dense(3, activation = "tanh") --> Layers.Dense(2)
    Keras.Model(input, output)

/// Rewrites config.json inside a .keras archive.
let private editConfig (path: string) (edit: JsonObject -> unit) =
    use zip = ZipFile.Open(path, ZipArchiveMode.Update)
    let entry = zip.GetEntry "config.json"

    let config =
        use reader = new StreamReader(entry.Open())
        JsonNode.Parse(reader.ReadToEnd()).AsObject()

    edit config
    entry.Delete()
    let fresh = zip.CreateEntry "config.json"
    use writer = new StreamWriter(fresh.Open())
    writer.Write(config.ToJsonString())

let private optimizerConfig (config: JsonObject) =
    config.["compile_config"].["optimizer"].["config"].AsObject()

[<Tests>]
let configTests =
    testList
        "OptimizerOptions.config"
        [
            test "the options are written under Keras's keys" {
                let write optimizer =
                    (CompileConfig.serializeOptimizer (OptimizerState optimizer)).["config"].AsObject()

                let c =
                    write (Optimizers.Adam(learningRate = 0.01, amsgrad = true, clipNorm = 0.5, weightDecay = 0.1))

                Expect.equal (c["clipnorm"].GetValue<float>()) 0.5 "clipnorm"
                Expect.equal (c["weight_decay"].GetValue<float>()) 0.1 "weight_decay"
                Expect.isNull c["clipvalue"] "clipvalue"
                Expect.isNull c["global_clipnorm"] "global_clipnorm"
                Expect.isTrue (c["amsgrad"].GetValue<bool>()) "amsgrad"

                // Keras 3's Adam.get_config keys, in its order.
                Expect.sequenceEqual
                    (c |> Seq.map _.Key)
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
                    ]
                    "keys"

                let r =
                    write (Optimizers.RMSprop(momentum = 0.3, centered = true, globalClipNorm = 2.0))

                Expect.equal (r["momentum"].GetValue<float>()) 0.3 "momentum"
                Expect.isTrue (r["centered"].GetValue<bool>()) "centered"
                Expect.equal (r["global_clipnorm"].GetValue<float>()) 2.0 "global_clipnorm"
                Expect.isNull r["weight_decay"] "no weight decay is None"

                let w = write (Optimizers.AdamW(weightDecay = 0.02, clipValue = 0.1))
                Expect.equal (w["weight_decay"].GetValue<float>()) 0.02 "AdamW's weight decay"
                Expect.equal (w["clipvalue"].GetValue<float>()) 0.1 "clipvalue"
            }

            test "write then read gives the same optimizer" {
                for optimizer in
                    [
                        Optimizers.SGD(learningRate = 0.1, momentum = 0.9, weightDecay = 0.01, clipValue = 0.5)
                        Optimizers.RMSprop(learningRate = 0.01, momentum = 0.5, centered = true, clipNorm = 1.0)
                        Optimizers.Adam(learningRate = 0.01, amsgrad = true, globalClipNorm = 3.0, weightDecay = 0.1)
                        Optimizers.AdamW(learningRate = 0.01, weightDecay = 0.05, amsgrad = true)
                        Optimizers.Adagrad(learningRate = 0.05, weightDecay = 0.01, clipNorm = 2.0)
                    ] do
                    let read =
                        CompileConfig.parseOptimizer (CompileConfig.serializeOptimizer (OptimizerState optimizer))

                    Expect.equal (string read) (string optimizer) "same optimizer"
            }

            test "a config as Keras 3 writes it loads with its options" {
                let text =
                    """{"module": "keras.optimizers", "class_name": "RMSprop", "config": {"name": "rmsprop", "learning_rate": 0.0010000000474974513, "weight_decay": 0.01, "clipnorm": null, "global_clipnorm": 1.0, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null, "rho": 0.9, "momentum": 0.5, "epsilon": 1e-07, "centered": true}, "registered_name": null}"""

                match CompileConfig.parseOptimizer (JsonNode.Parse text) with
                | RMSprop(ConstantRate _, 0.9, 1e-7, 0.5, true, options) ->
                    Expect.equal
                        options
                        { OptimizerOptions.None with
                            WeightDecay = Some 0.01
                            GlobalClipNorm = Some 1.0
                        }
                        "options"
                | other -> failtest $"got {other}"

                let adam =
                    """{"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam", "learning_rate": 0.001, "weight_decay": null, "clipnorm": 1.0, "global_clipnorm": null, "clipvalue": null, "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null, "loss_scale_factor": null, "gradient_accumulation_steps": null, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": true}, "registered_name": null}"""

                match CompileConfig.parseOptimizer (JsonNode.Parse adam) with
                | Adam(_,
                       _,
                       _,
                       _,
                       true,
                       {
                           ClipNorm = Some 1.0
                           WeightDecay = None
                       }) -> ()
                | other -> failtest $"got {other}"
            }

            test "a compiled model with the options saves and loads compiled, with its slots" {
                inTempFolder "optimizer-options" (fun folder ->
                    let model = smallModel ()

                    let compiled =
                        model.Compile(
                            Optimizers.RMSprop(
                                learningRate = 0.01,
                                momentum = 0.5,
                                centered = true,
                                weightDecay = 0.01
                            ),
                            loss = "mse"
                        )

                    let x = torch.linspace(-1.0, 1.0, 24L).reshape(6L, 4L)
                    let y = torch.linspace(0.0, 1.0, 12L).reshape(6L, 2L)
                    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore
                    let path = Path.Combine(folder, "m.keras")
                    model.Save path
                    let loaded = Keras.LoadCompiledModel path
                    Expect.equal (string loaded.Optimizer.Optimizer) (string compiled.Optimizer.Optimizer) "optimizer"

                    let stored = (WeightsFile.readArchiveOptimizer loaded.Model path).Value
                    let trainable = Model.trainableWeights model
                    Expect.equal stored.Length (2 + 3 * trainable.Length) "velocity, momentum, average_gradient"

                    for w in Model.trainableWeights loaded.Model do
                        Expect.equal loaded.Optimizer.Slots[w.Value].Length 3 "three slots restored")
            }

            test
                "use_ema, loss_scale_factor and gradient_accumulation_steps are refused, naming option, optimizer and file" {
                inTempFolder "optimizer-refused" (fun folder ->
                    let model = smallModel ()
                    model.Compile(Optimizers.Adam(learningRate = 0.01), loss = "mse") |> ignore

                    for key, value in
                        [
                            "use_ema", JsonValue.Create true :> JsonNode
                            "loss_scale_factor", JsonValue.Create 128.0
                            "gradient_accumulation_steps", JsonValue.Create 4
                        ] do
                        let path = Path.Combine(folder, $"{key}.keras")
                        model.Save path
                        editConfig path (fun c -> (optimizerConfig c)[key] <- value)
                        let error, message = kerasError (fun () -> Keras.LoadCompiledModel path)
                        Expect.stringContains message key $"{key}: names the option"
                        Expect.stringContains message "Adam" $"{key}: names the optimizer"
                        Expect.stringContains message path $"{key}: names the file"

                        Expect.isTrue
                            (match error with
                             | InvalidArgument _ -> true
                             | _ -> false)
                            $"{key}: an invalid argument"
                        // Without compiling, the model itself loads.
                        Keras.LoadModel(path, compile = false) |> ignore

                    // Two clipping options in one file: Keras's own error, with the file.
                    let path = Path.Combine(folder, "two-clips.keras")
                    model.Save path

                    editConfig path (fun c ->
                        let o = optimizerConfig c
                        o["clipnorm"] <- JsonValue.Create 1.0
                        o["clipvalue"] <- JsonValue.Create 0.5)

                    let _, message = kerasError (fun () -> Keras.LoadCompiledModel path)
                    Expect.stringContains message "Only one of `clipnorm`" "Keras's text"
                    Expect.stringContains message path "names the file")
            }
        ]
