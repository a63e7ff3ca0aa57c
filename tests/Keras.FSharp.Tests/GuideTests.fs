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
let private encoderGolden = """Model: "encoder"
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

let private autoencoderGolden = """Model: "autoencoder"
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

let private encoder2Golden = """Model: "encoder"
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

let private decoderGolden = """Model: "decoder"
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

let private nestedAutoencoderGolden = """Model: "autoencoder"
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

let private toyResnetGolden = """Model: "toy_resnet"
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
    let x = block1 --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_10")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_11")
    let block2 = Layers.add ([ x; block1 ], name = "add")
    let x = block2 --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_12")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu", padding = "same", name = "conv2d_13")
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
        [ test "Encoder and autoencoder as one layer graph" {
              let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")
              let encoderOutput = encoderLayers encoderInput [ "conv2d"; "conv2d_1"; "max_pooling2d"; "conv2d_2"; "conv2d_3"; "global_max_pooling2d" ]
              let encoder = Keras.Model(encoderInput, encoderOutput, name = "encoder")
              Expect.equal (encoder.SummaryText guideWidth) encoderGolden "encoder summary"
              let decoderOutput = decoderLayers encoderOutput [ "reshape"; "conv2d_transpose"; "conv2d_transpose_1"; "up_sampling2d"; "conv2d_transpose_2"; "conv2d_transpose_3" ]
              let autoencoder = Keras.Model(encoderInput, decoderOutput, name = "autoencoder")
              Expect.equal (autoencoder.SummaryText guideWidth) autoencoderGolden "autoencoder summary"
              Expect.equal (encoder.CountParams()) 18672L "the encoder shares the autoencoder's first layers"
          }

          test "Encoder, decoder and an autoencoder of nested models" {
              let encoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "original_img")
              let encoder = Keras.Model(encoderInput, encoderLayers encoderInput [ "conv2d_4"; "conv2d_5"; "max_pooling2d_1"; "conv2d_6"; "conv2d_7"; "global_max_pooling2d_1" ], name = "encoder")
              let decoderInput = Keras.Input(shape = [ 16 ], name = "encoded_img")
              let decoder = Keras.Model(decoderInput, decoderLayers decoderInput [ "reshape_1"; "conv2d_transpose_4"; "conv2d_transpose_5"; "up_sampling2d_1"; "conv2d_transpose_6"; "conv2d_transpose_7" ], name = "decoder")
              let autoencoderInput = Keras.Input(shape = [ 28; 28; 1 ], name = "img")
              let autoencoder = Keras.Model(autoencoderInput, autoencoderInput --> encoder --> decoder, name = "autoencoder")
              Expect.equal (encoder.SummaryText guideWidth) encoder2Golden "encoder"
              Expect.equal (decoder.SummaryText guideWidth) decoderGolden "decoder"
              Expect.equal (autoencoder.SummaryText guideWidth) nestedAutoencoderGolden "autoencoder"
              let images = torch.rand (2L, 28L, 28L, 1L)
              closeTo 1e-5f (values (decoder.Predict(encoder.Predict images))) (values (autoencoder.Predict images)) "nested = chained"
          }

          test "The toy ResNet" {
              let model = toyResnet ()
              Expect.equal (model.SummaryText guideWidth) toyResnetGolden "toy_resnet summary"
              Expect.equal (model.CountParams()) 223242L "parameters"
          }

          test "The guide's shared embedding and Conv1D on a static batch" {
              let shared = EmbeddingLayers.embedding (EmbeddingLayers.EmbeddingConfig.Default(1000, 128)) None
              let a = Keras.Input(shape = [ -1 ], dtype = Int32)
              let b = Keras.Input(shape = [ -1 ], dtype = Int32)
              let ea, eb = a --> shared, b --> shared
              Expect.equal (ea.Shape, eb.Shape) ([ None; None; Some 128 ], [ None; None; Some 128 ]) "embedded"
              Expect.equal (Keras.Model([ a; b ], [ ea; eb ]).CountParams()) 128000L "one embedding matrix"
              let inputs = Keras.Input(batchShape = [ 16; 10; 5 ])
              Expect.equal (inputs --> Layers.Conv1D(32, 3)).Shape [ Some 16; Some 8; Some 32 ] "Conv1D(32, 3) on (16, 10, 5)"
              let seq = Keras.Input(shape = [ -1; 32 ])
              Expect.equal (seq --> Layers.GlobalAveragePooling1D()).Shape [ None; Some 32 ] "GlobalAveragePooling1D"
          } ]
