/// Image preprocessing layers (Keras 3's keras.layers.Rescaling, Resizing, CenterCrop), channels-last: applied in
/// training and at inference alike, no weights. The resize rule is Keras's torch backend's (<c>image.resize</c>):
/// bilinear with half-pixel centres and no antialiasing, nearest as "nearest-exact" (TF's half-pixel nearest).
module Keras.ImagePreprocessingLayers

open TorchSharp
open Keras

let private fail (error: KerasError) : 'T = Errors.raiseKeras error

let internal seedConfig (seed: int option) =
    match seed with
    | Some s -> Config.value s
    | None -> null

/// Keras's image inputs: rank 3 (one image) or rank 4 (a batch), channels last.
let internal imageInputSpecs: InputSpec list =
    [
        { InputSpec.any with
            MinNDim = Some 3
            MaxNDim = Some 4
        }
    ]

/// A float32 image batch of rank 4 from a rank 3 or 4 input, and how to undo the batching.
let internal asBatch (x: torch.Tensor) =
    let f = CoreLayers.asFloat x

    if f.dim () = 3L then
        f.unsqueeze 0L, (fun (y: torch.Tensor) -> y.squeeze 0L)
    else
        f, id

/// The output spec of a layer that maps images to images of <paramref name="height"/> x <paramref name="width"/>
/// (None: the input's), keeping the batch and channels.
let internal imageSpec (height: int option) (width: int option) (spec: TensorSpec) =
    let rank = Shape.rank spec.Shape
    let shape = Array.ofList spec.Shape
    let h = rank - 3
    height |> Option.iter (fun v -> shape[h] <- Some v)
    width |> Option.iter (fun v -> shape[h + 1] <- Some v)

    {
        Shape = List.ofArray shape
        DType = (CoreLayers.floatSpec spec).DType
    }

let private checkInterpolation (className: string) (interpolation: string) =
    match interpolation with
    | "bilinear"
    | "nearest" -> ()
    | "bicubic"
    | "lanczos3"
    | "lanczos5"
    | "area"
    | "gaussian"
    | "lanczos"
    | "mitchellcubic" ->
        fail (
            InvalidArgument(
                className,
                "interpolation",
                "Only 'bilinear' and 'nearest' are supported by this library.",
                $"'{interpolation}'"
            )
        )
    | other ->
        fail (InvalidArgument(className, "interpolation", "Expected one of 'bilinear', 'nearest'.", $"'{other}'"))

/// <summary>Resizes a channels-last batch (b, h, w, c) to (b, height, width, c) with Keras's torch rule: "bilinear"
/// samples at <c>(i + 0.5)·in/out − 0.5</c> (clamped at 0), "nearest" takes <c>floor((i + 0.5)·in/out)</c>.</summary>
let resizeBatch (interpolation: string) (height: int) (width: int) (images: torch.Tensor) : torch.Tensor =
    use scope = torch.NewDisposeScope()

    let result =
        if interpolation = "nearest" then
            // "nearest-exact": output i reads input min(floor((i + 0.5) · in / out), in − 1), as gathers.
            let nearest (input: int64) (output: int) =
                Array.init output (fun i ->
                    min (int64 (floor ((float i + 0.5) * float input / float output))) (input - 1L))
                |> torch.tensor

            images.index_select(1L, nearest (images.size(1)) height).index_select(2L, nearest (images.size(2)) width)
        else
            let cf = images.permute (0L, 3L, 1L, 2L)

            let resized =
                torch.nn.functional.interpolate (
                    cf,
                    size = [| int64 height; int64 width |],
                    mode = torch.InterpolationMode.Bilinear,
                    align_corners = false
                )

            resized.permute(0L, 2L, 3L, 1L).contiguous()

    result.MoveToOuterDisposeScope()

/// <summary>The largest centred window of an (h, w) image with the aspect ratio of (height, width), as Keras's
/// <c>crop_to_aspect_ratio</c> and <c>smart_resize</c> choose it: (top, left, rows, cols).</summary>
let aspectCropWindow (h: int) (w: int) (height: int) (width: int) =
    let cropH = max (min h (int (float (w * height) / float width))) 1
    let cropW = max (min w (int (float (h * width) / float height))) 1
    let top = int (float (h - cropH) / 2.0)
    let left = int (float (w - cropW) / 2.0)
    top, left, cropH, cropW

/// Crops a (b, h, w, c) batch to the centred window with the target's aspect ratio.
let private cropToAspect (height: int) (width: int) (images: torch.Tensor) =
    let top, left, rows, cols =
        aspectCropWindow (int (images.size(1))) (int (images.size(2))) height width

    images.narrow(1L, int64 top, int64 rows).narrow(2L, int64 left, int64 cols)

/// Pads a (b, h, w, c) batch with <paramref name="fillValue"/> to the target's aspect ratio, as Keras's torch backend
/// does: the same number of rows (or columns) on both sides.
let private padToAspect (height: int) (width: int) (fillValue: float) (images: torch.Tensor) =
    let h = int (images.size(1))
    let w = int (images.size(2))
    let padH = max h (int (float (w * height) / float width))
    let padW = max w (int (float (h * width) / float height))
    let top = int (float (padH - h) / 2.0)
    let left = int (float (padW - w) / 2.0)
    // torch's pad lists the last axis first: channels, columns, rows.
    torch.nn.functional.pad (images, [| 0L; 0L; int64 left; int64 left; int64 top; int64 top |], value = fillValue)

/// Keras's Resizing settings, with Keras's defaults in <see cref="ResizingConfig.Create"/>.
type ResizingConfig =
    {
        /// <summary>The output height in pixels (Keras's <c>height</c>).</summary>
        Height: int
        /// <summary>The output width in pixels (Keras's <c>width</c>).</summary>
        Width: int
        /// "bilinear" (default) or "nearest".
        Interpolation: string
        /// Crop to the target's aspect ratio before resizing.
        CropToAspectRatio: bool
        /// Pad to the target's aspect ratio (with <c>FillValue</c>) before resizing.
        PadToAspectRatio: bool
        /// The padding value of <c>PadToAspectRatio</c>.
        FillValue: float
    }

    /// <summary>Keras's defaults: bilinear, no crop, no pad, fill 0.</summary>
    static member Create(height: int, width: int) =
        {
            Height = height
            Width = width
            Interpolation = "bilinear"
            CropToAspectRatio = false
            PadToAspectRatio = false
            FillValue = 0.0
        }

let private checkSize (className: string) (height: int) (width: int) =
    if height < 1 || width < 1 then
        fail (
            InvalidArgument(
                className,
                "height, width",
                "The target size must be positive integers.",
                $"({height}, {width})"
            )
        )

/// <summary>Multiplies inputs by <paramref name="scale"/> and adds <paramref name="offset"/>, in training and at
/// inference; integer inputs become float32. Any shape.</summary>
let rescaling (scale: float) (offset: float) (name: string option) : Layer =
    let call (_: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        [ x.mul(scale.ToScalar()).add(offset.ToScalar()) ]

    Layer.create
        name
        { Layer.simpleSpec "Rescaling" call with
            Config = fun () -> Config.ofList [ "scale", Config.value scale; "offset", Config.value offset ]
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map CoreLayers.floatSpec)
            ComputeMask = Layer.passMask
        }

/// <summary>Resizes images (rank 3 or 4, channels last) to (height, width), keeping batch and channels.</summary>
/// <exception cref="KerasException">When the size is not positive, the interpolation is not "bilinear" or "nearest",
/// or both aspect-ratio options are set.</exception>
let resizing (config: ResizingConfig) (name: string option) : Layer =
    checkSize "Resizing" config.Height config.Width
    checkInterpolation "Resizing" config.Interpolation

    if config.CropToAspectRatio && config.PadToAspectRatio then
        fail (
            InvalidArgument(
                "Resizing",
                "pad_to_aspect_ratio",
                "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.",
                "True"
            )
        )

    let call (_: CallContext) (inputs: torch.Tensor list) =
        let batch, unbatch = asBatch (List.exactlyOne inputs)

        let framed =
            if config.CropToAspectRatio then
                cropToAspect config.Height config.Width batch
            elif config.PadToAspectRatio then
                padToAspect config.Height config.Width config.FillValue batch
            else
                batch

        [
            resizeBatch config.Interpolation config.Height config.Width framed |> unbatch
        ]

    Layer.create
        name
        { Layer.simpleSpec "Resizing" call with
            Config =
                fun () ->
                    // Keras 3.3+ writes pad_to_aspect_ratio, fill_mode and fill_value (3.9+ antialias), which Keras
                    // 3.1.1 refuses: each is written only when it differs from Keras's default (fill_mode is always
                    // "constant" here and antialias always false, Keras's defaults, so they never are).
                    Config.ofList
                        [
                            "height", Config.value config.Height
                            "width", Config.value config.Width
                            "interpolation", Config.value config.Interpolation
                            "crop_to_aspect_ratio", Config.value config.CropToAspectRatio
                            if config.PadToAspectRatio then
                                "pad_to_aspect_ratio", Config.value true
                            if config.FillValue <> 0.0 then
                                "fill_value", Config.value config.FillValue
                            "data_format", Config.value "channels_last"
                        ]
            InputSpecs = imageInputSpecs
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map (imageSpec (Some config.Height) (Some config.Width)))
        }

/// <summary>Crops the centre (height, width) window of images (rank 3 or 4, channels last); an image smaller than
/// the target on either axis is, as in Keras, cropped to the target's aspect ratio and resized bilinearly
/// (<c>smart_resize</c>).</summary>
/// <exception cref="KerasException">When the size is not positive.</exception>
let centerCrop (height: int) (width: int) (name: string option) : Layer =
    checkSize "CenterCrop" height width

    let call (_: CallContext) (inputs: torch.Tensor list) =
        let batch, unbatch = asBatch (List.exactlyOne inputs)
        let h = int (batch.size(1))
        let w = int (batch.size(2))

        let result =
            if h >= height && w >= width then
                batch
                    .narrow(1L, int64 ((h - height) / 2), int64 height)
                    .narrow(2L, int64 ((w - width) / 2), int64 width)
            else
                cropToAspect height width batch |> resizeBatch "bilinear" height width

        [ unbatch result ]

    Layer.create
        name
        { Layer.simpleSpec "CenterCrop" call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "height", Config.value height
                            "width", Config.value width
                            "data_format", Config.value "channels_last"
                        ]
            InputSpecs = imageInputSpecs
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map (imageSpec (Some height) (Some width)))
        }
