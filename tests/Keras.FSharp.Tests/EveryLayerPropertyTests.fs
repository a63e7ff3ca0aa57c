/// Issue 9's serialization property over the whole layer catalogue: random functional graphs on sequences
/// (batch, 6, 8) built from every shape-preserving layer class (and pairs that restore the shape), joined by every merge
/// class, with shared layers, nested models and masks, survive a .keras save and load with the same config and
/// predictions.
module EveryLayerPropertyTests

open System.IO
open Expecto
open FsCheck
open FsCheck.FSharp
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// One step that maps a (batch, 6, 8) tensor to another of the same shape, named for the failure report.
type private Step = { Name: string; Apply: KerasTensor -> KerasTensor }

let private step name apply = { Name = name; Apply = apply }

let private self (layer: Layer) (x: KerasTensor) = Layer.callMany layer [ x; x ] |> List.head

/// Every unary step of the catalogue; each makes fresh layers when applied (a layer made once here would be shared
/// by every graph and every nested model that uses the step).
let private steps: Step list =
    [
        step "Dense" (fun x -> x --> Layers.Dense(8, activation = Tanh))
        step "Conv1D" (fun x -> x --> Layers.Conv1D(8, 3, padding = "same"))
        step "Conv1DTranspose" (fun x -> x --> Layers.Conv1DTranspose(8, 3, padding = "same"))
        step "DepthwiseConv1D" (fun x -> x --> Layers.DepthwiseConv1D(3, padding = "same"))
        step "SeparableConv1D" (fun x -> x --> Layers.SeparableConv1D(8, 3, padding = "same"))
        step "LSTM" (fun x -> x --> Layers.LSTM(8, returnSequences = true))
        step "GRU" (fun x -> x --> Layers.GRU(8, returnSequences = true))
        step "SimpleRNN" (fun x -> x --> Layers.SimpleRNN(8, returnSequences = true))
        step "RNN(LSTMCell)" (fun x -> x --> Layers.RNN(Layers.LSTMCell(8), returnSequences = true))
        step "Bidirectional" (fun x -> x --> Layers.Bidirectional(Layers.LSTM(4, returnSequences = true)))
        step "TimeDistributed" (fun x -> x --> Layers.TimeDistributed(Layers.Dense(8)))
        step "BatchNormalization" (fun x -> x --> Layers.BatchNormalization())
        step "LayerNormalization" (fun x -> x --> Layers.LayerNormalization())
        step "RMSNormalization" (fun x -> x --> Layers.RMSNormalization())
        step "UnitNormalization" (fun x -> x --> Layers.UnitNormalization())
        step "Normalization" (fun x -> x --> Layers.Normalization(axis = [ -1 ], mean = [ 0.5 ], variance = [ 2.0 ]))
        step "SpectralNormalization" (fun x -> x --> Layers.SpectralNormalization(Layers.Dense(8)))
        step "EinsumDense" (fun x -> x --> Layers.EinsumDense("abc,cd->abd", [ Some 6; Some 8 ]))
        step "MultiHeadAttention" (fun x -> self (Layers.MultiHeadAttention(2, 4)) x)
        step "GroupQueryAttention" (fun x -> self (Layers.GroupQueryAttention(4, 2, 1)) x)
        step "Activation" (fun x -> x --> Layers.Activation(Relu))
        step "ReLU" (fun x -> x --> Layers.ReLU(maxValue = 6.0))
        step "LeakyReLU" (fun x -> x --> Layers.LeakyReLU(0.2))
        step "PReLU" (fun x -> x --> Layers.PReLU())
        step "ELU" (fun x -> x --> Layers.ELU())
        step "Softmax" (fun x -> x --> Layers.Softmax())
        step "Identity" (fun x -> x --> Layers.Identity())
        step "ActivityRegularization" (fun x -> x --> Layers.ActivityRegularization(l2 = 0.01))
        step "Dropouts" (fun x ->
            x
            --> Layers.Dropout(0.3)
            --> Layers.GaussianNoise(0.1)
            --> Layers.GaussianDropout(0.1)
            --> Layers.AlphaDropout(0.1)
            --> Layers.SpatialDropout1D(0.2))
        step "Rescaling" (fun x -> x --> Layers.Rescaling(0.5, offset = 0.1))
        step "ZeroPadding1D+Cropping1D" (fun x -> x --> Layers.ZeroPadding1D(1) --> Layers.Cropping1D(1))
        step "UpSampling1D+MaxPooling1D" (fun x -> x --> Layers.UpSampling1D(2) --> Layers.MaxPooling1D(2))
        step "AveragePooling1D" (fun x -> x --> Layers.AveragePooling1D(1))
        step "Permute" (fun x -> x --> Layers.Permute([ 2; 1 ]) --> Layers.Permute([ 2; 1 ]))
        step "Reshape" (fun x -> x --> Layers.Reshape([ 8; 6 ]) --> Layers.Reshape([ 6; 8 ]))
        step "Global pooling" (fun x ->
            Layers.add [ x; x --> Layers.GlobalAveragePooling1D(keepdims = true) ]
            --> Layers.GlobalMaxPooling1D()
            --> Layers.RepeatVector(6))
    ]

/// Every merge class, joining two (batch, 6, 8) tensors back to that shape.
let private merges: (string * (KerasTensor -> KerasTensor -> KerasTensor)) list =
    [
        "Add", (fun a b -> Layers.add [ a; b ])
        "Subtract", (fun a b -> Layers.subtract [ a; b ])
        "Multiply", (fun a b -> Layers.multiply [ a; b ])
        "Average", (fun a b -> Layers.average [ a; b ])
        "Maximum", (fun a b -> Layers.maximum [ a; b ])
        "Minimum", (fun a b -> Layers.minimum [ a; b ])
        "Concatenate", (fun a b -> Layers.concatenate [ a; b ] --> Layers.Dense(8))
        "Dot", (fun a b -> (Layer.callMany (Layers.Dot((2, 2))) [ a; b ] |> List.head) --> Layers.Dense(8))
    ]

/// One part of a random graph.
type private Part =
    | Unary of int
    /// Two branches (two steps) joined by a merge.
    | Branches of merge: int * left: int * right: int
    /// One Dense layer called on two branches (two nodes, shared weights), then added.
    | Shared of int
    /// A step inside a nested functional model.
    | Nested of int

type private Plan = { Masked: bool; Parts: Part list }

let private plans =
    let index n = Gen.choose (0, n - 1)

    let part =
        Gen.oneof
            [
                index steps.Length |> Gen.map Unary
                Gen.map3 (fun m l r -> Branches(m, l, r)) (index merges.Length) (index steps.Length) (index steps.Length)
                index steps.Length |> Gen.map Shared
                index steps.Length |> Gen.map Nested
            ]

    gen {
        let! masked = Gen.elements [ true; false ]
        let! count = Gen.choose (1, 4)
        let! parts = Gen.listOfLength count part
        return { Masked = masked; Parts = parts }
    }

let private build (plan: Plan) =
    let input = Keras.Input(shape = [ 6; 8 ])

    // A mask from Masking flows into the LSTM, which consumes it (its last state carries no mask). A sequence mask
    // does not reach the catalogue: Keras's Softmax, for one, refuses a mask of another shape than its input.
    let start =
        if plan.Masked then
            input --> Layers.Masking() --> Layers.LSTM(8) --> Layers.RepeatVector(6)
        else
            input

    let apply (x: KerasTensor) part =
        match part with
        | Unary i -> steps[i].Apply x
        | Branches(m, l, r) -> (snd merges[m]) (steps[l].Apply x) (steps[r].Apply x)
        | Shared i ->
            let shared = Layers.Dense(8)
            Layers.add [ x --> shared; steps[i].Apply x --> shared ]
        | Nested i ->
            let inner = Keras.Input(shape = [ 6; 8 ])
            let nested = Keras.Model(inner, steps[i].Apply inner)
            x --> nested

    let output = plan.Parts |> List.fold apply start
    Keras.Model(input, output --> Layers.Flatten() --> Layers.Dense(3))

let private describe (plan: Plan) =
    let name part =
        match part with
        | Unary i -> steps[i].Name
        | Branches(m, l, r) -> $"{fst merges[m]}({steps[l].Name}, {steps[r].Name})"
        | Shared i -> $"shared Dense after {steps[i].Name}"
        | Nested i -> $"nested {steps[i].Name}"

    let parts = plan.Parts |> List.map name |> String.concat " -> "
    if plan.Masked then $"Masking+LSTM+RepeatVector -> {parts}" else parts

/// Trainable weights get small random values (non-trainable state such as moving variances keeps its valid values).
let private randomizeTrainable (model: Model) =
    use _ = torch.no_grad ()

    for w in Model.weights model do
        if w.Trainable && w.Value.is_floating_point () then
            w.Value.copy_ (torch.rand(w.Value.shape).mul(torch.tensor 0.5f).sub(torch.tensor 0.25f))
            |> ignore

/// Saves and loads the plan's model: whether config and predictions are the same, and what was compared.
let private saveAndLoad (plan: Plan) =
    inTempFolder "every-layer" (fun folder ->
        let model = build plan
        let x = torch.rand (4L, 6L, 8L)
        // The first call builds every weight; then they get values that are not the initializers'.
        Model.predictMany model 4 [ x ] |> ignore
        randomizeTrainable model
        let path = Path.Combine(folder, "graph.keras")
        model.Save path
        let loaded = Keras.LoadModel path
        let sameConfig = (Model.getConfig loaded).ToJsonString() = (Model.getConfig model).ToJsonString()
        let a = Model.predictMany model 4 [ x ] |> List.head |> values
        let b = Model.predictMany loaded 4 [ x ] |> List.head |> values
        let worst = Array.map2 (fun (p: float32) q -> abs (p - q)) a b |> Array.max

        sameConfig && worst <= 1e-6f, $"{describe plan}: same config {sameConfig}, largest prediction difference {worst}")

let private survivesSaveAndLoad (plan: Plan) =
    let ok, report = saveAndLoad plan
    ok |> Prop.label report

[<Tests>]
let tests =
    testList
        "Serialization of every layer class"
        [
            testPropertyWithConfig
                { FsCheckConfig.defaultConfig with
                    maxTest = 40
                }
                "random graphs of every layer class (branches, every merge, shared layers, nesting, masks) survive save and load"
                (Prop.forAll (Arb.fromGen plans) survivesSaveAndLoad)

            test "each step of the catalogue alone survives save and load" {
                for i in 0 .. steps.Length - 1 do
                    for masked in [ false; true ] do
                        let plan = { Masked = masked; Parts = [ Unary i ] }
                        let ok, report = saveAndLoad plan
                        Expect.isTrue ok report
            }
        ]
