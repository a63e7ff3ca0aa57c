/// The guide's models rebuilt in F#: summaries equal to the tables the guide prints, parameter totals, and the
/// toy ResNet trained for an epoch.
module GuideTests

open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

// The guide's notebook printed these summaries in an 80-column terminal; Keras then uses 80 − 4 = 76 columns.
let private guideWidth = 76

// The names are the guide's: its earlier cells had already used the first automatic names.
let private encoderGolden =
    """Model: "encoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 26, 26, 16)     │           160 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 24, 24, 32)     │         4,640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 8, 8, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 6, 6, 32)       │         9,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_3 (Conv2D)               │ (None, 4, 4, 16)       │         4,624 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_max_pooling2d            │ (None, 16)             │             0 │
│ (GlobalMaxPooling2D)            │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 18,672 (72.94 KB)
 Trainable params: 18,672 (72.94 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private autoencoderGolden =
    """Model: "autoencoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 26, 26, 16)     │           160 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 24, 24, 32)     │         4,640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 8, 8, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_2 (Conv2D)               │ (None, 6, 6, 32)       │         9,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_3 (Conv2D)               │ (None, 4, 4, 16)       │         4,624 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_max_pooling2d            │ (None, 16)             │             0 │
│ (GlobalMaxPooling2D)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ reshape (Reshape)               │ (None, 4, 4, 1)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose                │ (None, 6, 6, 16)       │           160 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_1              │ (None, 8, 8, 32)       │         4,640 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ up_sampling2d (UpSampling2D)    │ (None, 24, 24, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_2              │ (None, 26, 26, 16)     │         4,624 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_3              │ (None, 28, 28, 1)      │           145 │
│ (Conv2DTranspose)               │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 28,241 (110.32 KB)
 Trainable params: 28,241 (110.32 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private encoder2Golden =
    """Model: "encoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ original_img (InputLayer)       │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_4 (Conv2D)               │ (None, 26, 26, 16)     │           160 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_5 (Conv2D)               │ (None, 24, 24, 32)     │         4,640 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 8, 8, 32)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_6 (Conv2D)               │ (None, 6, 6, 32)       │         9,248 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_7 (Conv2D)               │ (None, 4, 4, 16)       │         4,624 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_max_pooling2d_1          │ (None, 16)             │             0 │
│ (GlobalMaxPooling2D)            │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 18,672 (72.94 KB)
 Trainable params: 18,672 (72.94 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private decoderGolden =
    """Model: "decoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ encoded_img (InputLayer)        │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ reshape_1 (Reshape)             │ (None, 4, 4, 1)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_4              │ (None, 6, 6, 16)       │           160 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_5              │ (None, 8, 8, 32)       │         4,640 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ up_sampling2d_1 (UpSampling2D)  │ (None, 24, 24, 32)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_6              │ (None, 26, 26, 16)     │         4,624 │
│ (Conv2DTranspose)               │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_transpose_7              │ (None, 28, 28, 1)      │           145 │
│ (Conv2DTranspose)               │                        │               │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 9,569 (37.38 KB)
 Trainable params: 9,569 (37.38 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private nestedAutoencoderGolden =
    """Model: "autoencoder"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ img (InputLayer)                │ (None, 28, 28, 1)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ encoder (Functional)            │ (None, 16)             │        18,672 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ decoder (Functional)            │ (None, 28, 28, 1)      │         9,569 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 28,241 (110.32 KB)
 Trainable params: 28,241 (110.32 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private toyResnetGolden =
    """Model: "toy_resnet"
┏━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┓
┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃
┡━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━┩
│ img (InputLayer)    │ (None, 32, 32, 3) │          0 │ -                 │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_8 (Conv2D)   │ (None, 30, 30,    │        896 │ img[0][0]         │
│                     │ 32)               │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_9 (Conv2D)   │ (None, 28, 28,    │     18,496 │ conv2d_8[0][0]    │
│                     │ 64)               │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ max_pooling2d_2     │ (None, 9, 9, 64)  │          0 │ conv2d_9[0][0]    │
│ (MaxPooling2D)      │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_10 (Conv2D)  │ (None, 9, 9, 64)  │     36,928 │ max_pooling2d_2[… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_11 (Conv2D)  │ (None, 9, 9, 64)  │     36,928 │ conv2d_10[0][0]   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add (Add)           │ (None, 9, 9, 64)  │          0 │ conv2d_11[0][0],  │
│                     │                   │            │ max_pooling2d_2[… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_12 (Conv2D)  │ (None, 9, 9, 64)  │     36,928 │ add[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_13 (Conv2D)  │ (None, 9, 9, 64)  │     36,928 │ conv2d_12[0][0]   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ add_1 (Add)         │ (None, 9, 9, 64)  │          0 │ conv2d_13[0][0],  │
│                     │                   │            │ add[0][0]         │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ conv2d_14 (Conv2D)  │ (None, 7, 7, 64)  │     36,928 │ add_1[0][0]       │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ global_average_poo… │ (None, 64)        │          0 │ conv2d_14[0][0]   │
│ (GlobalAveragePool… │                   │            │                   │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dense_6 (Dense)     │ (None, 256)       │     16,640 │ global_average_p… │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dropout (Dropout)   │ (None, 256)       │          0 │ dense_6[0][0]     │
├─────────────────────┼───────────────────┼────────────┼───────────────────┤
│ dense_7 (Dense)     │ (None, 10)        │      2,570 │ dropout[0][0]     │
└─────────────────────┴───────────────────┴────────────┴───────────────────┘
 Total params: 223,242 (872.04 KB)
 Trainable params: 223,242 (872.04 KB)
 Non-trainable params: 0 (0.00 B)
"""

let private encoderLayers (input: KerasTensor) (names: string list) =
    let n i = names[i]
    let x = input --> Layers.Conv2D(16, 3, activation = "relu", name = n 0)
    let x = x --> Layers.Conv2D(32, 3, activation = "relu", name = n 1)
    let x = x --> Layers.MaxPooling2D(3, name = n 2)
    let x = x --> Layers.Conv2D(32, 3, activation = "relu", name = n 3)
    let x = x --> Layers.Conv2D(16, 3, activation = "relu", name = n 4)
    x --> Layers.GlobalMaxPooling2D(name = n 5)

let private decoderLayers (input: KerasTensor) (names: string list) =
    let n i = names[i]
    let x = input --> Layers.Reshape([ 4; 4; 1 ], name = n 0)
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu", name = n 1)
    let x = x --> Layers.Conv2DTranspose(32, 3, activation = "relu", name = n 2)
    let x = x --> Layers.UpSampling2D(3, name = n 3)
    let x = x --> Layers.Conv2DTranspose(16, 3, activation = "relu", name = n 4)
    x --> Layers.Conv2DTranspose(1, 3, activation = "relu", name = n 5)

/// The guide's toy ResNet, with its layer names.
let toyResnet () =
    let inputs = Keras.Input(shape = [ 32; 32; 3 ], name = "img")
    let x = inputs --> Layers.Conv2D(32, 3, activation = "relu", name = "conv2d_8")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu", name = "conv2d_9")
    let block1 = x --> Layers.MaxPooling2D(3, name = "max_pooling2d_2")

    let x =
        block1
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_10")

    let x =
        x
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_11")

    let block2 = Layers.add ([ x; block1 ], name = "add")

    let x =
        block2
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_12")

    let x =
        x
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_13")

    let block3 = Layers.add ([ x; block2 ], name = "add_1")
    let x = block3 --> Layers.Conv2D(64, 3, activation = "relu", name = "conv2d_14")
    let x = x --> Layers.GlobalAveragePooling2D(name = "global_average_pooling2d")
    let x = x --> Layers.Dense(256, activation = "relu", name = "dense_6")
    let x = x --> Layers.Dropout(0.5, name = "dropout")
    let outputs = x --> Layers.Dense(10, name = "dense_7")
    Keras.Model(inputs, outputs, name = "toy_resnet")

[<Tests>]
let tests =
    testList
        "Guide"
        [
            test "Encoder and autoencoder as one layer graph" {
                let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")

                let encoderOutput =
                    encoderLayers
                        encoderInput
                        [
                            "conv2d"
                            "conv2d_1"
                            "max_pooling2d"
                            "conv2d_2"
                            "conv2d_3"
                            "global_max_pooling2d"
                        ]

                let encoder = Keras.Model(encoderInput, encoderOutput, name = "encoder")
                Expect.equal (encoder.SummaryText guideWidth) encoderGolden "encoder summary"

                let decoderOutput =
                    decoderLayers
                        encoderOutput
                        [
                            "reshape"
                            "conv2d_transpose"
                            "conv2d_transpose_1"
                            "up_sampling2d"
                            "conv2d_transpose_2"
                            "conv2d_transpose_3"
                        ]

                let autoencoder = Keras.Model(encoderInput, decoderOutput, name = "autoencoder")
                Expect.equal (autoencoder.SummaryText guideWidth) autoencoderGolden "autoencoder summary"
                Expect.equal (encoder.CountParams()) 18672L "the encoder shares the autoencoder's first layers"
            }

            test "Encoder, decoder and an autoencoder of nested models" {
                let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "original_img")

                let encoder =
                    Keras.Model(
                        encoderInput,
                        encoderLayers
                            encoderInput
                            [
                                "conv2d_4"
                                "conv2d_5"
                                "max_pooling2d_1"
                                "conv2d_6"
                                "conv2d_7"
                                "global_max_pooling2d_1"
                            ],
                        name = "encoder"
                    )

                let decoderInput = Keras.Input(shape = [ 16 ], name = "encoded_img")

                let decoder =
                    Keras.Model(
                        decoderInput,
                        decoderLayers
                            decoderInput
                            [
                                "reshape_1"
                                "conv2d_transpose_4"
                                "conv2d_transpose_5"
                                "up_sampling2d_1"
                                "conv2d_transpose_6"
                                "conv2d_transpose_7"
                            ],
                        name = "decoder"
                    )

                let autoencoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")

                let autoencoder =
                    Keras.Model(autoencoderInput, autoencoderInput --> encoder --> decoder, name = "autoencoder")

                Expect.equal (encoder.SummaryText guideWidth) encoder2Golden "encoder"
                Expect.equal (decoder.SummaryText guideWidth) decoderGolden "decoder"
                Expect.equal (autoencoder.SummaryText guideWidth) nestedAutoencoderGolden "autoencoder"
                let images = torch.rand (2L, 28L, 28L, 1L)

                closeTo
                    1e-5f
                    (values (decoder.Predict(encoder.Predict images)))
                    (values (autoencoder.Predict images))
                    "nested = chained"
            }

            test "The toy ResNet" {
                let model = toyResnet ()
                Expect.equal (model.SummaryText guideWidth) toyResnetGolden "toy_resnet summary"
                Expect.equal (model.CountParams()) 223242L "parameters"
            }

            test "The guide's shared embedding and Conv1D on a static batch" {
                let shared = Layers.Embedding(1000, 128)
                let a = Keras.Input(shape = [ -1 ], dtype = Int32)
                let b = Keras.Input(shape = [ -1 ], dtype = Int32)
                let ea, eb = a --> shared, b --> shared
                Expect.equal (ea.Shape, eb.Shape) ([ None; None; Some 128 ], [ None; None; Some 128 ]) "embedded"
                Expect.equal (Keras.Model([ a; b ], [ ea; eb ]).CountParams()) 128000L "one embedding matrix"
                let inputs = Keras.Input(batchShape = [ 16; 10; 5 ])

                Expect.equal
                    (inputs --> Layers.Conv1D(32, 3)).Shape
                    [ Some 16; Some 8; Some 32 ]
                    "Conv1D(32, 3) on (16, 10, 5)"

                let seq = Keras.Input(shape = [ -1; 32 ])
                Expect.equal (seq --> Layers.GlobalAveragePooling1D()).Shape [ None; Some 32 ] "GlobalAveragePooling1D"
            }
            test "The toy ResNet trains for an epoch on random 32×32×3 data and its loss falls" {
                Utils.setRandomSeed 7
                let model = toyResnet ()
                // Learnable random data: the class is decided by the mean of one colour channel.
                let x = torch.rand (256L, 32L, 32L, 3L)

                let classes =
                    (x.select(3L, 0L).mean([| 1L; 2L |]) * 40.f).floor().clamp(0.0.ToScalar(), 9.0.ToScalar()).to_type
                        torch.ScalarType.Int64

                let y = Utils.toCategorical classes (Some 10)

                let compiled =
                    model.Compile(
                        optimizer = Optimizers.RMSprop(learningRate = ConstantRate 1e-3),
                        loss = CategoricalCrossentropy true,
                        metrics = [ "acc" ]
                    )

                let losses = ResizeArray<float>()

                let spy =
                    Callbacks.LambdaCallback(onBatchEnd = fun _ logs -> losses.Add logs["loss"])

                let before = compiled.Evaluate(x, y, verbose = 0)["loss"]

                let history =
                    compiled.Fit(
                        x,
                        y,
                        batchSize = 64,
                        epochs = 1,
                        validationSplit = 0.2,
                        callbacks = [ spy ],
                        verbose = 0
                    )

                Expect.containsAll
                    history.History.Keys
                    [ "acc"; "loss"; "val_acc"; "val_loss" ]
                    "the guide's metric names"

                Expect.isLessThan (compiled.Evaluate(x, y, verbose = 0)["loss"]) before "the loss fell over the epoch"
            }

            test "VGG19 has Keras's parameter counts and gives the guide's feature-extraction model" {
                let top = Applications.vgg19 true None 1000 None
                Expect.equal (top.CountParams()) 143667240L "VGG19 with the top"

                Expect.equal
                    (top.Layers |> List.map _.Name |> List.take 4)
                    [ "input_layer"; "block1_conv1"; "block1_conv2"; "block1_pool" ]
                    "Keras's names"

                let vgg = Applications.vgg19 false (Some [ 64; 64; 3 ]) 1000 None
                Expect.equal (vgg.CountParams()) 20024384L "VGG19 without the top"

                let features =
                    Keras.Model(vgg.Inputs, vgg.Layers |> List.tail |> List.map (fun l -> Model.layerOutput vgg l.Name))

                let outputs = features.Predict([ torch.rand (1L, 64L, 64L, 3L) ])
                Expect.equal outputs.Length 21 "one output per layer after the input"
                Expect.equal (List.last outputs).shape [| 1L; 2L; 2L; 512L |] "block5_pool"
                // A weights file round trip through the builder's `weights` argument.
                let file =
                    System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"vgg19-{System.Guid.NewGuid():N}.weights.h5")

                WeightsFile.saveWeights vgg file

                let reloaded =
                    Applications.vgg19With false (Some [ 64; 64; 3 ]) 1000 None (Some file)

                System.IO.File.Delete file
                let image = torch.rand (1L, 64L, 64L, 3L)

                closeTo
                    1e-5f
                    (values (vgg.Predict image))
                    (values (reloaded.Predict image))
                    "same predictions from the file's weights"
            }
            test "The ticket-routing model trains on the guide's random data with dict inputs and targets" {
                Utils.setRandomSeed 11
                let numTags, numWords, numDepartments = 12, 10000, 4
                let title = Keras.Input(shape = [ -1 ], name = "title", dtype = Int64)
                let body = Keras.Input(shape = [ -1 ], name = "body", dtype = Int64)
                let tags = Keras.Input(shape = [ numTags ], name = "tags")
                let titleFeatures = title --> Layers.Embedding(numWords, 64) --> Layers.LSTM(128)
                let bodyFeatures = body --> Layers.Embedding(numWords, 64) --> Layers.LSTM(32)
                let x = Layers.concatenate [ titleFeatures; bodyFeatures; tags ]
                let priority = x --> Layers.Dense(1, name = "priority")
                let department = x --> Layers.Dense(numDepartments, name = "department")

                let model =
                    Keras.Model([ title; body; tags ], [ "priority", priority; "department", department ])

                let compiled =
                    model.Compile(
                        optimizer = Optimizers.RMSprop(learningRate = ConstantRate 1e-3),
                        losses =
                            [
                                "priority", BinaryCrossentropy true
                                "department", CategoricalCrossentropy true
                            ],
                        lossWeights = [ "priority", 1.0; "department", 0.2 ]
                    )

                let inputs =
                    Data.Of
                        [
                            "title", torch.randint (int64 numWords, [| 1280L; 12L |])
                            "body", torch.randint (int64 numWords, [| 1280L; 100L |])
                            "tags", torch.randint(2L, [| 1280L; int64 numTags |]).to_type torch.ScalarType.Float32
                        ]

                let targets =
                    Data.Of
                        [
                            "priority", torch.rand (1280L, 1L)
                            "department",
                            torch.randint(2L, [| 1280L; int64 numDepartments |]).to_type torch.ScalarType.Float32
                        ]

                let history = compiled.Fit(inputs, targets, epochs = 2, batchSize = 32, verbose = 0)
                let loss = history["loss"]
                Expect.isLessThan loss[1] loss[0] "the total loss falls"

                for epoch in 0..1 do
                    let expected =
                        history["priority_loss"][epoch] + 0.2 * history["department_loss"][epoch]

                    Expect.floatClose
                        Accuracy.medium
                        loss[epoch]
                        expected
                        "loss = 1.0·priority_loss + 0.2·department_loss"
            }
        ]
