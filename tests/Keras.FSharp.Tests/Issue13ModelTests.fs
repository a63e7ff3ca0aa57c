/// Issue 13 in models: a MobileNetV2 inverted residual block and a two-tower recommender with Dot that train and
/// survive `.keras` save and load; every new class through save → load with equal predictions; summary rows; Keras's
/// weights-file layout of SpectralNormalization; an FsCheck property over random chains of the new layers.
module Issue13ModelTests

open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open PureHDF
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private predict (model: Model) (xs: torch.Tensor list) =
    Model.predictMany model 64 xs |> List.head |> values

/// Saves the model as `.keras`, loads it, and checks the config and the predictions are the same.
let private roundTrip (model: Model) (xs: torch.Tensor list) =
    inTempFolder "issue13" (fun folder ->
        let path = Path.Combine(folder, "m.keras")
        model.Save path
        let loaded = Keras.LoadModel path
        Expect.equal ((Model.getConfig loaded).ToJsonString()) ((Model.getConfig model).ToJsonString()) "config"
        closeTo 1e-6f (predict model xs) (predict loaded xs) "predictions after save and load"
        loaded)

/// Keras's MobileNetV2 inverted residual block (expansion 6) over a (8, 8, 8) input, with a head.
let private mobileNetBlock () =
    let input = Keras.Input(shape = [ 8; 8; 8 ])

    let x =
        input
        --> Layers.Conv2D(48, 1, padding = "same", useBias = false)
        --> Layers.BatchNormalization()
        --> Layers.ReLU(maxValue = 6.0)
        --> Layers.DepthwiseConv2D(3, padding = "same", useBias = false)
        --> Layers.BatchNormalization()
        --> Layers.ReLU(maxValue = 6.0)
        --> Layers.Conv2D(8, 1, padding = "same", useBias = false)
        --> Layers.BatchNormalization()

    let residual = Layers.add [ input; x ]
    let output = residual --> Layers.GlobalAveragePooling2D() --> Layers.Dense(1)
    Keras.Model(input, output, name = "inverted_residual")

/// Two embedding towers whose cosine similarity (Dot with normalize) predicts a rating.
let private recommender () =
    let user = Keras.Input(shape = [ 1 ], dtype = Int64, name = "user")
    let item = Keras.Input(shape = [ 1 ], dtype = Int64, name = "item")
    let u = user --> Layers.Embedding(20, 8) --> Layers.Flatten()
    let i = item --> Layers.Embedding(30, 8) --> Layers.Flatten()

    let score =
        Layer.callMany (Layers.Dot(1, normalize = true)) [ u; i ] |> List.exactlyOne

    Keras.Model([ user; item ], score, name = "recommender")

let private losses (history: History) = history["loss"]

/// A random chain of the new shape-keeping layers over a (batch, 4, 6) input, ending in a Dense.
let private chains =
    let makers: (unit -> Layer) list =
        [
            fun () -> Layers.ReLU(maxValue = 1.5, negativeSlope = 0.1)
            fun () -> Layers.LeakyReLU(0.2)
            fun () -> Layers.PReLU(alphaInitializer = RandomUniform(0.0, 0.3), sharedAxes = [ 1 ])
            fun () -> Layers.ELU(0.8)
            fun () -> Layers.Softmax()
            fun () -> Layers.Identity()
            fun () -> Layers.ActivityRegularization(l1 = 0.01)
            fun () -> Layers.RMSNormalization()
            fun () -> Layers.EinsumDense("abc,cd->abd", [ None; Some 6 ], biasAxes = "d")
            fun () -> Layers.SpectralNormalization(Layers.Dense(6))
            fun () -> Layers.Normalization(mean = [ 0.5 ], variance = [ 2.0 ])
        ]

    Gen.listOfLength 4 (Gen.choose (0, makers.Length - 1))
    |> Gen.map (List.map (fun i -> makers[i]))

let private chainSurvives (makers: (unit -> Layer) list) =
    let input = Keras.Input(shape = [ 4; 6 ])
    let output = makers |> List.fold (fun (x: KerasTensor) make -> x --> make ()) input
    let model = Keras.Model(input, output --> Layers.Dense(2))
    let x = torch.randn (3L, 4L, 6L)

    inTempFolder "issue13" (fun folder ->
        let path = Path.Combine(folder, "chain.keras")
        model.Save path
        let loaded = Keras.LoadModel path

        (Model.getConfig loaded).ToJsonString() = (Model.getConfig model).ToJsonString()
        && Array.forall2 (fun (p: float32) q -> abs (p - q) <= 1e-6f) (predict model [ x ]) (predict loaded [ x ]))

[<Tests>]
let tests =
    testSequenced
    <| testList
        "Issue13.Models"
        [
            test "a MobileNetV2 inverted residual block with ReLU(6) trains and survives save and load" {
                torch.manual_seed 21L |> ignore
                let model = mobileNetBlock ()
                let x = torch.rand (32L, 8L, 8L, 8L)
                let y = x.mean([| 1L; 2L; 3L |]).unsqueeze(1L).mul(torch.tensor 4.0f)
                let compiled = model.Compile(optimizer = "adam", loss = "mse")
                let history = compiled.Fit(x, y, batchSize = 8, epochs = 6, verbose = 0)
                let l = losses history
                Expect.isLessThan (List.last l) (List.head l) $"loss decreases: {l}"
                // Inference uses the moving statistics; the predictions survive save and load.
                let loaded = roundTrip model [ x ]
                Expect.equal (Model.countParams loaded) (Model.countParams model) "params"

                let summary = model.SummaryText()
                Expect.stringContains summary "re_lu" "ReLU rows"
                Expect.stringContains summary "(ReLU)" "ReLU class"
            }

            test "a two-tower recommender with Dot(axes = 1, normalize = true) trains and survives save and load" {
                torch.manual_seed 22L |> ignore
                let model = recommender ()
                let users = torch.randint (20L, [| 256L; 1L |], dtype = torch.ScalarType.Int64)
                let items = torch.randint (30L, [| 256L; 1L |], dtype = torch.ScalarType.Int64)
                // Ratings in [-1, 1] that depend on user and item parity.
                let two = torch.tensor 2L

                let target =
                    users
                        .remainder(two)
                        .eq(items.remainder two)
                        .to_type(torch.ScalarType.Float32)
                        .mul(torch.tensor 2.0f)
                        .sub(torch.tensor 1.0f)

                let compiled = model.Compile(optimizer = "adam", loss = "mse")

                let history =
                    compiled.Fit(
                        Data.Tensors [ users; items ],
                        Data.Tensor target,
                        batchSize = 32,
                        epochs = 8,
                        verbose = 0
                    )

                let l = losses history
                Expect.isLessThan (List.last l) (List.head l * 0.9) $"loss decreases: {l}"
                let out = Model.predictMany model 64 [ users; items ] |> List.head
                Expect.equal out.shape [| 256L; 1L |] "(batch, 1)"
                Expect.isTrue (values out |> Array.forall (fun v -> abs v <= 1.0f + 1e-5f)) "a cosine is in [-1, 1]"
                roundTrip model [ users; items ] |> ignore
                let summary = model.SummaryText()
                Expect.stringContains summary "(Dot)" "Dot row"
                Expect.stringContains summary "Total params: 400" "20·8 + 30·8"
            }

            test "every new class survives save and load with equal predictions" {
                torch.manual_seed 23L |> ignore
                let input = Keras.Input(shape = [ 5; 6 ])
                // Named: automatic names are numbered per process, and other tests make Normalization layers too.
                let a = input --> Layers.Normalization(axis = [ -1 ], name = "normalization")

                let b =
                    a
                    --> Layers.EinsumDense(
                        "abc,cde->abde",
                        [ None; Some 2; Some 3 ],
                        biasAxes = "de",
                        activation = Tanh
                    )
                    --> Layers.Reshape([ 5; 6 ])

                let c =
                    b
                    --> Layers.PReLU(alphaInitializer = Constant 0.2, sharedAxes = [ 1 ])
                    --> Layers.RMSNormalization()

                let d =
                    c
                    --> Layers.SpectralNormalization(Layers.Dense(6))
                    --> Layers.ELU(0.5)
                    --> Layers.LeakyReLU(0.1)

                let e =
                    d
                    --> Layers.ReLU(maxValue = 2.0, threshold = 0.1)
                    --> Layers.Identity()
                    --> Layers.ActivityRegularization(l2 = 0.01)

                let f = Layer.callMany (Layers.Dot((2, 2))) [ e; c ] |> List.exactlyOne
                let g = f --> Layers.Softmax() --> Layers.Flatten() --> Layers.Dense(2)
                let model = Keras.Model(input, g, name = "issue13_all")
                let x = torch.randn (16L, 5L, 6L)
                NormalizationExtraLayers.adapt (model.GetLayer "normalization") x
                let compiled = model.Compile(optimizer = "sgd", loss = "mse")

                compiled.Fit(x, torch.randn (16L, 2L), batchSize = 8, epochs = 2, verbose = 0)
                |> ignore

                let loaded = roundTrip model [ x ]
                // The non-trainable state (adapted mean, vector_u) came back too.
                Expect.equal (snapshot loaded) (snapshot model) "every weight, in Keras's order"
            }

            test "SpectralNormalization is stored as Keras stores it: [kernel, vector_u], and the Dense under layer" {
                let input = Keras.Input(shape = [ 4 ])

                let model =
                    Keras.Model(input, input --> Layers.SpectralNormalization(Layers.Dense(3)))

                inTempFolder "issue13" (fun folder ->
                    let path = Path.Combine(folder, "sn.weights.h5")
                    WeightsFile.saveWeights model path
                    use file = H5File.OpenRead path

                    let shapeOf (p: string) =
                        (file.Dataset p).Space.Dimensions |> List.ofArray

                    Expect.equal (shapeOf "layers/spectral_normalization/vars/0") [ 4UL; 3UL ] "own var 0: the kernel"
                    Expect.equal (shapeOf "layers/spectral_normalization/vars/1") [ 1UL; 3UL ] "own var 1: vector_u"

                    Expect.equal
                        (shapeOf "layers/spectral_normalization/layer/vars/0")
                        [ 4UL; 3UL ]
                        "the Dense's kernel"

                    Expect.equal (shapeOf "layers/spectral_normalization/layer/vars/1") [ 3UL ] "the Dense's bias"

                    // And it loads back into a fresh model of the same architecture.
                    let fresh = Keras.Input(shape = [ 4 ])

                    let copy =
                        Keras.Model(fresh, fresh --> Layers.SpectralNormalization(Layers.Dense(3)))

                    WeightsFile.loadWeights copy path
                    Expect.equal (snapshot copy) (snapshot model) "weights loaded")
            }

            test "summary rows and parameter counts of the new layers" {
                let input = Keras.Input(shape = [ 3 ])
                let norm = Layers.Normalization(name = "norm")
                let sn = Layers.SpectralNormalization(Layers.Dense(4), name = "sn")
                let out = input --> norm --> sn --> Layers.PReLU(name = "prelu")
                let model = Keras.Model(input, out)
                let text = model.SummaryText()
                Expect.stringContains text "norm (Normalization)" "Normalization row"
                Expect.stringContains text "sn (SpectralNormalization)" "wrapper row"
                // Normalization 3 + 3 + 1 non-trainable; SpectralNormalization 12 + 4 trainable and 4 non-trainable.
                Expect.stringContains text "Total params: 31" "total"
                Expect.stringContains text "Trainable params: 20" "trainable: 12 + 4 + 4"
                Expect.stringContains text "Non-trainable params: 11" "non-trainable: 7 + 4"
            }

            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 15
                }
                "random chains of the new layers survive save and load"
                (Prop.forAll (Arb.fromGen chains) chainSurvives)
        ]
