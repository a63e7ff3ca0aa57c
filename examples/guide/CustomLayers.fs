/// The guide's "Extend the API using custom layers": CustomDense with a config, used in a functional model.
module Examples.CustomLayers

open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

/// The guide's CustomDense: a weight "w" of (input dim, units) and a bias "b", both random normal.
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

let main (run: Run) =
    let inputs = Keras.Input(shape = [ 4 ])
    let outputs = inputs --> customDense 10
    let model = Keras.Model(inputs, outputs)
    run.Print(model.SummaryText())
    let prediction = model.Predict(torch.ones (2L, 4L))
    run.Print $"prediction: {Shape.formatDims prediction.shape}"

    // Serialization: get_config, then from_config with custom_objects={"CustomDense": CustomDense}.
    let config = model.GetConfig()

    let newModel =
        Model.fromConfig config (dict [ ("CustomDense", LayerClass(fun c -> customDense (c.Int "units"))) ])

    let sameConfig = newModel.GetConfig().ToJsonString() = config.ToJsonString()

    run.Print $"new_model: {newModel.CountParams()} parameters, same config: {sameConfig}"
    model
