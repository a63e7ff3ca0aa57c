/// Tests of the C# facade (Keras.CSharp), called as a C# user calls it: PascalCase members, named optional arguments,
/// params arrays, dictionaries and implicit conversions. The F# core is the reference it is compared against.
module CSharpFacadeTests

open System
open System.Collections.Generic
open System.IO
open System.IO.Compression
open System.Reflection
open System.Text
open Expecto
open TorchSharp
open Keras.CSharp

/// The same models and values built with the F# API, as references.
module private Reference =
    open Keras
    open Keras.Operators

    /// The guide's MNIST model with the given layer names.
    let mnist (prefix: string) =
        let inputs = Keras.Input(shape = [ 784 ], name = $"{prefix}_in")
        let x = inputs --> Layers.Dense(64, activation = "relu", name = $"{prefix}_d1")
        let x = x --> Layers.Dense(64, activation = "relu", name = $"{prefix}_d2")
        let outputs = x --> Layers.Dense(10, name = $"{prefix}_out")
        Keras.Model(inputs, outputs, name = "mnist_model")

    /// Compiles as the guide does and fits without shuffling.
    let fit (model: Model) (x: torch.Tensor) (y: torch.Tensor) =
        let compiled =
            model.Compile(
                optimizer = Optimizers.RMSprop(),
                loss = SparseCategoricalCrossentropy(fromLogits = true),
                metrics = [ "accuracy" ]
            )

        let history =
            compiled.Fit(x, y, batchSize = 50, epochs = 2, verbose = 0, validationSplit = 0.2, shuffle = false)

        history, compiled.Evaluate(x, y, verbose = 0)

    /// Configs (without "name") of layers built with only the required arguments, by constructor.
    let defaultConfigs () =
        [
            "Dense", Layers.Dense(8)
            "Dropout", Layers.Dropout(0.5)
            "Conv1D", Layers.Conv1D(4, 3)
            "Conv2D", Layers.Conv2D(4, 3)
            "MaxPooling2D", Layers.MaxPooling2D()
            "AveragePooling2D", Layers.AveragePooling2D()
            "GlobalMaxPooling2D", Layers.GlobalMaxPooling2D()
            "GlobalAveragePooling2D", Layers.GlobalAveragePooling2D()
            "GlobalAveragePooling1D", Layers.GlobalAveragePooling1D()
            "Embedding", Layers.Embedding(10, 4)
            "LSTM", Layers.LSTM(5)
            "GRU", Layers.GRU(5)
            "BatchNormalization", Layers.BatchNormalization()
            "LayerNormalization", Layers.LayerNormalization()
            "Concatenate", Layers.Concatenate()
        ]
        |> List.map (fun (k, layer) -> k, Layer.getConfig layer)

    /// The optimizers and losses with Keras's defaults, as text.
    let defaultOptimizers () =
        [
            string (Optimizers.SGD())
            string (Optimizers.RMSprop())
            string (Optimizers.Adam())
            string (Optimizers.AdamW())
            string (Optimizers.Adagrad())
        ]

    let defaultLosses () =
        [
            string (SparseCategoricalCrossentropy false)
            string (CategoricalCrossentropy false)
            string (BinaryCrossentropy false)
            string MeanSquaredError
            string MeanAbsoluteError
            string (Huber 1.0)
        ]

    /// Copies weights into the layer of an F# model.
    let setWeights (model: Model) (name: string) (weights: torch.Tensor seq) =
        Layer.setWeights (Model.getLayer model name) (List.ofSeq weights)

    /// The F# model's summary.
    let summary (model: Model) = Summary.render model

    /// F# API types whose signatures take options and lists.
    let fsharpApi = [ typeof<Layers>; typeof<CompiledModel> ]

/// The guide's MNIST model through the C# API.
let private mnist (prefix: string) =
    let inputs = KerasApi.Input(shape = [| 784 |], name = $"{prefix}_in")
    let x = Layers.Dense(64, activation = "relu", name = $"{prefix}_d1").Call(inputs)
    let x = Layers.Dense(64, activation = "relu", name = $"{prefix}_d2").Call(x)
    let outputs = Layers.Dense(10, name = $"{prefix}_out").Call(x)
    Model(inputs, outputs, name = "mnist_model")

/// 200 samples whose class is the largest of the first ten features: learnable in a few steps.
let private learnable () =
    let generator = new torch.Generator(7UL)
    let x = torch.randn ([| 200L; 784L |], generator = generator)
    x, x.narrow(1L, 0L, 10L).argmax(1L)

/// Runs f and returns the exception of type 'E it raises.
let private raisesOf<'E when 'E :> exn> (f: unit -> unit) =
    try
        f ()
        failtestf "expected %s" typeof<'E>.Name
    with :? 'E as e ->
        e

/// A minimal NumPy .npy (version 1.0, uint8, C order) as NumPy writes it.
let private npy (shape: int list) (data: byte[]) =
    let dims =
        match shape with
        | [ n ] -> $"({n},)"
        | _ -> "(" + (shape |> List.map string |> String.concat ", ") + ")"

    let dict = $"{{'descr': '|u1', 'fortran_order': False, 'shape': {dims}, }}"
    let total = (10 + dict.Length + 1 + 63) / 64 * 64
    let header = dict.PadRight(total - 10 - 1) + "\n"

    Array.concat
        [
            [| 0x93uy |]
            Encoding.ASCII.GetBytes "NUMPY"
            [| 1uy; 0uy |]
            BitConverter.GetBytes(uint16 header.Length)
            Encoding.ASCII.GetBytes header
            data
        ]

/// Every public signature type of an assembly's exported types that is an F# type C# users should not touch:
/// anything from FSharp.Core, F# unions and records, and any type of the F# core (Keras.FSharp) itself.
let private fsharpLeaks (types: Type seq) =
    let rec parts (t: Type) : Type seq =
        seq {
            if t.HasElementType then
                yield! parts (t.GetElementType())
            elif t.IsGenericType then
                yield t.GetGenericTypeDefinition()

                for a in t.GetGenericArguments() do
                    yield! parts a
            else
                yield t
        }

    let isFSharpOnly (t: Type) =
        let fromFSharpCore =
            not (isNull t.Namespace) && t.Namespace.StartsWith "Microsoft.FSharp"

        let isUnion =
            t.GetCustomAttributes(typeof<CompilationMappingAttribute>, false)
            |> Seq.cast<CompilationMappingAttribute>
            |> Seq.exists (fun a ->
                a.SourceConstructFlags &&& SourceConstructFlags.KindMask = SourceConstructFlags.SumType)

        let isRecord =
            t.GetCustomAttributes(typeof<CompilationMappingAttribute>, false)
            |> Seq.cast<CompilationMappingAttribute>
            |> Seq.exists (fun a ->
                a.SourceConstructFlags &&& SourceConstructFlags.KindMask = SourceConstructFlags.RecordType)

        let fromCore = t.Assembly = typeof<Keras.KerasError>.Assembly

        fromFSharpCore || isUnion || isRecord || fromCore

    let flags =
        BindingFlags.Public
        ||| BindingFlags.Instance
        ||| BindingFlags.Static
        ||| BindingFlags.DeclaredOnly

    [
        for t in types do
            let signature =
                [
                    if not (isNull t.BaseType) then
                        yield "base type", t.BaseType

                    for i in t.GetInterfaces() -> "interface", i

                    for c in t.GetConstructors flags do
                        for p in c.GetParameters() -> $"new({p.Name})", p.ParameterType

                    for m in t.GetMethods flags do
                        yield $"{m.Name} returns", m.ReturnType

                        for p in m.GetParameters() -> $"{m.Name}({p.Name})", p.ParameterType

                    for p in t.GetProperties flags do
                        yield p.Name, p.PropertyType

                        for i in p.GetIndexParameters() -> $"{p.Name}[{i.Name}]", i.ParameterType

                    for f in t.GetFields flags -> f.Name, f.FieldType

                    for e in t.GetEvents flags -> e.Name, e.EventHandlerType
                ]

            for where, used in signature do
                for part in parts used do
                    if isFSharpOnly part then
                        yield $"{t.FullName}.{where}: {part.FullName}"
    ]


/// <summary>What the facade lacks of a surface: for each core member (name, parameters with whether each is optional),
/// the facade overloads of the same name (each a list of parameters with whether each is optional) must include one
/// overload per core parameter that names it, with the same optionality.</summary>
let private compareSurfaces
    (core: (string * (string * bool) list) list)
    (facade: (string * (string * bool) list list) list)
    =
    [
        for name, parameters in core do
            match facade |> List.filter (fun (n, _) -> n = name) |> List.collect snd with
            | [] -> yield $"Layers.{name}: missing"
            | overloads ->
                for p, optional in parameters do
                    if not (overloads |> List.exists (List.contains (p, optional))) then
                        yield $"Layers.{name}: option {p}"
    ]

/// The core's public layer constructors (Keras.Layers), its callbacks (the Callback subclasses of its assembly) and
/// their options, against Keras.CSharp.Layers and Keras.CSharp.Callbacks: names in PascalCase (the core's
/// lowercase tensor functions <c>add</c>, ... are <c>AddTensors</c>), the same parameter names, optional where the
/// core's are.
let private facadeGaps () =
    let optional (p: ParameterInfo) =
        p.IsOptional
        || p.ParameterType.IsGenericType
           && p.ParameterType.GetGenericTypeDefinition() = typedefof<option<_>>

    let facadeName (n: string) =
        if Char.IsLower n[0] then
            string (Char.ToUpperInvariant n[0]) + n.Substring 1 + "Tensors"
        else
            n

    let members (t: Type) =
        t.GetMethods(BindingFlags.Public ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly)
        |> Array.toList

    let signature (ps: ParameterInfo[]) =
        ps |> Array.map (fun p -> p.Name, optional p) |> Array.toList

    let coreLayers =
        members typeof<Keras.Layers>
        |> List.map (fun m -> facadeName m.Name, signature (m.GetParameters()))

    let coreCallbacks =
        typeof<Keras.Callback>.Assembly.GetExportedTypes()
        |> Array.filter (fun t ->
            t.IsSubclassOf typeof<Keras.Callback>
            && not t.IsAbstract
            && t.Name <> "CancellationCallback")
        |> Array.toList
        |> List.collect (fun t ->
            t.GetConstructors()
            |> Array.toList
            |> List.map (fun c -> t.Name, signature (c.GetParameters())))
        // A union-typed mode is a Keras name ("min", "max", "auto") in the facade, with its default "auto".
        |> List.map (fun (n, ps) -> n, ps |> List.map (fun (p, o) -> p, o))

    let facadeOf (t: Type) =
        members t
        |> List.groupBy _.Name
        |> List.map (fun (n, ms) -> n, ms |> List.map (fun m -> signature (m.GetParameters())))

    compareSurfaces coreLayers (facadeOf typeof<Keras.CSharp.Layers>)
    @ (compareSurfaces coreCallbacks (facadeOf typeof<Keras.CSharp.Callbacks>)
       |> List.map (fun g -> g.Replace("Layers.", "Callbacks.")))

[<Tests>]
let tests =
    testList
        "CSharpFacade"
        [
            test "the guide's MNIST model prints the F# summary and has 55,050 parameters" {
                let model = mnist "guide_cs"
                let reference = Reference.mnist "guide_cs"
                Expect.equal model.SummaryText (Reference.summary reference) "summary text"
                Expect.stringContains model.SummaryText "Total params: 55,050 (215.04 KB)" "total"
                Expect.equal (model.CountParams()) 55050L "count"
                Expect.equal model.Name "mnist_model" "name"

                Expect.equal
                    [ for l in model.Layers -> l.Name, l.ClassName ]
                    [
                        "guide_cs_in", "InputLayer"
                        "guide_cs_d1", "Dense"
                        "guide_cs_d2", "Dense"
                        "guide_cs_out", "Dense"
                    ]
                    "layers"

                Expect.equal (model.GetLayer("guide_cs_d2").CountParams()) 4160L "dense_1 params"
                Expect.equal (List.ofSeq model.Inputs[0].Shape) [ Nullable(); Nullable 784 ] "input shape"
                Expect.equal model.Inputs[0].DType "float32" "dtype"
                Expect.equal (List.ofSeq model.Outputs[0].Shape) [ Nullable(); Nullable 10 ] "output shape"
                Expect.equal (List.ofSeq model.InputNames) [ "guide_cs_in" ] "input names"
                Expect.equal (List.ofSeq model.OutputNames) [ "guide_cs_out" ] "output names"
            }

            test "Compile then Fit trains in place exactly as the F# API does, and lowers the loss" {
                let x, y = learnable ()
                let model = mnist "fit_cs"
                let reference = Reference.mnist "fit_cs"

                for layer in model.Layers do
                    Reference.setWeights reference layer.Name (layer.GetWeights())

                model.Compile(
                    optimizer = Optimizers.RMSprop(),
                    loss = Losses.SparseCategoricalCrossentropy(fromLogits = true),
                    metrics = [| "accuracy" |]
                )

                let history =
                    model.Fit(x, y, batchSize = 50, epochs = 2, verbose = 0, validationSplit = 0.2, shuffle = false)

                let expected, expectedScores = Reference.fit reference x y
                Expect.equal (List.ofSeq history.Epoch) [ 0; 1 ] "epochs"
                Expect.equal (set history.Keys) (set expected.History.Keys) "history keys"
                Expect.equal (set history.Keys) (set [ "loss"; "accuracy"; "val_loss"; "val_accuracy" ]) "keys"

                for KeyValue(name, values) in expected.History do
                    Expect.sequenceEqual history[name] values $"{name} per epoch"

                let losses = history["loss"]
                Expect.isLessThan losses[1] losses[0] "the loss went down"

                let scores = model.Evaluate(x, y, verbose = 0)
                Expect.equal (set scores.Keys) (set [ "loss"; "accuracy" ]) "evaluate keys"
                Expect.equal scores["loss"] expectedScores["loss"] "evaluate loss"
                Expect.equal scores["accuracy"] expectedScores["accuracy"] "evaluate accuracy"
            }

            test "Predict returns one row per sample, whatever the batch size" {
                let x, _ = learnable ()
                let model = mnist "predict_cs"
                let all = model.Predict(x)
                let batched = model.Predict(x, batchSize = 7)
                Expect.equal all.shape [| 200L; 10L |] "shape"
                // float32 matrix products sum in an order that depends on the batch size and the thread count; each
                // logit sums at most 784 products per layer, so the two may differ by 784·eps32 of the largest value.
                let scale = all.abs().max().item<float32>()

                TestData.closeTo
                    (3.f * 784.f * 1.1920929e-7f * scale)
                    (TestData.values all)
                    (TestData.values batched)
                    "batch size does not change predictions"

                Expect.equal (model.PredictMany([| x |]).[0].shape) [| 200L; 10L |] "PredictMany"
            }

            test "two inputs and two named outputs take dictionaries everywhere" {
                let a = KerasApi.Input(shape = [| 4 |], name = "dict_a")
                let b = KerasApi.Input(shape = [| 3 |], name = "dict_b")
                let h = Layers.Dense(8, activation = "relu").Call(Layers.ConcatenateTensors(a, b))
                let outputs = Dictionary<string, KerasTensor>()
                outputs["score"] <- Layers.Dense(1, name = "dict_score").Call(h)
                outputs["cls"] <- Layers.Dense(3, name = "dict_cls").Call(h)
                let model = Model([| a; b |], outputs, name = "two_by_two")
                Expect.equal (List.ofSeq model.InputNames) [ "dict_a"; "dict_b" ] "input names"
                Expect.equal (List.ofSeq model.OutputNames) [ "score"; "cls" ] "output names"

                let generator = new torch.Generator(11UL)
                let x = Dictionary<string, torch.Tensor>()
                x["dict_a"] <- torch.randn ([| 64L; 4L |], generator = generator)
                x["dict_b"] <- torch.randn ([| 64L; 3L |], generator = generator)
                let y = Dictionary<string, torch.Tensor>()
                y["score"] <- torch.randn ([| 64L; 1L |], generator = generator)
                y["cls"] <- torch.randint (3L, [| 64L |], generator = generator)

                let losses = Dictionary<string, Loss>()
                losses["score"] <- Losses.MeanSquaredError()
                losses["cls"] <- Losses.SparseCategoricalCrossentropy(fromLogits = true)
                let lossWeights = Dictionary<string, float>()
                lossWeights["score"] <- 1.0
                lossWeights["cls"] <- 0.5
                model.Compile(optimizer = "adam", losses = losses, lossWeights = lossWeights)

                let history = model.Fit(x, y, batchSize = 16, epochs = 2, verbose = 0)
                Expect.equal (set history.Keys) (set [ "loss"; "score_loss"; "cls_loss" ]) "per-output losses"

                let scores = model.Evaluate(Data.Of(x :> IReadOnlyDictionary<_, _>), y, verbose = 0)
                let weighted = scores["score_loss"] + 0.5 * scores["cls_loss"]
                Expect.floatClose Accuracy.medium scores["loss"] weighted "the loss weights apply"

                let predicted = model.Predict(x :> IReadOnlyDictionary<_, _>)
                Expect.equal (set predicted.Keys) (set [ "score"; "cls" ]) "predicted names"
                Expect.equal predicted["score"].shape [| 64L; 1L |] "score"
                Expect.equal predicted["cls"].shape [| 64L; 3L |] "cls"

                let inOrder = model.PredictMany([| x["dict_a"]; x["dict_b"] |])
                Expect.isTrue (torch.allclose (inOrder[1], predicted["cls"])) "inputs in order give the same outputs"

                let missing = Dictionary<string, Loss>()
                missing["score"] <- "mse"

                let e =
                    raisesOf<Keras.KerasException>(fun () -> model.Compile("adam", losses = missing))

                Expect.stringContains e.Message "No loss for output 'cls'." "the core's per-output check"
            }

            test "errors surface as KerasException with Keras's message" {
                let dense = Layers.Dense(64, name = "cs_dense_err")
                dense.Call(KerasApi.Input(shape = [| 784 |])) |> ignore

                let e =
                    raisesOf<Keras.KerasException>(fun () -> dense.Call(KerasApi.Input(shape = [| 32 |])) |> ignore)

                Expect.equal
                    e.Message
                    "Input 0 of layer \"cs_dense_err\" is incompatible with the layer: expected axis -1 of input shape to have value 784, but received input with shape (None, 32)"
                    "message"

                let e =
                    raisesOf<Keras.KerasException>(fun () -> Layers.Dense(4, activation = "relu6x") |> ignore)

                Expect.stringContains e.Message "relu6x" "unknown activation"

                let e =
                    raisesOf<ArgumentException>(fun () -> KerasApi.Input(shape = [| 3 |], dtype = "float33") |> ignore)

                Expect.stringContains e.Message "Unknown dtype." "unknown dtype"

                let model = mnist "err_cs"
                let x, y = learnable ()

                let e =
                    raisesOf<InvalidOperationException>(fun () -> model.Fit(x, y, verbose = 0) |> ignore)

                Expect.equal e.Message "You must call `compile()` before calling `fit()`." "fit before compile"

                let e =
                    raisesOf<InvalidOperationException>(fun () -> model.Evaluate(x, y, verbose = 0) |> ignore)

                Expect.equal
                    e.Message
                    "You must call `compile()` before calling `evaluate()`."
                    "evaluate before compile"

                let e = raisesOf<Keras.KerasException>(fun () -> model.Compile("nadamx", "mse"))
                Expect.stringContains e.Message "Unknown optimizer" "unknown optimizer"
                let e = raisesOf<Keras.KerasException>(fun () -> model.Compile("adam", "msle_x"))
                Expect.stringContains e.Message "Unknown loss" "unknown loss"

                let named = Dictionary<string, torch.Tensor>()
                named["nope"] <- x

                let e =
                    raisesOf<Keras.KerasException>(fun () ->
                        model.Predict(named :> IReadOnlyDictionary<_, _>) |> ignore)

                Expect.stringContains e.Message "No input named 'nope'" "unknown input name"

                let e = raisesOf<Keras.KerasException>(fun () -> model.GetLayer("nope") |> ignore)
                Expect.stringContains e.Message "No layer named 'nope'" "unknown layer"
            }

            test "no public signature of Keras.CSharp mentions an F# type" {
                let facade = typeof<Keras.CSharp.Model>.Assembly
                Expect.equal (fsharpLeaks (facade.GetExportedTypes())) [] "F# types in public signatures"

                Expect.isTrue
                    (facade.GetExportedTypes()
                     |> Array.forall (fun t -> t.Namespace = "Keras.CSharp"))
                    "one namespace"
                // The check does find F# types where there are some: the F# API's own entry points take options and lists.
                Expect.isNonEmpty (fsharpLeaks Reference.fsharpApi) "the check sees F# types"
            }

            test "every public layer constructor, option and callback of the core has its facade counterpart" {
                let missing = facadeGaps ()
                Expect.equal missing [] (sprintf "missing from the C# facade:\n%s" (String.concat "\n" missing))
            }

            test "the coverage check sees a missing option" {
                // A facade without Dense's `units` or Conv2D's `strides` would be reported: check the checker on a fake.
                let gaps =
                    compareSurfaces
                        [ "Dense", [ "units", false; "name", true ]; "Conv9D", [ "filters", false ] ]
                        [ "Dense", [ [ "name", true ] ] ]

                Expect.equal gaps [ "Layers.Dense: option units"; "Layers.Conv9D: missing" ] "gaps"
            }

            test "facade defaults are Keras's defaults, as the F# core has them" {
                let facade =
                    [
                        "Dense", Layers.Dense(8)
                        "Dropout", Layers.Dropout(0.5)
                        "Conv1D", Layers.Conv1D(4, 3)
                        "Conv2D", Layers.Conv2D(4, 3)
                        "MaxPooling2D", Layers.MaxPooling2D()
                        "AveragePooling2D", Layers.AveragePooling2D()
                        "GlobalMaxPooling2D", Layers.GlobalMaxPooling2D()
                        "GlobalAveragePooling2D", Layers.GlobalAveragePooling2D()
                        "GlobalAveragePooling1D", Layers.GlobalAveragePooling1D()
                        "Embedding", Layers.Embedding(10, 4)
                        "LSTM", Layers.LSTM(5)
                        "GRU", Layers.GRU(5)
                        "BatchNormalization", Layers.BatchNormalization()
                        "LayerNormalization", Layers.LayerNormalization()
                        "Concatenate", Layers.Concatenate()
                    ]

                let withoutName (config: System.Text.Json.Nodes.JsonObject) =
                    config.Remove "name" |> ignore
                    config.ToJsonString()

                for (kind, layer), (_, expected) in List.zip facade (Reference.defaultConfigs ()) do
                    Expect.equal (withoutName (layer.GetConfig())) (withoutName expected) $"{kind} config"

                Expect.equal
                    [
                        string (Optimizers.SGD())
                        string (Optimizers.RMSprop())
                        string (Optimizers.Adam())
                        string (Optimizers.AdamW())
                        string (Optimizers.Adagrad())
                    ]
                    (Reference.defaultOptimizers ())
                    "optimizers"

                Expect.equal
                    [
                        string (Losses.SparseCategoricalCrossentropy())
                        string (Losses.CategoricalCrossentropy())
                        string (Losses.BinaryCrossentropy())
                        string (Losses.MeanSquaredError())
                        string (Losses.MeanAbsoluteError())
                        string (Losses.Huber())
                    ]
                    (Reference.defaultLosses ())
                    "losses"

                Expect.stringContains
                    (string (Optimizers.RMSprop(learningRate = 0.01)))
                    "ConstantRate 0.01"
                    "a given learning rate"
            }

            test "layer families build with Keras's shapes and parameter counts" {
                let shapeOf (t: KerasTensor) = List.ofSeq t.Shape
                let none = Nullable<int>()

                let image = KerasApi.Input(shape = [| 28; 28; 1 |])
                let conv = Layers.Conv2D(32, 3, activation = "relu")
                let c1 = conv.Call(image)
                Expect.equal (shapeOf c1) [ none; Nullable 26; Nullable 26; Nullable 32 ] "conv"
                let p = Layers.MaxPooling2D().Call(c1)
                Expect.equal (shapeOf p) [ none; Nullable 13; Nullable 13; Nullable 32 ] "pool"
                let conv2 = Layers.Conv2D(64, 3, strides = 2, padding = "same")
                let c2 = conv2.Call(p)
                Expect.equal (shapeOf c2) [ none; Nullable 7; Nullable 7; Nullable 64 ] "strided same conv"
                let g = Layers.GlobalAveragePooling2D().Call(c2)
                let gm = Layers.GlobalMaxPooling2D().Call(c2)
                let merged = Layers.Average().Call(g, gm)
                Expect.equal (shapeOf merged) [ none; Nullable 64 ] "global pooling and Average"

                let cnn =
                    Model(image, Layers.Dense(10).Call(Layers.BatchNormalization().Call(merged)))

                Expect.equal (conv.CountParams(), conv2.CountParams()) (320L, 18496L) "conv params"
                Expect.equal (cnn.CountParams()) (320L + 18496L + 4L * 64L + 650L) "cnn params"

                let tokens = KerasApi.Input(shape = [| -1 |], dtype = "int64")
                Expect.equal tokens.DType "int64" "int input"
                let embedded = Layers.Embedding(100, 8, maskZero = true).Call(tokens)
                Expect.equal (shapeOf embedded) [ none; none; Nullable 8 ] "embedding"
                let lstm = Layers.LSTM(16, returnSequences = true)
                let gru = Layers.GRU(4)
                let seq = gru.Call(lstm.Call(embedded))
                Expect.equal (shapeOf seq) [ none; Nullable 4 ] "gru"
                Expect.equal (lstm.CountParams(), gru.CountParams()) (1600L, 264L) "recurrent params"

                let states = Layers.LSTM(16, returnState = true).CallMany(embedded)

                Expect.equal
                    (states |> Seq.map shapeOf |> List.ofSeq)
                    (List.replicate 3 [ none; Nullable 16 ])
                    "returnState"

                let steps = KerasApi.Input(shape = [| 5; 3 |])
                let bi = Layers.Bidirectional(Layers.LSTM(8))
                Expect.equal (shapeOf (bi.Call(steps))) [ none; Nullable 16 ] "bidirectional concat"
                Expect.equal (bi.CountParams()) (2L * 4L * 8L * (3L + 8L + 1L)) "bidirectional params"
                let both = Layers.Bidirectional(Layers.LSTM(8), mergeMode = null).CallMany(steps)
                Expect.equal both.Count 2 "no merge mode: both outputs"

                let flat = KerasApi.Input(shape = [| 784 |])
                let img = Layers.Reshape([| 28; 28; 1 |]).Call(flat)
                Expect.equal (shapeOf img) [ none; Nullable 28; Nullable 28; Nullable 1 ] "reshape"
                Expect.equal (shapeOf (Layers.Flatten().Call(img))) [ none; Nullable 784 ] "flatten"

                let u = KerasApi.Input(shape = [| 6 |])
                let v = KerasApi.Input(shape = [| 6 |])
                Expect.equal (shapeOf (Layers.AddTensors(u, v))) [ none; Nullable 6 ] "add"
                Expect.equal (shapeOf (Layers.AverageTensors(u, v))) [ none; Nullable 6 ] "average"

                Expect.equal
                    (shapeOf (Layers.ConcatenateTensors([| u; v |], axis = 1)))
                    [ none; Nullable 12 ]
                    "concatenate"

                Expect.equal (shapeOf (Layers.Concatenate().Call(u, v))) [ none; Nullable 12 ] "Concatenate layer"
                Expect.equal (shapeOf (Layers.Add().Call(u, v))) [ none; Nullable 6 ] "Add layer"
                let batch = KerasApi.Input(batchShape = [| 16; 10; 5 |])
                Expect.equal (shapeOf batch) [ Nullable 16; Nullable 10; Nullable 5 ] "batch shape"
            }

            test "eager calls, weights and nested models" {
                let dense = Layers.Dense(2, name = "cs_eager")
                let x = TestData.tensor2 [ [ 1.0f; 1.0f; 1.0f ] ]
                dense.Call(x) |> ignore

                dense.SetWeights(
                    TestData.tensor2 [ [ 1.0f; 2.0f ]; [ 3.0f; 4.0f ]; [ 5.0f; 6.0f ] ],
                    torch.tensor [| 0.5f; -0.5f |]
                )

                TestData.closeTo 1e-6f [| 9.5f; 11.5f |] (TestData.values (dense.Call(x))) "x·kernel + bias"
                Expect.equal (dense.GetWeights() |> Seq.map _.shape |> List.ofSeq) [ [| 3L; 2L |]; [| 2L |] ] "weights"
                Expect.equal (dense.CountParams()) 8L "params"

                let inner = mnist "nested_cs"
                let outer_in = KerasApi.Input(shape = [| 784 |])
                let outer = Model(outer_in, Layers.Dense(1).Call(inner.Call(outer_in)))
                Expect.equal (outer.CountParams()) (55050L + 11L) "the nested model's weights count"
                let sample = torch.ones (2L, 784L)
                let viaOuter = outer.GetLayer("mnist_model")
                Expect.equal viaOuter.ClassName "Functional" "nested as a layer"

                Expect.isTrue
                    (torch.allclose (viaOuter.Call(sample), inner.Predict(sample), 1e-5, 1e-6))
                    "shared weights"
            }

            test "SaveWeights and LoadWeights round-trip" {
                let path =
                    Path.Combine(Path.GetTempPath(), $"cs_facade_{Guid.NewGuid():N}.weights.h5")

                try
                    let source = mnist "save_cs"
                    let target = mnist "save_cs"
                    let x = torch.ones (3L, 784L)
                    Expect.isFalse (torch.allclose (source.Predict(x), target.Predict(x))) "different before"
                    source.SaveWeights(path)
                    target.LoadWeights(path)
                    Expect.isTrue (torch.allclose (source.Predict(x), target.Predict(x))) "equal after"
                finally
                    File.Delete path
            }

            test "Save, KerasApi.LoadModel, GetConfig, ModelFromConfig, ToJson and CloneModel from C#" {
                let folder = Path.Combine(Path.GetTempPath(), $"cs_facade_{Guid.NewGuid():N}")
                Directory.CreateDirectory folder |> ignore

                try
                    let path = Path.Combine(folder, "mnist.keras")
                    let source = mnist "whole_cs"
                    source.Save(path)
                    let loaded = KerasApi.LoadModel(path)
                    let x = torch.rand (3L, 784L)

                    Expect.isTrue
                        (torch.allclose (source.Predict(x), loaded.Predict(x)))
                        "same predictions after LoadModel"

                    Expect.equal (loaded.GetConfig().ToJsonString()) (source.GetConfig().ToJsonString()) "same config"

                    let rebuilt = KerasApi.ModelFromConfig(source.GetConfig())
                    Expect.equal (rebuilt.CountParams()) (source.CountParams()) "from_config"
                    Expect.equal ((KerasApi.ModelFromJson(source.ToJson())).CountParams()) 55050L "model_from_json"
                    let clone = KerasApi.CloneModel(source)
                    Expect.isFalse (torch.allclose (source.Predict(x), clone.Predict(x))) "a clone has fresh weights"

                    let cnn =
                        KerasApi.LoadModel(Path.Combine(TestData.sharedData "keras", "mnist_cnn_keras3.keras"))

                    Expect.equal (cnn.CountParams()) 34826L "a real Keras file"
                finally
                    Directory.Delete(folder, true)
            }

            test "callbacks and utilities" {
                let model = mnist "callbacks_cs"
                let x, y = learnable ()
                model.Compile("sgd", "sparse_categorical_crossentropy")
                // Nothing improves by 1e9: training stops after the second epoch.
                let stop = Callbacks.EarlyStopping(monitor = "loss", minDelta = 1e9)
                let history = model.Fit(x, y, epochs = 5, verbose = 0, callbacks = [ stop ])
                Expect.equal (List.ofSeq history.Epoch) [ 0; 1 ] "early stopping"

                let oneHot = Utils.ToCategorical(torch.tensor [| 0L; 2L |], numClasses = 3)
                TestData.closeTo 0.0f [| 1.0f; 0.0f; 0.0f; 0.0f; 0.0f; 1.0f |] (TestData.values oneHot) "to categorical"
            }

            test "Datasets.Mnist.LoadData gives Keras's arrays as tensors" {
                let dir = Path.Combine(Path.GetTempPath(), $"cs_mnist_{Guid.NewGuid():N}")
                Directory.CreateDirectory dir |> ignore
                let path = Path.Combine(dir, "mnist.npz")

                try
                    let pixels n seed =
                        Array.init (n * 28 * 28) (fun i -> byte ((i * 7 + seed) % 256))

                    do
                        use archive = ZipFile.Open(path, ZipArchiveMode.Create)

                        for name, bytes in
                            [
                                "x_train.npy", npy [ 3; 28; 28 ] (pixels 3 1)
                                "y_train.npy", npy [ 3 ] [| 5uy; 0uy; 9uy |]
                                "x_test.npy", npy [ 2; 28; 28 ] (pixels 2 2)
                                "y_test.npy", npy [ 2 ] [| 1uy; 7uy |]
                            ] do
                            use s = archive.CreateEntry(name).Open()
                            s.Write(bytes, 0, bytes.Length)

                    let struct (struct (xTrain, yTrain), struct (xTest, yTest)) =
                        Datasets.Mnist.LoadData(path)

                    Expect.equal (xTrain.shape, xTrain.dtype) ([| 3L; 28L; 28L |], torch.ScalarType.Byte) "x_train"

                    Expect.equal
                        (xTest.shape, yTest.dtype)
                        ([| 2L; 28L; 28L |], torch.ScalarType.Int64)
                        "x_test, y_test"

                    Expect.equal (yTrain.data<int64>().ToArray()) [| 5L; 0L; 9L |] "labels"
                    Expect.equal (xTrain.reshape(-1L).data<byte>().ToArray()) (pixels 3 1) "pixels in C order"
                finally
                    Directory.Delete(dir, true)
            }
        ]
