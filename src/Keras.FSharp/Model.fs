namespace Keras

open System.Collections.Generic
open TorchSharp

/// How a model's outputs are structured, as given to <c>Model.create</c>.
type OutputStructure =
    /// One output tensor.
    | SingleOutput
    /// A list of outputs.
    | OutputList
    /// Outputs named by these keys, in this order.
    | OutputDict of names: string list

/// A functional model: a directed acyclic graph of layer calls from its inputs to its outputs. A model is a
/// value; its weights belong to its layers, so models built over the same layers share them. dotnet fsi and
/// <c>%A</c> show its summary table.
[<CustomEquality; NoComparison; StructuredFormatDisplay("{Display}")>]
type Model =
    {
        /// The model's name.
        Name: string
        /// The symbolic inputs, each made by <c>Input</c>.
        Inputs: KerasTensor list
        /// The symbolic outputs, in order.
        Outputs: KerasTensor list
        /// Whether outputs were given as one tensor, a list or a dict.
        Structure: OutputStructure
        /// Every node between inputs and outputs, in topological order (inputs first).
        Nodes: Node list
        /// Layers in Keras's order (by depth from the inputs), each once, input layers included.
        Layers: Layer list
        /// The model as a layer: call it on tensors to nest it in another model.
        AsLayer: Layer
    }

    override this.Equals(other) =
        match other with
        | :? Model as o -> this.AsLayer = o.AsLayer
        | _ -> false

    override this.GetHashCode() = this.AsLayer.GetHashCode()
    override this.ToString() = $"<Functional name={this.Name}>"

    /// <summary>The summary table (Keras's <c>model.summary()</c>), as dotnet fsi and <c>%A</c> show a model.</summary>
    member this.Display: string =
        // Summary is compiled after Model: reached by name.
        let render: System.Reflection.MethodInfo =
            match typeof<Model>.Assembly.GetType("Keras.Summary") with
            | null -> null
            | t -> t.GetMethod("render")

        match render with
        | null -> this.ToString()
        | m -> m.Invoke(null, [| box this |]) :?> string

/// <summary>String data at a model's boundary: a string input takes string tensors only (and a numeric input none),
/// and a vector of strings feeds an input of shape <c>(None, 1)</c> as a column, as Keras expands a rank-1 batch.</summary>
module internal StringInputs =
    let adapt (modelName: string) (input: KerasTensor) (value: torch.Tensor) =
        let isStrings = StringTensor.isString value
        let name = input.Node.Layer.Name

        match input.DType, isStrings with
        | String, false ->
            Errors.raiseKeras (
                DataMismatch(
                    modelName,
                    $"Input '{name}' has dtype string: pass strings (string[] or string[,], or StringTensor.ofArray).",
                    $"a {value.dtype} tensor"
                )
            )
        | String, true when value.dim () = 1L && input.Shape.Length = 2 && input.Shape[1] = Some 1 ->
            StringTensor.reshape value [| value.size(0); 1L |]
        | String, true -> value
        | _, true ->
            Errors.raiseKeras (
                DataMismatch(
                    modelName,
                    $"Input '{name}' has dtype {DType.name input.DType} but received strings; declare it with dtype=string and feed it to a string layer.",
                    "a string tensor"
                )
            )
        | _ -> value

/// Building, validating, calling and running functional models.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Model =
    /// The model behind each model's <c>AsLayer</c>, so tools (plot_model) can open a nested model.
    let private ofLayerTable =
        System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, Model>()

    /// <summary>The model whose <c>AsLayer</c> this layer is (a nested model), or <c>None</c> for any other layer.</summary>
    let tryOfLayer (layer: Layer) : Model option =
        match ofLayerTable.TryGetValue layer.Identity with
        | true, model -> Some model
        | _ -> None

    let private isInputNode (node: Node) =
        node.Inputs.IsEmpty && node.Layer.ClassName = "InputLayer"

    /// Nodes in topological order and layers in Keras's depth order, as Keras's graph mapping computes them:
    /// a depth-first walk back from the outputs that stops at the model's inputs.
    let private mapGraph (name: string) (inputs: KerasTensor list) (outputs: KerasTensor list) =
        let inputIds = inputs |> List.map _.Id |> HashSet
        let finished = HashSet<int64>()
        let inProgress = HashSet<int64>()
        let ordered = List<Node>()
        let layerIndex = Dictionary<int64, int>()
        let accessed = List<string>()

        let rec visit (consumer: Node option) (tensor: KerasTensor) =
            let node = tensor.Node

            if not (finished.Contains node.Id) then
                if inProgress.Contains node.Id then
                    Errors.raiseKeras (
                        InvalidArgument(
                            name,
                            "outputs",
                            $"Tensor {tensor} from operation '{node.Layer.Name}' is part of a cycle.",
                            string tensor
                        )
                    )

                if not (layerIndex.ContainsKey node.Layer.Identity.Id) then
                    layerIndex[node.Layer.Identity.Id] <- layerIndex.Count

                if isInputNode node && not (inputIds.Contains tensor.Id) then
                    let at = consumer |> Option.map _.Layer.Name |> Option.defaultValue node.Layer.Name
                    Errors.raiseKeras (GraphDisconnected(string tensor, at, List.ofSeq accessed))

                inProgress.Add node.Id |> ignore

                if not (inputIds.Contains tensor.Id) then
                    for input in node.Inputs do
                        visit (Some node) input

                inProgress.Remove node.Id |> ignore
                finished.Add node.Id |> ignore
                ordered.Add node
                accessed.Add node.Layer.Name

        for output in outputs do
            visit None output

        // Depth: outputs at 0; a node is one deeper than the deepest node that consumes it.
        let depth = Dictionary<int64, int>()

        for node in Seq.rev ordered do
            let d =
                match depth.TryGetValue node.Id with
                | true, d -> d
                | _ -> 0

            depth[node.Id] <- d

            for input in node.Inputs do
                let parent = input.Node.Id

                let previous =
                    match depth.TryGetValue parent with
                    | true, p -> p
                    | _ -> 0

                depth[parent] <- max (d + 1) previous

        let layerDepth = Dictionary<int64, int * Layer>()

        for node in ordered do
            let d = depth[node.Id]

            match layerDepth.TryGetValue node.Layer.Identity.Id with
            | true, (previous, _) when previous >= d -> ()
            | _ -> layerDepth[node.Layer.Identity.Id] <- (d, node.Layer)

        let layers =
            layerDepth.Values
            |> Seq.sortBy (fun (d, layer) -> -d, layerIndex[layer.Identity.Id])
            |> Seq.map snd
            |> List.ofSeq

        List.ofSeq ordered, layers

    let private validateNames (layers: Layer list) =
        layers
        |> List.countBy _.Name
        |> List.tryFind (fun (_, count) -> count > 1)
        |> Option.iter (fun (n, count) -> Errors.raiseKeras (DuplicateLayerName(n, count)))

    /// Input specs of a model call checked against the model's own inputs, as Keras's Functional input spec does.
    let private checkCallInputs (modelName: string) (expected: KerasTensor list) (given: Shape list) =
        if expected.Length <> given.Length then
            Error(DataMismatch(modelName, $"Expected {expected.Length} input(s).", $"{given.Length} input(s)"))
        else
            List.zip expected given
            |> List.mapi (fun i (e, g) -> i, e.Shape, g)
            |> List.tryFind (fun (_, e, g) -> e.Length <> g.Length || not (List.forall2 Shape.dimsCompatible e g))
            |> function
                | Some(i, e, g) ->
                    Error(
                        IncompatibleInput(
                            modelName,
                            i,
                            $"expected shape={Shape.format e}, found shape={Shape.format g}"
                        )
                    )
                | None -> Ok()

    /// Where a tensor's value lives while a graph runs: its node and output index.
    let private slotOf (t: KerasTensor) = struct (t.Node.Id, t.Index)

    /// Runs the graph's shape rules on new input specs (a nested model called on other tensors).
    let private inferOutputs
        (nodes: Node list)
        (inputs: KerasTensor list)
        (outputs: KerasTensor list)
        (given: TensorSpec list)
        =
        let specs = Dictionary<struct (int64 * int), TensorSpec>()

        for t, spec in List.zip inputs given do
            specs[slotOf t] <- spec

        let rec run (remaining: Node list) =
            match remaining with
            | [] -> Ok()
            | node :: rest when isInputNode node -> run rest
            | node :: rest ->
                match Layer.outputSpecs node.Layer (node.Inputs |> List.map (fun t -> specs[slotOf t])) with
                | Error e -> Error e
                | Ok outs ->
                    outs |> List.iteri (fun i spec -> specs[struct (node.Id, i)] <- spec)
                    run rest

        run nodes
        |> Result.map (fun () -> outputs |> List.map (fun t -> specs[slotOf t]))

    /// Runs the graph on concrete tensors in topological order, carrying Keras masks alongside the values and
    /// passing activity losses to <paramref name="addLoss"/>.
    let private execute
        (nodes: Node list)
        (inputs: KerasTensor list)
        (outputs: KerasTensor list)
        (training: bool)
        (addLoss: torch.Tensor -> unit)
        (values: torch.Tensor list)
        (masks: torch.Tensor option list)
        =
        let slots = Dictionary<struct (int64 * int), torch.Tensor>()
        let maskSlots = Dictionary<struct (int64 * int), torch.Tensor>()

        let maskOf (t: KerasTensor) =
            match maskSlots.TryGetValue(slotOf t) with
            | true, m -> Some m
            | _ -> None

        List.zip inputs values |> List.iter (fun (t, v) -> slots[slotOf t] <- v)

        List.zip (List.truncate masks.Length inputs) masks
        |> List.iter (fun (t, m) -> m |> Option.iter (fun m -> maskSlots[slotOf t] <- m))

        for node in nodes do
            if not (isInputNode node) then
                let ins = node.Inputs |> List.map (fun t -> slots[slotOf t])
                let inMasks = node.Inputs |> List.map maskOf

                let outs =
                    Layer.invoke node.Layer (fun () -> Layer.contextFor node.Layer training inMasks addLoss ins) ins

                outs |> List.iteri (fun i v -> slots[struct (node.Id, i)] <- v)

                node.Layer.Spec.ComputeMask ins inMasks
                |> List.iteri (fun i m -> m |> Option.iter (fun m -> maskSlots[struct (node.Id, i)] <- m))

        outputs |> List.map (fun t -> slots[slotOf t])

    /// <summary>Builds a model from its inputs and outputs, validating the graph: every input made by <c>Input</c>,
    /// every output reachable from the inputs, every input used, layer names unique.</summary>
    /// <exception cref="KerasException">When the graph is invalid; the message says how, in Keras's words.</exception>
    let create
        (inputs: KerasTensor list)
        (outputs: KerasTensor list)
        (structure: OutputStructure)
        (name: string option)
        : Model =
        let modelName =
            match name with
            | Some n when not (System.String.IsNullOrWhiteSpace n) -> n
            | _ -> Ids.uniqueName "functional"

        if outputs.IsEmpty then
            Errors.raiseKeras (InvalidArgument(modelName, "outputs", "A model needs at least one output.", "[]"))

        for t in inputs do
            if not (isInputNode t.Node) then
                Errors.raiseKeras (NotAnInput(modelName, string t))

        let nodes, layers = mapGraph modelName inputs outputs
        let nodeIds = nodes |> List.map _.Id |> HashSet

        for t in inputs do
            if not (nodeIds.Contains t.Node.Id) then
                Errors.raiseKeras (InputNotReached(modelName, t.Node.Layer.Name))

        validateNames layers

        match structure with
        | OutputDict names when names.Length <> outputs.Length || (List.distinct names).Length <> names.Length ->
            Errors.raiseKeras (
                InvalidArgument(modelName, "outputs", "Output names must be unique, one per output.", string names)
            )
        | _ -> ()

        let spec: LayerSpec =
            {
                ClassName = "Functional"
                Config = fun () -> System.Text.Json.Nodes.JsonObject()
                InputSpecs = []
                ComputeOutput =
                    fun layerName given ->
                        checkCallInputs layerName inputs (given |> List.map _.Shape)
                        |> Result.bind (fun () -> inferOutputs nodes inputs outputs given)
                Build = fun _ -> { Weights = []; InputSpecs = [] }
                Call = fun ctx values -> execute nodes inputs outputs ctx.Training ctx.AddLoss values ctx.Masks
                SubLayers = fun () -> layers
                // Masks stay inside a nested model: its outputs carry none.
                ComputeMask = fun _ _ -> []
                RegularizationLosses = fun _ -> []
            }

        let model =
            {
                Name = modelName
                Inputs = inputs
                Outputs = outputs
                Structure = structure
                Nodes = nodes
                Layers = layers
                AsLayer = Layer.create (Some modelName) spec
            }

        ofLayerTable.AddOrUpdate(model.AsLayer.Identity, model)
        model

    /// <summary>A model with one input and one output.</summary>
    let ofSingle (input: KerasTensor) (output: KerasTensor) (name: string option) =
        create [ input ] [ output ] SingleOutput name

    /// The names of the model's inputs (the names of their input layers).
    let inputNames (model: Model) =
        model.Inputs |> List.map _.Node.Layer.Name

    /// The names of the outputs: the dict keys, or the names of the layers that produce them.
    let outputNames (model: Model) =
        match model.Structure with
        | OutputDict names -> names
        | _ -> model.Outputs |> List.map _.Node.Layer.Name

    /// Every weight of the model, trainable first, each shared weight once.
    let weights (model: Model) =
        Weights.ofLayers model.Layers |> Weights.ordered

    /// <summary>The trainable weights (Keras's <c>model.trainable_weights</c>): those <c>fit</c> updates. None when the
    /// model is frozen; frozen layers' weights are left out.</summary>
    let trainableWeights (model: Model) = Weights.trainableOf model.AsLayer

    /// <summary>The non-trainable weights (Keras's <c>model.non_trainable_weights</c>): BatchNormalization's moving
    /// statistics and every weight of frozen layers (all weights when the model itself is frozen).</summary>
    let nonTrainableWeights (model: Model) = Weights.nonTrainableOf model.AsLayer

    /// <summary>Keras's <c>model.trainable</c>.</summary>
    let isTrainable (model: Model) = Layer.isTrainable model.AsLayer

    /// <summary>Keras's <c>model.trainable = value</c>: freezes (false) or unfreezes (true) the model and every layer it
    /// holds, nested models included (see <c>Layer.setTrainable</c>). Compile again for <c>fit</c> to follow the change.</summary>
    let setTrainable (value: bool) (model: Model) = Layer.setTrainable value model.AsLayer

    /// Number of scalars in all weights of the model (Keras's <c>count_params</c>).
    let countParams (model: Model) = weights model |> Weights.count

    /// <summary>The layer with this name.</summary>
    /// <exception cref="KerasException">When the model has no such layer.</exception>
    let getLayer (model: Model) (name: string) =
        match model.Layers |> List.tryFind (fun l -> l.Name = name) with
        | Some layer -> layer
        | None -> Errors.raiseKeras (UnknownName(model.Name, "layer", name, model.Layers |> List.map _.Name))

    /// <summary>The output tensor of a layer's call inside this model, for building a feature-extraction model
    /// from intermediate outputs.</summary>
    let layerOutput (model: Model) (layerName: string) =
        let layer = getLayer model layerName
        // An input layer's output is the model's input itself (Keras: `model.layers[0].output is model.inputs[0]`).
        match model.Inputs |> List.tryFind (fun t -> t.Node.Layer = layer) with
        | Some input -> input
        | None ->
            // Keras's `layer.output` is the output of the layer's first call; here, its first call in this model.
            let node = model.Nodes |> List.find (fun n -> n.Layer = layer)
            Layer.outputsOf node |> List.head

    /// Calls the model on symbolic tensors, like a layer: the result reuses the model's weights.
    let callMany (model: Model) (inputs: KerasTensor list) = Layer.callMany model.AsLayer inputs

    /// Calls a one-input, one-output model on a symbolic tensor.
    let call (model: Model) (input: KerasTensor) = Layer.call model.AsLayer input

    /// Casts data to the dtype of the model input it feeds and checks its shape against that input.
    let internal prepare (model: Model) (values: torch.Tensor list) =
        Native.NativeLoader.ensureLoaded ()
        // Data may hold any number of rows (fit and predict slice them into batches): the batch axis is not checked here.
        let anyRows (t: KerasTensor) =
            { t with
                Spec =
                    { t.Spec with
                        Shape = None :: List.tail t.Shape
                    }
            }

        let values = List.zip model.Inputs values |> List.map (fun (input, v) -> StringInputs.adapt model.Name input v)

        checkCallInputs
            model.Name
            (model.Inputs |> List.map anyRows)
            (Layer.specsFor model.Name values |> List.map _.Shape)
        |> Errors.orRaise

        List.zip model.Inputs values
        |> List.map (fun (input, v) ->
            let wanted = DType.toTorch input.DType
            if v.dtype = wanted then v else v.to_type wanted)

    /// <summary>Runs the model eagerly on concrete tensors, one per input; <paramref name="training"/> switches
    /// Dropout (and later BatchNormalization) to training behaviour. Gradients are recorded.</summary>
    let callEager (model: Model) (training: bool) (values: torch.Tensor list) =
        // As Layer.callEager: intermediate tensors stay reachable during the call and are disposed after it.
        use scope = torch.NewDisposeScope()

        execute model.Nodes model.Inputs model.Outputs training ignore (prepare model values) []
        |> List.map (fun output -> scope.MoveToOuter(output.alias ()))

    /// <summary>Runs the model on concrete tensors and collects the activity losses its layers add; the training step
    /// uses it. Inputs must already have the inputs' dtypes.</summary>
    let internal forwardWithLosses (model: Model) (training: bool) (values: torch.Tensor list) =
        let losses = List<torch.Tensor>()

        let outputs =
            execute model.Nodes model.Inputs model.Outputs training losses.Add values []

        outputs, List.ofSeq losses

    /// <summary>Predicts in batches of <paramref name="batchSize"/> in inference mode, without gradients, and returns
    /// one tensor per output with all rows.</summary>
    let predictMany (model: Model) (batchSize: int) (values: torch.Tensor list) : torch.Tensor list =
        if batchSize <= 0 then
            Errors.raiseKeras (
                InvalidArgument(model.Name, "batch_size", "Expected a positive integer.", string batchSize)
            )

        let given = values
        let values = prepare model values

        // Dtype conversions made here are released when predict returns, not left to the finalizer.
        use _converted =
            { new System.IDisposable with
                member _.Dispose() =
                    for v in values do
                        if not (given |> List.exists (fun g -> obj.ReferenceEquals(g, v))) then
                            v.Dispose()
            }

        let rows = values |> List.map (fun v -> v.size(0)) |> List.distinct

        match rows with
        | [ 0L ] ->
            // Keras returns an empty batch of the outputs' shapes.
            let specs =
                inferOutputs model.Nodes model.Inputs model.Outputs (Layer.specsFor model.Name values)
                |> Errors.orRaise

            specs
            |> List.map (fun spec ->
                let dims = spec.Shape |> List.map (fun d -> int64 (defaultArg d 0)) |> Array.ofList
                torch.empty (Array.append [| 0L |] dims[1..], dtype = DType.toTorch spec.DType))
        | [ n ] ->
            use _ = torch.no_grad ()
            // The weights cannot change during predict: tensors derived from them are made once (DerivedWeights).
            use _derived = DerivedWeights.keep ()

            let batches =
                [
                    for start in 0L .. int64 batchSize .. n - 1L -> start, min (int64 batchSize) (n - start)
                ]

            let parts =
                batches
                |> List.map (fun (start, len) ->
                    use scope = torch.NewDisposeScope()

                    let outs =
                        execute
                            model.Nodes
                            model.Inputs
                            model.Outputs
                            false
                            ignore
                            (values |> List.map (fun v -> v.narrow (0L, start, len)))
                            []

                    // An output made in this batch leaves the scope as it is (nothing records gradients here);
                    // anything else (an input or a weight passed through) leaves as a detached alias, so that
                    // disposing the batch pieces below never frees a tensor the caller or the model owns.
                    outs
                    |> List.map (fun o ->
                        if scope.Contains o then
                            scope.MoveToOuter o
                        else
                            scope.MoveToOuter(o.detach ())))

            model.Outputs
            |> List.mapi (fun i _ ->
                let pieces = parts |> List.map (fun p -> p[i]) |> Array.ofList
                let all = torch.cat (pieces, 0L)

                for p in pieces do
                    p.Dispose()

                all)
        | _ ->
            Errors.raiseKeras (
                DataMismatch(
                    model.Name,
                    "All inputs must have the same number of rows.",
                    rows |> List.map string |> String.concat ", "
                )
            )

    /// Predicts for a one-input, one-output model in batches of 32, as Keras's default.
    let predict (model: Model) (x: torch.Tensor) = predictMany model 32 [ x ] |> List.head

    /// <summary>Predicts from inputs named by their <c>Input</c> names; returns outputs keyed by output name.</summary>
    /// <exception cref="KerasException">When a name is missing or unknown.</exception>
    let predictNamed (model: Model) (batchSize: int) (values: IReadOnlyDictionary<string, torch.Tensor>) =
        let names = inputNames model

        for KeyValue(k, _) in values do
            if not (List.contains k names) then
                Errors.raiseKeras (UnknownName(model.Name, "input", k, names))

        let ordered =
            names
            |> List.map (fun n ->
                match values.TryGetValue n with
                | true, v -> v
                | _ ->
                    Errors.raiseKeras (
                        DataMismatch(model.Name, $"Missing data for input '{n}'.", String.concat ", " values.Keys)
                    ))

        List.zip (outputNames model) (predictMany model batchSize ordered) |> dict
