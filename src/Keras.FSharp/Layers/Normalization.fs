/// Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization.
/// All are channels-last by default and keep the shape of their input.
module Keras.NormalizationLayers

open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// Keras's text for an axis outside the input's rank.
let private axisOutOfBounds layerName className (axis: int) (shape: Shape) =
    Error(
        InvalidInputs(
            layerName,
            className,
            $"Axis {axis} is out of bounds for input shape {Shape.format shape}. Ensure axis is within the range of input dimensions.",
            $"axis={axis}"
        )
    )

/// Keras's text for a normalized axis whose size is unknown (weights need it).
let private axisUndefined layerName className (axis: int) (shape: Shape) =
    Error(
        InvalidInputs(
            layerName,
            className,
            $"Axis {axis} of input tensor should have a defined dimension but the layer received an input with shape {Shape.format shape}.",
            Shape.format shape
        )
    )

/// Checks that every axis is inside the shape's rank and, when <paramref name="needDefined"/>, that its size is known.
let private checkAxes layerName className (needDefined: bool) (axes: int list) (x: TensorSpec) =
    let rank = Shape.rank x.Shape

    match axes |> List.tryFind (fun a -> a >= rank || a < -rank) with
    | Some axis -> axisOutOfBounds layerName className axis x.Shape
    | None ->
        match
            axes
            |> List.tryFind (fun a -> needDefined && x.Shape[Shape.normalizeAxis rank a].IsNone)
        with
        | Some axis -> axisUndefined layerName className axis x.Shape
        | None -> Ok()

/// The one input of a single-input layer, or Keras's error.
let private single = InputSpec.single

/// An axis setting as Keras serializes it: a bare int for one axis, a list otherwise.
let private axisConfig (axes: int list) =
    match axes with
    | [ a ] -> Config.value a
    | many -> Config.ints many

/// A shape of ones but for <paramref name="size"/> at <paramref name="axis"/>, for broadcasting per-channel vectors.
let private broadcastShape (rank: int) (axis: int) (size: int64) =
    Array.init rank (fun i -> if i = axis then size else 1L)

let private weight name (shape: int list) init trainable : WeightSpec =
    {
        Name = name
        Shape = shape
        Initializer = init
        Trainable = trainable
        DType = Float32
        Constraint = None
    }

/// Configuration of <see cref="batchNormalization"/>, with Keras's defaults in <see cref="BatchNormalizationConfig.Default"/>.
type BatchNormalizationConfig =
    {
        /// The features axis (normalized per entry of this axis); may be negative.
        Axis: int
        /// Momentum of the moving averages.
        Momentum: float
        /// Added to the variance before the square root.
        Epsilon: float
        /// Whether to add the learned offset <c>beta</c>.
        Center: bool
        /// Whether to multiply by the learned scale <c>gamma</c>.
        Scale: bool
        /// Initializer of <c>beta</c>.
        BetaInitializer: Initializer
        /// Initializer of <c>gamma</c>.
        GammaInitializer: Initializer
        /// Initializer of <c>moving_mean</c>.
        MovingMeanInitializer: Initializer
        /// Initializer of <c>moving_variance</c>.
        MovingVarianceInitializer: Initializer
        /// Penalty on <c>beta</c> added to the loss.
        BetaRegularizer: Regularizer option
        /// Penalty on <c>gamma</c> added to the loss.
        GammaRegularizer: Regularizer option
        /// Projection applied to <c>beta</c> after each optimizer step.
        BetaConstraint: Constraint option
        /// Projection applied to <c>gamma</c> after each optimizer step.
        GammaConstraint: Constraint option
    }

    /// Keras's defaults: axis -1, momentum 0.99, epsilon 1e-3, center and scale on, beta/moving_mean zeros,
    /// gamma/moving_variance ones, no regularizers or constraints.
    static member Default =
        {
            Axis = -1
            Momentum = 0.99
            Epsilon = 1e-3
            Center = true
            Scale = true
            BetaInitializer = Zeros
            GammaInitializer = Ones
            MovingMeanInitializer = Zeros
            MovingVarianceInitializer = Ones
            BetaRegularizer = None
            GammaRegularizer = None
            BetaConstraint = None
            GammaConstraint = None
        }

/// <summary>Normalizes each channel of <c>Axis</c>: in training (<c>ctx.Training</c>, unless the layer is frozen:
/// <c>Layer.setTrainable false</c> makes it run in inference mode, as Keras 3 does) with the batch's mean and
/// biased variance over every other axis, updating <c>moving_mean</c> and <c>moving_variance</c> in place as
/// <c>moving = moving·momentum + batch·(1 - momentum)</c> (the biased batch variance, as Keras's <c>ops.moments</c>);
/// at inference with the moving statistics. Output: <c>gamma·(x - mean)/sqrt(var + epsilon) + beta</c>.</summary>
/// <remarks>Weights in Keras's order: <c>gamma</c>, <c>beta</c> (trainable), <c>moving_mean</c>, <c>moving_variance</c>
/// (non-trainable). A Keras mask (one axis fewer than the input, e.g. from <c>Embedding(mask_zero=True)</c>) restricts
/// the training statistics to the unmasked positions, and passes through.</remarks>
/// <exception cref="KerasException">When momentum or epsilon is out of range; on a call, when the axis is out of
/// bounds or its size unknown.</exception>
let batchNormalization (config: BatchNormalizationConfig) (name: string option) : Layer =
    if config.Momentum < 0.0 || config.Momentum > 1.0 then
        Errors.raiseKeras (
            InvalidArgument(
                "BatchNormalization",
                "momentum",
                "Expected a float between 0 and 1.",
                string config.Momentum
            )
        )

    if config.Epsilon <= 0.0 then
        Errors.raiseKeras (
            InvalidArgument("BatchNormalization", "epsilon", "Expected a positive float.", string config.Epsilon)
        )

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "BatchNormalization" inputs
        |> Result.bind (fun x ->
            checkAxes layerName "BatchNormalization" true [ config.Axis ] x
            |> Result.map (fun () -> [ CoreLayers.floatSpec x ]))

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape
        let channels = x.Shape[Shape.normalizeAxis rank config.Axis] |> Option.get

        {
            Weights =
                [
                    if config.Scale then
                        { weight "gamma" [ channels ] config.GammaInitializer true with
                            Constraint = Constraint.projection config.GammaConstraint
                        }
                    if config.Center then
                        { weight "beta" [ channels ] config.BetaInitializer true with
                            Constraint = Constraint.projection config.BetaConstraint
                        }
                    weight "moving_mean" [ channels ] config.MovingMeanInitializer false
                    weight "moving_variance" [ channels ] config.MovingVarianceInitializer false
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some rank
                        Axes = [ config.Axis, channels ]
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let rank = int (x.dim ())
        let axis = Shape.normalizeAxis rank config.Axis
        let channels = x.size(axis)
        let shape = broadcastShape rank axis channels

        let reduction =
            [|
                for i in 0 .. rank - 1 do
                    if i <> axis then
                        int64 i
            |]

        let w = ctx.Weights
        let gamma = if config.Scale then Some w[0].Value else None

        let beta =
            if config.Center then
                Some w[(if config.Scale then 1 else 0)].Value
            else
                None

        let movingMean = w[w.Length - 2].Value
        let movingVariance = w[w.Length - 1].Value

        let mean, variance =
            // Keras 3: a frozen BatchNormalization (trainable false) runs in inference mode even in training.
            if ctx.Training && ctx.Trainable then
                let mask =
                    ctx.Masks
                    |> List.tryHead
                    |> Option.flatten
                    |> Option.filter (fun m -> m.dim () = int64 (rank - 1))

                let mean, variance =
                    match mask with
                    | None ->
                        let mean = x.mean (reduction, keepdim = true)
                        mean, x.sub(mean).square().mean(reduction, keepdim = true)
                    | Some m ->
                        // Keras's masked moments: weighted sums over the unmasked positions.
                        let weights = m.to_type(x.dtype).unsqueeze(-1L)
                        let total = weights.expand_as(x).sum(reduction, keepdim = true).add(sc 1e-7)
                        let mean = x.mul(weights).sum(reduction, keepdim = true).div total
                        mean, x.sub(mean).square().mul(weights).sum(reduction, keepdim = true).div total

                use _ = torch.no_grad ()
                let momentum = config.Momentum

                movingMean.mul_(sc momentum).add_(mean.detach().reshape(channels).mul(sc (1.0 - momentum)))
                |> ignore

                movingVariance.mul_(sc momentum).add_(variance.detach().reshape(channels).mul(sc (1.0 - momentum)))
                |> ignore

                mean, variance
            else
                movingMean.reshape shape, movingVariance.reshape shape

        let inv = variance.add(sc config.Epsilon).rsqrt()

        let inv =
            match gamma with
            | Some g -> inv.mul (g.reshape shape)
            | None -> inv

        let res = mean.neg().mul inv

        let res =
            match beta with
            | Some b -> res.add (b.reshape shape)
            | None -> res

        [ x.mul(inv).add res ]

    Layer.create
        name
        {
            ClassName = "BatchNormalization"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "axis", Config.value config.Axis
                            "momentum", Config.value config.Momentum
                            "epsilon", Config.value config.Epsilon
                            "center", Config.value config.Center
                            "scale", Config.value config.Scale
                            "beta_initializer", Config.initializer config.BetaInitializer
                            "gamma_initializer", Config.initializer config.GammaInitializer
                            "moving_mean_initializer", Config.initializer config.MovingMeanInitializer
                            "moving_variance_initializer", Config.initializer config.MovingVarianceInitializer
                            "beta_regularizer", Regularizer.configOrNull config.BetaRegularizer
                            "gamma_regularizer", Regularizer.configOrNull config.GammaRegularizer
                            "beta_constraint", Constraint.configOrNull config.BetaConstraint
                            "gamma_constraint", Constraint.configOrNull config.GammaConstraint
                            "synchronized", Config.value false
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses =
                Regularizer.ofWeights [ config.GammaRegularizer, "gamma"; config.BetaRegularizer, "beta" ]
        }

/// Configuration of <see cref="layerNormalization"/>, with Keras's defaults in <see cref="LayerNormalizationConfig.Default"/>.
type LayerNormalizationConfig =
    {
        /// The axes normalized over (each sample separately); may be negative. Keras's default is <c>[-1]</c>.
        Axis: int list
        /// Added to the variance before the square root.
        Epsilon: float
        /// Whether to add the learned offset <c>beta</c>.
        Center: bool
        /// Whether to multiply by the learned scale <c>gamma</c>.
        Scale: bool
        /// Initializer of <c>beta</c>.
        BetaInitializer: Initializer
        /// Initializer of <c>gamma</c>.
        GammaInitializer: Initializer
    }

    /// Keras's defaults: axis -1, epsilon 1e-3, center and scale on, beta zeros, gamma ones.
    static member Default =
        {
            Axis = [ -1 ]
            Epsilon = 1e-3
            Center = true
            Scale = true
            BetaInitializer = Zeros
            GammaInitializer = Ones
        }

/// <summary>Normalizes each sample over <c>Axis</c> with its own mean and biased variance:
/// <c>gamma·(x - mean)/sqrt(var + epsilon) + beta</c>, <c>gamma</c> and <c>beta</c> spanning the normalized axes
/// (shape: the sizes of those axes, in the order given).</summary>
/// <exception cref="KerasException">When <c>Axis</c> is empty or epsilon not positive; on a call, when an axis is out
/// of bounds or its size unknown.</exception>
let layerNormalization (config: LayerNormalizationConfig) (name: string option) : Layer =
    if config.Axis.IsEmpty then
        Errors.raiseKeras (
            InvalidArgument("LayerNormalization", "axis", "Expected an int or a non-empty list of ints.", "[]")
        )

    if config.Epsilon <= 0.0 then
        Errors.raiseKeras (
            InvalidArgument("LayerNormalization", "epsilon", "Expected a positive float.", string config.Epsilon)
        )

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "LayerNormalization" inputs
        |> Result.bind (fun x ->
            checkAxes layerName "LayerNormalization" true config.Axis x
            |> Result.map (fun () -> [ CoreLayers.floatSpec x ]))

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape

        let shape =
            config.Axis
            |> List.map (fun a -> x.Shape[Shape.normalizeAxis rank a] |> Option.get)

        {
            Weights =
                [
                    if config.Scale then
                        weight "gamma" shape config.GammaInitializer true
                    if config.Center then
                        weight "beta" shape config.BetaInitializer true
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        Axes = List.zip config.Axis shape
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let rank = int (x.dim ())
        let axes = config.Axis |> List.map (Shape.normalizeAxis rank)
        let reduction = axes |> List.map int64 |> Array.ofList
        // gamma and beta are laid out in the order of `axis`; Keras reshapes them to the broadcast shape.
        let shape =
            Array.init rank (fun i -> if List.contains i axes then x.size(i) else 1L)

        let gamma =
            if config.Scale then
                Some(ctx.Weights[0].Value :> torch.Tensor)
            else
                None

        let beta =
            if config.Center then
                Some(ctx.Weights[if config.Scale then 1 else 0].Value :> torch.Tensor)
            else
                None

        let trailing = [ rank - axes.Length .. rank - 1 ]

        if List.sort axes = trailing then
            // The usual case (the last axes): libtorch's fused layer_norm, the same biased-variance formula in one
            // kernel forward and backward. Keras reshapes gamma/beta to the broadcast shape whatever the order of
            // `axis`, which here is the normalized shape.
            let normalized = x.Sizes[rank - axes.Length ..]
            // gamma and beta usually have the normalized shape already (one axis): no reshape then.
            let asNormalized (w: torch.Tensor option) =
                match w with
                | Some w when
                    w.dim () = int64 normalized.Length
                    && normalized |> Array.forall2 (fun i n -> w.size(i) = n) [| 0 .. normalized.Length - 1 |]
                    ->
                    w
                | Some w -> w.reshape normalized
                | None -> null

            [
                torch.nn.functional.layer_norm (
                    x,
                    normalized,
                    asNormalized gamma,
                    asNormalized beta,
                    config.Epsilon
                )
            ]
        else
            let mean = x.mean (reduction, keepdim = true)
            let variance = x.sub(mean).square().mean(reduction, keepdim = true)
            let inv = variance.add(sc config.Epsilon).rsqrt()

            let inv =
                match gamma with
                | Some g -> inv.mul (g.reshape shape)
                | None -> inv

            let res = mean.neg().mul inv

            let res =
                match beta with
                | Some b -> res.add (b.reshape shape)
                | None -> res

            [ x.mul(inv).add res ]

    Layer.create
        name
        {
            ClassName = "LayerNormalization"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "axis", axisConfig config.Axis
                            "epsilon", Config.value config.Epsilon
                            "center", Config.value config.Center
                            "scale", Config.value config.Scale
                            // rms_scaling (Keras 3.2+) is never written while only false is supported (KerasFile.KerasVersion).
                            "beta_initializer", Config.initializer config.BetaInitializer
                            "gamma_initializer", Config.initializer config.GammaInitializer
                            "beta_regularizer", null
                            "gamma_regularizer", null
                            "beta_constraint", null
                            "gamma_constraint", null
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }

/// Configuration of <see cref="groupNormalization"/>, with Keras's defaults in <see cref="GroupNormalizationConfig.Default"/>.
type GroupNormalizationConfig =
    {
        /// Number of channel groups; -1 means one group per channel (instance normalization).
        Groups: int
        /// The channels axis; may be negative.
        Axis: int
        /// Added to the variance before the square root.
        Epsilon: float
        /// Whether to add the learned offset <c>beta</c>.
        Center: bool
        /// Whether to multiply by the learned scale <c>gamma</c>.
        Scale: bool
        /// Initializer of <c>beta</c>.
        BetaInitializer: Initializer
        /// Initializer of <c>gamma</c>.
        GammaInitializer: Initializer
    }

    /// Keras's defaults: 32 groups, axis -1, epsilon 1e-3, center and scale on, beta zeros, gamma ones.
    static member Default =
        {
            Groups = 32
            Axis = -1
            Epsilon = 1e-3
            Center = true
            Scale = true
            BetaInitializer = Zeros
            GammaInitializer = Ones
        }

/// <summary>Splits the channels of <c>Axis</c> into <c>Groups</c> consecutive groups and normalizes each sample's
/// group (over its channels and every non-batch axis) with its mean and biased variance, then applies the per-channel
/// <c>gamma</c> and <c>beta</c>.</summary>
/// <exception cref="KerasException">When groups is 0 or below -1; on a call, when the axis is out of bounds or
/// unknown, or the channels do not split into the groups.</exception>
let groupNormalization (config: GroupNormalizationConfig) (name: string option) : Layer =
    if config.Groups = 0 || config.Groups < -1 then
        Errors.raiseKeras (
            InvalidArgument("GroupNormalization", "groups", "Expected a positive integer or -1.", string config.Groups)
        )

    if config.Epsilon <= 0.0 then
        Errors.raiseKeras (
            InvalidArgument("GroupNormalization", "epsilon", "Expected a positive float.", string config.Epsilon)
        )

    let groupsFor (channels: int) =
        if config.Groups = -1 then channels else config.Groups

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "GroupNormalization" inputs
        |> Result.bind (fun x ->
            checkAxes layerName "GroupNormalization" true [ config.Axis ] x
            |> Result.bind (fun () ->
                let channels =
                    x.Shape[Shape.normalizeAxis (Shape.rank x.Shape) config.Axis] |> Option.get

                let groups = groupsFor channels

                let fail reason =
                    Error(InvalidInputs(layerName, "GroupNormalization", reason, Shape.format x.Shape))

                if channels < groups then
                    fail $"Number of groups ({groups}) cannot be more than the number of channels ({channels})."
                elif channels % groups <> 0 then
                    fail $"Number of groups ({groups}) must be a multiple of the number of channels ({channels})."
                else
                    Ok [ CoreLayers.floatSpec x ]))

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape
        let channels = x.Shape[Shape.normalizeAxis rank config.Axis] |> Option.get

        {
            Weights =
                [
                    if config.Scale then
                        weight "gamma" [ channels ] config.GammaInitializer true
                    if config.Center then
                        weight "beta" [ channels ] config.BetaInitializer true
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some rank
                        Axes = [ config.Axis, channels ]
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let rank = int (x.dim ())
        let axis = Shape.normalizeAxis rank config.Axis
        let channels = x.size(axis)
        let groups = int64 (groupsFor (int channels))
        // (B, ..., C, ...) -> (B, ..., groups, C/groups, ...): the group axis sits at `axis`.
        let grouped =
            Array.concat [ x.Sizes[.. axis - 1]; [| groups; channels / groups |]; x.Sizes[axis + 1 ..] ]

        let g = x.reshape grouped

        let reduction =
            [|
                for i in 1..rank do
                    if i <> axis then
                        int64 i
            |]

        let mean = g.mean (reduction, keepdim = true)
        let variance = g.sub(mean).square().mean(reduction, keepdim = true)

        let normalized =
            g.sub(mean).mul(variance.add(sc config.Epsilon).rsqrt()).reshape x.Sizes

        let shape = broadcastShape rank axis channels

        let y =
            if config.Scale then
                normalized.mul (ctx.Weights[0].Value.reshape shape)
            else
                normalized

        [
            if config.Center then
                y.add (ctx.Weights[if config.Scale then 1 else 0].Value.reshape shape)
            else
                y
        ]

    Layer.create
        name
        {
            ClassName = "GroupNormalization"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "groups", Config.value config.Groups
                            "axis", Config.value config.Axis
                            "epsilon", Config.value config.Epsilon
                            "center", Config.value config.Center
                            "scale", Config.value config.Scale
                            "beta_initializer", Config.initializer config.BetaInitializer
                            "gamma_initializer", Config.initializer config.GammaInitializer
                            "beta_regularizer", null
                            "gamma_regularizer", null
                            "beta_constraint", null
                            "gamma_constraint", null
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = fun _ -> []
        }

/// <summary>Scales each sample to unit L2 norm over <paramref name="axis"/> (Keras's default <c>[-1]</c>):
/// <c>x / sqrt(max(sum(x²), 1e-12))</c>, so an all-zero vector stays zero.</summary>
/// <exception cref="KerasException">When <paramref name="axis"/> is empty; on a call, when an axis is out of bounds.</exception>
let unitNormalization (axis: int list) (name: string option) : Layer =
    if axis.IsEmpty then
        Errors.raiseKeras (
            InvalidArgument("UnitNormalization", "axis", "Expected an int or a non-empty list of ints.", "[]")
        )

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "UnitNormalization" inputs
        |> Result.bind (fun x ->
            checkAxes layerName "UnitNormalization" false axis x
            |> Result.map (fun () -> [ CoreLayers.floatSpec x ]))

    let call _ (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let dims = axis |> List.map int64 |> Array.ofList
        let squareSum = x.square().sum(dims, keepdim = true)
        [ x.mul (squareSum.clamp_min(sc 1e-12).rsqrt()) ]

    Layer.create
        name
        { Layer.simpleSpec "UnitNormalization" call with
            Config = fun () -> Config.ofList [ "axis", axisConfig axis ]
            ComputeOutput = computeOutput
            ComputeMask = Layer.passMask
        }
