/// A Transformer encoder block on sequences of 32 steps × 64 features: MultiHeadAttention(4 heads, key_dim 16) with a
/// residual connection and LayerNormalization, a Dense(128, relu) → Dense(64) feed-forward part with its residual and
/// LayerNormalization, then GlobalAveragePooling1D and Dense(10); Adam, sparse cross-entropy from logits, batch 32:
/// through fit, and as a hand-written TorchSharp module (Linear projections and scaled_dot_product_attention).
module TransformerBlock

open TorchSharp
open Keras
open Keras.Operators

let private steps, dim, heads, headDim = 32L, 64L, 4L, 16L

let private compiled () =
    let inputs = Keras.Input(shape = [ int steps; int dim ])

    let attention =
        Layer.callMany (Layers.MultiHeadAttention(int heads, int headDim)) [ inputs; inputs ]
        |> List.exactlyOne

    let x = Layers.add [ inputs; attention ] --> Layers.LayerNormalization()

    let feedForward =
        x --> Layers.Dense(128, activation = "relu") --> Layers.Dense(int dim)

    let outputs =
        Layers.add [ x; feedForward ]
        --> Layers.LayerNormalization()
        --> Layers.GlobalAveragePooling1D()
        --> Layers.Dense(10)

    let model = Keras.Model(inputs, outputs, name = "transformer_block")
    model.Compile(optimizer = Optimizers.Adam(), loss = SparseCategoricalCrossentropy true)

/// The same block as TorchSharp modules on (batch, steps, features) inputs.
type private Net() as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor>("transformer_block")
    let query = torch.nn.Linear(dim, heads * headDim)
    let key = torch.nn.Linear(dim, heads * headDim)
    let value = torch.nn.Linear(dim, heads * headDim)
    let output = torch.nn.Linear(heads * headDim, dim)
    let norm1 = torch.nn.LayerNorm([| dim |], eps = 1e-3)
    let ff1 = torch.nn.Linear(dim, 128L)
    let ff2 = torch.nn.Linear(128L, dim)
    let norm2 = torch.nn.LayerNorm([| dim |], eps = 1e-3)
    let classifier = torch.nn.Linear(dim, 10L)
    do this.RegisterComponents()

    override _.forward x =
        let n = x.shape[0]

        let split (projection: TorchSharp.Modules.Linear) =
            (projection.forward x).view(n, steps, heads, headDim).transpose(1L, 2L)

        let attended =
            torch.nn.functional
                .scaled_dot_product_attention(split query, split key, split value)
                .transpose(1L, 2L)
                .reshape(n, steps, heads * headDim)

        let x = norm1.forward (x + output.forward attended)
        let x = norm2.forward (x + ff2.forward (torch.nn.functional.relu (ff1.forward x)))
        classifier.forward (x.mean [| 1L |])

let private data (n: int64) =
    torch.randn (n, steps, dim), torch.randint (10L, [| n |])

/// A training case over <paramref name="n"/> random sequences.
let case (n: int64) : Harness.Case =
    let batch = 32L
    let x, y = data n
    let library = compiled ()
    let net = new Net()
    let optimizer = torch.optim.Adam(net.parameters (), lr = 1e-3, eps = 1e-7)

    let handEpoch () =
        Harness.handClassifierEpoch net optimizer x y batch

    {
        Name = "Transformer block (batch 32)"
        Steps = int ((n + batch - 1L) / batch)
        Library = fun () -> library.Fit(x, y, batchSize = 32, epochs = 1, verbose = 0) |> ignore
        HandWritten = handEpoch
    }

/// Prediction over <paramref name="n"/> sequences in batches of <paramref name="batch"/>.
let predictCase (n: int64) (batch: int) : Harness.Case =
    let library = compiled ()
    let net = new Net()

    Harness.predictCase
        "Transformer block"
        (fst (data n))
        batch
        (fun x b -> library.Model.Predict(x, batchSize = b) |> ignore)
        net.forward
        (fun () -> net.eval ())
