// The consumer check (`dotnet fsi build.fsx consumer`): a fresh console app built against the packed Keras.CSharp
// package from the local artifacts/ feed. Top-level statements, `using Keras.CSharp;` alone, a TorchSharp call before
// any facade type (after the explicit native load), and `catch (Keras.KerasException e)`.
using Keras.CSharp;
using TorchSharp;

KerasApi.LoadNativeLibraries();
var x = torch.randn(2, 784); // TorchSharp first: works because the native libraries were loaded explicitly
var inputs = KerasApi.Input(shape: new[] { 784 });
var h = Layers.Dense(64, activation: "relu").Call(inputs);
var model = new Model(inputs, Layers.Dense(10).Call(h), name: "consumer");
Console.WriteLine($"params {model.CountParams()}; prediction ({string.Join(", ", model.Predict(x).shape)})");
try { Layers.Dense(4).Call(KerasApi.Input(shape: new[] { 3 })).ToString(); model.GetLayer("nope"); }
catch (Keras.KerasException e) { Console.WriteLine($"caught {e.Kind}"); }
