/// Regularizers and constraints of BatchNormalization (beta/gamma) and MultiHeadAttention (kernel, bias, activity on
/// its four projections): the penalties against hand-computed values, the constraints after an optimizer step, and
/// the config keys both ways.
module LayerRegularizerTests

open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private configRoundTrip (layer: Layer) =
    let rebuilt =
        LayerSerialization.deserialize CustomObjects.none (LayerSerialization.serialize layer None)

    Expect.equal
        ((Layer.getConfig rebuilt).ToJsonString())
        ((Layer.getConfig layer).ToJsonString())
        $"config of {layer.ClassName} survives from_config"

    rebuilt

let private entry (layer: Layer) (key: string) =
    match (Layer.getConfig layer)[key] with
    | null -> "null"
    | node -> node.ToJsonString()

/// The sum of a built layer's weight penalties.
let private penaltyOf (layer: Layer) =
    layer.Spec.RegularizationLosses(Weights.ofLayer layer)
    |> List.sumBy (fun t -> float (t.item<float32>()))

let private trainOneStep (model: Model) (x: torch.Tensor) (y: torch.Tensor) =
    let compiled = model.Compile(Optimizers.SGD(learningRate = 0.1), loss = "mse")
    compiled.TrainOnBatch(Data.Tensor x, Data.Tensor y) |> ignore

let private f32 (xs: float list) =
    torch.tensor (xs |> List.map float32 |> Array.ofList)

[<Tests>]
let batchNormalizationTests =
    testList
        "LayerRegularizers.BatchNormalization"
        [
            test "gamma and beta regularizers add their penalties to the loss" {
                let layer =
                    Layers.BatchNormalization(gammaRegularizer = L2 0.1, betaRegularizer = L1 0.2)

                let input = Keras.Input(shape = [ 3 ])
                let model = Keras.Model(input, input --> layer)
                // gamma, beta, moving_mean, moving_variance
                Layer.setWeights
                    layer
                    [
                        f32 [ 1.0; -2.0; 3.0 ]
                        f32 [ -1.0; 0.5; 2.0 ]
                        f32 [ 0.0; 0.0; 0.0 ]
                        f32 [ 1.0; 1.0; 1.0 ]
                    ]

                // 0.1 · (1 + 4 + 9) + 0.2 · (1 + 0.5 + 2) = 1.4 + 0.7
                Expect.floatClose Accuracy.medium (penaltyOf layer) 2.1 "penalty"

                // The compiled loss is the data loss plus the penalty (evaluated at inference).
                let x = torch.tensor (array2D [ [ 1.0f; 2.0f; 3.0f ]; [ 3.0f; 2.0f; 1.0f ] ])
                let compiled = model.Compile(Optimizers.SGD(learningRate = 0.0), loss = "mse")
                let y = torch.zeros (2L, 3L)
                let logs = compiled.TestOnBatch(Data.Tensor x, Data.Tensor y)
                // At inference (moving mean 0, variance 1): out = gamma · x / √(1 + 1e-3) + beta.
                let scale = 1.0 / sqrt 1.001
                let gamma, beta = [| 1.0; -2.0; 3.0 |], [| -1.0; 0.5; 2.0 |]

                let mse =
                    [ [| 1.0; 2.0; 3.0 |]; [| 3.0; 2.0; 1.0 |] ]
                    |> List.sumBy (fun row ->
                        Array.init 3 (fun j -> (gamma[j] * row[j] * scale + beta[j]) ** 2.0)
                        |> Array.sum)
                    |> fun s -> s / 6.0

                Expect.floatClose Accuracy.medium logs["loss"] (mse + 2.1) "mse + penalty"
            }

            test "gamma and beta constraints hold after an optimizer step" {
                let layer =
                    Layers.BatchNormalization(
                        gammaInitializer = Constant -1.0,
                        betaInitializer = Constant 1.0,
                        gammaConstraint = NonNeg,
                        betaConstraint = MaxNorm(0.5, [ 0 ])
                    )

                let input = Keras.Input(shape = [ 4 ])
                let model = Keras.Model(input, input --> layer)
                torch.manual_seed 3L |> ignore
                trainOneStep model (torch.randn (8L, 4L)) (torch.randn (8L, 4L))
                let w = Weights.ofLayer layer
                closeTo 0.0f [| 0.0f; 0.0f; 0.0f; 0.0f |] (values w[0].Value) "non_neg clips gamma (from -1) to 0"
                let beta = values w[1].Value |> Array.map float
                let norm = beta |> Array.sumBy (fun b -> b * b) |> sqrt
                Expect.floatClose Accuracy.medium norm 0.5 "max_norm rescales beta (norm ≈ 2) to norm 0.5"
            }

            test "config writes and reads the regularizers and constraints" {
                let layer =
                    Layers.BatchNormalization(
                        gammaRegularizer = L2 0.1,
                        betaRegularizer = L1L2(0.01, 0.02),
                        gammaConstraint = NonNeg,
                        betaConstraint = MaxNorm(3.0, [ 0 ])
                    )

                Expect.stringContains (entry layer "gamma_regularizer") "\"class_name\":\"L2\"" "gamma_regularizer"
                Expect.stringContains (entry layer "beta_regularizer") "\"class_name\":\"L1L2\"" "beta_regularizer"
                Expect.stringContains (entry layer "gamma_constraint") "\"class_name\":\"NonNeg\"" "gamma_constraint"
                Expect.stringContains (entry layer "beta_constraint") "\"class_name\":\"MaxNorm\"" "beta_constraint"
                let rebuilt = configRoundTrip layer
                let input = Keras.Input(shape = [ 3 ])
                Keras.Model(input, input --> rebuilt) |> ignore

                Layer.setWeights
                    rebuilt
                    [
                        f32 [ 1.0; 1.0; 1.0 ]
                        f32 [ 1.0; 1.0; 1.0 ]
                        f32 [ 0.0; 0.0; 0.0 ]
                        f32 [ 1.0; 1.0; 1.0 ]
                    ]
                // 0.1 · 3 + 0.01 · 3 + 0.02 · 3
                Expect.floatClose Accuracy.medium (penaltyOf rebuilt) 0.39 "rebuilt penalties"

                // A Keras-written config with a regularizer loads (it used to be refused).
                let keras =
                    System.Text.Json.Nodes.JsonNode.Parse(
                        """{"module": "keras.layers", "class_name": "BatchNormalization", "config": {"name": "bn", "trainable": true, "dtype": "float32", "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": true, "scale": true, "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null}, "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}, "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null}, "beta_regularizer": null, "gamma_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.05}, "registered_name": null}, "beta_constraint": null, "gamma_constraint": {"module": "keras.constraints", "class_name": "NonNeg", "config": {}, "registered_name": null}, "synchronized": false}, "registered_name": null}"""
                    )

                let loaded = LayerSerialization.deserialize CustomObjects.none (keras.AsObject())
                Expect.stringContains (entry loaded "gamma_regularizer") "0.05" "gamma_regularizer read"
                Expect.stringContains (entry loaded "gamma_constraint") "NonNeg" "gamma_constraint read"
            }
        ]

[<Tests>]
let multiHeadAttentionTests =
    testList
        "LayerRegularizers.MultiHeadAttention"
        [
            test "kernel, bias and activity regularizers: the penalties by hand" {
                // One head, key_dim 1, features 2: every kernel all ones, every bias 0.5.
                let layer =
                    Layers.MultiHeadAttention(
                        1,
                        1,
                        kernelRegularizer = L2 0.1,
                        biasRegularizer = L1 0.2,
                        activityRegularizer = L1 0.01
                    )

                let query = Keras.Input(shape = [ 2; 2 ])
                let model = Keras.Model(query, Layer.callMany layer [ query; query ] |> List.head)

                Layer.setWeights
                    layer
                    [
                        torch.ones (2L, 1L, 1L)
                        f32 [ 0.5 ] |> fun t -> t.reshape (1L, 1L)
                        torch.ones (2L, 1L, 1L)
                        f32 [ 0.5 ] |> fun t -> t.reshape (1L, 1L)
                        torch.ones (2L, 1L, 1L)
                        f32 [ 0.5 ] |> fun t -> t.reshape (1L, 1L)
                        torch.ones (1L, 1L, 2L)
                        f32 [ 0.5; 0.5 ]
                    ]

                // Kernels: 0.1 · (2 + 2 + 2 + 2) = 0.8; biases: 0.2 · (0.5 · 3 + 0.5 · 2) = 0.5.
                Expect.floatClose Accuracy.medium (penaltyOf layer) 1.3 "weight penalties"

                // Activity: query = key = value projections p = x₀ + x₁ + 0.5 per position.
                let x = [| [| 1.0; 2.0 |]; [| 0.5; -1.0 |] |]
                let p = x |> Array.map (fun r -> r[0] + r[1] + 0.5)
                // Scores p_i · p_j (key_dim 1), softmax over j, attended a_i = Σ_j w_ij p_j, outputs a_i + 0.5 twice.
                let attended =
                    p
                    |> Array.map (fun pi ->
                        let e = p |> Array.map (fun pj -> exp (pi * pj))
                        Array.map2 (fun ej pj -> ej * pj) e p |> Array.sum |> fun s -> s / Array.sum e)

                let projections = 3.0 * (p |> Array.sumBy abs)
                let outputs = 2.0 * (attended |> Array.sumBy (fun a -> abs (a + 0.5)))
                let expected = 0.01 * (projections + outputs)
                let xt = (f32 [ 1.0; 2.0; 0.5; -1.0 ]).reshape(1L, 2L, 2L)
                let outs, activity = Model.forwardWithLosses model false [ xt ]
                Expect.equal activity.Length 4 "one activity loss per projection"
                let total = activity |> List.sumBy (fun t -> float (t.item<float32>()))
                Expect.floatClose Accuracy.medium total expected "0.01 · Σ|projections|"

                closeTo
                    1e-5f
                    (attended |> Array.collect (fun a -> [| float32 (a + 0.5); float32 (a + 0.5) |]))
                    (values outs.Head)
                    "the output by hand too"
            }

            test "kernel and bias constraints hold after an optimizer step" {
                let layer =
                    Layers.MultiHeadAttention(
                        2,
                        3,
                        biasInitializer = Constant -1.0,
                        kernelConstraint = NonNeg,
                        biasConstraint = NonNeg
                    )

                let query = Keras.Input(shape = [ 4; 5 ])
                let model = Keras.Model(query, Layer.callMany layer [ query; query ] |> List.head)
                torch.manual_seed 5L |> ignore
                let before = Weights.ofLayer layer |> Array.map (fun w -> values w.Value)
                Expect.isTrue (before[0] |> Array.exists (fun v -> v < 0.0f)) "glorot kernels start with negatives"
                trainOneStep model (torch.randn (3L, 4L, 5L)) (torch.randn (3L, 4L, 5L))

                for w in Weights.ofLayer layer do
                    Expect.isTrue (values w.Value |> Array.forall (fun v -> v >= 0.0f)) $"{w.Name} is non-negative"
            }

            test "config writes and reads the regularizers and constraints" {
                let layer =
                    Layers.MultiHeadAttention(
                        2,
                        4,
                        kernelRegularizer = L2 0.01,
                        biasRegularizer = L1 0.02,
                        activityRegularizer = L1L2(0.1, 0.2),
                        kernelConstraint = MaxNorm(2.0, [ 0 ]),
                        biasConstraint = NonNeg
                    )

                for key in
                    [
                        "kernel_regularizer"
                        "bias_regularizer"
                        "activity_regularizer"
                        "kernel_constraint"
                        "bias_constraint"
                    ] do
                    Expect.notEqual (entry layer key) "null" $"{key} written"

                configRoundTrip layer |> ignore
            }
        ]
