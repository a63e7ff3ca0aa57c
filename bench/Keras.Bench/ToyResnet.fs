/// The guide's toy ResNet on 32×32×3 images (RMSprop 1e-3, categorical cross-entropy from logits, accuracy, batch 64):
/// through fit, and as a hand-written TorchSharp module and loop (channels-first modules fed channels_last memory).
module ToyResnet

open TorchSharp
open Keras
open Keras.Operators

let private compiled () =
    let inputs = Keras.Input(shape = [ 32; 32; 3 ])

    let x =
        inputs
        --> Layers.Conv2D(32, 3, activation = "relu")
        --> Layers.Conv2D(64, 3, activation = "relu")

    let block1 = x --> Layers.MaxPooling2D(3)

    let x =
        block1
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")

    let block2 = Layers.add [ x; block1 ]

    let x =
        block2
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")
        --> Layers.Conv2D(64, 3, activation = "relu", padding = "same")

    let block3 = Layers.add [ x; block2 ]

    let x =
        block3
        --> Layers.Conv2D(64, 3, activation = "relu")
        --> Layers.GlobalAveragePooling2D()

    let outputs =
        x
        --> Layers.Dense(256, activation = "relu")
        --> Layers.Dropout(0.5)
        --> Layers.Dense(10)

    let model = Keras.Model(inputs, outputs, name = "toy_resnet")

    model.Compile(
        optimizer = Optimizers.RMSprop(learningRate = ConstantRate 1e-3),
        loss = CategoricalCrossentropy true,
        metrics = [ "acc" ]
    )

/// The same network as a TorchSharp module.
type private Net() as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>("toy_resnet")
    let c1 = torch.nn.Conv2d(3L, 32L, 3L)
    let c2 = torch.nn.Conv2d(32L, 64L, 3L)
    let c3 = torch.nn.Conv2d(64L, 64L, 3L, padding = 1L)
    let c4 = torch.nn.Conv2d(64L, 64L, 3L, padding = 1L)
    let c5 = torch.nn.Conv2d(64L, 64L, 3L, padding = 1L)
    let c6 = torch.nn.Conv2d(64L, 64L, 3L, padding = 1L)
    let c7 = torch.nn.Conv2d(64L, 64L, 3L)
    let d1 = torch.nn.Linear(64L, 256L)
    let drop = torch.nn.Dropout(0.5)
    let d2 = torch.nn.Linear(256L, 10L)
    do this.RegisterComponents()

    override _.forward x =
        let relu (t: torch.Tensor) = torch.nn.functional.relu t
        let x = x |> c1.forward |> relu |> c2.forward |> relu
        let b1 = torch.nn.functional.max_pool2d (x, 3L)
        let b2 = (b1 |> c3.forward |> relu |> c4.forward |> relu) + b1
        let b3 = (b2 |> c5.forward |> relu |> c6.forward |> relu) + b2
        let x = (b3 |> c7.forward |> relu).mean([| 2L; 3L |])
        x |> d1.forward |> relu |> drop.forward |> d2.forward

/// A benchmark case over <paramref name="n"/> random images with random one-hot labels.
let case (n: int64) : Harness.Case =
    let batch = 64L
    let steps = int ((n + batch - 1L) / batch)
    let images = torch.rand (n, 32L, 32L, 3L)
    let labels = Utils.toCategorical (torch.randint (10L, [| n |])) (Some 10)
    let library = compiled ()
    let net = new Net()

    let optimizer =
        torch.optim.RMSProp(net.parameters (), lr = 1e-3, alpha = 0.9, eps = 1e-7)

    let handEpoch () =
        net.train ()
        let order = torch.randperm n
        use xs = images.index_select (0L, order)
        use ys = labels.index_select (0L, order)
        let mutable lossSum = 0.0
        let mutable correct = 0L

        for start in 0L .. batch .. n - 1L do
            use scope = torch.NewDisposeScope()
            let len = min batch (n - start)
            // A permuted view of channels-last images is in torch's channels_last memory format, which libtorch's
            // CPU convolutions run fastest on: the layout a performance-minded TorchSharp user picks.
            let xb, yb =
                xs.narrow(0L, start, len).permute(0L, 3L, 1L, 2L), ys.narrow (0L, start, len)

            let logits = net.forward xb
            let loss = torch.nn.functional.cross_entropy (logits, yb)
            optimizer.zero_grad ()
            loss.backward ()
            optimizer.step () |> ignore
            lossSum <- lossSum + float (loss.item<float32>()) * float len
            correct <- correct + logits.argmax(-1L).eq(yb.argmax (-1L)).sum().item<int64>()

        ignore (lossSum / float n, float correct / float n)

    {
        Name = "toy ResNet (batch 64)"
        Steps = steps
        Library = fun () -> library.Fit(images, labels, batchSize = 64, epochs = 1, verbose = 0) |> ignore
        HandWritten = handEpoch
    }

/// Prediction over <paramref name="n"/> random images in batches of <paramref name="batch"/>; the hand-written side
/// reads the channels_last images through a permuted view, as in training.
let predictCase (n: int64) (batch: int) : Harness.Case =
    let library = compiled ()
    let net = new Net()

    Harness.predictCase
        "toy ResNet"
        (torch.rand (n, 32L, 32L, 3L))
        batch
        (fun x b -> library.Model.Predict(x, batchSize = b) |> ignore)
        (fun x -> net.forward (x.permute (0L, 3L, 1L, 2L)))
        (fun () -> net.eval ())
