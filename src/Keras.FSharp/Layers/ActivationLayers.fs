/// Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax. Each keeps the shape of its input and passes its mask on.
module Keras.ActivationLayers

open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// The one input of a single-input layer, or Keras's error.
let private single = InputSpec.single

/// The shape rule of an elementwise activation: one input, same shape, float dtype.
let private sameShape className layerName (inputs: TensorSpec list) =
    single layerName className inputs
    |> Result.map (fun x -> [ CoreLayers.floatSpec x ])

/// A stateless elementwise activation layer with its config entries.
let private elementwise className (config: unit -> (string * System.Text.Json.Nodes.JsonNode) list) f name =
    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs -> [ f (CoreLayers.asFloat (List.exactlyOne inputs)) ]) with
            Config = fun () -> Config.ofList (config ())
            ComputeOutput = sameShape className
            ComputeMask = Layer.passMask
        }

let private optionalFloat (v: float option) : System.Text.Json.Nodes.JsonNode =
    match v with
    | Some f -> Config.value f
    | None -> null

/// <summary>Keras's <c>activations.relu</c> with its three parameters: <c>x</c> above <paramref name="threshold"/>
/// (clipped to <paramref name="maxValue"/>), and <c>negativeSlope·(x - threshold)</c> at or below it.</summary>
let reluWith (negativeSlope: float) (maxValue: float option) (threshold: float) (x: torch.Tensor) : torch.Tensor =
    if negativeSlope <> 0.0 && maxValue.IsNone && threshold = 0.0 then
        torch.nn.functional.leaky_relu (x, negativeSlope)
    else
        let positive =
            if threshold <> 0.0 then
                use above = x.gt (sc threshold)
                use zeros = torch.zeros_like x
                torch.where (above, x, zeros)
            else
                torch.nn.functional.relu x

        let clipped =
            match maxValue with
            | Some m -> positive.clamp (sc 0.0, sc m)
            | None -> positive

        if negativeSlope <> 0.0 then
            let negative =
                if threshold <> 0.0 then
                    torch.nn.functional.relu (x.neg().add(sc threshold))
                else
                    torch.nn.functional.relu (x.neg ())

            clipped.sub (negative.mul (sc negativeSlope))
        else
            clipped

/// <summary>Keras's ReLU layer: <c>max_value</c> (None: unbounded), <c>negative_slope</c> (0.0) and
/// <c>threshold</c> (0.0), all non-negative.</summary>
/// <exception cref="KerasException">When a parameter is negative.</exception>
let relu (maxValue: float option) (negativeSlope: float) (threshold: float) (name: string option) : Layer =
    match maxValue with
    | Some m when m < 0.0 ->
        Errors.raiseKeras (
            InvalidArgument("ReLU", "max_value", "max_value of a ReLU layer cannot be a negative value.", string m)
        )
    | _ -> ()

    if negativeSlope < 0.0 || System.Double.IsNaN negativeSlope then
        Errors.raiseKeras (
            InvalidArgument(
                "ReLU",
                "negative_slope",
                "negative_slope of a ReLU layer cannot be None or a negative value.",
                string negativeSlope
            )
        )

    if threshold < 0.0 || System.Double.IsNaN threshold then
        Errors.raiseKeras (
            InvalidArgument(
                "ReLU",
                "threshold",
                "threshold of a ReLU layer cannot be None or a negative value.",
                string threshold
            )
        )

    elementwise
        "ReLU"
        (fun () ->
            [
                "max_value", optionalFloat maxValue
                "negative_slope", Config.value negativeSlope
                "threshold", Config.value threshold
            ])
        (reluWith negativeSlope maxValue threshold)
        name

/// <summary>Keras's LeakyReLU: <c>x</c> for <c>x ≥ 0</c>, <c>negative_slope·x</c> otherwise (Keras 3's default
/// slope is 0.3).</summary>
/// <exception cref="KerasException">When the slope is negative.</exception>
let leakyRelu (negativeSlope: float) (name: string option) : Layer =
    if negativeSlope < 0.0 || System.Double.IsNaN negativeSlope then
        Errors.raiseKeras (
            InvalidArgument(
                "LeakyReLU",
                "negative_slope",
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. Expected a float.",
                string negativeSlope
            )
        )

    elementwise
        "LeakyReLU"
        (fun () -> [ "negative_slope", Config.value negativeSlope ])
        (fun x -> torch.nn.functional.leaky_relu (x, negativeSlope))
        name

/// <summary>Keras's ELU: <c>x</c> for <c>x &gt; 0</c>, <c>alpha·(exp(x) - 1)</c> otherwise.</summary>
/// <remarks>Keras 3's ELU does not write <c>alpha</c> in its config (so a Keras round trip resets it to 1.0); this
/// library writes it, which Keras's <c>ELU(**config)</c> accepts.</remarks>
let elu (alpha: float) (name: string option) : Layer =
    elementwise "ELU" (fun () -> [ "alpha", Config.value alpha ]) (fun x -> torch.nn.functional.elu (x, alpha)) name

/// Configuration of <see cref="prelu"/>, with Keras's defaults in <see cref="PReLUConfig.Default"/>.
type PReLUConfig =
    {
        /// Initializer of <c>alpha</c>.
        AlphaInitializer: Initializer
        /// Penalty on <c>alpha</c> added to the training loss.
        AlphaRegularizer: Regularizer option
        /// Projection of <c>alpha</c> after each optimizer step.
        AlphaConstraint: Constraint option
        /// Axes (1-based, the batch axis is 0) along which one alpha is shared; <c>None</c>: none.
        SharedAxes: int list option
    }

    /// Keras's defaults: zeros, no regularizer, no constraint, no shared axes.
    static member Default =
        {
            AlphaInitializer = Zeros
            AlphaRegularizer = None
            AlphaConstraint = None
            SharedAxes = None
        }

/// <summary>Keras's PReLU: <c>relu(x) - alpha·relu(-x)</c> with a learned <c>alpha</c> of shape <c>input_shape[1:]</c>
/// (size 1 on the shared axes).</summary>
/// <exception cref="KerasException">On a call, when a shared axis is out of range or an unshared size is unknown.</exception>
let prelu (config: PReLUConfig) (name: string option) : Layer =
    let shared = config.SharedAxes |> Option.defaultValue []

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "PReLU" inputs
        |> Result.bind (fun x ->
            let rank = Shape.rank x.Shape

            match shared |> List.tryFind (fun a -> a < 1 || a >= rank) with
            | Some a ->
                Error(
                    InvalidInputs(
                        layerName,
                        "PReLU",
                        $"shared_axes must be axes 1 to {rank - 1} of the input (the batch axis 0 cannot be shared).",
                        $"shared_axes={a}, input shape {Shape.format x.Shape}"
                    )
                )
            | None ->
                match
                    [ 1 .. rank - 1 ]
                    |> List.tryFind (fun i -> not (List.contains i shared) && x.Shape[i].IsNone)
                with
                | Some i ->
                    Error(
                        InvalidInputs(
                            layerName,
                            "PReLU",
                            $"Axis {i} of the input should have a defined dimension (it is not in shared_axes).",
                            Shape.format x.Shape
                        )
                    )
                | None -> Ok [ CoreLayers.floatSpec x ])

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let rank = Shape.rank x.Shape

        let paramShape =
            [
                for i in 1 .. rank - 1 -> if List.contains i shared then 1 else Option.get x.Shape[i]
            ]

        {
            Weights =
                [
                    Constraint.trainableWeight "alpha" paramShape config.AlphaInitializer config.AlphaConstraint
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some rank
                        Axes =
                            [
                                for i in 1 .. rank - 1 do
                                    if not (List.contains i shared) then
                                        i, Option.get x.Shape[i]
                            ]
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let alpha = ctx.Weights[0].Value
        use positive = torch.nn.functional.relu x
        use negative = torch.nn.functional.relu (x.neg ())
        [ positive.sub (alpha.mul negative) ]

    Layer.create
        name
        {
            ClassName = "PReLU"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "alpha_initializer", Config.initializer config.AlphaInitializer
                            "alpha_regularizer", Regularizer.configOrNull config.AlphaRegularizer
                            "alpha_constraint", Constraint.configOrNull config.AlphaConstraint
                            "shared_axes",
                            (match config.SharedAxes with
                             | Some axes -> Config.ints axes
                             | None -> null)
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses = Regularizer.ofWeights [ config.AlphaRegularizer, "alpha" ]
        }

/// Keras's large negative number that masked logits are replaced with before the softmax.
let private largeNegative = -1e9

/// <summary>Checks a mask can broadcast against an input (Keras's rule for Softmax's mask): no more axes than the
/// input, each mask axis 1 or equal to the input's, aligned on the right.</summary>
let internal checkMaskBroadcast (layerName: string) (x: torch.Tensor) (mask: torch.Tensor) =
    let xs, ms = x.Sizes, mask.Sizes
    let text (s: int64[]) = Shape.formatDims s

    let fail reason =
        Errors.raiseKeras (InvalidInputs(layerName, "Softmax", reason, $"inputs.shape={text xs}, mask.shape={text ms}"))

    if ms.Length > xs.Length then
        fail "The `mask` must be broadcastable to `inputs` and must not have more dimensions."

    for i in 1 .. ms.Length do
        let m, d = ms[ms.Length - i], xs[xs.Length - i]

        if m <> 1L && m <> d then
            fail
                "The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or match the corresponding input dimension."

/// <summary>Keras's Softmax layer over <paramref name="axis"/> (one axis, or several: <c>exp(x - logsumexp(x, axes))</c>).
/// With a mask (a Keras mask from the previous layer, broadcastable to the input), masked positions take no
/// probability: their logits become -1e9 and their outputs 0.</summary>
/// <exception cref="KerasException">When <paramref name="axis"/> is empty; on a call, when an axis is out of bounds
/// or the mask does not broadcast.</exception>
let softmax (axis: int list) (name: string option) : Layer =
    if axis.IsEmpty then
        Errors.raiseKeras (InvalidArgument("Softmax", "axis", "Expected an int or a non-empty list of ints.", "[]"))

    let computeOutput layerName (inputs: TensorSpec list) =
        single layerName "Softmax" inputs
        |> Result.bind (fun x ->
            let rank = Shape.rank x.Shape

            match axis |> List.tryFind (fun a -> a >= rank || a < -rank) with
            | Some a ->
                Error(
                    InvalidInputs(
                        layerName,
                        "Softmax",
                        $"Axis {a} is out of bounds for input shape {Shape.format x.Shape}.",
                        $"axis={a}"
                    )
                )
            | None -> Ok [ CoreLayers.floatSpec x ])

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        let mask =
            ctx.Masks
            |> List.tryHead
            |> Option.flatten
            |> Option.map (fun m ->
                checkMaskBroadcast ctx.LayerName x m

                if m.dtype = torch.ScalarType.Bool then m else m.gt (sc 0.5))

        let logits =
            match mask with
            | Some m -> torch.where (m, x, torch.tensor (largeNegative, dtype = x.dtype))
            | None -> x

        let probabilities =
            match axis with
            | [ a ] -> torch.nn.functional.softmax (logits, int64 a)
            | many ->
                let dims = many |> List.map int64 |> Array.ofList
                use top = logits.detach().amax(dims, true)
                use shifted = logits.sub(top).exp()
                shifted.div (shifted.sum (dims, true))

        [
            match mask with
            | Some m -> torch.where (m, probabilities, torch.zeros_like probabilities)
            | None -> probabilities
        ]

    Layer.create
        name
        { Layer.simpleSpec "Softmax" call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "axis",
                            (match axis with
                             | [ a ] -> Config.value a
                             | many -> Config.ints many)
                        ]
            ComputeOutput = computeOutput
            ComputeMask = Layer.passMask
        }
