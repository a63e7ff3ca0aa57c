/// The guide's toy ResNet for CIFAR-10: summary, plot, and a training run on CIFAR-10 when it is in Keras's cache
/// (~/.keras/datasets/cifar-10-batches-py), else on random data, saying so.
module Examples.ToyResNet

open System
open System.IO
open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

let build () =
    let inputs = Keras.Input(shape = [ 32; 32; 3 ], name = "img")
    let x = inputs --> Layers.Conv2D(32, 3, activation = "relu")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu")
    let block1Output = x --> Layers.MaxPooling2D(3)

    let x = block1Output --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
    let block2Output = Layers.add [ x; block1Output ]

    let x = block2Output --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
    let x = x --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
    let block3Output = Layers.add [ x; block2Output ]

    let x = block3Output --> Layers.Conv2D(64, 3, activation = "relu")
    let x = x --> Layers.GlobalAveragePooling2D()
    let x = x --> Layers.Dense(256, activation = "relu")
    let x = x --> Layers.Dropout(0.5)
    let outputs = x --> Layers.Dense(10)
    Keras.Model(inputs, outputs, name = "toy_resnet")

/// CIFAR-10 from Keras's cache, as float images in [0, 1] and integer labels, when it is there.
let private cachedCifar10 () =
    let folder =
        Path.Combine(
            Environment.GetFolderPath Environment.SpecialFolder.UserProfile,
            ".keras",
            "datasets",
            "cifar-10-batches-py"
        )

    if Directory.Exists folder then
        let (xTrain, yTrain), _ = Datasets.Cifar10.loadDataFrom folder
        let n = Array4D.length1 xTrain
        let flat: byte[] = xTrain |> Seq.cast<byte> |> Array.ofSeq

        let x =
            torch.tensor(flat).reshape(int64 n, 32L, 32L, 3L).to_type(torch.ScalarType.Float32)
            / torch.tensor (255.0f)

        Some(x, Datasets.Tensors.ofLabels yTrain)
    else
        None

let main (run: Run) =
    Utils.setRandomSeed 3
    let model = build ()
    run.Print(model.SummaryText())
    plot run model "mini_resnet.png" true

    let x, y =
        match cachedCifar10 () with
        | Some(x, y) ->
            run.Print "Training on CIFAR-10 from Keras's cache."
            x, y
        | None ->
            run.Print
                "CIFAR-10 is not in Keras's cache (~/.keras/datasets/cifar-10-batches-py): training on random data."

            let n = if run.Quick then 64L else 1000L
            torch.rand (n, 32L, 32L, 3L), torch.randint (10L, [| n |])

    // The guide restricts the data to the first 1000 samples; quick mode to 64.
    let samples = min (if run.Quick then 64L else 1000L) x.shape[0]
    let x, y = x.narrow (0L, 0L, samples), y.narrow (0L, 0L, samples)

    let compiled =
        model.Compile(
            optimizer = Optimizers.RMSprop(learningRate = 1e-3),
            loss = CategoricalCrossentropy(fromLogits = true),
            metrics = [ "acc" ]
        )

    let yOneHot = Utils.toCategorical y (Some 10)

    let history =
        compiled.Fit(
            x,
            yOneHot,
            batchSize = 64,
            epochs = 1,
            validationSplit = 0.2,
            verbose = (if run.Quick then 0 else 1)
        )

    run.Print
        $"""epoch 1: acc: %.4f{history["acc"][0]} - loss: %.4f{history["loss"][0]} - val_acc: %.4f{history["val_acc"][0]} - val_loss: %.4f{history["val_loss"][0]}"""

    model, history
