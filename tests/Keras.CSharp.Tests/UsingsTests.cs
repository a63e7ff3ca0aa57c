// How a C# program imports the facade: `using Keras.CSharp;` alone, in the global namespace as a top-level-statements
// program is (no `namespace` line here). `Keras` is the F# core's namespace: it also defines Model, Layer, Layers,
// KerasTensor, ... for F#, so `using Keras;` beside `using Keras.CSharp;` makes those names ambiguous (CS0104). The core's
// exception is named through an alias (or written Keras.KerasException).
using Keras.CSharp;
using TorchSharp;
using Xunit;
using KerasErrorKind = Keras.KerasErrorKind;
using KerasException = Keras.KerasException;

public class UsingsTests
{
    [Fact]
    public void TheFacadeNamespaceAloneBuildsTrainsAndCatchesErrors()
    {
        var inputs = KerasApi.Input(shape: new[] { 4 });
        var x = Layers.Dense(8, activation: "relu").Call(inputs);
        var outputs = Layers.Dense(1).Call(x);
        Model model = new(inputs, outputs);
        Layer first = model.Layers[1];
        first.Trainable = false;
        model.Compile("sgd", "mse");
        model.Fit(torch.ones(8, 4), torch.ones(8, 1), verbose: 0);
        Assert.Equal(9, model.CountTrainableParams());

        var e = Assert.Throws<KerasException>(() => model.Call(KerasApi.Input(shape: new[] { 5 })));
        Assert.Equal(KerasErrorKind.IncompatibleInput, e.Kind);
    }
}
