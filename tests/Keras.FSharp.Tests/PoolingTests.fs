/// Pooling and reshaping layers: Keras's output shapes, forward values against plain-loop references on
/// channels-last arrays, Keras's shape errors, and a property that symbolic and eager shapes agree.
module PoolingTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.PoolingLayers
open Keras.ReshapingLayers
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

/// Deterministic pseudo-random float32 values in [-1, 1).
let private randomArray (seed: int) (n: int) =
    let rng = Random(seed)
    Array.init n (fun _ -> float32 (rng.NextDouble() * 2.0 - 1.0))

let private product (dims: int[]) = Array.fold (*) 1 dims

/// A float32 tensor with these values and this shape.
let private tensorOf (dims: int[]) (data: float32[]) =
    Native.NativeLoader.ensureLoaded ()
    torch.tensor(data).reshape(dims |> Array.map int64)

let private dimsOf (t: torch.Tensor) = t.shape |> Array.map int

/// Row-major strides of a shape.
let private stridesOf (dims: int[]) =
    Array.init dims.Length (fun i -> product dims[i + 1 ..])

/// Every multi-index of a shape, in row-major order.
let rec private cells (dims: int list) : int list list =
    match dims with
    | [] -> [ [] ]
    | n :: rest ->
        [
            for i in 0 .. n - 1 do
                for r in cells rest -> i :: r
        ]

let private offset (strides: int[]) (index: int list) =
    index |> List.mapi (fun i v -> v * strides[i]) |> List.sum

/// Reference windowed pooling by plain loops over a channels-last array (batch, ...spatial, channels). With "same",
/// out = ceil(in / stride) and floor(total / 2) padding cells go before the input, the rest after; each window
/// looks only at its cells inside the input (the max or mean of those).
let private refPool (isMax: bool) (same: bool) (pool: int[]) (strides: int[]) (shape: int[]) (x: float32[]) =
    let d = pool.Length
    let spatial = shape[1..d]

    let outs, befores =
        Array.init d (fun i ->
            let n, k, s = spatial[i], pool[i], strides[i]

            if same then
                let o = (n + s - 1) / s
                o, max ((o - 1) * s + k - n) 0 / 2
            else
                (n - k) / s + 1, 0)
        |> Array.unzip

    let outShape = Array.concat [ [| shape[0] |]; outs; [| shape[d + 1] |] ]
    let inStrides = stridesOf shape
    let outStrides = stridesOf outShape
    let result = Array.zeroCreate (product outShape)

    for o in cells (List.ofArray outShape) do
        let b, c = o.Head, List.last o
        let spatialOut = o |> List.skip 1 |> List.take d

        let values =
            cells (List.ofArray pool)
            |> List.map (fun w -> List.mapi2 (fun i oi wi -> oi * strides[i] - befores[i] + wi) spatialOut w)
            |> List.filter (fun idx -> idx |> List.mapi (fun i v -> v >= 0 && v < spatial[i]) |> List.forall id)
            |> List.map (fun idx -> x[offset inStrides ((b :: idx) @ [ c ])])

        result[offset outStrides o] <- if isMax then List.max values else List.average values

    outShape, result

/// Reference global pooling: max or mean over every spatial cell, per sample and channel.
let private refGlobal (isMax: bool) (shape: int[]) (x: float32[]) =
    let batch, channels = shape[0], Array.last shape
    let inStrides = stridesOf shape
    let spatial = shape[1 .. shape.Length - 2] |> List.ofArray

    [|
        for b in 0 .. batch - 1 do
            for c in 0 .. channels - 1 do
                let values =
                    cells spatial |> List.map (fun idx -> x[offset inStrides ((b :: idx) @ [ c ])])

                if isMax then List.max values else List.average values
    |]

let private poolConfig (pool: int list) (strides: int list option) (padding: string) =
    {
        PoolSize = pool
        Strides = strides
        Padding = padding
    }

/// Runs a layer eagerly on one tensor.
let private eager (layer: Layer) (x: torch.Tensor) =
    Layer.callEager layer false [ x ] |> List.exactlyOne

/// The message of the KerasException the action raises.
let private errorOf (action: unit -> 'a) =
    try
        action () |> ignore
        failtest "expected a KerasException"
    with :? KerasException as e ->
        e.Message

/// Asserts the action raises a KerasException whose message contains the text.
let private throwsWith (expected: string) (action: unit -> 'a) =
    Expect.stringContains (errorOf action) expected "error message"

/// Checks a pooling layer against the loop reference on random data.
let private checkPool
    (makeLayer: PoolingConfig -> string option -> Layer)
    isMax
    pool
    strides
    padding
    (shape: int[])
    seed
    =
    let x = randomArray seed (product shape)
    let layer = makeLayer (poolConfig pool (Some strides) padding) None
    let out = eager layer (tensorOf shape x)

    let expectedShape, expected =
        refPool isMax (padding = "same") (Array.ofList pool) (Array.ofList strides) shape x

    Expect.equal (dimsOf out) expectedShape $"{layer.ClassName} {padding} shape"
    closeTo 1e-5f expected (values out) $"{layer.ClassName} {padding} values"

/// A layer that passes its input through and attaches a fixed Keras mask, to feed masks into a graph.
let private withMask (mask: torch.Tensor) =
    Layer.create
        None
        { Layer.simpleSpec "FixedMask" (fun _ inputs -> inputs) with
            ComputeMask = fun _ _ -> [ Some mask ]
        }

let private poolingTests =
    testList
        "Pooling"
        [
            testList
                "Shapes"
                [
                    test "MaxPooling1D defaults to pool 2, stride 2, valid" {
                        runLayerTest
                            (maxPooling1D (PoolingConfig.Default 1) None)
                            [ [ None; Some 8; Some 3 ] ]
                            [ None; Some 4; Some 3 ]
                            0
                    }
                    test "MaxPooling1D same with stride 2 gives ceil(in / 2)" {
                        runLayerTest
                            (maxPooling1D (poolConfig [ 3 ] (Some [ 2 ]) "same") None)
                            [ [ None; Some 7; Some 3 ] ]
                            [ None; Some 4; Some 3 ]
                            0
                    }
                    test "MaxPooling2D(3) on (None, 24, 24, 32) gives (None, 8, 8, 32)" {
                        runLayerTest
                            (maxPooling2D (poolConfig [ 3; 3 ] None "valid") None)
                            [ [ None; Some 24; Some 24; Some 32 ] ]
                            [ None; Some 8; Some 8; Some 32 ]
                            0
                    }
                    test "MaxPooling2D pool 2 stride 1: valid shrinks by one, same keeps the size" {
                        runLayerTest
                            (maxPooling2D (poolConfig [ 2; 2 ] (Some [ 1; 1 ]) "valid") None)
                            [ [ None; Some 3; Some 3; Some 1 ] ]
                            [ None; Some 2; Some 2; Some 1 ]
                            0

                        runLayerTest
                            (maxPooling2D (poolConfig [ 2; 2 ] (Some [ 1; 1 ]) "same") None)
                            [ [ None; Some 3; Some 3; Some 1 ] ]
                            [ None; Some 3; Some 3; Some 1 ]
                            0
                    }
                    test "MaxPooling2D strides 2 on a 3x4 input (Keras's docstring example) gives 1x2" {
                        runLayerTest
                            (maxPooling2D (PoolingConfig.Default 2) None)
                            [ [ None; Some 3; Some 4; Some 1 ] ]
                            [ None; Some 1; Some 2; Some 1 ]
                            0
                    }
                    test "MaxPooling2D keeps unknown spatial sizes unknown" {
                        runLayerTest
                            (maxPooling2D (PoolingConfig.Default 2) None)
                            [ [ None; None; Some 6; Some 3 ] ]
                            [ None; None; Some 3; Some 3 ]
                            0
                    }
                    test "MaxPooling3D defaults to 2x2x2 windows" {
                        runLayerTest
                            (maxPooling3D (PoolingConfig.Default 3) None)
                            [ [ None; Some 4; Some 5; Some 6; Some 2 ] ]
                            [ None; Some 2; Some 2; Some 3; Some 2 ]
                            0
                    }
                    test "MaxPooling3D same with mixed strides" {
                        runLayerTest
                            (maxPooling3D (poolConfig [ 2; 3; 1 ] (Some [ 1; 2; 3 ]) "same") None)
                            [ [ None; Some 3; Some 5; Some 7; Some 2 ] ]
                            [ None; Some 3; Some 3; Some 3; Some 2 ]
                            0
                    }
                    test "AveragePooling1D valid and same" {
                        runLayerTest
                            (averagePooling1D (poolConfig [ 3 ] (Some [ 2 ]) "valid") None)
                            [ [ None; Some 8; Some 2 ] ]
                            [ None; Some 3; Some 2 ]
                            0

                        runLayerTest
                            (averagePooling1D (poolConfig [ 3 ] (Some [ 2 ]) "same") None)
                            [ [ None; Some 8; Some 2 ] ]
                            [ None; Some 4; Some 2 ]
                            0
                    }
                    test "AveragePooling2D valid and same with stride different from the pool" {
                        runLayerTest
                            (averagePooling2D (poolConfig [ 3; 2 ] (Some [ 2; 3 ]) "valid") None)
                            [ [ None; Some 7; Some 8; Some 4 ] ]
                            [ None; Some 3; Some 3; Some 4 ]
                            0

                        runLayerTest
                            (averagePooling2D (poolConfig [ 3; 2 ] (Some [ 2; 3 ]) "same") None)
                            [ [ None; Some 7; Some 8; Some 4 ] ]
                            [ None; Some 4; Some 3; Some 4 ]
                            0
                    }
                    test "AveragePooling3D defaults" {
                        runLayerTest
                            (averagePooling3D (PoolingConfig.Default 3) None)
                            [ [ None; Some 2; Some 4; Some 6; Some 1 ] ]
                            [ None; Some 1; Some 2; Some 3; Some 1 ]
                            0
                    }
                    test "GlobalMaxPooling1D/2D/3D drop the spatial axes" {
                        runLayerTest
                            (globalMaxPooling1D (GlobalPoolingConfig.Default()) None)
                            [ [ None; Some 5; Some 7 ] ]
                            [ None; Some 7 ]
                            0

                        runLayerTest
                            (globalMaxPooling2D (GlobalPoolingConfig.Default()) None)
                            [ [ None; Some 4; Some 4; Some 16 ] ]
                            [ None; Some 16 ]
                            0

                        runLayerTest
                            (globalMaxPooling3D (GlobalPoolingConfig.Default()) None)
                            [ [ None; Some 2; Some 3; Some 4; Some 5 ] ]
                            [ None; Some 5 ]
                            0
                    }
                    test "GlobalAveragePooling1D/2D/3D drop the spatial axes" {
                        runLayerTest
                            (globalAveragePooling1D (GlobalPoolingConfig.Default()) None)
                            [ [ None; None; Some 32 ] ]
                            [ None; Some 32 ]
                            0

                        runLayerTest
                            (globalAveragePooling2D (GlobalPoolingConfig.Default()) None)
                            [ [ None; Some 3; Some 5; Some 6 ] ]
                            [ None; Some 6 ]
                            0

                        runLayerTest
                            (globalAveragePooling3D (GlobalPoolingConfig.Default()) None)
                            [ [ None; Some 2; Some 2; Some 2; Some 3 ] ]
                            [ None; Some 3 ]
                            0
                    }
                    test "global pools with keepdims keep size-1 spatial axes" {
                        let keep = { KeepDims = true }

                        runLayerTest
                            (globalMaxPooling1D keep None)
                            [ [ None; Some 5; Some 7 ] ]
                            [ None; Some 1; Some 7 ]
                            0

                        runLayerTest
                            (globalAveragePooling2D keep None)
                            [ [ None; Some 3; Some 5; Some 6 ] ]
                            [ None; Some 1; Some 1; Some 6 ]
                            0

                        runLayerTest
                            (globalMaxPooling3D keep None)
                            [ [ None; Some 2; Some 3; Some 4; Some 5 ] ]
                            [ None; Some 1; Some 1; Some 1; Some 5 ]
                            0

                        runLayerTest
                            (globalAveragePooling3D keep None)
                            [ [ None; Some 2; Some 3; Some 4; Some 5 ] ]
                            [ None; Some 1; Some 1; Some 1; Some 5 ]
                            0
                    }
                    test "GlobalAveragePooling1D on (1, 10, 32) gives (1, 32), symbolically and eagerly" {
                        let layer = globalAveragePooling1D (GlobalPoolingConfig.Default()) None

                        let out =
                            Layer.call layer (CoreLayers.input None (Some [ Some 1; Some 10; Some 32 ]) Float32 None)

                        Expect.equal out.Shape [ Some 1; Some 32 ] "symbolic"
                        Expect.equal (dimsOf (eager layer (torch.randn (1L, 10L, 32L)))) [| 1; 32 |] "eager"
                    }
                    test "pooling layers report Keras's config" {
                        let layer = maxPooling2D (poolConfig [ 3; 2 ] None "SAME") None
                        let config = (Layer.getConfig layer).ToJsonString()
                        Expect.stringContains config "\"pool_size\":[3,2]" "pool_size"
                        Expect.stringContains config "\"strides\":[3,2]" "strides default to pool_size"
                        Expect.stringContains config "\"padding\":\"same\"" "padding is lower-cased"
                        Expect.stringContains config "\"data_format\":\"channels_last\"" "data_format"

                        let g =
                            (Layer.getConfig (globalAveragePooling1D (GlobalPoolingConfig.Default()) None))
                                .ToJsonString()

                        Expect.stringContains g "\"keepdims\":false" "keepdims"
                    }
                ]

            testList
                "Values"
                [
                    test "same pooling puts the odd padding cell at the end and average excludes it" {
                        // in = 6, pool 4, stride 1: total padding 3, one cell before and two after.
                        let x = tensorOf [| 1; 6; 1 |] [| 1f; 2f; 3f; 4f; 5f; 6f |]
                        let mx = eager (maxPooling1D (poolConfig [ 4 ] (Some [ 1 ]) "same") None) x
                        let av = eager (averagePooling1D (poolConfig [ 4 ] (Some [ 1 ]) "same") None) x
                        closeTo 1e-6f [| 3f; 4f; 5f; 6f; 6f; 6f |] (values mx) "max"
                        closeTo 1e-6f [| 2f; 2.5f; 3.5f; 4.5f; 5f; 5.5f |] (values av) "average over real cells only"
                    }
                    test "same pooling with stride 2 pads only at the end" {
                        // in = 5, pool 2, stride 2: out 3, one padding cell after the input.
                        let x = tensorOf [| 1; 5; 1 |] [| 1f; 2f; 3f; 4f; 5f |]

                        closeTo
                            1e-6f
                            [| 2f; 4f; 5f |]
                            (values (
                                eager
                                    (maxPooling1D
                                        { (PoolingConfig.Default 1) with
                                            Padding = "same"
                                        }
                                        None)
                                    x
                            ))
                            "max"

                        closeTo
                            1e-6f
                            [| 1.5f; 3.5f; 5f |]
                            (values (
                                eager
                                    (averagePooling1D
                                        { (PoolingConfig.Default 1) with
                                            Padding = "same"
                                        }
                                        None)
                                    x
                            ))
                            "average: the last window is 5, not 2.5"
                    }
                    test "same max pooling of negative values ignores the padding" {
                        let x = tensorOf [| 1; 3; 1 |] [| -3f; -2f; -1f |]

                        closeTo
                            1e-6f
                            [| -2f; -1f |]
                            (values (
                                eager
                                    (maxPooling1D
                                        { (PoolingConfig.Default 1) with
                                            Padding = "same"
                                        }
                                        None)
                                    x
                            ))
                            "padding is not a zero"
                    }
                    test "MaxPooling2D matches Keras's docstring example" {
                        let x = tensorOf [| 1; 3; 3; 1 |] [| 1f; 2f; 3f; 4f; 5f; 6f; 7f; 8f; 9f |]

                        closeTo
                            1e-6f
                            [| 5f; 6f; 8f; 9f |]
                            (values (eager (maxPooling2D (poolConfig [ 2; 2 ] (Some [ 1; 1 ]) "valid") None) x))
                            "valid"

                        closeTo
                            1e-6f
                            [| 5f; 6f; 6f; 8f; 9f; 9f; 8f; 9f; 9f |]
                            (values (eager (maxPooling2D (poolConfig [ 2; 2 ] (Some [ 1; 1 ]) "same") None) x))
                            "same"
                    }
                    test "1D pooling matches the loop reference" {
                        for padding in [ "valid"; "same" ] do
                            checkPool maxPooling1D true [ 3 ] [ 2 ] padding [| 2; 8; 3 |] 1
                            checkPool averagePooling1D false [ 3 ] [ 2 ] padding [| 2; 8; 3 |] 2
                            checkPool averagePooling1D false [ 2 ] [ 3 ] padding [| 2; 7; 2 |] 3
                    }
                    test "2D pooling matches the loop reference with strides different from the pool" {
                        for padding in [ "valid"; "same" ] do
                            checkPool maxPooling2D true [ 3; 2 ] [ 2; 1 ] padding [| 2; 5; 4; 3 |] 4
                            checkPool averagePooling2D false [ 3; 2 ] [ 2; 1 ] padding [| 2; 5; 4; 3 |] 5
                            checkPool maxPooling2D true [ 2; 3 ] [ 3; 2 ] padding [| 1; 7; 6; 2 |] 6
                            checkPool averagePooling2D false [ 2; 3 ] [ 3; 2 ] padding [| 1; 7; 6; 2 |] 7
                    }
                    test "3D pooling matches the loop reference" {
                        for padding in [ "valid"; "same" ] do
                            checkPool maxPooling3D true [ 2; 2; 3 ] [ 1; 2; 2 ] padding [| 2; 3; 4; 5; 2 |] 8
                            checkPool averagePooling3D false [ 2; 2; 3 ] [ 1; 2; 2 ] padding [| 2; 3; 4; 5; 2 |] 9
                    }
                    test "integer inputs are pooled as float32" {
                        let x = torch.tensor([| 1; 5; 2; 4 |]).reshape(1L, 4L, 1L)
                        let out = eager (averagePooling1D (PoolingConfig.Default 1) None) x
                        Expect.equal out.dtype torch.ScalarType.Float32 "float32"
                        closeTo 1e-6f [| 3f; 3f |] (values out) "values"
                    }
                    test "global pools match the loop reference, with and without keepdims" {
                        for shape, seed in [ [| 2; 5; 3 |], 11; [| 2; 3; 4; 3 |], 12; [| 1; 2; 3; 2; 4 |], 13 ] do
                            let x = randomArray seed (product shape)
                            let t = tensorOf shape x
                            let spatialDims = shape.Length - 2

                            let layers =
                                match spatialDims with
                                | 1 -> globalMaxPooling1D, globalAveragePooling1D
                                | 2 -> globalMaxPooling2D, globalAveragePooling2D
                                | _ -> globalMaxPooling3D, globalAveragePooling3D

                            for keep in [ false; true ] do
                                let config = { KeepDims = keep }

                                let expectedShape =
                                    if keep then
                                        Array.concat
                                            [ [| shape[0] |]; Array.create spatialDims 1; [| Array.last shape |] ]
                                    else
                                        [| shape[0]; Array.last shape |]

                                let mx = eager ((fst layers) config None) t
                                let av = eager ((snd layers) config None) t
                                Expect.equal (dimsOf mx) expectedShape $"max shape, keepdims={keep}"
                                Expect.equal (dimsOf av) expectedShape $"average shape, keepdims={keep}"
                                closeTo 1e-6f (refGlobal true shape x) (values mx) $"max {spatialDims}D keepdims={keep}"

                                closeTo
                                    1e-5f
                                    (refGlobal false shape x)
                                    (values av)
                                    $"average {spatialDims}D keepdims={keep}"
                    }
                    test "masked GlobalAveragePooling1D leaves masked steps out of the mean" {
                        let shape = [| 2; 4; 3 |]
                        let x = randomArray 21 (product shape)
                        let maskRows = [| [| true; true; false; true |]; [| false; true; false; false |] |]
                        let mask = torch.tensor(Array.concat maskRows).reshape(2L, 4L)
                        let input = sym [ None; Some 4; Some 3 ]
                        let masked = Layer.call (withMask mask) input

                        for keep in [ false; true ] do
                            let pooled = Layer.call (globalAveragePooling1D { KeepDims = keep } None) masked
                            let model = Model.create [ input ] [ pooled ] SingleOutput None
                            let out = Model.callEager model false [ tensorOf shape x ] |> List.exactlyOne

                            let expected =
                                [|
                                    for b in 0..1 do
                                        for c in 0..2 do
                                            let kept =
                                                [
                                                    for t in 0..3 do
                                                        if maskRows[b][t] then
                                                            x[b * 12 + t * 3 + c]
                                                ]

                                            List.average kept
                                |]

                            Expect.equal
                                (dimsOf out)
                                (if keep then [| 2; 1; 3 |] else [| 2; 3 |])
                                $"shape keepdims={keep}"

                            closeTo 1e-5f expected (values out) $"masked mean keepdims={keep}"

                        // Without a mask every step counts.
                        let plain =
                            eager (globalAveragePooling1D (GlobalPoolingConfig.Default()) None) (tensorOf shape x)

                        closeTo 1e-5f (refGlobal false shape x) (values plain) "unmasked mean"
                    }
                    test "pooling gradients flow to the selected cells" {
                        let x = (tensorOf [| 1; 4; 1 |] [| 1f; 3f; 2f; 0f |]).requires_grad_ true
                        let out = eager (maxPooling1D (PoolingConfig.Default 1) None) x
                        out.sum().backward()
                        closeTo 1e-6f [| 0f; 1f; 1f; 0f |] (values x.grad) "max routes the gradient to the maxima"
                        let y = (tensorOf [| 1; 3; 1 |] [| 1f; 3f; 2f |]).requires_grad_ true

                        let avg =
                            eager
                                (averagePooling1D
                                    { (PoolingConfig.Default 1) with
                                        Padding = "same"
                                    }
                                    None)
                                y

                        avg.sum().backward()
                        // Windows [1, 3] and [2, pad]: d/dx = 1/2, 1/2, 1 (the padded window has one real cell).
                        closeTo 1e-6f [| 0.5f; 0.5f; 1f |] (values y.grad) "same average divides by the real cells"
                    }
                ]

            testList
                "Errors"
                [
                    test "a pool larger than a valid input is Keras's negative-size error" {
                        let layer = maxPooling2D (poolConfig [ 3; 3 ] None "valid") (Some "pool")

                        let message =
                            errorOf (fun () -> Layer.call layer (sym [ None; Some 2; Some 5; Some 1 ]))

                        Expect.equal
                            message
                            "Layer \"pool\" (MaxPooling2D): Computed output size would be zero or negative. Received: `inputs.shape=[None 2 5 1]`, `pool_size=[3 3]`, `strides=(3, 3)`, `padding=valid`."
                            "symbolic message"

                        let eagerMessage = errorOf (fun () -> eager layer (torch.zeros (1L, 2L, 5L, 1L)))

                        Expect.stringContains
                            eagerMessage
                            "`inputs.shape=[1 2 5 1]`"
                            "eager message names the concrete shape"
                        // With "same" the same input is fine.
                        let same =
                            Layer.call
                                (maxPooling2D (poolConfig [ 3; 3 ] None "same") None)
                                (sym [ None; Some 2; Some 5; Some 1 ])

                        Expect.equal same.Shape [ None; Some 1; Some 2; Some 1 ] "same pads instead"
                    }
                    test "the negative-size error for 1D pooling prints one-element tuples" {
                        let layer = averagePooling1D (poolConfig [ 4 ] (Some [ 1 ]) "valid") (Some "avg1")
                        let message = errorOf (fun () -> Layer.call layer (sym [ None; Some 3; Some 2 ]))

                        Expect.stringContains
                            message
                            "`inputs.shape=[None 3 2]`, `pool_size=[4]`, `strides=(1,)`, `padding=valid`."
                            "1D"
                    }
                    test "wrong rank is rejected by the input spec" {
                        let message =
                            errorOf (fun () ->
                                Layer.call
                                    (maxPooling2D (PoolingConfig.Default 2) (Some "mp"))
                                    (sym [ None; Some 8; Some 8 ]))

                        Expect.equal
                            message
                            "Input 0 of layer \"mp\" is incompatible with the layer: expected ndim=4, found ndim=3. Full shape received: (None, 8, 8)"
                            "MaxPooling2D"

                        let g =
                            errorOf (fun () ->
                                Layer.call
                                    (globalAveragePooling1D (GlobalPoolingConfig.Default()) (Some "gap"))
                                    (sym [ None; Some 8; Some 8; Some 3 ]))

                        Expect.stringContains g "expected ndim=3, found ndim=4" "GlobalAveragePooling1D"

                        let m3 =
                            errorOf (fun () ->
                                eager (averagePooling3D (PoolingConfig.Default 3) None) (torch.zeros (1L, 4L, 4L, 2L)))

                        Expect.stringContains m3 "expected ndim=5, found ndim=4" "AveragePooling3D eager"
                    }
                    test "invalid pooling arguments are rejected at construction" {
                        throwsWith "Received: pool_size=(0, 2)" (fun () ->
                            maxPooling2D (poolConfig [ 0; 2 ] None "valid") None)

                        throwsWith "must be a tuple of 2 integers" (fun () ->
                            maxPooling2D (poolConfig [ 2 ] None "valid") None)

                        throwsWith "Received: strides=(0,)" (fun () ->
                            averagePooling1D (poolConfig [ 2 ] (Some [ 0 ]) "valid") None)

                        let m = errorOf (fun () -> maxPooling1D (poolConfig [ 2 ] None "full") None)
                        Expect.stringContains m "Argument `padding` must be either 'valid' or 'same'." "padding"
                    }
                ]
        ]

let private reshapingTests =
    testList
        "Reshaping"
        [
            testList
                "Shapes"
                [
                    test "UpSampling1D repeats steps (default 2)" {
                        runLayerTest (upSampling1D 2 None) [ [ None; Some 3; Some 4 ] ] [ None; Some 6; Some 4 ] 0
                        runLayerTest (upSampling1D 3 None) [ [ None; None; Some 4 ] ] [ None; None; Some 4 ] 0
                    }
                    test "UpSampling2D(3) on (None, 8, 8, 32) gives (None, 24, 24, 32)" {
                        runLayerTest
                            (upSampling2D
                                { UpSampling2DConfig.Default() with
                                    Size = (3, 3)
                                }
                                None)
                            [ [ None; Some 8; Some 8; Some 32 ] ]
                            [ None; Some 24; Some 24; Some 32 ]
                            0
                    }
                    test "UpSampling2D bilinear with unequal factors" {
                        runLayerTest
                            (upSampling2D
                                {
                                    Size = (2, 3)
                                    Interpolation = "bilinear"
                                }
                                None)
                            [ [ None; Some 2; Some 3; Some 1 ] ]
                            [ None; Some 4; Some 9; Some 1 ]
                            0
                    }
                    test "UpSampling3D multiplies each spatial axis" {
                        runLayerTest
                            (upSampling3D (2, 2, 2) None)
                            [ [ None; Some 2; Some 3; Some 4; Some 2 ] ]
                            [ None; Some 4; Some 6; Some 8; Some 2 ]
                            0

                        runLayerTest
                            (upSampling3D (1, 2, 3) None)
                            [ [ None; Some 2; None; Some 1; Some 2 ] ]
                            [ None; Some 2; None; Some 3; Some 2 ]
                            0
                    }
                    test "ZeroPadding1D/2D/3D add their padding" {
                        runLayerTest (zeroPadding1D (1, 1) None) [ [ None; Some 3; Some 2 ] ] [ None; Some 5; Some 2 ] 0
                        runLayerTest (zeroPadding1D (2, 0) None) [ [ None; Some 3; Some 2 ] ] [ None; Some 5; Some 2 ] 0

                        runLayerTest
                            (zeroPadding2D ((1, 2), (3, 4)) None)
                            [ [ None; Some 2; Some 2; Some 1 ] ]
                            [ None; Some 5; Some 9; Some 1 ]
                            0

                        runLayerTest
                            (zeroPadding3D ((1, 1), (0, 2), (3, 0)) None)
                            [ [ None; Some 2; Some 2; Some 2; Some 3 ] ]
                            [ None; Some 4; Some 4; Some 5; Some 3 ]
                            0
                    }
                    test "Cropping1D/2D/3D remove their cropping" {
                        runLayerTest (cropping1D (1, 1) None) [ [ None; Some 5; Some 2 ] ] [ None; Some 3; Some 2 ] 0

                        runLayerTest
                            (cropping2D ((1, 0), (2, 1)) None)
                            [ [ None; Some 4; Some 5; Some 3 ] ]
                            [ None; Some 3; Some 2; Some 3 ]
                            0

                        runLayerTest
                            (cropping3D ((1, 1), (1, 1), (1, 1)) None)
                            [ [ None; Some 3; Some 4; Some 5; Some 2 ] ]
                            [ None; Some 1; Some 2; Some 3; Some 2 ]
                            0

                        runLayerTest
                            (cropping2D ((0, 0), (0, 0)) None)
                            [ [ None; None; Some 5; Some 3 ] ]
                            [ None; None; Some 5; Some 3 ]
                            0
                    }
                    test "Permute reorders the sample axes" {
                        runLayerTest (permute [ 2; 1 ] None) [ [ None; Some 3; Some 4 ] ] [ None; Some 4; Some 3 ] 0

                        runLayerTest
                            (permute [ 3; 1; 2 ] None)
                            [ [ None; Some 2; Some 3; Some 4 ] ]
                            [ None; Some 4; Some 2; Some 3 ]
                            0
                    }
                    test "RepeatVector inserts the repeat axis" {
                        runLayerTest (repeatVector 3 None) [ [ None; Some 4 ] ] [ None; Some 3; Some 4 ] 0
                    }
                    test "reshaping layers report Keras's config" {
                        let json (layer: Layer) = (Layer.getConfig layer).ToJsonString()

                        Expect.stringContains
                            (json (zeroPadding2D ((1, 2), (3, 4)) None))
                            "\"padding\":[[1,2],[3,4]]"
                            "ZeroPadding2D"

                        Expect.stringContains (json (zeroPadding1D (1, 1) None)) "\"padding\":[1,1]" "ZeroPadding1D"
                        Expect.stringContains (json (cropping1D (1, 1) None)) "\"cropping\":[1,1]" "Cropping1D"

                        Expect.stringContains
                            (json (upSampling2D (UpSampling2DConfig.Default()) None))
                            "\"interpolation\":\"nearest\""
                            "UpSampling2D"

                        Expect.stringContains (json (permute [ 2; 1 ] None)) "\"dims\":[2,1]" "Permute"
                        Expect.stringContains (json (repeatVector 3 None)) "\"n\":3" "RepeatVector"
                    }
                ]

            testList
                "Values"
                [
                    test "nearest upsampling repeats each cell" {
                        let shape = [| 2; 2; 3; 2 |]
                        let x = randomArray 31 (product shape)

                        let out =
                            eager
                                (upSampling2D
                                    { UpSampling2DConfig.Default() with
                                        Size = (2, 3)
                                    }
                                    None)
                                (tensorOf shape x)

                        let inStrides = stridesOf shape

                        let expected =
                            [|
                                for b in 0..1 do
                                    for i in 0..3 do
                                        for j in 0..8 do
                                            for c in 0..1 -> x[offset inStrides [ b; i / 2; j / 3; c ]]
                            |]

                        Expect.equal (dimsOf out) [| 2; 4; 9; 2 |] "shape"
                        closeTo 0f expected (values out) "values"
                        let seq = eager (upSampling1D 2 None) (tensorOf [| 1; 2; 2 |] [| 1f; 2f; 3f; 4f |])
                        closeTo 0f [| 1f; 2f; 1f; 2f; 3f; 4f; 3f; 4f |] (values seq) "UpSampling1D"

                        let vol =
                            eager (upSampling3D (1, 2, 1) None) (tensorOf [| 1; 1; 2; 1; 1 |] [| 5f; 6f |])

                        closeTo 0f [| 5f; 5f; 6f; 6f |] (values vol) "UpSampling3D"
                    }
                    test "bilinear 2x2 to 4x4 uses half-pixel centres" {
                        // Two channels: [[1, 2], [3, 4]] and [[0, 4], [8, 0]], interleaved channels-last.
                        let x = tensorOf [| 1; 2; 2; 2 |] [| 1f; 0f; 2f; 4f; 3f; 8f; 4f; 0f |]

                        let out =
                            eager
                                (upSampling2D
                                    {
                                        Size = (2, 2)
                                        Interpolation = "bilinear"
                                    }
                                    None)
                                x

                        Expect.equal (dimsOf out) [| 1; 4; 4; 2 |] "shape"
                        // Output cell i samples input coordinate (i + 0.5) / 2 - 0.5, clamped: -0.25, 0.25, 0.75, 1.25
                        // → weights (1, 0), (0.75, 0.25), (0.25, 0.75), (0, 1).
                        let first =
                            [|
                                1f
                                1.25f
                                1.75f
                                2f
                                1.5f
                                1.75f
                                2.25f
                                2.5f
                                2.5f
                                2.75f
                                3.25f
                                3.5f
                                3f
                                3.25f
                                3.75f
                                4f
                            |]

                        let second =
                            [| 0f; 1f; 3f; 4f; 2f; 2.25f; 2.75f; 3f; 6f; 4.75f; 2.25f; 1f; 8f; 6f; 2f; 0f |]

                        closeTo 1e-6f first (values (out.select (3L, 0L))) "channel 0"
                        closeTo 1e-6f second (values (out.select (3L, 1L))) "channel 1"
                    }
                    test "zero padding places the input inside zeros" {
                        let shape = [| 2; 2; 3; 2 |]
                        let x = randomArray 41 (product shape)
                        let out = eager (zeroPadding2D ((1, 2), (0, 1)) None) (tensorOf shape x)
                        let inStrides = stridesOf shape

                        let expected =
                            [|
                                for b in 0..1 do
                                    for i in 0..4 do
                                        for j in 0..3 do
                                            for c in 0..1 ->
                                                let si, sj = i - 1, j

                                                if si >= 0 && si < 2 && sj < 3 then
                                                    x[offset inStrides [ b; si; sj; c ]]
                                                else
                                                    0f
                            |]

                        Expect.equal (dimsOf out) [| 2; 5; 4; 2 |] "shape"
                        closeTo 0f expected (values out) "values"
                        let seq = eager (zeroPadding1D (2, 1) None) (tensorOf [| 1; 2; 1 |] [| 7f; 8f |])
                        closeTo 0f [| 0f; 0f; 7f; 8f; 0f |] (values seq) "ZeroPadding1D"

                        let vol =
                            eager (zeroPadding3D ((0, 1), (1, 0), (0, 0)) None) (tensorOf [| 1; 1; 1; 1; 1 |] [| 9f |])

                        closeTo 0f [| 0f; 9f; 0f; 0f |] (values vol) "ZeroPadding3D"
                    }
                    test "cropping keeps the inner cells" {
                        let shape = [| 1; 4; 5; 2 |]
                        let x = randomArray 51 (product shape)
                        let out = eager (cropping2D ((1, 1), (2, 0)) None) (tensorOf shape x)
                        let inStrides = stridesOf shape

                        let expected =
                            [|
                                for i in 0..1 do
                                    for j in 0..2 do
                                        for c in 0..1 -> x[offset inStrides [ 0; i + 1; j + 2; c ]]
                            |]

                        Expect.equal (dimsOf out) [| 1; 2; 3; 2 |] "shape"
                        closeTo 0f expected (values out) "values"

                        let seq =
                            eager (cropping1D (1, 2) None) (tensorOf [| 1; 5; 1 |] [| 1f; 2f; 3f; 4f; 5f |])

                        closeTo 0f [| 2f; 3f |] (values seq) "Cropping1D"
                        let vshape = [| 1; 3; 3; 3; 1 |]
                        let v = Array.init 27 float32
                        let vol = eager (cropping3D ((1, 1), (0, 1), (2, 0)) None) (tensorOf vshape v)
                        closeTo 0f [| v[9 + 0 + 2]; v[9 + 3 + 2] |] (values vol) "Cropping3D"
                    }
                    test "Permute moves axes as a transpose of the sample" {
                        let shape = [| 2; 2; 3; 4 |]
                        let x = randomArray 61 (product shape)
                        let out = eager (permute [ 3; 1; 2 ] None) (tensorOf shape x)
                        let inStrides = stridesOf shape

                        let expected =
                            [|
                                for b in 0..1 do
                                    for k in 0..3 do
                                        for i in 0..1 do
                                            for j in 0..2 -> x[offset inStrides [ b; i; j; k ]]
                            |]

                        Expect.equal (dimsOf out) [| 2; 4; 2; 3 |] "shape"
                        closeTo 0f expected (values out) "values"
                    }
                    test "RepeatVector copies each vector n times" {
                        let x = tensorOf [| 2; 3 |] [| 1f; 2f; 3f; 4f; 5f; 6f |]
                        let out = eager (repeatVector 2 None) x
                        Expect.equal (dimsOf out) [| 2; 2; 3 |] "shape"
                        closeTo 0f [| 1f; 2f; 3f; 1f; 2f; 3f; 4f; 5f; 6f; 4f; 5f; 6f |] (values out) "values"
                    }
                    test "pure reshaping layers keep integer dtypes; bilinear gives float32" {
                        let x = torch.tensor([| 1L; 2L; 3L; 4L |]).reshape(1L, 2L, 2L)
                        Expect.equal (eager (permute [ 2; 1 ] None) x).dtype torch.ScalarType.Int64 "Permute"
                        Expect.equal (eager (upSampling1D 2 None) x).dtype torch.ScalarType.Int64 "UpSampling1D"

                        let out =
                            Layer.call
                                (zeroPadding1D (1, 1) None)
                                (CoreLayers.input (Some [ Some 2; Some 2 ]) None Int32 None)

                        Expect.equal out.DType Int32 "symbolic dtype"
                        // Bilinear interpolation computes in float32.
                        let image = torch.tensor([| 1L; 2L; 3L; 4L |]).reshape(1L, 2L, 2L, 1L)

                        let bilinear () =
                            upSampling2D
                                {
                                    Size = (2, 2)
                                    Interpolation = "bilinear"
                                }
                                None

                        Expect.equal (eager (bilinear ()) image).dtype torch.ScalarType.Float32 "bilinear eager"

                        let symbolic =
                            Layer.call
                                (bilinear ())
                                (CoreLayers.input (Some [ Some 2; Some 2; Some 1 ]) None Int32 None)

                        Expect.equal symbolic.DType Float32 "bilinear symbolic"
                    }
                ]

            testList
                "Errors"
                [
                    test "cropping at least the input length is Keras's error" {
                        let m =
                            errorOf (fun () ->
                                Layer.call (cropping1D (2, 1) (Some "crop")) (sym [ None; Some 3; Some 4 ]))

                        Expect.equal
                            m
                            "Layer \"crop\" (Cropping1D): `cropping` parameter of `Cropping1D` layer must be smaller than the input length. Received: input_shape=(None, 3, 4), cropping=(2, 1)"
                            "Cropping1D"

                        let m2 =
                            errorOf (fun () ->
                                Layer.call
                                    (cropping2D ((1, 1), (2, 3)) (Some "crop2"))
                                    (sym [ None; Some 3; Some 5; Some 1 ]))

                        Expect.stringContains
                            m2
                            "Values in `cropping` argument should be smaller than the corresponding spatial dimension of the input. Received: input_shape=(None, 3, 5, 1), cropping=((1, 1), (2, 3))"
                            "Cropping2D"

                        throwsWith "Values in `cropping` argument should be smaller" (fun () ->
                            eager (cropping3D ((1, 1), (1, 1), (1, 1)) None) (torch.zeros ([| 1L; 2L; 3L; 3L; 1L |])))
                    }
                    test "wrong rank is rejected" {
                        let m =
                            errorOf (fun () -> Layer.call (repeatVector 2 (Some "rv")) (sym [ None; Some 2; Some 3 ]))

                        Expect.stringContains m "expected ndim=2, found ndim=3" "RepeatVector"

                        let p =
                            errorOf (fun () ->
                                Layer.call (permute [ 2; 1 ] None) (sym [ None; Some 2; Some 3; Some 4 ]))

                        Expect.stringContains p "expected ndim=3, found ndim=4" "Permute"

                        let u =
                            errorOf (fun () ->
                                Layer.call
                                    (upSampling2D (UpSampling2DConfig.Default()) None)
                                    (sym [ None; Some 2; Some 3 ]))

                        Expect.stringContains u "expected ndim=4, found ndim=3" "UpSampling2D"
                    }
                    test "invalid arguments are rejected at construction" {
                        let p = errorOf (fun () -> permute [ 1; 3 ] None)

                        Expect.stringContains
                            p
                            "The set of indices in `dims` must be consecutive and start from 1."
                            "Permute"

                        throwsWith "Argument `n` should be a positive integer." (fun () -> repeatVector 0 None)
                        throwsWith "Argument `size` should be a positive integer." (fun () -> upSampling1D 0 None)
                        throwsWith "Received: size=(1, 0, 1)" (fun () -> upSampling3D (1, 0, 1) None)

                        throwsWith "Received: padding=((1, -1), (0, 0))" (fun () ->
                            zeroPadding2D ((1, -1), (0, 0)) None)

                        throwsWith "Received: cropping=(-1, 0)" (fun () -> cropping1D (-1, 0) None)

                        let i =
                            errorOf (fun () ->
                                upSampling2D
                                    { UpSampling2DConfig.Default() with
                                        Interpolation = "cubic"
                                    }
                                    None)

                        Expect.stringContains i "interpolation" "UpSampling2D interpolation"
                    }
                ]
        ]

/// Random 2D pooling geometries: input height and width, channels, pool, strides, padding.
let private geometry =
    gen {
        let! h = Gen.choose (1, 12)
        let! w = Gen.choose (1, 12)
        let! c = Gen.choose (1, 3)
        let! ph = Gen.choose (1, 4)
        let! pw = Gen.choose (1, 4)
        let! stridesGiven = Gen.elements [ true; false ]
        let! sh = Gen.choose (1, 4)
        let! sw = Gen.choose (1, 4)
        let! padding = Gen.elements [ "valid"; "same" ]
        return h, w, c, [ ph; pw ], (if stridesGiven then Some [ sh; sw ] else None), padding
    }

let private shapesAgree isMax (h, w, c, pool: int list, strides: int list option, padding) =
    let make () =
        let config = poolConfig pool strides padding

        if isMax then
            maxPooling2D config None
        else
            averagePooling2D config None

    let fits = padding = "same" || (h >= pool[0] && w >= pool[1])

    let symbolic () =
        (Layer.call (make ()) (sym [ None; Some h; Some w; Some c ])).Shape

    let concrete () =
        eager (make ()) (torch.randn (2L, int64 h, int64 w, int64 c)) |> dimsOf

    let raises action =
        try
            action () |> ignore
            false
        with :? KerasException ->
            true

    if fits then
        let s = symbolic ()

        s.Head = None
        && (List.tail s |> List.map Option.get) = (concrete () |> List.ofArray |> List.tail)
    else
        raises symbolic && raises concrete

[<Tests>]
let tests =
    testList
        "Pooling"
        [
            poolingTests
            reshapingTests
            testProperty
                "MaxPooling2D symbolic and eager shapes agree"
                (Prop.forAll (Arb.fromGen geometry) (shapesAgree true))
            testProperty
                "AveragePooling2D symbolic and eager shapes agree"
                (Prop.forAll (Arb.fromGen geometry) (shapesAgree false))
        ]
