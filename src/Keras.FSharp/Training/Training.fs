namespace Keras

open System
open System.Collections.Generic
open TorchSharp

/// What <c>fit</c> returns: each epoch's value of every loss and metric (and <c>val_</c> ones), as Keras's
/// <c>History.history</c>.
type History(epochs: int list, values: IReadOnlyDictionary<string, float list>) =
    /// The epochs that ran (0-based).
    member _.Epochs = epochs
    /// Per-name lists of epoch values: <c>history.History["loss"]</c>.
    member _.History = values
    /// The values of one name.
    member _.Item(name: string) = values[name]

/// The result of <c>compile</c>: a model with its loss, metrics and optimizer state, ready to train.
[<AllowNullLiteral>]
type CompiledModel
    (model: Model, optimizer: Optimizer, losses: Keras.Loss list, lossWeights: float list, metrics: MetricSpec list list)
    =
    let optimizerState = OptimizerState(optimizer)
    let outputNames = Model.outputNames model
    let multi = outputNames.Length > 1
    // The weights fit updates are fixed here, at compile (Keras: after changing `trainable`, compile again). A weight
    // frozen since then records no gradient and is skipped; one unfrozen since then waits for the next compile.
    let trainable = Model.trainableWeights model
    let parameters = trainable |> List.map _.Value
    let constrained = trainable |> List.filter _.Constraint.IsSome

    // Metric objects need the first batch's shapes ("accuracy" is resolved from them); created on first use.
    let mutable metricObjects: (int * Metric) list option = None

    let metricsFor (ys: torch.Tensor list) (outs: torch.Tensor list) =
        match metricObjects with
        | Some m -> m
        | None ->
            let created =
                metrics
                |> List.mapi (fun i specs ->
                    specs |> List.map (fun s -> i, Metrics.createFor outputNames[i] s ys[i] outs[i]))
                |> List.concat

            metricObjects <- Some created
            created

    let metricName (i: int) (metric: Metric) =
        if multi then
            $"{outputNames[i]}_{metric.Name}"
        else
            metric.Name

    let allLayers = lazy (Weights.allLayers model.Layers)

    let regularization () =
        [
            for layer in allLayers.Value do
                let weights = Weights.ofLayer layer

                if weights.Length > 0 then
                    yield! layer.Spec.RegularizationLosses weights
        ]

    /// Per-output losses and their weighted sum (with activity and weight regularization).
    let computeLoss
        (outs: torch.Tensor list)
        (ys: torch.Tensor list)
        (sampleWeight: torch.Tensor option)
        (extra: torch.Tensor list)
        =
        let perOutput =
            List.zip3 losses ys outs
            |> List.mapi (fun i (loss, y, out) ->
                let output = outputNames[i]

                Errors.guardDescribed output (fun () -> $"loss {Keras.Loss.name loss} of output") (fun () ->
                    Keras.Loss.computeFor output loss y out sampleWeight))

        let weighted =
            List.map2 (fun (l: torch.Tensor) w -> if w = 1.0 then l else l * w) perOutput lossWeights

        let total = (weighted @ extra @ regularization ()) |> List.reduce (fun a b -> a + b)
        total, perOutput

    do
        if
            losses.Length <> outputNames.Length
            || lossWeights.Length <> outputNames.Length
            || metrics.Length <> outputNames.Length
        then
            Errors.raiseKeras (
                InvalidArgument(
                    model.Name,
                    "loss",
                    $"""Expected one loss, loss weight and metric list per output ({String.concat ", " outputNames}).""",
                    string losses.Length
                )
            )

    /// Running means of the losses, weighted by batch size as Keras's loss trackers are.
    let lossTotals = Array.zeroCreate<float>(outputNames.Length + 1)
    let mutable lossCount = 0.0

    let resetState () =
        Array.Clear lossTotals
        lossCount <- 0.0
        metricObjects |> Option.iter (List.iter (fun (_, m) -> m.Reset()))

    let track (batch: int64) (total: float) (perOutput: torch.Tensor list) =
        let n = float batch
        lossTotals[0] <- lossTotals[0] + n * total

        if multi then
            perOutput
            |> List.iteri (fun i l -> lossTotals[i + 1] <- lossTotals[i + 1] + n * float (l.item<float32>()))

        lossCount <- lossCount + n

    let updateMetrics (ys: torch.Tensor list) (outs: torch.Tensor list) (sampleWeight: torch.Tensor option) =
        use _ = torch.no_grad ()

        for i, metric in metricsFor ys outs do
            Errors.guardDescribed outputNames[i] (fun () -> $"metric {metric.Name} of output") (fun () ->
                use out = outs[i].detach()
                metric.Update(ys[i], out, sampleWeight))

    let currentLogs () =
        let logs = Dictionary<string, float>()
        logs["loss"] <- (if lossCount = 0.0 then 0.0 else lossTotals[0] / lossCount)

        if multi then
            outputNames
            |> List.iteri (fun i n ->
                logs[$"{n}_loss"] <-
                    (if lossCount = 0.0 then
                         0.0
                     else
                         lossTotals[i + 1] / lossCount))

        for i, metric in defaultArg metricObjects [] do
            logs[metricName i metric] <- metric.Result()

        logs

    let prepareX (x: Data) =
        Model.prepare model (Data.inputs model x)

    let targetsOf (y: Data) = Data.targets model y

    let slice (ts: torch.Tensor list) (start: int64) (len: int64) =
        ts |> List.map (fun t -> t.narrow (0L, start, len))

    /// Keras's "Expected input data to be non-empty" for fit, evaluate and the batch methods.
    let requireRows (n: int64) =
        if n = 0L then
            Errors.raiseKeras (DataMismatch(model.Name, "Expected input data to be non-empty.", "0 samples"))

    let requirePositive (argument: string) (value: int) =
        if value <= 0 then
            Errors.raiseKeras (InvalidArgument(model.Name, argument, "Expected a positive integer.", string value))

    /// Sample weights must give one weight per sample, as Keras requires.
    let checkSampleWeight (n: int64) (sampleWeight: torch.Tensor option) =
        match sampleWeight with
        | Some w when w.dim () = 0L || w.size(0) <> n ->
            let shape = w.Sizes |> Array.map string |> String.concat ", "

            Errors.raiseKeras (
                DataMismatch(
                    model.Name,
                    $"`sample_weight` must have one weight per sample ({n} samples).",
                    $"sample_weight of shape ({shape})"
                )
            )
        | _ -> ()

    /// Disposes the tensors this call made (dtype conversions, copies), never the caller's own.
    let disposeOwned (given: torch.Tensor list) (made: torch.Tensor seq) =
        for t in made do
            if
                not (isNull t)
                && not (given |> List.exists (fun g -> obj.ReferenceEquals(g, t)))
            then
                t.Dispose()

    let tensorsOf (data: Data) =
        match data with
        | Tensor t -> [ t ]
        | Tensors ts -> ts
        | Named d -> List.ofSeq d.Values

    /// Runs one batch step on slices of the data inside a dispose scope: the slices (views that keep the data's
    /// storage alive) and every temporary are released when the step ends, not by the finalizer.
    let onBatch
        step
        (xs: torch.Tensor list)
        (ys: torch.Tensor list)
        (sw: torch.Tensor option)
        (start: int64)
        (len: int64)
        =
        use scope = torch.NewDisposeScope()

        step
            (slice xs start len)
            (slice ys start len)
            (sw |> Option.map (fun (w: torch.Tensor) -> w.narrow (0L, start, len)))

    /// One optimization step on a batch; returns nothing, updates trackers. Skips the update on a non-finite loss.
    let trainStep (xb: torch.Tensor list) (yb: torch.Tensor list) (sw: torch.Tensor option) =
        use scope = torch.NewDisposeScope()
        let outs, activity = Model.forwardWithLosses model true xb
        let total, perOutput = computeLoss outs yb sw activity
        let value = total.item<float32>()

        // A NaN loss must not corrupt the weights: the step is not applied (TerminateOnNaN then stops).
        // A model without trainable weights (or a loss that does not depend on them) trains nothing, as in Keras.
        let live = parameters |> List.filter _.requires_grad

        if Single.IsFinite value && not live.IsEmpty && total.requires_grad then
            Errors.guard model.Name "the train step of model" (fun () ->
                let inputs = live |> List.map (fun p -> p :> torch.Tensor) |> Array.ofList
                let grads = torch.autograd.grad ([| total |], inputs, allow_unused = true)

                optimizerState.Apply(List.zip live (List.ofSeq grads))
                // Keras applies each weight's constraint right after the update.
                Weights.applyConstraints (constrained |> List.filter _.Value.requires_grad))

        track (xb.Head.size(0)) (float value) perOutput
        updateMetrics yb outs sw

    let testStep (xb: torch.Tensor list) (yb: torch.Tensor list) (sw: torch.Tensor option) =
        use scope = torch.NewDisposeScope()
        use _ = torch.no_grad ()
        let outs, activity = Model.forwardWithLosses model false xb
        let total, perOutput = computeLoss outs yb sw activity
        track (xb.Head.size(0)) (float (total.item<float32>())) perOutput
        updateMetrics yb outs sw

    let batches (n: int64) (batchSize: int) =
        [
            for start in 0L .. int64 batchSize .. n - 1L -> start, min (int64 batchSize) (n - start)
        ]

    let runEvaluation
        (xs: torch.Tensor list)
        (ys: torch.Tensor list)
        (sw: torch.Tensor option)
        (batchSize: int)
        (verbose: int)
        =
        requirePositive "batch_size" batchSize
        resetState ()
        let n = Data.rows model xs ys
        requireRows n
        checkSampleWeight n sw
        let steps = batches n batchSize
        let bar = Progress.Bar(steps.Length, verbose)

        bar.Run(fun () ->
            steps
            |> List.iteri (fun i (start, len) ->
                onBatch testStep xs ys sw start len
                bar.Update(i + 1, currentLogs ())))

        let logs = currentLogs ()
        bar.Finish logs
        logs

    let sampleWeights
        (ys: torch.Tensor list)
        (sampleWeight: torch.Tensor option)
        (classWeight: IReadOnlyDictionary<int, float> option)
        =
        match sampleWeight, classWeight with
        | Some w, _ -> Some(w.to_type torch.ScalarType.Float32)
        | None, Some cw when cw.Count = 0 -> None
        | None, Some cw ->
            // Keras maps each sample's class (the label, or the argmax of a one-hot target) to its weight.
            let keys = cw.Keys |> List.ofSeq

            match keys |> List.tryFind (fun k -> k < 0) with
            | Some k ->
                Errors.raiseKeras (
                    InvalidArgument(
                        model.Name,
                        "class_weight",
                        "Class indices must be non-negative integers.",
                        string k
                    )
                )
            | None -> ()

            let y = ys.Head

            use classes =
                if y.dim () > 1L && y.size(-1) > 1L then
                    y.argmax (-1L)
                else
                    y.reshape(-1L).to_type torch.ScalarType.Int64

            let maxKey = List.max keys

            if classes.numel () > 0L then
                use lowest = classes.min ()
                use highest = classes.max ()
                let low, high = lowest.item<int64>(), highest.item<int64>()

                if low < 0L || high > int64 maxKey then
                    let bad = if low < 0L then low else high

                    Errors.raiseKeras (
                        InvalidArgument(
                            model.Name,
                            "class_weight",
                            $"`class_weight` must contain all classes in the data. The class {bad} exists in the data of output \"{outputNames.Head}\" but not in `class_weight`.",
                            "{" + (keys |> List.sort |> List.map string |> String.concat ", ") + "}"
                        )
                    )

            let table =
                Array.init (maxKey + 1) (fun c ->
                    match cw.TryGetValue c with
                    | true, w -> float32 w
                    | _ -> 1.0f)

            use tableTensor = torch.tensor table
            Some(tableTensor.index_select (0L, classes))
        | None, None -> None

    /// The model being trained.
    member _.Model = model
    /// The optimizer's state (learning rate, step count).
    member _.Optimizer = optimizerState
    /// The loss of each output.
    member _.Losses = losses
    /// The weight of each output's loss.
    member _.LossWeights = lossWeights

    /// <summary>Trains the model (Keras's <c>fit</c>) and returns the per-epoch history.</summary>
    /// <param name="x">Inputs: a tensor, a list in input order, or tensors keyed by input name.</param>
    /// <param name="y">Targets: a tensor, a list in output order, or tensors keyed by output name.</param>
    /// <param name="batchSize">Samples per step; 32 by default.</param>
    /// <param name="epochs">Epochs to train; 1 by default.</param>
    /// <param name="verbose">0 silent, 1 progress bar (default), 2 one line per epoch.</param>
    /// <param name="callbacks">Callbacks called during training.</param>
    /// <param name="validationSplit">Fraction of the data (the last samples, before shuffling) held out for validation.</param>
    /// <param name="validationData">Explicit validation inputs and targets.</param>
    /// <param name="shuffle">Shuffle the training samples each epoch; true by default.</param>
    /// <param name="classWeight">Weight of each class in the loss.</param>
    /// <param name="sampleWeight">Weight of each sample in the loss.</param>
    /// <param name="initialEpoch">Epoch to start from (for resuming).</param>
    member this.Fit
        (
            x: Data,
            y: Data,
            ?batchSize: int,
            ?epochs: int,
            ?verbose: int,
            ?callbacks: Callback list,
            ?validationSplit: float,
            ?validationData: Data * Data,
            ?shuffle: bool,
            ?classWeight: IReadOnlyDictionary<int, float>,
            ?sampleWeight: torch.Tensor,
            ?initialEpoch: int
        ) : History =
        let batchSize = defaultArg batchSize 32
        let epochs = defaultArg epochs 1
        let verbose = defaultArg verbose 1
        let callbacks = defaultArg callbacks []
        let split = defaultArg validationSplit 0.0

        requirePositive "batch_size" batchSize

        if epochs < 0 then
            Errors.raiseKeras (InvalidArgument(model.Name, "epochs", "Expected a non-negative integer.", string epochs))

        match initialEpoch with
        | Some e when e < 0 ->
            Errors.raiseKeras (
                InvalidArgument(model.Name, "initial_epoch", "Expected a non-negative integer.", string e)
            )
        | _ -> ()

        if Double.IsNaN split || split < 0.0 || split >= 1.0 then
            Errors.raiseKeras (
                InvalidArgument(model.Name, "validation_split", "Expected a number in [0, 1).", string split)
            )

        let xs = prepareX x
        let ys = targetsOf y
        let n = Data.rows model xs ys
        requireRows n
        checkSampleWeight n sampleWeight
        let sw = sampleWeights ys sampleWeight classWeight

        // Keras holds out the last samples, before any shuffling.
        let trainRows =
            if split > 0.0 then
                int64 (floor (float n * (1.0 - split)))
            else
                n

        if trainRows = 0L || trainRows = n && split > 0.0 then
            Errors.raiseKeras (
                InvalidArgument(
                    model.Name,
                    "validation_split",
                    $"Training data contains {n} samples, which is not sufficient to split it into a validation and training set as specified by `validation_split={split}`. Either provide more data, or a different value for the `validation_split` argument.",
                    string split
                )
            )

        let train ts =
            ts |> List.map (fun (t: torch.Tensor) -> t.narrow (0L, 0L, trainRows))

        let held ts =
            ts
            |> List.map (fun (t: torch.Tensor) -> t.narrow (0L, trainRows, n - trainRows))

        let validation =
            match validationData with
            | Some(vx, vy) ->
                let vxs, vys = prepareX vx, targetsOf vy

                if Data.rows model vxs vys = 0L then
                    Errors.raiseKeras (
                        DataMismatch(model.Name, "Expected `validation_data` to be non-empty.", "0 samples")
                    )

                Some(vxs, vys, None)
            | None when split > 0.0 ->
                Some(held xs, held ys, sw |> Option.map (fun w -> w.narrow (0L, trainRows, n - trainRows)))
            | None -> None

        let xTrain, yTrain = train xs, train ys
        let swTrain = sw |> Option.map (fun w -> w.narrow (0L, 0L, trainRows))
        let steps = batches trainRows batchSize

        let control =
            {
                Model = model
                Optimizer = optimizerState
                StopTraining = false
                Epochs = epochs
                Steps = steps.Length
            }

        let history = Dictionary<string, ResizeArray<float>>()
        let ran = ResizeArray<int>()
        let mutable lastLogs = Dictionary<string, float>() :> IReadOnlyDictionary<_, _>
        callbacks |> List.iter (fun c -> c.OnTrainBegin control)
        let mutable epoch = defaultArg initialEpoch 0

        while epoch < epochs && not control.StopTraining do
            callbacks |> List.iter (fun c -> c.OnEpochBegin(control, epoch))

            if verbose > 0 then
                Console.WriteLine $"Epoch {epoch + 1}/{epochs}"

            resetState ()

            // Shuffling once per epoch and slicing views keeps every batch contiguous. The shuffled copies are
            // disposed when the epoch ends: left to the finalizer, each epoch's copy stayed resident (issue 8).
            let xE, yE, swE =
                if defaultArg shuffle true then
                    use order = torch.randperm trainRows

                    let pick (ts: torch.Tensor list) =
                        ts |> List.map (fun t -> t.index_select (0L, order))

                    pick xTrain, pick yTrain, swTrain |> Option.map (fun w -> w.index_select (0L, order))
                else
                    xTrain, yTrain, swTrain

            let bar = Progress.Bar(steps.Length, verbose)

            try
                bar.Run(fun () ->
                    let mutable i = 0

                    while i < steps.Length && not control.StopTraining do
                        let start, len = steps[i]
                        callbacks |> List.iter (fun c -> c.OnBatchBegin(control, i))
                        onBatch trainStep xE yE swE start len
                        let logs = currentLogs ()
                        bar.Update(i + 1, logs)
                        callbacks |> List.iter (fun c -> c.OnBatchEnd(control, i, logs))
                        i <- i + 1)
            finally
                if defaultArg shuffle true then
                    disposeOwned [] (xE @ yE @ Option.toList swE)

            let logs = currentLogs ()

            match validation with
            | Some(vx, vy, vsw) ->
                let valLogs = runEvaluation vx vy vsw batchSize 0

                for KeyValue(k, v) in valLogs do
                    logs[$"val_{k}"] <- v
            | None -> ()

            bar.Finish logs

            for KeyValue(k, v) in logs do
                if not (history.ContainsKey k) then
                    history[k] <- ResizeArray()

                history[k].Add v

            ran.Add epoch
            lastLogs <- logs
            callbacks |> List.iter (fun c -> c.OnEpochEnd(control, epoch, logs))
            epoch <- epoch + 1

        callbacks |> List.iter (fun c -> c.OnTrainEnd(control, lastLogs))

        // The views and conversions made for this call; the caller's tensors stay untouched.
        let given =
            tensorsOf x
            @ tensorsOf y
            @ Option.toList sampleWeight
            @ (validationData
               |> Option.map (fun (vx, vy) -> tensorsOf vx @ tensorsOf vy)
               |> Option.defaultValue [])

        disposeOwned
            given
            (seq {
                yield! xTrain
                yield! yTrain
                yield! Option.toList swTrain

                match validation with
                | Some(vx, vy, vsw) ->
                    yield! vx
                    yield! vy
                    yield! Option.toList vsw
                | None -> ()

                yield! xs
                yield! Option.toList sw
            })

        let values = Dictionary<string, float list>()

        for KeyValue(k, v) in history do
            values[k] <- List.ofSeq v

        History(List.ofSeq ran, values)

    /// <summary>Loss and metrics on data, in inference mode (Keras's <c>evaluate</c>); printed like
    /// "313/313 - 0s - 341us/step - accuracy: 0.9613 - loss: 0.1288" when <paramref name="verbose"/> is not 0.</summary>
    member _.Evaluate
        (x: Data, y: Data, ?batchSize: int, ?verbose: int, ?sampleWeight: torch.Tensor)
        : IReadOnlyDictionary<string, float> =
        let verbose =
            match defaultArg verbose 1 with
            | 1 -> 2
            | v -> v

        let xs = prepareX x

        try
            runEvaluation xs (targetsOf y) sampleWeight (defaultArg batchSize 32) verbose
        finally
            disposeOwned (tensorsOf x) xs

    /// Predictions in batches, in inference mode, one tensor per output.
    member _.Predict(x: Data, ?batchSize: int) =
        Model.predictMany model (defaultArg batchSize 32) (Data.inputs model x)

    /// <summary>One training step on one batch; returns that batch's loss and metrics (Keras's <c>train_on_batch</c>).</summary>
    member _.TrainOnBatch(x: Data, y: Data, ?sampleWeight: torch.Tensor) =
        resetState ()
        let xs, ys = prepareX x, targetsOf y
        let n = Data.rows model xs ys
        requireRows n
        checkSampleWeight n sampleWeight

        try
            trainStep xs ys sampleWeight
        finally
            disposeOwned (tensorsOf x) xs

        currentLogs () :> IReadOnlyDictionary<_, _>

    /// <summary>Loss and metrics of one batch without training (Keras's <c>test_on_batch</c>).</summary>
    member _.TestOnBatch(x: Data, y: Data, ?sampleWeight: torch.Tensor) =
        resetState ()
        let xs, ys = prepareX x, targetsOf y
        let n = Data.rows model xs ys
        requireRows n
        checkSampleWeight n sampleWeight

        try
            testStep xs ys sampleWeight
        finally
            disposeOwned (tensorsOf x) xs

        currentLogs () :> IReadOnlyDictionary<_, _>

    /// Predictions for one batch (Keras's <c>predict_on_batch</c>).
    member _.PredictOnBatch(x: Data) =
        let xs = Data.inputs model x
        Model.predictMany model (xs.Head.size(0) |> min (int64 Int32.MaxValue) |> int |> max 1) xs

    /// <summary>The training loss of a batch as a differentiable tensor (outputs in training mode), for custom
    /// training steps with <see cref="Gradients.valueAndGrad"/>.</summary>
    member _.ComputeLoss(x: Data, y: Data, ?training: bool) =
        let xs, ys = prepareX x, targetsOf y
        let outs, activity = Model.forwardWithLosses model (defaultArg training true) xs
        fst (computeLoss outs ys None activity)

/// Functional gradients over model weights, in the differentiable-programming spirit of DiffSharp.
[<RequireQualifiedAccess>]
module Gradients =
    /// <summary>The value of <paramref name="f"/> and its gradient with respect to each weight (zeros where the
    /// value does not depend on a weight).</summary>
    let valueAndGrad (f: unit -> torch.Tensor) (weights: Weight list) : torch.Tensor * torch.Tensor list =
        let value = f ()
        let inputs = weights |> List.map (fun w -> w.Value :> torch.Tensor) |> Array.ofList

        // libtorch aborts the process (it does not throw) when asked for the gradient of a non-scalar.
        if value.numel () <> 1L then
            Errors.raiseKeras (
                InvalidArgument(
                    "Gradients.valueAndGrad",
                    "f",
                    "Expected a function returning one value (a scalar loss) to differentiate.",
                    $"a value of shape {Shape.formatDims value.shape}"
                )
            )

        let grads =
            if value.requires_grad && inputs.Length > 0 then
                Errors.guard "Gradients.valueAndGrad" "the gradient step" (fun () ->
                    torch.autograd.grad ([| value |], inputs, allow_unused = true) |> List.ofSeq)
            else
                inputs |> Array.map (fun _ -> null) |> List.ofArray

        let filled =
            List.zip (List.ofArray inputs) grads
            |> List.map (fun (w, g) -> if isNull g then torch.zeros_like w else g)

        value.detach (), filled

    /// <summary>The gradient of <paramref name="f"/> with respect to each weight.</summary>
    let grad (f: unit -> torch.Tensor) (weights: Weight list) = snd (valueAndGrad f weights)

    /// <summary>Applies gradients with an optimizer, then the weights' constraints (Keras's
    /// <c>optimizer.apply_gradients(zip(grads, weights))</c>).</summary>
    let apply (optimizer: OptimizerState) (weights: Weight list) (grads: torch.Tensor list) =
        optimizer.Apply(List.zip (weights |> List.map _.Value) grads)
        Weights.applyConstraints weights
