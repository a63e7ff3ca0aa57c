using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>A weight initializer. A Keras name converts to one: <c>kernelInitializer: "he_normal"</c>.</summary>
public sealed class Initializer
{
    internal Initializer(Fs.Initializer core) => Core = core;

    internal Fs.Initializer Core { get; }

    /// <summary>The initializer for a Keras name ("zeros", "ones", "glorot_uniform", "he_normal", "random_normal", ...).</summary>
    /// <param name="name">The Keras name or class name.</param>
    /// <exception cref="System.ArgumentException">For an unknown name.</exception>
    public static implicit operator Initializer(string name) =>
        new(Fs.InitializerModule.tryOfName(name)?.Value ?? throw new System.ArgumentException($"Unknown initializer. Received: {name}", nameof(name)));

    /// <summary>The Keras class name, e.g. <c>GlorotUniform</c>.</summary>
    public override string ToString() => Fs.InitializerModule.className(Core);
}

/// <summary>Initializers with Keras's names and defaults: <c>Initializers.RandomNormal(stddev: 0.01)</c>.</summary>
public static class Initializers
{
    /// <summary>All zeros.</summary>
    public static Initializer Zeros() => new(Fs.Initializer.Zeros);

    /// <summary>All ones.</summary>
    public static Initializer Ones() => new(Fs.Initializer.Ones);

    /// <summary>A constant.</summary>
    /// <param name="value">The value.</param>
    public static Initializer Constant(double value = 0.0) => new(Fs.Initializer.NewConstant(value));

    /// <summary>Uniform in ±sqrt(6 / (fanIn + fanOut)): Keras's default kernel initializer.</summary>
    public static Initializer GlorotUniform() => new(Fs.Initializer.GlorotUniform);

    /// <summary>Truncated normal with stddev sqrt(2 / (fanIn + fanOut)).</summary>
    public static Initializer GlorotNormal() => new(Fs.Initializer.GlorotNormal);

    /// <summary>Uniform in ±sqrt(6 / fanIn).</summary>
    public static Initializer HeUniform() => new(Fs.Initializer.HeUniform);

    /// <summary>Truncated normal with stddev sqrt(2 / fanIn).</summary>
    public static Initializer HeNormal() => new(Fs.Initializer.HeNormal);

    /// <summary>Uniform in ±sqrt(3 / fanIn).</summary>
    public static Initializer LecunUniform() => new(Fs.Initializer.LecunUniform);

    /// <summary>Truncated normal with stddev sqrt(1 / fanIn).</summary>
    public static Initializer LecunNormal() => new(Fs.Initializer.LecunNormal);

    /// <summary>Normal with a mean and standard deviation.</summary>
    /// <param name="mean">The mean.</param>
    /// <param name="stddev">The standard deviation.</param>
    public static Initializer RandomNormal(double mean = 0.0, double stddev = 0.05) => new(Fs.Initializer.NewRandomNormal(mean, stddev));

    /// <summary>Uniform in [minval, maxval).</summary>
    /// <param name="minval">The lower bound.</param>
    /// <param name="maxval">The upper bound.</param>
    public static Initializer RandomUniform(double minval = -0.05, double maxval = 0.05) => new(Fs.Initializer.NewRandomUniform(minval, maxval));

    /// <summary>A (semi-)orthogonal matrix times <paramref name="gain"/>.</summary>
    /// <param name="gain">The factor.</param>
    public static Initializer Orthogonal(double gain = 1.0) => new(Fs.Initializer.NewOrthogonal(gain));
}
