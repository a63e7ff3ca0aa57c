/// Issue 13, normalization extras: RMSNormalization, SpectralNormalization and the preprocessing Normalization with
/// adapt. Values against plain loops, training against inference, gradients, Keras's weight names and configs.
module NormalizationExtraTests

open Expecto
open TorchSharp
open Keras
open Keras.NormalizationExtraLayers
open TestData
open ActivationLayerTests

let private sym (shape: Shape) =
    CoreLayers.input None (Some shape) Float32 None

let private eager (layer: Layer) training (x: torch.Tensor) =
    Layer.callEager layer training [ x ] |> List.exactlyOne

/// Largest singular value of a row-major matrix, by many power iterations in float64.
let private spectralNorm (rows: int) (cols: int) (w: float32[]) =
    let mutable u = Array.create cols 1.0

    for _ in 1..500 do
        let v =
            Array.init rows (fun i -> Seq.sum (seq { for j in 0 .. cols - 1 -> float w[i * cols + j] * u[j] }))

        let nv = sqrt (Array.sumBy (fun x -> x * x) v)
        let v = v |> Array.map (fun x -> x / nv)

        let u2 =
            Array.init cols (fun j -> Seq.sum (seq { for i in 0 .. rows - 1 -> float w[i * cols + j] * v[i] }))

        let nu = sqrt (Array.sumBy (fun x -> x * x) u2)
        u <- u2 |> Array.map (fun x -> x / nu)

    let wu =
        Array.init rows (fun i -> Seq.sum (seq { for j in 0 .. cols - 1 -> float w[i * cols + j] * u[j] }))

    sqrt (Array.sumBy (fun x -> x * x) wu)

[<Tests>]
let tests =
    testList
        "Issue13.NormalizationExtras"
        [
            test "RMSNormalization: scale over the axis, values against a loop, gradient on scale" {
                let layer = Layers.RMSNormalization()
                runLayerTest layer [ [ None; Some 3; Some 4 ] ] [ None; Some 3; Some 4 ] 1

                Expect.equal
                    ((Layer.weights layer).Head.Name, (Layer.weights layer).Head.Value.shape)
                    ("scale", [| 4L |])
                    "scale"

                Layer.setWeights layer [ torch.tensor [| 1.0f; 2.0f; 0.5f; -1.0f |] ]
                torch.manual_seed 2L |> ignore
                let x = torch.randn (2L, 3L, 4L)
                let xs = values x

                let expected =
                    [|
                        for row in 0..5 do
                            let v = xs[row * 4 .. row * 4 + 3]
                            let inv = 1.0f / sqrt ((v |> Array.averageBy (fun a -> a * a)) + 1e-6f)
                            yield! v |> Array.mapi (fun i a -> a * inv * [| 1.0f; 2.0f; 0.5f; -1.0f |][i])
                    |]

                closeTo 1e-5f expected (values (eager layer false x)) "x · rsqrt(mean(x²) + eps) · scale"

                let r = torch.randn (2L, 3L, 4L)
                (eager layer true x).mul(r).sum().backward()
                let rs = values r

                let expectedGrad =
                    Array.init 4 (fun i ->
                        [ 0..5 ]
                        |> List.sumBy (fun row ->
                            let v = xs[row * 4 .. row * 4 + 3]
                            let inv = 1.0f / sqrt ((v |> Array.averageBy (fun a -> a * a)) + 1e-6f)
                            rs[row * 4 + i] * v[i] * inv))

                closeTo 1e-4f expectedGrad (values (Layer.weights layer).Head.Value.grad) "d loss / d scale"
                Expect.equal (configKeys layer) [ "name"; "trainable"; "dtype"; "axis"; "epsilon" ] "keys"
                Expect.equal (configEntry layer "axis") "[-1]" "a built Keras layer's axis list"

                configRoundTrip (Layers.RMSNormalization(axis = [ 1; 2 ], epsilon = 1e-5))
                |> ignore

                let _, message =
                    kerasError (fun () -> Layer.call (Layers.RMSNormalization(axis = [ 3 ])) (sym [ None; Some 4 ]))

                Expect.stringContains message "Axis 3 is out of bounds for input shape (None, 4)." "axis error"
            }

            test "SpectralNormalization: Keras's weights, the kernel divided by its spectral norm in training only" {
                let inner = Layers.Dense(3, useBias = true)
                let layer = Layers.SpectralNormalization(inner, powerIterations = 1)
                runLayerTest layer [ [ None; Some 4 ] ] [ None; Some 3 ] 3

                Expect.equal
                    (Layer.weights layer |> List.map (fun w -> w.Name, w.Trainable))
                    [ "kernel", true; "bias", true; "vector_u", false ]
                    "weights"

                Expect.equal (Layer.weights layer |> List.last |> _.Value.shape) [| 1L; 3L |] "vector_u (1, units)"
                Expect.equal (Layer.countParams layer) (12L + 3L + 3L) "params"

                let kernel0 = values (Layer.weights inner).Head.Value
                let x = torch.randn (5L, 4L)
                let inference = values (eager layer false x)
                closeTo 0.0f kernel0 (values (Layer.weights inner).Head.Value) "inference leaves the kernel"
                closeTo 1e-6f (values (eager inner false x)) inference "inference is the wrapped layer"

                // Many training calls: the power iteration converges and the kernel's spectral norm goes to 1.
                for _ in 1..30 do
                    eager layer true x |> ignore

                let kernel = values (Layer.weights inner).Head.Value
                Expect.floatClose { absolute = 1e-3; relative = 1e-3 } (spectralNorm 4 3 kernel) 1.0 "sigma(kernel) = 1"
                let sigma0 = spectralNorm 4 3 kernel0
                closeTo 1e-3f (kernel0 |> Array.map (fun v -> float32 (float v / sigma0))) kernel "kernel / sigma"

                Expect.equal (configKeys layer) [ "name"; "trainable"; "dtype"; "layer"; "power_iterations" ] "keys"
                let rebuilt = configRoundTrip layer
                Expect.equal (rebuilt.Spec.SubLayers() |> List.map _.ClassName) [ "Dense" ] "wrapped layer rebuilt"

                let _, message =
                    kerasError (fun () -> Layers.SpectralNormalization(inner, powerIterations = 0))

                Expect.stringContains message "`power_iterations` should be greater than zero." "power_iterations"

                let _, m2 =
                    kerasError (fun () ->
                        Layer.call (Layers.SpectralNormalization(Layers.ReLU())) (sym [ None; Some 3 ]))

                Expect.stringContains m2 "ReLU object has no attribute 'kernel' nor 'embeddings'" "no kernel"
            }

            test "SpectralNormalization: one power iteration step by hand" {
                let inner = Layers.Dense(2, useBias = false)
                let layer = Layers.SpectralNormalization(inner)
                eager layer false (torch.ones (1L, 2L)) |> ignore
                let w = [| 3.0f; 1.0f; 0.0f; 2.0f |]
                Layer.setWeights layer [ torch.tensor(w).reshape(2L, 2L); torch.tensor (array2D [ [ 1.0f; 0.0f ] ]) ]
                eager layer true (torch.ones (1L, 2L)) |> ignore
                // v = normalize(u·Wᵀ) = normalize([3, 0]) = [1, 0]; u = normalize(v·W) = normalize([3, 1]); sigma = v·W·uᵀ.
                let nu = sqrt 10.0f
                let u = [| 3.0f / nu; 1.0f / nu |]
                let sigma = 3.0f * u[0] + 1.0f * u[1]

                closeTo
                    1e-5f
                    (w |> Array.map (fun v -> v / sigma))
                    (values (Layer.weights inner).Head.Value)
                    "kernel / sigma"

                closeTo 1e-5f u (values (Layer.weights layer |> List.last).Value) "vector_u"
            }

            test "Normalization with given values, scalar and per feature, and invert" {
                let x = torch.tensor (array2D [ [ 1.0f; 2.0f; 3.0f ]; [ 4.0f; 5.0f; 6.0f ] ])
                let scalar = Layers.Normalization(mean = [ 3.0 ], variance = [ 2.0 ])
                runLayerTest scalar [ [ None; Some 3 ] ] [ None; Some 3 ] 0

                closeTo
                    1e-6f
                    ([| 1.0f .. 6.0f |] |> Array.map (fun v -> (v - 3.0f) / sqrt 2.0f))
                    (values (eager scalar false x))
                    "scalar"

                let perFeature =
                    Layers.Normalization(mean = [ 1.0; 2.0; 3.0 ], variance = [ 4.0; 1.0; 0.25 ])

                let expected = [| 0.0f; 0.0f; 0.0f; 1.5f; 3.0f; 6.0f |]
                closeTo 1e-6f expected (values (eager perFeature false x)) "per feature"

                let inverse =
                    Layers.Normalization(mean = [ 1.0; 2.0; 3.0 ], variance = [ 4.0; 1.0; 0.25 ], invert = true)

                closeTo
                    1e-6f
                    (values x)
                    (values (
                        eager inverse false (torch.tensor (array2D [ [ 0.0f; 0.0f; 0.0f ]; [ 1.5f; 3.0f; 6.0f ] ]))
                    ))
                    "invert"

                Expect.equal
                    (configKeys scalar)
                    [ "name"; "trainable"; "dtype"; "axis"; "invert"; "mean"; "variance" ]
                    "keys"

                Expect.equal (configEntry scalar "mean") "3" "scalar mean"
                Expect.equal (configEntry perFeature "variance") "[4,1,0.25]" "list variance"
                configRoundTrip perFeature |> ignore
                configRoundTrip (Layers.Normalization(axis = [])) |> ignore

                let _, m1 = kerasError (fun () -> Layers.Normalization(mean = [ 1.0 ]))
                Expect.stringContains m1 "both `mean` and `variance` must be set" "pair"

                let _, m2 =
                    kerasError (fun () -> Layer.call (Layers.Normalization(axis = [ 2 ])) (sym [ None; Some 3 ]))

                Expect.stringContains
                    m2
                    "All `axis` values must be in the range [-ndim, ndim). Received inputs with ndim=2, while axis=(2,)"
                    "axis"
            }

            test "Normalization.adapt: Keras's mean/variance/count weights and values" {
                let layer = Layers.Normalization()

                let data =
                    torch.tensor (
                        array2D
                            [
                                [ 0.0f; 7.0f; 4.0f ]
                                [ 2.0f; 9.0f; 6.0f ]
                                [ 0.0f; 7.0f; 4.0f ]
                                [ 2.0f; 9.0f; 6.0f ]
                            ]
                    )

                adapt layer data

                Expect.equal
                    (Layer.weights layer |> List.map (fun w -> w.Name, w.Trainable, w.Value.shape))
                    [ "mean", false, [| 3L |]; "variance", false, [| 3L |]; "count", false, [||] ]
                    "weights"

                Expect.equal (Layer.weights layer |> List.last |> _.Value.dtype) torch.ScalarType.Int32 "count is int"
                closeTo 1e-6f [| 1.0f; 8.0f; 5.0f |] (values (Layer.weights layer).Head.Value) "mean"
                closeTo 1e-6f [| 1.0f; 1.0f; 1.0f |] (values (List.item 1 (Layer.weights layer)).Value) "variance"
                // Keras's docstring: [[0, 7, 4]] normalizes to [-1, -1, -1].
                closeTo
                    1e-6f
                    [| -1.0f; -1.0f; -1.0f |]
                    (values (eager layer false (torch.tensor (array2D [ [ 0.0f; 7.0f; 4.0f ] ]))))
                    "docstring example"

                Expect.equal (Layer.countParams layer) 7L "3 + 3 + 1 non-trainable"

                // axis=None: one scalar mean; Keras's docstring example.
                let scalarNorm = Layers.Normalization(axis = [])
                adapt scalarNorm (torch.tensor [| 1.0f; 2.0f; 3.0f; 4.0f; 5.0f |])

                closeTo
                    1e-6f
                    [| -1.4142135f; -0.70710677f; 0.0f |]
                    (values (eager scalarNorm false (torch.tensor [| 1.0f; 2.0f; 3.0f |])))
                    "axis=None"

                // Batches merge as Keras does: the same as adapting their concatenation.
                torch.manual_seed 4L |> ignore
                let all = torch.randn (10L, 2L, 3L)
                let whole = Layers.Normalization(axis = [ -1 ])
                adapt whole all
                let batched = Layers.Normalization(axis = [ -1 ])
                adaptBatches batched [ all.narrow (0L, 0L, 3L); all.narrow (0L, 3L, 7L) ]

                closeTo
                    1e-5f
                    (values (List.item 0 (Layer.weights whole)).Value)
                    (values (List.item 0 (Layer.weights batched)).Value)
                    "merged mean"

                closeTo
                    1e-5f
                    (values (List.item 1 (Layer.weights whole)).Value)
                    (values (List.item 1 (Layer.weights batched)).Value)
                    "merged variance"

                let _, m =
                    kerasError (fun () -> adapt (Layers.Normalization(mean = [ 1.0 ], variance = [ 1.0 ])) data)

                Expect.stringContains m "adapt() cannot be used" "given values"
                let _, m2 = kerasError (fun () -> adapt layer (torch.ones (2L, 4L)))

                Expect.stringContains
                    m2
                    "expected axis 1 of input shape to have value 3, but received input with shape (None, 4)"
                    "kept axis size"
            }
        ]
