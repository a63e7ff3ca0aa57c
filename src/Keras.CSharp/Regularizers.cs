using System.Linq;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>A weight penalty added to the loss. A Keras name converts to one: <c>kernelRegularizer: "l2"</c>.</summary>
public sealed class Regularizer
{
    internal Regularizer(Fs.Regularizer core) => Core = core;

    internal Fs.Regularizer Core { get; }

    /// <summary>The regularizer for a Keras name: "l1", "l2", "l1_l2" (factors 0.01), "orthogonal_regularizer".</summary>
    /// <param name="name">The Keras name.</param>
    /// <exception cref="Fs.KerasException">For an unknown name.</exception>
    public static implicit operator Regularizer(string name) => new(Fs.Regularizer.Parse(name));

    /// <summary>The Keras class name.</summary>
    public override string ToString() => Fs.RegularizerModule.className(Core);
}

/// <summary>Regularizers with Keras's names and defaults: <c>Regularizers.L2(1e-4)</c>.</summary>
public static class Regularizers
{
    /// <summary><c>l1 · sum(|w|)</c>.</summary>
    /// <param name="l1">The factor.</param>
    public static Regularizer L1(double l1 = 0.01) => new(Fs.Regularizer.NewL1(l1));

    /// <summary><c>l2 · sum(w²)</c>.</summary>
    /// <param name="l2">The factor.</param>
    public static Regularizer L2(double l2 = 0.01) => new(Fs.Regularizer.NewL2(l2));

    /// <summary><c>l1 · sum(|w|) + l2 · sum(w²)</c>.</summary>
    /// <param name="l1">The L1 factor.</param>
    /// <param name="l2">The L2 factor.</param>
    public static Regularizer L1L2(double l1 = 0.0, double l2 = 0.0) => new(Fs.Regularizer.NewL1L2(l1, l2));

    /// <summary>Keras's <c>OrthogonalRegularizer</c>: <paramref name="factor"/> times the mean absolute dot product
    /// between distinct L2-normalized rows (or columns) of a rank-2 weight.</summary>
    /// <param name="factor">The factor, finite and non-negative.</param>
    /// <param name="mode">"rows" or "columns": which vectors are pushed to be orthogonal.</param>
    /// <exception cref="Fs.KerasException">For a negative, infinite or NaN factor, or another mode.</exception>
    public static Regularizer OrthogonalRegularizer(double factor = 0.01, string mode = "rows") =>
        new(Fs.Regularizer.Orthogonal(factor, mode));
}

/// <summary>A projection applied to a weight after each training step. A Keras name converts to one: <c>"non_neg"</c>.</summary>
public sealed class Constraint
{
    internal Constraint(Fs.Constraint core) => Core = core;

    internal Fs.Constraint Core { get; }

    /// <summary>The constraint for a Keras name: "max_norm", "non_neg", "unit_norm", "min_max_norm".</summary>
    /// <param name="name">The Keras name.</param>
    /// <exception cref="Fs.KerasException">For an unknown name.</exception>
    public static implicit operator Constraint(string name) => new(Fs.Constraint.Parse(name));

    /// <summary>The Keras class name.</summary>
    public override string ToString() => Fs.ConstraintModule.className(Core);
}

/// <summary>Constraints with Keras's names and defaults: <c>Constraints.MaxNorm(3.0)</c>.</summary>
public static class Constraints
{
    /// <summary>Rescales vectors whose norm exceeds <paramref name="maxValue"/> down to it.</summary>
    /// <param name="maxValue">The largest norm.</param>
    /// <param name="axis">The axes the norms are taken over.</param>
    public static Constraint MaxNorm(double maxValue = 2.0, params int[] axis) => new(Fs.Constraint.NewMaxNorm(maxValue, Fx.List(Axes(axis))));

    /// <summary>Clips negative entries to zero.</summary>
    public static Constraint NonNeg() => new(Fs.Constraint.NonNeg);

    /// <summary>Rescales vectors to unit norm.</summary>
    /// <param name="axis">The axes the norms are taken over.</param>
    public static Constraint UnitNorm(params int[] axis) => new(Fs.Constraint.NewUnitNorm(Fx.List(Axes(axis))));

    /// <summary>Moves each norm towards [minValue, maxValue] at <paramref name="rate"/>.</summary>
    /// <param name="minValue">The least norm.</param>
    /// <param name="maxValue">The largest norm.</param>
    /// <param name="rate">1.0 clips exactly; smaller values move part way.</param>
    /// <param name="axis">The axes the norms are taken over.</param>
    public static Constraint MinMaxNorm(double minValue = 0.0, double maxValue = 1.0, double rate = 1.0, params int[] axis) =>
        new(Fs.Constraint.NewMinMaxNorm(minValue, maxValue, rate, Fx.List(Axes(axis))));

    private static int[] Axes(int[] axis) => axis.Length == 0 ? new[] { 0 } : axis.ToArray();
}
