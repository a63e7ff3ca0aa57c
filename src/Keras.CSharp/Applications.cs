using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>Ready-made architectures (Keras's <c>keras.applications</c>).</summary>
public static class Applications
{
    /// <summary>VGG19 with Keras's layer names ("block1_conv1", ..., "fc1", "fc2", "predictions"); 143,667,240
    /// parameters with the top. Its layers' <see cref="Layer.Output"/> build feature-extraction models.</summary>
    /// <param name="includeTop">Add the classifier (then the input must be 224×224×3).</param>
    /// <param name="weights">Null for fresh weights (Keras's <c>weights=None</c>), or a weights file: <c>.weights.h5</c>,
    /// <c>.keras</c>, or a legacy <c>.h5</c> such as Keras's published VGG19 weights.</param>
    /// <param name="inputShape">Image shape (height, width, channels); 224×224×3 when null.</param>
    /// <param name="pooling">Without the top: null, "avg" or "max" global pooling of the last block.</param>
    /// <param name="classes">Classifier outputs.</param>
    /// <exception cref="Fs.KerasException">For a wrong shape with the top, an unknown pooling, or a weights file that does not fit.</exception>
    public static Model VGG19(bool includeTop = true, string? weights = null, int[]? inputShape = null, string? pooling = null, int classes = 1000) =>
        new(Fs.Applications.vgg19With(includeTop, Fx.Ref(inputShape is null ? null : Fx.List(inputShape)), classes, Fx.Ref(pooling), Fx.Ref(weights)));
}
