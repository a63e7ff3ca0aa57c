/// Embedding and Masking: shapes, lookups, masks, gradients and index errors.
module EmbeddingTests

open Expecto
open TorchSharp
open Keras
open TestData

let private symbolic (shape: Shape) (dtype: DType) =
    CoreLayers.input None (Some shape) dtype None

let private eager layer (x: torch.Tensor) =
    Layer.callEager layer false [ x ] |> List.exactlyOne

let private embeddingLayer inputDim outputDim maskZero =
    EmbeddingLayers.embedding
        { EmbeddingLayers.EmbeddingConfig.Default(inputDim, outputDim) with
            MaskZero = maskZero
        }
        None

/// An Embedding(4, 2) whose row i is [10·i, 10·i + 1].
let private knownEmbedding maskZero =
    let layer = embeddingLayer 4 2 maskZero
    Layer.call layer (symbolic [ None; None ] Int64) |> ignore
    Layer.setWeights layer [ tensor2 [ [ 0.f; 1.f ]; [ 10.f; 11.f ]; [ 20.f; 21.f ]; [ 30.f; 31.f ] ] ]
    layer

let private ints (rows: int64 list list) =
    Native.NativeLoader.ensureLoaded ()
    torch.tensor (array2D rows)

[<Tests>]
let tests =
    testList
        "Embedding"
        [
            testList
                "run_layer_test"
                [
                    test "Embedding(1000, 128) on int sequences of unknown length" {
                        let layer = embeddingLayer 1000 128 false
                        let y = Layer.call layer (symbolic [ None; None ] Int32)
                        Expect.equal y.Shape [ None; None; Some 128 ] "symbolic shape (None, None, 128)"
                        Expect.equal y.DType Float32 "float32 output"
                        Expect.equal (Layer.weights layer).Length 1 "one weight"
                        Expect.equal (Layer.countParams layer) 128000L "1000·128 parameters"
                        let w = List.exactlyOne (Layer.weights layer)
                        Expect.equal w.Name "embeddings" "Keras's weight name"
                        Expect.equal w.Value.shape [| 1000L; 128L |] "(input_dim, output_dim)"

                        let out =
                            eager layer (torch.randint (1000L, [| 2L; 7L |], dtype = torch.ScalarType.Int32))

                        Expect.equal out.shape [| 2L; 7L; 128L |] "eager shape"
                        Expect.equal out.dtype torch.ScalarType.Float32 "eager dtype"
                    }

                    test "Embedding on rank-3 indices appends the output axis" {
                        let layer = embeddingLayer 10 4 false
                        let y = Layer.call layer (symbolic [ None; Some 2; Some 3 ] Int64)
                        Expect.equal y.Shape [ None; Some 2; Some 3; Some 4 ] "(None, 2, 3, 4)"

                        Expect.equal
                            (eager layer (torch.zeros ([| 5L; 2L; 3L |], dtype = torch.ScalarType.Int64))).shape
                            [| 5L; 2L; 3L; 4L |]
                            "eager"
                    }

                    test "Masking" {
                        runLayerTest
                            (EmbeddingLayers.masking 0.0 None)
                            [ [ None; Some 3; Some 2 ] ]
                            [ None; Some 3; Some 2 ]
                            0
                    }
                ]

            testList
                "values"
                [
                    test "Embedding looks up rows by index" {
                        let layer = knownEmbedding false
                        let y = eager layer (ints [ [ 1L; 0L; 3L ]; [ 2L; 2L; 1L ] ])
                        Expect.equal y.shape [| 2L; 3L; 2L |] "shape"

                        closeTo
                            0.f
                            [| 10.f; 11.f; 0.f; 1.f; 30.f; 31.f; 20.f; 21.f; 20.f; 21.f; 10.f; 11.f |]
                            (values y)
                            "rows 1, 0, 3 / 2, 2, 1"
                    }

                    test "Embedding truncates float indices as Keras's int32 cast" {
                        let layer = knownEmbedding false
                        let y = eager layer (tensor2 [ [ 2.7f; 1.0f ] ])
                        closeTo 0.f [| 20.f; 21.f; 10.f; 11.f |] (values y) "2.7 -> 2, 1.0 -> 1"
                    }

                    test "Embedding's initial values follow Keras's 'uniform' initializer" {
                        let layer = embeddingLayer 50 20 false
                        Layer.call layer (symbolic [ None; Some 3 ] Int32) |> ignore
                        let v = values (List.exactlyOne (Layer.getWeights layer))
                        Expect.all v (fun e -> e >= -0.05f && e <= 0.05f) "within [-0.05, 0.05]"
                        Expect.isGreaterThan (Array.max v - Array.min v) 0.08f "spread over the range"
                        let config = Layer.getConfig layer
                        let initializer = config["embeddings_initializer"]

                        Expect.equal
                            (initializer["class_name"].GetValue<string>())
                            "RandomUniform"
                            "serialized initializer"

                        Expect.equal (config["input_dim"].GetValue<int>()) 50 "input_dim"
                        Expect.isFalse (config["mask_zero"].GetValue<bool>()) "mask_zero"
                    }

                    test "Embedding's gradient counts how often each row is used" {
                        let layer = knownEmbedding false
                        let y = eager layer (ints [ [ 1L; 1L; 3L ]; [ 1L; 0L; 0L ] ])
                        y.sum().backward()
                        let grad = (List.exactlyOne (Layer.weights layer)).Value.grad
                        // row 0 used twice, row 1 three times, row 2 never, row 3 once; each of the 2 columns
                        closeTo 0.f [| 2.f; 2.f; 3.f; 3.f; 0.f; 0.f; 1.f; 1.f |] (values grad) "d sum / d embeddings"
                    }

                    test "mask_zero gives the mask inputs != 0; without it there is no mask" {
                        let masked = knownEmbedding true
                        let x = ints [ [ 1L; 0L; 3L ]; [ 0L; 0L; 2L ] ]

                        match masked.Spec.ComputeMask [ x ] [ None ] with
                        | [ Some m ] ->
                            Expect.equal m.dtype torch.ScalarType.Bool "a boolean mask"
                            Expect.equal m.shape [| 2L; 3L |] "one entry per index"
                            closeTo 0.f [| 1.f; 0.f; 1.f; 0.f; 0.f; 1.f |] (values m) "true where the index is not 0"
                        | other -> failtestf "expected one mask, got %A" other

                        Expect.isEmpty
                            ((knownEmbedding false).Spec.ComputeMask [ x ] [ None ])
                            "mask_zero=false: no mask"
                        // Index 0 still has an embedding vector: the mask is for later layers.
                        closeTo
                            0.f
                            [| 0.f; 1.f |]
                            (values ((eager masked x).select(0L, 1L).select(0L, 0L)))
                            "row 0 is looked up"
                    }
                ]

            testList
                "Masking"
                [
                    test "Masking zeroes timesteps whose features all equal mask_value and masks them" {
                        let layer = EmbeddingLayers.masking -1.0 None
                        // batch 1, time 4, features 2: steps 1 and 3 are all -1; step 2 has only one -1
                        let x =
                            torch.tensor([| 1.f; 2.f; -1.f; -1.f; -1.f; 5.f; -1.f; -1.f |]).reshape(1L, 4L, 2L)

                        closeTo
                            0.f
                            [| 1.f; 2.f; 0.f; 0.f; -1.f; 5.f; 0.f; 0.f |]
                            (values (eager layer x))
                            "masked steps are zero"

                        match layer.Spec.ComputeMask [ x ] [ None ] with
                        | [ Some m ] ->
                            Expect.equal m.shape [| 1L; 4L |] "(batch, time)"
                            closeTo 0.f [| 1.f; 0.f; 1.f; 0.f |] (values m) "any(x != -1, axis=-1)"
                        | other -> failtestf "expected one mask, got %A" other

                        let config = Layer.getConfig layer
                        Expect.equal (config["mask_value"].GetValue<float>()) (-1.0) "config"
                    }
                ]

            testList
                "errors"
                [
                    test "On a large input (libtorch's parallel path) a bad last index is the same KerasException, no abort" {
                        let layer =
                            EmbeddingLayers.embedding (EmbeddingLayers.EmbeddingConfig.Default(100, 4)) (Some "big")

                        let indices = torch.randint (100L, [| 2000L; 200L |])
                        indices[1999L, 199L] <- torch.tensor 100L

                        try
                            eager layer indices |> ignore
                            failtest "expected a KerasException"
                        with :? KerasException as e ->
                            Expect.stringContains e.Message "Index 100 is out of range" "says which index"

                        indices[1999L, 199L] <- torch.tensor 99L
                        Expect.equal (eager layer indices).shape [| 2000L; 200L; 4L |] "usable afterwards"
                    }

                    test "An index out of range is a KerasException naming the layer, and the process carries on" {
                        let layer =
                            EmbeddingLayers.embedding (EmbeddingLayers.EmbeddingConfig.Default(10, 3)) (Some "words")

                        let e =
                            Expect.throwsT<KerasException>
                                (fun () -> eager layer (ints [ [ 1L; 10L ] ]) |> ignore)
                                "index 10 with input_dim 10"

                        ignore e

                        try
                            eager layer (ints [ [ 1L; 10L ] ]) |> ignore
                        with :? KerasException as e ->
                            Expect.stringContains e.Message "\"words\"" "names the layer"
                            Expect.stringContains e.Message "Index 10 is out of range" "says which index"
                            Expect.stringContains e.Message "[0, 10)" "says the valid range"

                        Expect.throwsT<KerasException>
                            (fun () -> eager layer (ints [ [ -1L; 2L ] ]) |> ignore)
                            "negative index"
                        // Still usable afterwards.
                        Expect.equal (eager layer (ints [ [ 9L; 0L ] ])).shape [| 1L; 2L; 3L |] "valid indices work"
                    }

                    test "Embedding dimensions must be positive" {
                        Expect.throwsT<KerasException> (fun () -> embeddingLayer 0 4 false |> ignore) "input_dim 0"
                        Expect.throwsT<KerasException> (fun () -> embeddingLayer 4 -1 false |> ignore) "output_dim -1"
                    }
                ]
        ]
