namespace Keras

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

/// <summary>Keras 3's options common to every optimizer (the base optimizer's <c>weight_decay</c>, <c>clipnorm</c>,
/// <c>clipvalue</c> and <c>global_clipnorm</c>); <c>None</c> when not set. Each step first clips the gradients (at most
/// one clipping option may be set), then decays the weights (<c>w −= w·wd·lr</c>), then applies the update rule.</summary>
type OptimizerOptions =
    {
        /// <summary>Decoupled weight decay <c>w −= w·wd·lr</c> before each update (Keras's <c>weight_decay</c>). AdamW
        /// carries its own weight decay and ignores this one.</summary>
        WeightDecay: float option
        /// <summary>Each gradient is rescaled so that its own L2 norm is at most this (Keras's <c>clipnorm</c>).</summary>
        ClipNorm: float option
        /// <summary>Each gradient element is clipped to <c>[−v, v]</c> (Keras's <c>clipvalue</c>).</summary>
        ClipValue: float option
        /// <summary>All gradients are rescaled together so that their global L2 norm is at most this (Keras's
        /// <c>global_clipnorm</c>).</summary>
        GlobalClipNorm: float option
    }

    /// No weight decay and no clipping (Keras's defaults).
    static member None =
        {
            WeightDecay = None
            ClipNorm = None
            ClipValue = None
            GlobalClipNorm = None
        }

    /// <summary>Options from optional arguments, checked as Keras checks them: at most one of <c>clipnorm</c>,
    /// <c>clipvalue</c> and <c>global_clipnorm</c>.</summary>
    /// <exception cref="KerasException">When more than one clipping option is set.</exception>
    static member Create
        (
            owner: string,
            weightDecay: float option,
            clipNorm: float option,
            clipValue: float option,
            globalClipNorm: float option
        ) =
        let set = [ clipNorm; clipValue; globalClipNorm ] |> List.filter Option.isSome

        if set.Length > 1 then
            let show (o: float option) =
                match o with
                | Some v -> string v
                | None -> "None"

            Errors.raiseKeras (
                InvalidArgument(
                    owner,
                    "clipnorm",
                    "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set.",
                    $"{show clipNorm}, clipvalue={show clipValue}, global_clipnorm={show globalClipNorm}"
                )
            )

        {
            WeightDecay = weightDecay
            ClipNorm = clipNorm
            ClipValue = clipValue
            GlobalClipNorm = globalClipNorm
        }

/// An optimizer with Keras's hyper-parameters. The update rules are Keras 3's (not PyTorch's, which place epsilon
/// and momentum differently), so results match Keras step for step.
type Optimizer =
    /// Keras's SGD: <c>v = momentum·v − lr·g; w += v</c> (Nesterov: <c>w += momentum·v − lr·g</c>).
    | SGD of learningRate: LearningRate * momentum: float * nesterov: bool * options: OptimizerOptions
    /// <summary>Keras's RMSprop: <c>a = ρ·a + (1−ρ)·g²; w −= lr·g / √(a + ε)</c>; centered, the denominator is
    /// <c>√(a − ḡ² + ε)</c> with <c>ḡ = ρ·ḡ + (1−ρ)·g</c>; with momentum, <c>m = momentum·m + increment; w −= m</c>.</summary>
    | RMSprop of
        learningRate: LearningRate *
        rho: float *
        epsilon: float *
        momentum: float *
        centered: bool *
        options: OptimizerOptions
    /// <summary>Keras's Adam: <c>w −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)</c>; AMSGrad uses <c>v̂ = max(v̂, v)</c> in
    /// place of <c>v</c>.</summary>
    | Adam of
        learningRate: LearningRate *
        beta1: float *
        beta2: float *
        epsilon: float *
        amsgrad: bool *
        options: OptimizerOptions
    /// Adam with decoupled weight decay: <c>w −= lr·decay·w</c> before the Adam step.
    | AdamW of
        learningRate: LearningRate *
        weightDecay: float *
        beta1: float *
        beta2: float *
        epsilon: float *
        amsgrad: bool *
        options: OptimizerOptions
    /// Keras's Adagrad: <c>a += g²; w −= lr·g / √(a + ε)</c>, accumulators starting at 0.1.
    | Adagrad of learningRate: LearningRate * initialAccumulator: float * epsilon: float * options: OptimizerOptions

    /// The learning rate (constant or schedule) the optimizer was made with.
    member this.BaseLearningRate =
        match this with
        | SGD(lr, _, _, _)
        | RMSprop(lr, _, _, _, _, _)
        | Adam(lr, _, _, _, _, _)
        | AdamW(lr, _, _, _, _, _, _)
        | Adagrad(lr, _, _, _) -> lr

    /// The options common to every optimizer (weight decay and clipping).
    member this.Options =
        match this with
        | SGD(_, _, _, o)
        | RMSprop(_, _, _, _, _, o)
        | Adam(_, _, _, _, _, o)
        | AdamW(_, _, _, _, _, _, o)
        | Adagrad(_, _, _, o) -> o

    /// The weight decay applied before each update: AdamW's own, otherwise the options' <c>WeightDecay</c>.
    member this.EffectiveWeightDecay =
        match this with
        | AdamW(_, decay, _, _, _, _, _) -> Some decay
        | other -> other.Options.WeightDecay

    /// Keras's defaults: SGD(0.01), RMSprop(0.001, rho 0.9), Adam(0.001), AdamW(0.001, decay 0.004), Adagrad(0.001).
    static member TryParse(name: string) =
        let none = OptimizerOptions.None

        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | "sgd" -> Some(SGD(ConstantRate 0.01, 0.0, false, none))
        | "rmsprop" -> Some(RMSprop(ConstantRate 0.001, 0.9, 1e-7, 0.0, false, none))
        | "adam" -> Some(Adam(ConstantRate 0.001, 0.9, 0.999, 1e-7, false, none))
        | "adamw" -> Some(AdamW(ConstantRate 0.001, 0.004, 0.9, 0.999, 1e-7, false, none))
        | "adagrad" -> Some(Adagrad(ConstantRate 0.001, 0.1, 1e-7, none))
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

/// <summary>Constructors with Keras's names and defaults: <c>Optimizers.RMSprop()</c>,
/// <c>Optimizers.Adam(learningRate = 1e-3, clipNorm = 1.0)</c>. Every optimizer takes Keras's common options:
/// <c>weightDecay</c> (decoupled, <c>w −= w·wd·lr</c> before the update), <c>clipNorm</c>, <c>clipValue</c> and
/// <c>globalClipNorm</c> (at most one of the three).</summary>
[<AbstractClass; Sealed>]
type Optimizers =
    static member private Options(owner, weightDecay, clipNorm, clipValue, globalClipNorm) =
        OptimizerOptions.Create(owner, weightDecay, clipNorm, clipValue, globalClipNorm)

    /// <summary>Stochastic gradient descent; Keras's defaults: learning rate 0.01, no momentum.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="momentum">Momentum; 0 for plain SGD.</param>
    /// <param name="nesterov">Use Nesterov momentum.</param>
    /// <param name="weightDecay">Decoupled weight decay (Keras's <c>weight_decay</c>).</param>
    /// <param name="clipNorm">Per-gradient L2 norm limit (Keras's <c>clipnorm</c>).</param>
    /// <param name="clipValue">Per-element gradient limit (Keras's <c>clipvalue</c>).</param>
    /// <param name="globalClipNorm">Limit of the global L2 norm of all gradients (Keras's <c>global_clipnorm</c>).</param>
    static member SGD
        (
            ?learningRate: LearningRate,
            ?momentum: float,
            ?nesterov: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        SGD(
            defaultArg learningRate (ConstantRate 0.01),
            defaultArg momentum 0.0,
            defaultArg nesterov false,
            Optimizers.Options("SGD", weightDecay, clipNorm, clipValue, globalClipNorm)
        )

    /// <summary>RMSprop; Keras's defaults: learning rate 0.001, rho 0.9, no momentum, epsilon 1e-7, not centered.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="rho">Decay of the squared-gradient average.</param>
    /// <param name="epsilon">Added under the square root.</param>
    /// <param name="momentum">Momentum of the increments; 0 for none.</param>
    /// <param name="centered">Normalize by the variance estimate (the squared average minus the squared mean gradient).</param>
    /// <param name="weightDecay">Decoupled weight decay (Keras's <c>weight_decay</c>).</param>
    /// <param name="clipNorm">Per-gradient L2 norm limit (Keras's <c>clipnorm</c>).</param>
    /// <param name="clipValue">Per-element gradient limit (Keras's <c>clipvalue</c>).</param>
    /// <param name="globalClipNorm">Limit of the global L2 norm of all gradients (Keras's <c>global_clipnorm</c>).</param>
    static member RMSprop
        (
            ?learningRate: LearningRate,
            ?rho: float,
            ?epsilon: float,
            ?momentum: float,
            ?centered: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        RMSprop(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg rho 0.9,
            defaultArg epsilon 1e-7,
            defaultArg momentum 0.0,
            defaultArg centered false,
            Optimizers.Options("RMSprop", weightDecay, clipNorm, clipValue, globalClipNorm)
        )

    /// <summary>Adam; Keras's defaults: learning rate 0.001, betas 0.9 and 0.999, epsilon 1e-7, no AMSGrad.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="amsgrad">Use the AMSGrad variant (the running maximum of the second moment).</param>
    /// <param name="weightDecay">Decoupled weight decay (Keras's <c>weight_decay</c>).</param>
    /// <param name="clipNorm">Per-gradient L2 norm limit (Keras's <c>clipnorm</c>).</param>
    /// <param name="clipValue">Per-element gradient limit (Keras's <c>clipvalue</c>).</param>
    /// <param name="globalClipNorm">Limit of the global L2 norm of all gradients (Keras's <c>global_clipnorm</c>).</param>
    static member Adam
        (
            ?learningRate: LearningRate,
            ?beta1: float,
            ?beta2: float,
            ?epsilon: float,
            ?amsgrad: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Adam(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg beta1 0.9,
            defaultArg beta2 0.999,
            defaultArg epsilon 1e-7,
            defaultArg amsgrad false,
            Optimizers.Options("Adam", weightDecay, clipNorm, clipValue, globalClipNorm)
        )

    /// <summary>AdamW; Keras's defaults: learning rate 0.001, weight decay 0.004, betas 0.9 and 0.999, epsilon 1e-7,
    /// no AMSGrad.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="weightDecay">Decay applied to the weights each step.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="amsgrad">Use the AMSGrad variant (the running maximum of the second moment).</param>
    /// <param name="clipNorm">Per-gradient L2 norm limit (Keras's <c>clipnorm</c>).</param>
    /// <param name="clipValue">Per-element gradient limit (Keras's <c>clipvalue</c>).</param>
    /// <param name="globalClipNorm">Limit of the global L2 norm of all gradients (Keras's <c>global_clipnorm</c>).</param>
    static member AdamW
        (
            ?learningRate: LearningRate,
            ?weightDecay: float,
            ?beta1: float,
            ?beta2: float,
            ?epsilon: float,
            ?amsgrad: bool,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        AdamW(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg weightDecay 0.004,
            defaultArg beta1 0.9,
            defaultArg beta2 0.999,
            defaultArg epsilon 1e-7,
            defaultArg amsgrad false,
            Optimizers.Options("AdamW", None, clipNorm, clipValue, globalClipNorm)
        )

    /// <summary>Adagrad; Keras's defaults: learning rate 0.001, initial accumulator 0.1, epsilon 1e-7.</summary>
    /// <param name="learningRate">The learning rate or schedule.</param>
    /// <param name="initialAccumulatorValue">Starting value of the accumulators.</param>
    /// <param name="epsilon">Added inside the square root.</param>
    /// <param name="weightDecay">Decoupled weight decay (Keras's <c>weight_decay</c>).</param>
    /// <param name="clipNorm">Per-gradient L2 norm limit (Keras's <c>clipnorm</c>).</param>
    /// <param name="clipValue">Per-element gradient limit (Keras's <c>clipvalue</c>).</param>
    /// <param name="globalClipNorm">Limit of the global L2 norm of all gradients (Keras's <c>global_clipnorm</c>).</param>
    static member Adagrad
        (
            ?learningRate: LearningRate,
            ?initialAccumulatorValue: float,
            ?epsilon: float,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Adagrad(
            defaultArg learningRate (ConstantRate 0.001),
            defaultArg initialAccumulatorValue 0.1,
            defaultArg epsilon 1e-7,
            Optimizers.Options("Adagrad", weightDecay, clipNorm, clipValue, globalClipNorm)
        )

    /// <summary>SGD with a constant learning rate given as a plain number: <c>Optimizers.SGD(learningRate = 0.1)</c>.</summary>
    static member SGD
        (
            learningRate: float,
            ?momentum: float,
            ?nesterov: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Optimizers.SGD(
            ConstantRate learningRate,
            ?momentum = momentum,
            ?nesterov = nesterov,
            ?weightDecay = weightDecay,
            ?clipNorm = clipNorm,
            ?clipValue = clipValue,
            ?globalClipNorm = globalClipNorm
        )

    /// <summary>RMSprop with a constant learning rate given as a plain number: <c>Optimizers.RMSprop(learningRate = 1e-3)</c>.</summary>
    static member RMSprop
        (
            learningRate: float,
            ?rho: float,
            ?epsilon: float,
            ?momentum: float,
            ?centered: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Optimizers.RMSprop(
            ConstantRate learningRate,
            ?rho = rho,
            ?epsilon = epsilon,
            ?momentum = momentum,
            ?centered = centered,
            ?weightDecay = weightDecay,
            ?clipNorm = clipNorm,
            ?clipValue = clipValue,
            ?globalClipNorm = globalClipNorm
        )

    /// <summary>Adam with a constant learning rate given as a plain number: <c>Optimizers.Adam(learningRate = 1e-3)</c>.</summary>
    static member Adam
        (
            learningRate: float,
            ?beta1: float,
            ?beta2: float,
            ?epsilon: float,
            ?amsgrad: bool,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Optimizers.Adam(
            ConstantRate learningRate,
            ?beta1 = beta1,
            ?beta2 = beta2,
            ?epsilon = epsilon,
            ?amsgrad = amsgrad,
            ?weightDecay = weightDecay,
            ?clipNorm = clipNorm,
            ?clipValue = clipValue,
            ?globalClipNorm = globalClipNorm
        )

    /// <summary>Adagrad with a constant learning rate given as a plain number.</summary>
    static member Adagrad
        (
            learningRate: float,
            ?initialAccumulatorValue: float,
            ?epsilon: float,
            ?weightDecay: float,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Optimizers.Adagrad(
            ConstantRate learningRate,
            ?initialAccumulatorValue = initialAccumulatorValue,
            ?epsilon = epsilon,
            ?weightDecay = weightDecay,
            ?clipNorm = clipNorm,
            ?clipValue = clipValue,
            ?globalClipNorm = globalClipNorm
        )

    /// <summary>AdamW with a constant learning rate given as a plain number.</summary>
    static member AdamW
        (
            learningRate: float,
            ?weightDecay: float,
            ?beta1: float,
            ?beta2: float,
            ?epsilon: float,
            ?amsgrad: bool,
            ?clipNorm: float,
            ?clipValue: float,
            ?globalClipNorm: float
        ) =
        Optimizers.AdamW(
            ConstantRate learningRate,
            ?weightDecay = weightDecay,
            ?beta1 = beta1,
            ?beta2 = beta2,
            ?epsilon = epsilon,
            ?amsgrad = amsgrad,
            ?clipNorm = clipNorm,
            ?clipValue = clipValue,
            ?globalClipNorm = globalClipNorm
        )
