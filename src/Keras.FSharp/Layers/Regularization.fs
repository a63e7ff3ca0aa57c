/// Regularization layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout. (Weight regularizers
/// and constraints are <see cref="T:Keras.Regularizer"/> and <see cref="T:Keras.Constraint"/>, in Regularizers.fs.)
module Keras.RegularizationLayers

open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// A random generator for a layer: seeded when the layer has a seed (reproducible draws), otherwise TorchSharp's
/// global generator (<c>null</c>), which <c>torch.manual_seed</c> controls.
let internal generatorFor (seed: int option) =
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
        Errors.raiseKeras (
            InvalidArgument(className, argument, "Expected a float value between 0 and 1.", string value)
        )

/// Dropout of whole channels: one keep/drop draw per (sample, channel), broadcast over the spatial axes.
let private spatialDropout
    (className: string)
    (rank: int)
    (rate: float)
    (seed: int option)
    (name: string option)
    : Layer =
    checkUnit className "rate" rate
    let generator = generatorFor seed

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)

        if ctx.Training && rate > 0.0 then
            if rate >= 1.0 then
                [ torch.zeros_like x ]
            else
                // Noise shape (batch, 1, ..., 1, channels): every spatial position of a channel shares its draw.
                let noiseShape =
                    Array.init rank (fun i -> if i = 0 || i = rank - 1 then x.size(i) else 1L)

                let keep =
                    torch.rand(noiseShape, dtype = x.dtype, generator = generator).ge(sc rate).to_type x.dtype

                [ x.mul(keep).div(sc (1.0 - rate)) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec className call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            yield "rate", Config.value rate
                            yield "seed", seedConfig seed
                            if rank > 3 then
                                yield "data_format", Config.value "channels_last"
                        ]
            InputSpecs = [ { InputSpec.any with NDim = Some rank } ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask
        }

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
            [
                x.add (torch.randn(x.Sizes, dtype = x.dtype, generator = generator).mul(sc stddev))
            ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "GaussianNoise" call with
            Config = fun () -> Config.ofList [ "stddev", Config.value stddev; "seed", seedConfig seed ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask
        }

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

            [
                x.mul (torch.randn(x.Sizes, dtype = x.dtype, generator = generator).mul(sc stddev).add(sc 1.0))
            ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "GaussianDropout" call with
            Config = fun () -> Config.ofList [ "rate", Config.value rate; "seed", seedConfig seed ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask
        }

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

            let kept =
                torch.rand(x.Sizes, dtype = x.dtype, generator = generator).ge(sc rate).to_type x.dtype

            let a = ((1.0 - rate) * (1.0 + rate * alphaP * alphaP)) ** -0.5
            let b = -a * alphaP * rate
            let dropped = x.mul(kept).add(kept.neg().add(sc 1.0).mul(sc alphaP))
            [ dropped.mul(sc a).add(sc b) ]
        else
            [ x ]

    Layer.create
        name
        { Layer.simpleSpec "AlphaDropout" call with
            Config = fun () -> Config.ofList [ "rate", Config.value rate; "seed", seedConfig seed; "noise_shape", null ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask
        }
