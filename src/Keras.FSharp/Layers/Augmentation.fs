/// Image augmentation layers (Keras 3's RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast,
/// RandomBrightness), channels-last: random in training only (one draw per image), the identity at inference;
/// reproducible with a seed. Rotation, zoom and translation share Keras's affine sampler (<see cref="affineTransform"/>),
/// whose transform maps each output pixel (x, y) to the input point (a0·x + a1·y + a2, b0·x + b1·y + b2).
module Keras.AugmentationLayers

open TorchSharp
open Keras
open Keras.ImagePreprocessingLayers

let private fail (error: KerasError) : 'T = Errors.raiseKeras error
let inline private sc (v: float) : Scalar = v.ToScalar()
let inline private si (v: int64) : Scalar = v.ToScalar()

/// A Keras factor argument: one number, or a (lower, upper) pair.
type Factor =
    /// One number <c>f</c>: the range is Keras's default for the layer (usually (-|f|, |f|)).
    | Single of float
    /// An explicit (lower, upper) pair, sorted.
    | Range of float * float

    /// Keras's serialized form: the number or the pair as given.
    member internal this.Json: System.Text.Json.Nodes.JsonNode =
        match this with
        | Single f -> Config.value f
        | Range(a, b) -> System.Text.Json.Nodes.JsonArray(Config.value a, Config.value b)

/// Keras's <c>_set_factor</c> of the image layers: a number in [lo, hi] gives (max(-|f|, lo), |f|); a pair must
/// overlap [lo, hi] and is sorted.
let private baseFactor (className: string) (lo: float) (hi: float) (factor: Factor) =
    let error () =
        let received =
            match factor with
            | Single f -> string f
            | Range(a, b) -> $"({a}, {b})"

        fail (
            InvalidArgument(
                className,
                "factor",
                $"The `factor` argument should be a number (or a list of two numbers) in the range [{lo}, {hi}].",
                received
            )
        )

    match factor with
    | Single f when f < lo || f > hi || System.Double.IsNaN f -> error ()
    | Single f -> max (-(abs f)) lo, abs f
    | Range(a, b) when a > hi || b < lo -> error ()
    | Range(a, b) -> min a b, max a b

/// The zoom and translation factors: each number in (-1, 1] (zoom) or [-1, 1] (translation); a number gives (-|f|, |f|).
let private axisFactor (className: string) (argument: string) (openBelow: bool) (factor: Factor) =
    let bad (v: float) =
        System.Double.IsNaN v || v > 1.0 || (if openBelow then v <= -1.0 else v < -1.0)

    let values =
        match factor with
        | Single f -> [ f ]
        | Range(a, b) -> [ a; b ]

    if values |> List.exists bad then
        let range = if openBelow then "(-1.0, 1.0]" else "[-1.0, 1.0]"

        fail (
            InvalidArgument(
                className,
                argument,
                $"The factor should be a number (or a list of two numbers) in the range {range}.",
                (values |> List.map string |> String.concat ", ")
            )
        )

    match factor with
    | Single f -> -(abs f), abs f
    | Range(a, b) -> min a b, max a b

let private checkChoice (className: string) (argument: string) (allowed: string list) (value: string) =
    if not (List.contains value allowed) then
        let names = allowed |> List.map (fun a -> $"'{a}'") |> String.concat ", "
        fail (InvalidArgument(className, argument, $"Expected one of {names}.", $"'{value}'"))

let private fillModes = [ "reflect"; "wrap"; "constant"; "nearest" ]

// ---- The affine sampler (Keras's image.affine_transform with map_coordinates, torch backend) ----

/// <summary>Keras's rotation transform of an (height, width) image by <paramref name="degrees"/> about its centre
/// ((width − 1)/2, (height − 1)/2): <c>[cos, −sin, a2, sin, cos, b2, 0, 0]</c>.</summary>
let rotationTransform (degrees: float) (height: int) (width: int) : float[] =
    let t = degrees * System.Math.PI / 180.0
    let cx = 0.5 * float (width - 1)
    let cy = 0.5 * float (height - 1)
    let a0, a1, b0, b1 = cos t, -(sin t), sin t, cos t
    [| a0; a1; cx - cx * a0 - cy * a1; b0; b1; cy - cx * b0 - cy * b1; 0.0; 0.0 |]

/// <summary>Keras's zoom transform: output pixels sample the input at <c>zx·x + (w − 1)/2·(1 − zx)</c> and
/// <c>zy·y + (h − 1)/2·(1 − zy)</c>; a zoom above 1 zooms out.</summary>
let zoomTransform (zoomX: float) (zoomY: float) (height: int) (width: int) : float[] =
    [|
        zoomX
        0.0
        float (width - 1) / 2.0 * (1.0 - zoomX)
        0.0
        zoomY
        float (height - 1) / 2.0 * (1.0 - zoomY)
        0.0
        0.0
    |]

/// <summary>Keras's translation transform: the image moves by (dx, dy) pixels (output (x, y) samples the input at
/// (x − dx, y − dy)).</summary>
let translationTransform (dx: float) (dy: float) : float[] =
    [| 1.0; 0.0; -dx; 0.0; 1.0; -dy; 0.0; 0.0 |]

/// Keras's out-of-range index rules (torch backend's index fixers).
let private fixIndex (fillMode: string) (index: torch.Tensor) (size: int64) =
    match fillMode with
    | "wrap" -> index.remainder (si size)
    | "reflect" ->
        // Half-sample symmetric: (d c b a | a b c d | d c b a).
        let s = 2L * size
        let shifted = index.mul(si 2L).add(si (1L + s))
        let mirrored = shifted.remainder(si (2L * s)).sub(si s).abs()
        mirrored.sub(si 1L).floor_divide (si 2L)
    | _ -> index.clamp (si 0L, si (size - 1L))

/// <summary>Applies one affine transform per image to a channels-last batch (b, h, w, c), Keras's
/// <c>image.affine_transform</c>: each output pixel (x, y) samples the input at
/// (a0·x + a1·y + a2, b0·x + b1·y + b2) with "bilinear" or "nearest" (round half to even) interpolation; points
/// outside follow <paramref name="fillMode"/>: "constant" (<paramref name="fillValue"/> for each missing neighbour),
/// "nearest" (edge), "wrap" or "reflect" (half-sample symmetric). <paramref name="transforms"/> is (b, 8) or (b, 6)
/// (the projective terms are not used).</summary>
let affineTransform
    (interpolation: string)
    (fillMode: string)
    (fillValue: float)
    (images: torch.Tensor)
    (transforms: torch.Tensor)
    : torch.Tensor =
    use scope = torch.NewDisposeScope()
    let x = CoreLayers.asFloat images
    let b, h, w, c = x.size(0), x.size(1), x.size(2), x.size(3)
    let t = transforms.to_type(torch.ScalarType.Float32).reshape(b, -1L)
    let coef (i: int64) = t.select(1L, i).view(b, 1L, 1L)
    let ys = torch.arange(h, dtype = torch.ScalarType.Float32).view(1L, h, 1L)
    let xs = torch.arange(w, dtype = torch.ScalarType.Float32).view(1L, 1L, w)
    // Input coordinates of every output pixel: (b, h, w).
    let colIn = coef(0L).mul(xs).add(coef(1L).mul(ys)).add(coef 2L)
    let rowIn = coef(3L).mul(xs).add(coef(4L).mul(ys)).add(coef 5L)
    let flat = x.reshape (b, h * w, c)

    let sample (rows: torch.Tensor) (cols: torch.Tensor) =
        let r = fixIndex fillMode rows h
        let q = fixIndex fillMode cols w
        let index = r.mul(si w).add(q).reshape(b, h * w, 1L).expand(b, h * w, c)
        let gathered = flat.gather(1L, index).reshape(b, h, w, c)

        if fillMode = "constant" then
            let valid =
                rows.ge(si 0L).logical_and(rows.lt (si h)).logical_and(cols.ge (si 0L)).logical_and(cols.lt (si w))

            gathered.masked_fill (valid.logical_not().unsqueeze(-1L), sc fillValue)
        else
            gathered

    let result =
        if interpolation = "nearest" then
            sample (rowIn.round().to_type torch.ScalarType.Int64) (colIn.round().to_type torch.ScalarType.Int64)
        else
            let r0 = rowIn.floor ()
            let c0 = colIn.floor ()
            let wr1 = rowIn.sub(r0).unsqueeze(-1L)
            let wc1 = colIn.sub(c0).unsqueeze(-1L)
            let wr0 = wr1.neg().add(sc 1.0)
            let wc0 = wc1.neg().add(sc 1.0)
            let r0 = r0.to_type torch.ScalarType.Int64
            let c0 = c0.to_type torch.ScalarType.Int64
            let r1 = r0.add (si 1L)
            let c1 = c0.add (si 1L)

            let term (rows: torch.Tensor) (cols: torch.Tensor) (weight: torch.Tensor) = (sample rows cols).mul weight

            (term r0 c0 (wr0.mul wc0))
                .add(term r0 c1 (wr0.mul wc1))
                .add(term r1 c0 (wr1.mul wc0))
                .add(term r1 c1 (wr1.mul wc1))

    result.MoveToOuterDisposeScope()

// ---- Layers ----

/// Uniform draws in [lo, hi), one per image: (b).
let private uniform (generator: torch.Generator) (b: int64) (lo: float) (hi: float) =
    torch.rand([| b |], dtype = torch.ScalarType.Float32, generator = generator).mul(sc (hi - lo)).add(sc lo)

/// A spec for an augmentation layer: image inputs, same output shape (float), the given config entries.
let private augmentationSpec
    (className: string)
    (config: unit -> (string * System.Text.Json.Nodes.JsonNode) list)
    call
    =
    { Layer.simpleSpec className call with
        Config = fun () -> Config.ofList (config ())
        InputSpecs = imageInputSpecs
        ComputeOutput = fun _ inputs -> Ok(inputs |> List.map (imageSpec None None))
    }

/// Runs <paramref name="augment"/> on a (b, h, w, c) float batch in training; the float input at inference.
let private trainingOnly (augment: torch.Tensor -> torch.Tensor) (ctx: CallContext) (inputs: torch.Tensor list) =
    let x = List.exactlyOne inputs

    if ctx.Training then
        let batch, unbatch = asBatch x
        [ augment batch |> unbatch ]
    else
        [ CoreLayers.asFloat x ]

/// <summary>Flips each image in training with probability 1/2: "horizontal" (left-right), "vertical" (up-down) or
/// "horizontal_and_vertical" (Keras's default: both flips together, one draw per image).</summary>
/// <exception cref="KerasException">When the mode is none of these.</exception>
let randomFlip (mode: string) (seed: int option) (name: string option) : Layer =
    checkChoice "RandomFlip" "mode" [ "horizontal"; "vertical"; "horizontal_and_vertical" ] mode
    let generator = RegularizationLayers.generatorFor seed

    let augment (x: torch.Tensor) =
        use scope = torch.NewDisposeScope()
        let b = x.size(0)

        let flips =
            torch.rand([| b; 1L; 1L; 1L |], dtype = torch.ScalarType.Float32, generator = generator).le(sc 0.5)

        let horizontal (y: torch.Tensor) = torch.where (flips, y.flip (2L), y)
        let vertical (y: torch.Tensor) = torch.where (flips, y.flip (1L), y)

        let result =
            match mode with
            | "horizontal" -> horizontal x
            | "vertical" -> vertical x
            | _ -> vertical (horizontal x)

        result.MoveToOuterDisposeScope()

    Layer.create
        name
        (augmentationSpec
            "RandomFlip"
            (fun () ->
                // Keras 3.6+ also writes data_format; Keras 3.1.1 refuses it and implies channels_last, our only format.
                [ "seed", seedConfig seed; "mode", Config.value mode ])
            (trainingOnly augment))

/// Shared settings of the affine augmentation layers.
type AffineSettings =
    {
        /// "reflect" (Keras's default), "wrap", "constant" or "nearest".
        FillMode: string
        /// "bilinear" (default) or "nearest".
        Interpolation: string
        /// The value of "constant" filling (0 by default).
        FillValue: float
        /// Seed of the layer's random generator.
        Seed: int option
    }

    /// <summary>Keras's defaults: reflect, bilinear, 0, no seed.</summary>
    static member Default =
        {
            FillMode = "reflect"
            Interpolation = "bilinear"
            FillValue = 0.0
            Seed = None
        }

let private checkAffine (className: string) (settings: AffineSettings) =
    checkChoice className "fill_mode" fillModes settings.FillMode
    checkChoice className "interpolation" [ "nearest"; "bilinear" ] settings.Interpolation

let private affineEntries (settings: AffineSettings) =
    [
        "fill_mode", Config.value settings.FillMode
        "fill_value", Config.value settings.FillValue
        "interpolation", Config.value settings.Interpolation
        "seed", seedConfig settings.Seed
        "data_format", Config.value "channels_last"
    ]

/// An affine augmentation layer: <paramref name="transforms"/> draws (b, 8) transforms for a (b, h, w, c) batch.
let private affineLayer className (settings: AffineSettings) entries transforms name =
    let augment (x: torch.Tensor) =
        use scope = torch.NewDisposeScope()
        let t = transforms (x.size(0)) (int (x.size(1))) (int (x.size(2)))

        (affineTransform settings.Interpolation settings.FillMode settings.FillValue x t).MoveToOuterDisposeScope()

    Layer.create
        name
        (augmentationSpec className (fun () -> entries () @ affineEntries settings) (trainingOnly augment))

/// The (b, 8) tensor of columns built from (b) tensors and constants.
let private columns (b: int64) (cols: Choice<torch.Tensor, float> list) =
    cols
    |> List.map (fun c ->
        match c with
        | Choice1Of2 t -> t.view (b, 1L)
        | Choice2Of2 v -> torch.full ([| b; 1L |], sc v, dtype = torch.ScalarType.Float32))
    |> fun parts -> torch.cat (List.toArray parts, 1L)

/// <summary>Rotates each image in training by a random angle in [lower·360°, upper·360°] about its centre;
/// <paramref name="factor"/> <c>Single f</c> means (−f, f), a fraction of a full turn in [-1, 1].</summary>
/// <exception cref="KerasException">When the factor, fill mode or interpolation is invalid.</exception>
let randomRotation (factor: Factor) (settings: AffineSettings) (name: string option) : Layer =
    let lower, upper = baseFactor "RandomRotation" -1.0 1.0 factor
    checkAffine "RandomRotation" settings
    let generator = RegularizationLayers.generatorFor settings.Seed

    let transforms (b: int64) (h: int) (w: int) =
        let t =
            (uniform generator b (lower * 360.0) (upper * 360.0)).mul(sc (System.Math.PI / 180.0))

        let cos, sin = t.cos (), t.sin ()
        let cx, cy = 0.5 * float (w - 1), 0.5 * float (h - 1)
        let a2 = cos.mul(sc -cx).add(sin.mul (sc cy)).add(sc cx)
        let b2 = sin.mul(sc -cx).add(cos.mul (sc -cy)).add(sc cy)

        columns
            b
            [
                Choice1Of2 cos
                Choice1Of2(sin.neg ())
                Choice1Of2 a2
                Choice1Of2 sin
                Choice1Of2 cos
                Choice1Of2 b2
                Choice2Of2 0.0
                Choice2Of2 0.0
            ]

    // Keras 3.1.1's RandomRotation writes value_range (its default (0, 255); rotation does not use it here).
    affineLayer
        "RandomRotation"
        settings
        (fun () -> [ "factor", Range(lower, upper).Json; "value_range", Config.ints [ 0; 255 ] ])
        transforms
        name

/// <summary>Zooms each image in training: the height zoom is drawn in [1 + lower, 1 + upper] of
/// <paramref name="heightFactor"/> (positive: zoom out, negative: zoom in), the width zoom likewise from
/// <paramref name="widthFactor"/>, or equal to the height zoom when it is None (Keras's aspect-preserving default).</summary>
/// <exception cref="KerasException">When a factor is outside (-1, 1], or the fill mode or interpolation is invalid.</exception>
let randomZoom (heightFactor: Factor) (widthFactor: Factor option) (settings: AffineSettings) (name: string option) =
    let hLower, hUpper = axisFactor "RandomZoom" "height_factor" true heightFactor

    let widthRange =
        widthFactor |> Option.map (axisFactor "RandomZoom" "width_factor" true)

    checkAffine "RandomZoom" settings
    let generator = RegularizationLayers.generatorFor settings.Seed

    let transforms (b: int64) (h: int) (w: int) =
        let zy = uniform generator b (1.0 + hLower) (1.0 + hUpper)

        let zx =
            match widthRange with
            | Some(lo, hi) -> uniform generator b (1.0 + lo) (1.0 + hi)
            | None -> zy

        columns
            b
            [
                Choice1Of2 zx
                Choice2Of2 0.0
                Choice1Of2(zx.neg().add(sc 1.0).mul(sc (float (w - 1) / 2.0)))
                Choice2Of2 0.0
                Choice1Of2 zy
                Choice1Of2(zy.neg().add(sc 1.0).mul(sc (float (h - 1) / 2.0)))
                Choice2Of2 0.0
                Choice2Of2 0.0
            ]

    affineLayer
        "RandomZoom"
        settings
        (fun () ->
            [
                "height_factor", heightFactor.Json
                "width_factor",
                (match widthFactor with
                 | Some f -> f.Json
                 | None -> null)
            ])
        transforms
        name

/// <summary>Translates each image in training by a random fraction of its height in [lower, upper] of
/// <paramref name="heightFactor"/> and of its width from <paramref name="widthFactor"/> (a number f means (−f, f);
/// positive moves down / right).</summary>
/// <exception cref="KerasException">When a factor is outside [-1, 1], or the fill mode or interpolation is invalid.</exception>
let randomTranslation (heightFactor: Factor) (widthFactor: Factor) (settings: AffineSettings) (name: string option) =
    let hLower, hUpper =
        axisFactor "RandomTranslation" "height_factor" false heightFactor

    let wLower, wUpper = axisFactor "RandomTranslation" "width_factor" false widthFactor
    checkAffine "RandomTranslation" settings
    let generator = RegularizationLayers.generatorFor settings.Seed

    let transforms (b: int64) (h: int) (w: int) =
        let dy = (uniform generator b hLower hUpper).mul(sc (float h))
        let dx = (uniform generator b wLower wUpper).mul(sc (float w))

        columns
            b
            [
                Choice2Of2 1.0
                Choice2Of2 0.0
                Choice1Of2(dx.neg ())
                Choice2Of2 0.0
                Choice2Of2 1.0
                Choice1Of2(dy.neg ())
                Choice2Of2 0.0
                Choice2Of2 0.0
            ]

    affineLayer
        "RandomTranslation"
        settings
        (fun () -> [ "height_factor", heightFactor.Json; "width_factor", widthFactor.Json ])
        transforms
        name

let private checkValueRange (className: string) (lo: float, hi: float) =
    if System.Double.IsNaN lo || System.Double.IsNaN hi then
        fail (InvalidArgument(className, "value_range", "Expected two numbers.", $"({lo}, {hi})"))

/// <summary>Adjusts the contrast of each image in training: per channel, <c>(x − mean)·k + mean</c> over the image's
/// rows and columns, with k drawn in [1 − lower, 1 + upper], then clipped to <paramref name="valueRange"/>. As in
/// Keras 3, a single number f in [0, 1] gives (lower, upper) = (0, f), so k is in [1, 1 + f]; pass a pair for a
/// symmetric range.</summary>
/// <exception cref="KerasException">When the factor is outside [0, 1].</exception>
let randomContrast (factor: Factor) (valueRange: float * float) (seed: int option) (name: string option) : Layer =
    let lower, upper = baseFactor "RandomContrast" 0.0 1.0 factor
    checkValueRange "RandomContrast" valueRange
    let lo, hi = valueRange
    let generator = RegularizationLayers.generatorFor seed

    let augment (x: torch.Tensor) =
        use scope = torch.NewDisposeScope()
        let b = x.size(0)
        let k = (uniform generator b (1.0 - lower) (1.0 + upper)).view(b, 1L, 1L, 1L)
        let mean = x.mean ([| 1L; 2L |], keepdim = true)
        x.sub(mean).mul(k).add(mean).clamp(sc lo, sc hi).MoveToOuterDisposeScope()

    Layer.create
        name
        (augmentationSpec
            "RandomContrast"
            (fun () ->
                // Keras 3.8+ writes value_range and data_format, which Keras 3.1.1 refuses: value_range only when it
                // is not the default (0, 255), data_format never (channels_last, our only format).
                [
                    "factor", Range(lower, upper).Json
                    if (lo, hi) <> (0.0, 255.0) then
                        "value_range", Range(lo, hi).Json
                    "seed", seedConfig seed
                ])
            (trainingOnly augment))

/// <summary>Adds a random brightness delta to each image in training: drawn in [lower, upper] (a number f means
/// (−f, f), in [-1, 1]) times the width of <paramref name="valueRange"/>, then clipped to the range.</summary>
/// <exception cref="KerasException">When the factor is outside [-1, 1].</exception>
let randomBrightness (factor: Factor) (valueRange: float * float) (seed: int option) (name: string option) : Layer =
    let lower, upper = baseFactor "RandomBrightness" -1.0 1.0 factor
    checkValueRange "RandomBrightness" valueRange

    let lo, hi =
        min (fst valueRange) (snd valueRange), max (fst valueRange) (snd valueRange)

    let generator = RegularizationLayers.generatorFor seed

    let augment (x: torch.Tensor) =
        use scope = torch.NewDisposeScope()
        let b = x.size(0)
        let delta = (uniform generator b lower upper).mul(sc (hi - lo)).view(b, 1L, 1L, 1L)
        x.add(delta).clamp(sc lo, sc hi).MoveToOuterDisposeScope()

    Layer.create
        name
        (augmentationSpec
            "RandomBrightness"
            (fun () ->
                [
                    "factor", Range(lower, upper).Json
                    "value_range", Range(lo, hi).Json
                    "seed", seedConfig seed
                ])
            (trainingOnly augment))
