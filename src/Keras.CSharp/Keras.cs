using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Nodes;
using Microsoft.FSharp.Core;
using Fs = global::Keras;

namespace Keras.CSharp;

/// <summary>
/// Keras's top-level functions: <c>Keras.Input(shape: new[] { 784 })</c>.
/// <c>Keras</c> is also the library's root namespace: for <c>Keras.Input</c> to mean this class, put
/// <c>using Keras.CSharp;</c> after a file-scoped <c>namespace</c> declaration (or inside a namespace block), or write
/// <see cref="Layers.Input"/>, Keras's other name for the same function.
/// </summary>
public static class Keras
{
    /// <summary>A symbolic input (Keras's <c>keras.Input</c>).</summary>
    /// <param name="shape">The sample shape without the batch axis, e.g. <c>new[] { 784 }</c>; -1 for an unknown size.</param>
    /// <param name="dtype">Keras dtype name: "float32" (default), "int64", "int32", ...</param>
    /// <param name="name">The input layer's name; "input_layer", "input_layer_1", ... by default.</param>
    /// <param name="batchShape">The full shape with the batch axis, instead of <paramref name="shape"/>.</param>
    /// <returns>A symbolic tensor of shape <c>(None, *shape)</c>, or <paramref name="batchShape"/>.</returns>
    /// <exception cref="Fs.KerasException">For an unknown dtype, or when neither or both shapes are given.</exception>
    public static KerasTensor Input(int[]? shape = null, string dtype = "float32", string? name = null, int[]? batchShape = null) =>
        new(Fs.Keras.Input(Fx.Ref(shape is null ? null : Fx.List(shape)), Fx.Ref(batchShape is null ? null : Fx.List(batchShape)), Fx.Some(ParseDType(dtype)), Fx.Ref(name)));

    /// <summary>Keras's <c>keras.saving.load_model</c>: a model from a <c>.keras</c>, legacy full-model <c>.h5</c> or
    /// <c>.json</c> file, rebuilt from the file's own config. Nothing in the file runs code: custom layer classes come
    /// from <paramref name="customLayers"/> (class or registered name → factory from the layer's config) and the
    /// registry.</summary>
    /// <exception cref="Fs.KerasException">For every failure, naming the file.</exception>
    public static Model LoadModel(string path, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null) =>
        new(Fs.KerasFile.load(path, CustomLayers(customLayers)));

    /// <summary>Keras's <c>Model.from_config</c>: a model with fresh weights from a config (functional, Sequential or a
    /// whole serialized model).</summary>
    public static Model ModelFromConfig(JsonObject config, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null) =>
        new(Fs.ModelConfigExtensions.ModelModule.fromConfig(config, CustomLayers(customLayers)));

    /// <summary>Keras's <c>model_from_json</c>.</summary>
    public static Model ModelFromJson(string json, IReadOnlyDictionary<string, Func<JsonObject, Layer>>? customLayers = null) =>
        new(Fs.KerasFile.modelFromJson(json, CustomLayers(customLayers)));

    /// <summary>Keras's <c>clone_model</c>: the same architecture with freshly initialized weights.</summary>
    public static Model CloneModel(Model model) => new(Fs.KerasFile.cloneModel(model.Core, Fs.CustomObjects.none));

    private static IDictionary<string, Fs.CustomObject> CustomLayers(IReadOnlyDictionary<string, Func<JsonObject, Layer>>? layers) =>
        layers is null
            ? Fs.CustomObjects.none
            : layers.ToDictionary(kv => kv.Key, kv => Fs.CustomObject.NewLayerClass(FuncConvert.FromFunc<JsonObject, Fs.Layer>(c => kv.Value(c).Core)));

    private static Fs.DType ParseDType(string dtype) =>
        Fs.DTypeModule.tryParse(dtype)?.Value
        ?? throw new Fs.KerasException(Fs.KerasError.NewInvalidArgument("Input", "dtype", "Unknown dtype.", dtype));
}
