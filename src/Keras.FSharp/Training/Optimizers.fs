namespace Keras

open System.Collections.Generic
open TorchSharp

/// A learning rate: a constant or a schedule of the step number (Keras's <c>LearningRateSchedule</c>).
type LearningRate =
    /// <summary>The same learning rate at every step (Keras's plain float <c>learning_rate</c>); a float converts
    /// implicitly.</summary>
    | ConstantRate of float
    /// A schedule with its Keras name, as a function of the optimizer's step count (starting at 0).
    | Schedule of name: string * rate: (int64 -> float)

    /// A plain number is a constant rate: <c>learningRate = 1e-3</c>.
    static member op_Implicit(rate: float) = ConstantRate rate

/// Keras's learning-rate schedules.
[<RequireQualifiedAccess>]
module Schedules =
    /// The Keras config of each schedule function made here, for saving it in a compile config.
    let private configs =
        System.Runtime.CompilerServices.ConditionalWeakTable<obj, (string * System.Text.Json.Nodes.JsonNode) list>()

    let private remember (name: string) (config: (string * System.Text.Json.Nodes.JsonNode) list) (f: int64 -> float) =
        configs.AddOrUpdate(box f, config)
        Schedule(name, f)

    let private json (v: 'T) : System.Text.Json.Nodes.JsonNode =
        System.Text.Json.Nodes.JsonValue.Create<'T>(v)

    /// <summary>The Keras config (<c>get_config()</c>) of a schedule function made by this module, if it was.</summary>
    let configOf (f: int64 -> float) : (string * System.Text.Json.Nodes.JsonNode) list option =
        match configs.TryGetValue(box f) with
        | true, c -> Some(c |> List.map (fun (k, v) -> k, (if isNull v then null else v.DeepClone())))
        | _ -> None

    /// <summary><c>initial · rate^(step / decaySteps)</c>, with the exponent floored when <paramref name="staircase"/>.</summary>
    let exponentialDecay (initial: float) (decaySteps: int64) (decayRate: float) (staircase: bool) =
        remember
            "ExponentialDecay"
            [
                "initial_learning_rate", json initial
                "decay_steps", json decaySteps
                "decay_rate", json decayRate
                "staircase", json staircase
                "name", json "ExponentialDecay"
            ]
            (fun step ->
                let p = float step / float decaySteps
                initial * (decayRate ** (if staircase then floor p else p)))

    /// <summary>Cosine decay from <paramref name="initial"/> to <c>initial · alpha</c> over <paramref name="decaySteps"/>.</summary>
    let cosineDecay (initial: float) (decaySteps: int64) (alpha: float) =
        remember
            "CosineDecay"
            [
                "initial_learning_rate", json initial
                "decay_steps", json decaySteps
                "alpha", json alpha
                "name", json "CosineDecay"
                "warmup_target", null
                "warmup_steps", json 0
            ]
            (fun step ->
                let p = float (min step decaySteps) / float decaySteps
                let cosine = 0.5 * (1.0 + cos (System.Math.PI * p))
                initial * ((1.0 - alpha) * cosine + alpha))

    /// <summary>Inverse time decay: <c>initial / (1 + rate · step / decaySteps)</c>.</summary>
    let inverseTimeDecay (initial: float) (decaySteps: int64) (decayRate: float) =
        remember
            "InverseTimeDecay"
            [
                "initial_learning_rate", json initial
                "decay_steps", json decaySteps
                "decay_rate", json decayRate
                "staircase", json false
                "name", json "InverseTimeDecay"
            ]
            (fun step -> initial / (1.0 + decayRate * float step / float decaySteps))

/// An optimizer with Keras's hyper-parameters. The update rules are Keras's (not PyTorch's, which place epsilon
/// and momentum differently), so results match Keras step for step.
type Optimizer =
    /// Keras's SGD: <c>v = momentum·v − lr·g; w += v</c> (Nesterov: <c>w += momentum·v − lr·g</c>).
    | SGD of learningRate: LearningRate * momentum: float * nesterov: bool
    /// Keras's RMSprop: <c>a = ρ·a + (1−ρ)·g²; w −= lr·g / (√a + ε)</c>.
    | RMSprop of learningRate: LearningRate * rho: float * epsilon: float
    /// Keras's Adam: <c>w −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)</c>.
    | Adam of learningRate: LearningRate * beta1: float * beta2: float * epsilon: float
    /// Adam with decoupled weight decay: <c>w −= lr·decay·w</c> before the Adam step.
    | AdamW of learningRate: LearningRate * weightDecay: float * beta1: float * beta2: float * epsilon: float
    /// Keras's Adagrad: <c>a += g²; w −= lr·g / √(a + ε)</c>, accumulators starting at 0.1.
    | Adagrad of learningRate: LearningRate * initialAccumulator: float * epsilon: float

    /// Keras's defaults: SGD(0.01), RMSprop(0.001, rho 0.9), Adam(0.001), AdamW(0.001, decay 0.004), Adagrad(0.001).
    static member TryParse(name: string) =
        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | "sgd" -> Some(SGD(ConstantRate 0.01, 0.0, false))
        | "rmsprop" -> Some(RMSprop(ConstantRate 0.001, 0.9, 1e-7))
        | "adam" -> Some(Adam(ConstantRate 0.001, 0.9, 0.999, 1e-7))
        | "adamw" -> Some(AdamW(ConstantRate 0.001, 0.004, 0.9, 0.999, 1e-7))
        | "adagrad" -> Some(Adagrad(ConstantRate 0.001, 0.1, 1e-7))
        | _ -> None

    /// A Keras optimizer name with its defaults: <c>optimizer = "rmsprop"</c>.
    static member op_Implicit(name: string) : Optimizer =
        match Optimizer.TryParse name with
        | Some o -> o
        | None ->
            Errors.raiseKeras (
                InvalidArgument(
                    "compile",
                    "optimizer",
                    "Unknown optimizer. Known: sgd, rmsprop, adam, adamw, adagrad.",
                    $"'{name}'"
                )
            )

/// Constructors with Keras's names and defaults: <c>Optimizers.RMSprop()</c>, <c>Optimizers.Adam(learningRate = 1e-3)</c>.
[<AbstractClass; Sealed>]
type Optimizers =
    /// <summary>Stochastic gradient descent; Keras's defaults: learning rate 0.01, no momentum.</summary>
    static member SGD(?learningRate: LearningRate, ?momentum: float, ?nesterov: bool) =
        SGD(defaultArg learningRate (ConstantRate 0.01), defaultArg momentum 0.0, defaultArg nesterov false)

    /// <summary>RMSprop; Keras's defaults: learning rate 0.001, rho 0.9, epsilon 1e-7.</summary>
    static member RMSprop(?learningRate: LearningRate, ?rho: float, ?epsilon: float) =
        RMSprop(defaultArg learningRate (ConstantRate 0.001), defaultArg rho 0.9, defaultArg epsilon 1e-7)

    /// <summary>Adam; Keras's defaults: learning rate 0.001, betas 0.9 and 0.999, epsilon 1e-7.</summary>
    static member Adam(?learningRate: LearningRate, ?beta1: float, ?beta2: float, ?epsilon: float) =
        Adam(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg beta1 0.9,
            defaultArg beta2 0.999,
            defaultArg epsilon 1e-7
        )

    /// <summary>AdamW; Keras's defaults: learning rate 0.001, weight decay 0.004, betas 0.9 and 0.999, epsilon 1e-7.</summary>
    static member AdamW
        (?learningRate: LearningRate, ?weightDecay: float, ?beta1: float, ?beta2: float, ?epsilon: float)
        =
        AdamW(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg weightDecay 0.004,
            defaultArg beta1 0.9,
            defaultArg beta2 0.999,
            defaultArg epsilon 1e-7
        )

    /// <summary>Adagrad; Keras's defaults: learning rate 0.001, initial accumulator 0.1, epsilon 1e-7.</summary>
    static member Adagrad(?learningRate: LearningRate, ?initialAccumulatorValue: float, ?epsilon: float) =
        Adagrad(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg initialAccumulatorValue 0.1,
            defaultArg epsilon 1e-7
        )

    /// <summary>SGD with a constant learning rate given as a plain number: <c>Optimizers.SGD(learningRate = 0.1)</c>.</summary>
    static member SGD(learningRate: float, ?momentum: float, ?nesterov: bool) =
        Optimizers.SGD(ConstantRate learningRate, ?momentum = momentum, ?nesterov = nesterov)

    /// <summary>RMSprop with a constant learning rate given as a plain number: <c>Optimizers.RMSprop(learningRate = 1e-3)</c>.</summary>
    static member RMSprop(learningRate: float, ?rho: float, ?epsilon: float) =
        Optimizers.RMSprop(ConstantRate learningRate, ?rho = rho, ?epsilon = epsilon)

    /// <summary>Adam with a constant learning rate given as a plain number: <c>Optimizers.Adam(learningRate = 1e-3)</c>.</summary>
    static member Adam(learningRate: float, ?beta1: float, ?beta2: float, ?epsilon: float) =
        Optimizers.Adam(ConstantRate learningRate, ?beta1 = beta1, ?beta2 = beta2, ?epsilon = epsilon)

    /// <summary>Adagrad with a constant learning rate given as a plain number.</summary>
    static member Adagrad(learningRate: float, ?initialAccumulatorValue: float, ?epsilon: float) =
        Optimizers.Adagrad(
            ConstantRate learningRate,
            ?initialAccumulatorValue = initialAccumulatorValue,
            ?epsilon = epsilon
        )

    /// <summary>AdamW with a constant learning rate given as a plain number.</summary>
    static member AdamW(learningRate: float, ?weightDecay: float, ?beta1: float, ?beta2: float, ?epsilon: float) =
        Optimizers.AdamW(
            ConstantRate learningRate,
            ?weightDecay = weightDecay,
            ?beta1 = beta1,
            ?beta2 = beta2,
            ?epsilon = epsilon
        )

/// An optimizer's running state: step count, per-weight slots and the learning rate (which callbacks may change).
type OptimizerState(optimizer: Optimizer) =
    let slots =
        Dictionary<TorchSharp.Modules.Parameter, torch.Tensor[]>(HashIdentity.Reference)

    let mutable iterations = 0L

    let baseRate =
        match optimizer with
        | SGD(lr, _, _)
        | RMSprop(lr, _, _)
        | Adam(lr, _, _, _)
        | AdamW(lr, _, _, _, _)
        | Adagrad(lr, _, _) -> lr

    let mutable rateOverride: float option = None

    /// The optimizer this state belongs to.
    member _.Optimizer = optimizer

    /// Steps taken so far (Keras's <c>optimizer.iterations</c>).
    member _.Iterations = iterations

    /// The learning rate of the next step.
    member _.LearningRate =
        match rateOverride, baseRate with
        | Some r, _ -> r
        | None, ConstantRate r -> r
        | None, Schedule(_, f) -> f iterations

    /// Sets a constant learning rate from now on (ReduceLROnPlateau, LearningRateScheduler).
    member _.SetLearningRate(rate: float) = rateOverride <- Some rate

    /// Copies of the slot tensors, for restoring them after a failed step.
    member internal _.Slots = slots

    member private _.SlotsFor(p: TorchSharp.Modules.Parameter, count: int, init: float) =
        match slots.TryGetValue p with
        | true, s -> s
        | _ ->
            // Slots live as long as the optimizer: keep them out of the training step's dispose scope.
            let s =
                Array.init count (fun _ -> torch.full_like(p, init).detach().DetachFromDisposeScope())

            slots[p] <- s
            s

    /// Keras's slot variables of one weight, in Keras's order (<c>add_optimizer_variables</c>), with their initial
    /// value: Adam and AdamW a momentum and a velocity, SGD a momentum (only with momentum), RMSprop a velocity,
    /// Adagrad an accumulator.
    member internal _.SlotLayout: (string * float) list =
        match optimizer with
        | SGD(_, momentum, _) when momentum = 0.0 -> []
        | SGD _ -> [ "momentum", 0.0 ]
        | RMSprop _ -> [ "velocity", 0.0 ]
        | Adam _
        | AdamW _ -> [ "momentum", 0.0; "velocity", 0.0 ]
        | Adagrad(_, initial, _) -> [ "accumulator", initial ]

    /// <summary>Keras's <c>optimizer.variables</c> for these trainable weights, as copies: the iteration count (int64
    /// scalar), the learning rate (float32 scalar; absent for a schedule, as in Keras), then each weight's slots in
    /// <see cref="SlotLayout"/> order (initial values for weights not yet updated).</summary>
    member internal this.ExportVariables(parameters: TorchSharp.Modules.Parameter list) : torch.Tensor list =
        use _ = torch.no_grad ()
        let layout = this.SlotLayout

        [
            yield torch.tensor(iterations).DetachFromDisposeScope()

            match baseRate with
            | Schedule _ -> ()
            | ConstantRate _ -> yield torch.tensor(float32 this.LearningRate).DetachFromDisposeScope()

            for p in parameters do
                match slots.TryGetValue p with
                | true, s when s.Length = layout.Length ->
                    for t in s do
                        yield t.detach().clone().DetachFromDisposeScope()
                | _ ->
                    for _, init in layout do
                        yield torch.full_like(p, init).detach().DetachFromDisposeScope()
        ]

    /// The shapes <see cref="ExportVariables"/> gives, without copying.
    member internal this.VariableShapes(parameters: TorchSharp.Modules.Parameter list) : int64[] list =
        [
            yield [||]

            match baseRate with
            | Schedule _ -> ()
            | ConstantRate _ -> yield [||]

            for p in parameters do
                for _ in this.SlotLayout do
                    yield p.shape
        ]

    /// <summary>Restores the state <see cref="ExportVariables"/> gave (Keras's <c>load_own_variables</c>): the iteration
    /// count, the slots (copied) and, when the saved float32 learning rate differs from this optimizer's, that rate.
    /// The caller checks the count and shapes against <see cref="VariableShapes"/>.</summary>
    member internal this.ImportVariables(parameters: TorchSharp.Modules.Parameter list, values: torch.Tensor list) =
        use _ = torch.no_grad ()
        let layout = this.SlotLayout
        let values = Array.ofList values
        iterations <- values[0].to_type(torch.ScalarType.Int64).item<int64>()

        let first =
            match baseRate with
            | Schedule _ -> 1
            | ConstantRate rate ->
                let saved = values[1].to_type(torch.ScalarType.Float32).item<float32>()

                if saved <> float32 rate then
                    rateOverride <- Some(float saved)

                2

        for old in slots.Values do
            for t in old do
                t.Dispose()

        slots.Clear()

        parameters
        |> List.iteri (fun i p ->
            if not layout.IsEmpty then
                slots[p] <-
                    Array.init layout.Length (fun k ->
                        let v = values[first + i * layout.Length + k]
                        v.to_type(p.dtype).clone().detach().DetachFromDisposeScope()))

    /// <summary>Applies one update from gradients, in place, without recording gradients (Keras's
    /// <c>apply_gradients</c>). Weights with no gradient are skipped.</summary>
    member this.Apply(gradients: (TorchSharp.Modules.Parameter * torch.Tensor) list) =
        use _ = torch.no_grad ()
        let lr = this.LearningRate
        let t = float (iterations + 1L)

        for p, g in gradients do
            if not (isNull g) then
                match optimizer with
                | SGD(_, momentum, nesterov) ->
                    if momentum = 0.0 then
                        p.sub_ (g * lr) |> ignore
                    else
                        let v = this.SlotsFor(p, 1, 0.0)[0]
                        v.mul_(momentum.ToScalar()).sub_(g * lr) |> ignore

                        if nesterov then
                            p.add_(v * momentum).sub_(g * lr) |> ignore
                        else
                            p.add_ v |> ignore
                | RMSprop(_, rho, eps) ->
                    let a = this.SlotsFor(p, 1, 0.0)[0]
                    a.mul_(rho.ToScalar()).addcmul_(g, g, value = (1.0 - rho).ToScalar()) |> ignore
                    // addcdiv_ fuses the division into the update, as a hand-written TorchSharp step would.
                    p.addcdiv_ (g, a.sqrt().add_(eps.ToScalar()), (-lr).ToScalar()) |> ignore
                | Adam(_, b1, b2, eps) ->
                    let s = this.SlotsFor(p, 2, 0.0)
                    let alpha = lr * sqrt (1.0 - b2 ** t) / (1.0 - b1 ** t)
                    s[0].mul_(b1.ToScalar()).add_(g * (1.0 - b1)) |> ignore
                    s[1].mul_(b2.ToScalar()).addcmul_(g, g, value = (1.0 - b2).ToScalar()) |> ignore

                    p.addcdiv_ (s[0], s[1].sqrt().add_(eps.ToScalar()), (-alpha).ToScalar())
                    |> ignore
                | AdamW(_, decay, b1, b2, eps) ->
                    let s = this.SlotsFor(p, 2, 0.0)
                    p.sub_ (p * (lr * decay)) |> ignore
                    let alpha = lr * sqrt (1.0 - b2 ** t) / (1.0 - b1 ** t)
                    s[0].mul_(b1.ToScalar()).add_(g * (1.0 - b1)) |> ignore
                    s[1].mul_(b2.ToScalar()).addcmul_(g, g, value = (1.0 - b2).ToScalar()) |> ignore

                    p.addcdiv_ (s[0], s[1].sqrt().add_(eps.ToScalar()), (-alpha).ToScalar())
                    |> ignore
                | Adagrad(_, initial, eps) ->
                    let a = this.SlotsFor(p, 1, initial)[0]
                    a.addcmul_ (g, g, value = 1.0.ToScalar()) |> ignore
                    p.addcdiv_ (g, (a + eps).sqrt_(), (-lr).ToScalar()) |> ignore

        iterations <- iterations + 1L
