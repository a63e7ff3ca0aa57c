// The consumer check (ConsumerTests in tests/Keras.CSharp.Tests, and `dotnet fsi build.fsx consumer`): a fresh console
// app built against the packed Keras.CSharp package from a local folder feed. Top-level statements, `using Keras.CSharp;`
// alone, a TorchSharp call before any facade type (after the explicit native load), one epoch of training, the summary,
// and `catch (Keras.KerasException e)`.
using Keras.CSharp;
using TorchSharp;

KerasApi.LoadNativeLibraries();
var x = torch.randn(256, 784); // TorchSharp first: works because the native libraries were loaded explicitly
var y = x.narrow(1, 0, 10).argmax(1);
var inputs = KerasApi.Input(shape: new[] { 784 });
var h = Layers.Dense(64, activation: "relu").Call(inputs);
var model = new Model(inputs, Layers.Dense(10).Call(h), name: "consumer");
model.Summary();
model.Compile(Optimizers.RMSprop(), Losses.SparseCategoricalCrossentropy(fromLogits: true), new[] { "accuracy" });
var history = model.Fit(x, y, batchSize: 32, epochs: 1, verbose: 0);
Console.WriteLine($"epochs {history["loss"].Count}; loss {history["loss"][0]:F4}");
Console.WriteLine($"params {model.CountParams()}; prediction ({string.Join(", ", model.Predict(x).shape)})");
try { Layers.Dense(4).Call(KerasApi.Input(shape: new[] { 3 })).ToString(); model.GetLayer("nope"); }
catch (Keras.KerasException e) { Console.WriteLine($"caught {e.Kind}"); }
