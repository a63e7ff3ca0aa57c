using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>What <see cref="Model.Fit"/> returns (Keras's <c>History</c>): each epoch's value of every loss and metric,
/// and of their <c>val_</c> versions, by name: <c>history["loss"][0]</c>.</summary>
public sealed class History : ReadOnlyDictionary<string, IReadOnlyList<double>>
{
    internal History(Fs.History core)
        : base(core.History.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<double>)kv.Value.ToArray())) =>
        Epoch = core.Epochs.ToArray();

    /// <summary>The epochs that ran, 0-based (Keras's <c>history.epoch</c>).</summary>
    public IReadOnlyList<int> Epoch { get; }
}
