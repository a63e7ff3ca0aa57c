/// The guide's "Mix-and-match API styles": a functional model inside a custom RNN layer, and that layer inside a
/// functional model.
module Examples.MixAndMatch

open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

let units, timesteps, inputDim = 32, 10, 5

/// The guide's CustomRNN: two tanh projections over time, then a classifier (a model or a layer) on the features.
let customRnn
    (held: Layer list)
    (models: Model list)
    (classify: CustomCall -> torch.Tensor -> torch.Tensor)
    (print: string -> unit)
    =
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
                    let x = inputs.select (1, t) // inputs[:, t, :]
                    let h = self.Call(projection1, x)
                    let y = h + self.Call(projection2, state)
                    state <- y
                    outputs.Add y

                let features = torch.stack (outputs, 1L)
                print (Shape.formatDims features.shape)
                classify self features
    )

let main (run: Run) =
    // Define a Functional model
    let inputs = Keras.Input(shape = [ Dim.Unknown; units ])
    let x = inputs --> Layers.GlobalAveragePooling1D()
    let outputs = x --> Layers.Dense(1)
    let model = Keras.Model(inputs, outputs)

    let rnnModel =
        customRnn [] [ model ] (fun self features -> self.Call(model, features)) (fun s -> run.Print $"features: {s}")

    let _ = rnnModel.Call(torch.zeros (1L, int64 timesteps, int64 inputDim))

    // The custom RNN inside a functional model; the batch size is static because the call makes its zero state from it.
    let batchSize = 16
    let classifier = Layers.Dense(1)
    let rInputs = Keras.Input(batchShape = [ batchSize; timesteps; inputDim ])
    let rx = rInputs --> Layers.Conv1D(32, 3)

    let rOutputs =
        rx
        --> customRnn [ classifier ] [] (fun self features -> self.Call(classifier, features)) ignore

    let rnnFunctional = Keras.Model(rInputs, rOutputs)
    run.Print(rnnFunctional.SummaryText())

    let prediction =
        rnnFunctional.Predict(torch.zeros (int64 batchSize, int64 timesteps, int64 inputDim))

    run.Print $"prediction: {Shape.formatDims prediction.shape}"
    rnnFunctional
