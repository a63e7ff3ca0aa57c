using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>An optimizer with Keras's update rule and hyper-parameters. A Keras name converts to one:
/// <c>model.Compile(optimizer: "rmsprop", ...)</c>.</summary>
public sealed class Optimizer
{
    internal Optimizer(Fs.Optimizer core) => Core = core;

    internal Fs.Optimizer Core { get; }

    /// <summary>The optimizer with Keras's defaults for a Keras name: "sgd", "rmsprop", "adam", "adamw", "adagrad".</summary>
    /// <param name="name">The Keras name.</param>
    /// <exception cref="Fs.KerasException">For an unknown name.</exception>
    public static implicit operator Optimizer(string name) => new((Fs.Optimizer)name);

    /// <summary>The optimizer and its hyper-parameters.</summary>
    public override string ToString() => Core.ToString();
}

/// <summary>Optimizers with Keras's names and defaults: <c>Optimizers.RMSprop()</c>, <c>Optimizers.Adam(learningRate: 1e-3)</c>.</summary>
public static class Optimizers
{
    private static Microsoft.FSharp.Core.FSharpOption<Fs.LearningRate> Rate(double learningRate) =>
        Fx.Some(Fs.LearningRate.NewConstantRate(learningRate));

    /// <summary>Stochastic gradient descent, with optional (Nesterov) momentum.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="momentum">Momentum; 0 for plain SGD.</param>
    /// <param name="nesterov">Use Nesterov momentum.</param>
    public static Optimizer SGD(double learningRate = 0.01, double momentum = 0.0, bool nesterov = false) =>
        new(Fs.Optimizers.SGD(Rate(learningRate), Fx.Some(momentum), Fx.Some(nesterov)));

    /// <summary>RMSprop: <c>a = rho·a + (1−rho)·g²; w −= lr·g / (√a + epsilon)</c>.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="rho">Decay of the squared-gradient average.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    public static Optimizer RMSprop(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7) =>
        new(Fs.Optimizers.RMSprop(Rate(learningRate), Fx.Some(rho), Fx.Some(epsilon)));

    /// <summary>Adam.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    public static Optimizer Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Fs.Optimizers.Adam(Rate(learningRate), Fx.Some(beta1), Fx.Some(beta2), Fx.Some(epsilon)));

    /// <summary>Adam with decoupled weight decay.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="weightDecay">Decay applied to the weights each step.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    public static Optimizer AdamW(double learningRate = 0.001, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7) =>
        new(Fs.Optimizers.AdamW(Rate(learningRate), Fx.Some(weightDecay), Fx.Some(beta1), Fx.Some(beta2), Fx.Some(epsilon)));

    /// <summary>Adagrad.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="initialAccumulatorValue">Starting value of the accumulators.</param>
    /// <param name="epsilon">Added inside the square root.</param>
    public static Optimizer Adagrad(double learningRate = 0.001, double initialAccumulatorValue = 0.1, double epsilon = 1e-7) =>
        new(Fs.Optimizers.Adagrad(Rate(learningRate), Fx.Some(initialAccumulatorValue), Fx.Some(epsilon)));
}
