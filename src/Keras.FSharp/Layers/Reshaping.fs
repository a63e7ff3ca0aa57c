/// Reshaping layers: Flatten, Reshape, UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, Permute,
/// RepeatVector. Spatial layers work on channels-last tensors (batch, ...spatial, channels).
module Keras.ReshapingLayers

open TorchSharp
open Keras

/// Flattens every axis after the batch axis into one: (batch, d1, d2, ...) becomes (batch, d1·d2·...).
let flatten (name: string option) : Layer =
    let computeOutput _ (inputs: TensorSpec list) =
        Ok(
            inputs
            |> List.map (fun x ->
                { x with
                    Shape = [ List.head x.Shape; Shape.sampleSize x.Shape ]
                })
        )

    let call _ (inputs: torch.Tensor list) =
        inputs
        |> List.map (fun x -> if x.dim () = 1L then x.unsqueeze 1L else x.flatten 1L)

    Layer.create
        name
        { Layer.simpleSpec "Flatten" call with
            Config = fun () -> Config.ofList [ "data_format", Config.value "channels_last" ]
            InputSpecs = [ { InputSpec.any with MinNDim = Some 1 } ]
            ComputeOutput = computeOutput
        }

/// <summary>The output shape of <see cref="reshape"/>: the target with its single -1 resolved when the input's
/// sample size is known.</summary>
let reshapeOutput (layerName: string) (target: int list) (input: Shape) : Result<Shape, KerasError> =
    let unknowns = target |> List.filter (fun d -> d = -1) |> List.length
    let known = target |> List.filter (fun d -> d <> -1) |> List.fold (*) 1

    let received =
        $"input_shape={Shape.format input}, target_shape={Shape.format (Shape.ofInts target)}"

    let fail reason =
        Error(InvalidInputs(layerName, "Reshape", reason, received))

    if unknowns > 1 then
        fail "There must be at most one unknown dimension (-1) in `target_shape`."
    elif target |> List.exists (fun d -> d < -1 || d = 0) then
        fail "Every dimension of `target_shape` must be positive or -1."
    else
        match Shape.sampleSize input with
        | None ->
            Ok(
                List.head input
                :: (target |> List.map (fun d -> if d = -1 then None else Some d))
            )
        | Some size when unknowns = 0 ->
            if size = known then
                Ok(List.head input :: Shape.ofInts target)
            else
                fail "The total size of the tensor must be unchanged."
        | Some size ->
            if size % known = 0 then
                Ok(
                    List.head input
                    :: (target |> List.map (fun d -> Some(if d = -1 then size / known else d)))
                )
            else
                fail "The total size of the tensor must be unchanged."

/// <summary>Reshapes each sample to <paramref name="targetShape"/> (batch axis omitted; one entry may be -1).</summary>
let reshape (targetShape: int list) (name: string option) : Layer =
    let computeOutput layerName (inputs: TensorSpec list) =
        inputs
        |> List.map (fun x ->
            reshapeOutput layerName targetShape x.Shape
            |> Result.map (fun s -> { x with Shape = s }))
        |> List.fold (fun acc r -> acc |> Result.bind (fun xs -> r |> Result.map (fun x -> xs @ [ x ]))) (Ok [])

    let dims = -1L :: (targetShape |> List.map int64) |> Array.ofList

    let call _ (inputs: torch.Tensor list) =
        inputs
        |> List.map (fun x ->
            // A -1 in the target must be resolved here: torch allows only one -1, and the batch takes it.
            let sample = x.Sizes |> Array.skip 1 |> Array.fold (*) 1L

            let known =
                targetShape
                |> List.filter (fun d -> d <> -1)
                |> List.fold (fun a d -> a * int64 d) 1L

            let resolved =
                dims |> Array.mapi (fun i d -> if i > 0 && d = -1L then sample / known else d)

            x.reshape resolved)

    Layer.create
        name
        { Layer.simpleSpec "Reshape" call with
            Config = fun () -> Config.ofList [ "target_shape", Config.ints targetShape ]
            ComputeOutput = computeOutput
        }

/// Python's rendering of a tuple of ints: "(2, 2)", "(2,)".
let private pyTuple (values: int list) = Shape.format (Shape.ofInts values)

/// Python's rendering of per-axis (before, after) pairs as Keras stores them: a flat pair for one spatial axis,
/// a tuple of pairs otherwise.
let private pyPairs (pairs: (int * int) list) =
    match pairs with
    | [ (a, b) ] -> pyTuple [ a; b ]
    | _ ->
        "("
        + (pairs |> List.map (fun (a, b) -> pyTuple [ a; b ]) |> String.concat ", ")
        + ")"

/// Keras's serialized pairs: [a, b] for one spatial axis, [[a, b], ...] otherwise.
let private pairsConfig (pairs: (int * int) list) : System.Text.Json.Nodes.JsonNode =
    match pairs with
    | [ (a, b) ] -> Config.ints [ a; b ]
    | _ -> System.Text.Json.Nodes.JsonArray(pairs |> List.map (fun (a, b) -> Config.ints [ a; b ]) |> Array.ofList)

/// (batch, ...spatial, channels) to (batch, channels, ...spatial), as a view.
let internal toChannelsFirst (x: torch.Tensor) =
    let r = x.dim ()
    x.permute (Array.append [| 0L; r - 1L |] [| 1L .. r - 2L |])

/// (batch, channels, ...spatial) back to (batch, ...spatial, channels), as a view.
let internal toChannelsLast (x: torch.Tensor) =
    let r = x.dim ()
    x.permute (Array.concat [ [| 0L |]; [| 2L .. r - 1L |]; [| 1L |] ])

/// Maps the spatial axes of a channels-last shape, keeping batch and channels.
let private mapSpatial (f: int -> int -> int option) (shape: Shape) : Shape =
    let last = shape.Length - 1

    shape
    |> List.mapi (fun i d ->
        if i = 0 || i = last then
            d
        else
            d |> Option.bind (f (i - 1)))

let private checkPositive (className: string) (argument: string) (values: int list) (received: string) =
    if values |> List.exists (fun v -> v <= 0) then
        Errors.raiseKeras (InvalidArgument(className, argument, "Expected positive integers.", received))

let private checkNonNegative (className: string) (argument: string) (pairs: (int * int) list) =
    if pairs |> List.exists (fun (a, b) -> a < 0 || b < 0) then
        Errors.raiseKeras (InvalidArgument(className, argument, "Expected non-negative integers.", pyPairs pairs))

/// Nearest-neighbour upsampling of a channels-last tensor: each spatial cell repeated size times on its axis.
let private repeatSpatial (sizes: int list) (x: torch.Tensor) =
    sizes
    |> List.indexed
    |> List.fold
        (fun (acc: torch.Tensor) (i, s) ->
            if s = 1 then
                acc
            else
                acc.repeat_interleave (int64 s, dim = int64 (i + 1)))
        x

/// An upsampling layer; <paramref name="floatOutput"/> when its call computes in floating point (integer inputs
/// come out as float32).
let private upSampling
    (className: string)
    (sizes: int list)
    (floatOutput: bool)
    (config: (string * System.Text.Json.Nodes.JsonNode) list)
    call
    (name: string option)
    =
    let computeOutput _ (inputs: TensorSpec list) =
        inputs
        |> List.map (fun x ->
            let spec = if floatOutput then CoreLayers.floatSpec x else x

            { spec with
                Shape = mapSpatial (fun i n -> Some(n * sizes[i])) x.Shape
            })
        |> Ok

    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs -> inputs |> List.map call) with
            Config = fun () -> Config.ofList config
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(sizes.Length + 2)
                    }
                ]
            ComputeOutput = computeOutput
        }

/// <summary>Repeats each time step <paramref name="size"/> times: (batch, steps, features) to
/// (batch, steps·size, features). Keras's default size is 2.</summary>
/// <exception cref="KerasException">When <paramref name="size"/> is not positive.</exception>
let upSampling1D (size: int) (name: string option) : Layer =
    if size <= 0 then
        Errors.raiseKeras (
            InvalidArgument("UpSampling1D", "size", "Argument `size` should be a positive integer.", string size)
        )

    upSampling "UpSampling1D" [ size ] false [ "size", Config.value size ] (repeatSpatial [ size ]) name

/// <summary>Configuration of <see cref="upSampling2D"/>, with Keras's defaults in
/// <see cref="UpSampling2DConfig.Default"/>.</summary>
type UpSampling2DConfig =
    {
        /// Upsampling factors for rows and columns.
        Size: int * int
        /// "nearest" (repeat each cell) or "bilinear" (half-pixel centres, as TensorFlow and Keras resize).
        Interpolation: string
    }

    /// Keras's defaults: factors (2, 2), nearest interpolation.
    static member Default() =
        {
            Size = (2, 2)
            Interpolation = "nearest"
        }

/// <summary>Scales rows and columns of (batch, height, width, channels) inputs by integer factors, by repeating
/// cells ("nearest") or by bilinear interpolation with half-pixel centres (align_corners=False), as Keras's
/// image resize does.</summary>
/// <exception cref="KerasException">When a factor is not positive, or the interpolation is not "nearest" or
/// "bilinear".</exception>
let upSampling2D (config: UpSampling2DConfig) (name: string option) : Layer =
    let sh, sw = config.Size
    checkPositive "UpSampling2D" "size" [ sh; sw ] (pyTuple [ sh; sw ])

    let interpolation =
        (if isNull config.Interpolation then
             ""
         else
             config.Interpolation)
            .ToLowerInvariant()

    if interpolation <> "nearest" && interpolation <> "bilinear" then
        Errors.raiseKeras (
            InvalidArgument(
                "UpSampling2D",
                "interpolation",
                "Supported values are 'nearest' and 'bilinear'.",
                string config.Interpolation
            )
        )

    let bilinear (x: torch.Tensor) =
        let cf = toChannelsFirst (CoreLayers.asFloat x)
        let size = [| cf.size(2) * int64 sh; cf.size(3) * int64 sw |]

        torch.nn.functional.interpolate (
            cf,
            size = size,
            mode = torch.InterpolationMode.Bilinear,
            align_corners = false
        )
        |> toChannelsLast

    let call =
        if interpolation = "nearest" then
            repeatSpatial [ sh; sw ]
        else
            bilinear

    upSampling
        "UpSampling2D"
        [ sh; sw ]
        (interpolation = "bilinear")
        [
            "size", Config.ints [ sh; sw ]
            "data_format", Config.value "channels_last"
            "interpolation", Config.value interpolation
        ]
        call
        name

/// <summary>Repeats each cell of the three spatial axes of (batch, d1, d2, d3, channels) inputs by the given
/// factors (Keras's default (2, 2, 2)).</summary>
/// <exception cref="KerasException">When a factor is not positive.</exception>
let upSampling3D (size: int * int * int) (name: string option) : Layer =
    let a, b, c = size
    checkPositive "UpSampling3D" "size" [ a; b; c ] (pyTuple [ a; b; c ])

    upSampling
        "UpSampling3D"
        [ a; b; c ]
        false
        [ "size", Config.ints [ a; b; c ]; "data_format", Config.value "channels_last" ]
        (repeatSpatial [ a; b; c ])
        name

let private zeroPadding (className: string) (pads: (int * int) list) (name: string option) =
    checkNonNegative className "padding" pads

    // torch's pad lists the last axis first: channels (0, 0), then the spatial axes from the last.
    let torchPads =
        Array.append
            [| 0L; 0L |]
            (pads
             |> List.rev
             |> List.collect (fun (a, b) -> [ int64 a; int64 b ])
             |> Array.ofList)

    let computeOutput _ (inputs: TensorSpec list) =
        Ok(
            inputs
            |> List.map (fun x ->
                { x with
                    Shape = mapSpatial (fun i n -> Some(n + fst pads[i] + snd pads[i])) x.Shape
                })
        )

    let config =
        [
            yield "padding", pairsConfig pads
            // ZeroPadding1D's data_format is Keras 3.5+ (Keras 3.1.1 refuses it); ours is always channels_last, the
            // default older Keras implies, so it is written for 2D and 3D only (see KerasFile.KerasVersion).
            if pads.Length > 1 then
                yield "data_format", Config.value "channels_last"
        ]

    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs ->
              inputs |> List.map (fun x -> torch.nn.functional.pad (x, torchPads))) with
            Config = fun () -> Config.ofList config
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(pads.Length + 2)
                    }
                ]
            ComputeOutput = computeOutput
        }

/// <summary>Adds zeros before and after the time axis of (batch, steps, features) inputs:
/// <paramref name="padding"/> is (before, after); Keras's default is (1, 1).</summary>
/// <exception cref="KerasException">When a padding is negative.</exception>
let zeroPadding1D (padding: int * int) (name: string option) : Layer =
    zeroPadding "ZeroPadding1D" [ padding ] name

/// <summary>Adds rows and columns of zeros around (batch, height, width, channels) inputs:
/// ((top, bottom), (left, right)); Keras's default is ((1, 1), (1, 1)).</summary>
/// <exception cref="KerasException">When a padding is negative.</exception>
let zeroPadding2D (padding: (int * int) * (int * int)) (name: string option) : Layer =
    let h, w = padding
    zeroPadding "ZeroPadding2D" [ h; w ] name

/// <summary>Adds zeros around the three spatial axes of (batch, d1, d2, d3, channels) inputs, one (before, after)
/// pair per axis; Keras's default is ((1, 1), (1, 1), (1, 1)).</summary>
/// <exception cref="KerasException">When a padding is negative.</exception>
let zeroPadding3D (padding: (int * int) * (int * int) * (int * int)) (name: string option) : Layer =
    let a, b, c = padding
    zeroPadding "ZeroPadding3D" [ a; b; c ] name

let private croppingLayer (className: string) (crops: (int * int) list) (name: string option) =
    checkNonNegative className "cropping" crops

    let computeOutput layerName (inputs: TensorSpec list) =
        let shapeOf (x: TensorSpec) =
            let spatial = x.Shape |> List.skip 1 |> List.truncate crops.Length

            let tooLarge =
                List.zip (List.truncate spatial.Length crops) spatial
                |> List.exists (fun ((a, b), d) -> d |> Option.exists (fun n -> a + b >= n))

            if tooLarge then
                let reason =
                    if crops.Length = 1 then
                        $"`cropping` parameter of `{className}` layer must be smaller than the input length."
                    else
                        "Values in `cropping` argument should be smaller than the corresponding spatial dimension of the input."

                Error(
                    InvalidInputs(
                        layerName,
                        className,
                        reason,
                        $"input_shape={Shape.format x.Shape}, cropping={pyPairs crops}"
                    )
                )
            else
                Ok
                    { x with
                        Shape = mapSpatial (fun i n -> Some(n - fst crops[i] - snd crops[i])) x.Shape
                    }

        inputs
        |> List.fold (fun acc x -> acc |> Result.bind (fun xs -> shapeOf x |> Result.map (fun s -> xs @ [ s ]))) (Ok [])

    let crop (x: torch.Tensor) =
        crops
        |> List.indexed
        |> List.fold
            (fun (acc: torch.Tensor) (i, (a, b)) ->
                let axis = int64 (i + 1)
                acc.narrow (axis, int64 a, acc.size(int axis) - int64 a - int64 b))
            x

    let config =
        [
            yield "cropping", pairsConfig crops
            if crops.Length > 1 then
                yield "data_format", Config.value "channels_last"
        ]

    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs -> inputs |> List.map crop) with
            Config = fun () -> Config.ofList config
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(crops.Length + 2)
                    }
                ]
            ComputeOutput = computeOutput
        }

/// <summary>Removes (start, end) steps from the time axis of (batch, steps, features) inputs; Keras's default is
/// (1, 1).</summary>
/// <exception cref="KerasException">When a cropping is negative; on a call, when the cropping is not smaller than
/// the input length.</exception>
let cropping1D (cropping: int * int) (name: string option) : Layer =
    croppingLayer "Cropping1D" [ cropping ] name

/// <summary>Removes ((top, bottom), (left, right)) rows and columns from (batch, height, width, channels) inputs;
/// Keras's default is ((0, 0), (0, 0)).</summary>
/// <exception cref="KerasException">When a cropping is negative; on a call, when it is not smaller than the
/// spatial size.</exception>
let cropping2D (cropping: (int * int) * (int * int)) (name: string option) : Layer =
    let h, w = cropping
    croppingLayer "Cropping2D" [ h; w ] name

/// <summary>Removes (start, end) cells from each spatial axis of (batch, d1, d2, d3, channels) inputs; Keras's
/// default is ((1, 1), (1, 1), (1, 1)).</summary>
/// <exception cref="KerasException">When a cropping is negative; on a call, when it is not smaller than the
/// spatial size.</exception>
let cropping3D (cropping: (int * int) * (int * int) * (int * int)) (name: string option) : Layer =
    let a, b, c = cropping
    croppingLayer "Cropping3D" [ a; b; c ] name

/// <summary>Permutes the axes after the batch axis: <paramref name="dims"/> is a permutation of 1..n (1-based, the
/// batch axis excluded), e.g. [2; 1] swaps the first two axes of each sample.</summary>
/// <exception cref="KerasException">When <paramref name="dims"/> is not a permutation of 1..n.</exception>
let permute (dims: int list) (name: string option) : Layer =
    if List.sort dims <> [ 1 .. dims.Length ] || dims.IsEmpty then
        Errors.raiseKeras (
            InvalidArgument(
                "Permute",
                "dims",
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be consecutive and start from 1.",
                pyTuple dims
            )
        )

    let order = 0L :: (dims |> List.map int64) |> Array.ofList

    let computeOutput _ (inputs: TensorSpec list) =
        Ok(
            inputs
            |> List.map (fun x ->
                { x with
                    Shape = List.head x.Shape :: (dims |> List.map (fun d -> x.Shape[d]))
                })
        )

    Layer.create
        name
        { Layer.simpleSpec "Permute" (fun _ inputs -> inputs |> List.map (fun x -> x.permute order)) with
            Config = fun () -> Config.ofList [ "dims", Config.ints dims ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some(dims.Length + 1)
                    }
                ]
            ComputeOutput = computeOutput
        }

/// <summary>Repeats each (batch, features) input <paramref name="n"/> times: (batch, n, features).</summary>
/// <exception cref="KerasException">When <paramref name="n"/> is not positive.</exception>
let repeatVector (n: int) (name: string option) : Layer =
    if n <= 0 then
        Errors.raiseKeras (InvalidArgument("RepeatVector", "n", "Argument `n` should be a positive integer.", string n))

    let computeOutput _ (inputs: TensorSpec list) =
        Ok(
            inputs
            |> List.map (fun x ->
                { x with
                    Shape = [ List.head x.Shape; Some n; List.last x.Shape ]
                })
        )

    Layer.create
        name
        { Layer.simpleSpec "RepeatVector" (fun _ inputs ->
              inputs |> List.map (fun x -> x.unsqueeze(1L).repeat(1L, int64 n, 1L))) with
            Config = fun () -> Config.ofList [ "n", Config.value n ]
            InputSpecs = [ { InputSpec.any with NDim = Some 2 } ]
            ComputeOutput = computeOutput
        }
