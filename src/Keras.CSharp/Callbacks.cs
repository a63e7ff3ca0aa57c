using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>Callbacks for <see cref="Model.Fit"/>, with Keras's names and defaults. Subclass <see cref="Fs.Callback"/>
/// (override <c>OnEpochEnd</c>, ...) for your own.</summary>
public static class Callbacks
{
    /// <summary>Stops training when <paramref name="monitor"/> has not improved for <paramref name="patience"/> epochs.</summary>
    /// <param name="monitor">The logged value to watch ("val_loss", "val_accuracy", ...); its direction is inferred from the name.</param>
    /// <param name="minDelta">The least change that counts as an improvement.</param>
    /// <param name="patience">Epochs without improvement before stopping.</param>
    /// <param name="restoreBestWeights">Put back the weights of the best epoch when stopping.</param>
    /// <param name="startFromEpoch">Epochs to wait before watching.</param>
    public static Fs.Callback EarlyStopping(string monitor = "val_loss", double minDelta = 0.0, int patience = 0, bool restoreBestWeights = false,
        int startFromEpoch = 0) =>
        new Fs.Callbacks.EarlyStopping(Fx.Some(monitor), Fx.Some(minDelta), Fx.Some(patience), null, Fx.Some(restoreBestWeights), Fx.Some(startFromEpoch));
}
