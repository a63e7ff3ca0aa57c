namespace Keras

open System
open System.Collections.Generic
open System.IO

/// What a callback can see and steer while a model trains.
type TrainingControl =
    {
        /// The model being trained.
        Model: Model
        /// The optimizer's state (its learning rate can be changed).
        Optimizer: OptimizerState
        /// Set to true to stop after the current epoch (or batch), as Keras's <c>model.stop_training</c>.
        mutable StopTraining: bool
        /// Number of epochs fit was asked for.
        Epochs: int
        /// Steps per epoch.
        Steps: int
    }

/// Keras's callback hooks. Override the ones you need; the logs are the running values by name
/// ("loss", "accuracy", "val_loss", ...).
[<AbstractClass>]
type Callback() =
    /// Before the first epoch.
    abstract OnTrainBegin: control: TrainingControl -> unit
    default _.OnTrainBegin _ = ()
    /// After the last epoch (or when training stopped).
    abstract OnTrainEnd: control: TrainingControl * logs: IReadOnlyDictionary<string, float> -> unit
    default _.OnTrainEnd(_, _) = ()
    /// At the start of each epoch (0-based, as in Keras).
    abstract OnEpochBegin: control: TrainingControl * epoch: int -> unit
    default _.OnEpochBegin(_, _) = ()
    /// At the end of each epoch, with the epoch's training and validation values.
    abstract OnEpochEnd: control: TrainingControl * epoch: int * logs: IReadOnlyDictionary<string, float> -> unit
    default _.OnEpochEnd(_, _, _) = ()
    /// Before each training batch.
    abstract OnBatchBegin: control: TrainingControl * batch: int -> unit
    default _.OnBatchBegin(_, _) = ()
    /// After each training batch, with the running values of the epoch so far.
    abstract OnBatchEnd: control: TrainingControl * batch: int * logs: IReadOnlyDictionary<string, float> -> unit
    default _.OnBatchEnd(_, _, _) = ()

/// How a monitored value improves: Keras's "min", "max" or "auto" (max for accuracies and AUC, min otherwise).
type MonitorMode =
    /// <summary>Keras's <c>mode="min"</c>: an improvement is a decrease (losses).</summary>
    | Min
    /// <summary>Keras's <c>mode="max"</c>: an improvement is an increase (accuracies).</summary>
    | Max
    /// <summary>Keras's <c>mode="auto"</c>: max for a quantity named like an accuracy or AUC, min otherwise.</summary>
    | Auto

/// Tracking the best value of a monitored quantity, shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau.
type internal Monitor(monitor: string, mode: MonitorMode, minDelta: float) =
    let maximize =
        match mode with
        | Max -> true
        | Min -> false
        | Auto -> monitor.EndsWith "acc" || monitor.EndsWith "accuracy" || monitor.EndsWith "auc"

    let mutable best =
        if maximize then
            Double.NegativeInfinity
        else
            Double.PositiveInfinity

    member _.Best = best

    member _.Reset() =
        best <-
            (if maximize then
                 Double.NegativeInfinity
             else
                 Double.PositiveInfinity)

    /// The monitored value in the logs, if present.
    member _.Read(logs: IReadOnlyDictionary<string, float>) =
        match logs.TryGetValue monitor with
        | true, v -> Some v
        | _ -> None

    /// True (and the best value updated) when the value improves on the best by more than min_delta.
    member _.Improves(value: float) =
        let better =
            if maximize then
                value - abs minDelta > best
            else
                value + abs minDelta < best

        if better then
            best <- value

        better

/// The callbacks Keras users reach for, with Keras's arguments and defaults.
[<RequireQualifiedAccess>]
module Callbacks =
    /// <summary>Stops training when <paramref name="monitor"/> has not improved for <paramref name="patience"/> epochs;
    /// with <paramref name="restoreBestWeights"/>, puts back the weights of the best epoch when it stops.</summary>
    type EarlyStopping
        (
            ?monitor: string,
            ?minDelta: float,
            ?patience: int,
            ?mode: MonitorMode,
            ?restoreBestWeights: bool,
            ?startFromEpoch: int
        ) =
        inherit Callback()
        let monitorName = defaultArg monitor "val_loss"
        let tracker = Monitor(monitorName, defaultArg mode Auto, defaultArg minDelta 0.0)
        let patience = defaultArg patience 0
        let restore = defaultArg restoreBestWeights false
        let startFrom = defaultArg startFromEpoch 0
        let mutable wait = 0
        let mutable bestWeights: TorchSharp.torch.Tensor list = []
        let mutable stoppedEpoch = 0
        let mutable bestEpoch = 0

        /// The epoch (0-based) at which training stopped, 0 if it did not.
        member _.StoppedEpoch = stoppedEpoch
        /// The epoch (0-based) with the best monitored value.
        member _.BestEpoch = bestEpoch

        override _.OnTrainBegin _ =
            wait <- 0
            stoppedEpoch <- 0
            tracker.Reset()

        override _.OnEpochEnd(control, epoch, logs) =
            match tracker.Read logs with
            | Some value when epoch >= startFrom ->
                wait <- wait + 1

                if tracker.Improves value then
                    wait <- 0
                    bestEpoch <- epoch

                    if restore then
                        bestWeights <-
                            Model.weights control.Model
                            |> List.map (fun w -> w.Value.detach().clone().DetachFromDisposeScope())

                if wait >= patience && epoch > 0 then
                    stoppedEpoch <- epoch
                    control.StopTraining <- true
            | _ -> ()

        override _.OnTrainEnd(control, _) =
            if restore && not bestWeights.IsEmpty && stoppedEpoch > 0 then
                use _ = TorchSharp.torch.no_grad ()

                for w, best in List.zip (Model.weights control.Model) bestWeights do
                    w.Value.copy_ best |> ignore

    /// <summary>Stops training as soon as the loss becomes NaN or infinite. The step that produced it is not applied.</summary>
    type TerminateOnNaN() =
        inherit Callback()

        override _.OnBatchEnd(control, _, logs) =
            match logs.TryGetValue "loss" with
            | true, v when Double.IsNaN v || Double.IsInfinity v -> control.StopTraining <- true
            | _ -> ()

    /// <summary>Multiplies the learning rate by <paramref name="factor"/> when <paramref name="monitor"/> has not improved
    /// for <paramref name="patience"/> epochs, never below <paramref name="minLr"/>.</summary>
    type ReduceLROnPlateau
        (
            ?monitor: string,
            ?factor: float,
            ?patience: int,
            ?mode: MonitorMode,
            ?minDelta: float,
            ?cooldown: int,
            ?minLr: float
        ) =
        inherit Callback()

        let tracker =
            Monitor(defaultArg monitor "val_loss", defaultArg mode Auto, defaultArg minDelta 1e-4)

        let factor = defaultArg factor 0.1
        let patience = defaultArg patience 10
        let cooldown = defaultArg cooldown 0
        let minLr = defaultArg minLr 0.0
        let mutable wait = 0
        let mutable cooldownLeft = 0

        do
            if factor >= 1.0 then
                Errors.raiseKeras (
                    InvalidArgument(
                        "ReduceLROnPlateau",
                        "factor",
                        "ReduceLROnPlateau does not support a factor >= 1.0.",
                        string factor
                    )
                )

        override _.OnEpochEnd(control, _, logs) =
            match tracker.Read logs with
            | Some value ->
                if cooldownLeft > 0 then
                    cooldownLeft <- cooldownLeft - 1

                if tracker.Improves value then
                    wait <- 0
                elif cooldownLeft = 0 then
                    wait <- wait + 1

                    if wait >= patience then
                        let current = control.Optimizer.LearningRate

                        if current > minLr then
                            control.Optimizer.SetLearningRate(max (current * factor) minLr)
                            cooldownLeft <- cooldown
                            wait <- 0
            | None -> ()

    /// <summary>Sets the learning rate at the start of each epoch from <c>schedule epoch currentRate</c>.</summary>
    type LearningRateScheduler(schedule: int -> float -> float) =
        inherit Callback()

        override _.OnEpochBegin(control, epoch) =
            control.Optimizer.SetLearningRate(schedule epoch control.Optimizer.LearningRate)

    /// <summary>Writes one CSV row per epoch (epoch, then every log value in name order) to <paramref name="filename"/>.</summary>
    type CSVLogger(filename: string, ?separator: string, ?append: bool) =
        inherit Callback()
        let separator = defaultArg separator ","
        let append = defaultArg append false
        let mutable keys: string list = []

        override _.OnTrainBegin _ =
            if not append || not (File.Exists filename) then
                File.WriteAllText(filename, "")
                keys <- []

        override _.OnEpochEnd(_, epoch, logs) =
            let names = logs.Keys |> Seq.sort |> List.ofSeq

            if keys.IsEmpty && (FileInfo filename).Length = 0L then
                File.AppendAllText(filename, String.Join(separator, "epoch" :: names) + "\n")

            keys <- names

            let values =
                names
                |> List.map (fun k -> logs[k].ToString("R", Globalization.CultureInfo.InvariantCulture))

            File.AppendAllText(filename, String.Join(separator, string epoch :: values) + "\n")

    /// <summary>A callback from functions (Keras's LambdaCallback): give only the hooks you need.</summary>
    type LambdaCallback
        (
            ?onEpochBegin: int -> unit,
            ?onEpochEnd: int -> IReadOnlyDictionary<string, float> -> unit,
            ?onBatchBegin: int -> unit,
            ?onBatchEnd: int -> IReadOnlyDictionary<string, float> -> unit,
            ?onTrainBegin: unit -> unit,
            ?onTrainEnd: IReadOnlyDictionary<string, float> -> unit
        ) =
        inherit Callback()

        override _.OnEpochBegin(_, epoch) =
            onEpochBegin |> Option.iter (fun f -> f epoch)

        override _.OnEpochEnd(_, epoch, logs) =
            onEpochEnd |> Option.iter (fun f -> f epoch logs)

        override _.OnBatchBegin(_, batch) =
            onBatchBegin |> Option.iter (fun f -> f batch)

        override _.OnBatchEnd(_, batch, logs) =
            onBatchEnd |> Option.iter (fun f -> f batch logs)

        override _.OnTrainBegin _ =
            onTrainBegin |> Option.iter (fun f -> f ())

        override _.OnTrainEnd(_, logs) =
            onTrainEnd |> Option.iter (fun f -> f logs)
