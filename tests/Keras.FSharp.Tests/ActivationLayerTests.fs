/// Issue 13, activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax. Shapes, forward values against plain-loop
/// references, PReLU's weights and gradient, Softmax's mask, Keras's errors and configs both ways.
module ActivationLayerTests

open System.Text.Json.Nodes
open Expecto
open TorchSharp
open Keras
open TestData

let private eager (layer: Layer) (x: torch.Tensor) =
    Layer.callEager layer false [ x ] |> List.exactlyOne

/// The keys of a layer's config, in order.
let internal configKeys (layer: Layer) =
    Layer.getConfig layer |> Seq.map _.Key |> List.ofSeq

/// One entry of a layer's config as JSON text ("null" when absent or null).
let internal configEntry (layer: Layer) (key: string) =
    let node = (Layer.getConfig layer)[key]
    if isNull node then "null" else node.ToJsonString()

/// get_config → from_config (through Keras's serialized form) gives the same config; the rebuilt layer is returned.
let internal configRoundTrip (layer: Layer) =
    let serialized = LayerSerialization.serialize layer None
    let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized

    Expect.equal
        ((Layer.getConfig rebuilt).ToJsonString())
        ((Layer.getConfig layer).ToJsonString())
        $"config of {layer.ClassName} survives from_config"

    Expect.equal rebuilt.ClassName layer.ClassName "class"
    rebuilt

/// A Keras-written layer config.
let internal fromKeras (className: string) (config: string) =
    let node =
        JsonNode.Parse(
            $"{{\"module\": \"keras.layers\", \"class_name\": \"{className}\", \"config\": {config}, \"registered_name\": null}}"
        )

    LayerSerialization.deserialize CustomObjects.none (node.AsObject())

let private sample =
    [| -3.0f; -1.5f; -0.5f; 0.0f; 0.25f; 0.5f; 1.0f; 2.5f; 6.0f; 7.5f |]

/// Keras's relu(x, negative_slope, max_value, threshold), one value at a time.
let private reluRef (slope: float32) (maxValue: float32 option) (threshold: float32) (x: float32) =
    if x > threshold then
        match maxValue with
        | Some m -> min x m
        | None -> x
    else
        slope * (x - threshold)

[<Tests>]
let tests =
    testList
        "Issue13.Activations"
        [
            test "ReLU, LeakyReLU, ELU and Softmax keep the shape; PReLU has one weight" {
                runLayerTest (Layers.ReLU(maxValue = 6.0)) [ [ None; Some 3; Some 4 ] ] [ None; Some 3; Some 4 ] 0
                runLayerTest (Layers.LeakyReLU()) [ [ None; Some 5 ] ] [ None; Some 5 ] 0
                runLayerTest (Layers.ELU()) [ [ None; Some 5 ] ] [ None; Some 5 ] 0
                runLayerTest (Layers.Softmax()) [ [ None; Some 2; Some 5 ] ] [ None; Some 2; Some 5 ] 0
                runLayerTest (Layers.PReLU()) [ [ None; Some 4; Some 3 ] ] [ None; Some 4; Some 3 ] 1
            }

            test "ReLU's four forms match Keras's formula value by value" {
                let x = torch.tensor sample

                for slope, maxValue, threshold in
                    [
                        0.0, None, 0.0
                        0.0, Some 6.0, 0.0
                        0.2, None, 0.0
                        0.1, Some 2.0, 0.5
                        0.0, Some 3.0, 1.0
                    ] do
                    let layer =
                        Layers.ReLU(?maxValue = maxValue, negativeSlope = slope, threshold = threshold)

                    let expected =
                        sample
                        |> Array.map (reluRef (float32 slope) (maxValue |> Option.map float32) (float32 threshold))

                    closeTo 1e-6f expected (values (eager layer x)) $"ReLU({slope}, {maxValue}, {threshold})"
            }

            test "ReLU refuses negative arguments with Keras's messages" {
                let _, m1 = kerasError (fun () -> Layers.ReLU(maxValue = -1.0))
                Expect.stringContains m1 "max_value of a ReLU layer cannot be a negative value" "max_value"
                Expect.stringContains m1 "max_value=-1" "received"
                let _, m2 = kerasError (fun () -> Layers.ReLU(negativeSlope = -0.1))
                Expect.stringContains m2 "negative_slope of a ReLU layer cannot be None or a negative value" "slope"
                let _, m3 = kerasError (fun () -> Layers.ReLU(threshold = -2.0))
                Expect.stringContains m3 "threshold of a ReLU layer cannot be None or a negative value" "threshold"
                let _, m4 = kerasError (fun () -> Layers.LeakyReLU(-0.5))
                Expect.stringContains m4 "cannot be None or negative value" "leaky"
            }

            test "LeakyReLU defaults to Keras 3's 0.3 and reads Keras 2's alpha" {
                let x = torch.tensor sample
                let expected = sample |> Array.map (fun v -> if v >= 0.0f then v else 0.3f * v)
                closeTo 1e-6f expected (values (eager (Layers.LeakyReLU()) x)) "slope 0.3"

                let keras2 =
                    fromKeras "LeakyReLU" """{"name": "lr", "trainable": true, "alpha": 0.2}"""

                Expect.equal keras2.Name "lr" "name"
                Expect.equal (configEntry keras2 "negative_slope") "0.2" "alpha read as negative_slope"
                let expected2 = sample |> Array.map (fun v -> if v >= 0.0f then v else 0.2f * v)
                closeTo 1e-6f expected2 (values (eager keras2 x)) "slope 0.2"
            }

            test "ELU follows alpha·(exp(x) - 1) below zero" {
                let x = torch.tensor sample

                let expected =
                    sample |> Array.map (fun v -> if v > 0.0f then v else 0.5f * (exp v - 1.0f))

                closeTo 1e-6f expected (values (eager (Layers.ELU(alpha = 0.5)) x)) "ELU(0.5)"
            }

            test "PReLU: alpha of shape input_shape[1:], 1 on shared axes; values; Keras's input check" {
                let layer = Layers.PReLU()
                runLayerTest layer [ [ None; Some 4; Some 5; Some 3 ] ] [ None; Some 4; Some 5; Some 3 ] 1
                Expect.equal (Layer.weights layer).Head.Value.shape [| 4L; 5L; 3L |] "alpha shape"
                Expect.equal (Layer.weights layer).Head.Name "alpha" "weight name"
                Expect.equal (Layer.countParams layer) 60L "params"

                let shared = Layers.PReLU(sharedAxes = [ 1; 2 ])
                runLayerTest shared [ [ None; Some 4; Some 5; Some 3 ] ] [ None; Some 4; Some 5; Some 3 ] 1
                Expect.equal (Layer.weights shared).Head.Value.shape [| 1L; 1L; 3L |] "shared alpha shape"

                Layer.setWeights shared [ torch.tensor([| 0.1f; 0.2f; 0.3f |]).reshape(1L, 1L, 3L) ]
                torch.manual_seed 3L |> ignore
                let x = torch.randn (2L, 4L, 5L, 3L)
                let xs = values x
                let y = values (eager shared x)

                let expected =
                    xs
                    |> Array.mapi (fun i v -> if v >= 0.0f then v else [| 0.1f; 0.2f; 0.3f |][i % 3] * v)

                closeTo 1e-6f expected y "per-channel slopes"

                let _, message = kerasError (fun () -> eager shared (torch.randn (2L, 4L, 5L, 2L)))

                Expect.stringContains
                    message
                    "expected axis 3 of input shape to have value 3, but received input with shape (2, 4, 5, 2)"
                    "Keras's input spec message"
            }

            test "PReLU's gradient on alpha is min(x, 0) weighted by the upstream gradient" {
                let layer = Layers.PReLU(alphaInitializer = Constant 0.25)
                torch.manual_seed 5L |> ignore
                let x = torch.randn (3L, 4L)
                let r = torch.randn (3L, 4L)
                (eager layer x).mul(r).sum().backward()
                let alpha = (Layer.weights layer).Head.Value
                let xs, rs = values x, values r

                let expected =
                    Array.init 4 (fun j -> [ 0..2 ] |> List.sumBy (fun i -> rs[i * 4 + j] * min xs[i * 4 + j] 0.0f))

                closeTo 1e-5f expected (values alpha.grad) "d loss / d alpha"

                let dx = Array.init 12 (fun k -> if xs[k] >= 0.0f then rs[k] else 0.25f * rs[k])

                let xg = x.clone().requires_grad_ true
                (eager layer xg).mul(r).sum().backward()
                closeTo 1e-5f dx (values xg.grad) "d loss / d x"
            }

            test "PReLU's alpha regularizer and constraint act on alpha" {
                let layer =
                    Layers.PReLU(alphaInitializer = Constant -0.5, alphaRegularizer = L1 0.1, alphaConstraint = NonNeg)

                eager layer (torch.ones (2L, 3L)) |> ignore
                let weights = Weights.ofLayer layer
                let penalty = layer.Spec.RegularizationLosses weights |> List.exactlyOne
                Expect.floatClose Accuracy.medium (penalty.item<float32>() |> float) 0.15 "0.1 · sum(|alpha|)"
                Weights.applyConstraints weights
                closeTo 0.0f [| 0.0f; 0.0f; 0.0f |] (values weights[0].Value) "non_neg clips alpha"
            }

            test "Softmax over one axis and over several axes" {
                torch.manual_seed 7L |> ignore
                let x = torch.randn (2L, 3L, 4L)
                let xs = values x
                let y = values (eager (Layers.Softmax()) x)

                for row in 0..5 do
                    let logits = xs[row * 4 .. row * 4 + 3]
                    let top = Array.max logits
                    let e = logits |> Array.map (fun v -> exp (v - top))
                    closeTo 1e-6f (e |> Array.map (fun v -> v / Array.sum e)) y[row * 4 .. row * 4 + 3] $"row {row}"

                let joint = values (eager (Layers.Softmax(axis = [ 1; 2 ])) x)

                for b in 0..1 do
                    let logits = xs[b * 12 .. b * 12 + 11]
                    let e = logits |> Array.map exp
                    closeTo 1e-6f (e |> Array.map (fun v -> v / Array.sum e)) joint[b * 12 .. b * 12 + 11] $"sample {b}"
            }

            test "Softmax gives masked positions no probability" {
                let layer = Layers.Softmax()

                let x =
                    torch.tensor (array2D [ [ 1.0f; 2.0f; 3.0f; 4.0f ]; [ 0.5f; 0.5f; 9.0f; -1.0f ] ])

                let mask =
                    torch.tensor (array2D [ [ true; true; false; true ]; [ false; true; true; true ] ])

                Layer.outputSpecs layer [ Layer.specOf x ] |> Errors.orRaise |> ignore

                let y =
                    layer.Spec.Call (Layer.contextFor layer false [ Some mask ] ignore [ x ]) [ x ]
                    |> List.exactlyOne

                let reference (logits: float32[]) (keep: bool[]) =
                    let e = Array.map2 (fun v k -> if k then exp v else 0.0f) logits keep
                    e |> Array.map (fun v -> v / Array.sum e)

                closeTo
                    1e-6f
                    (Array.append
                        (reference [| 1.0f; 2.0f; 3.0f; 4.0f |] [| true; true; false; true |])
                        (reference [| 0.5f; 0.5f; 9.0f; -1.0f |] [| false; true; true; true |]))
                    (values y)
                    "softmax over the unmasked positions, 0 elsewhere"

                // A (batch, 1) mask broadcasts; a mask with a wrong axis is refused with Keras's words.
                let rowMask = torch.tensor (array2D [ [ true ]; [ false ] ])

                let y2 =
                    layer.Spec.Call (Layer.contextFor layer false [ Some rowMask ] ignore [ x ]) [ x ]
                    |> List.exactlyOne

                closeTo 0.0f (Array.zeroCreate 4) (values y2).[4..] "a fully masked row is 0"

                let bad = torch.ones (2L, 3L, dtype = torch.ScalarType.Bool)

                let _, message =
                    kerasError (fun () ->
                        layer.Spec.Call (Layer.contextFor layer false [ Some bad ] ignore [ x ]) [ x ])

                Expect.stringContains message "The `mask` must be broadcastable to `inputs`" "mask error"
                Expect.stringContains message "mask.shape=(2, 3)" "received"
            }

            test "configs: Keras 3's keys and defaults, and from_config back" {
                Expect.equal
                    (configKeys (Layers.ReLU()))
                    [ "name"; "trainable"; "dtype"; "max_value"; "negative_slope"; "threshold" ]
                    "ReLU keys"

                let relu = Layer.getConfig (Layers.ReLU())
                Expect.isNull relu["max_value"] "max_value None"
                Expect.equal (relu["negative_slope"].GetValue<float>()) 0.0 "negative_slope"

                Expect.equal
                    (configKeys (Layers.LeakyReLU()))
                    [ "name"; "trainable"; "dtype"; "negative_slope" ]
                    "LeakyReLU"

                Expect.equal
                    (configKeys (Layers.PReLU()))
                    [
                        "name"
                        "trainable"
                        "dtype"
                        "alpha_initializer"
                        "alpha_regularizer"
                        "alpha_constraint"
                        "shared_axes"
                    ]
                    "PReLU keys"

                Expect.equal
                    (configEntry (Layers.PReLU()) "alpha_initializer")
                    """{"module":"keras.initializers","class_name":"Zeros","config":{},"registered_name":null}"""
                    "PReLU's zeros"

                Expect.equal (configEntry (Layers.Softmax()) "axis") "-1" "Softmax axis"

                for layer in
                    [
                        Layers.ReLU(maxValue = 6.0, negativeSlope = 0.1, threshold = 0.5)
                        Layers.LeakyReLU(0.05)
                        Layers.PReLU(
                            alphaInitializer = Constant 0.25,
                            alphaRegularizer = L2 0.01,
                            alphaConstraint = NonNeg,
                            sharedAxes = [ 1 ]
                        )
                        Layers.ELU(0.7)
                        Layers.Softmax(axis = [ 1; 2 ])
                    ] do
                    let rebuilt = configRoundTrip layer
                    let x = torch.randn (2L, 3L, 4L)

                    closeTo
                        1e-6f
                        (values (eager layer x))
                        (values (eager rebuilt x))
                        $"{layer.ClassName} predicts the same"
            }
        ]
