// Activations a Keras 3.1.1 config cannot express, from C#: the facade takes activations by Keras name, so
// "leaky_relu" is slope 0.2 and saves exactly; a core LeakyRelu with another slope raises on get_config, naming the
// layer and the LeakyReLU layer to use instead, and saving over an existing file leaves it untouched.
using System;
using System.IO;
using Keras.CSharp;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using TorchSharp;
using Xunit;
using Fs = global::Keras;

namespace Keras.CSharp.Tests;

public class UnsavableActivationTests
{
    [Fact]
    public void LeakyReluByNameSavesAndACoreSlopeOtherThanKerasDefaultRaises()
    {
        var input = KerasApi.Input(shape: new[] { 3 });
        var model = new Model(input, Layers.Dense(2, activation: "leaky_relu").Call(input));
        Assert.Contains("\"activation\":\"leaky_relu\"", model.ToJson().Replace(" ", ""));

        var folder = Path.Combine(Path.GetTempPath(), "keras-csharp-unsavable-activation", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var path = Path.Combine(folder, "model.keras");
            model.Save(path);
            var before = File.ReadAllBytes(path);
            var loaded = KerasApi.LoadModel(path, compile: false);
            var x = torch.randn(4, 3).sub(0.5f);
            Assert.Equal(model.Predict(x).data<float>().ToArray(), loaded.Predict(x).data<float>().ToArray());

            var core = Fs.Layers.Activation(Fs.Activation.NewLeakyRelu(0.1), FSharpOption<string>.Some("act_slope"));
            var error = Assert.Throws<Fs.KerasException>(() => Fs.LayerModule.getConfig(core));
            Assert.Equal("act_slope", error.Layer);
            Assert.Contains("Layers.LeakyReLU(negativeSlope = 0.1)", error.Message);
            Assert.Contains("Received: activation=LeakyRelu(negative_slope=0.1)", error.Message);

            // A core model holding that layer: saving over the file raises and leaves the old file byte for byte.
            var coreInput = Fs.Keras.Input(FSharpOption<FSharpList<int>>.Some(ListModule.OfArray(new[] { 3 })), null, null, null);
            var coreModel = Fs.Keras.Model(coreInput, Fs.LayerModule.call(core, coreInput), null);
            var saveError = Assert.Throws<Fs.KerasException>(() => Fs.KerasFile.save(coreModel, path));
            Assert.Equal("act_slope", saveError.Layer);
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.Single(Directory.GetFiles(folder));

            var fine = Fs.Layers.Activation(Fs.Activation.NewLeakyRelu(0.2), FSharpOption<string>.Some("act_default"));
            Assert.Equal("leaky_relu", Fs.LayerModule.getConfig(fine)["activation"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
