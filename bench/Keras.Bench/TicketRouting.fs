/// The guide's ticket-routing model: title and body word ids through Embedding(10000, 64) and LSTM(128) / LSTM(32),
/// concatenated with 12 tags, two heads (priority: binary cross-entropy from logits; department: categorical
/// cross-entropy from logits, weight 0.2), RMSprop 1e-3, batch 32, on the guide's random data: through fit, and as a
/// hand-written TorchSharp module and loop.
module TicketRouting

open TorchSharp
open Keras
open Keras.Operators

let private numTags, numWords, numDepartments = 12, 10000, 4

let private compiled () =
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

    model.Compile(
        optimizer = Optimizers.RMSprop(learningRate = ConstantRate 1e-3),
        losses =
            [
                "priority", BinaryCrossentropy true
                "department", CategoricalCrossentropy true
            ],
        lossWeights = [ "priority", 1.0; "department", 0.2 ]
    )

/// The same network as TorchSharp modules (batch-first LSTMs; the last step's hidden state is the feature).
type private Net() as this =
    inherit torch.nn.Module<torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor * torch.Tensor>("ticket_routing")
    let titleEmbedding = torch.nn.Embedding(int64 numWords, 64L)
    let bodyEmbedding = torch.nn.Embedding(int64 numWords, 64L)
    let titleLstm = torch.nn.LSTM(64L, 128L, batchFirst = true)
    let bodyLstm = torch.nn.LSTM(64L, 32L, batchFirst = true)
    let priority = torch.nn.Linear(128L + 32L + int64 numTags, 1L)
    let department = torch.nn.Linear(128L + 32L + int64 numTags, int64 numDepartments)
    do this.RegisterComponents()

    override _.forward(title, body, tags) =
        let lastState (lstm: TorchSharp.Modules.LSTM) (x: torch.Tensor) =
            let struct (_, h, _) = lstm.forward (x, System.Nullable())
            h.squeeze 0L

        let x =
            torch.cat (
                [|
                    lastState titleLstm (titleEmbedding.forward title)
                    lastState bodyLstm (bodyEmbedding.forward body)
                    tags
                |],
                1L
            )

        priority.forward x, department.forward x

/// Data of the guide's shapes: <paramref name="n"/> tickets, titles of 10 words and bodies of 100.
let private data (n: int64) =
    let title = torch.randint (int64 numWords, [| n; 10L |])
    let body = torch.randint (int64 numWords, [| n; 100L |])

    let tags =
        torch.randint(2L, [| n; int64 numTags |]).to_type torch.ScalarType.Float32

    let priority = torch.rand (n, 1L)

    let department =
        torch.randint(2L, [| n; int64 numDepartments |]).to_type torch.ScalarType.Float32

    title, body, tags, priority, department

/// A training case over <paramref name="n"/> random tickets.
let case (n: int64) : Harness.Case =
    let batch = 32L
    let steps = int ((n + batch - 1L) / batch)
    let title, body, tags, priority, department = data n
    let library = compiled ()
    let net = new Net()

    let optimizer =
        torch.optim.RMSProp(net.parameters (), lr = 1e-3, alpha = 0.9, eps = 1e-7)

    let inputs = Data.Of [ "title", title; "body", body; "tags", tags ]
    let targets = Data.Of [ "priority", priority; "department", department ]

    let handEpoch () =
        net.train ()
        let order = torch.randperm n
        let pick (t: torch.Tensor) = t.index_select (0L, order)
        use title = pick title
        use body = pick body
        use tags = pick tags
        use priority = pick priority
        use department = pick department
        let mutable lossSum = 0.0

        for start in 0L .. batch .. n - 1L do
            use scope = torch.NewDisposeScope()
            let len = min batch (n - start)
            let slice (t: torch.Tensor) = t.narrow (0L, start, len)
            let p, d = net.forward (slice title, slice body, slice tags)

            let loss =
                torch.nn.functional.binary_cross_entropy_with_logits (p, slice priority)
                + 0.2f * torch.nn.functional.cross_entropy (d, slice department)

            optimizer.zero_grad ()
            loss.backward ()
            optimizer.step () |> ignore
            lossSum <- lossSum + float (loss.item<float32>()) * float len

        ignore (lossSum / float n)

    {
        Name = "ticket routing (batch 32)"
        Steps = steps
        Library = fun () -> library.Fit(inputs, targets, batchSize = 32, epochs = 1, verbose = 0) |> ignore
        HandWritten = handEpoch
    }

/// Prediction over <paramref name="n"/> tickets in batches of <paramref name="batch"/>.
let predictCase (n: int64) (batch: int) : Harness.Case =
    let title, body, tags, _, _ = data n
    let library = compiled ()
    let net = new Net()
    let inputs = Data.Of [ "title", title; "body", body; "tags", tags ]

    let handPredict () =
        net.eval ()
        use _ = torch.no_grad ()

        // Like predict, every batch's outputs are kept and joined, per output.
        let outputs =
            [|
                for start in 0L .. int64 batch .. n - 1L do
                    use scope = torch.NewDisposeScope()
                    let len = min (int64 batch) (n - start)
                    let slice (t: torch.Tensor) = t.narrow (0L, start, len)
                    let p, d = net.forward (slice title, slice body, slice tags)
                    scope.MoveToOuter p, scope.MoveToOuter d
            |]

        use priorities = torch.cat (outputs |> Array.map fst, 0L)
        use departments = torch.cat (outputs |> Array.map snd, 0L)

        for p, d in outputs do
            p.Dispose()
            d.Dispose()

    {
        Name = $"ticket routing predict, batch {batch}"
        Steps = int ((n + int64 batch - 1L) / int64 batch)
        Library = fun () -> library.Predict(inputs, batchSize = batch) |> ignore
        HandWritten = handPredict
    }
