/// Normalization layers: shapes and weights, forward values against plain-loop references, BatchNormalization's
/// two modes and moving statistics, a finite-difference gradient check, and Keras's errors.
module NormalizationTests

open Expecto
open TorchSharp
open Keras
open Keras.NormalizationLayers
open TestData

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private bn (config: BatchNormalizationConfig) = batchNormalization config None
let private bnDefault () = bn BatchNormalizationConfig.Default

/// Calls a layer eagerly with Keras masks for its inputs.
let private callMasked (layer: Layer) (training: bool) (masks: torch.Tensor option list) (inputs: torch.Tensor list) =
    Layer.outputSpecs layer (inputs |> List.map Layer.specOf)
    |> Errors.orRaise
    |> ignore

    layer.Spec.Call (Layer.contextFor layer training masks ignore inputs) inputs

let private eager (layer: Layer) training (x: torch.Tensor) =
    Layer.callEager layer training [ x ] |> List.exactlyOne

/// The value of a layer's weight, by position in Keras's order.
let private weightAt (layer: Layer) (i: int) =
    (List.item i (Layer.weights layer)).Value

let private messageOf (f: unit -> unit) =
    try
        f ()
        failtest "expected a KerasException"
        ""
    with :? KerasException as e ->
        e.Message

/// Mean and biased variance of a float sequence.
let private moments (xs: float32 seq) =
    let a = Array.ofSeq xs |> Array.map float
    let mean = Array.average a
    mean, (a |> Array.averageBy (fun v -> (v - mean) ** 2.0))

[<Tests>]
let tests =
    testList
        "Normalization"
        [
            testList
                "run_layer_test"
                [
                    test "BatchNormalization" { runLayerTest (bnDefault ()) [ [ None; Some 3 ] ] [ None; Some 3 ] 4 }
                    test "BatchNormalization on images" {
                        runLayerTest
                            (bnDefault ())
                            [ [ None; Some 4; Some 4; Some 3 ] ]
                            [ None; Some 4; Some 4; Some 3 ]
                            4
                    }
                    test "BatchNormalization without center" {
                        runLayerTest
                            (bn
                                { BatchNormalizationConfig.Default with
                                    Center = false
                                })
                            [ [ None; Some 5 ] ]
                            [ None; Some 5 ]
                            3
                    }
                    test "BatchNormalization without center and scale" {
                        runLayerTest
                            (bn
                                { BatchNormalizationConfig.Default with
                                    Center = false
                                    Scale = false
                                })
                            [ [ None; Some 5 ] ]
                            [ None; Some 5 ]
                            2
                    }
                    test "LayerNormalization" {
                        runLayerTest
                            (layerNormalization LayerNormalizationConfig.Default None)
                            [ [ None; Some 3; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            2
                    }
                    test "LayerNormalization over two axes" {
                        runLayerTest
                            (layerNormalization
                                { LayerNormalizationConfig.Default with
                                    Axis = [ 1; 2 ]
                                }
                                None)
                            [ [ None; Some 3; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            2
                    }
                    test "GroupNormalization" {
                        runLayerTest
                            (groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = 2
                                }
                                None)
                            [ [ None; Some 5; Some 4 ] ]
                            [ None; Some 5; Some 4 ]
                            2
                    }
                    test "UnitNormalization" {
                        runLayerTest
                            (unitNormalization [ -1 ] None)
                            [ [ None; Some 3; Some 4 ] ]
                            [ None; Some 3; Some 4 ]
                            0
                    }
                ]

            testList
                "weights"
                [
                    test "BatchNormalization's weights are gamma, beta, moving_mean, moving_variance as Keras" {
                        let layer = bnDefault ()
                        Layer.call layer (sym [ None; Some 6; Some 3 ]) |> ignore
                        let ws = Layer.weights layer

                        Expect.equal
                            (ws |> List.map _.Name)
                            [ "gamma"; "beta"; "moving_mean"; "moving_variance" ]
                            "names in Keras's order"

                        Expect.equal
                            (ws |> List.map _.Trainable)
                            [ true; true; false; false ]
                            "the moving statistics are not trainable"

                        Expect.all ws (fun w -> w.Value.shape = [| 3L |]) "one entry per channel"

                        Expect.equal
                            (ws |> List.map (fun w -> values w.Value |> Array.distinct))
                            [ [| 1.f |]; [| 0.f |]; [| 0.f |]; [| 1.f |] ]
                            "ones, zeros, zeros, ones"

                        Expect.equal (Layer.countParams layer) 12L "4 × 3 parameters, as Keras counts them"
                        Expect.isFalse ws[2].Value.requires_grad "moving_mean gets no gradient"
                    }

                    test "BatchNormalization on axis 1 has one entry per axis-1 channel" {
                        let layer =
                            bn
                                { BatchNormalizationConfig.Default with
                                    Axis = 1
                                }

                        Layer.call layer (sym [ None; Some 7; Some 2 ]) |> ignore
                        Expect.all (Layer.weights layer) (fun w -> w.Value.shape = [| 7L |]) "(7,)"
                    }

                    test "LayerNormalization's gamma and beta span the normalized axes" {
                        let layer =
                            layerNormalization
                                { LayerNormalizationConfig.Default with
                                    Axis = [ 1; 2 ]
                                }
                                None

                        Layer.call layer (sym [ None; Some 3; Some 4 ]) |> ignore

                        Expect.equal
                            (Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape))
                            [ "gamma", [| 3L; 4L |]; "beta", [| 3L; 4L |] ]
                            "(3, 4) each"

                        Expect.equal (Layer.countParams layer) 24L "24 parameters"
                    }

                    test "GroupNormalization has per-channel gamma and beta" {
                        let layer =
                            groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = 3
                                }
                                None

                        Layer.call layer (sym [ None; Some 5; Some 6 ]) |> ignore

                        Expect.equal
                            (Layer.weights layer |> List.map (fun w -> w.Name, w.Value.shape))
                            [ "gamma", [| 6L |]; "beta", [| 6L |] ]
                            "(6,) each"
                    }

                    test "get_config has Keras's keys and defaults" {
                        let config = Layer.getConfig (bnDefault ())
                        Expect.equal (config["axis"].GetValue<int>()) -1 "axis"
                        Expect.equal (config["momentum"].GetValue<float>()) 0.99 "momentum"
                        Expect.equal (config["epsilon"].GetValue<float>()) 1e-3 "epsilon"

                        Expect.equal
                            (config["moving_variance_initializer"].["class_name"].GetValue<string>())
                            "Ones"
                            "moving_variance_initializer"

                        let g = Layer.getConfig (groupNormalization GroupNormalizationConfig.Default None)
                        Expect.equal (g["groups"].GetValue<int>()) 32 "groups"
                    }
                ]

            testList
                "BatchNormalization values"
                [
                    test "inference normalizes with the moving statistics" {
                        let layer = bnDefault ()
                        Layer.call layer (sym [ None; Some 2 ]) |> ignore

                        let gamma, beta, mm, mv =
                            [| 2.f; 1.f |], [| 0.5f; -1.f |], [| 1.f; 2.f |], [| 4.f; 0.25f |]

                        Layer.setWeights
                            layer
                            [ torch.tensor gamma; torch.tensor beta; torch.tensor mm; torch.tensor mv ]

                        let x = [| 3.f; 2.f; 1.f; 4.f |]
                        let y = eager layer false (torch.tensor(x).reshape(2L, 2L))

                        let expected =
                            x
                            |> Array.mapi (fun i v ->
                                let c = i % 2 in gamma[c] * (v - mm[c]) / sqrt (mv[c] + 1e-3f) + beta[c])

                        closeTo 1e-5f expected (values y) "gamma·(x - moving_mean)/sqrt(moving_variance + eps) + beta"
                        closeTo 0.f mm (values (weightAt layer 2)) "inference leaves moving_mean alone"
                    }

                    test "training uses the batch statistics and moves the averages by the momentum rule" {
                        let layer = bnDefault ()
                        // Channel 0: 1, 3 -> mean 2, biased variance 1. Channel 1: 2, 6 -> mean 4, biased variance 4.
                        let x = tensor2 [ [ 1.f; 2.f ]; [ 3.f; 6.f ] ]
                        let y = eager layer true x
                        let e0, e1 = 1.f / sqrt 1.001f, 2.f / sqrt 4.001f
                        closeTo 1e-5f [| -e0; -e1; e0; e1 |] (values y) "(x - batch mean)/sqrt(batch var + eps)"
                        let ws = Layer.weights layer
                        // moving = moving·0.99 + batch·0.01, with the biased batch variance.
                        closeTo 1e-6f [| 0.02f; 0.04f |] (values ws[2].Value) "moving_mean after one step"

                        closeTo
                            1e-6f
                            [| 0.99f + 0.01f; 0.99f + 0.04f |]
                            (values ws[3].Value)
                            "moving_variance after one step"

                        eager layer true x |> ignore

                        closeTo
                            1e-6f
                            [| 0.02f * 0.99f + 0.02f; 0.04f * 0.99f + 0.04f |]
                            (values ws[2].Value)
                            "moving_mean after two steps"

                        closeTo
                            1e-6f
                            [| 1.f * 0.99f + 0.01f; 1.03f * 0.99f + 0.04f |]
                            (values ws[3].Value)
                            "moving_variance after two steps"
                        // Inference now uses those moving statistics.
                        let mm, mv = values ws[2].Value, values ws[3].Value
                        let inference = values (eager layer false x)

                        let expected =
                            [| 1.f; 2.f; 3.f; 6.f |]
                            |> Array.mapi (fun i v -> let c = i % 2 in (v - mm[c]) / sqrt (mv[c] + 1e-3f))

                        closeTo 1e-5f expected inference "inference after training"
                    }

                    test "training on sequences reduces over batch and steps" {
                        torch.manual_seed 11L |> ignore

                        let layer =
                            bn
                                { BatchNormalizationConfig.Default with
                                    Momentum = 0.5
                                }

                        let x = torch.randn (3L, 4L, 2L)
                        let y = values (eager layer true x)
                        let xs = values x

                        for c in 0..1 do
                            let channel =
                                [
                                    for i in 0 .. xs.Length - 1 do
                                        if i % 2 = c then
                                            xs[i]
                                ]

                            let mean, var = moments channel

                            for i in 0 .. xs.Length - 1 do
                                if i % 2 = c then
                                    let expected = float32 ((float xs[i] - mean) / sqrt (var + 1e-3))

                                    if abs (y[i] - expected) > 1e-5f then
                                        failtestf "element %d: %g, expected %g" i y[i] expected

                            let mm = values (weightAt layer 2)
                            Expect.floatClose Accuracy.medium (float mm[c]) (0.5 * mean) $"moving_mean of channel {c}"
                    }

                    test "axis 1 normalizes channels-first inputs" {
                        torch.manual_seed 12L |> ignore

                        let layer =
                            bn
                                { BatchNormalizationConfig.Default with
                                    Axis = 1
                                }

                        let x = torch.randn (2L, 3L, 4L)
                        let y = values (eager layer true x)
                        let xs = values x
                        let channelOf i = (i / 4) % 3

                        for c in 0..2 do
                            let mean, var =
                                moments
                                    [
                                        for i in 0 .. xs.Length - 1 do
                                            if channelOf i = c then
                                                xs[i]
                                    ]

                            for i in 0 .. xs.Length - 1 do
                                if channelOf i = c then
                                    let expected = float32 ((float xs[i] - mean) / sqrt (var + 1e-3))

                                    if abs (y[i] - expected) > 1e-5f then
                                        failtestf "element %d: %g, expected %g" i y[i] expected
                    }

                    test "a Keras mask keeps masked steps out of the training statistics" {
                        let layer = bnDefault ()
                        // One channel, steps 1, 3, 100 with the last masked: mean 2, variance 1.
                        let x = torch.tensor([| 1.f; 3.f; 100.f |]).reshape(1L, 3L, 1L)
                        let mask = torch.tensor([| true; true; false |]).reshape(1L, 3L)
                        let y = callMasked layer true [ Some mask ] [ x ] |> List.exactlyOne |> values
                        let s = sqrt 1.001f
                        closeTo 1e-4f [| -1.f / s; 1.f / s; 98.f / s |] y "statistics of the unmasked steps"
                        closeTo 1e-5f [| 0.02f |] (values (weightAt layer 2)) "moving_mean from the unmasked mean"
                    }

                    test "training-mode gradients match finite differences" {
                        torch.manual_seed 13L |> ignore
                        let layer = bnDefault ()
                        let x0 = torch.randn (4L, 3L, dtype = torch.ScalarType.Float64)
                        Layer.callEager layer false [ x0 ] |> ignore

                        Layer.setWeights
                            layer
                            [
                                torch.tensor [| 1.5f; -0.7f; 0.9f |]
                                torch.tensor [| 0.1f; 0.2f; -0.3f |]
                                torch.zeros 3L
                                torch.ones 3L
                            ]

                        let r = torch.randn (4L, 3L, dtype = torch.ScalarType.Float64)
                        let loss (x: torch.Tensor) = (eager layer true x).mul(r).sum()

                        let x = x0.clone().requires_grad_ true
                        (loss x).backward()
                        let analytic = x.grad.data<float>().ToArray()
                        let flat = x0.reshape (-1L)
                        let h = 1e-6

                        for i in 0 .. analytic.Length - 1 do
                            let shifted (d: float) =
                                use _ = torch.no_grad ()
                                let p = flat.clone ()
                                p[int64 i] <- p[int64 i].add(d.ToScalar())
                                (loss (p.reshape (4L, 3L))).item<float>()

                            let numeric = (shifted h - shifted -h) / (2.0 * h)

                            Expect.floatClose
                                { absolute = 1e-6; relative = 1e-4 }
                                analytic[i]
                                numeric
                                $"d loss / d x[{i}]"

                        // The gradient reaches gamma too: d loss / d gamma_c = sum over the batch of r · x̂.
                        let gamma = (weightAt layer 0)
                        gamma.grad.zero_ () |> ignore
                        (loss x0).backward()

                        let xhat =
                            eager
                                (bn
                                    { BatchNormalizationConfig.Default with
                                        Center = false
                                        Scale = false
                                    })
                                true
                                x0

                        let expected = xhat.mul(r).sum(0L).to_type torch.ScalarType.Float32
                        closeTo 1e-4f (values expected) (values gamma.grad) "d loss / d gamma"
                    }
                ]

            testList
                "other values"
                [
                    test "LayerNormalization normalizes each sample and applies gamma and beta" {
                        torch.manual_seed 21L |> ignore
                        let layer = layerNormalization LayerNormalizationConfig.Default None
                        let x = torch.randn (2L, 3L, 4L)
                        Layer.callEager layer false [ x ] |> ignore
                        let gamma, beta = [| 1.f; 2.f; -1.f; 0.5f |], [| 0.f; 1.f; 2.f; 3.f |]
                        Layer.setWeights layer [ torch.tensor gamma; torch.tensor beta ]
                        let xs, y = values x, values (eager layer true x)

                        for row in 0..5 do
                            let mean, var = moments xs[row * 4 .. row * 4 + 3]

                            for j in 0..3 do
                                let expected =
                                    float32 ((float xs[row * 4 + j] - mean) / sqrt (var + 1e-3)) * gamma[j]
                                    + beta[j]

                                if abs (y[row * 4 + j] - expected) > 1e-5f then
                                    failtestf "row %d, feature %d: %g, expected %g" row j y[row * 4 + j] expected
                    }

                    test "LayerNormalization over axes 1 and 2 uses one mean per sample" {
                        let layer =
                            layerNormalization
                                { LayerNormalizationConfig.Default with
                                    Axis = [ 1; 2 ]
                                }
                                None

                        let x = torch.arange(12.f).reshape(1L, 3L, 4L)
                        let y = values (eager layer false x)
                        let mean, var = moments (values x)

                        let expected =
                            values x |> Array.map (fun v -> float32 ((float v - mean) / sqrt (var + 1e-3)))

                        closeTo 1e-5f expected y "whole-sample statistics"
                    }

                    // Trailing axes take libtorch's fused layer_norm, other axes the explicit formula: both against
                    // one loop over (batch 2, 3, 4) with gamma and beta shaped in the order of `axis`.
                    for axis in [ [ -1 ]; [ 1; 2 ]; [ 1 ]; [ 2; 1 ] ] do
                        test $"LayerNormalization over axes {axis} against a loop, with gamma and beta" {
                            torch.manual_seed 23L |> ignore

                            let layer =
                                layerNormalization
                                    { LayerNormalizationConfig.Default with
                                        Axis = axis
                                    }
                                    None

                            let x = torch.randn (2L, 3L, 4L)
                            Layer.callEager layer false [ x ] |> ignore
                            let dims = [| 2; 3; 4 |]
                            let axes = axis |> List.map (fun a -> if a < 0 then a + 3 else a)
                            let paramShape = axes |> List.map (fun a -> dims[a])
                            let count = List.reduce (*) paramShape
                            let gamma = Array.init count (fun i -> 0.5f + 0.25f * float32 i)
                            let beta = Array.init count (fun i -> float32 i - 1.f)

                            Layer.setWeights
                                layer
                                [
                                    torch.tensor(gamma).reshape (paramShape |> List.map int64 |> Array.ofList)
                                    torch.tensor(beta).reshape (paramShape |> List.map int64 |> Array.ofList)
                                ]

                            let xs = values x
                            let y = values (eager layer false x)
                            let at (i: int[]) = (i[0] * 3 + i[1]) * 4 + i[2]
                            // Keras reshapes gamma/beta (shaped in the order of `axis`) to the broadcast shape, so an
                            // element's parameter is at its coordinates on the normalized axes in ascending order.
                            let paramIndex (i: int[]) =
                                List.sort axes |> List.fold (fun acc a -> acc * dims[a] + i[a]) 0

                            let sameGroup (i: int[]) (j: int[]) =
                                [ 0..2 ] |> List.forall (fun a -> List.contains a axes || i[a] = j[a])

                            let all =
                                [ for b in 0..1 do
                                      for t in 0..2 do
                                          for c in 0..3 -> [| b; t; c |] ]

                            for i in all do
                                let group = all |> List.filter (sameGroup i) |> List.map (fun j -> float xs[at j])
                                let mean = List.average group
                                let var = group |> List.averageBy (fun v -> (v - mean) ** 2.0)

                                let expected =
                                    float32 ((float xs[at i] - mean) / sqrt (var + 1e-3)) * gamma[paramIndex i]
                                    + beta[paramIndex i]

                                if abs (y[at i] - expected) > 1e-5f then
                                    failtestf "%A: %g, expected %g" i y[at i] expected
                        }

                    test "GroupNormalization normalizes each group of channels over all steps" {
                        torch.manual_seed 22L |> ignore

                        let layer =
                            groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = 2
                                }
                                None
                        // (batch 2, steps 3, channels 4): groups {0, 1} and {2, 3}, 6 values each per sample.
                        let x = torch.randn (2L, 3L, 4L)
                        Layer.callEager layer false [ x ] |> ignore
                        let gamma, beta = [| 1.f; 2.f; 3.f; 4.f |], [| -1.f; 0.f; 1.f; 2.f |]
                        Layer.setWeights layer [ torch.tensor gamma; torch.tensor beta ]
                        let xs, y = values x, values (eager layer false x)
                        let index b t c = b * 12 + t * 4 + c

                        for b in 0..1 do
                            for g in 0..1 do
                                let mean, var =
                                    moments
                                        [
                                            for t in 0..2 do
                                                for c in 2 * g .. 2 * g + 1 -> xs[index b t c]
                                        ]

                                for t in 0..2 do
                                    for c in 2 * g .. 2 * g + 1 do
                                        let i = index b t c

                                        let expected =
                                            float32 ((float xs[i] - mean) / sqrt (var + 1e-3)) * gamma[c] + beta[c]

                                        if abs (y[i] - expected) > 1e-5f then
                                            failtestf "b %d t %d c %d: %g, expected %g" b t c y[i] expected
                    }

                    test "GroupNormalization with groups -1 is instance normalization" {
                        let layer =
                            groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = -1
                                }
                                None

                        let x = torch.tensor([| 1.f; 10.f; 3.f; 30.f |]).reshape(1L, 2L, 2L)
                        let e = 1.f / sqrt 1.001f
                        let e10 = 10.f / sqrt 100.001f
                        closeTo 1e-5f [| -e; -e10; e; e10 |] (values (eager layer false x)) "each channel on its own"
                    }

                    test "UnitNormalization scales to unit L2 norm and keeps zero vectors" {
                        let layer = unitNormalization [ -1 ] None
                        let y = eager layer false (tensor2 [ [ 3.f; 4.f ]; [ 0.f; 0.f ] ])
                        closeTo 1e-6f [| 0.6f; 0.8f; 0.f; 0.f |] (values y) "x / max(||x||, eps)"
                        let both = unitNormalization [ 1; 2 ] None

                        let z =
                            eager both false (torch.tensor([| 1.f; 1.f; 1.f; 1.f |]).reshape(1L, 2L, 2L))

                        closeTo 1e-6f [| 0.5f; 0.5f; 0.5f; 0.5f |] (values z) "norm over two axes"
                    }
                ]

            testList
                "errors"
                [
                    test "BatchNormalization axis out of range" {
                        let layer =
                            bn
                                { BatchNormalizationConfig.Default with
                                    Axis = 2
                                }

                        let message =
                            messageOf (fun () -> Layer.call layer (sym [ None; Some 3 ]) |> ignore)

                        Expect.stringContains
                            message
                            "Axis 2 is out of bounds for input shape (None, 3)."
                            "Keras's wording"

                        Expect.stringContains message (layer.Name) "names the layer"

                        let negative =
                            bn
                                { BatchNormalizationConfig.Default with
                                    Axis = -3
                                }

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call negative (sym [ None; Some 3 ]) |> ignore))
                            "Axis -3 is out of bounds"
                            "negative axis"
                    }

                    test "BatchNormalization needs a known channel count" {
                        let message =
                            messageOf (fun () -> Layer.call (bnDefault ()) (sym [ None; None ]) |> ignore)

                        Expect.stringContains
                            message
                            "Axis -1 of input tensor should have a defined dimension"
                            "unknown channels"
                    }

                    test "BatchNormalization checks later inputs against the built shape" {
                        let layer = bnDefault ()
                        Layer.call layer (sym [ None; Some 3 ]) |> ignore

                        let message =
                            messageOf (fun () -> Layer.call layer (sym [ None; Some 4 ]) |> ignore)

                        Expect.stringContains message "expected axis -1 of input shape to have value 3" "InputSpec axes"

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call layer (sym [ None; Some 2; Some 3 ]) |> ignore))
                            "expected ndim=2"
                            "InputSpec ndim"
                    }

                    test "LayerNormalization axis out of range" {
                        let layer =
                            layerNormalization
                                { LayerNormalizationConfig.Default with
                                    Axis = [ 1; 3 ]
                                }
                                None

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call layer (sym [ None; Some 2; Some 3 ]) |> ignore))
                            "Axis 3 is out of bounds for input shape (None, 2, 3)."
                            "Keras's wording"
                    }

                    test "GroupNormalization needs channels that split into the groups" {
                        let over =
                            groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = 8
                                }
                                None

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call over (sym [ None; Some 4 ]) |> ignore))
                            "Number of groups (8) cannot be more than the number of channels (4)."
                            "too many groups"

                        let uneven =
                            groupNormalization
                                { GroupNormalizationConfig.Default with
                                    Groups = 4
                                }
                                None

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call uneven (sym [ None; Some 6 ]) |> ignore))
                            "Number of groups (4) must be a multiple of the number of channels (6)."
                            "uneven split"

                        let defaults = groupNormalization GroupNormalizationConfig.Default None

                        Expect.stringContains
                            (messageOf (fun () -> Layer.call defaults (sym [ None; Some 16 ]) |> ignore))
                            "Number of groups (32)"
                            "32 groups by default"
                    }

                    test "constructors reject bad arguments" {
                        Expect.throwsT<KerasException>
                            (fun () ->
                                bn
                                    { BatchNormalizationConfig.Default with
                                        Momentum = 1.5
                                    }
                                |> ignore)
                            "momentum"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                layerNormalization
                                    { LayerNormalizationConfig.Default with
                                        Axis = []
                                    }
                                    None
                                |> ignore)
                            "no axis"

                        Expect.throwsT<KerasException>
                            (fun () ->
                                groupNormalization
                                    { GroupNormalizationConfig.Default with
                                        Groups = 0
                                    }
                                    None
                                |> ignore)
                            "zero groups"
                    }
                ]
        ]
