/// Issue 9's serialization property over the whole layer catalogue: random functional graphs on sequences
/// (batch, 6, 8), images (batch, 8, 8, 3), volumes (batch, 4, 6, 6, 2) and token ids (batch, 6) through an Embedding,
/// built from every shape-preserving layer class (and pairs that restore the shape), joined by every merge class, with
/// shared layers, nested models and masks, survive a .keras save and load with the same config and predictions.
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
        step "GroupNormalization" (fun x -> x --> Layers.GroupNormalization(groups = 2))
        step "Attention" (fun x -> self (Layers.Attention()) x)
        step "AdditiveAttention" (fun x -> self (Layers.AdditiveAttention()) x)
        step "RNN(SimpleRNNCell)" (fun x -> x --> Layers.RNN(Layers.SimpleRNNCell(8), returnSequences = true))
        step "RNN(GRUCell)" (fun x -> x --> Layers.RNN(Layers.GRUCell(8), returnSequences = true))
        step "RNN(StackedRNNCells)" (fun x ->
            x
            --> Layers.RNN(Layers.StackedRNNCells([ Layers.LSTMCell(4); Layers.GRUCell(8) ]), returnSequences = true))
        // Bin indices (ints) back to floats through a one-wide Embedding.
        step "Discretization" (fun x ->
            x
            --> Layers.Discretization(binBoundaries = [ 0.25; 0.5; 0.75 ])
            --> Layers.Embedding(4, 1)
            --> Layers.Reshape([ 6; 8 ]))
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
        // ConvLSTM1D, ConvLSTM2D and ConvLSTM3D (issue 13): the sequence seen as steps of 1-, 2- and 3-D images.
        step "ConvLSTM1D/2D/3D" (fun x ->
            x
            --> Layers.Reshape([ 6; 8; 1 ])
            --> Layers.ConvLSTM1D(2, 3, padding = "same", returnSequences = true)
            --> Layers.Reshape([ 6; 4; 4; 1 ])
            --> Layers.ConvLSTM2D(1, (3, 3), padding = "same", returnSequences = true)
            --> Layers.Reshape([ 6; 2; 2; 4; 1 ])
            --> Layers.ConvLSTM3D(1, (2, 2, 2), padding = "same", returnSequences = true)
            --> Layers.Reshape([ 6; 16 ])
            --> Layers.Dense(8))
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

/// Every image step: (batch, 8, 8, 3) to the same shape (channels_last), including the preprocessing and
/// augmentation layers (the identity at inference).
let private imageSteps: Step list =
    [
        step "Conv2D" (fun x -> x --> Layers.Conv2D(3, 3, padding = "same"))
        step "Conv2DTranspose" (fun x -> x --> Layers.Conv2DTranspose(3, 3, padding = "same"))
        step "DepthwiseConv2D" (fun x -> x --> Layers.DepthwiseConv2D(3, padding = "same"))
        step "SeparableConv2D" (fun x -> x --> Layers.SeparableConv2D(3, 3, padding = "same"))
        step "BatchNormalization" (fun x -> x --> Layers.BatchNormalization())
        step "Dense" (fun x -> x --> Layers.Dense(3, activation = Relu))
        step "ZeroPadding2D+Cropping2D" (fun x -> x --> Layers.ZeroPadding2D(1) --> Layers.Cropping2D(1))
        step "UpSampling2D+MaxPooling2D" (fun x -> x --> Layers.UpSampling2D(2) --> Layers.MaxPooling2D(2))
        step "AveragePooling2D" (fun x -> x --> Layers.AveragePooling2D(3, strides = 1, padding = "same"))
        step "Global pooling" (fun x ->
            Layers.add [ x; x --> Layers.GlobalAveragePooling2D(keepdims = true) ]
            --> Layers.GlobalMaxPooling2D(keepdims = true)
            --> Layers.UpSampling2D(8))
        step "SpatialDropout2D" (fun x -> x --> Layers.SpatialDropout2D(0.2))
        step "Rescaling" (fun x -> x --> Layers.Rescaling(1.0 / 255.0))
        step "Resizing" (fun x -> x --> Layers.Resizing(4, 4) --> Layers.Resizing(8, 8, interpolation = "nearest"))
        step "CenterCrop" (fun x -> x --> Layers.CenterCrop(6, 6) --> Layers.ZeroPadding2D(1))
        step "Augmentation" (fun x ->
            x
            --> Layers.RandomFlip()
            --> Layers.RandomRotation(0.1)
            --> Layers.RandomZoom(0.1)
            --> Layers.RandomTranslation(0.1, 0.1)
            --> Layers.RandomContrast(0.2)
            --> Layers.RandomBrightness(0.2))
        step "Activations" (fun x -> x --> Layers.ReLU(maxValue = 6.0) --> Layers.PReLU(sharedAxes = [ 1; 2 ]))
    ]

/// The merges that apply to images (Dot is for rank 2 and 3).
let private imageMerges: (string * (KerasTensor -> KerasTensor -> KerasTensor)) list =
    merges
    |> List.filter (fun (name, _) -> name <> "Dot" && name <> "Concatenate")
    |> List.append [ "Concatenate", (fun a b -> Layers.concatenate [ a; b ] --> Layers.Dense(3)) ]

/// Every volume step: (batch, 4, 6, 6, 2) to the same shape (channels_last), the rank-3 layer classes and the
/// layers that read axis 1 as time (ConvLSTM2D, TimeDistributed over a Conv2D).
let private volumeSteps: Step list =
    [
        step "Conv3D" (fun x -> x --> Layers.Conv3D(2, 3, padding = "same"))
        step "Conv3DTranspose" (fun x -> x --> Layers.Conv3DTranspose(2, 3, padding = "same"))
        step "BatchNormalization" (fun x -> x --> Layers.BatchNormalization())
        step "LayerNormalization" (fun x -> x --> Layers.LayerNormalization())
        step "Dense" (fun x -> x --> Layers.Dense(2, activation = Relu))
        step "ZeroPadding3D+Cropping3D" (fun x ->
            x --> Layers.ZeroPadding3D(1) --> Layers.Cropping3D(((1, 1), (1, 1), (1, 1))))
        step "UpSampling3D+MaxPooling3D" (fun x -> x --> Layers.UpSampling3D(2) --> Layers.MaxPooling3D(2))
        step "AveragePooling3D" (fun x -> x --> Layers.AveragePooling3D(3, strides = 1, padding = "same"))
        step "Global pooling" (fun x ->
            Layers.add [ x; x --> Layers.GlobalAveragePooling3D(keepdims = true) ]
            --> Layers.GlobalMaxPooling3D(keepdims = true)
            --> Layers.UpSampling3D((4, 6, 6)))
        step "SpatialDropout3D" (fun x -> x --> Layers.SpatialDropout3D(0.2))
        step "ConvLSTM2D" (fun x -> x --> Layers.ConvLSTM2D(2, (3, 3), padding = "same", returnSequences = true))
        step "TimeDistributed(Conv2D)" (fun x -> x --> Layers.TimeDistributed(Layers.Conv2D(2, 3, padding = "same")))
    ]

/// The merges that apply to volumes.
let private volumeMerges: (string * (KerasTensor -> KerasTensor -> KerasTensor)) list =
    merges
    |> List.filter (fun (name, _) -> name <> "Dot" && name <> "Concatenate")
    |> List.append [ "Concatenate", (fun a b -> Layers.concatenate [ a; b ] --> Layers.Dense(2)) ]

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

/// A catalogue: its input shape and dtype, the layers from the input to the steps' shape (given whether the plan
/// is masked), the steps and merges, and its data.
type private Catalogue =
    {
        Shape: int list
        DType: DType
        /// From the model's input to the tensor the steps take; masked plans start with a mask that an LSTM consumes.
        Start: bool -> KerasTensor -> KerasTensor
        /// Whether the catalogue has masked plans.
        Maskable: bool
        /// The steps' shape (without the batch axis).
        StepShape: int list
        Steps: Step list
        Merges: (string * (KerasTensor -> KerasTensor -> KerasTensor)) list
        /// Four samples of input data.
        Data: unit -> torch.Tensor
    }

let private floats (shape: int list) () =
    torch.rand (Array.ofList (4L :: (shape |> List.map int64)))

/// A catalogue of float inputs that go to the steps unchanged.
let private plain shape steps merges =
    {
        Shape = shape
        DType = Float32
        Start = fun _ x -> x
        Maskable = false
        StepShape = shape
        Steps = steps
        Merges = merges
        Data = floats shape
    }

// A mask from Masking flows into the LSTM, which consumes it (its last state carries no mask). A sequence mask does
// not reach the catalogue: Keras's Softmax, for one, refuses a mask of another shape than its input.
let private sequences =
    { plain [ 6; 8 ] steps merges with
        Maskable = true
        Start =
            fun masked x ->
                if masked then
                    x --> Layers.Masking() --> Layers.LSTM(8) --> Layers.RepeatVector(6)
                else
                    x
    }

let private images = plain [ 8; 8; 3 ] imageSteps imageMerges
let private volumes = plain [ 4; 6; 6; 2 ] volumeSteps volumeMerges

/// Token ids (batch, 6) through an Embedding (with mask_zero, consumed by an LSTM, in masked plans) into the
/// sequence steps.
let private tokens =
    { sequences with
        Shape = [ 6 ]
        DType = Int64
        Start =
            fun masked x ->
                if masked then
                    x
                    --> Layers.Embedding(20, 8, maskZero = true)
                    --> Layers.LSTM(8)
                    --> Layers.RepeatVector(6)
                else
                    // The id layers: lookup, hashing and counting, each into the same (batch, 6, 8).
                    Layers.add
                        [
                            x --> Layers.Embedding(20, 8)
                            x --> Layers.IntegerLookup(vocabulary = [ 1..19 ]) --> Layers.Embedding(21, 8)
                            x --> Layers.Hashing(16) --> Layers.Embedding(16, 8)
                            x
                            --> Layers.CategoryEncoding(20, outputMode = "multi_hot")
                            --> Layers.Dense(8)
                            --> Layers.RepeatVector(6)
                        ]
        // Zeros included: padding for the masked plans.
        Data = fun () -> torch.randint (20L, [| 4L; 6L |])
    }

let private plans (c: Catalogue) =
    let steps, merges = c.Steps, c.Merges
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
        // Masks are for sequences (Masking or Embedding, then LSTM).
        let! masked = Gen.elements (if c.Maskable then [ true; false ] else [ false ])
        let! count = Gen.choose (1, 4)
        let! parts = Gen.listOfLength count part
        return { Masked = masked; Parts = parts }
    }

let private build (c: Catalogue) (plan: Plan) =
    let steps, merges = c.Steps, c.Merges
    let input = Keras.Input(shape = c.Shape, dtype = c.DType)
    let start = c.Start plan.Masked input

    let apply (x: KerasTensor) part =
        match part with
        | Unary i -> steps[i].Apply x
        | Branches(m, l, r) -> (snd merges[m]) (steps[l].Apply x) (steps[r].Apply x)
        | Shared i ->
            let shared = Layers.Dense(List.last c.StepShape)
            Layers.add [ x --> shared; steps[i].Apply x --> shared ]
        | Nested i ->
            let inner = Keras.Input(shape = c.StepShape)
            let nested = Keras.Model(inner, steps[i].Apply inner)
            x --> nested

    let output = plan.Parts |> List.fold apply start
    Keras.Model(input, output --> Layers.Flatten() --> Layers.Dense(3))

let private describe (c: Catalogue) (plan: Plan) =
    let steps, merges = c.Steps, c.Merges

    let name part =
        match part with
        | Unary i -> steps[i].Name
        | Branches(m, l, r) -> $"{fst merges[m]}({steps[l].Name}, {steps[r].Name})"
        | Shared i -> $"shared Dense after {steps[i].Name}"
        | Nested i -> $"nested {steps[i].Name}"

    let parts = plan.Parts |> List.map name |> String.concat " -> "
    let start = if c.DType = Int64 then "Embedding" else "Masking"
    if plan.Masked then $"{start}+LSTM+RepeatVector -> {parts}" else parts

/// Trainable weights get small random values (non-trainable state such as moving variances keeps its valid values).
let private randomizeTrainable (model: Model) =
    use _ = torch.no_grad ()

    for w in Model.weights model do
        if w.Trainable && w.Value.is_floating_point () then
            w.Value.copy_ (torch.rand(w.Value.shape).mul(torch.tensor 0.5f).sub(torch.tensor 0.25f))
            |> ignore

/// Saves and loads the plan's model: whether config and predictions are the same, and what was compared.
let private saveAndLoad (c: Catalogue) (plan: Plan) =
    inTempFolder "every-layer" (fun folder ->
        let model = build c plan
        let x = c.Data()
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

        sameConfig && worst <= 1e-6f, $"{describe c plan}: same config {sameConfig}, largest prediction difference {worst}")

let private survivesSaveAndLoad (c: Catalogue) (plan: Plan) =
    let ok, report = saveAndLoad c plan
    ok |> Prop.label report

/// One model holding every layer class of the four catalogues: an input per catalogue (the sequence one masked, the
/// token one through the id layers), each input through every step of its catalogue in turn and then through every
/// merge, each branch flattened to a Dense(3), the four joined by a Concatenate and a Dense(2). Saved and loaded, it
/// must give the same config and predictions.
let private everyClassInOneModel () =
    inTempFolder "every-class-one-model" (fun folder ->
        let catalogues = [ sequences, true; images, false; volumes, false; tokens, false ]

        let inputs =
            catalogues |> List.map (fun (c, _) -> Keras.Input(shape = c.Shape, dtype = c.DType))

        let branch ((c: Catalogue, masked), input) =
            let chained = c.Steps |> List.fold (fun x step -> step.Apply x) (c.Start masked input)

            let merged =
                c.Merges
                |> List.fold (fun x (_, merge) -> merge x (x --> Layers.Dense(List.last c.StepShape))) chained

            merged --> Layers.Flatten() --> Layers.Dense(3)

        let output =
            Layers.concatenate (List.zip catalogues inputs |> List.map branch) --> Layers.Dense(2)

        let model = Keras.Model(inputs, output)
        let data = catalogues |> List.map (fun (c, _) -> c.Data())
        Model.predictMany model 4 data |> ignore
        randomizeTrainable model
        let path = Path.Combine(folder, "every-class.keras")
        model.Save path
        let loaded = Keras.LoadModel path
        let a = Model.predictMany model 4 data |> List.head |> values
        let b = Model.predictMany loaded 4 data |> List.head |> values
        model, loaded, a, b)

[<Tests>]
let tests =
    let property name catalogue count =
        testPropertyWithConfig
            { FsCheckConfig.defaultConfig with
                maxTest = count
            }
            name
            (Prop.forAll (Arb.fromGen (plans catalogue)) (survivesSaveAndLoad catalogue))

    let eachStep (catalogue: Catalogue) =
        for i in 0 .. catalogue.Steps.Length - 1 do
            for masked in (if catalogue.Maskable then [ false; true ] else [ false ]) do
                let ok, report = saveAndLoad catalogue { Masked = masked; Parts = [ Unary i ] }
                Expect.isTrue ok report

    testList
        "Serialization of every layer class"
        [
            property
                "random sequence graphs of every layer class (branches, every merge, shared layers, nesting, masks) survive save and load"
                sequences
                40
            property
                "random image graphs of every image layer class (branches, merges, shared layers, nesting) survive save and load"
                images
                25
            property
                "random volume graphs of every rank-3 layer class (branches, merges, shared layers, nesting) survive save and load"
                volumes
                10
            property
                "random token graphs (Embedding, with mask_zero in masked plans, into the sequence steps) survive save and load"
                tokens
                10
            test "one model with every layer class of the catalogues (four inputs) survives save and load" {
                let model, loaded, a, b = everyClassInOneModel ()
                let classes = model.Layers |> List.map _.ClassName |> List.distinct
                // 96 of the 106 built-in classes (not: Functional, Sequential, Lambda, the string layers, ...); the count
                // guards against a catalogue silently shrinking.
                Expect.isGreaterThanOrEqual classes.Length 96 $"distinct classes: {classes.Length}"

                Expect.equal
                    ((Model.getConfig loaded).ToJsonString())
                    ((Model.getConfig model).ToJsonString())
                    "same config"

                Expect.equal (Model.countParams loaded) (Model.countParams model) "same parameter count"
                closeTo 1e-6f a b "same predictions"
            }
            test "each sequence step alone survives save and load" { eachStep sequences }
            test "each image step alone survives save and load" { eachStep images }
            test "each volume step alone survives save and load" { eachStep volumes }
        ]
