/// Issue 13, core and merging extras: Identity, ActivityRegularization, Dot (Keras's batch-dot shape rule, an FsCheck
/// property against eager results), EinsumDense (Keras's shape analysis, values against loops, gradients).
module CoreExtraLayerTests

open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.CoreExtraLayers
open TestData
open ActivationLayerTests

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private eager (layer: Layer) (inputs: torch.Tensor list) =
    Layer.callEager layer false inputs |> List.exactlyOne

/// A random Dot case: batch 2, two inputs of rank 2 to 4 sharing one contracted size, and their axes.
let private dotCases =
    gen {
        let! rank1 = Gen.choose (2, 4)
        let! rank2 = Gen.choose (2, 4)
        let! dims1 = Gen.listOfLength (rank1 - 1) (Gen.choose (1, 4))
        let! dims2 = Gen.listOfLength (rank2 - 1) (Gen.choose (1, 4))
        let! a1 = Gen.choose (1, rank1 - 1)
        let! a2 = Gen.choose (1, rank2 - 1)
        let! k = Gen.choose (1, 4)
        let s1 = 2 :: (dims1 |> List.updateAt (a1 - 1) k)
        let s2 = 2 :: (dims2 |> List.updateAt (a2 - 1) k)
        return s1, s2, a1, a2
    }

/// The plain-loop dot product of two batched arrays over one axis each, in Keras's output order.
let private dotReference (s1: int list) (s2: int list) (a1: int) (a2: int) (x: float32[]) (y: float32[]) =
    let strides (s: int list) =
        s |> List.mapi (fun i _ -> s |> List.skip (i + 1) |> List.fold (*) 1)

    let st1, st2 = strides s1, strides s2
    let rest1 = [ 1 .. s1.Length - 1 ] |> List.filter ((<>) a1)
    let rest2 = [ 1 .. s2.Length - 1 ] |> List.filter ((<>) a2)

    let rec indexes (dims: int list) =
        match dims with
        | [] -> [ [] ]
        | d :: rest ->
            [
                for i in 0 .. d - 1 do
                    for tail in indexes rest -> i :: tail
            ]

    [|
        for b in 0 .. s1.Head - 1 do
            for i1 in indexes (rest1 |> List.map (fun a -> s1[a])) do
                for i2 in indexes (rest2 |> List.map (fun a -> s2[a])) do
                    let mutable acc = 0.0f

                    for k in 0 .. s1[a1] - 1 do
                        let p1 =
                            b * st1[0]
                            + k * st1[a1]
                            + (List.map2 (fun a i -> i * st1[a]) rest1 i1 |> List.sum)

                        let p2 =
                            b * st2[0]
                            + k * st2[a2]
                            + (List.map2 (fun a i -> i * st2[a]) rest2 i2 |> List.sum)

                        acc <- acc + x[p1] * y[p2]

                    yield acc
    |]

let private dotProperty (s1: int list, s2: int list, a1: int, a2: int) =
    let layer = Layers.Dot((a1, a2))

    let symbolic =
        Layer.callMany
            layer
            [
                sym (None :: (s1.Tail |> List.map Some))
                sym (None :: (s2.Tail |> List.map Some))
            ]

    let x = torch.randn (s1 |> List.map int64 |> Array.ofList)
    let y = torch.randn (s2 |> List.map int64 |> Array.ofList)
    let out = eager layer [ x; y ]
    let expectedShape = symbolic.Head.Shape |> List.tail |> List.map Option.get
    let reference = dotReference s1 s2 a1 a2 (values x) (values y)

    List.ofArray out.shape = 2L :: (expectedShape |> List.map int64)
    && Array.forall2 (fun (p: float32) q -> abs (p - q) <= 1e-4f) (values out) reference

[<Tests>]
let tests =
    testList
        "Issue13.CoreExtras"
        [
            test "Identity returns its input and passes the mask" {
                runLayerTest (Layers.Identity()) [ [ None; Some 3 ] ] [ None; Some 3 ] 0
                let x = torch.randn (2L, 3L)
                let layer = Layers.Identity()
                closeTo 0.0f (values x) (values (eager layer [ x ])) "same values"
                let mask = torch.tensor [| true; false |]
                Expect.isTrue (layer.Spec.ComputeMask [ x ] [ Some mask ]).Head.IsSome "mask passes"
                Expect.equal (configKeys layer) [ "name"; "trainable"; "dtype" ] "Identity's config"
                configRoundTrip layer |> ignore
            }

            test "ActivityRegularization adds l1·sum|x| + l2·sum x² and returns its input" {
                let layer = Layers.ActivityRegularization(l1 = 0.01, l2 = 0.1)
                let x = torch.tensor (array2D [ [ 1.0f; -2.0f ]; [ 0.5f; 3.0f ] ])
                let losses = ResizeArray<torch.Tensor>()
                Layer.outputSpecs layer [ Layer.specOf x ] |> Errors.orRaise |> ignore

                let y =
                    layer.Spec.Call (Layer.contextFor layer true [] losses.Add [ x ]) [ x ]
                    |> List.exactlyOne

                closeTo 0.0f (values x) (values y) "identity"
                let expected = 0.01 * (1.0 + 2.0 + 0.5 + 3.0) + 0.1 * (1.0 + 4.0 + 0.25 + 9.0)

                Expect.floatClose
                    Accuracy.high
                    (losses |> Seq.exactlyOne |> _.item<float32>() |> float)
                    expected
                    "the loss"

                Expect.equal (configKeys layer) [ "name"; "trainable"; "dtype"; "l1"; "l2" ] "Keras's keys"
                configRoundTrip layer |> ignore
                let _, message = kerasError (fun () -> Layers.ActivityRegularization(l1 = -1.0))
                Expect.stringContains message "non-negative" "negative factor refused"
            }

            test "Dot: Keras's batch-dot shapes" {
                runLayerTest (Layers.Dot(1)) [ [ None; Some 8 ]; [ None; Some 8 ] ] [ None; Some 1 ] 0

                runLayerTest
                    (Layers.Dot((1, 2)))
                    [ [ None; Some 3; Some 5 ]; [ None; Some 10; Some 3 ] ]
                    [ None; Some 5; Some 10 ]
                    0

                runLayerTest (Layers.Dot(-1)) [ [ None; Some 4; Some 6 ]; [ None; Some 6 ] ] [ None; Some 4 ] 0

                runLayerTest
                    (Layers.Dot((2, 1)))
                    [ [ None; Some 20; Some 1 ]; [ None; Some 1; Some 30 ] ]
                    [ None; Some 20; Some 30 ]
                    0
            }

            test "Dot: values against a loop, normalize gives the cosine" {
                let x = torch.tensor (array2D [ [ 1.0f; 2.0f; 2.0f ]; [ 3.0f; 0.0f; 4.0f ] ])
                let y = torch.tensor (array2D [ [ 2.0f; 0.0f; 1.0f ]; [ 0.0f; 0.0f; 2.0f ] ])
                closeTo 1e-6f [| 4.0f; 8.0f |] (values (eager (Layers.Dot(1)) [ x; y ])) "dot"

                closeTo
                    1e-6f
                    [| 4.0f / (3.0f * sqrt 5.0f); 8.0f / 10.0f |]
                    (values (eager (Layers.Dot(1, normalize = true)) [ x; y ]))
                    "cosine"
            }

            test "Dot's errors are Keras's" {
                let _, m1 =
                    kerasError (fun () -> Layer.callMany (Layers.Dot(1)) [ sym [ None; Some 4 ]; sym [ None; Some 5 ] ])

                Expect.stringContains
                    m1
                    "Incompatible input shapes: axis values 4 (at axis 1) != 5 (at axis 1). Full input shapes: (None, 4), (None, 5)"
                    "size mismatch"

                let _, m2 =
                    kerasError (fun () -> Layer.callMany (Layers.Dot(0)) [ sym [ None; Some 4 ]; sym [ None; Some 4 ] ])

                Expect.stringContains m2 "Cannot perform batch_dot over axis 0." "batch axis"

                let _, m3 =
                    kerasError (fun () -> Layer.callMany (Layers.Dot(1)) [ sym [ None; Some 4 ] ])

                Expect.stringContains m3 "A `Dot` layer should be called on a list of 2 inputs." "arity"
            }

            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 60
                }
                "Dot's symbolic shape is the eager shape, and values match a plain loop"
                (Prop.forAll (Arb.fromGen dotCases) dotProperty)

            test "Dot's config: axes as Keras writes them, and back" {
                Expect.equal (configKeys (Layers.Dot(1))) [ "name"; "trainable"; "dtype"; "axes"; "normalize" ] "keys"
                Expect.equal (configEntry (Layers.Dot((1, 2))) "axes") "[1,2]" "pair"
                configRoundTrip (Layers.Dot(1, normalize = true)) |> ignore
                configRoundTrip (Layers.Dot((2, 1))) |> ignore

                let fromPython =
                    fromKeras "Dot" """{"name": "d", "axes": [1, 1], "normalize": false}"""

                Expect.equal (configEntry fromPython "axes") "[1,1]" "a Keras list of axes"
            }

            test "EinsumDense: kernel and bias shapes from the equation" {
                let dense = Layers.EinsumDense("ab,bc->ac", [ 64 ], biasAxes = "c")
                runLayerTest dense [ [ None; Some 32 ] ] [ None; Some 64 ] 2

                Expect.equal
                    (Layer.weights dense |> List.map (fun w -> w.Name, w.Value.shape))
                    [ "kernel", [| 32L; 64L |]; "bias", [| 64L |] ]
                    "Dense-like"

                let seq = Layers.EinsumDense("abc,cd->abd", [ None; Some 64 ], biasAxes = "d")
                runLayerTest seq [ [ None; Some 32; Some 128 ] ] [ None; Some 32; Some 64 ] 2
                Expect.equal (Layer.weights seq |> List.map _.Value.shape) [ [| 128L; 64L |]; [| 64L |] ] "sequence"

                let ellipsis = Layers.EinsumDense("...x,xy->...y", [ 64 ], biasAxes = "y")
                runLayerTest ellipsis [ [ None; Some 32; Some 128 ] ] [ None; Some 32; Some 64 ] 2

                let heads =
                    Layers.EinsumDense("abc,cde->abde", [ None; Some 4; Some 8 ], biasAxes = "de")

                runLayerTest heads [ [ None; Some 5; Some 16 ] ] [ None; Some 5; Some 4; Some 8 ] 2
                Expect.equal (Layer.weights heads |> List.map _.Value.shape) [ [| 16L; 4L; 8L |]; [| 4L; 8L |] ] "heads"
                Expect.equal (Layer.countParams heads) (16L * 32L + 32L) "params"

                let right = Layers.EinsumDense("ab...,bc->ac...", [ 6 ], biasAxes = "c")
                runLayerTest right [ [ None; Some 3; Some 7 ] ] [ None; Some 6; Some 7 ] 2

                Expect.equal
                    (Layer.weights right |> List.map _.Value.shape)
                    [ [| 3L; 6L |]; [| 6L; 1L |] ]
                    "right-elided bias"
            }

            test "EinsumDense: values against a loop, and gradients" {
                let layer =
                    Layers.EinsumDense("abc,cde->abde", [ None; Some 2; Some 3 ], biasAxes = "e", activation = Relu)

                torch.manual_seed 11L |> ignore
                let x = torch.randn (2L, 3L, 4L)
                eager layer [ x ] |> ignore
                let kernel = torch.randn (4L, 2L, 3L)
                let bias = torch.tensor [| 0.1f; -0.2f; 0.3f |]
                Layer.setWeights layer [ kernel; bias ]
                let y = values (eager layer [ x ])
                let xs, ks, bs = values x, values kernel, values bias

                let expected =
                    [|
                        for a in 0..1 do
                            for b in 0..2 do
                                for d in 0..1 do
                                    for e in 0..2 do
                                        let s =
                                            [ 0..3 ]
                                            |> List.sumBy (fun c -> xs[a * 12 + b * 4 + c] * ks[c * 6 + d * 3 + e])

                                        yield max 0.0f (s + bs[e])
                    |]

                closeTo 1e-5f expected y "einsum + bias, relu"

                // d sum(r · y) / d kernel[c, d, e] = sum over a, b of r · relu'(z) · x[a, b, c].
                let linear = Layers.EinsumDense("ab,bc->ac", [ 3 ])
                let x2 = torch.randn (5L, 4L)
                eager linear [ x2 ] |> ignore
                let r = torch.randn (5L, 3L)
                (eager linear [ x2 ]).mul(r).sum().backward()
                let grad = values (Layer.weights linear).Head.Value.grad
                let x2s, rs = values x2, values r

                let expectedGrad =
                    Array.init 12 (fun i -> [ 0..4 ] |> List.sumBy (fun n -> x2s[n * 4 + i / 3] * rs[n * 3 + i % 3]))

                closeTo 1e-5f expectedGrad grad "d loss / d kernel = xᵀ·r"
            }

            test "EinsumDense's errors are Keras's" {
                let message (equation: string) (outputShape: int option list) (biasAxes: string option) (input: Shape) =
                    snd (
                        kerasError (fun () ->
                            Layer.call (Layers.EinsumDense(equation, outputShape, ?biasAxes = biasAxes)) (sym input))
                    )

                Expect.stringContains
                    (message "ab-bc" [ Some 3 ] None [ None; Some 2 ])
                    "Invalid einsum equation 'ab-bc'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
                    "equation"

                Expect.stringContains
                    (message "abc,cd->abd" [ Some 5; Some 3 ] None [ None; Some 4; Some 2 ])
                    "Input shape and output shape do not match at shared dimension 'b'. Input shape is 4, and output shape is 5."
                    "shared dimension"

                Expect.stringContains
                    (message "ab,bc->ac" [ Some 3 ] (Some "x") [ None; Some 2 ])
                    "Bias dimension 'x' was requested, but is not part of the output spec 'ac'"
                    "bias"

                Expect.stringContains
                    (message "ab,bcd->ac" [ Some 3 ] None [ None; Some 2 ])
                    "Weight dimension 'd' did not have a match in either the input spec 'ab' or the output spec 'ac'. For this layer, the weight must be fully specified."
                    "weight"

                Expect.stringContains
                    (message "ab,bc->acz" [ Some 3; Some 2 ] None [ None; Some 2 ])
                    "Dimension 'z' was specified in the output 'acz' but has no corresponding dim"
                    "output"
            }

            test "EinsumDense's config: Keras 3's keys, and back" {
                let layer =
                    Layers.EinsumDense(
                        "abc,cd->abd",
                        [ None; Some 8 ],
                        biasAxes = "d",
                        activation = Tanh,
                        kernelRegularizer = L2 0.01
                    )

                Expect.equal
                    (configKeys layer)
                    [
                        "name"
                        "trainable"
                        "dtype"
                        "output_shape"
                        "equation"
                        "activation"
                        "bias_axes"
                        "kernel_initializer"
                        "bias_initializer"
                        "kernel_regularizer"
                        "bias_regularizer"
                        "activity_regularizer"
                        "kernel_constraint"
                        "bias_constraint"
                    ]
                    // Keras 3.1.1's keys: quantization_config (newer Keras) is not written while it is null.
                    "keys"

                Expect.equal (configEntry layer "output_shape") "[null,8]" "partial output shape"
                let rebuilt = configRoundTrip layer
                let x = torch.randn (2L, 3L, 5L)
                eager layer [ x ] |> ignore
                eager rebuilt [ x ] |> ignore
                Layer.setWeights rebuilt (Layer.getWeights layer)
                closeTo 1e-6f (values (eager layer [ x ])) (values (eager rebuilt [ x ])) "same predictions"

                let fromPython =
                    fromKeras
                        "EinsumDense"
                        """{"name": "e", "equation": "ab,bc->ac", "output_shape": 4, "bias_axes": null, "activation": "linear", "quantization_config": null}"""

                runLayerTest fromPython [ [ None; Some 3 ] ] [ None; Some 4 ] 1

                let lora =
                    kerasError (fun () ->
                        fromKeras
                            "EinsumDense"
                            """{"name": "e", "equation": "ab,bc->ac", "output_shape": 4, "lora_rank": 2}""")

                Expect.stringContains (snd lora) "LoRA" "LoRA refused by name"
            }
        ]
