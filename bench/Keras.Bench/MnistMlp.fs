/// The guide's MNIST MLP (784 → 64 relu → 64 relu → 10), RMSprop, sparse categorical cross-entropy from logits,
/// accuracy, batch 64, shuffled each epoch: through fit, and as a hand-written TorchSharp loop.
module MnistMlp

open TorchSharp
open Keras
open Keras.Operators

/// The model and its compile settings, as the guide writes them.
let private compiled () =
    let inputs = Keras.Input(shape = [ 784 ])

    let outputs =
        inputs
        --> Layers.Dense(64, activation = "relu")
        --> Layers.Dense(64, activation = "relu")
        --> Layers.Dense(10)

    let model = Keras.Model(inputs, outputs)
    model.Compile(optimizer = Optimizers.RMSprop(), loss = SparseCategoricalCrossentropy true, metrics = [ "accuracy" ])

/// The same network as TorchSharp modules, with Keras's initialization so both start alike.
let private handModel () =
    let linear (i: int64) (o: int64) =
        let l = torch.nn.Linear(i, o)
        use _ = torch.no_grad ()
        let limit = sqrt (6.0 / float (i + o))
        l.weight.uniform_ (-limit, limit) |> ignore
        l.bias.zero_ () |> ignore
        l

    let m (x: torch.nn.Module<torch.Tensor, torch.Tensor>) = x

    torch.nn.Sequential(
        [|
            "d1", m (linear 784L 64L)
            "r1", m (torch.nn.ReLU())
            "d2", m (linear 64L 64L)
            "r2", m (torch.nn.ReLU())
            "d3", m (linear 64L 10L)
        |]
    )

/// A benchmark case over <paramref name="x"/> (n × 784 float32) and <paramref name="y"/> (n int64 labels).
let case (x: torch.Tensor) (y: torch.Tensor) : Harness.Case =
    let batch = 64L
    let n = x.shape[0]
    let steps = int ((n + batch - 1L) / batch)
    let library = compiled ()
    let hand: TorchSharp.Modules.Sequential = handModel ()
    // Keras's RMSprop defaults expressed in TorchSharp: alpha is Keras's rho.
    let optimizer =
        torch.optim.RMSProp(hand.parameters (), lr = 0.001, alpha = 0.9, eps = 1e-7)

    let handEpoch () =
        hand.train ()
        let order = torch.randperm n
        use xs = x.index_select (0L, order)
        use ys = y.index_select (0L, order)
        let mutable lossSum = 0.0
        let mutable correct = 0L

        for start in 0L .. batch .. n - 1L do
            use scope = torch.NewDisposeScope()
            let len = min batch (n - start)
            let xb, yb = xs.narrow (0L, start, len), ys.narrow (0L, start, len)
            let logits = hand.forward xb
            let loss = torch.nn.functional.cross_entropy (logits, yb)
            optimizer.zero_grad ()
            loss.backward ()
            optimizer.step () |> ignore
            // The same running metrics fit reports: mean loss and accuracy.
            lossSum <- lossSum + float (loss.item<float32>()) * float len
            correct <- correct + logits.argmax(-1L).eq(yb).sum().item<int64>()

        ignore (lossSum / float n, float correct / float n)

    {
        Name = "MNIST MLP (batch 64)"
        Steps = steps
        Library = fun () -> library.Fit(x, y, batchSize = 64, epochs = 1, verbose = 0) |> ignore
        HandWritten = handEpoch
    }

/// Prediction over the first <paramref name="n"/> rows of <paramref name="x"/> in batches of <paramref name="batch"/>.
let predictCase (x: torch.Tensor) (n: int64) (batch: int) : Harness.Case =
    let library = compiled ()
    let hand: TorchSharp.Modules.Sequential = handModel ()

    Harness.predictCase
        "MNIST MLP"
        (x.narrow (0L, 0L, n))
        batch
        (fun x b -> library.Model.Predict(x, batchSize = b) |> ignore)
        hand.forward
        (fun () -> hand.eval ())
