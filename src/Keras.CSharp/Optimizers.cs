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
    /// <param name="weightDecay">Decoupled weight decay, <c>w −= w·weightDecay·lr</c> before each update (Keras's <c>weight_decay</c>); null: none.</param>
    /// <param name="clipNorm">Rescale each gradient so that its L2 norm is at most this (Keras's <c>clipnorm</c>); null: no clipping.</param>
    /// <param name="clipValue">Clip each gradient element to [−clipValue, clipValue] (Keras's <c>clipvalue</c>); null: no clipping.</param>
    /// <param name="globalClipNorm">Rescale all gradients together so that their global L2 norm is at most this (Keras's <c>global_clipnorm</c>); null: no clipping. At most one of the three clipping options may be set.</param>
    /// <exception cref="Fs.KerasException">When more than one clipping option is set.</exception>
    public static Optimizer SGD(double learningRate = 0.01, double momentum = 0.0, bool nesterov = false, double? weightDecay = null, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null) =>
        new(Fs.Optimizers.SGD(Rate(learningRate), Fx.Some(momentum), Fx.Some(nesterov), Fx.Val(weightDecay), Fx.Val(clipNorm), Fx.Val(clipValue), Fx.Val(globalClipNorm)));

    /// <summary>RMSprop: <c>a = rho·a + (1−rho)·g²; w −= lr·g / √(a + epsilon)</c>; centered, <c>a − ḡ²</c> replaces <c>a</c>; with momentum, the increments are accumulated.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="rho">Decay of the squared-gradient average.</param>
    /// <param name="epsilon">Added under the square root.</param>
    /// <param name="momentum">Momentum of the increments; 0 for none.</param>
    /// <param name="centered">Normalize by the estimated variance of the gradient instead of its second moment.</param>
    /// <param name="weightDecay">Decoupled weight decay, <c>w −= w·weightDecay·lr</c> before each update (Keras's <c>weight_decay</c>); null: none.</param>
    /// <param name="clipNorm">Rescale each gradient so that its L2 norm is at most this (Keras's <c>clipnorm</c>); null: no clipping.</param>
    /// <param name="clipValue">Clip each gradient element to [−clipValue, clipValue] (Keras's <c>clipvalue</c>); null: no clipping.</param>
    /// <param name="globalClipNorm">Rescale all gradients together so that their global L2 norm is at most this (Keras's <c>global_clipnorm</c>); null: no clipping. At most one of the three clipping options may be set.</param>
    /// <exception cref="Fs.KerasException">When more than one clipping option is set.</exception>
    public static Optimizer RMSprop(double learningRate = 0.001, double rho = 0.9, double epsilon = 1e-7, double momentum = 0.0, bool centered = false, double? weightDecay = null, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null) =>
        new(Fs.Optimizers.RMSprop(Rate(learningRate), Fx.Some(rho), Fx.Some(epsilon), Fx.Some(momentum), Fx.Some(centered), Fx.Val(weightDecay), Fx.Val(clipNorm), Fx.Val(clipValue), Fx.Val(globalClipNorm)));

    /// <summary>Adam.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="amsgrad">Use the AMSGrad variant (the running maximum of the second moment).</param>
    /// <param name="weightDecay">Decoupled weight decay, <c>w −= w·weightDecay·lr</c> before each update (Keras's <c>weight_decay</c>); null: none.</param>
    /// <param name="clipNorm">Rescale each gradient so that its L2 norm is at most this (Keras's <c>clipnorm</c>); null: no clipping.</param>
    /// <param name="clipValue">Clip each gradient element to [−clipValue, clipValue] (Keras's <c>clipvalue</c>); null: no clipping.</param>
    /// <param name="globalClipNorm">Rescale all gradients together so that their global L2 norm is at most this (Keras's <c>global_clipnorm</c>); null: no clipping. At most one of the three clipping options may be set.</param>
    /// <exception cref="Fs.KerasException">When more than one clipping option is set.</exception>
    public static Optimizer Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, double? weightDecay = null, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null) =>
        new(Fs.Optimizers.Adam(Rate(learningRate), Fx.Some(beta1), Fx.Some(beta2), Fx.Some(epsilon), Fx.Some(amsgrad), Fx.Val(weightDecay), Fx.Val(clipNorm), Fx.Val(clipValue), Fx.Val(globalClipNorm)));

    /// <summary>Adam with decoupled weight decay.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="weightDecay">Decay applied to the weights each step.</param>
    /// <param name="beta1">Decay of the first moment.</param>
    /// <param name="beta2">Decay of the second moment.</param>
    /// <param name="epsilon">Added to the denominator.</param>
    /// <param name="amsgrad">Use the AMSGrad variant (the running maximum of the second moment).</param>
    /// <param name="clipNorm">Rescale each gradient so that its L2 norm is at most this (Keras's <c>clipnorm</c>); null: no clipping.</param>
    /// <param name="clipValue">Clip each gradient element to [−clipValue, clipValue] (Keras's <c>clipvalue</c>); null: no clipping.</param>
    /// <param name="globalClipNorm">Rescale all gradients together so that their global L2 norm is at most this (Keras's <c>global_clipnorm</c>); null: no clipping. At most one of the three clipping options may be set.</param>
    /// <exception cref="Fs.KerasException">When more than one clipping option is set.</exception>
    public static Optimizer AdamW(double learningRate = 0.001, double weightDecay = 0.004, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, bool amsgrad = false, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null) =>
        new(Fs.Optimizers.AdamW(Rate(learningRate), Fx.Some(weightDecay), Fx.Some(beta1), Fx.Some(beta2), Fx.Some(epsilon), Fx.Some(amsgrad), Fx.Val(clipNorm), Fx.Val(clipValue), Fx.Val(globalClipNorm)));

    /// <summary>Adagrad.</summary>
    /// <param name="learningRate">The learning rate.</param>
    /// <param name="initialAccumulatorValue">Starting value of the accumulators.</param>
    /// <param name="epsilon">Added inside the square root.</param>
    /// <param name="weightDecay">Decoupled weight decay, <c>w −= w·weightDecay·lr</c> before each update (Keras's <c>weight_decay</c>); null: none.</param>
    /// <param name="clipNorm">Rescale each gradient so that its L2 norm is at most this (Keras's <c>clipnorm</c>); null: no clipping.</param>
    /// <param name="clipValue">Clip each gradient element to [−clipValue, clipValue] (Keras's <c>clipvalue</c>); null: no clipping.</param>
    /// <param name="globalClipNorm">Rescale all gradients together so that their global L2 norm is at most this (Keras's <c>global_clipnorm</c>); null: no clipping. At most one of the three clipping options may be set.</param>
    /// <exception cref="Fs.KerasException">When more than one clipping option is set.</exception>
    public static Optimizer Adagrad(double learningRate = 0.001, double initialAccumulatorValue = 0.1, double epsilon = 1e-7, double? weightDecay = null, double? clipNorm = null, double? clipValue = null, double? globalClipNorm = null) =>
        new(Fs.Optimizers.Adagrad(Rate(learningRate), Fx.Some(initialAccumulatorValue), Fx.Some(epsilon), Fx.Val(weightDecay), Fx.Val(clipNorm), Fx.Val(clipValue), Fx.Val(globalClipNorm)));
}
