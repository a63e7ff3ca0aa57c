// The guide's "Extend the API using custom layers", "When to use the functional API" (the MLP) and
// "Mix-and-match API styles" sections, in F#.
// Build the library first:  dotnet build src/Keras.FSharp -c Release
// Then run:                 dotnet fsi examples/custom_layers.fsx
#r "nuget: TorchSharp-cpu, 0.107.0"
// The library's own dependencies (a class library's bin folder does not carry them).
#r "nuget: FSharp.SystemTextJson, 0.16.6"
#r "nuget: Spectre.Console, 0.57.2"
#r "nuget: PureHDF, 2.2.0"
#r "../src/Keras.FSharp/bin/Release/net10.0/Keras.FSharp.dll"

open TorchSharp
open Keras
open Keras.Operators

// The script touches `torch` before any Keras call: load TorchSharp's native libraries first.
Keras.Native.NativeLoader.ensureLoaded ()

// ---- Extend the API using custom layers ----------------------------------------------------------------------------
// Inside a call, ops are TorchSharp's: torch.matmul, torch.zeros, torch.stack, x.select(1, t) for x[:, t, :], ...

let customDense (units: int) =
    CustomLayer.Create(
        "CustomDense",
        config = [ ("units", units) ], // get_config: {"units": units}
        build =
            (fun b ->
                b.AddWeight("w", [ b.Dim -1; units ], "random_normal")
                b.AddWeight("b", [ units ], "random_normal")),
        call = fun self inputs -> torch.matmul (inputs, self["w"]) + self["b"]
    )

let inputs = Keras.Input(shape = [ 4 ])
let outputs = inputs --> customDense 10
let model = Keras.Model(inputs, outputs)
model.Summary()

// Serialization: get_config, then from_config with custom_objects={"CustomDense": CustomDense}.
let config = model.GetConfig()
printfn "%s" (config.ToJsonString(System.Text.Json.JsonSerializerOptions(WriteIndented = true)))

let newModel =
    Model.fromConfig config (dict [ ("CustomDense", LayerClass(fun c -> customDense (c.Int "units"))) ])

printfn "Rebuilt: %s with %d parameters" newModel.Name (newModel.CountParams())

// ---- When to use the functional API: the MLP both ways -------------------------------------------------------------

let mlpInputs = Keras.Input(shape = [ 32 ])
let mlpHidden = mlpInputs --> Layers.Dense(64, activation = "relu")
let mlp = Keras.Model(mlpInputs, mlpHidden --> Layers.Dense(10))

// The "subclassed" version: a model defined by a call over layers. Its graph is one custom layer: it compiles, fits,
// evaluates and predicts, but it is not inspectable layer by layer and serializes only through a registered factory.
let dense1 = Layers.Dense(64, activation = "relu")
let dense2 = Layers.Dense(10)

let subclassed =
    CustomModel.Create("MLP", Keras.Input(shape = [ 32 ]), layers = [ dense1; dense2 ], call = fun self x -> self.Call(dense2, self.Call(dense1, x)))

// Necessary to create the model's state? Not here: the weights were built when the model was defined. An eager call:
let _ = subclassed.Call(torch.zeros (1L, 32L))
printfn "MLP parameters: functional %d, subclassed %d" (mlp.CountParams()) (subclassed.CountParams())

// ---- Mix-and-match API styles --------------------------------------------------------------------------------------

let units, timesteps, inputDim = 32, 10, 5

// Define a Functional model
let fInputs = Keras.Input(shape = [ -1; units ])
let fx = fInputs --> Layers.GlobalAveragePooling1D()
let fOutputs = fx --> Layers.Dense(1)
let functional = Keras.Model(fInputs, fOutputs)

/// The guide's CustomRNN; `classify` is the classifier it holds (a functional model or a layer).
let customRnn (held: Layer list) (models: Model list) (classify: CustomCall -> torch.Tensor -> torch.Tensor) (print: bool) =
    let projection1 = Layers.Dense(units, activation = "tanh")
    let projection2 = Layers.Dense(units, activation = "tanh")

    CustomLayer.Create(
        "CustomRNN",
        layers = projection1 :: projection2 :: held,
        models = models,
        call =
            fun self inputs ->
                let outputs = ResizeArray<torch.Tensor>()
                let mutable state = torch.zeros ([| inputs.shape[0]; int64 units |])

                for t in 0L .. inputs.shape[1] - 1L do
                    let x = inputs.select (1, t)
                    let h = self.Call(projection1, x)
                    let y = h + self.Call(projection2, state)
                    state <- y
                    outputs.Add y

                let features = torch.stack (outputs, 1L)
                if print then printfn "%A" features.shape
                classify self features
    )

let rnnModel = customRnn [] [ functional ] (fun self features -> self.Call(functional, features)) true
let _ = rnnModel.Call(torch.zeros (1L, int64 timesteps, int64 inputDim))

// A custom RNN written from scratch, used in a functional model. The batch size is static (batch_shape) because the call
// creates its zero state from inputs.shape[0].
let batchSize = 16
let classifier = Layers.Dense(1)
let rInputs = Keras.Input(batchShape = [ batchSize; timesteps; inputDim ])
let rx = rInputs --> Layers.Conv1D(32, 3)
let rOutputs = rx --> customRnn [ classifier ] [] (fun self features -> self.Call(classifier, features)) false
let rnnFunctional = Keras.Model(rInputs, rOutputs)
rnnFunctional.Summary()

let compiled = rnnFunctional.Compile(optimizer = "adam", loss = "mse")
let history = compiled.Fit(torch.randn (16L, 10L, 5L), torch.rand (16L, 8L, 1L), batchSize = batchSize, epochs = 5, verbose = 0)
printfn "loss per epoch: %A" history["loss"]

// ---- A Lambda layer: serializable when its function is registered by name -----------------------------------------

CustomObjects.registerFunction "double" (fun x -> x * 2.0f)
let lInputs = Keras.Input(shape = [ 3 ])
let doubled = Keras.Model(lInputs, lInputs --> Lambda.Registered("double"))
let reloaded = Model.fromConfig (doubled.GetConfig()) CustomObjects.none
printfn "%A" (reloaded.Predict(torch.ones (1L, 3L)).data<float32>().ToArray())
