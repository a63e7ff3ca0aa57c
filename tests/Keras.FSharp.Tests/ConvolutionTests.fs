/// Convolution layers: Keras's shapes and parameter counts, values against plain-loop references in Keras layout,
/// TensorFlow's "same" padding, gradients against finite differences, shape errors, and an FsCheck property.
module ConvolutionTests

open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.ConvolutionLayers
open TestData

// ---------------------------------------------------------------------------------------------------------------
// Layers from short descriptions.

let private conv2 filters kernel = ConvConfig.Default(filters, kernel)

let private tconv filters kernel =
    ConvTransposeConfig.Default(filters, kernel)

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private eager layer (x: torch.Tensor) =
    Layer.callEager layer false [ x ] |> List.exactlyOne

/// Raises unless the action throws a KerasException whose message contains every text.
let private throwsKeras (texts: string list) (action: unit -> 'a) =
    let message =
        try
            action () |> ignore
            None
        with :? KerasException as e ->
            Some e.Message

    match message with
    | None -> failtestf "expected a KerasException containing %A" texts
    | Some m ->
        for t in texts do
            Expect.stringContains m t "error message"

// ---------------------------------------------------------------------------------------------------------------
// Independent references: plain loops over flat arrays in Keras layout, in float64.

/// A tensor in Keras layout: its shape and row-major values.
type private Arr = { Dims: int[]; Data: float[] }

let private arr (t: torch.Tensor) =
    {
        Dims = t.shape |> Array.map int
        Data = values t |> Array.map float
    }

let private offset (dims: int[]) (index: int[]) =
    Array.fold2 (fun acc n i -> acc * n + i) 0 dims index

/// Every multi-index of an array of these dimensions, in row-major order.
let rec private indices (dims: int list) : int list seq =
    match dims with
    | [] -> Seq.singleton []
    | d :: rest ->
        seq {
            for i in 0 .. d - 1 do
                for r in indices rest -> i :: r
        }

/// Output size and padding before the input under TensorFlow's "same" rule: out = ceil(n / s), total padding
/// max((out - 1)·s + (k - 1)·d + 1 - n, 0), the smaller half first.
let private same n k s d =
    let out = (n + s - 1) / s
    let total = max ((out - 1) * s + (k - 1) * d + 1 - n) 0
    out, total / 2

/// Output size of a "valid" convolution: the windows that fit, 0 when none does.
let private valid n k s d =
    let room = n - ((k - 1) * d + 1)
    if room < 0 then 0 else room / s + 1

/// y[b, o, f] = bias[f] + Σ x[b, o·s + j·d - padStart, g·cpg + c] · kernel[j, c, f] over the kernel taps j and the
/// channels c of the filter's group g; positions outside the input read zero.
let private refConv
    (x: Arr)
    (kernel: Arr)
    (bias: float[] option)
    (strides: int[])
    (dilation: int[])
    (padStart: int[])
    (outSizes: int[])
    (groups: int)
    =
    let rank = strides.Length
    let batch = x.Dims[0]
    let taps = kernel.Dims[0 .. rank - 1]
    let channelsPerGroup = kernel.Dims[rank]
    let filters = kernel.Dims[rank + 1]
    let filtersPerGroup = filters / groups
    let outDims = Array.concat [ [| batch |]; outSizes; [| filters |] ]
    let out = Array.zeroCreate (Array.reduce (*) outDims)

    for b in 0 .. batch - 1 do
        for o in indices (List.ofArray outSizes) do
            for f in 0 .. filters - 1 do
                let g = f / filtersPerGroup
                let mutable acc = bias |> Option.map (fun bs -> bs[f]) |> Option.defaultValue 0.0

                for j in indices (List.ofArray taps) do
                    let pos =
                        List.init rank (fun i -> o[i] * strides[i] + j[i] * dilation[i] - padStart[i])

                    if pos |> List.forall2 (fun n p -> p >= 0 && p < n) (List.ofArray x.Dims[1..rank]) then
                        for c in 0 .. channelsPerGroup - 1 do
                            let xi = offset x.Dims (Array.ofList (b :: pos @ [ g * channelsPerGroup + c ]))
                            let ki = offset kernel.Dims (Array.ofList (j @ [ c; f ]))
                            acc <- acc + x.Data[xi] * kernel.Data[ki]

                out[offset outDims (Array.ofList (b :: o @ [ f ]))] <- acc

    { Dims = outDims; Data = out }

/// The transposed convolution as TensorFlow defines it (the gradient of a convolution whose input has outSizes):
/// y[b, o·s + j·d - padStart, f] += x[b, o, c] · kernel[j, f, c], then the bias.
let private refConvTranspose
    (x: Arr)
    (kernel: Arr)
    (bias: float[] option)
    (strides: int[])
    (dilation: int[])
    (padStart: int[])
    (outSizes: int[])
    =
    let rank = strides.Length
    let batch = x.Dims[0]
    let channels = x.Dims[rank + 1]
    let taps = kernel.Dims[0 .. rank - 1]
    let filters = kernel.Dims[rank]
    let outDims = Array.concat [ [| batch |]; outSizes; [| filters |] ]
    let out = Array.zeroCreate (Array.reduce (*) outDims)

    for b in 0 .. batch - 1 do
        for o in indices (List.ofArray x.Dims[1..rank]) do
            for j in indices (List.ofArray taps) do
                let pos =
                    List.init rank (fun i -> o[i] * strides[i] + j[i] * dilation[i] - padStart[i])

                if pos |> List.forall2 (fun n p -> p >= 0 && p < n) (List.ofArray outSizes) then
                    for f in 0 .. filters - 1 do
                        for c in 0 .. channels - 1 do
                            let yi = offset outDims (Array.ofList (b :: pos @ [ f ]))

                            out[yi] <-
                                out[yi]
                                + x.Data[offset x.Dims (Array.ofList (b :: o @ [ c ]))]
                                  * kernel.Data[offset kernel.Dims (Array.ofList (j @ [ f; c ]))]

    match bias with
    | Some bs -> out |> Array.iteri (fun i v -> out[i] <- v + bs[i % filters])
    | None -> ()

    { Dims = outDims; Data = out }

/// A depthwise kernel (...k, channels, multiplier) as the equivalent grouped kernel (...k, 1, channels·multiplier):
/// output channel c·multiplier + m reads input channel c through kernel[..., c, m].
let private depthwiseAsGrouped (kernel: Arr) =
    let rank = kernel.Dims.Length - 2
    let channels, multiplier = kernel.Dims[rank], kernel.Dims[rank + 1]
    let dims = Array.append kernel.Dims[0 .. rank - 1] [| 1; channels * multiplier |]
    let data = Array.zeroCreate kernel.Data.Length

    for j in indices (List.ofArray kernel.Dims[0 .. rank - 1]) do
        for c in 0 .. channels - 1 do
            for m in 0 .. multiplier - 1 do
                data[offset dims (Array.ofList (j @ [ 0; c * multiplier + m ]))] <-
                    kernel.Data[offset kernel.Dims (Array.ofList (j @ [ c; m ]))]

    { Dims = dims; Data = data }

/// Builds the layer on the input's shape, sets random weights, and returns the layer's output and its weights.
let private runWithRandomWeights (layer: Layer) (x: torch.Tensor) =
    layer.Call(sym (x.shape |> Array.map (int >> Some) |> List.ofArray)) |> ignore
    let weights = Layer.weights layer |> List.map (fun w -> torch.randn w.Value.shape)
    Layer.setWeights layer weights
    eager layer x, weights

/// dL/dx for L = Σ refConv(x)·r: each output r[b, o, f] sends r · kernel[j, c, f] back to the input position
/// o·s + j·d - padStart and channel g·cpg + c that refConv read; inDims is the input's shape.
let private refConvInputGrad
    (r: Arr)
    (kernel: Arr)
    (strides: int[])
    (dilation: int[])
    (padStart: int[])
    (inDims: int[])
    (groups: int)
    =
    let rank = strides.Length
    let taps = kernel.Dims[0 .. rank - 1]
    let channelsPerGroup = kernel.Dims[rank]
    let filters = kernel.Dims[rank + 1]
    let filtersPerGroup = filters / groups
    let dx = Array.zeroCreate (Array.reduce (*) inDims)

    for b in 0 .. inDims[0] - 1 do
        for o in indices (List.ofArray r.Dims[1..rank]) do
            for f in 0 .. filters - 1 do
                let g = f / filtersPerGroup
                let rv = r.Data[offset r.Dims (Array.ofList (b :: o @ [ f ]))]

                for j in indices (List.ofArray taps) do
                    let pos =
                        List.init rank (fun i -> o[i] * strides[i] + j[i] * dilation[i] - padStart[i])

                    if pos |> List.forall2 (fun n p -> p >= 0 && p < n) (List.ofArray inDims[1..rank]) then
                        for c in 0 .. channelsPerGroup - 1 do
                            let xi = offset inDims (Array.ofList (b :: pos @ [ g * channelsPerGroup + c ]))
                            let ki = offset kernel.Dims (Array.ofList (j @ [ c; f ]))
                            dx[xi] <- dx[xi] + rv * kernel.Data[ki]

    { Dims = inDims; Data = dx }

let private absArr (a: Arr) = { a with Data = Array.map abs a.Data }

/// Asserts values agree with a float64 reference within what float32 accumulation allows: each value is a sum of
/// at most <paramref name="terms"/> products, so its rounding error is below (terms + 2)·eps32·Σ|products|, where
/// <paramref name="magnitude"/> holds Σ|products| (the same reference computed on absolute values).
let private expectAccumulated (reference: Arr) (magnitude: Arr) (terms: int) (actual: torch.Tensor) message =
    Expect.equal (actual.shape |> Array.map int) reference.Dims $"{message}: shape"
    let eps32 = 1.1920929e-7
    let actualValues = values actual

    reference.Data
    |> Array.iteri (fun i e ->
        let bound = float (terms + 2) * eps32 * magnitude.Data[i] + 1e-30

        if abs (float actualValues[i] - e) > bound then
            failtestf "%s: element %d is %g, expected %g (float32 bound %g)" message i actualValues[i] e bound)

/// One convolution of a chain, with its geometry and where its kernel (Keras layout, grouped) and bias come from.
type private ConvStage =
    {
        Kernel: torch.Tensor list -> Arr
        Bias: torch.Tensor list -> float[] option
        Strides: int[]
        Dilation: int[]
        PadStart: int[]
        OutSizes: int[]
        Groups: int
    }

/// A channels_first tensor (batch, channels, ...spatial) copied into channels_last order.
let private channelsLastCopy (t: torch.Tensor) =
    let n = int64 (t.dim ())
    t.permute(Array.concat [ [| 0L |]; [| 2L .. n - 1L |]; [| 1L |] ]).contiguous()

/// Checks a layer's output and its gradient with respect to the input against plain loops over the chain of
/// convolutions it stands for, in either data format: L = Σ layer(x)·r for a random r.
let private checkAgainstChain (layer: Layer) (channelsFirst: bool) (inputShape: int64[]) (stages: ConvStage list) =
    let x0 = torch.randn inputShape
    let _, weights = runWithRandomWeights layer x0
    let x = x0.clone().requires_grad_ true
    let y = eager layer x
    let r = torch.randn y.shape
    y.mul(r).sum().backward()

    let inKeras t =
        if channelsFirst then channelsLastCopy t else t

    let xArr = arr (inKeras x0)

    let forward (absolute: bool) =
        stages
        |> List.fold
            (fun (input: Arr) stage ->
                let kernel, bias = stage.Kernel weights, stage.Bias weights

                let kernel, bias =
                    if absolute then
                        absArr kernel, bias |> Option.map (Array.map abs)
                    else
                        kernel, bias

                refConv input kernel bias stage.Strides stage.Dilation stage.PadStart stage.OutSizes stage.Groups)
            (if absolute then absArr xArr else xArr)

    // The input gradient runs the chain backwards; each stage's input shape is the previous stage's output.
    let inputDims =
        stages
        |> List.scan
            (fun (dims: int[]) stage ->
                Array.concat
                    [
                        [| dims[0] |]
                        stage.OutSizes
                        [| (stage.Kernel weights).Dims |> Array.last |]
                    ])
            xArr.Dims
        |> List.take stages.Length

    let backward (absolute: bool) =
        List.foldBack2
            (fun stage (dims: int[]) (grad: Arr) ->
                let kernel = stage.Kernel weights
                let kernel = if absolute then absArr kernel else kernel
                refConvInputGrad grad kernel stage.Strides stage.Dilation stage.PadStart dims stage.Groups)
            stages
            inputDims
            (let rArr = arr (inKeras r) in if absolute then absArr rArr else rArr)

    // Every value sums at most the product of each stage's taps and input channels per group, plus the bias.
    let terms =
        stages
        |> List.map (fun stage -> (stage.Kernel weights).Dims |> Array.rev |> Array.skip 1 |> Array.reduce (*))
        |> List.reduce (*)

    expectAccumulated (forward false) (forward true) (terms + 1) (inKeras (y.detach ())) $"{layer.ClassName} output"
    expectAccumulated (backward false) (backward true) terms (inKeras x.grad) $"{layer.ClassName} input gradient"

let private expectMatches (reference: Arr) (actual: torch.Tensor) message =
    Expect.equal (actual.shape |> Array.map int) reference.Dims $"{message}: shape"
    closeTo 1e-4f (reference.Data |> Array.map float32) (values actual) message

/// Checks a conv layer against refConv with the given padding before the input and output sizes.
let private checkConv (layer: Layer) (inputShape: int64[]) strides dilation padStart outSizes groups =
    let x = torch.randn inputShape
    let y, weights = runWithRandomWeights layer x

    let bias =
        if weights.Length > 1 then
            Some((arr weights[1]).Data)
        else
            None

    expectMatches (refConv (arr x) (arr weights[0]) bias strides dilation padStart outSizes groups) y layer.ClassName

/// Checks a transposed conv layer against refConvTranspose.
let private checkConvTranspose (layer: Layer) (inputShape: int64[]) strides dilation padStart outSizes =
    let x = torch.randn inputShape
    let y, weights = runWithRandomWeights layer x

    let bias =
        if weights.Length > 1 then
            Some((arr weights[1]).Data)
        else
            None

    expectMatches (refConvTranspose (arr x) (arr weights[0]) bias strides dilation padStart outSizes) y layer.ClassName

/// Sets the weights and runs the layer on a (1, n, 1) sequence.
let private run1d (layer: Layer) (xs: float32 list) (weights: torch.Tensor list) =
    let x = torch.tensor(Array.ofList xs).reshape(1L, int64 xs.Length, 1L)
    layer.Call(sym [ None; Some xs.Length; Some 1 ]) |> ignore
    Layer.setWeights layer weights
    values (eager layer x)

/// A (k, 1, 1) kernel from taps.
let private taps1d (ks: float32 list) =
    torch.tensor(Array.ofList ks).reshape(int64 ks.Length, 1L, 1L)

/// Checks a transposed convolution's output and input gradient (L = Σ layer(x)·r) against plain loops: the gradient
/// is the plain convolution of r with the same kernel, whose (...k, filters, channels) layout reads r's filters.
let private checkConvTransposeWithGradient (layer: Layer) (inputShape: int64[]) strides dilation padStart outSizes =
    let x0 = torch.randn inputShape
    let _, weights = runWithRandomWeights layer x0
    let x = x0.clone().requires_grad_ true
    let y = eager layer x
    let r = torch.randn y.shape
    y.mul(r).sum().backward()
    let kernel, bias = arr weights[0], (arr weights[1]).Data
    let rank = strides |> Array.length
    let taps = kernel.Dims[0 .. rank - 1] |> Array.reduce (*)
    let filters, channels = kernel.Dims[rank], kernel.Dims[rank + 1]

    let forward (k: Arr) (b: float[]) (input: Arr) =
        refConvTranspose input k (Some b) strides dilation padStart outSizes

    expectAccumulated
        (forward kernel bias (arr x0))
        (forward (absArr kernel) (Array.map abs bias) (absArr (arr x0)))
        (taps * channels + 1)
        (y.detach ())
        $"{layer.ClassName} output"

    let xSizes = inputShape[1..rank] |> Array.map int

    let backward (k: Arr) (rArr: Arr) =
        refConv rArr k None strides dilation padStart xSizes 1

    expectAccumulated
        (backward kernel (arr r))
        (backward (absArr kernel) (absArr (arr r)))
        (taps * filters)
        x.grad
        $"{layer.ClassName} input gradient"

// ---------------------------------------------------------------------------------------------------------------
// Gradients against central finite differences.

/// Compares autograd gradients of sum(layer(x) · r) with respect to the input and the kernel (the first weight)
/// with central differences. A tanh activation makes the function non-linear in both.
let private gradientCheck (layer: Layer) (inputShape: int64[]) =
    let x0 = torch.randn inputShape
    let y0, weights = runWithRandomWeights layer x0
    let r = torch.randn y0.shape

    let loss (x: torch.Tensor) =
        float ((eager layer x).mul(r).sum().item<float32>())

    let x = x0.clone().requires_grad_ true
    (eager layer x).mul(r).sum().backward()
    let kernel = (Layer.weights layer).Head.Value
    let gradX = values x.grad
    let gradK = values kernel.grad

    use _ = torch.no_grad ()
    let eps = 1e-2f

    let compare (analytic: float32[]) (numeric: int -> float) what =
        analytic
        |> Array.iteri (fun i a ->
            let n = numeric i

            if abs (float a - n) > 2e-3 + 1e-2 * abs n then
                failtestf "%s: gradient %d is %g by autograd, %g by finite differences" what i a n)

    let xData = values x0

    let perturbX i (delta: float32) =
        let data = Array.copy xData
        data[i] <- data[i] + delta
        torch.tensor(data).reshape x0.shape

    compare gradX (fun i -> (loss (perturbX i eps) - loss (perturbX i -eps)) / (2.0 * float eps)) "d/dx"

    let kData = values weights.Head

    let lossWithKernel i (delta: float32) =
        let data = Array.copy kData
        data[i] <- data[i] + delta
        Layer.setWeights layer (torch.tensor(data).reshape weights.Head.shape :: weights.Tail)
        loss x0

    compare gradK (fun i -> (lossWithKernel i eps - lossWithKernel i -eps) / (2.0 * float eps)) "d/dkernel"

// ---------------------------------------------------------------------------------------------------------------
// FsCheck: symbolic and eager shapes agree for random Conv2D geometries.

type private Conv2DCase =
    {
        Height: int
        Width: int
        Channels: int
        Filters: int
        Kernel: int * int
        Strides: int * int
        Dilation: int * int
        Padding: string
    }

let private conv2DCases =
    gen {
        let! height = Gen.choose (1, 12)
        let! width = Gen.choose (1, 12)
        let! channels = Gen.choose (1, 3)
        let! filters = Gen.choose (1, 3)
        let! kernel = Gen.zip (Gen.choose (1, 5)) (Gen.choose (1, 5))
        let! strides = Gen.zip (Gen.choose (1, 3)) (Gen.choose (1, 3))
        let! dilation = Gen.zip (Gen.choose (1, 3)) (Gen.choose (1, 3))
        let! padding = Gen.elements [ "valid"; "same" ]

        return
            {
                Height = height
                Width = width
                Channels = channels
                Filters = filters
                Kernel = kernel
                Strides = strides
                // Keras allows dilation > 1 only with unit strides.
                Dilation = (if strides = (1, 1) then dilation else (1, 1))
                Padding = padding
            }
    }

let private symbolicMatchesEager (case: Conv2DCase) =
    let (kh, kw), (sh, sw), (dh, dw) = case.Kernel, case.Strides, case.Dilation

    let layer =
        conv2d
            { conv2 case.Filters [ kh; kw ] with
                Strides = [ sh; sw ]
                DilationRate = [ dh; dw ]
                Padding = case.Padding
            }
            None

    let expected =
        if case.Padding = "same" then
            Some(fst (same case.Height kh sh dh), fst (same case.Width kw sw dw))
        else
            let h, w = valid case.Height kh sh dh, valid case.Width kw sw dw
            if h > 0 && w > 0 then Some(h, w) else None

    let x = torch.randn (2L, int64 case.Height, int64 case.Width, int64 case.Channels)

    match expected with
    | Some(h, w) ->
        let symbolic =
            layer.Call(sym [ None; Some case.Height; Some case.Width; Some case.Channels ])

        let result = eager layer x

        symbolic.Shape = [ None; Some h; Some w; Some case.Filters ]
        && (result.shape |> List.ofArray) = [ 2L; int64 h; int64 w; int64 case.Filters ]
    | None ->
        let fails action =
            try
                action () |> ignore
                false
            with :? KerasException as e ->
                e.Message.Contains "Computed output size would be zero or negative."

        fails (fun () -> layer.Call(sym [ None; Some case.Height; Some case.Width; Some case.Channels ]))
        && fails (fun () -> eager layer x)

[<Tests>]
let tests =
    testList
        "Convolution"
        [
            // predict keeps each kernel in libtorch's layout for the whole call (DerivedWeights); eager calls use views
            // of the Keras kernel. Both must agree, and a later predict must follow new weights.
            testList
                "predict's kept kernels"
                [
                    for rank in [ 1; 2; 3 ] do
                        for dataFormat in [ "channels_last"; "channels_first" ] do
                            test $"Conv{rank}D {dataFormat}: predict equals eager calls, before and after new weights" {
                                torch.manual_seed 71L |> ignore
                                let spatial = List.replicate rank 5
                                let shape = if dataFormat = "channels_last" then spatial @ [ 6 ] else 6 :: spatial

                                let layer =
                                    match rank with
                                    | 1 -> Layers.Conv1D(4, 3, padding = "same", dataFormat = dataFormat)
                                    | 2 -> Layers.Conv2D(4, 3, padding = "same", dataFormat = dataFormat)
                                    | _ -> Layers.Conv3D(4, 3, padding = "same", dataFormat = dataFormat)

                                let inputs = Keras.Input(shape = shape)
                                let model = Keras.Model(inputs, Layer.call layer inputs)
                                let x = torch.randn (Array.ofList (3L :: (shape |> List.map int64)))

                                let agree what =
                                    let eager = Model.callEager model false [ x ] |> List.exactlyOne
                                    let predicted = model.Predict(x, batchSize = 2)
                                    closeTo 1e-5f (values eager) (values predicted) what

                                agree "first weights"

                                model.SetWeights(
                                    model.GetWeights() |> List.map (fun w -> torch.randn(w.shape).mul (0.3f.ToScalar()))
                                )

                                agree "new weights"
                            }
                ]

            testList
                "run_layer_test"
                [
                    test "Conv1D valid" {
                        runLayerTest
                            (conv1d (conv2 32 [ 3 ]) None)
                            [ [ None; Some 10; Some 5 ] ]
                            [ None; Some 8; Some 32 ]
                            2
                    }
                    test "Conv1D same with strides" {
                        runLayerTest
                            (conv1d
                                { conv2 4 [ 3 ] with
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None)
                            [ [ None; Some 9; Some 2 ] ]
                            [ None; Some 5; Some 4 ]
                            2
                    }
                    test "Conv1D causal with dilation" {
                        runLayerTest
                            (conv1d
                                { conv2 4 [ 3 ] with
                                    Padding = "causal"
                                    DilationRate = [ 2 ]
                                }
                                None)
                            [ [ None; Some 9; Some 2 ] ]
                            [ None; Some 9; Some 4 ]
                            2
                    }
                    test "Conv1D valid with dilation" {
                        runLayerTest
                            (conv1d
                                { conv2 4 [ 3 ] with
                                    DilationRate = [ 3 ]
                                }
                                None)
                            [ [ None; Some 10; Some 2 ] ]
                            [ None; Some 4; Some 4 ]
                            2
                    }
                    test "Conv2D valid" {
                        runLayerTest
                            (conv2d (conv2 16 [ 3 ]) None)
                            [ [ None; Some 28; Some 28; Some 1 ] ]
                            [ None; Some 26; Some 26; Some 16 ]
                            2
                    }
                    test "Conv2D same with strides" {
                        runLayerTest
                            (conv2d
                                { conv2 8 [ 3 ] with
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None)
                            [ [ None; Some 7; Some 8; Some 3 ] ]
                            [ None; Some 4; Some 4; Some 8 ]
                            2
                    }
                    test "Conv2D valid with strides and a rectangular kernel" {
                        runLayerTest
                            (conv2d
                                { conv2 8 [ 3; 2 ] with
                                    Strides = [ 2; 3 ]
                                }
                                None)
                            [ [ None; Some 9; Some 10; Some 3 ] ]
                            [ None; Some 4; Some 3; Some 8 ]
                            2
                    }
                    test "Conv2D with dilation" {
                        runLayerTest
                            (conv2d
                                { conv2 5 [ 3 ] with
                                    DilationRate = [ 2 ]
                                }
                                None)
                            [ [ None; Some 9; Some 8; Some 2 ] ]
                            [ None; Some 5; Some 4; Some 5 ]
                            2
                    }
                    test "Conv2D with groups" {
                        runLayerTest
                            (conv2d { conv2 6 [ 3 ] with Groups = 2 } None)
                            [ [ None; Some 5; Some 5; Some 4 ] ]
                            [ None; Some 3; Some 3; Some 6 ]
                            2
                    }
                    test "Conv2D without bias" {
                        runLayerTest
                            (conv2d { conv2 4 [ 1 ] with UseBias = false } None)
                            [ [ None; Some 3; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 3; Some 4 ]
                            1
                    }
                    test "Conv2D with unknown spatial dims" {
                        runLayerTest
                            (conv2d { conv2 4 [ 3 ] with Padding = "same" } None)
                            [ [ None; None; Some 6; Some 3 ] ]
                            [ None; None; Some 6; Some 4 ]
                            2
                    }
                    test "Conv2D channels_first" {
                        runLayerTest
                            (conv2d
                                { conv2 4 [ 3 ] with
                                    DataFormat = "channels_first"
                                }
                                None)
                            [ [ None; Some 3; Some 6; Some 5 ] ]
                            [ None; Some 4; Some 4; Some 3 ]
                            2
                    }
                    test "Conv3D" {
                        runLayerTest
                            (conv3d
                                { conv2 4 [ 3; 2; 1 ] with
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None)
                            [ [ None; Some 5; Some 4; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 2; Some 2; Some 4 ]
                            2
                    }
                    test "Conv1DTranspose" {
                        runLayerTest
                            (conv1dTranspose (tconv 3 [ 4 ]) None)
                            [ [ None; Some 5; Some 2 ] ]
                            [ None; Some 8; Some 3 ]
                            2
                    }
                    test "Conv1DTranspose valid with stride above the kernel" {
                        // (5 - 1)·3 + max(2, 3) = 15
                        runLayerTest
                            (conv1dTranspose { tconv 3 [ 2 ] with Strides = [ 3 ] } None)
                            [ [ None; Some 5; Some 2 ] ]
                            [ None; Some 15; Some 3 ]
                            2
                    }
                    test "Conv2DTranspose valid" {
                        runLayerTest
                            (conv2dTranspose (tconv 16 [ 3 ]) None)
                            [ [ None; Some 7; Some 7; Some 1 ] ]
                            [ None; Some 9; Some 9; Some 16 ]
                            2
                    }
                    test "Conv2DTranspose same with strides" {
                        runLayerTest
                            (conv2dTranspose
                                { tconv 4 [ 3 ] with
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None)
                            [ [ None; Some 7; Some 5; Some 8 ] ]
                            [ None; Some 14; Some 10; Some 4 ]
                            2
                    }
                    test "Conv2DTranspose valid with output_padding" {
                        // (7 - 1)·2 + 3 + 1 = 16
                        runLayerTest
                            (conv2dTranspose
                                { tconv 4 [ 3 ] with
                                    Strides = [ 2 ]
                                    OutputPadding = Some [ 1 ]
                                }
                                None)
                            [ [ None; Some 7; Some 7; Some 2 ] ]
                            [ None; Some 16; Some 16; Some 4 ]
                            2
                    }
                    test "Conv2DTranspose same with output_padding" {
                        // (7 - 1)·3 + 3 % 2 + (2, 0) = (21, 19)
                        runLayerTest
                            (conv2dTranspose
                                { tconv 4 [ 3 ] with
                                    Strides = [ 3 ]
                                    Padding = "same"
                                    OutputPadding = Some [ 2; 0 ]
                                }
                                None)
                            [ [ None; Some 7; Some 7; Some 2 ] ]
                            [ None; Some 21; Some 19; Some 4 ]
                            2
                    }
                    test "Conv2DTranspose with unknown spatial dims" {
                        runLayerTest
                            (conv2dTranspose { tconv 4 [ 3 ] with Strides = [ 2 ] } None)
                            [ [ None; None; Some 4; Some 3 ] ]
                            [ None; None; Some 9; Some 4 ]
                            2
                    }
                    test "Conv3DTranspose" {
                        runLayerTest
                            (conv3dTranspose
                                { tconv 2 [ 2 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None)
                            [ [ None; Some 3; Some 2; Some 4; Some 3 ] ]
                            [ None; Some 6; Some 4; Some 8; Some 2 ]
                            2
                    }
                    test "DepthwiseConv2D" {
                        runLayerTest
                            (depthwiseConv2d
                                { DepthwiseConvConfig.Default [ 3 ] with
                                    DepthMultiplier = 2
                                }
                                None)
                            [ [ None; Some 5; Some 5; Some 3 ] ]
                            [ None; Some 3; Some 3; Some 6 ]
                            2
                    }
                    test "DepthwiseConv1D same" {
                        runLayerTest
                            (depthwiseConv1d
                                { DepthwiseConvConfig.Default [ 4 ] with
                                    Padding = "same"
                                }
                                None)
                            [ [ None; Some 6; Some 3 ] ]
                            [ None; Some 6; Some 3 ]
                            2
                    }
                    test "SeparableConv2D" {
                        runLayerTest
                            (separableConv2d
                                { SeparableConvConfig.Default(4, [ 3 ]) with
                                    DepthMultiplier = 2
                                }
                                None)
                            [ [ None; Some 5; Some 5; Some 3 ] ]
                            [ None; Some 3; Some 3; Some 4 ]
                            3
                    }
                    test "SeparableConv1D without bias" {
                        runLayerTest
                            (separableConv1d
                                { SeparableConvConfig.Default(4, [ 3 ]) with
                                    UseBias = false
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None)
                            [ [ None; Some 7; Some 2 ] ]
                            [ None; Some 4; Some 4 ]
                            2
                    }
                ]

            testList
                "parameter counts"
                [
                    test "the guide's encoder and decoder" {
                        let count (layer: Layer) (shape: Shape) =
                            layer.Call(sym shape) |> ignore
                            Layer.countParams layer

                        Expect.equal
                            (count (conv2d (conv2 16 [ 3 ]) None) [ None; Some 28; Some 28; Some 1 ])
                            160L
                            "Conv2D(16, 3) on 1 channel"

                        Expect.equal
                            (count (conv2d (conv2 32 [ 3 ]) None) [ None; Some 26; Some 26; Some 16 ])
                            4640L
                            "Conv2D(32, 3) on 16 channels"

                        Expect.equal
                            (count (conv2dTranspose (tconv 16 [ 3 ]) None) [ None; Some 4; Some 4; Some 1 ])
                            160L
                            "Conv2DTranspose(16, 3) on 1 channel"

                        Expect.equal
                            (count (conv2dTranspose (tconv 1 [ 3 ]) None) [ None; Some 6; Some 6; Some 16 ])
                            145L
                            "Conv2DTranspose(1, 3) on 16 channels"
                    }

                    test "weights keep Keras's names and layouts" {
                        let shapes (layer: Layer) (shape: Shape) =
                            layer.Call(sym shape) |> ignore
                            Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape |> List.ofArray)

                        Expect.equal
                            (shapes (conv2d { conv2 6 [ 3; 2 ] with Groups = 2 } None) [ None; Some 5; Some 5; Some 4 ])
                            [ "kernel", [ 3L; 2L; 2L; 6L ]; "bias", [ 6L ] ]
                            "Conv2D"

                        Expect.equal
                            (shapes (conv1d (conv2 32 [ 3 ]) None) [ None; Some 10; Some 5 ])
                            [ "kernel", [ 3L; 5L; 32L ]; "bias", [ 32L ] ]
                            "Conv1D"

                        Expect.equal
                            (shapes (conv3d (conv2 4 [ 2 ]) None) [ None; Some 3; Some 3; Some 3; Some 2 ])
                            [ "kernel", [ 2L; 2L; 2L; 2L; 4L ]; "bias", [ 4L ] ]
                            "Conv3D"

                        Expect.equal
                            (shapes (conv2dTranspose (tconv 4 [ 3 ]) None) [ None; Some 5; Some 5; Some 7 ])
                            [ "kernel", [ 3L; 3L; 4L; 7L ]; "bias", [ 4L ] ]
                            "Conv2DTranspose"

                        Expect.equal
                            (shapes
                                (depthwiseConv2d
                                    { DepthwiseConvConfig.Default [ 3 ] with
                                        DepthMultiplier = 2
                                    }
                                    None)
                                [ None; Some 5; Some 5; Some 3 ])
                            [ "kernel", [ 3L; 3L; 3L; 2L ]; "bias", [ 6L ] ]
                            "DepthwiseConv2D"

                        Expect.equal
                            (shapes
                                (separableConv2d
                                    { SeparableConvConfig.Default(4, [ 3 ]) with
                                        DepthMultiplier = 2
                                    }
                                    None)
                                [ None; Some 5; Some 5; Some 3 ])
                            [
                                "depthwise_kernel", [ 3L; 3L; 3L; 2L ]
                                "pointwise_kernel", [ 1L; 1L; 6L; 4L ]
                                "bias", [ 4L ]
                            ]
                            "SeparableConv2D"
                    }

                    test "DepthwiseConv2D and SeparableConv2D counts" {
                        let depthwise =
                            depthwiseConv2d
                                { DepthwiseConvConfig.Default [ 3 ] with
                                    DepthMultiplier = 2
                                }
                                None

                        depthwise.Call(sym [ None; Some 5; Some 5; Some 3 ]) |> ignore
                        Expect.equal (Layer.countParams depthwise) (3L * 3L * 3L * 2L + 6L) "depthwise 54 + bias 6"

                        let separable =
                            separableConv2d
                                { SeparableConvConfig.Default(4, [ 3 ]) with
                                    DepthMultiplier = 2
                                }
                                None

                        separable.Call(sym [ None; Some 5; Some 5; Some 3 ]) |> ignore

                        Expect.equal
                            (Layer.countParams separable)
                            (54L + 24L + 4L)
                            "depthwise 54 + pointwise 24 + bias 4"
                    }

                    test "Conv1D(32, 3) on batch_shape (16, 10, 5)" {
                        let layer = conv1d (conv2 32 [ 3 ]) None
                        let out = layer.Call(sym [ Some 16; Some 10; Some 5 ])
                        Expect.equal out.Shape [ Some 16; Some 8; Some 32 ] "symbolic"
                        Expect.equal (eager layer (torch.randn (16L, 10L, 5L))).shape [| 16L; 8L; 32L |] "eager"
                        Expect.equal (Layer.countParams layer) (3L * 5L * 32L + 32L) "params"
                    }

                    test "automatic names and config follow Keras" {
                        let layer =
                            conv2dTranspose
                                { tconv 4 [ 3; 2 ] with
                                    Strides = [ 2 ]
                                    Padding = "SAME"
                                }
                                None

                        Expect.stringStarts layer.Name "conv2d_transpose" "snake_case name"

                        Expect.stringStarts
                            ((separableConv2d (SeparableConvConfig.Default(2, [ 3 ])) None).Name)
                            "separable_conv2d"
                            "snake_case name"

                        Expect.stringStarts
                            ((depthwiseConv2d (DepthwiseConvConfig.Default [ 3 ]) None).Name)
                            "depthwise_conv2d"
                            "snake_case name"

                        let config = Layer.getConfig layer
                        Expect.equal (config["kernel_size"].ToJsonString()) "[3,2]" "kernel_size as a pair"
                        Expect.equal (config["strides"].ToJsonString()) "[2,2]" "strides standardized"
                        Expect.equal (config["padding"].ToJsonString()) "\"same\"" "padding lowercased"
                        Expect.equal (config["data_format"].ToJsonString()) "\"channels_last\"" "data_format"
                        let conv = Layer.getConfig (conv2d (conv2 4 [ 3 ]) None)
                        Expect.equal (conv["groups"].ToJsonString()) "1" "groups"
                        let initializer = conv["kernel_initializer"]
                        Expect.equal (initializer["class_name"].ToJsonString()) "\"GlorotUniform\"" "glorot_uniform"
                    }
                ]

            test "Create takes Keras-style arguments: an int or a tuple per axis, activation names" {
                let config =
                    ConvConfig.Create(16, (3, 5), strides = 2, padding = "same", activation = "relu")

                Expect.equal
                    config
                    { ConvConfig.Default(16, [ 3; 5 ]) with
                        Strides = [ 2 ]
                        Padding = "same"
                        Activation = Relu
                    }
                    "Conv config"

                let layer = conv2d config None
                let out = layer.Call(sym [ None; Some 9; Some 9; Some 2 ])
                Expect.equal out.Shape [ None; Some 5; Some 5; Some 16 ] "(3, 5) kernel, stride 2, same"

                let transposed =
                    ConvTransposeConfig.Create(4, 3, strides = (2, 1), outputPadding = (1, 0))

                Expect.equal transposed.OutputPadding (Some [ 1; 0 ]) "output padding"
                Expect.equal transposed.Strides [ 2; 1 ] "strides"
                Expect.equal (DepthwiseConvConfig.Create(3, depthMultiplier = 2)).DepthMultiplier 2 "depth multiplier"
                let separable = SeparableConvConfig.Create(8, 3, dilationRate = 2, useBias = false)
                Expect.equal (separable.DilationRate, separable.UseBias) ([ 2 ], false) "separable"
            }

            testList
                "forward values"
                [
                    test "Conv1D same with an even kernel and stride 2 pads the extra unit at the end" {
                        // total padding (2 - 1)·2 + 2 - 3 = 1, at the end: [1, 2 | 3, 0] · [1, 10] = [21, 3]
                        // (padding at the start would give [0, 1 | 2, 3] → [10, 32]).
                        let layer =
                            conv1d
                                { conv2 1 [ 2 ] with
                                    Padding = "same"
                                    Strides = [ 2 ]
                                }
                                None

                        closeTo
                            1e-6f
                            [| 21.f; 3.f |]
                            (run1d layer [ 1.f; 2.f; 3.f ] [ taps1d [ 1.f; 10.f ]; torch.zeros [| 1L |] ])
                            "same, stride 2"
                    }

                    test "Conv1D causal only looks back" {
                        // y[t] = 1·x[t - 2] + 10·x[t] with dilation 2 + bias 0.5
                        let layer =
                            conv1d
                                { conv2 1 [ 2 ] with
                                    Padding = "causal"
                                    DilationRate = [ 2 ]
                                }
                                None

                        let y =
                            run1d layer [ 1.f; 2.f; 3.f; 4.f ] [ taps1d [ 1.f; 10.f ]; torch.tensor [| 0.5f |] ]

                        closeTo 1e-5f [| 10.5f; 20.5f; 31.5f; 42.5f |] y "causal, dilation 2"
                    }

                    test "Conv1DTranspose valid and same by hand" {
                        // full transposed conv of [1, 2] with [1, 10, 100], stride 2: [1, 10, 102, 20, 200]
                        let validLayer = conv1dTranspose { tconv 1 [ 3 ] with Strides = [ 2 ] } None

                        closeTo
                            1e-4f
                            [| 1.f; 10.f; 102.f; 20.f; 200.f |]
                            (run1d validLayer [ 1.f; 2.f ] [ taps1d [ 1.f; 10.f; 100.f ]; torch.zeros [| 1L |] ])
                            "valid"
                        // "same": n·s = 4 values, nothing dropped at the start
                        let sameLayer =
                            conv1dTranspose
                                { tconv 1 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        closeTo
                            1e-4f
                            [| 1.f; 10.f; 102.f; 20.f |]
                            (run1d sameLayer [ 1.f; 2.f ] [ taps1d [ 1.f; 10.f; 100.f ]; torch.zeros [| 1L |] ])
                            "same"
                        // stride 3 above kernel 2: (2 - 1)·3 + 3 = 6 values, the last one only the bias
                        let wide = conv1dTranspose { tconv 1 [ 2 ] with Strides = [ 3 ] } None

                        closeTo
                            1e-5f
                            [| 1.5f; 10.5f; 0.5f; 2.5f; 20.5f; 0.5f |]
                            (run1d wide [ 1.f; 2.f ] [ taps1d [ 1.f; 10.f ]; torch.tensor [| 0.5f |] ])
                            "stride 3"
                    }

                    test "Conv2D valid, strides, rectangular kernel" {
                        let layer =
                            conv2d
                                { conv2 3 [ 3; 2 ] with
                                    Strides = [ 2; 1 ]
                                }
                                None

                        checkConv
                            layer
                            [| 2L; 7L; 6L; 3L |]
                            [| 2; 1 |]
                            [| 1; 1 |]
                            [| 0; 0 |]
                            [| valid 7 3 2 1; valid 6 2 1 1 |]
                            1
                    }

                    test "Conv2D same with an even kernel and stride 2" {
                        let layer =
                            conv2d
                                { conv2 3 [ 2; 4 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let (oh, ph), (ow, pw) = same 7 2 2 1, same 8 4 2 1
                        checkConv layer [| 2L; 7L; 8L; 2L |] [| 2; 2 |] [| 1; 1 |] [| ph; pw |] [| oh; ow |] 1
                    }

                    test "Conv2D same, odd kernel, stride 2 on an even size (asymmetric padding)" {
                        let layer =
                            conv2d
                                { conv2 2 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let (oh, ph), (ow, pw) = same 6 3 2 1, same 5 3 2 1
                        checkConv layer [| 1L; 6L; 5L; 2L |] [| 2; 2 |] [| 1; 1 |] [| ph; pw |] [| oh; ow |] 1
                    }

                    test "Conv2D with dilation, valid and same" {
                        let validLayer =
                            conv2d
                                { conv2 2 [ 3 ] with
                                    DilationRate = [ 2; 1 ]
                                }
                                None

                        checkConv
                            validLayer
                            [| 2L; 8L; 6L; 2L |]
                            [| 1; 1 |]
                            [| 2; 1 |]
                            [| 0; 0 |]
                            [| valid 8 3 1 2; valid 6 3 1 1 |]
                            1

                        let sameLayer =
                            conv2d
                                { conv2 2 [ 2; 3 ] with
                                    DilationRate = [ 3; 2 ]
                                    Padding = "same"
                                }
                                None

                        let (oh, ph), (ow, pw) = same 6 2 1 3, same 7 3 1 2
                        checkConv sameLayer [| 1L; 6L; 7L; 3L |] [| 1; 1 |] [| 3; 2 |] [| ph; pw |] [| oh; ow |] 1
                    }

                    test "Conv2D with groups" {
                        let layer =
                            conv2d
                                { conv2 6 [ 3 ] with
                                    Groups = 3
                                    Padding = "same"
                                }
                                None

                        checkConv layer [| 2L; 5L; 4L; 6L |] [| 1; 1 |] [| 1; 1 |] [| 1; 1 |] [| 5; 4 |] 3
                    }

                    test "Conv2D channels_first equals channels_last on the permuted input" {
                        let last =
                            conv2d
                                { conv2 3 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let x = torch.randn (2L, 6L, 5L, 2L)
                        let y, weights = runWithRandomWeights last x

                        let first =
                            conv2d
                                { conv2 3 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                    DataFormat = "channels_first"
                                }
                                None

                        let xFirst = x.permute(0L, 3L, 1L, 2L).contiguous()
                        first.Call(sym [ None; Some 2; Some 6; Some 5 ]) |> ignore
                        Layer.setWeights first weights

                        closeTo
                            1e-5f
                            (values y)
                            (values ((eager first xFirst).permute(0L, 2L, 3L, 1L)))
                            "channels_first"
                    }

                    test "Conv1D causal, strides and groups against the reference" {
                        let layer =
                            conv1d
                                { conv2 4 [ 3 ] with
                                    Padding = "causal"
                                    Groups = 2
                                    DilationRate = [ 2 ]
                                }
                                None

                        checkConv layer [| 2L; 7L; 4L |] [| 1 |] [| 2 |] [| 4 |] [| 7 |] 2

                        let strided =
                            conv1d
                                { conv2 3 [ 4 ] with
                                    Padding = "same"
                                    Strides = [ 3 ]
                                }
                                None

                        let o, p = same 8 4 3 1
                        checkConv strided [| 2L; 8L; 2L |] [| 3 |] [| 1 |] [| p |] [| o |] 1
                    }

                    test "Conv3D same with stride 2" {
                        let layer =
                            conv3d
                                { conv2 2 [ 2; 3; 1 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let (o1, p1), (o2, p2), (o3, p3) = same 5 2 2 1, same 4 3 2 1, same 3 1 2 1

                        checkConv
                            layer
                            [| 1L; 5L; 4L; 3L; 2L |]
                            [| 2; 2; 2 |]
                            [| 1; 1; 1 |]
                            [| p1; p2; p3 |]
                            [| o1; o2; o3 |]
                            1
                    }

                    test "Conv2DTranspose valid and same with strides" {
                        let validLayer =
                            conv2dTranspose
                                { tconv 3 [ 3; 2 ] with
                                    Strides = [ 2 ]
                                }
                                None
                        // valid: (n - 1)·s + max(k, s); nothing dropped at the start
                        checkConvTranspose validLayer [| 2L; 3L; 4L; 2L |] [| 2; 2 |] [| 1; 1 |] [| 0; 0 |] [| 7; 8 |]

                        let sameLayer =
                            conv2dTranspose
                                { tconv 2 [ 3; 4 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None
                        // same: n·s, starting max((n - 1)·s + k - n·s, 0) / 2 into the full output
                        checkConvTranspose sameLayer [| 2L; 3L; 4L; 2L |] [| 2; 2 |] [| 1; 1 |] [| 0; 1 |] [| 6; 8 |]
                    }

                    test "Conv2DTranspose stride 1 same, and dilation" {
                        let sameLayer =
                            conv2dTranspose
                                { tconv 2 [ 3; 2 ] with
                                    Padding = "same"
                                }
                                None

                        checkConvTranspose sameLayer [| 1L; 4L; 5L; 3L |] [| 1; 1 |] [| 1; 1 |] [| 1; 0 |] [| 4; 5 |]

                        let dilated =
                            conv2dTranspose
                                { tconv 2 [ 3 ] with
                                    DilationRate = [ 2; 1 ]
                                }
                                None

                        checkConvTranspose dilated [| 1L; 3L; 3L; 2L |] [| 1; 1 |] [| 2; 1 |] [| 0; 0 |] [| 7; 5 |]
                    }

                    test "Conv2DTranspose with output_padding" {
                        // valid, stride 2, kernel 3, output_padding 1: (n - 1)·2 + 3 + 1, one extra row of bias at the end
                        let validLayer =
                            conv2dTranspose
                                { tconv 2 [ 3 ] with
                                    Strides = [ 2 ]
                                    OutputPadding = Some [ 1 ]
                                }
                                None

                        checkConvTranspose validLayer [| 1L; 3L; 2L; 2L |] [| 2; 2 |] [| 1; 1 |] [| 0; 0 |] [| 8; 6 |]
                        // same, stride 3, kernel (4, 3), output_padding (2, 1): size (n - 1)·3 + k % 2 + op,
                        // start (k - k % 2 - op) / 2
                        let sameLayer =
                            conv2dTranspose
                                { tconv 2 [ 4; 3 ] with
                                    Strides = [ 3 ]
                                    Padding = "same"
                                    OutputPadding = Some [ 2; 1 ]
                                }
                                None

                        checkConvTranspose sameLayer [| 2L; 3L; 2L; 2L |] [| 3; 3 |] [| 1; 1 |] [| 1; 0 |] [| 8; 5 |]
                        // same, stride 2, kernel 3, output_padding 0: (n - 1)·2 + 1, start 1
                        let odd =
                            conv2dTranspose
                                { tconv 1 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                    OutputPadding = Some [ 0 ]
                                }
                                None

                        checkConvTranspose odd [| 1L; 4L; 3L; 2L |] [| 2; 2 |] [| 1; 1 |] [| 1; 1 |] [| 7; 5 |]
                    }

                    test "Conv1DTranspose and Conv3DTranspose against the reference" {
                        let oneD =
                            conv1dTranspose
                                { tconv 2 [ 5 ] with
                                    Strides = [ 3 ]
                                    Padding = "same"
                                }
                                None
                        // total (n - 1)·3 + 5 - n·3 = 2, start 1
                        checkConvTranspose oneD [| 2L; 4L; 3L |] [| 3 |] [| 1 |] [| 1 |] [| 12 |]

                        let threeD =
                            conv3dTranspose
                                { tconv 2 [ 2; 3; 1 ] with
                                    Strides = [ 2; 1; 2 ]
                                    Padding = "same"
                                }
                                None

                        checkConvTranspose
                            threeD
                            [| 1L; 2L; 3L; 2L; 2L |]
                            [| 2; 1; 2 |]
                            [| 1; 1; 1 |]
                            [| 0; 1; 0 |]
                            [| 4; 3; 4 |]
                    }

                    test "DepthwiseConv2D against the reference" {
                        let layer =
                            depthwiseConv2d
                                { DepthwiseConvConfig.Default [ 3; 2 ] with
                                    DepthMultiplier = 2
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let x = torch.randn (2L, 5L, 6L, 3L)
                        let y, weights = runWithRandomWeights layer x
                        let (oh, ph), (ow, pw) = same 5 3 2 1, same 6 2 2 1

                        let reference =
                            refConv
                                (arr x)
                                (depthwiseAsGrouped (arr weights[0]))
                                (Some((arr weights[1]).Data))
                                [| 2; 2 |]
                                [| 1; 1 |]
                                [| ph; pw |]
                                [| oh; ow |]
                                3

                        expectMatches reference y "DepthwiseConv2D"
                    }

                    test "SeparableConv2D is depthwise then pointwise then bias" {
                        let layer =
                            separableConv2d
                                { SeparableConvConfig.Default(4, [ 3 ]) with
                                    DepthMultiplier = 2
                                    DilationRate = [ 2 ]
                                    Padding = "same"
                                }
                                None

                        let x = torch.randn (2L, 6L, 5L, 3L)
                        let y, weights = runWithRandomWeights layer x
                        let (oh, ph), (ow, pw) = same 6 3 1 2, same 5 3 1 2

                        let depthwise =
                            refConv
                                (arr x)
                                (depthwiseAsGrouped (arr weights[0]))
                                None
                                [| 1; 1 |]
                                [| 2; 2 |]
                                [| ph; pw |]
                                [| oh; ow |]
                                3

                        let reference =
                            refConv
                                depthwise
                                (arr weights[1])
                                (Some((arr weights[2]).Data))
                                [| 1; 1 |]
                                [| 1; 1 |]
                                [| 0; 0 |]
                                [| oh; ow |]
                                1

                        expectMatches reference y "SeparableConv2D"
                    }

                    test "activation and integer inputs" {
                        let layer = conv1d { conv2 1 [ 1 ] with Activation = Relu } None
                        layer.Call(sym [ None; Some 3; Some 1 ]) |> ignore
                        Layer.setWeights layer [ taps1d [ 2.f ]; torch.tensor [| -1.f |] ]
                        let y = eager layer (torch.tensor([| 0L; 1L; 3L |]).reshape(1L, 3L, 1L))
                        Expect.equal y.dtype torch.ScalarType.Float32 "float32 output"
                        closeTo 1e-6f [| 0.f; 1.f; 5.f |] (values y) "relu(2x - 1)"
                    }
                ]

            // oneDNN's AVX-512 kernel for these groups miscomputed channels_last inputs (issue 8): every case is checked
            // against plain loops, values and input gradients, in both data formats.
            testList
                "one input channel per group, on every CPU"
                [
                    let formats = [ false; true ]

                    let layoutOf channelsFirst =
                        if channelsFirst then "channels_first" else "channels_last"

                    /// The input shape in the layer's format, from its channels_last shape.
                    let inputShape channelsFirst (last: int64 list) =
                        if channelsFirst then
                            (last.Head
                             :: List.last last
                             :: (last |> List.tail |> List.take (last.Length - 2)))
                            |> Array.ofList
                        else
                            Array.ofList last

                    let depthwiseStage rank index padStart outSizes channels strides =
                        {
                            Kernel = fun (w: torch.Tensor list) -> depthwiseAsGrouped (arr w[index])
                            Bias = fun _ -> None
                            Strides = strides
                            Dilation = Array.create rank 1
                            PadStart = padStart
                            OutSizes = outSizes
                            Groups = channels
                        }

                    for channelsFirst in formats do
                        for multiplier in [ 2; 3 ] do
                            test $"DepthwiseConv1D, multiplier {multiplier}, {layoutOf channelsFirst}" {
                                let layer =
                                    depthwiseConv1d
                                        { DepthwiseConvConfig.Default [ 3 ] with
                                            DepthMultiplier = multiplier
                                            Padding = "same"
                                            DataFormat = layoutOf channelsFirst
                                        }
                                        None

                                checkAgainstChain
                                    layer
                                    channelsFirst
                                    (inputShape channelsFirst [ 2L; 7L; 4L ])
                                    [
                                        { depthwiseStage 1 0 [| 1 |] [| 7 |] 4 [| 1 |] with
                                            Bias = fun w -> Some (arr w[1]).Data
                                        }
                                    ]
                            }

                            test $"DepthwiseConv2D, multiplier {multiplier}, {layoutOf channelsFirst}" {
                                let layer =
                                    depthwiseConv2d
                                        { DepthwiseConvConfig.Default [ 3 ] with
                                            DepthMultiplier = multiplier
                                            Strides = [ 2 ]
                                            Padding = "same"
                                            DataFormat = layoutOf channelsFirst
                                        }
                                        None

                                let (oh, ph), (ow, pw) = same 7 3 2 1, same 6 3 2 1

                                checkAgainstChain
                                    layer
                                    channelsFirst
                                    (inputShape channelsFirst [ 2L; 7L; 6L; 4L ])
                                    [
                                        { depthwiseStage 2 0 [| ph; pw |] [| oh; ow |] 4 [| 2; 2 |] with
                                            Bias = fun w -> Some (arr w[1]).Data
                                        }
                                    ]
                            }

                        test $"SeparableConv1D, multiplier 2, {layoutOf channelsFirst}" {
                            let layer =
                                separableConv1d
                                    { SeparableConvConfig.Default(5, [ 3 ]) with
                                        DepthMultiplier = 2
                                        Padding = "same"
                                        DataFormat = layoutOf channelsFirst
                                    }
                                    None

                            checkAgainstChain
                                layer
                                channelsFirst
                                (inputShape channelsFirst [ 2L; 8L; 3L ])
                                [
                                    depthwiseStage 1 0 [| 1 |] [| 8 |] 3 [| 1 |]
                                    {
                                        Kernel = fun w -> arr w[1]
                                        Bias = fun w -> Some (arr w[2]).Data
                                        Strides = [| 1 |]
                                        Dilation = [| 1 |]
                                        PadStart = [| 0 |]
                                        OutSizes = [| 8 |]
                                        Groups = 1
                                    }
                                ]
                        }

                        test $"SeparableConv2D, multiplier 3, {layoutOf channelsFirst}" {
                            let layer =
                                separableConv2d
                                    { SeparableConvConfig.Default(4, [ 3 ]) with
                                        DepthMultiplier = 3
                                        Padding = "same"
                                        DataFormat = layoutOf channelsFirst
                                    }
                                    None

                            checkAgainstChain
                                layer
                                channelsFirst
                                (inputShape channelsFirst [ 2L; 6L; 5L; 3L ])
                                [
                                    depthwiseStage 2 0 [| 1; 1 |] [| 6; 5 |] 3 [| 1; 1 |]
                                    {
                                        Kernel = fun w -> arr w[1]
                                        Bias = fun w -> Some (arr w[2]).Data
                                        Strides = [| 1; 1 |]
                                        Dilation = [| 1; 1 |]
                                        PadStart = [| 0; 0 |]
                                        OutSizes = [| 6; 5 |]
                                        Groups = 1
                                    }
                                ]
                        }

                        for rank in [ 2; 3 ] do
                            for multiplier in [ 2; 3 ] do
                                test
                                    $"Conv{rank}D, groups = channels, filters = {multiplier} × channels, {layoutOf channelsFirst}" {
                                    let channels = 4
                                    let spatial = List.take rank [ 6L; 5L; 4L ]

                                    let layer =
                                        (if rank = 2 then conv2d else conv3d)
                                            { conv2 (multiplier * channels) [ 3 ] with
                                                Groups = channels
                                                Padding = "same"
                                                DataFormat = layoutOf channelsFirst
                                            }
                                            None

                                    checkAgainstChain
                                        layer
                                        channelsFirst
                                        (inputShape channelsFirst ([ 2L ] @ spatial @ [ int64 channels ]))
                                        [
                                            {
                                                Kernel = fun w -> arr w[0]
                                                Bias = fun w -> Some (arr w[1]).Data
                                                Strides = Array.create rank 1
                                                Dilation = Array.create rank 1
                                                PadStart = Array.create rank 1
                                                OutSizes = spatial |> List.map int |> Array.ofList
                                                Groups = channels
                                            }
                                        ]
                                }
                ]

            // oneDNN's blocked kernels miscomputed channel counts that are not a multiple of 16 on some CPUs: input
            // gradients of ordinary convolutions (5 or 10 filters), forward values with 20 or 24 input channels, and
            // transposed convolutions reading 5 or 24 channels. Plain loops check values and input gradients.
            testList
                "channel counts off oneDNN's 16-channel block, on every CPU"
                [
                    let plainStage rank (padStart: int[]) (outSizes: int[]) (strides: int[]) =
                        {
                            Kernel = fun (w: torch.Tensor list) -> arr w[0]
                            Bias = fun w -> Some (arr w[1]).Data
                            Strides = strides
                            Dilation = Array.create rank 1
                            PadStart = padStart
                            OutSizes = outSizes
                            Groups = 1
                        }

                    test "Conv1D, 3 channels to 5 filters, same" {
                        checkAgainstChain
                            (conv1d { conv2 5 [ 3 ] with Padding = "same" } None)
                            false
                            [| 2L; 9L; 3L |]
                            [ plainStage 1 [| 1 |] [| 9 |] [| 1 |] ]
                    }

                    test "Conv2D, 24 channels to 24 filters, same, channels_first" {
                        checkAgainstChain
                            (conv2d
                                { conv2 24 [ 3 ] with
                                    Padding = "same"
                                    DataFormat = "channels_first"
                                }
                                None)
                            true
                            [| 1L; 24L; 15L; 14L |]
                            [ plainStage 2 [| 1; 1 |] [| 15; 14 |] [| 1; 1 |] ]
                    }

                    test "Conv2D, 20 channels to 10 filters, stride 2, channels_first" {
                        checkAgainstChain
                            (conv2d
                                { conv2 10 [ 3 ] with
                                    Strides = [ 2 ]
                                    DataFormat = "channels_first"
                                }
                                None)
                            true
                            [| 2L; 20L; 7L; 6L |]
                            [ plainStage 2 [| 0; 0 |] [| 3; 2 |] [| 2; 2 |] ]
                    }

                    test "Conv3D, 4 channels to 5 filters, same" {
                        checkAgainstChain
                            (conv3d { conv2 5 [ 3 ] with Padding = "same" } None)
                            false
                            [| 1L; 5L; 4L; 4L; 4L |]
                            [ plainStage 3 [| 1; 1; 1 |] [| 5; 4; 4 |] [| 1; 1; 1 |] ]
                    }

                    test "Conv1DTranspose, 5 channels to 4 filters" {
                        checkConvTransposeWithGradient
                            (conv1dTranspose (tconv 4 [ 3 ]) None)
                            [| 2L; 6L; 5L |]
                            [| 1 |]
                            [| 1 |]
                            [| 0 |]
                            [| 8 |]
                    }

                    test "Conv2DTranspose, 24 channels to 20 filters, stride 2, same" {
                        // same: n·s, starting max((n - 1)·s + k - n·s, 0) / 2 = 0 into the full output
                        checkConvTransposeWithGradient
                            (conv2dTranspose
                                { tconv 20 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                }
                                None)
                            [| 2L; 4L; 3L; 24L |]
                            [| 2; 2 |]
                            [| 1; 1 |]
                            [| 0; 0 |]
                            [| 8; 6 |]
                    }

                    test "Conv3DTranspose, 3 channels to 1 filter" {
                        checkConvTransposeWithGradient
                            (conv3dTranspose (tconv 1 [ 2 ]) None)
                            [| 1L; 3L; 4L; 3L; 3L |]
                            [| 1; 1; 1 |]
                            [| 1; 1; 1 |]
                            [| 0; 0; 0 |]
                            [| 4; 5; 4 |]
                    }
                ]

            testList
                "gradients"
                [
                    test "Conv2D: input and kernel gradients match finite differences" {
                        gradientCheck
                            (conv2d
                                { conv2 3 [ 3; 2 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                    Activation = Tanh
                                }
                                None)
                            [| 1L; 5L; 4L; 2L |]
                    }
                    test "Conv2DTranspose: input and kernel gradients match finite differences" {
                        gradientCheck
                            (conv2dTranspose
                                { tconv 2 [ 3 ] with
                                    Strides = [ 2 ]
                                    Padding = "same"
                                    Activation = Tanh
                                }
                                None)
                            [| 1L; 3L; 3L; 2L |]
                    }
                ]

            testList
                "errors"
                [
                    test "Conv2D on a rank-3 input" {
                        throwsKeras
                            [
                                "Input 0 of layer"
                                "expected min_ndim=4, found ndim=3. Full shape received: (None, 28, 28)"
                            ]
                            (fun () -> (conv2d (conv2 16 [ 3 ]) None).Call(sym [ None; Some 28; Some 28 ]))
                    }

                    test "Conv2D on a rank-5 input" {
                        throwsKeras
                            [
                                "Kernel shape must have the same length as input."
                                "kernel of shape (3, 3, 1, 16) and input of shape (None, 4, 4, 4, 1)"
                            ]
                            (fun () ->
                                (conv2d (conv2 16 [ 3 ]) None).Call(sym [ None; Some 4; Some 4; Some 4; Some 1 ]))
                    }

                    test "a kernel larger than a valid input" {
                        let expected =
                            [
                                "(Conv2D): Computed output size would be zero or negative."
                                "`inputs shape=(None, 2, 5, 1)`, `kernel shape=(3, 3, 1, 16)`, `dilation_rate=[1 1]`, `strides=(1, 1)`, `padding=valid`."
                            ]

                        throwsKeras expected (fun () ->
                            (conv2d (conv2 16 [ 3 ]) None).Call(sym [ None; Some 2; Some 5; Some 1 ]))

                        throwsKeras [ "`inputs shape=(1, 2, 5, 1)`, `kernel shape=(3, 3, 1, 16)`" ] (fun () ->
                            eager (conv2d (conv2 16 [ 3 ]) None) (torch.randn [| 1L; 2L; 5L; 1L |]))

                        throwsKeras [ "Computed output size would be zero or negative." ] (fun () ->
                            (conv1d
                                { conv2 2 [ 3 ] with
                                    DilationRate = [ 3 ]
                                }
                                None)
                                .Call(sym [ None; Some 6; Some 1 ]))
                    }

                    test "channels not divisible by groups" {
                        throwsKeras
                            [
                                "The number of input channels must be evenly divisible by the number of groups."
                                "groups=2, but the input has 3 channels (full input shape is (None, 5, 5, 3))"
                            ]
                            (fun () ->
                                (conv2d { conv2 4 [ 3 ] with Groups = 2 } None)
                                    .Call(sym [ None; Some 5; Some 5; Some 3 ]))
                    }

                    test "filters not divisible by groups, and other invalid arguments" {
                        throwsKeras
                            [
                                "The number of filters must be evenly divisible by the number of groups."
                                "groups=2, filters=5"
                            ]
                            (fun () -> conv2d { conv2 5 [ 3 ] with Groups = 2 } None)

                        throwsKeras
                            [
                                "Invalid value for argument `filters`"
                                "Expected a strictly positive value."
                                "filters=0"
                            ]
                            (fun () -> conv2d (conv2 0 [ 3 ]) None)

                        throwsKeras
                            [ "`strides > 1` not supported in conjunction with `dilation_rate > 1`." ]
                            (fun () ->
                                conv2d
                                    { conv2 2 [ 3 ] with
                                        Strides = [ 2 ]
                                        DilationRate = [ 2 ]
                                    }
                                    None)

                        throwsKeras
                            [ "The `padding` argument must be one of {'valid', 'same'}."; "padding=causal" ]
                            (fun () ->
                                conv2d
                                    { conv2 2 [ 3 ] with
                                        Padding = "causal"
                                    }
                                    None)

                        throwsKeras
                            [
                                "The `kernel_size` argument must be a tuple of 2 integers."
                                "kernel_size=(3, 3, 3)"
                            ]
                            (fun () -> conv2d (conv2 2 [ 3; 3; 3 ]) None)

                        throwsKeras [ "including values {0} that do not satisfy `value > 0`" ] (fun () ->
                            conv2d
                                { conv2 2 [ 3 ] with
                                    Strides = [ 1; 0 ]
                                }
                                None)

                        throwsKeras
                            [
                                "`output_padding` must be < `strides`."
                                "output_padding=(1, 1), strides=(1, 1)"
                            ]
                            (fun () ->
                                conv2dTranspose
                                    { tconv 2 [ 3 ] with
                                        OutputPadding = Some [ 1 ]
                                    }
                                    None)

                        throwsKeras [ "depth_multiplier=0" ] (fun () ->
                            depthwiseConv2d
                                { DepthwiseConvConfig.Default [ 3 ] with
                                    DepthMultiplier = 0
                                }
                                None)

                        throwsKeras [ "The `data_format` argument must be one of" ] (fun () ->
                            conv2d
                                { conv2 2 [ 3 ] with
                                    DataFormat = "nhwc"
                                }
                                None)
                    }

                    test "a built layer rejects a different channel count" {
                        let layer = conv2d (conv2 4 [ 3 ]) None
                        layer.Call(sym [ None; Some 8; Some 8; Some 3 ]) |> ignore

                        throwsKeras
                            [
                                "expected axis -1 of input shape to have value 3, but received input with shape (None, 8, 8, 2)"
                            ]
                            (fun () -> layer.Call(sym [ None; Some 8; Some 8; Some 2 ]))
                    }

                    test "an unknown channel dimension" {
                        throwsKeras [ "The channel dimension of the inputs should be defined." ] (fun () ->
                            (conv2d (conv2 4 [ 3 ]) None).Call(sym [ None; Some 8; Some 8; None ]))
                    }
                ]

            testProperty
                "Conv2D: the symbolic output shape equals the eager one"
                (Prop.forAll (Arb.fromGen conv2DCases) symbolicMatchesEager)
        ]
