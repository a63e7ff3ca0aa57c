/// A depthwise-separable block on 56×56×32 feature maps (DepthwiseConv2D 3×3 with depth_multiplier 2, a pointwise
/// Conv2D, global average pooling, Dense(10); SGD, sparse cross-entropy from logits, batch 8): through fit, and as a
/// hand-written TorchSharp module and loop on channels-first contiguous images, the layout on which libtorch's
/// grouped convolution is right on every CPU (its channels_last fast path miscomputes multipliers above 1 on
/// AVX-512 CPUs, so the library reads such inputs with their channels repeated; see TorchConvolution).
module DepthwiseCnn

open TorchSharp
open Keras
open Keras.Operators

let private compiled () =
    let inputs = Keras.Input(shape = [ 56; 56; 32 ])

    let outputs =
        inputs
        --> Layers.DepthwiseConv2D(3, depthMultiplier = 2, padding = "same", activation = "relu")
        --> Layers.Conv2D(64, 1, activation = "relu")
        --> Layers.GlobalAveragePooling2D()
        --> Layers.Dense(10)

    let model = Keras.Model(inputs, outputs, name = "depthwise_cnn")

    model.Compile(
        optimizer = Optimizers.SGD(learningRate = ConstantRate 0.01),
        loss = SparseCategoricalCrossentropy true
    )

/// The same network as a TorchSharp module on (batch, 32, 56, 56) inputs.
type private Net() as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>("depthwise_cnn")
    let depthwise = torch.nn.Conv2d(32L, 64L, 3L, padding = 1L, groups = 32L)
    let pointwise = torch.nn.Conv2d(64L, 64L, 1L)
    let dense = torch.nn.Linear(64L, 10L)
    do this.RegisterComponents()

    override _.forward x =
        let relu (t: torch.Tensor) = torch.nn.functional.relu t
        let x = x |> depthwise.forward |> relu |> pointwise.forward |> relu
        x.mean ([| 2L; 3L |]) |> dense.forward

/// A benchmark case over <paramref name="n"/> random feature maps with random labels.
let case (n: int64) : Harness.Case =
    let batch = 8L
    let steps = int ((n + batch - 1L) / batch)
    let maps = torch.rand (n, 56L, 56L, 32L)
    let labels = torch.randint (10L, [| n |])
    let library = compiled ()
    let net = new Net()
    let optimizer = torch.optim.SGD(net.parameters (), 0.01)
    // The hand-written side keeps its data channels-first and contiguous, as TorchSharp's modules expect.
    let mapsFirst = maps.permute(0L, 3L, 1L, 2L).contiguous()

    let handEpoch () =
        Harness.handClassifierEpoch net optimizer mapsFirst labels batch

    {
        Name = "depthwise CNN (batch 8)"
        Steps = steps
        Library = fun () -> library.Fit(maps, labels, batchSize = 8, epochs = 1, verbose = 0) |> ignore
        HandWritten = handEpoch
    }

/// Prediction over <paramref name="n"/> random maps in batches of <paramref name="batch"/>; the hand-written side
/// reads them channels-first and contiguous, as in training (the copy is made outside the timed work).
let predictCase (n: int64) (batch: int) : Harness.Case =
    let library = compiled ()
    let net = new Net()
    let maps = torch.rand (n, 56L, 56L, 32L)
    let mapsFirst = maps.permute(0L, 3L, 1L, 2L).contiguous()

    let case =
        Harness.predictCase
            "depthwise CNN"
            mapsFirst
            batch
            (fun _ b -> library.Model.Predict(maps, batchSize = b) |> ignore)
            net.forward
            (fun () -> net.eval ())

    case
