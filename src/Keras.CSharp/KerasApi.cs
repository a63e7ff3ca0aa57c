using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// Keras's top-level functions: <c>KerasApi.Input(shape: new[] { 784 })</c>. The class is not called <c>Keras</c>:
/// that name is the core's root namespace, so a top-level-statements program would read <c>Keras.Input</c> as a
/// namespace member. With <c>using Keras.CSharp;</c> alone every facade type is in scope; the core's exception is
/// <c>Keras.KerasException</c> (catch it by that name, or by <see cref="Fs.KerasErrorKind"/> through its <c>Kind</c>).
/// </summary>
public static class KerasApi
{
    /// <summary>A symbolic input (Keras's <c>keras.Input</c>).</summary>
    /// <param name="shape">The sample shape without the batch axis, e.g. <c>new[] { 784 }</c>; -1 for an unknown size.</param>
    /// <param name="dtype">Keras dtype name: "float32" (default), "int64", "int32", ...</param>
    /// <param name="name">The input layer's name; "input_layer", "input_layer_1", ... by default.</param>
    /// <param name="batchShape">The full shape with the batch axis, instead of <paramref name="shape"/>.</param>
    /// <returns>A symbolic tensor of shape <c>(None, *shape)</c>, or <paramref name="batchShape"/>.</returns>
    /// <exception cref="ArgumentException">For an unknown dtype.</exception>
    /// <exception cref="Fs.KerasException">When neither or both shapes are given.</exception>
    public static KerasTensor Input(int[]? shape = null, string dtype = "float32", string? name = null, int[]? batchShape = null) =>
        new(Fs.Keras.Input(Fx.Ref(shape is null ? null : Fx.List(shape)), Fx.Ref(batchShape is null ? null : Fx.List(batchShape)), Fx.Some(ParseDType(dtype)), Fx.Ref(name)));

    /// <summary>
    /// Loads TorchSharp's native libraries (libtorch) now. The facade does this itself the first time any of its types is
    /// used; call it first when your program makes TorchSharp calls (<c>torch.randn</c>, ...) before touching the facade.
    /// Calling it again does nothing.
    /// </summary>
    /// <exception cref="Fs.KerasException">With <see cref="Fs.KerasErrorKind.NativeLoadFailed"/> when the libraries cannot be loaded.</exception>
    public static void LoadNativeLibraries() => Fs.Native.NativeLoader.ensureLoaded();

    /// <summary>Keras's <c>keras.saving.load_model</c>: a model from a <c>.keras</c>, legacy full-model <c>.h5</c> or
    /// <c>.json</c> file, rebuilt from the file's own config. Nothing in the file runs code: custom layer classes come
    /// from <paramref name="customLayers"/> (class or registered name → factory from the layer's config) and the
    /// registry.</summary>
    /// <param name="path">A <c>.keras</c> archive, a legacy full-model <c>.h5</c> file or a <c>.json</c> model config.</param>
    /// <param name="customLayers">Custom layer classes by class or registered name.</param>
    /// <param name="compile">Compile the model as the file's <c>compile_config</c> says and restore the optimizer's
    /// state, so that <see cref="Model.Fit"/> resumes training where it stopped (true by default, as in Keras).</param>
    /// <param name="weightsPath">A weights file (<c>.weights.h5</c>, legacy <c>.h5</c> or <c>.keras</c>) to load into
    /// the model, e.g. with a <c>.json</c> config from <see cref="Model.ToJson"/>.</param>
    /// <exception cref="Fs.KerasException">For every failure, naming the file.</exception>
    public static Model LoadModel(string path, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null, bool compile = true,
        string? weightsPath = null)
    {
        var loaded = Fs.KerasFile.loadWithWeights(path, Fx.Ref(weightsPath), Model.CustomObjectsOf(customLayers), compile);
        return Model.Of(loaded.Model, loaded.Compiled?.Value);
    }

    /// <summary>Keras's <c>Model.from_config</c>: a model with fresh weights from a config (functional, Sequential or a
    /// whole serialized model).</summary>
    public static Model ModelFromConfig(JsonObject config, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null) =>
        Model.FromConfig(config, customLayers);

    /// <summary>Keras's <c>model_from_json</c>.</summary>
    public static Model ModelFromJson(string json, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null) =>
        Model.Of(Fs.KerasFile.modelFromJson(json, Model.CustomObjectsOf(customLayers)));

    /// <summary>Keras's <c>clone_model</c>: the same architecture with freshly initialized weights.</summary>
    public static Model CloneModel(Model model) => Model.Of(Fs.KerasFile.cloneModel(model.Core, Fs.CustomObjects.none));

    private static Fs.DType ParseDType(string dtype) =>
        Fs.DTypeModule.tryParse(dtype)?.Value ?? throw new ArgumentException($"Unknown dtype. Received: dtype={dtype}", nameof(dtype));
}
