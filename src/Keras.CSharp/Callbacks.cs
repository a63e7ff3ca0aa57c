using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.FSharp.Core;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// A callback of <see cref="Model.Fit"/> (Keras's <c>keras.callbacks.Callback</c>). Subclass it and override the hooks
/// you need; during training <see cref="Model"/> is the model being trained, <see cref="StopTraining"/> stops it after
/// the current batch, and <see cref="LearningRate"/> reads or sets the optimizer's rate. The built-in callbacks are in
/// <see cref="Callbacks"/>.
/// </summary>
public abstract class Callback
{
    private Fs.TrainingControl? control;

    /// <summary>A callback whose hooks are this class's virtual methods.</summary>
    protected Callback() => Core = new Adapter(this);

    internal Callback(Fs.Callback core) => Core = core;

    internal Fs.Callback Core { get; }

    /// <summary>The model being trained; null outside <see cref="Model.Fit"/>.</summary>
    public Model? Model => control is null ? null : new Model(control.Model);

    /// <summary>Set to true to stop training after the current batch (Keras's <c>model.stop_training</c>).</summary>
    /// <exception cref="InvalidOperationException">Outside <see cref="Model.Fit"/>.</exception>
    public bool StopTraining
    {
        get => Control.StopTraining;
        set => Control.StopTraining = value;
    }

    /// <summary>The learning rate of the next step; setting it fixes the rate from then on.</summary>
    /// <exception cref="InvalidOperationException">Outside <see cref="Model.Fit"/>.</exception>
    public double LearningRate
    {
        get => Control.Optimizer.LearningRate;
        set => Control.Optimizer.SetLearningRate(value);
    }

    /// <summary>Number of epochs <see cref="Model.Fit"/> was asked for.</summary>
    public int Epochs => Control.Epochs;

    /// <summary>Training batches per epoch.</summary>
    public int Steps => Control.Steps;

    private Fs.TrainingControl Control => control ?? throw new InvalidOperationException("The callback is not in a running fit().");

    /// <summary>Before the first epoch.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>After the last epoch (or when training stopped).</summary>
    /// <param name="logs">The last epoch's values by name.</param>
    public virtual void OnTrainEnd(IReadOnlyDictionary<string, double> logs) { }

    /// <summary>At the start of each epoch.</summary>
    /// <param name="epoch">The epoch, 0-based.</param>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>At the end of each epoch.</summary>
    /// <param name="epoch">The epoch, 0-based.</param>
    /// <param name="logs">The epoch's training and validation values by name ("loss", "val_loss", ...).</param>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>Before each training batch.</summary>
    /// <param name="batch">The batch, 0-based within the epoch.</param>
    public virtual void OnBatchBegin(int batch) { }

    /// <summary>After each training batch.</summary>
    /// <param name="batch">The batch, 0-based within the epoch.</param>
    /// <param name="logs">The epoch's running values so far.</param>
    public virtual void OnBatchEnd(int batch, IReadOnlyDictionary<string, double> logs) { }

    /// <summary>The core callback that calls a C# subclass's hooks.</summary>
    private sealed class Adapter : Fs.Callback
    {
        private readonly Callback owner;

        public Adapter(Callback owner) => this.owner = owner;

        public override void OnTrainBegin(Fs.TrainingControl control)
        {
            owner.control = control;
            owner.OnTrainBegin();
        }

        public override void OnTrainEnd(Fs.TrainingControl control, IReadOnlyDictionary<string, double> logs)
        {
            owner.control = control;
            try { owner.OnTrainEnd(logs); } finally { owner.control = null; }
        }

        public override void OnEpochBegin(Fs.TrainingControl control, int epoch)
        {
            owner.control = control;
            owner.OnEpochBegin(epoch);
        }

        public override void OnEpochEnd(Fs.TrainingControl control, int epoch, IReadOnlyDictionary<string, double> logs)
        {
            owner.control = control;
            owner.OnEpochEnd(epoch, logs);
        }

        public override void OnBatchBegin(Fs.TrainingControl control, int batch)
        {
            owner.control = control;
            owner.OnBatchBegin(batch);
        }

        public override void OnBatchEnd(Fs.TrainingControl control, int batch, IReadOnlyDictionary<string, double> logs)
        {
            owner.control = control;
            owner.OnBatchEnd(batch, logs);
        }
    }
}

/// <summary>A built-in callback of the core.</summary>
internal sealed class CoreCallback : Callback
{
    internal CoreCallback(Fs.Callback core) : base(core) { }
}

/// <summary>Keras's callbacks with Keras's names and defaults (<c>keras.callbacks</c>); subclass <see cref="Callback"/>
/// for your own.</summary>
public static class Callbacks
{
    /// <summary>Stops training when <paramref name="monitor"/> has not improved for <paramref name="patience"/> epochs.</summary>
    /// <param name="monitor">The logged value to watch ("val_loss", "val_accuracy", ...).</param>
    /// <param name="minDelta">The least change that counts as an improvement.</param>
    /// <param name="patience">Epochs without improvement before stopping.</param>
    /// <param name="mode">"min", "max", or "auto" (max for accuracies and AUC, min otherwise).</param>
    /// <param name="restoreBestWeights">Put back the weights of the best epoch when stopping.</param>
    /// <param name="startFromEpoch">Epochs to wait before watching.</param>
    public static Callback EarlyStopping(string monitor = "val_loss", double minDelta = 0.0, int patience = 0, string mode = "auto",
        bool restoreBestWeights = false, int startFromEpoch = 0) =>
        new CoreCallback(new Fs.Callbacks.EarlyStopping(Fx.Some(monitor), Fx.Some(minDelta), Fx.Some(patience), Fx.Some(Fs.MonitorModes.parse("EarlyStopping", mode)),
            Fx.Some(restoreBestWeights), Fx.Some(startFromEpoch)));

    /// <summary>Stops training as soon as the loss becomes NaN or infinite.</summary>
    public static Callback TerminateOnNaN() => new CoreCallback(new Fs.Callbacks.TerminateOnNaN());

    /// <summary>Multiplies the learning rate by <paramref name="factor"/> when <paramref name="monitor"/> has not improved
    /// for <paramref name="patience"/> epochs, never below <paramref name="minLr"/>.</summary>
    /// <param name="monitor">The logged value to watch.</param>
    /// <param name="factor">The factor applied to the rate.</param>
    /// <param name="patience">Epochs without improvement before reducing.</param>
    /// <param name="mode">"min", "max" or "auto".</param>
    /// <param name="minDelta">The least change that counts as an improvement.</param>
    /// <param name="cooldown">Epochs to wait after a reduction.</param>
    /// <param name="minLr">The lowest rate.</param>
    public static Callback ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, string mode = "auto",
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0.0) =>
        new CoreCallback(new Fs.Callbacks.ReduceLROnPlateau(Fx.Some(monitor), Fx.Some(factor), Fx.Some(patience),
            Fx.Some(Fs.MonitorModes.parse("ReduceLROnPlateau", mode)), Fx.Some(minDelta), Fx.Some(cooldown), Fx.Some(minLr)));

    /// <summary>Sets the learning rate at the start of each epoch from <c>schedule(epoch, currentRate)</c>.</summary>
    /// <param name="schedule">The new rate from the epoch (0-based) and the current rate.</param>
    public static Callback LearningRateScheduler(Func<int, double, double> schedule) =>
        new CoreCallback(new Fs.Callbacks.LearningRateScheduler(FuncConvert.FromFunc(schedule)));

    /// <summary>Writes one CSV row per epoch (epoch, then every logged value in name order).</summary>
    /// <param name="filename">The CSV file.</param>
    /// <param name="separator">The column separator.</param>
    /// <param name="append">Append to an existing file instead of replacing it.</param>
    public static Callback CSVLogger(string filename, string separator = ",", bool append = false) =>
        new CoreCallback(new Fs.Callbacks.CSVLogger(filename, Fx.Some(separator), Fx.Some(append)));

    /// <summary>A callback from delegates (Keras's <c>LambdaCallback</c>): give only the hooks you need.</summary>
    /// <param name="onEpochBegin">Called with the epoch.</param>
    /// <param name="onEpochEnd">Called with the epoch and its logs.</param>
    /// <param name="onBatchBegin">Called with the batch.</param>
    /// <param name="onBatchEnd">Called with the batch and the running logs.</param>
    /// <param name="onTrainBegin">Called before the first epoch.</param>
    /// <param name="onTrainEnd">Called with the last logs.</param>
    public static Callback LambdaCallback(Action<int>? onEpochBegin = null, Action<int, IReadOnlyDictionary<string, double>>? onEpochEnd = null,
        Action<int>? onBatchBegin = null, Action<int, IReadOnlyDictionary<string, double>>? onBatchEnd = null, Action? onTrainBegin = null,
        Action<IReadOnlyDictionary<string, double>>? onTrainEnd = null) =>
        new CoreCallback(new Fs.Callbacks.LambdaCallback(
            onEpochBegin is null ? null : Fx.Some(FuncConvert.FromAction(onEpochBegin)),
            onEpochEnd is null ? null : Fx.Some(FuncConvert.FromAction(onEpochEnd)),
            onBatchBegin is null ? null : Fx.Some(FuncConvert.FromAction(onBatchBegin)),
            onBatchEnd is null ? null : Fx.Some(FuncConvert.FromAction(onBatchEnd)),
            onTrainBegin is null ? null : Fx.Some(FuncConvert.FromAction(onTrainBegin)),
            onTrainEnd is null ? null : Fx.Some(FuncConvert.FromAction(onTrainEnd))));

    /// <summary>Saves the weights after each epoch (Keras's <c>ModelCheckpoint</c>; weights only for now).</summary>
    /// <param name="filepath">A path ending in <c>.weights.h5</c>, with optional <c>{epoch}</c>-style placeholders.</param>
    /// <param name="monitor">The logged value watched with <paramref name="saveBestOnly"/>.</param>
    /// <param name="verbose">0 silent, 1 one line per save.</param>
    /// <param name="saveBestOnly">Save only when the monitored value improves.</param>
    /// <param name="saveWeightsOnly">Must be true: only weights saving is supported for now.</param>
    /// <param name="mode">"min", "max" or "auto".</param>
    public static Callback ModelCheckpoint(string filepath, string monitor = "val_loss", int verbose = 0, bool saveBestOnly = false,
        bool saveWeightsOnly = true, string mode = "auto") =>
        new CoreCallback(new Fs.ModelCheckpoint(filepath, Fx.Some(monitor), Fx.Some(verbose), Fx.Some(saveBestOnly), Fx.Some(saveWeightsOnly),
            Fx.Some(Fs.MonitorModes.parse("ModelCheckpoint", mode))));
}
