/// Preprocessing layers (issue 13): image resizing and cropping against plain-loop references of Keras's rules, the
/// augmentation layers (identity at inference, seeded draws, the affine sampler against a plain-loop sampler), the
/// numeric encoders, configs both ways, summary rows, .keras round trips and an augmenting image classifier.
module PreprocessingTests

open System
open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private eager (layer: Layer) training (x: torch.Tensor) =
    Layer.callEager layer training [ x ] |> List.exactlyOne

/// Reproducible uniform [0, 1) data from a private generator.
let private rand (seed: int) (shape: int64[]) =
    Native.NativeLoader.ensureLoaded ()
    use g = new torch.Generator(uint64 seed)
    torch.rand (shape, generator = g)

/// Channels-last image arrays: value at (n, y, x, ch).
type private Img =
    {
        B: int
        H: int
        W: int
        C: int
        Data: float32[]
    }

    member m.At(n, y, x, ch) =
        m.Data[((n * m.H + y) * m.W + x) * m.C + ch]

let private img (t: torch.Tensor) =
    {
        B = int t.shape[0]
        H = int t.shape[1]
        W = int t.shape[2]
        C = int t.shape[3]
        Data = values t
    }

/// Builds a (b, h, w, c) float array from a function of (n, y, x, ch).
let private build b h w c (f: int -> int -> int -> int -> float) =
    [|
        for n in 0 .. b - 1 do
            for y in 0 .. h - 1 do
                for x in 0 .. w - 1 do
                    for ch in 0 .. c - 1 do
                        float32 (f n y x ch)
    |]

// ---- Plain-loop references of Keras's rules ----

/// Keras's (torch backend) bilinear resize with half-pixel centres, on one axis: (low index, high index, weight of high).
let private bilinearAxis (input: int) (output: int) (i: int) =
    let src = max 0.0 ((float i + 0.5) * float input / float output - 0.5)
    let lo = int (floor src)
    lo, min (lo + 1) (input - 1), src - float lo

let private nearestAxis (input: int) (output: int) (i: int) =
    min (int (floor ((float i + 0.5) * float input / float output))) (input - 1)

let private resizeRef (interpolation: string) (height: int) (width: int) (m: Img) =
    build m.B height width m.C (fun n y x ch ->
        if interpolation = "nearest" then
            float (m.At(n, nearestAxis m.H height y, nearestAxis m.W width x, ch))
        else
            let y0, y1, ly = bilinearAxis m.H height y
            let x0, x1, lx = bilinearAxis m.W width x
            let v yy xx = float (m.At(n, yy, xx, ch))

            (1.0 - ly) * ((1.0 - lx) * v y0 x0 + lx * v y0 x1)
            + ly * ((1.0 - lx) * v y1 x0 + lx * v y1 x1))

/// A window (top, left, rows, cols) of every image.
let private cropRef (top, left, rows, cols) (m: Img) =
    { m with
        H = rows
        W = cols
        Data = build m.B rows cols m.C (fun n y x ch -> float (m.At(n, top + y, left + x, ch)))
    }

/// Keras's map_coordinates sampler, as plain loops: output (x, y) reads input (a0·x + a1·y + a2, b0·x + b1·y + b2).
let private affineRef (interpolation: string) (fillMode: string) (fillValue: float) (transforms: float[][]) (m: Img) =
    let fix (i: int) (size: int) =
        match fillMode with
        | "wrap" -> ((i % size) + size) % size
        | "reflect" ->
            let p = 2 * size
            let r = ((i % p) + p) % p
            if r < size then r else p - 1 - r
        | _ -> max 0 (min (size - 1) i)

    let read n r q ch =
        if fillMode = "constant" && (r < 0 || r >= m.H || q < 0 || q >= m.W) then
            fillValue
        else
            float (m.At(n, fix r m.H, fix q m.W, ch))

    build m.B m.H m.W m.C (fun n y x ch ->
        let t = transforms[n]
        let col = t[0] * float x + t[1] * float y + t[2]
        let row = t[3] * float x + t[4] * float y + t[5]

        if interpolation = "nearest" then
            read n (int (Math.Round row)) (int (Math.Round col)) ch
        else
            let r0 = int (floor row)
            let q0 = int (floor col)
            let wr = row - float r0
            let wq = col - float q0

            (1.0 - wr) * (1.0 - wq) * read n r0 q0 ch
            + (1.0 - wr) * wq * read n r0 (q0 + 1) ch
            + wr * (1.0 - wq) * read n (r0 + 1) q0 ch
            + wr * wq * read n (r0 + 1) (q0 + 1) ch)

let private tensorOf (shape: int list) (data: float32[]) =
    torch.tensor(data).reshape(shape |> List.map int64 |> Array.ofList)

/// get_config → serialize → deserialize: the same config, and the rebuilt layer gives the same inference output.
let private configRoundTrip (layer: Layer) (x: torch.Tensor) =
    let config = Layer.getConfig layer

    let rebuilt =
        LayerSerialization.deserialize (dict []) (LayerSerialization.serialize layer None)

    Expect.equal rebuilt.ClassName layer.ClassName "class"
    Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "same config"
    closeTo 0.f (values (eager layer false x)) (values (eager rebuilt false x)) "same inference output"
    config

let private keys (config: Text.Json.Nodes.JsonObject) =
    config |> Seq.map _.Key |> Seq.sort |> List.ofSeq

let private imageTests =
    testList
        "image preprocessing"
        [
            test "Rescaling: x·scale + offset, int inputs become float32, config scale/offset" {
                let layer = Layers.Rescaling(1.0 / 127.5, offset = -1.0)
                let x = torch.tensor([| 0; 51; 255 |]).reshape(1L, 3L)
                let y = eager layer false x
                Expect.equal y.dtype torch.ScalarType.Float32 "float output"
                closeTo 1e-6f [| -1.0f; float32 (51.0 / 127.5 - 1.0); 1.0f |] (values y) "values"

                runLayerTest
                    (Layers.Rescaling 2.0)
                    [ [ None; Some 4; Some 5; Some 3 ] ]
                    [ None; Some 4; Some 5; Some 3 ]
                    0

                let config = configRoundTrip layer (rand 1 [| 2L; 3L |])
                Expect.equal (keys config) [ "dtype"; "name"; "offset"; "scale"; "trainable" ] "Keras's keys"
            }

            test "Resizing bilinear (down and up) and nearest equal the plain-loop half-pixel rules" {
                for (h, w, th, tw) in [ (7, 9, 3, 4); (3, 4, 7, 5); (6, 6, 6, 6) ] do
                    let x = rand (h * w) [| 2L; int64 h; int64 w; 3L |]

                    for interpolation in [ "bilinear"; "nearest" ] do
                        let y = eager (Layers.Resizing(th, tw, interpolation = interpolation)) false x
                        Expect.equal y.shape [| 2L; int64 th; int64 tw; 3L |] "shape"

                        closeTo
                            1e-5f
                            (resizeRef interpolation th tw (img x))
                            (values y)
                            $"{interpolation} {h}x{w} -> {th}x{tw}"
            }

            test "Resizing keeps batch and channels in the shape rule, also unbatched" {
                runLayerTest
                    (Layers.Resizing(32, 16))
                    [ [ None; Some 64; Some 64; Some 3 ] ]
                    [ None; Some 32; Some 16; Some 3 ]
                    0

                let symbolic = Keras.Input(batchShape = [ 64; 64; 3 ])
                let out = symbolic --> Layers.Resizing(8, 4)
                Expect.equal out.Shape [ Some 8; Some 4; Some 3 ] "rank 3 is one image"
                let y = eager (Layers.Resizing(8, 4)) false (rand 2 [| 64L; 64L; 3L |])
                Expect.equal y.shape [| 8L; 4L; 3L |] "unbatched eager"
            }

            test
                "Resizing crop_to_aspect_ratio crops the centred window first; pad_to_aspect_ratio pads with fill_value" {
                let x = rand 3 [| 1L; 6L; 10L; 2L |]
                let y = eager (Layers.Resizing(4, 4, cropToAspectRatio = true)) false x
                // The largest centred square of 6x10: rows 0..5, columns 2..7.
                let expected = cropRef (0, 2, 6, 6) (img x) |> resizeRef "bilinear" 4 4
                closeTo 1e-5f expected (values y) "crop then resize"

                let padded =
                    eager (Layers.Resizing(10, 10, padToAspectRatio = true, fillValue = 7.0)) false x
                // 6x10 padded to 10x10 (2 rows of 7 above and below), then resized to the same size.
                let reference =
                    build 1 10 10 2 (fun _ y xx ch ->
                        if y < 2 || y >= 8 then
                            7.0
                        else
                            float ((img x).At(0, y - 2, xx, ch)))

                closeTo 1e-5f reference (values padded) "pad then resize"
            }

            test "Resizing refuses unsupported interpolations and both aspect options" {
                let error, message =
                    kerasError (fun () -> Layers.Resizing(4, 4, interpolation = "bicubic"))

                Expect.equal (KerasException(error).Argument) "interpolation" "argument"
                Expect.stringContains message "'bilinear' and 'nearest'" "message"

                let _, message =
                    kerasError (fun () -> Layers.Resizing(4, 4, interpolation = "cubic"))

                Expect.stringContains message "Received: interpolation='cubic'" "received"

                kerasError (fun () -> Layers.Resizing(4, 4, cropToAspectRatio = true, padToAspectRatio = true))
                |> ignore
            }

            test "Resizing config: Keras's keys and defaults, both ways" {
                let layer =
                    Layers.Resizing(5, 3, interpolation = "nearest", cropToAspectRatio = true)

                let config = configRoundTrip layer (rand 4 [| 2L; 8L; 8L; 1L |])

                Expect.equal
                    (keys config)
                    [
                        "crop_to_aspect_ratio"
                        "data_format"
                        "dtype"
                        "height"
                        "interpolation"
                        "name"
                        "trainable"
                        "width"
                    ]
                    "keys (Keras 3.1.1's: its Resizing refuses the later pad_to_aspect_ratio, fill_mode, fill_value, antialias)"

                Expect.equal (config["data_format"].GetValue<string>()) "channels_last" "data format"

                let padded =
                    configRoundTrip (Layers.Resizing(5, 3, padToAspectRatio = true, fillValue = 2.0)) (rand 4 [| 2L; 8L; 8L; 1L |])

                Expect.equal (padded["pad_to_aspect_ratio"].GetValue<bool>()) true "padding is written when asked for"
                Expect.isFalse (padded.ContainsKey "fill_mode") "fill mode: always Keras's default, constant"
                Expect.equal (padded["fill_value"].GetValue<float>()) 2.0 "fill value"
            }

            test "CenterCrop takes the centre window; a smaller input is cropped to the aspect ratio and resized" {
                let x = rand 5 [| 2L; 7L; 8L; 3L |]
                let y = eager (Layers.CenterCrop(4, 5)) false x
                Expect.equal y.shape [| 2L; 4L; 5L; 3L |] "shape"
                closeTo 0.f (cropRef (1, 1, 4, 5) (img x)).Data (values y) "(7 - 4) / 2 = 1, (8 - 5) / 2 = 1"

                let small = eager (Layers.CenterCrop(10, 4)) false x
                // smart_resize: the 10:4 window of 7x8 is 7 rows x 2 columns from column 3, resized bilinearly.
                let expected = cropRef (0, 3, 7, 2) (img x) |> resizeRef "bilinear" 10 4
                closeTo 1e-5f expected (values small) "smart resize"

                runLayerTest
                    (Layers.CenterCrop(3, 3))
                    [ [ None; Some 9; Some 9; Some 1 ] ]
                    [ None; Some 3; Some 3; Some 1 ]
                    0

                let config = configRoundTrip (Layers.CenterCrop(3, 2)) x
                Expect.equal (keys config) [ "data_format"; "dtype"; "height"; "name"; "trainable"; "width" ] "keys"
            }
        ]

let private augmentationTests =
    testList
        "augmentation"
        [
            test "every augmentation layer is exactly the identity at inference" {
                let x = rand 10 [| 3L; 6L; 5L; 2L |]

                for layer in
                    [
                        Layers.RandomFlip(seed = 1)
                        Layers.RandomRotation(0.3, seed = 1)
                        Layers.RandomZoom(0.5, seed = 1)
                        Layers.RandomTranslation(0.3, 0.3, seed = 1)
                        Layers.RandomContrast(0.5, seed = 1)
                        Layers.RandomBrightness(0.5, seed = 1)
                    ] do
                    Expect.equal (values (eager layer false x)) (values x) $"{layer.ClassName} at inference"
            }

            test "RandomFlip in training: each image is itself or its mirror, both occur, the seed repeats the draws" {
                let x = rand 11 [| 64L; 4L; 5L; 2L |]

                let check mode (mirror: torch.Tensor -> torch.Tensor) =
                    let y = eager (Layers.RandomFlip(mode = mode, seed = 3)) true x
                    let y2 = eager (Layers.RandomFlip(mode = mode, seed = 3)) true x
                    Expect.equal (values y2) (values y) $"{mode}: same seed, same flips"
                    let m = mirror x
                    let mutable flipped = 0

                    for n in 0L .. 63L do
                        let yi = values (y[n])

                        if yi = values (x[n]) then
                            ()
                        elif yi = values (m[n]) then
                            flipped <- flipped + 1
                        else
                            failtestf "%s: image %d is neither the input nor its mirror" mode n

                    Expect.isGreaterThan flipped 10 $"{mode}: some flipped"
                    Expect.isLessThan flipped 54 $"{mode}: some kept"

                check "horizontal" (fun t -> t.flip 2L)
                check "vertical" (fun t -> t.flip 1L)
                check "horizontal_and_vertical" (fun t -> t.flip(2L).flip 1L)
                let _, message = kerasError (fun () -> Layers.RandomFlip(mode = "diagonal"))
                Expect.stringContains message "Received: mode='diagonal'" "bad mode"
            }

            test "affineTransform equals the plain-loop sampler: rotation, zoom, translation, every fill mode" {
                let x = rand 12 [| 2L; 5L; 7L; 2L |]

                let cases =
                    [
                        "bilinear",
                        [|
                            AugmentationLayers.rotationTransform 30.0 5 7
                            AugmentationLayers.rotationTransform -75.0 5 7
                        |]
                        "bilinear",
                        [|
                            AugmentationLayers.zoomTransform 1.3 0.6 5 7
                            AugmentationLayers.zoomTransform 0.7 1.4 5 7
                        |]
                        "bilinear",
                        [|
                            AugmentationLayers.translationTransform 1.7 -2.2
                            AugmentationLayers.translationTransform -3.4 0.6
                        |]
                        // Odd sizes: a quarter turn lands on whole pixels, so nearest rounding is unambiguous.
                        "nearest",
                        [|
                            AugmentationLayers.rotationTransform 90.0 5 7
                            AugmentationLayers.rotationTransform -90.0 5 7
                        |]
                        "nearest",
                        [|
                            AugmentationLayers.translationTransform 2.3 -1.2
                            AugmentationLayers.translationTransform -6.8 3.7
                        |]
                    ]

                for interpolation, transforms in cases do
                    for fillMode in [ "reflect"; "wrap"; "constant"; "nearest" ] do
                        let t = torch.tensor (Array.concat transforms) |> fun t -> t.reshape (2L, 8L)
                        let y = AugmentationLayers.affineTransform interpolation fillMode 0.25 x t

                        let expected =
                            affineRef interpolation fillMode 0.25 (Array.map id transforms) (img x)

                        closeTo 2e-5f expected (values y) $"{interpolation} {fillMode} {transforms[0]}"
            }

            test "RandomRotation, RandomZoom, RandomTranslation with a one-point range apply exactly that transform" {
                let x = rand 13 [| 2L; 6L; 5L; 3L |]
                let same (t: float[]) = [| t; t |]

                let cases =
                    [
                        Layers.RandomRotation((0.1, 0.1), fillMode = "constant", fillValue = 0.5),
                        same (AugmentationLayers.rotationTransform 36.0 6 5),
                        "constant"
                        Layers.RandomZoom((0.3, 0.3), widthFactor = (-0.2, -0.2), fillMode = "wrap"),
                        same (AugmentationLayers.zoomTransform 0.8 1.3 6 5),
                        "wrap"
                        Layers.RandomZoom((0.25, 0.25)),
                        same (AugmentationLayers.zoomTransform 1.25 1.25 6 5),
                        "reflect"
                        Layers.RandomTranslation((0.5, 0.5), (-0.2, -0.2), fillMode = "nearest"),
                        same (AugmentationLayers.translationTransform -1.0 3.0),
                        "nearest"
                    ]

                for layer, transforms, fillMode in cases do
                    let y = eager layer true x
                    let expected = affineRef "bilinear" fillMode 0.5 transforms (img x)
                    closeTo 2e-5f expected (values y) layer.ClassName
            }

            test "RandomRotation in training: shape kept, values within the input's range, seeded, varied" {
                let x = rand 14 [| 16L; 8L; 8L; 3L |]
                let y = eager (Layers.RandomRotation(0.2, seed = 5)) true x
                Expect.equal y.shape x.shape "shape"
                let lo, hi = Array.min (values x), Array.max (values x)

                Expect.all
                    (values y)
                    (fun v -> v >= lo - 1e-6f && v <= hi + 1e-6f)
                    "bilinear with reflect stays in range"

                let y2 = eager (Layers.RandomRotation(0.2, seed = 5)) true x
                Expect.equal (values y2) (values y) "same seed, same output"
                let y3 = eager (Layers.RandomRotation(0.2, seed = 6)) true x
                Expect.notEqual (values y3) (values y) "another seed, other angles"

                runLayerTest
                    (Layers.RandomRotation(0.1))
                    [ [ None; Some 8; Some 8; Some 3 ] ]
                    [ None; Some 8; Some 8; Some 3 ]
                    0

                let _, message = kerasError (fun () -> Layers.RandomRotation(1.5))
                Expect.stringContains message "[-1, 1]" "factor range"
                kerasError (fun () -> Layers.RandomRotation(0.1, fillMode = "mirror")) |> ignore
                kerasError (fun () -> Layers.RandomZoom(-1.0)) |> ignore
                kerasError (fun () -> Layers.RandomTranslation(0.1, 1.5)) |> ignore
            }

            test
                "RandomContrast keeps each channel's mean and scales deviations by one k per image in [1 - lower, 1 + upper]" {
                let x = rand 15 [| 8L; 5L; 4L; 3L |]

                let layer =
                    Layers.RandomContrast((0.5, 0.3), valueRange = (-100.0, 100.0), seed = 2)

                let y = eager layer true x
                let mx = x.mean ([| 1L; 2L |], keepdim = true)
                let my = y.mean ([| 1L; 2L |], keepdim = true)
                closeTo 1e-5f (values mx) (values my) "channel means kept"
                let ratio = y.sub(my).div(x.sub mx)

                for n in 0L .. 7L do
                    let r = values (ratio[n])
                    let k = r[0]
                    closeTo 1e-3f (Array.create r.Length k) r $"one factor for image {n}"
                    Expect.isTrue (k >= 0.5f - 1e-4f && k <= 1.3f + 1e-4f) $"k = {k} in [0.5, 1.3]"

                let clipped =
                    eager (Layers.RandomContrast(1.0, valueRange = (0.0, 1.0), seed = 3)) true (x.mul (3.0f.ToScalar()))

                Expect.all (values clipped) (fun v -> v >= 0.f && v <= 1.f) "clipped to the value range"
                let config = configRoundTrip (Layers.RandomContrast(0.2, seed = 4)) x
                // Keras 3: one number f gives the range (0, f).
                Expect.equal (config["factor"].ToJsonString()) "[0,0.2]" "factor as Keras stores it"
                // Keras 3.1.1's RandomContrast takes no value_range: the default (0, 255) is not written.
                Expect.isFalse (config.ContainsKey "value_range") "default value range"

                let ranged =
                    configRoundTrip (Layers.RandomContrast(0.2, valueRange = (0.0, 1.0), seed = 4)) x

                Expect.equal (ranged["value_range"].ToJsonString()) "[0,1]" "a value range that was set"
            }

            test "RandomBrightness adds one delta per image within factor · range, then clips" {
                let x = rand 16 [| 8L; 4L; 4L; 3L |]

                let y =
                    eager (Layers.RandomBrightness(0.1, valueRange = (-10.0, 10.0), seed = 7)) true x

                let delta = y.sub x

                for n in 0L .. 7L do
                    let d = values (delta[n])
                    closeTo 1e-5f (Array.create d.Length d[0]) d $"one delta for image {n}"
                    Expect.isTrue (abs d[0] <= 2.0f + 1e-5f) $"delta {d[0]} within 0.1 · 20"

                let clipped =
                    eager (Layers.RandomBrightness(0.9, valueRange = (0.0, 1.0), seed = 8)) true x

                Expect.all (values clipped) (fun v -> v >= 0.f && v <= 1.f) "clipped"
                let config = configRoundTrip (Layers.RandomBrightness(0.3, seed = 1)) x

                Expect.equal
                    (keys config)
                    [ "dtype"; "factor"; "name"; "seed"; "trainable"; "value_range" ]
                    "keys"
            }

            test "augmentation configs: Keras's keys, factors as Keras writes them, both ways" {
                let x = rand 17 [| 2L; 5L; 5L; 1L |]
                let flip = configRoundTrip (Layers.RandomFlip("horizontal", seed = 9)) x
                Expect.equal (keys flip) [ "dtype"; "mode"; "name"; "seed"; "trainable" ] "flip keys"
                let rot = configRoundTrip (Layers.RandomRotation(0.1, fillMode = "constant")) x
                Expect.equal (rot["factor"].ToJsonString()) "[-0.1,0.1]" "rotation factor range"

                Expect.equal
                    (keys rot)
                    [
                        "data_format"
                        "dtype"
                        "factor"
                        "fill_mode"
                        "fill_value"
                        "interpolation"
                        "name"
                        "seed"
                        "trainable"
                        "value_range"
                    ]
                    "rotation keys"

                let zoom = configRoundTrip (Layers.RandomZoom(0.2)) x
                Expect.equal (zoom["height_factor"].ToJsonString()) "0.2" "zoom factor as given"
                Expect.isNull zoom["width_factor"] "no width factor"

                let zoom2 =
                    configRoundTrip (Layers.RandomZoom((-0.2, 0.1), widthFactor = (0.0, 0.3))) x

                Expect.equal (zoom2["width_factor"].ToJsonString()) "[0,0.3]" "pair"

                let tr =
                    configRoundTrip (Layers.RandomTranslation(0.1, 0.2, interpolation = "nearest")) x

                Expect.equal
                    (keys tr)
                    [
                        "data_format"
                        "dtype"
                        "fill_mode"
                        "fill_value"
                        "height_factor"
                        "interpolation"
                        "name"
                        "seed"
                        "trainable"
                        "width_factor"
                    ]
                    "translation keys"
            }
        ]

let private numericTests =
    testList
        "numeric"
        [
            test "CategoryEncoding one_hot, multi_hot and count equal plain loops; Keras's shapes" {
                let data = [| [| 0; 2; 2 |]; [| 3; 1; 0 |] |]
                let x = torch.tensor(Array.concat data).reshape(2L, 3L)

                let multi =
                    [|
                        for row in data -> Array.init 4 (fun t -> if Array.contains t row then 1.f else 0.f)
                    |]

                let count =
                    [|
                        for row in data ->
                            Array.init 4 (fun t -> row |> Array.filter ((=) t) |> Array.length |> float32)
                    |]

                let oneHot =
                    [|
                        for row in data do
                            for v in row -> Array.init 4 (fun t -> if t = v then 1.f else 0.f)
                    |]

                Expect.equal (values (eager (Layers.CategoryEncoding 4) false x)) (Array.concat multi) "multi_hot"

                Expect.equal
                    (values (eager (Layers.CategoryEncoding(4, outputMode = "count")) false x))
                    (Array.concat count)
                    "count"

                let oh = eager (Layers.CategoryEncoding(4, outputMode = "one_hot")) false x
                Expect.equal oh.shape [| 2L; 3L; 4L |] "one_hot of (2, 3)"
                Expect.equal (values oh) (Array.concat oneHot) "one_hot values"

                let column = Keras.Input(shape = [ 1 ], dtype = Int64)

                Expect.equal
                    (column --> Layers.CategoryEncoding(5, outputMode = "one_hot")).Shape
                    [ None; Some 5 ]
                    "(None, 1) one_hot"

                let ohColumn =
                    eager
                        (Layers.CategoryEncoding(5, outputMode = "one_hot"))
                        false
                        (torch.tensor([| 4L; 0L |]).reshape(2L, 1L))

                Expect.equal (values ohColumn) [| 0.f; 0.f; 0.f; 0.f; 1.f; 1.f; 0.f; 0.f; 0.f; 0.f |] "(2, 1) one_hot"

                let input = Keras.Input(shape = [ 3 ], dtype = Int64)
                Expect.equal (input --> Layers.CategoryEncoding 6).Shape [ None; Some 6 ] "multi_hot shape"
                let _, message = kerasError (fun () -> eager (Layers.CategoryEncoding 3) false x)
                Expect.stringContains message "0 <= values < num_tokens" "out of range"
                let config = configRoundTrip (Layers.CategoryEncoding(4, outputMode = "count")) x

                Expect.equal
                    (keys config)
                    [ "dtype"; "name"; "num_tokens"; "output_mode"; "trainable" ]
                    "keys"
            }

            test "Discretization bins as numpy.digitize (plain loop) and Keras's test cases" {
                let boundaries = [ 0.0; 0.5; 1.0 ]
                let input = [| -1.0f; 0.0f; 0.1f; 0.8f; 1.2f; 0.5f; 1.0f |]
                let x = torch.tensor(input).reshape(1L, 7L)
                let y = eager (Layers.Discretization(binBoundaries = boundaries)) false x
                Expect.equal y.dtype torch.ScalarType.Int32 "int32"

                let reference =
                    input
                    |> Array.map (fun v -> boundaries |> List.filter (fun b -> float v >= b) |> List.length)

                Expect.equal (y.data<int>().ToArray()) reference "bins"
                Expect.equal (Array.truncate 5 reference) [| 0; 1; 1; 2; 3 |] "Keras's int case"

                let oneHot =
                    eager
                        (Layers.Discretization(binBoundaries = boundaries, outputMode = "one_hot"))
                        false
                        (torch.tensor [| 0.1f; 0.8f |])

                Expect.equal (values oneHot) [| 0.f; 1.f; 0.f; 0.f; 0.f; 0.f; 1.f; 0.f |] "Keras's one_hot case"

                let count =
                    eager
                        (Layers.Discretization(binBoundaries = boundaries, outputMode = "count"))
                        false
                        (torch.tensor([| 0.1f; 0.8f; 0.9f |]).reshape(1L, 3L))

                Expect.equal (values count) [| 0.f; 1.f; 2.f; 0.f |] "Keras's count case"

                let multi =
                    eager
                        (Layers.Discretization(binBoundaries = boundaries, outputMode = "multi_hot"))
                        false
                        (torch.tensor([| 0.15f; 0.75f; 0.85f; 0.45f |]).reshape(1L, 2L, 2L))

                Expect.equal multi.shape [| 1L; 2L; 4L |] "multi_hot reduces axis 1"
                Expect.equal (values multi) [| 0.f; 1.f; 1.f; 0.f; 0.f; 1.f; 1.f; 0.f |] "Keras's rank-3 case"
                let symbolic = Keras.Input(shape = [ 3 ])

                let layer =
                    Layers.Discretization(binBoundaries = boundaries, outputMode = "one_hot")

                Expect.equal (symbolic --> layer).Shape [ None; Some 3; Some 4 ] "one_hot shape"
                kerasError (fun () -> Layers.Discretization()) |> ignore

                kerasError (fun () -> Layers.Discretization(binBoundaries = [ 1.0 ], numBins = 2))
                |> ignore
            }

            test "Discretization.adapt: Keras's quantile summaries, boundaries in the config and through a .keras file" {
                let layer = Layers.Discretization(numBins = 4)
                let _, message = kerasError (fun () -> eager layer false (torch.zeros 3L))
                Expect.stringContains message "call `adapt(dataset)`" "not adapted"
                // 0..99 with epsilon 0.01: every value is its own summary point, and the 4-quantiles sit at 24, 49, 74.
                NumericPreprocessingLayers.adapt layer (torch.arange(100L).to_type torch.ScalarType.Float32)
                let config = Layer.getConfig layer
                let learnedNode = config["bin_boundaries"]

                let boundaries =
                    learnedNode.AsArray()
                    |> Seq.map (fun n -> float32 (n.GetValue<float>()))
                    |> Array.ofSeq
                // float32 summaries, as Keras keeps them: within 1e-3 of the exact quantiles.
                closeTo 1e-3f [| 24.f; 49.f; 74.f |] boundaries "boundaries"
                Expect.equal (config["num_bins"].GetValue<int>()) 4 "num_bins kept"
                let y = eager layer false (torch.tensor [| 10.f; 24.f; 60.f; 99.f |])
                Expect.equal (y.data<int>().ToArray()) [| 0; 1; 2; 3 |] "bins"

                // Batches as Keras's update_state; random data gives num_bins - 1 boundaries.
                let byBatches = Layers.Discretization(numBins = 5)
                NumericPreprocessingLayers.adaptBatches byBatches [ rand 1 [| 32L; 3L |]; rand 2 [| 40L |] ]
                let learnedNode = (Layer.getConfig byBatches)["bin_boundaries"]

                let learned =
                    learnedNode.AsArray() |> Seq.map (fun n -> n.GetValue<float>()) |> List.ofSeq

                Expect.equal learned.Length 4 "4 boundaries"
                Expect.equal learned (List.sort learned) "sorted"
                Expect.all learned (fun b -> b > 0.05 && b < 0.95) "inside the data"

                let rebuilt =
                    LayerSerialization.deserialize (dict []) (LayerSerialization.serialize layer None)

                Expect.equal ((Layer.getConfig rebuilt).ToJsonString()) (config.ToJsonString()) "config both ways"

                Expect.isFalse
                    ((LayerSerialization.layerConfig layer).ContainsKey "trainable")
                    "Keras writes no trainable"

                inTempFolder "discretization" (fun folder ->
                    let input = Keras.Input(shape = [ 2 ])
                    let model = Keras.Model(input, input --> layer)
                    let path = Path.Combine(folder, "d.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path
                    let x = torch.tensor([| 3.f; 30.f; 55.f; 80.f |]).reshape(2L, 2L)
                    Expect.equal (loaded.Predict(x).data<int>().ToArray()) [| 0; 1; 2; 3 |] "loaded bins")
            }
        ]

/// Every preprocessing layer in one model, for the summary and the file round trip.
let private allLayersModel () =
    let input = Keras.Input(shape = [ 12; 10; 3 ], name = "image")

    let image =
        input
        --> Layers.Rescaling(1.0 / 255.0, name = "rescale")
        --> Layers.Resizing(8, 8, name = "resize")
        --> Layers.CenterCrop(6, 6, name = "crop")
        --> Layers.RandomFlip(name = "flip")
        --> Layers.RandomRotation(0.1, name = "rotate")
        --> Layers.RandomZoom(0.1, name = "zoom")
        --> Layers.RandomTranslation(0.1, 0.1, name = "shift")
        --> Layers.RandomContrast(0.1, valueRange = (0.0, 1.0), name = "contrast")
        --> Layers.RandomBrightness(0.1, valueRange = (0.0, 1.0), name = "brightness")
        --> Layers.Flatten(name = "flat")
        --> Layers.Dense(2, name = "head")

    let ids = Keras.Input(shape = [ 2 ], dtype = Int64, name = "ids")
    let encoded = ids --> Layers.CategoryEncoding(5, name = "encode")
    let numbers = Keras.Input(shape = [ 1 ], name = "number")

    let bins =
        numbers
        --> Layers.Discretization(binBoundaries = [ 0.25; 0.5 ], outputMode = "one_hot", name = "bins")

    let merged = Layers.concatenate ([ image; encoded; bins ], name = "merge")
    Keras.Model([ input; ids; numbers ], merged, name = "preprocessing")

let private modelInputs () =
    [
        rand 20 [| 3L; 12L; 10L; 3L |] |> fun t -> t.mul (255.0f.ToScalar())
        torch.tensor([| 0L; 4L; 2L; 2L; 1L; 3L |]).reshape(3L, 2L)
        torch.tensor([| 0.1f; 0.3f; 0.9f |]).reshape(3L, 1L)
    ]

let private modelTests =
    testList
        "models"
        [
            test "summary rows: Keras's output shapes and 0 params for every preprocessing layer" {
                let text = (allLayersModel ()).SummaryText()

                for row, shape in
                    [
                        "rescale (Rescaling)", "(None, 12, 10, 3)"
                        "resize (Resizing)", "(None, 8, 8, 3)"
                        "crop (CenterCrop)", "(None, 6, 6, 3)"
                        "flip (RandomFlip)", "(None, 6, 6, 3)"
                        "rotate (RandomRotation)", "(None, 6, 6, 3)"
                        "zoom (RandomZoom)", "(None, 6, 6, 3)"
                        "shift (RandomTranslation)", "(None, 6, 6, 3)"
                        "contrast (RandomContrast)", "(None, 6, 6, 3)"
                        "brightness (RandomBrightness)", "(None, 6, 6, 3)"
                        "encode (CategoryEncoding)", "(None, 5)"
                        "bins (Discretization)", "(None, 3)"
                    ] do
                    let line =
                        text.Split('\n')
                        |> Array.tryFind (fun l -> l.Contains row)
                        |> Option.defaultWith (fun () -> failtestf "no row %s in\n%s" row text)

                    Expect.stringContains line shape $"{row} shape"
                    let cells = line.Split('│') |> Array.map _.Trim()
                    Expect.equal cells[3] "0" $"{row} params"

                Expect.stringContains text "Total params: 218" "only the Dense head: 108 · 2 + 2"
            }

            test ".keras save → load: same configs and the same predictions, every preprocessing layer" {
                let model = allLayersModel ()
                let x = modelInputs ()
                let before = model.Predict(x)

                inTempFolder "preprocessing" (fun folder ->
                    let path = Path.Combine(folder, "all.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path

                    for a, b in List.zip model.Layers loaded.Layers do
                        Expect.equal
                            ((LayerSerialization.layerConfig b).ToJsonString())
                            ((LayerSerialization.layerConfig a).ToJsonString())
                            a.Name

                    List.iter2
                        (fun (p: torch.Tensor) (q: torch.Tensor) -> closeTo 0.f (values p) (values q) "predictions")
                        before
                        (loaded.Predict x))
            }

            test
                "acceptance: an augmenting image classifier trains (loss falls), predicts deterministically, saves and loads" {
                Utils.setRandomSeed 13
                let input = Keras.Input(shape = [ 64; 64; 3 ])

                let output =
                    input
                    --> Layers.Rescaling(1.0 / 255.0)
                    --> Layers.Resizing(32, 32)
                    --> Layers.RandomFlip(seed = 1)
                    --> Layers.RandomRotation(0.1, seed = 2)
                    --> Layers.RandomZoom(0.1, seed = 3)
                    --> Layers.Conv2D(8, 3, activation = "relu")
                    --> Layers.GlobalAveragePooling2D()
                    --> Layers.Dense(10)

                let model = Keras.Model(input, output)

                let compiled =
                    model.Compile(
                        optimizer = Optimizers.Adam(learningRate = ConstantRate 0.01),
                        loss = SparseCategoricalCrossentropy true
                    )

                // Labels the images can tell: the class is the brightest of 10 vertical bands.
                let labels = [| for i in 0..31 -> int64 (i % 10) |]

                let x =
                    let noise = rand 21 [| 32L; 64L; 64L; 3L |]
                    let bands = torch.zeros (32L, 64L, 64L, 3L)

                    for i in 0..31 do
                        let band = int64 labels[i] * 6L
                        bands[int64 i].narrow(1L, band, 6L).fill_(1.0f.ToScalar()) |> ignore

                    noise.mul(60.0f.ToScalar()).add(bands.mul (180.0f.ToScalar()))

                let y = torch.tensor labels
                let history = compiled.Fit(x, y, batchSize = 8, epochs = 6, verbose = 0)
                let losses = history["loss"]
                Expect.isLessThan (List.last losses) (List.head losses) "loss decreases"

                let p1 = model.Predict x
                let p2 = model.Predict x
                Expect.equal (values p2) (values p1) "inference is deterministic (augmentation off)"

                inTempFolder "augmenting-classifier" (fun folder ->
                    let path = Path.Combine(folder, "classifier.keras")
                    model.Save path
                    let loaded = Keras.LoadModel path
                    closeTo 1e-6f (values p1) (values (loaded.Predict x)) "same predictions after load")
            }
        ]

[<Tests>]
let tests =
    testList "Preprocessing" [ imageTests; augmentationTests; numericTests; modelTests ]
