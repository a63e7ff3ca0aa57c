/// The guide's "When to use the functional API": the MLP written functionally and as a "subclassed" model (a call over
/// layers), the check a functional model gets while it is defined, and a clone made from its config.
module Examples.WhenToUse

open TorchSharp
open Keras
open Keras.Operators
open Examples.Example

let main (run: Run) =
    // Less verbose: the functional MLP.
    let hidden = Layers.Dense(64, activation = "relu")
    let inputs = Keras.Input(shape = [ 32 ])
    let x = inputs --> hidden
    let outputs = x --> Layers.Dense(10)
    let mlp = Keras.Model(inputs, outputs)

    // The subclassed version: a model defined by its call over two layers. Its state exists at once (no call needed
    // to create it); one eager call as in the guide.
    let dense1 = Layers.Dense(64, activation = "relu")
    let dense2 = Layers.Dense(10)

    let subclassed =
        CustomModel.Create(
            "MLP",
            Keras.Input(shape = [ 32 ]),
            layers = [ dense1; dense2 ],
            call = fun self x -> self.Call(dense2, self.Call(dense1, x))
        )

    let _ = subclassed.Call(torch.zeros (1L, 32L))
    run.Print $"mlp: {mlp.CountParams()} parameters; subclassed MLP: {subclassed.CountParams()} parameters"

    // Model validation while defining its connectivity graph: calling the built layer on a 16-wide input fails at
    // once, with Keras's message, not when data flows.
    try
        Keras.Input(shape = [ 16 ]) --> hidden |> ignore
        run.Print "no error"
    with :? KerasException as e ->
        run.Print $"Caught while defining the graph: {e.Message}"

    // A functional model is a data structure: serialized to its config and cloned (fresh weights).
    let clone = Keras.CloneModel mlp
    run.Print $"clone_model: {clone.Layers.Length} layers, {clone.CountParams()} parameters"
    mlp, subclassed
