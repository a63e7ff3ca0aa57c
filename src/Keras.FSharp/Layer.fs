namespace Keras

open System.Text.Json.Nodes
open TorchSharp

/// Checking Keras input specs, with Keras's messages.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module InputSpec =
    /// A spec that accepts anything.
    let any =
        {
            NDim = None
            MinNDim = None
            MaxNDim = None
            Axes = []
        }

    /// Checks one input; the error text is Keras's.
    let check (layerName: string) (index: int) (spec: InputSpec) (shape: Shape) =
        let rank = Shape.rank shape
        let full = Shape.format shape

        let fail detail =
            Error(IncompatibleInput(layerName, index, detail))

        let rankProblem =
            [
                spec.NDim
                |> Option.filter (fun n -> n <> rank)
                |> Option.map (fun n -> $"expected ndim={n}, found ndim={rank}. Full shape received: {full}")
                spec.MinNDim
                |> Option.filter (fun n -> rank < n)
                |> Option.map (fun n -> $"expected min_ndim={n}, found ndim={rank}. Full shape received: {full}")
                spec.MaxNDim
                |> Option.filter (fun n -> rank > n)
                |> Option.map (fun n -> $"expected max_ndim={n}, found ndim={rank}. Full shape received: {full}")
            ]
            |> List.tryPick id

        match rankProblem with
        | Some detail -> fail detail
        | None ->
            let axisProblem =
                spec.Axes
                |> List.tryFind (fun (axis, value) ->
                    let a = Shape.normalizeAxis rank axis

                    a < 0
                    || a >= rank
                    || (match shape[a] with
                        | Some d -> d <> value
                        | None -> false))

            match axisProblem with
            | Some(axis, value) ->
                fail $"expected axis {axis} of input shape to have value {value}, but received input with shape {full}"
            | None -> Ok()

    /// The one input of a single-input layer, or Keras's error.
    let single layerName className (inputs: TensorSpec list) =
        match inputs with
        | [ x ] -> Ok x
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    className,
                    $"A `{className}` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    /// Checks every input against the specs: one spec applies to all inputs, otherwise they pair up.
    let checkAll (layerName: string) (specs: InputSpec list) (shapes: Shape list) =
        let pairs =
            match specs with
            | [] -> []
            | [ single ] -> shapes |> List.mapi (fun i s -> i, single, s)
            | many ->
                List.zip (List.truncate shapes.Length many) (List.truncate many.Length shapes)
                |> List.mapi (fun i (sp, s) -> i, sp, s)

        pairs
        |> List.fold (fun acc (i, spec, shape) -> acc |> Result.bind (fun () -> check layerName i spec shape)) (Ok())

/// Creating layers, calling them on symbolic or concrete tensors, and reading their weights.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Layer =
    /// <summary>Makes a layer with a fresh identity. Without a name it gets Keras's automatic one, the snake_case
    /// class name numbered per process: "dense", "dense_1", ...</summary>
    let create (name: string option) (spec: LayerSpec) =
        {
            Identity = LayerIdentity(Ids.next ())
            Name =
                match name with
                | Some n when not (System.String.IsNullOrWhiteSpace n) -> n
                | _ -> Ids.uniqueName (Ids.snakeCase spec.ClassName)
            Spec = spec
        }

    /// A spec with Keras's defaults for everything but the class name and forward function: no weights,
    /// no input rules, and output specs equal to the input specs.
    let simpleSpec (className: string) (call: CallContext -> torch.Tensor list -> torch.Tensor list) : LayerSpec =
        {
            ClassName = className
            Config = fun () -> JsonObject()
            InputSpecs = []
            ComputeOutput = fun _ inputs -> Ok inputs
            Build = fun _ -> { Weights = []; InputSpecs = [] }
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses = fun _ -> []
        }

    /// A mask rule for layers that keep the time axis: the first input's mask passes through unchanged.
    let passMask (_: torch.Tensor list) (masks: torch.Tensor option list) =
        [ List.tryHead masks |> Option.flatten ]

    let private checkInputs (layer: Layer) (specs: TensorSpec list) =
        let shapes = specs |> List.map _.Shape

        let builtSpecs =
            match Weights.tryState layer with
            | Some state -> state.InputSpecs
            | None -> []

        InputSpec.checkAll layer.Name layer.Spec.InputSpecs shapes
        |> Result.bind (fun () -> InputSpec.checkAll layer.Name builtSpecs shapes)

    /// <summary>Strings reach only the layers that read them (<see cref="StringTensor.acceptsStrings"/>): any other
    /// layer given a string tensor fails here, naming the layer, as Keras fails on a string input to a numeric op.</summary>
    let private checkNoStrings (layer: Layer) (inputs: TensorSpec list) =
        if StringTensor.acceptsStrings layer.Spec.ClassName then
            Ok()
        else
            match inputs |> List.tryFindIndex (fun s -> s.DType = String) with
            | Some i ->
                Error(
                    IncompatibleInput(
                        layer.Name,
                        i,
                        $"expected a numeric tensor, but received a string tensor (dtype=string) with shape {Shape.format inputs[i].Shape}. Only string layers (StringLookup, Hashing, TextVectorization) take strings."
                    )
                )
            | None -> Ok()

    /// The output specs of a call on inputs with these specs, after checking the inputs.
    let outputSpecs (layer: Layer) (inputs: TensorSpec list) =
        checkNoStrings layer inputs
        |> Result.bind (fun () -> checkInputs layer inputs)
        |> Result.bind (fun () -> layer.Spec.ComputeOutput layer.Name inputs)

    /// Symbolic tensors for the outputs of a node.
    let internal outputsOf (node: Node) =
        node.Outputs
        |> List.mapi (fun i spec ->
            let id = Ids.next ()

            {
                Id = id
                Name = $"keras_tensor_{id}"
                Spec = spec
                Node = node
                Index = i
            })

    /// Records a call of the layer on these inputs, whose output specs are already known.
    let internal addNode (layer: Layer) (inputs: KerasTensor list) (outputs: TensorSpec list) =
        {
            Id = Ids.next ()
            Layer = layer
            Inputs = inputs
            Outputs = outputs
            NodeIndex = layer.Identity.NextNodeIndex()
        }

    /// The symbolic inputs and outputs of each layer's first call (Keras's <c>layer.input</c> / <c>layer.output</c>).
    let private firstCalls =
        System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, KerasTensor list * KerasTensor list>()

    /// <summary>Records a call of the layer (see <see cref="addNode"/>) and returns its symbolic outputs; the first call
    /// of a layer is kept for <c>Layer.inputs</c> and <c>Layer.outputs</c>.</summary>
    let internal record (layer: Layer) (inputs: KerasTensor list) (outputs: TensorSpec list) =
        let tensors = addNode layer inputs outputs |> outputsOf
        firstCalls.TryAdd(layer.Identity, (inputs, tensors)) |> ignore
        tensors

    let private firstCall (layer: Layer) (what: string) =
        match firstCalls.TryGetValue layer.Identity with
        | true, call -> call
        | _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    layer.Name,
                    what,
                    $"The layer {layer.Name} has never been called and thus has no defined {what}.",
                    "no inbound nodes"
                )
            )

    /// <summary>Keras's <c>layer.input</c>: the symbolic input tensors of the layer's first call (for an input layer,
    /// the tensor it makes).</summary>
    /// <exception cref="KerasException">When the layer was never called on symbolic tensors.</exception>
    let inputs (layer: Layer) : KerasTensor list =
        match firstCall layer "input" with
        | [], outputs -> outputs
        | inputs, _ -> inputs

    /// <summary>Keras's <c>layer.output</c>: the symbolic output tensors of the layer's first call, e.g. to build a
    /// feature-extraction model from a trained model's layers.</summary>
    /// <exception cref="KerasException">When the layer was never called on symbolic tensors.</exception>
    let outputs (layer: Layer) : KerasTensor list = firstCall layer "output" |> snd

    let private single (layer: Layer) (what: string) (tensors: KerasTensor list) =
        match tensors with
        | [ one ] -> one
        | many ->
            Errors.raiseKeras (
                InvalidArgument(
                    layer.Name,
                    what,
                    $"Expected one {what} tensor: use Layer.{what}s for every {what} of the first call.",
                    $"{many.Length} {what}s"
                )
            )

    /// <summary>Keras's <c>layer.input</c> for a layer whose first call took one tensor.</summary>
    /// <exception cref="KerasException">When the layer was never called, or its first call took several inputs (use
    /// <see cref="inputs"/>).</exception>
    let input (layer: Layer) : KerasTensor = inputs layer |> single layer "input"

    /// <summary>Keras's <c>layer.output</c> for a layer with one output: the output of its first call.</summary>
    /// <exception cref="KerasException">When the layer was never called, or has several outputs (use
    /// <see cref="outputs"/>).</exception>
    let output (layer: Layer) : KerasTensor = outputs layer |> single layer "output"

    /// <summary>Calls the layer on symbolic tensors: checks the inputs, infers the outputs, builds the weights on
    /// the first call, and records the call. Calling the same layer again makes a new node sharing the weights.</summary>
    /// <exception cref="KerasException">When the inputs do not fit the layer.</exception>
    let callMany (layer: Layer) (inputs: KerasTensor list) : KerasTensor list =
        let specs = inputs |> List.map _.Spec
        let outputs = outputSpecs layer specs |> Errors.orRaise
        Weights.ensureBuilt layer specs |> ignore
        record layer inputs outputs

    /// Calls a layer with one input and one output on a symbolic tensor.
    let call (layer: Layer) (input: KerasTensor) : KerasTensor =
        match callMany layer [ input ] with
        | [ output ] -> output
        | outputs ->
            Errors.raiseKeras (
                InvalidArgument(
                    layer.Name,
                    "outputs",
                    "The layer returns several outputs; use Layer.callMany.",
                    string outputs.Length
                )
            )

    /// <summary>The specs of concrete tensors given to <paramref name="owner"/> (a layer or model), every dimension
    /// known.</summary>
    /// <exception cref="KerasException">When a dimension is too large for a <see cref="Shape"/>, naming the owner and
    /// the input, with the exact shape.</exception>
    let specsFor (owner: string) (tensors: torch.Tensor list) =
        tensors
        |> List.mapi (fun i (tensor: torch.Tensor) ->
            match Shape.tryOfDims tensor.Sizes with
            | Ok shape ->
                {
                    Shape = shape
                    DType =
                        if StringTensor.isString tensor then
                            String
                        else
                            DType.tryOfTorch tensor.dtype |> Option.defaultValue Float32
                }
            | Error detail -> Errors.raiseKeras (IncompatibleInput(owner, i, detail)))

    /// The specs of a concrete tensor, every dimension known.
    /// <exception cref="KerasException">When a dimension is too large for a <see cref="Shape"/>.</exception>
    let specOf (tensor: torch.Tensor) =
        specsFor "tensor" [ tensor ] |> List.head

    /// A context for calling a layer: its weights, the training flag, the input masks and where losses go.
    let internal contextFor
        (layer: Layer)
        (training: bool)
        (masks: torch.Tensor option list)
        (addLoss: torch.Tensor -> unit)
        (inputs: torch.Tensor list)
        =
        // The specs are only needed to build; the common path is a table lookup.
        let state =
            match Weights.tryState layer with
            | Some state -> state
            | None -> Weights.ensureBuilt layer (specsFor layer.Name inputs)

        {
            Training = training
            Trainable = layer.Identity.Trainable
            Weights = state.Weights
            LayerName = layer.Name
            Masks = masks
            AddLoss = addLoss
        }

    /// <summary>Runs the layer's forward function in a context made by <paramref name="context"/>; a native (libtorch)
    /// error becomes a <see cref="KerasException"/> naming the layer, the native one as its inner exception.</summary>
    let internal invoke (layer: Layer) (context: unit -> CallContext) (inputs: torch.Tensor list) =
        Errors.guardDescribed layer.Name (fun () -> $"{layer.Spec.ClassName}.call() of layer") (fun () ->
            layer.Spec.Call (context ()) inputs)

    /// Runs the forward function on concrete tensors, without checks (the graph was checked when built).
    let internal forward (layer: Layer) (training: bool) (inputs: torch.Tensor list) =
        invoke layer (fun () -> contextFor layer training [] ignore inputs) inputs

    /// <summary>Calls the layer eagerly on concrete tensors, building its weights from their shapes on the first call.</summary>
    /// <exception cref="KerasException">When the inputs do not fit the layer.</exception>
    let callEager (layer: Layer) (training: bool) (inputs: torch.Tensor list) : torch.Tensor list =
        Native.NativeLoader.ensureLoaded ()
        outputSpecs layer (specsFor layer.Name inputs) |> Errors.orRaise |> ignore
        // The forward pass's temporaries belong to a scope: reachable until the call returns (TorchSharp's finalizer
        // cannot free one while native code still reads it, when another thread collects), then disposed. The outputs
        // leave the scope as new references that keep their autograd history.
        use scope = torch.NewDisposeScope()
        forward layer training inputs |> List.map (fun output -> scope.MoveToOuter(output.alias ()))

    /// The layer's weights including those of layers it holds; empty before it is built.
    let weights (layer: Layer) =
        Weights.ofLayers [ layer ] |> Weights.ordered

    /// Number of scalars in the layer's weights (Keras's <c>count_params</c>).
    let countParams (layer: Layer) = Weights.countParams layer

    /// <summary>Keras's <c>layer.trainable</c>: false once the layer (or a model holding it) was frozen with
    /// <see cref="setTrainable"/>.</summary>
    let isTrainable (layer: Layer) = layer.Identity.Trainable

    /// <summary>Keras's <c>layer.trainable = value</c>: sets the flag of the layer and of every layer it holds (a nested
    /// model's layers, a wrapper's inner layer), and switches gradient recording of their weights declared trainable.
    /// A frozen layer's weights are left out of <see cref="trainableWeights"/>, so <c>fit</c> does not update them and
    /// <c>summary</c> counts them as non-trainable; a frozen BatchNormalization runs in inference mode even in
    /// <c>fit</c>. As in Keras, a compiled model keeps the weights it trains until it is compiled again: change
    /// <c>trainable</c>, then compile.</summary>
    /// <example><c>Layer.setTrainable false baseModel.AsLayer</c> freezes a pretrained base (Keras's
    /// <c>base_model.trainable = False</c>).</example>
    let setTrainable (value: bool) (layer: Layer) =
        for l in Weights.allLayers [ layer ] do
            l.Identity.Trainable <- value

            for w in Weights.ofLayer l do
                if w.Trainable then
                    w.Value.requires_grad <- value

    /// <summary>Keras's <c>layer.trainable_weights</c>: none when the layer is frozen, otherwise the weights declared
    /// trainable of the layer and of the unfrozen layers it holds.</summary>
    let trainableWeights (layer: Layer) = Weights.trainableOf layer

    /// <summary>Keras's <c>layer.non_trainable_weights</c>: every weight when the layer is frozen, otherwise its
    /// non-trainable weights and those of the frozen layers it holds.</summary>
    let nonTrainableWeights (layer: Layer) = Weights.nonTrainableOf layer

    /// <summary>Copies values into the layer's weights (Keras's <c>set_weights</c>), in the order of
    /// <see cref="weights"/>.</summary>
    /// <exception cref="KerasException">When the count or a shape differs.</exception>
    let setWeights (layer: Layer) (values: torch.Tensor list) =
        let current = weights layer

        if current.Length <> values.Length then
            Errors.raiseKeras (
                InvalidArgument(
                    layer.Name,
                    "weights",
                    $"Layer expects {current.Length} weights.",
                    $"{values.Length} weights"
                )
            )

        use _ = torch.no_grad ()

        for w, v in List.zip current values do
            if w.Value.Sizes <> v.Sizes then
                let expected = Shape.formatDims w.Value.Sizes
                let received = Shape.formatDims v.Sizes

                Errors.raiseKeras (
                    InvalidArgument(layer.Name, w.Name, $"Expected a weight of shape {expected}.", received)
                )

            w.Value.copy_ (v.to_type w.Value.dtype) |> ignore

    /// Copies of the layer's weight values (Keras's <c>get_weights</c>), contiguous in Keras's layout even where a
    /// weight's memory is kept in the layout libtorch computes with (convolution kernels).
    let getWeights (layer: Layer) =
        weights layer
        |> List.map (fun w ->
            use value = w.Value.detach ()

            if value.is_contiguous () then value.clone () else value.contiguous ())

    /// <summary>Keras's <c>get_config</c>: name, trainable, dtype (the policy's name, as Keras 3.1.1 writes it) and the
    /// layer's own entries.</summary>
    /// <exception cref="KerasException">When the layer's activation cannot be written exactly (a LeakyRelu slope other
    /// than 0.2): the error names the layer, the activation and the LeakyReLU layer to use instead.</exception>
    let getConfig (layer: Layer) =
        let config = JsonObject()
        config["name"] <- JsonValue.Create layer.Name
        config["trainable"] <- JsonValue.Create layer.Identity.Trainable
        // Keras 3.1.1 (the version stamped into metadata.json) writes `self.dtype_policy.name`; Keras 3.4+ writes a
        // serialized DTypePolicy object instead. Both are read.
        config["dtype"] <- JsonValue.Create "float32"

        let own =
            try
                layer.Spec.Config()
            with :? KerasException as e ->
                match e.Error with
                | InvalidArgument(owner, "activation", reason, received) when owner = Activation.unsavableOwner ->
                    Errors.raiseKeras (InvalidArgument(layer.Name, "activation", reason, received))
                | _ -> reraise ()

        for KeyValue(key, value) in own do
            config[key] <- (if isNull value then null else value.DeepClone())

        config

/// Building Keras config objects with Keras's serialized forms.
[<RequireQualifiedAccess>]
module Config =
    /// A config object from name/value pairs.
    let ofList (entries: (string * JsonNode) list) =
        let o = JsonObject()

        for key, value in entries do
            // A node belongs to one parent: entries reused across calls (a layer's config thunk) are copied.
            o[key] <-
                (if isNull value || isNull value.Parent then
                     value
                 else
                     value.DeepClone())

        o

    /// A JSON value.
    let value (v: 'T) : JsonNode = JsonValue.Create<'T>(v)

    /// A JSON array of ints (a shape or a kernel size).
    let ints (values: int seq) : JsonNode =
        JsonArray(values |> Seq.map (fun v -> JsonValue.Create v :> JsonNode) |> Array.ofSeq)

    /// A shape with nulls for unknown dimensions.
    let shape (shape: Shape) : JsonNode =
        JsonArray(
            shape
            |> List.map (fun d ->
                match d with
                | Some n -> JsonValue.Create n :> JsonNode
                | None -> null)
            |> Array.ofList
        )

    /// <summary>Keras serializes built-in activations by name. An activation a name cannot express exactly
    /// (<see cref="M:Keras.ActivationModule.unsavableReason"/>: a LeakyRelu slope other than 0.2) raises instead of
    /// being written lossily; <c>Layer.getConfig</c> puts the layer's name into that error.</summary>
    /// <exception cref="KerasException">For an activation that cannot be written exactly.</exception>
    let activation (a: Activation) : JsonNode =
        match Activation.unsavableReason a with
        | Some reason ->
            let received =
                match a with
                | LeakyRelu slope -> $"LeakyRelu(negative_slope={slope})"
                | other -> Activation.name other

            Errors.raiseKeras (InvalidArgument(Activation.unsavableOwner, "activation", reason, received))
        | None -> JsonValue.Create(Activation.name a)

    /// Keras's serialized initializer: module, class name and config.
    let initializer (init: Initializer) : JsonNode =
        let config =
            match init with
            | Constant v -> ofList [ "value", value v ]
            | RandomNormal(mean, stddev) -> ofList [ "mean", value mean; "stddev", value stddev; "seed", null ]
            | RandomUniform(lo, hi) -> ofList [ "minval", value lo; "maxval", value hi; "seed", null ]
            | Orthogonal gain -> ofList [ "gain", value gain; "seed", null ]
            | Zeros
            | Ones -> ofList []
            | _ -> ofList [ "seed", null ]

        ofList
            [
                "module", value "keras.initializers"
                "class_name", value (Initializer.className init)
                "config", config
                "registered_name", null
            ]
