namespace Keras

open System
open System.Collections.Concurrent
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Text.Json
open System.Text.Json.Nodes
open TorchSharp

/// <summary>Something <c>Model.fromConfig</c> can rebuild by name (Keras's <c>custom_objects</c> entries): a layer class,
/// given as a factory from the layer's config, or a function for <c>Lambda</c> layers and activations. Code is never read
/// from a config: only names registered here (or passed in <c>customObjects</c>) are resolved.</summary>
[<NoEquality; NoComparison>]
type CustomObject =
    /// <summary>Rebuilds a layer from its Keras config (the object <c>Layer.getConfig</c> returns, "name" included),
    /// like Keras's <c>cls.from_config(config)</c>, which by default is <c>cls(**config)</c>.</summary>
    | LayerClass of create: (JsonObject -> Layer)
    /// A function of one tensor, for <c>Lambda</c> layers and custom activations.
    | Function of apply: (torch.Tensor -> torch.Tensor)

/// <summary>The global registry of custom objects (Keras's <c>register_keras_serializable</c>). <c>Model.fromConfig</c>
/// looks names up in its <c>customObjects</c> argument first, then here.</summary>
[<RequireQualifiedAccess>]
module CustomObjects =
    let private registry =
        ConcurrentDictionary<string, CustomObject>(StringComparer.Ordinal)

    /// <summary>Registers a layer class under its Keras class (or registered) name, with the factory that rebuilds it
    /// from its config: <c>CustomObjects.register "CustomDense" (fun config -> customDense (config.Int "units"))</c>.
    /// The rebuilt layer is given the config's "name".</summary>
    let register (name: string) (create: JsonObject -> Layer) = registry[name] <- LayerClass create

    /// <summary>Registers a function under a name, for <c>Lambda</c> layers (<c>Lambda.Registered</c>) and activations.</summary>
    let registerFunction (name: string) (apply: torch.Tensor -> torch.Tensor) = registry[name] <- Function apply

    /// Removes a registration; does nothing when the name is not registered.
    let unregister (name: string) = registry.TryRemove name |> ignore

    /// True when the name is registered globally.
    let isRegistered (name: string) = registry.ContainsKey name

    /// No custom objects: the <c>customObjects</c> argument meaning "only what is registered globally".
    let none: IDictionary<string, CustomObject> =
        Collections.ObjectModel.ReadOnlyDictionary<string, CustomObject>(Dictionary<string, CustomObject>())
        :> IDictionary<_, _>

    /// <summary>Looks a name up in <paramref name="customObjects"/> (may be null), then in the global registry.</summary>
    let tryFind (customObjects: IDictionary<string, CustomObject>) (name: string) =
        if isNull name then
            None
        else
            match
                (if isNull customObjects then
                     None
                 else
                     (match customObjects.TryGetValue name with
                      | true, o -> Some o
                      | _ -> None))
            with
            | Some o -> Some o
            | None ->
                match registry.TryGetValue name with
                | true, o -> Some o
                | _ -> None

/// How a layer made by this module is written in a model config: Keras's "module" and "registered_name".
type internal CustomInfo =
    {
        mutable Name: string
        Module: string
        RegisteredName: string option
    }

/// Layers made by <see cref="CustomLayer"/> and <see cref="Lambda"/>, keyed by identity.
module internal CustomInfo =
    let table = ConditionalWeakTable<LayerIdentity, CustomInfo>()

    let tryOf (layer: Layer) =
        match table.TryGetValue layer.Identity with
        | true, info -> Some info
        | _ -> None

/// A KerasException raised by a custom layer's own checks (it already names the layer: never wrapped again).
type internal CustomLayerException(error: KerasError) =
    inherit KerasException(error)

/// <summary>What a custom layer's build step receives (Keras's <c>build(self, input_shape)</c>): the input shapes,
/// and <c>AddWeight</c> to declare weights, which are created right after the build step, in declaration order.</summary>
[<Sealed>]
type LayerBuilder internal (layerName: string, className: string, inputs: TensorSpec list) =
    let weights = List<WeightSpec>()
    let mutable inputSpecs: InputSpec list = []

    let fail error = raise (CustomLayerException error)

    /// The layer's name, for error messages.
    member _.LayerName = layerName

    /// Shapes and dtypes of the inputs of the first call.
    member _.Inputs = inputs

    /// The shapes of the inputs of the first call (batch axis first, <c>None</c> where unknown).
    member _.InputShapes: Shape list = inputs |> List.map _.Shape

    /// The shape of the first input (Keras's <c>input_shape</c> for a one-input layer).
    member _.InputShape: Shape =
        match inputs with
        | x :: _ -> x.Shape
        | [] -> []

    /// <summary>A known dimension of the first input; negative axes count from the end: <c>b.Dim -1</c> is Keras's
    /// <c>input_shape[-1]</c>.</summary>
    /// <exception cref="KerasException">When the axis is out of range or the dimension is unknown.</exception>
    member this.Dim(axis: int) : int =
        let shape = this.InputShape
        let a = Shape.normalizeAxis shape.Length axis

        if a < 0 || a >= shape.Length then
            fail (
                InvalidInputs(
                    layerName,
                    className,
                    $"The input has rank {shape.Length}; axis {axis} does not exist.",
                    Shape.format shape
                )
            )

        match shape[a] with
        | Some d -> d
        | None ->
            fail (
                InvalidInputs(
                    layerName,
                    className,
                    $"Axis {axis} of the input must be known to build the layer.",
                    Shape.format shape
                )
            )

    /// <summary>Declares a weight (Keras's <c>add_weight</c>); read it in the call as <c>self["name"]</c>.</summary>
    /// <param name="name">Unique within the layer.</param>
    /// <param name="shape">The weight's shape.</param>
    /// <param name="initializer">Keras's default: glorot_uniform for float weights, zeros for the others.</param>
    /// <param name="trainable">True by default; non-trainable weights are not updated by <c>fit</c>.</param>
    /// <param name="dtype">float32 by default.</param>
    /// <exception cref="KerasException">When the name is already used by this layer or a dimension is negative.</exception>
    member _.AddWeight
        (name: string, shape: int list, ?initializer: Initializer, ?trainable: bool, ?dtype: DType)
        : unit =
        let dtype = defaultArg dtype Float32

        if String.IsNullOrWhiteSpace name then
            fail (InvalidArgument(layerName, "name", "Every weight of a custom layer needs a name.", "''"))

        if weights |> Seq.exists (fun w -> w.Name = name) then
            fail (
                InvalidArgument(
                    layerName,
                    "name",
                    $"A weight named '{name}' was already added to this layer; weight names must be unique.",
                    $"'{name}'"
                )
            )

        if shape |> List.exists (fun d -> d < 0) then
            fail (
                InvalidArgument(
                    layerName,
                    "shape",
                    $"Dimensions of weight '{name}' must be non-negative.",
                    Shape.format (Shape.ofInts shape)
                )
            )

        let init =
            match initializer with
            | Some i -> i
            | None -> if DType.isFloating dtype then GlorotUniform else Zeros

        weights.Add
            {
                Name = name
                Shape = shape
                Initializer = init
                Trainable = defaultArg trainable true
                DType = dtype
                Constraint = None
            }

    /// <summary>Declares a weight with an initializer given by its Keras name ("random_normal", "zeros", "glorot_uniform", ...).</summary>
    /// <exception cref="KerasException">When the initializer name is unknown, the name is already used or a dimension is negative.</exception>
    member this.AddWeight(name: string, shape: int list, initializer: string, ?trainable: bool, ?dtype: DType) : unit =
        match Initializer.tryOfName initializer with
        | Some init -> this.AddWeight(name, shape, init, ?trainable = trainable, ?dtype = dtype)
        | None -> fail (InvalidArgument(layerName, "initializer", "Unknown initializer.", $"'{initializer}'"))

    /// <summary>Sets the input rule checked on every later call (Keras's <c>self.input_spec</c>), for all inputs.</summary>
    member _.SetInputSpec(spec: InputSpec) = inputSpecs <- [ spec ]

    /// <summary>Sets one input rule per input, checked on every later call.</summary>
    member _.SetInputSpecs(specs: InputSpec list) = inputSpecs <- specs

    member internal _.Result: BuildResult =
        {
            Weights = List.ofSeq weights
            InputSpecs = inputSpecs
        }

/// <summary>What a custom layer's call receives besides its input tensors (the <c>self</c> of Keras's <c>call</c>):
/// its weights by name (<c>self["w"]</c>), the <c>training</c> flag, the input masks, and <c>Call</c> to run the layers and
/// models it holds on tensors (built on their first call).</summary>
[<Sealed>]
type CustomCall internal (ctx: CallContext, className: string, held: Lazy<HashSet<int64>>) =
    let fail error = raise (CustomLayerException error)

    /// The layer's name.
    member _.LayerName = ctx.LayerName

    /// True inside <c>fit</c> (and in eager calls with <c>training = true</c>): Keras's <c>training</c> argument.
    member _.Training = ctx.Training

    /// The mask of each input (Keras's <c>mask</c> argument); <c>None</c> where an input has none.
    member _.Masks = ctx.Masks

    /// The mask of the first input, if it has one.
    member _.Mask = ctx.Masks |> List.tryHead |> Option.flatten

    /// The layer's own weights, in declaration order.
    member _.Weights = ctx.Weights

    /// <summary>The weight declared with this name in the build step, as a tensor (gradients flow to it).</summary>
    /// <exception cref="KerasException">When the layer has no weight with this name.</exception>
    member _.Item
        with get (name: string): torch.Tensor =
            match ctx.Weights |> Array.tryFind (fun w -> w.Name = name) with
            | Some w -> w.Value :> torch.Tensor
            | None ->
                let known = ctx.Weights |> Array.map _.Name |> List.ofArray
                fail (UnknownName(ctx.LayerName, "weight", name, known))

    /// Adds a loss term to the training loss of the current step (Keras's <c>self.add_loss</c>).
    member _.AddLoss(loss: torch.Tensor) = ctx.AddLoss loss

    /// <summary>Calls a layer the custom layer holds (given in <c>layers</c> or <c>models</c>) on concrete tensors, building
    /// it on its first call; the training flag and added losses pass through.</summary>
    /// <exception cref="KerasException">When the layer is not held by this custom layer, or the inputs do not fit it.</exception>
    member _.CallMany(layer: Layer, inputs: torch.Tensor list) : torch.Tensor list =
        if not (held.Force().Contains layer.Identity.Id) then
            fail (
                InvalidArgument(
                    ctx.LayerName,
                    "layers",
                    $"Layer \"{layer.Name}\" is called inside custom layer \"{ctx.LayerName}\" ({className}) but not held by it: pass it in `layers` (or its model in `models`) so that its weights count, train and are saved.",
                    string layer
                )
            )

        Layer.outputSpecs layer (Layer.specsFor layer.Name inputs)
        |> Errors.orRaise
        |> ignore

        Layer.invoke layer (fun () -> Layer.contextFor layer ctx.Training [] ctx.AddLoss inputs) inputs

    /// <summary>Calls a held layer with one input and one output on a concrete tensor.</summary>
    member this.Call(layer: Layer, input: torch.Tensor) : torch.Tensor =
        match this.CallMany(layer, [ input ]) with
        | [ output ] -> output
        | outputs ->
            fail (
                InvalidArgument(
                    layer.Name,
                    "outputs",
                    "The layer returns several outputs; use CallMany.",
                    string outputs.Length
                )
            )

    /// <summary>Calls a held model (given in <c>models</c>) on several concrete tensors.</summary>
    member this.CallMany(model: Model, inputs: torch.Tensor list) : torch.Tensor list =
        this.CallMany(model.AsLayer, inputs)

    /// <summary>Calls a held one-input, one-output model on a concrete tensor, like <c>self.classifier(features)</c>.</summary>
    member this.Call(model: Model, input: torch.Tensor) : torch.Tensor = this.Call(model.AsLayer, input)

/// The parts of a custom layer, as <see cref="CustomLayer.Create"/> assembles them.
[<NoEquality; NoComparison>]
type internal CustomDefinition =
    {
        ClassName: string
        Module: string
        RegisteredName: string option
        Config: unit -> JsonObject
        Build: LayerBuilder -> unit
        Call: CustomCall -> torch.Tensor list -> torch.Tensor list
        Held: unit -> Layer list
        Rule: (Shape list -> Shape list) option
        InputSpecs: InputSpec list
        ComputeMask: torch.Tensor list -> torch.Tensor option list -> torch.Tensor option list
    }

/// The machinery behind custom layers: building, the wrapped call, and output shape inference by running the call.
module internal CustomMachinery =
    /// A config entry given as a .NET value, in Keras's JSON form.
    let rec toNode (value: obj) : JsonNode =
        match value with
        | null -> null
        | :? JsonNode as n -> n.DeepClone()
        | :? string as s -> JsonValue.Create s
        | :? bool as b -> JsonValue.Create b
        | :? int as i -> JsonValue.Create i
        | :? int64 as i -> JsonValue.Create i
        | :? float as f -> JsonValue.Create f
        | :? float32 as f -> JsonValue.Create f
        | :? Activation as a -> Config.activation a
        | :? Initializer as i -> Config.initializer i
        | :? DType as d -> JsonValue.Create(DType.name d)
        | _ ->
            let t = value.GetType()

            if t.IsGenericType && t.GetGenericTypeDefinition() = typedefof<option<_>> then
                toNode (t.GetProperty("Value").GetValue value)
            else
                match value with
                | :? Collections.IDictionary as d ->
                    let o = JsonObject()

                    for key in d.Keys do
                        o[string key] <- toNode d[key]

                    o
                | :? Collections.IEnumerable as e -> JsonArray(e |> Seq.cast<obj> |> Seq.map toNode |> Array.ofSeq)
                | _ -> JsonSerializer.SerializeToNode(value, t)

    let configOf (entries: (string * obj) list) () =
        let o = JsonObject()

        for key, value in entries do
            o[key] <- toNode value

        o

    let specsText (specs: TensorSpec list) =
        specs |> List.map (fun s -> Shape.format s.Shape) |> String.concat ", "

    let private shapeOf (layerName: string) (index: int) (t: torch.Tensor) =
        match Shape.tryOfDims t.Sizes with
        | Ok shape -> shape
        | Error detail -> raise (CustomLayerException(IncompatibleInput(layerName, index, detail)))

    /// Known dimensions of the rule's shape must equal the actual ones, and the ranks must agree.
    let private agrees (expected: Shape) (actual: Shape) =
        expected.Length = actual.Length
        && List.forall2 Shape.dimsCompatible expected actual

    /// The symbolic input specs a trial run on zeros stands for (set by <c>dummyRun</c> on its thread), so errors
    /// found during it speak of the user's shapes, (None, 5), not of the zeros', (2, 5).
    let private trialFor =
        new System.Threading.ThreadLocal<(string * TensorSpec list) option>(fun () -> None)

    /// The call as the layer runs it: the user's call, then the check against the shape rule when there is one.
    let wrapCall (def: CustomDefinition) (held: Lazy<HashSet<int64>>) (ctx: CallContext) (inputs: torch.Tensor list) =
        let outputs = def.Call (CustomCall(ctx, def.ClassName, held)) inputs

        match def.Rule with
        | None -> ()
        | Some rule ->
            let inShapes = inputs |> List.mapi (shapeOf ctx.LayerName)
            let expected = rule inShapes
            let actual = outputs |> List.mapi (shapeOf ctx.LayerName)

            if expected.Length <> actual.Length || not (List.forall2 agrees expected actual) then
                let show shapes =
                    shapes |> List.map Shape.format |> String.concat ", "

                // In a trial run, the rule is applied to the user's shapes; a dimension the rule leaves unknown is
                // shown unknown in the call's result too (it came from a trial size).
                let inShapes, expected, actual =
                    match trialFor.Value with
                    | Some(name, specs) when name = ctx.LayerName && specs.Length = inputs.Length ->
                        let userIn = specs |> List.map _.Shape
                        let userExpected = rule userIn

                        let userActual =
                            actual
                            |> List.mapi (fun i a ->
                                if i < userExpected.Length && userExpected[i].Length = a.Length then
                                    List.map2 (fun (e: int option) d -> if e.IsNone then None else d) userExpected[i] a
                                else
                                    a)

                        userIn, userExpected, userActual
                    | _ -> inShapes, expected, actual

                raise (
                    CustomLayerException(
                        InvalidInputs(
                            ctx.LayerName,
                            def.ClassName,
                            $"The call returned outputs of shape {show actual}, but the layer's output shape rule gives {show expected} for inputs of shape {show inShapes}.",
                            show inShapes
                        )
                    )
                )

        outputs

    /// Runs the layer's call in inference mode, without gradients, on zeros of the given sizes; returns the outputs' shapes and dtypes.
    let dummyRun (layer: Layer) (className: string) (specs: TensorSpec list) (sizes: int list list) =
        try
            use _ = torch.no_grad ()
            use scope = torch.NewDisposeScope()

            let tensors =
                List.map2
                    (fun (s: TensorSpec) (d: int list) ->
                        torch.zeros (d |> List.map int64 |> Array.ofList, dtype = DType.toTorch s.DType))
                    specs
                    sizes

            let ctx = Layer.contextFor layer false [] ignore tensors
            let previous = trialFor.Value
            trialFor.Value <- Some(layer.Name, specs)

            let outputs =
                try
                    layer.Spec.Call ctx tensors
                finally
                    trialFor.Value <- previous

            outputs
            |> List.map (fun o ->
                (o.Sizes |> Array.map int |> List.ofArray), (DType.tryOfTorch o.dtype |> Option.defaultValue Float32))
            |> Ok
        with
        | :? CustomLayerException as e -> Error e.Error
        | e ->
            let shown =
                sizes |> List.map (fun s -> Shape.format (Shape.ofInts s)) |> String.concat ", "

            let message =
                (match e with
                 | :? KerasException as k -> k.Message
                 | _ -> Errors.nativeText e.Message)
                    .Trim()

            Error(
                InvalidInputs(
                    layer.Name,
                    className,
                    $"Calling the layer on zeros of shape {shown} (to infer its output shape) failed: {message} Give the layer an output shape rule if its call needs particular input sizes.",
                    specsText specs
                )
            )

    /// Sizes for the unknown dimensions of the two inference runs: a dimension that differs between them is unknown.
    let private sizeA axis = if axis = 0 then 2 else 12
    let private sizeB axis = if axis = 0 then 3 else 17

    let private fill (pick: int -> int) (specs: TensorSpec list) =
        specs
        |> List.map (fun s -> s.Shape |> List.mapi (fun axis d -> defaultArg d (pick axis)))

    /// Keras's compute_output_spec for layers without a shape rule: the call runs on zeros (twice when some input
    /// dimension is unknown, with two different sizes); output dimensions that change with them are unknown.
    let infer (layer: Layer) (className: string) (specs: TensorSpec list) : Result<TensorSpec list, KerasError> =
        let known = specs |> List.forall (fun s -> Shape.isFullyDefined s.Shape)

        match dummyRun layer className specs (fill sizeA specs) with
        | Error e -> Error e
        | Ok first when known ->
            Ok(
                first
                |> List.map (fun (shape, dtype) ->
                    {
                        Shape = Shape.ofInts shape
                        DType = dtype
                    })
            )
        | Ok first ->
            match dummyRun layer className specs (fill sizeB specs) with
            | Error e -> Error e
            | Ok second when
                second.Length <> first.Length
                || List.exists2 (fun (a: int list, _) (b: int list, _) -> a.Length <> b.Length) first second
                ->
                Error(
                    InvalidInputs(
                        layer.Name,
                        className,
                        "The call returned outputs of different ranks for different input sizes, so its output shape cannot be inferred. Give the layer an output shape rule.",
                        specsText specs
                    )
                )
            | Ok second ->
                Ok(
                    List.map2
                        (fun (a: int list, dtype) (b: int list, _) ->
                            {
                                Shape = List.map2 (fun x y -> if x = y then Some x else None) a b
                                DType = dtype
                            })
                        first
                        second
                )

    let private key (specs: TensorSpec list) =
        specs
        |> List.map (fun s -> Shape.format s.Shape + ":" + DType.name s.DType)
        |> String.concat ";"

    /// Makes the layer.
    let create (def: CustomDefinition) (name: string option) : Layer =
        let mutable self: Layer option = None
        let inferred = ConcurrentDictionary<string, TensorSpec list>()
        let mutable ruleChecked = false
        let mutable ruleDTypes: DType list = []

        let held =
            lazy (Weights.allLayers (def.Held()) |> List.map _.Identity.Id |> HashSet)

        let current (layerName: string) = { self.Value with Name = layerName }

        let build (inputs: TensorSpec list) =
            let layer = self.Value

            let layerName =
                match CustomInfo.tryOf layer with
                | Some info -> info.Name
                | None -> layer.Name

            let builder = LayerBuilder(layerName, def.ClassName, inputs)
            def.Build builder
            builder.Result

        let computeOutput (layerName: string) (inputs: TensorSpec list) : Result<TensorSpec list, KerasError> =
            let layer = current layerName

            try
                Weights.ensureBuilt layer inputs |> ignore

                match def.Rule with
                | Some rule ->
                    let shapes = rule (inputs |> List.map _.Shape)

                    // The first time, the call runs once on zeros: it builds the held layers and checks the rule.
                    let checkedRun =
                        if ruleChecked then
                            Ok()
                        else
                            dummyRun layer def.ClassName inputs (fill sizeA inputs)
                            |> Result.map (fun outs ->
                                ruleDTypes <- outs |> List.map snd
                                ruleChecked <- true)

                    checkedRun
                    |> Result.map (fun () ->
                        shapes
                        |> List.mapi (fun i s ->
                            {
                                Shape = s
                                DType = (if i < ruleDTypes.Length then ruleDTypes[i] else Float32)
                            }))
                | None ->
                    let k = key inputs

                    match inferred.TryGetValue k with
                    | true, outs -> Ok outs
                    | _ ->
                        infer layer def.ClassName inputs
                        |> Result.map (fun outs ->
                            inferred[k] <- outs
                            outs)
            with :? KerasException as e ->
                Error e.Error

        let spec: LayerSpec =
            {
                ClassName = def.ClassName
                Config = def.Config
                InputSpecs = def.InputSpecs
                ComputeOutput = computeOutput
                Build = build
                Call = wrapCall def held
                SubLayers = def.Held
                ComputeMask = def.ComputeMask
                RegularizationLosses = fun _ -> []
            }

        let layer = Layer.create name spec
        self <- Some layer

        CustomInfo.table.Add(
            layer.Identity,
            {
                Name = layer.Name
                Module = def.Module
                RegisteredName = def.RegisteredName
            }
        )

        layer

    /// The layer under another name: what <c>fromConfig</c> does with a factory's layer so it keeps its config's name.
    let rename (layer: Layer) (name: string) =
        if layer.Name = name then
            layer
        else
            CustomInfo.tryOf layer |> Option.iter (fun info -> info.Name <- name)
            { layer with Name = name }

/// <summary>Custom layers, Keras's <c>class CustomDense(layers.Layer)</c>: a class name, a config (the constructor's
/// arguments, with Keras names), a build step creating weights from the input shape, and a call on TorchSharp tensors.
/// Inside the call, use TorchSharp directly: <c>torch.matmul</c>, <c>torch.zeros</c>, <c>torch.stack</c>,
/// <c>torch.cat</c>, elementwise operators, and <c>x.select(1, t)</c> for Python's <c>x[:, t, :]</c>
/// (<c>x.narrow(1, start, length)</c> for <c>x[:, start:start+length]</c>). Custom layers are ordinary layers: they appear in
/// summaries with their parameters, train in <c>fit</c>, share weights when reused, and serialize with
/// <c>Layer.getConfig</c> / <c>Model.getConfig</c>.</summary>
/// <example><code>
/// let customDense (units: int) =
///     CustomLayer.Create(
///         "CustomDense",
///         config = [ "units", units ],
///         build = (fun b ->
///             b.AddWeight("w", [ b.Dim -1; units ], "random_normal")
///             b.AddWeight("b", [ units ], "random_normal")),
///         call = fun self x -> torch.matmul (x, self["w"]) + self["b"])
/// </code></example>
[<AbstractClass; Sealed>]
type CustomLayer =
    /// <summary>Makes a custom layer.</summary>
    /// <param name="className">Keras class name, e.g. "CustomDense"; the automatic layer name is its snake case ("custom_dense").</param>
    /// <param name="call">The forward function of a one-input, one-output layer: <c>fun self x -> ...</c>.</param>
    /// <param name="callMany">The forward function on a list of inputs, returning a list of outputs (instead of <c>call</c>).</param>
    /// <param name="config">The layer's <c>get_config</c> entries: Keras names and .NET values (numbers, strings, bools, lists,
    /// options, <c>Activation</c>, <c>Initializer</c>, or <c>JsonNode</c>).</param>
    /// <param name="build">Declares the weights from the input shapes (Keras's <c>build</c>); runs once, on the first call.</param>
    /// <param name="layers">Layers the call uses through <c>self.Call</c>: their weights count as this layer's.</param>
    /// <param name="models">Models the call uses through <c>self.Call</c>: their weights count as this layer's and stay shared
    /// with the models.</param>
    /// <param name="outputShape">The shape rule of a one-input, one-output layer (Keras's <c>compute_output_shape</c>);
    /// without one, the output shape is inferred by running the call on zeros. Calls are checked against it.</param>
    /// <param name="outputShapes">The shape rule on lists of shapes (instead of <c>outputShape</c>).</param>
    /// <param name="inputSpec">An input rule checked on every call, e.g. <c>{ InputSpec.any with NDim = Some 3 }</c>.</param>
    /// <param name="supportsMasking">Pass the first input's mask on to the output (Keras's <c>supports_masking</c>); false by default.</param>
    /// <param name="registeredName">The name <c>Model.fromConfig</c> finds the class under; the class name by default.</param>
    /// <param name="name">The layer's name; the snake case of the class name, numbered, by default.</param>
    /// <exception cref="KerasException">When neither or both of <c>call</c> and <c>callMany</c> are given.</exception>
    static member Create
        (
            className: string,
            ?call: CustomCall -> torch.Tensor -> torch.Tensor,
            ?callMany: CustomCall -> torch.Tensor list -> torch.Tensor list,
            ?config: (string * obj) list,
            ?build: LayerBuilder -> unit,
            ?layers: Layer list,
            ?models: Model list,
            ?outputShape: Shape -> Shape,
            ?outputShapes: Shape list -> Shape list,
            ?inputSpec: InputSpec,
            ?supportsMasking: bool,
            ?registeredName: string,
            ?name: string
        ) : Layer =
        if String.IsNullOrWhiteSpace className then
            Errors.raiseKeras (InvalidArgument("CustomLayer", "className", "A custom layer needs a class name.", "''"))

        let forward =
            match call, callMany with
            | Some f, None ->
                fun (self: CustomCall) (inputs: torch.Tensor list) ->
                    match inputs with
                    | [ x ] -> [ f self x ]
                    | _ ->
                        raise (
                            CustomLayerException(
                                InvalidInputs(
                                    self.LayerName,
                                    className,
                                    "This layer takes exactly one input (its call was given with `call`; use `callMany` for several).",
                                    $"{inputs.Length} inputs"
                                )
                            )
                        )
            | None, Some f -> f
            | _ ->
                Errors.raiseKeras (
                    InvalidArgument(
                        className,
                        "call",
                        "Give exactly one of `call` and `callMany`.",
                        (if call.IsSome then "both" else "neither")
                    )
                )

        let rule =
            match outputShape, outputShapes with
            | Some r, None -> Some(fun (shapes: Shape list) -> [ r (List.head shapes) ])
            | None, Some r -> Some r
            | None, None -> None
            | Some _, Some _ ->
                Errors.raiseKeras (
                    InvalidArgument(
                        className,
                        "outputShape",
                        "Give at most one of `outputShape` and `outputShapes`.",
                        "both"
                    )
                )

        let held = (defaultArg layers []) @ (defaultArg models [] |> List.map _.AsLayer)

        CustomMachinery.create
            {
                ClassName = className
                Module = "__main__"
                RegisteredName = Some(defaultArg registeredName className)
                Config = CustomMachinery.configOf (defaultArg config [])
                Build = defaultArg build ignore
                Call = forward
                Held = fun () -> held
                Rule = rule
                InputSpecs = inputSpec |> Option.toList
                ComputeMask =
                    if defaultArg supportsMasking false then
                        Layer.passMask
                    else
                        (fun _ _ -> [])
            }
            name

    /// <summary>The same layer under the name its config gives (what <c>Model.fromConfig</c> does with a factory's layer);
    /// its identity and weights are kept.</summary>
    static member WithName(layer: Layer, name: string) : Layer = CustomMachinery.rename layer name

/// <summary>Keras's <c>Lambda</c> layer: a small stateless function of one tensor in a graph. It serializes by the name
/// of a registered function (<see cref="CustomObjects.registerFunction"/>); <c>Model.fromConfig</c> refuses Lambda layers
/// whose function is anonymous or not registered — code is never deserialized.</summary>
[<AbstractClass; Sealed>]
type Lambda =
    static member internal Make
        (fn: torch.Tensor -> torch.Tensor, functionName: string option, outputShape: Shape option, name: string option)
        =
        let functionConfig () : JsonNode =
            match functionName with
            | Some n ->
                Config.ofList
                    [
                        "module", Config.value "__main__"
                        "class_name", Config.value "function"
                        "config", Config.value n
                        "registered_name", Config.value n
                    ]
            | None ->
                // What Keras writes for a Python lambda; fromConfig refuses it, as Keras does in safe mode.
                Config.ofList
                    [
                        "class_name", Config.value "__lambda__"
                        "config",
                        Config.ofList [ "code", Config.value "<F# function>"; "defaults", null; "closure", null ]
                    ]

        let config () =
            Config.ofList
                [
                    yield "function", functionConfig ()
                    match outputShape with
                    | Some s -> yield "output_shape", Config.shape s
                    | None -> ()
                    yield "arguments", (JsonObject() :> JsonNode)
                ]

        CustomMachinery.create
            {
                ClassName = "Lambda"
                Module = "keras.layers"
                RegisteredName = None
                Config = config
                Build = ignore
                Call =
                    fun self inputs ->
                        match inputs with
                        | [ x ] -> [ fn x ]
                        | _ ->
                            raise (
                                CustomLayerException(
                                    InvalidInputs(
                                        self.LayerName,
                                        "Lambda",
                                        "A Lambda layer takes exactly one input.",
                                        $"{inputs.Length} inputs"
                                    )
                                )
                            )
                Held = fun () -> []
                Rule =
                    outputShape
                    |> Option.map (fun s -> fun (shapes: Shape list) -> [ List.head (List.head shapes) :: s ])
                InputSpecs = []
                ComputeMask = fun _ _ -> []
            }
            name

    /// <summary>A Lambda layer applying <paramref name="fn"/>. Give <paramref name="functionName"/> (registered with
    /// <c>CustomObjects.registerFunction</c>, or passed in <c>customObjects</c> when loading) to make it loadable.</summary>
    /// <param name="fn">The function, on TorchSharp tensors.</param>
    /// <param name="functionName">The name the function is serialized and looked up under.</param>
    /// <param name="outputShape">The output shape without the batch axis (Keras's tuple form); inferred by running the function when absent.</param>
    /// <param name="name">The layer's name; "lambda", "lambda_1", ... by default.</param>
    static member Create
        (fn: torch.Tensor -> torch.Tensor, ?functionName: string, ?outputShape: Shape, ?name: string)
        : Layer =
        Lambda.Make(fn, functionName, outputShape, name)

    /// <summary>A Lambda layer applying the function registered (globally) under <paramref name="functionName"/>.</summary>
    /// <exception cref="KerasException">When no function is registered under that name.</exception>
    static member Registered(functionName: string, ?outputShape: Shape, ?name: string) : Layer =
        match CustomObjects.tryFind null functionName with
        | Some(Function fn) -> Lambda.Make(fn, Some functionName, outputShape, name)
        | _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    "Lambda",
                    "function",
                    "No function is registered under this name (CustomObjects.registerFunction).",
                    $"'{functionName}'"
                )
            )

/// Subclassed models (made by <see cref="CustomModel"/>), keyed by the model's identity: the custom layer that is their body.
module internal SubclassedModels =
    let table = ConditionalWeakTable<LayerIdentity, Layer>()

/// <summary>Keras's "subclassed model" as data: a model defined by a call over layers (the guide's <c>MLP</c>), wrapped into a
/// functional model with one input and one custom layer, so it compiles, fits, evaluates and predicts like any model.
/// Unlike a functional model built layer by layer, its inner computation is code: the graph shows one layer, and it
/// serializes only through its config and a registered factory (Keras: "To serialize a subclassed model, it is necessary
/// for the implementer to specify a get_config() and from_config() method").</summary>
[<AbstractClass; Sealed>]
type CustomModel =
    /// <summary>A model whose body is a custom layer called on <paramref name="input"/>; the arguments are those of
    /// <see cref="CustomLayer.Create"/>. The model takes the layer's name.</summary>
    /// <example><code>
    /// let dense1 = Layers.Dense(64, activation = "relu")
    /// let dense2 = Layers.Dense(10)
    /// let mlp = CustomModel.Create("MLP", Keras.Input(shape = [ 32 ]), layers = [ dense1; dense2 ],
    ///                              call = fun self x -> self.Call(dense2, self.Call(dense1, x)))
    /// </code></example>
    static member Create
        (
            className: string,
            input: KerasTensor,
            ?call: CustomCall -> torch.Tensor -> torch.Tensor,
            ?callMany: CustomCall -> torch.Tensor list -> torch.Tensor list,
            ?config: (string * obj) list,
            ?build: LayerBuilder -> unit,
            ?layers: Layer list,
            ?models: Model list,
            ?outputShape: Shape -> Shape,
            ?name: string
        ) : Model =
        let layer =
            CustomLayer.Create(
                className,
                ?call = call,
                ?callMany = callMany,
                ?config = config,
                ?build = build,
                ?layers = layers,
                ?models = models,
                ?outputShape = outputShape,
                ?name = name
            )

        CustomModel.Make(
            layer,
            input,
            Layer.callMany layer [ input ],
            (if callMany.IsSome then OutputList else SingleOutput)
        )

    static member private Make
        (layer: Layer, input: KerasTensor, outputs: KerasTensor list, structure: OutputStructure)
        : Model =
        let model = Model.create [ input ] outputs structure (Some layer.Name)

        SubclassedModels.table.AddOrUpdate(model.AsLayer.Identity, layer)
        model

    /// <summary>A subclassed model whose body is an existing custom layer (made by <see cref="CustomLayer.Create"/> or
    /// <see cref="CustomObjectLayer.Create"/>), called on <paramref name="input"/>: what a class-based subclassed model
    /// (the C# facade's <c>SubclassedModel</c>, Keras's <c>class MLP(keras.Model)</c>) becomes once its input shape is
    /// known, at its first call. The model takes the layer's name and shares its weights. Saved in a <c>.keras</c> file,
    /// it is written as Keras writes a subclassed model (the class, the layer's config and a <c>build_config</c>), and
    /// loads back only through a registered factory of its class.</summary>
    /// <param name="layer">The body: a layer with one input.</param>
    /// <param name="input">The symbolic input the body is called on.</param>
    /// <exception cref="KerasException">When the input does not fit the layer.</exception>
    static member OfLayer(layer: Layer, input: KerasTensor) : Model =
        let outputs = Layer.callMany layer [ input ]
        CustomModel.Make(layer, input, outputs, (if outputs.Length = 1 then SingleOutput else OutputList))

    /// <summary>The body layer of a subclassed model (made by <see cref="Create"/> or <see cref="OfLayer"/>);
    /// <c>None</c> for functional and Sequential models.</summary>
    static member TryBody(model: Model) : Layer option =
        match SubclassedModels.table.TryGetValue model.AsLayer.Identity with
        | true, body -> Some body
        | _ -> None

/// <summary>Eager calls on concrete tensors (<c>layer.Call(tensor)</c>, <c>model.Call(tensor)</c>), and typed reads of
/// config entries for factories (<c>config.Int "units"</c>).</summary>
[<AutoOpen>]
module CustomExtensions =
    let private entry (config: JsonObject) (key: string) : JsonNode option =
        let mutable node: JsonNode = null

        if config.TryGetPropertyValue(key, &node) && not (isNull node) then
            Some node
        else
            None

    type Layer with
        /// <summary>Calls the layer eagerly on a concrete tensor, building its weights on the first call (Keras's
        /// <c>layer(tensor)</c>); <paramref name="training"/> is false by default.</summary>
        /// <exception cref="KerasException">When the input does not fit the layer or it has several outputs.</exception>
        member layer.Call(x: torch.Tensor, ?training: bool) : torch.Tensor =
            match Layer.callEager layer (defaultArg training false) [ x ] with
            | [ y ] -> y
            | ys ->
                Errors.raiseKeras (
                    InvalidArgument(
                        layer.Name,
                        "outputs",
                        "The layer returns several outputs; use CallMany.",
                        string ys.Length
                    )
                )

        /// <summary>Calls the layer eagerly on concrete tensors.</summary>
        member layer.CallMany(xs: torch.Tensor list, ?training: bool) : torch.Tensor list =
            Layer.callEager layer (defaultArg training false) xs

    type Model with
        /// <summary>Runs a one-input, one-output model eagerly on a concrete tensor (Keras's <c>model(tensor)</c>), with
        /// gradients recorded; <paramref name="training"/> is false by default.</summary>
        member model.Call(x: torch.Tensor, ?training: bool) : torch.Tensor =
            match Model.callEager model (defaultArg training false) [ x ] with
            | [ y ] -> y
            | ys ->
                Errors.raiseKeras (
                    InvalidArgument(
                        model.Name,
                        "outputs",
                        "The model returns several outputs; use CallMany.",
                        string ys.Length
                    )
                )

        /// <summary>Runs the model eagerly on concrete tensors, one per input.</summary>
        member model.CallMany(xs: torch.Tensor list, ?training: bool) : torch.Tensor list =
            Model.callEager model (defaultArg training false) xs

    type JsonObject with
        /// <summary>A config entry as a .NET value (numbers, strings, bools, arrays).</summary>
        /// <exception cref="KerasException">When the entry is missing or of another kind.</exception>
        member config.Get<'T>(key: string) : 'T =
            match entry config key with
            | Some node ->
                try
                    node.Deserialize<'T>()
                with e ->
                    Errors.raiseKeras (
                        InvalidArgument(
                            "config",
                            key,
                            $"Expected a value of type {typeof<'T>.Name}: {e.Message}",
                            node.ToJsonString()
                        )
                    )
            | None -> Errors.raiseKeras (InvalidArgument("config", key, "The config has no such entry.", "None"))

        /// <summary>A config entry, or <c>None</c> when it is missing or null.</summary>
        member config.TryGet<'T>(key: string) : 'T option =
            match entry config key with
            | Some _ -> Some(config.Get<'T> key)
            | None -> None

        /// An int entry.
        member config.Int(key: string) = config.Get<int> key
        /// A float entry.
        member config.Float(key: string) = config.Get<float> key
        /// A string entry.
        member config.String(key: string) = config.Get<string> key
        /// A bool entry.
        member config.Bool(key: string) = config.Get<bool> key
        /// A list of ints (a shape or kernel size).
        member config.Ints(key: string) = config.Get<int[]> key |> List.ofArray
