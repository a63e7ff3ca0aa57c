/// Regularization layers (SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout), weight
/// regularizers (L1, L2, L1L2) and weight constraints (MaxNorm, NonNeg, UnitNorm, MinMaxNorm).
module Keras.RegularizationLayers

open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// A random generator for a layer: seeded when the layer has a seed (reproducible draws), otherwise TorchSharp's
/// global generator (<c>null</c>), which <c>torch.manual_seed</c> controls.
let private generatorFor (seed: int option) =
    match seed with
    | Some s ->
        Native.NativeLoader.ensureLoaded ()
        new torch.Generator(uint64 (int64 s))
    | None -> null

let private seedConfig (seed: int option) =
    match seed with
    | Some s -> Config.value s
    | None -> null

/// Keras's check of a rate or stddev argument: a float in [0, 1].
let private checkUnit (className: string) (argument: string) (value: float) =
    if System.Double.IsNaN value || value < 0.0 || value > 1.0 then
        Errors.raiseKeras (InvalidArgument(className, argument, "Expected a float value between 0 and 1.", string value))

/// Dropout of whole channels: one keep/drop draw per (sample, channel), broadcast over the spatial axes.
let private spatialDropout (className: string) (rank: int) (rate: float) (seed: int option) (name: string option) : Layer =
    checkUnit className "rate" rate
    let generator = generatorFor seed

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        if ctx.Training && rate > 0.0 then
            if rate >= 1.0 then
                [ torch.zeros_like x ]
            else
                // Noise shape (batch, 1, ..., 1, channels): every spatial position of a channel shares its draw.
                let noiseShape = Array.init rank (fun i -> if i = 0 || i = rank - 1 then x.shape[i] else 1L)
                let keep = torch.rand(noiseShape, dtype = x.dtype, generator = generator).ge(sc rate).to_type x.dtype
                [ x.mul(keep).div (sc (1.0 - rate)) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec className call with
            Config =
                fun () ->
                    Config.ofList
                        [ yield "rate", Config.value rate
                          yield "seed", seedConfig seed
                          if rank > 3 then
                              yield "data_format", Config.value "channels_last" ]
            InputSpecs = [ { InputSpec.any with NDim = Some rank } ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask }

/// <summary>Dropout of entire 1D feature maps: in training, each (sample, channel) of a
/// <c>(batch, steps, channels)</c> input is zeroed with probability <paramref name="rate"/> across all steps, and the
/// kept ones are scaled by 1/(1 - rate). The identity at inference.</summary>
/// <exception cref="KerasException">When <paramref name="rate"/> is outside [0, 1]; on a call, when the input is not 3D.</exception>
let spatialDropout1D (rate: float) (seed: int option) (name: string option) : Layer =
    spatialDropout "SpatialDropout1D" 3 rate seed name

/// <summary>Dropout of entire 2D feature maps of a channels-last <c>(batch, rows, cols, channels)</c> input,
/// in training only.</summary>
/// <exception cref="KerasException">When <paramref name="rate"/> is outside [0, 1]; on a call, when the input is not 4D.</exception>
let spatialDropout2D (rate: float) (seed: int option) (name: string option) : Layer =
    spatialDropout "SpatialDropout2D" 4 rate seed name

/// <summary>Dropout of entire 3D feature maps of a channels-last <c>(batch, d1, d2, d3, channels)</c> input,
/// in training only.</summary>
/// <exception cref="KerasException">When <paramref name="rate"/> is outside [0, 1]; on a call, when the input is not 5D.</exception>
let spatialDropout3D (rate: float) (seed: int option) (name: string option) : Layer =
    spatialDropout "SpatialDropout3D" 5 rate seed name

/// <summary>Adds zero-centred Gaussian noise of standard deviation <paramref name="stddev"/> in training only.</summary>
/// <exception cref="KerasException">When <paramref name="stddev"/> is outside [0, 1] (Keras's range).</exception>
let gaussianNoise (stddev: float) (seed: int option) (name: string option) : Layer =
    checkUnit "GaussianNoise" "stddev" stddev
    let generator = generatorFor seed

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        if ctx.Training && stddev > 0.0 then
            [ x.add (torch.randn(x.shape, dtype = x.dtype, generator = generator).mul (sc stddev)) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "GaussianNoise" call with
            Config = fun () -> Config.ofList [ "stddev", Config.value stddev; "seed", seedConfig seed ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask }

/// <summary>Multiplies by 1-centred Gaussian noise of standard deviation <c>sqrt(rate / (1 - rate))</c> in training
/// only.</summary>
/// <exception cref="KerasException">When <paramref name="rate"/> is outside [0, 1].</exception>
let gaussianDropout (rate: float) (seed: int option) (name: string option) : Layer =
    checkUnit "GaussianDropout" "rate" rate
    let generator = generatorFor seed

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        if ctx.Training && rate > 0.0 then
            let stddev = sqrt (rate / (1.0 - rate))
            [ x.mul (torch.randn(x.shape, dtype = x.dtype, generator = generator).mul(sc stddev).add (sc 1.0)) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "GaussianDropout" call with
            Config = fun () -> Config.ofList [ "rate", Config.value rate; "seed", seedConfig seed ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask }

/// SELU's alpha and scale, as Keras writes them.
let private seluAlpha = 1.6732632423543772848170429916717
let private seluScale = 1.0507009873554804934193349852946

/// <summary>Alpha dropout for self-normalizing (SELU) networks, in training only: each input is kept with probability
/// 1 - rate or set to SELU's negative saturation <c>α' = -alpha·scale</c>, then transformed by <c>a·x + b</c> with
/// <c>a = ((1 - rate)(1 + rate·α'²))^-1/2</c> and <c>b = -a·α'·rate</c>, which keeps zero mean and unit variance.</summary>
/// <exception cref="KerasException">When <paramref name="rate"/> is outside [0, 1].</exception>
let alphaDropout (rate: float) (seed: int option) (name: string option) : Layer =
    checkUnit "AlphaDropout" "rate" rate
    let generator = generatorFor seed

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        if ctx.Training && rate > 0.0 then
            let alphaP = -seluAlpha * seluScale
            let kept = torch.rand(x.shape, dtype = x.dtype, generator = generator).ge(sc rate).to_type x.dtype
            let a = ((1.0 - rate) * (1.0 + rate * alphaP * alphaP)) ** -0.5
            let b = -a * alphaP * rate
            let dropped = x.mul(kept).add (kept.neg().add(sc 1.0).mul (sc alphaP))
            [ dropped.mul(sc a).add (sc b) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "AlphaDropout" call with
            Config = fun () -> Config.ofList [ "rate", Config.value rate; "seed", seedConfig seed; "noise_shape", null ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask }

/// <summary>A weight regularizer: a penalty on a weight added to the training loss (Keras's
/// <c>keras.regularizers</c>). Keras's string identifiers use 0.01 for every factor (<see cref="Regularizer.ofName"/>).</summary>
type Regularizer =
    /// <c>l1 · sum(|w|)</c>; Keras's default factor is 0.01.
    | L1 of l1: float
    /// <c>l2 · sum(w²)</c>; Keras's default factor is 0.01.
    | L2 of l2: float
    /// <c>l1 · sum(|w|) + l2 · sum(w²)</c>; <c>"l1_l2"</c> uses 0.01 for both.
    | L1L2 of l1: float * l2: float

/// Computing and describing regularization penalties.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Regularizer =
    /// Keras's <c>L1()</c>: factor 0.01.
    let l1Default = L1 0.01

    /// Keras's <c>L2()</c>: factor 0.01.
    let l2Default = L2 0.01

    /// Keras's <c>"l1_l2"</c> identifier: both factors 0.01. (The <c>L1L2()</c> class itself defaults to 0 and 0.)
    let l1l2Default = L1L2(0.01, 0.01)

    let private checkFactor (argument: string) (value: float) =
        if System.Double.IsNaN value || System.Double.IsInfinity value || value < 0.0 then
            Errors.raiseKeras (InvalidArgument("Regularizer", argument, "expected a non-negative float.", string value))

    /// <summary>Checks the factors are finite and non-negative, as Keras's constructors do.</summary>
    /// <exception cref="KerasException">When a factor is negative, infinite or NaN.</exception>
    let validate (regularizer: Regularizer) =
        match regularizer with
        | L1 l1 -> checkFactor "l1" l1
        | L2 l2 -> checkFactor "l2" l2
        | L1L2(l1, l2) ->
            checkFactor "l1" l1
            checkFactor "l2" l2

    /// <summary>The penalty of a weight: a scalar tensor in the weight's dtype, differentiable with respect to it.</summary>
    /// <exception cref="KerasException">When a factor is invalid.</exception>
    let penalty (regularizer: Regularizer) (w: torch.Tensor) : torch.Tensor =
        validate regularizer
        let l1Term (f: float) = w.abs().sum().mul (sc f)
        let l2Term (f: float) = w.square().sum().mul (sc f)

        match regularizer with
        | L1 l1 -> l1Term l1
        | L2 l2 -> l2Term l2
        | L1L2(l1, l2) -> (l1Term l1).add (l2Term l2)

    /// <summary>Resolves Keras's string identifiers "l1", "l2" and "l1_l2" (every factor 0.01).</summary>
    let tryOfName (name: string) =
        match name.Trim().ToLowerInvariant() with
        | "l1" -> Some l1Default
        | "l2" -> Some l2Default
        | "l1_l2"
        | "l1l2" -> Some l1l2Default
        | _ -> None

    /// Keras's class name ("L1", "L2", "L1L2").
    let className (regularizer: Regularizer) =
        match regularizer with
        | L1 _ -> "L1"
        | L2 _ -> "L2"
        | L1L2 _ -> "L1L2"

    /// Keras's serialized form: module, class name and config.
    let config (regularizer: Regularizer) : System.Text.Json.Nodes.JsonNode =
        let inner =
            match regularizer with
            | L1 l1 -> [ "l1", Config.value l1 ]
            | L2 l2 -> [ "l2", Config.value l2 ]
            | L1L2(l1, l2) -> [ "l1", Config.value l1; "l2", Config.value l2 ]

        Config.ofList
            [ "module", Config.value "keras.regularizers"
              "class_name", Config.value (className regularizer)
              "config", Config.ofList inner
              "registered_name", null ]

/// <summary>A weight constraint: a projection applied to a weight after each optimizer step (Keras's
/// <c>keras.constraints</c>). Norms are L2 norms over <c>axis</c> — axis 0 for a Dense kernel <c>(in, out)</c>
/// constrains each unit's incoming weight vector; <c>[0; 1; 2]</c> for a Conv2D kernel constrains each filter.</summary>
type Constraint =
    /// Rescales vectors whose norm exceeds <c>maxValue</c> down to it (Keras's defaults: 2.0, axis 0).
    | MaxNorm of maxValue: float * axis: int list
    /// Clips negative entries to zero.
    | NonNeg
    /// Rescales vectors to unit norm (Keras's default: axis 0).
    | UnitNorm of axis: int list
    /// Moves each norm towards <c>[minValue, maxValue]</c>: the new norm is
    /// <c>rate·clip(norm, minValue, maxValue) + (1 - rate)·norm</c> (Keras's defaults: 0.0, 1.0, 1.0, axis 0).
    | MinMaxNorm of minValue: float * maxValue: float * rate: float * axis: int list

/// Applying and describing constraints.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Constraint =
    /// Keras's fuzz factor, added to norms before dividing.
    let epsilon = 1e-7

    /// Keras's <c>MaxNorm()</c>: max_value 2, axis 0.
    let maxNormDefault = MaxNorm(2.0, [ 0 ])

    /// Keras's <c>UnitNorm()</c>: axis 0.
    let unitNormDefault = UnitNorm [ 0 ]

    /// Keras's <c>MinMaxNorm()</c>: min_value 0, max_value 1, rate 1, axis 0.
    let minMaxNormDefault = MinMaxNorm(0.0, 1.0, 1.0, [ 0 ])

    let private norms (axis: int list) (w: torch.Tensor) =
        w.square().sum(axis |> List.map int64 |> Array.ofList, keepdim = true).sqrt ()

    /// <summary>The projected weight, a new tensor (Keras's <c>constraint(w)</c>).</summary>
    let apply (c: Constraint) (w: torch.Tensor) : torch.Tensor =
        match c with
        | NonNeg -> w.clamp_min (sc 0.0)
        | UnitNorm axis -> w.div ((norms axis w).add (sc epsilon))
        | MaxNorm(maxValue, axis) ->
            let n = norms axis w
            w.mul (n.clamp(sc 0.0, sc maxValue).div (n.add (sc epsilon)))
        | MinMaxNorm(minValue, maxValue, rate, axis) ->
            let n = norms axis w
            let desired = n.clamp(sc minValue, sc maxValue).mul(sc rate).add (n.mul (sc (1.0 - rate)))
            w.mul (desired.div (n.add (sc epsilon)))

    /// <summary>Resolves Keras's string identifiers with Keras's defaults: "max_norm", "non_neg", "unit_norm",
    /// "min_max_norm" (and the CamelCase class names).</summary>
    let tryOfName (name: string) =
        match name.Trim().ToLowerInvariant() with
        | "max_norm"
        | "maxnorm" -> Some maxNormDefault
        | "non_neg"
        | "nonneg" -> Some NonNeg
        | "unit_norm"
        | "unitnorm" -> Some unitNormDefault
        | "min_max_norm"
        | "minmaxnorm" -> Some minMaxNormDefault
        | _ -> None

    /// Keras's class name.
    let className (c: Constraint) =
        match c with
        | MaxNorm _ -> "MaxNorm"
        | NonNeg -> "NonNeg"
        | UnitNorm _ -> "UnitNorm"
        | MinMaxNorm _ -> "MinMaxNorm"

    let private axisValue (axis: int list) =
        match axis with
        | [ a ] -> Config.value a
        | many -> Config.ints many

    /// Keras's serialized form: module, class name and config.
    let config (c: Constraint) : System.Text.Json.Nodes.JsonNode =
        let inner =
            match c with
            | MaxNorm(maxValue, axis) -> [ "max_value", Config.value maxValue; "axis", axisValue axis ]
            | NonNeg -> []
            | UnitNorm axis -> [ "axis", axisValue axis ]
            | MinMaxNorm(minValue, maxValue, rate, axis) ->
                [ "min_value", Config.value minValue
                  "max_value", Config.value maxValue
                  "rate", Config.value rate
                  "axis", axisValue axis ]

        Config.ofList
            [ "module", Config.value "keras.constraints"
              "class_name", Config.value (className c)
              "config", Config.ofList inner
              "registered_name", null ]
