namespace Keras

open System
open System.Collections.Generic
open System.Text.Json.Nodes

/// <summary><c>Model.getConfig</c> and <c>Model.fromConfig</c>: Keras 3's functional model config (<c>model.get_config()</c>,
/// <c>keras.Model.from_config(config, custom_objects)</c>).</summary>
[<AutoOpen>]
module ModelConfigExtensions =
    let private entry = ConfigReader.entry

    let private fail (error: KerasError) : 'T = Errors.raiseKeras error

    let private triple (name: string) (node: int) (tensor: int) : JsonNode =
        JsonArray(
            [|
                JsonValue.Create name :> JsonNode
                JsonValue.Create node
                JsonValue.Create tensor
            |]
        )

    /// Models rebuilt from a Sequential config: they are written back as Sequential, as Keras does.
    let private sequentialModels =
        System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, obj>()

    /// The dtype policy of a model's config as Keras 3.1.1 writes it: its name (Keras 3.4+ writes a DTypePolicy object).
    let private float32Policy () : JsonNode = Config.value "float32"

    /// Keras's serialized functional model.
    [<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
    module Model =
        /// <summary>Whether the model is a Sequential model (rebuilt from a Sequential config): its config is then
        /// Keras's Sequential config and its serialized class "Sequential".</summary>
        let isSequential (model: Model) =
            fst (sequentialModels.TryGetValue model.AsLayer.Identity)

        /// <summary>Keras 3's Sequential config: <c>name</c>, <c>trainable</c>, <c>dtype</c>, <c>layers</c> (the
        /// InputLayer, then each layer serialized with its <c>build_config</c>) and <c>build_input_shape</c>.</summary>
        let private sequentialConfig (model: Model) (serializeNested: Model -> Layer -> JsonObject) : JsonObject =
            let layers =
                model.Layers
                |> List.map (fun layer ->
                    let call =
                        model.Nodes |> List.tryFind (fun n -> n.Layer = layer && not n.Inputs.IsEmpty)

                    let buildShapes = call |> Option.map (fun n -> n.Inputs |> List.map _.Shape)

                    match Model.tryOfLayer layer with
                    | Some inner -> serializeNested inner layer :> JsonNode
                    | None -> LayerSerialization.serialize layer buildShapes :> JsonNode)

            Config.ofList
                [
                    "name", Config.value model.Name
                    "trainable", Config.value true
                    "dtype", float32Policy ()
                    "layers", JsonArray(Array.ofList layers)
                    "build_input_shape", Config.shape model.Inputs.Head.Shape
                ]

        /// <summary>Keras 3's config of a functional model: <c>name</c>, <c>trainable</c>, <c>layers</c> (each serialized
        /// with its <c>build_config</c>, <c>name</c> and <c>inbound_nodes</c>, whose arguments are <c>__keras_tensor__</c>
        /// entries with <c>keras_history: [layer name, node index, tensor index]</c>), <c>input_layers</c> and
        /// <c>output_layers</c>. Node indexes count only the calls that belong to this model, in call order, as Keras
        /// renumbers them. Custom layers are written with their class and registered names and their config.</summary>
        /// <remarks>
        /// A nested functional model is written as Keras writes it: class "Functional" with its own config, its calls
        /// numbered from 1 (Keras's models start with a node of their own).</remarks>
        let rec getConfig (model: Model) : JsonObject =
            if isSequential model then
                sequentialConfig model serializeNested
            else
                functionalConfig model

        /// A nested model as Keras serializes it inside another model's config.
        and private serializeNested (inner: Model) (layer: Layer) : JsonObject =
            let nested = JsonObject()

            if isSequential inner then
                nested["module"] <- JsonValue.Create "keras"
                nested["class_name"] <- JsonValue.Create "Sequential"
            else
                nested["module"] <- JsonValue.Create "keras.src.models.functional"
                nested["class_name"] <- JsonValue.Create "Functional"

            let innerConfig = getConfig inner
            innerConfig["name"] <- JsonValue.Create layer.Name
            nested["config"] <- innerConfig

            nested["registered_name"] <-
                (if isSequential inner then
                     null
                 else
                     JsonValue.Create "Functional")

            nested

        and private functionalConfig (model: Model) : JsonObject =
            // Keras renumbers each layer's calls, keeping those inside the model.
            let localIndex = Dictionary<int64, int>()
            let nodesOf = Dictionary<int64, Node list>()

            for layer in model.Layers do
                let nodes =
                    model.Nodes |> List.filter (fun n -> n.Layer = layer) |> List.sortBy _.NodeIndex

                nodesOf[layer.Identity.Id] <- nodes
                nodes |> List.iteri (fun i n -> localIndex[n.Id] <- i)

            let history (t: KerasTensor) =
                let offset = if (Model.tryOfLayer t.Node.Layer).IsSome then 1 else 0

                triple t.Node.Layer.Name (localIndex[t.Node.Id] + offset) t.Index

            let tensorConfig (t: KerasTensor) : JsonNode =
                Config.ofList
                    [
                        "class_name", Config.value "__keras_tensor__"
                        "config",
                        Config.ofList
                            [
                                "shape", Config.shape t.Shape
                                "dtype", Config.value (DType.name t.DType)
                                "keras_history", history t
                            ]
                    ]

            let nodeConfig (node: Node) : JsonNode =
                match node.Inputs with
                // Recurrent layers (issue 13): extra inputs are Keras's `initial_state=[...]` keyword argument.
                | sequence :: states when
                    not states.IsEmpty
                    && RecurrentDriver.initialStateClasses.Contains node.Layer.ClassName
                    ->
                    let kwargs = JsonObject()
                    kwargs["initial_state"] <- JsonArray(states |> List.map tensorConfig |> Array.ofList)
                    Config.ofList [ "args", JsonArray([| tensorConfig sequence |]); "kwargs", kwargs ]
                | inputs ->
                    let args =
                        match inputs with
                        | [ single ] -> JsonArray([| tensorConfig single |])
                        | many -> JsonArray([| JsonArray(many |> List.map tensorConfig |> Array.ofList) :> JsonNode |])

                    Config.ofList [ "args", args; "kwargs", JsonObject() ]

            let layers =
                model.Layers
                |> List.map (fun layer ->
                    let nodes = nodesOf[layer.Identity.Id]
                    let calls = nodes |> List.filter (fun n -> not n.Inputs.IsEmpty)

                    let buildShapes =
                        match calls with
                        | first :: _ -> Some(first.Inputs |> List.map _.Shape)
                        | [] -> None

                    let o =
                        match Model.tryOfLayer layer with
                        | Some inner ->
                            let nested = serializeNested inner layer

                            match buildShapes with
                            // Keras's Functional builds itself with build(None) in its constructor, so Keras writes
                            // {"input_shape": null} for it; a Sequential model is built on its input shape.
                            | Some _ when not (isSequential inner) ->
                                nested["build_config"] <- Config.ofList [ "input_shape", null ]
                            | Some [ single ] ->
                                nested["build_config"] <- Config.ofList [ "input_shape", Config.shape single ]
                            | _ -> ()

                            nested
                        | None -> LayerSerialization.serialize layer buildShapes

                    o["name"] <- JsonValue.Create layer.Name

                    let writeNode =
                        match TFOpLayers.tryCall layer with
                        // Op layers: tf.keras 2's node format, which carries the op's arguments.
                        | Some call -> fun (n: Node) -> OpLayerNodes.write call (n.Inputs |> List.map history)
                        | None -> nodeConfig

                    o["inbound_nodes"] <- JsonArray(calls |> List.map writeNode |> Array.ofList)
                    o :> JsonNode)

            // Keras 3.1.1 writes a single input or output as a list of one [name, node, tensor] (Keras 3.4+ writes
            // the bare triple, which Keras 3.1.1's reader cannot read); both are read back.
            let inputs: JsonNode = JsonArray(model.Inputs |> List.map history |> Array.ofList)

            let outputs: JsonNode =
                match model.Structure, model.Outputs with
                | OutputDict names, outs ->
                    let o = JsonObject()

                    for n, t in List.zip names outs do
                        o[n] <- history t

                    o
                | _, outs -> JsonArray(outs |> List.map history |> Array.ofList)

            Config.ofList
                [
                    "name", Config.value model.Name
                    "trainable", Config.value (Model.isTrainable model)
                    "layers", JsonArray(Array.ofList layers)
                    "input_layers", inputs
                    "output_layers", outputs
                ]

        let private str = ConfigReader.str

        let private isTriple (node: JsonNode) =
            match node with
            | :? JsonArray as a -> a.Count = 3 && not (isNull (str a[0]))
            | _ -> false

        let private parseTriple (node: JsonNode) =
            let a = node.AsArray()
            str a[0], a[1].GetValue<int>(), a[2].GetValue<int>()

        /// The (layer, node, tensor) references of a node's arguments: Keras 3's <c>{"args", "kwargs"}</c> or the legacy list form.
        let private nodeInputs (owner: string) (node: JsonNode) =
            let rec tensors (n: JsonNode) =
                match n with
                | :? JsonObject as o when str (entry o "class_name") = "__keras_tensor__" ->
                    let cfg = entry o "config" :?> JsonObject
                    [ parseTriple (entry cfg "keras_history") ]
                | :? JsonArray as a -> a |> Seq.collect tensors |> List.ofSeq
                | null -> []
                | other ->
                    fail (
                        InvalidArgument(
                            owner,
                            "inbound_nodes",
                            "Only tensors can be rebuilt as call arguments.",
                            other.ToJsonString()
                        )
                    )

            match node with
            | :? JsonObject as o ->
                let mutable initialState = []

                match entry o "kwargs" with
                | :? JsonObject as kw ->
                    // Keras 3 records call options: null masks and the training flag (this library decides
                    // training from the call, as Keras does when the flag is the default) are accepted.
                    for KeyValue(key, value) in kw do
                        // A recurrent layer's `initial_state=[...]` (issue 13): its tensors follow the sequence input.
                        if key = "initial_state" && not (isNull value) then
                            initialState <- tensors value

                        let harmless =
                            key = "initial_state"
                            || isNull value
                            || (key = "training"
                                && (match value with
                                    | :? JsonValue as v -> v.TryGetValue<bool>() |> fst
                                    | _ -> false))

                        if not harmless then
                            fail (
                                InvalidArgument(
                                    owner,
                                    "inbound_nodes",
                                    $"The keyword argument `{key}` of a layer call cannot be rebuilt (only null values and `training` are supported).",
                                    kw.ToJsonString()
                                )
                            )
                | _ -> ()

                tensors (entry o "args") @ initialState
            | :? JsonArray as legacy ->
                legacy
                |> Seq.map (fun item ->
                    parseTriple (
                        JsonArray(
                            item.AsArray()
                            |> Seq.truncate 3
                            |> Seq.map (fun x -> x.DeepClone())
                            |> Array.ofSeq
                        )
                    ))
                |> List.ofSeq
            | _ ->
                fail (
                    InvalidArgument(
                        owner,
                        "inbound_nodes",
                        "Unreadable node.",
                        (if isNull node then "None" else node.ToJsonString())
                    )
                )

        /// <summary>Keras's <c>Model.from_config(config, custom_objects)</c>: creates every layer first (custom classes from
        /// <paramref name="customObjects"/> — may be <c>CustomObjects.none</c> — then the global registry), then replays their
        /// calls in order, so shared layers and nested models come back with their nodes. The new layers have fresh weights.</summary>
        /// <exception cref="KerasException">When a class is unknown, a Lambda function is anonymous or unregistered, or the
        /// graph cannot be replayed.</exception>
        let rec internal functionalFromConfig
            (config: JsonObject)
            (customObjects: IDictionary<string, CustomObject>)
            : Model =
            let modelName = str (entry config "name")
            let owner = if isNull modelName then "functional" else modelName

            let layerData =
                match entry config "layers" with
                | :? JsonArray as a -> a |> Seq.map (fun n -> n.AsObject()) |> List.ofSeq
                | _ ->
                    fail (
                        InvalidArgument(
                            owner,
                            "layers",
                            "A functional config needs a list of layers.",
                            config.ToJsonString()
                        )
                    )

            let created = Dictionary<string, Layer>()
            let isModel = HashSet<string>()
            let produced = Dictionary<string, ResizeArray<KerasTensor list>>()
            let pending = Dictionary<string, Queue<JsonNode>>()
            let opLayers = Dictionary<string, string * string>()

            for data in layerData do
                let className = str (entry data "class_name")
                let layerConfig = entry data "config"

                let name =
                    match str (entry data "name") with
                    | null ->
                        match layerConfig with
                        | :? JsonObject as c -> str (entry c "name")
                        | _ -> null
                    | n -> n

                if isNull name then
                    fail (InvalidArgument(owner, "layers", "Every layer entry needs a name.", data.ToJsonString()))

                if created.ContainsKey name then
                    fail (DuplicateLayerName(name, 2))

                produced[name] <- ResizeArray()

                match className with
                | "InputLayer" ->
                    let c = layerConfig.AsObject()

                    let shape =
                        match entry c "batch_shape", entry c "batch_input_shape" with
                        | (:? JsonArray as a), _
                        | null, (:? JsonArray as a) ->
                            a
                            |> Seq.map (fun d -> if isNull d then None else Some(d.GetValue<int>()))
                            |> List.ofSeq
                        | _ ->
                            fail (
                                InvalidArgument(
                                    name,
                                    "batch_shape",
                                    "An InputLayer config needs its batch shape.",
                                    c.ToJsonString()
                                )
                            )

                    let dtype = dtypeOf name (entry c "dtype")

                    let tensor = CoreLayers.input None (Some shape) dtype (Some name)
                    created[name] <- tensor.Node.Layer
                    produced[name].Add [ tensor ]
                | "Functional"
                | "Sequential"
                | "Model" when
                    isNull (str (entry data "registered_name"))
                    || str (entry data "registered_name") = className
                    ->
                    let inner = fromSerialized data customObjects

                    created[name] <-
                        (if inner.Name = name then
                             inner.AsLayer
                         else
                             CustomLayer.WithName(inner.AsLayer, name))

                    isModel.Add name |> ignore
                | op when OpLayerNodes.isOpClass op ->
                    // Op layers are made from their node (which holds the op's arguments) when it is replayed.
                    let fn =
                        match layerConfig with
                        | :? JsonObject as c -> str (entry c "function")
                        | _ -> null

                    if isNull fn then
                        fail (
                            InvalidArgument(name, "function", $"A {op} config needs its function.", data.ToJsonString())
                        )

                    TFOpLayers.checkSupported name op fn
                    opLayers[name] <- (op, fn)
                | _ -> created[name] <- LayerSerialization.deserialize customObjects data

                let queue = Queue<JsonNode>()

                match entry data "inbound_nodes" with
                | :? JsonArray as nodes ->
                    for n in nodes do
                        queue.Enqueue n
                | _ -> ()

                pending[name] <- queue

            // Keras's models start with a built-in node, so their calls are numbered from 1.
            let tensorAt (layerName: string) (nodeIndex: int) (tensorIndex: int) =
                match produced.TryGetValue layerName with
                | true, outs ->
                    let i =
                        if isModel.Contains layerName then
                            nodeIndex - 1
                        else
                            nodeIndex

                    if i >= 0 && i < outs.Count && tensorIndex < outs[i].Length then
                        Some(List.item tensorIndex outs[i])
                    else
                        None
                | _ -> fail (InvalidArgument(owner, "inbound_nodes", $"Unknown layer: {layerName}", layerName))

            let mutable remaining = pending.Values |> Seq.sumBy _.Count

            while remaining > 0 do
                let mutable progressed = false

                for data in layerData do
                    let name =
                        match str (entry data "name") with
                        | null -> str (entry (entry data "config" :?> JsonObject) "name")
                        | n -> n

                    let queue = pending[name]
                    let mutable blocked = false

                    while queue.Count > 0 && not blocked do
                        let refs, opCall =
                            match opLayers.TryGetValue name with
                            | true, (_, fn) ->
                                let refs, call = OpLayerNodes.read name fn (queue.Peek())
                                refs, Some call
                            | _ -> nodeInputs name (queue.Peek()), None

                        let inputs = refs |> List.map (fun (l, n, t) -> tensorAt l n t)

                        if inputs |> List.forall Option.isSome then
                            queue.Dequeue() |> ignore

                            match opCall with
                            | Some call ->
                                let existing =
                                    match created.TryGetValue name with
                                    | true, layer -> Some layer
                                    | _ -> None

                                created[name] <- OpLayerNodes.layerFor name (fst opLayers[name]) call existing
                            | None -> ()

                            let outs = Layer.callMany created[name] (inputs |> List.map Option.get)
                            produced[name].Add outs
                            remaining <- remaining - 1
                            progressed <- true
                        else
                            blocked <- true

                if not progressed then
                    let stuck =
                        pending
                        |> Seq.filter (fun kv -> kv.Value.Count > 0)
                        |> Seq.map _.Key
                        |> String.concat ", "

                    fail (
                        InvalidArgument(
                            owner,
                            "layers",
                            "Invalid Functional model configuration. The graph of the Functional model either has loops or disconnected nodes.",
                            stuck
                        )
                    )

            let resolve (node: JsonNode) =
                let l, n, t = parseTriple node

                match tensorAt l n t with
                | Some tensor -> tensor
                | None ->
                    fail (
                        InvalidArgument(
                            owner,
                            "input_layers",
                            $"Layer {l} has no node {n} with output {t}.",
                            node.ToJsonString()
                        )
                    )

            let many (node: JsonNode) =
                if isTriple node then
                    [ resolve node ]
                else
                    node.AsArray() |> Seq.map resolve |> List.ofSeq

            let inputs = many (entry config "input_layers")

            let outputs, structure =
                match entry config "output_layers" with
                | node when isTriple node -> [ resolve node ], SingleOutput
                // Keras 3.1.1's single output (Keras's Functional unpacks a one-element output list anyway).
                | :? JsonArray as a when a.Count = 1 && isTriple a[0] -> [ resolve a[0] ], SingleOutput
                | :? JsonObject as o ->
                    let pairs = o |> Seq.map (fun kv -> kv.Key, resolve kv.Value) |> List.ofSeq
                    List.map snd pairs, OutputDict(List.map fst pairs)
                | node -> many node, OutputList

            // Keras's Functional sets `trainable` after building, recursively: a frozen model comes back frozen.
            let model = Model.create inputs outputs structure (Option.ofObj modelName)
            LayerSerialization.applyTrainable config model.AsLayer |> ignore
            model


        /// A Keras dtype entry: a name, or a DTypePolicy object whose config names it.
        and private dtypeOf (owner: string) (node: JsonNode) =
            let name =
                match node with
                | :? JsonObject as o ->
                    match entry o "config" with
                    | :? JsonObject as c -> str (entry c "name")
                    | _ -> null
                | n -> str n

            match name with
            | null -> Float32
            | d ->
                DType.tryParse d
                |> Option.defaultWith (fun () -> fail (InvalidArgument(owner, "dtype", "Unknown dtype.", d)))

        and private batchShapeOf (c: JsonObject) =
            match entry c "batch_shape", entry c "batch_input_shape" with
            | (:? JsonArray as a), _
            | _, (:? JsonArray as a) ->
                Some(
                    a
                    |> Seq.map (fun d -> if isNull d then None else Some(d.GetValue<int>()))
                    |> List.ofSeq
                )
            | _ -> None

        /// <summary>Keras's Sequential config (Keras 3 with an InputLayer or <c>build_input_shape</c>; Keras 2 with
        /// <c>batch_input_shape</c> on the first layer; Keras ≤ 2.1's bare list of layers) as a functional model over the
        /// same layers.</summary>
        and internal sequentialFromConfig
            (name: string)
            (layersNode: JsonArray)
            (buildShape: JsonNode)
            (customObjects: IDictionary<string, CustomObject>)
            : Model =
            let owner = if isNull name then "sequential" else name
            let items = layersNode |> Seq.map (fun n -> n.AsObject()) |> List.ofSeq

            let configOf (item: JsonObject) =
                match entry item "config" with
                | :? JsonObject as c -> c
                | _ -> JsonObject()

            let input, rest =
                match items with
                | first :: rest when str (entry first "class_name") = "InputLayer" ->
                    let c = configOf first

                    let shape =
                        batchShapeOf c
                        |> Option.defaultWith (fun () ->
                            fail (
                                InvalidArgument(
                                    str (entry c "name"),
                                    "batch_shape",
                                    "An InputLayer config needs its batch shape.",
                                    c.ToJsonString()
                                )
                            ))

                    CoreLayers.input
                        None
                        (Some shape)
                        (dtypeOf owner (entry c "dtype"))
                        (Option.ofObj (str (entry c "name"))),
                    rest
                | first :: _ ->
                    let c = configOf first

                    let fromBuild =
                        match buildShape with
                        | :? JsonArray as a ->
                            Some(
                                a
                                |> Seq.map (fun d -> if isNull d then None else Some(d.GetValue<int>()))
                                |> List.ofSeq
                            )
                        | _ -> None

                    match batchShapeOf c |> Option.orElse fromBuild with
                    | Some shape ->
                        let inputName =
                            match str (entry c "name") with
                            | null -> None
                            | n -> Some(n + "_input")

                        let dtype =
                            match entry c "dtype" with
                            | :? JsonValue as v when str v <> null -> dtypeOf owner v
                            | _ -> Float32

                        CoreLayers.input None (Some shape) dtype inputName, items
                    | None ->
                        fail (
                            InvalidArgument(
                                owner,
                                "layers",
                                "A Sequential config without an input shape (no InputLayer, batch_input_shape or build_input_shape) cannot be rebuilt: Keras builds such models on their first call.",
                                "[...]"
                            )
                        )
                | [] -> fail (InvalidArgument(owner, "layers", "A Sequential config needs at least one layer.", "[]"))

            let output =
                rest
                |> List.fold
                    (fun (x: KerasTensor) item ->
                        let layer =
                            match str (entry item "class_name") with
                            | "Functional"
                            | "Sequential"
                            | "Model" when isNull (str (entry item "registered_name")) ->
                                (fromSerialized item customObjects).AsLayer
                            | _ -> LayerSerialization.deserialize customObjects item

                        Layer.call layer x)
                    input

            let model = Model.create [ input ] [ output ] SingleOutput (Option.ofObj name)
            sequentialModels.AddOrUpdate(model.AsLayer.Identity, box true)
            model

        /// <summary>Keras's serialized model <c>{"class_name", "config", "registered_name", "build_config"}</c>:
        /// Functional / Model (functional configs, Keras 3 and Keras 2), Sequential (every dialect), or a registered
        /// custom (subclassed) model class, rebuilt from its factory and built on <c>build_config</c>'s input shape.</summary>
        /// <exception cref="KerasException">When the class is a subclassed model that is not registered, or the config
        /// cannot be rebuilt.</exception>
        and fromSerialized (data: JsonObject) (customObjects: IDictionary<string, CustomObject>) : Model =
            let className = str (entry data "class_name")
            let registered = str (entry data "registered_name")
            let inner = entry data "config"

            match className, inner with
            | "Sequential", (:? JsonArray as bare) -> sequentialFromConfig null bare null customObjects
            | ("Functional" | "Model" | "Sequential"), (:? JsonObject as c) when
                isNull registered || registered = className
                ->
                fromConfig c customObjects
            | _ ->
                let owner =
                    match inner with
                    | :? JsonObject as c when not (isNull (str (entry c "name"))) -> str (entry c "name")
                    | _ -> if isNull className then "model" else className

                let create =
                    [ registered; className ]
                    |> List.tryPick (fun n ->
                        match CustomObjects.tryFind customObjects n with
                        | Some(LayerClass create) -> Some create
                        | _ -> None)

                match create, inner with
                | Some create, (:? JsonObject as c) ->
                    let layer = create (c.DeepClone().AsObject())

                    let shape =
                        match entry data "build_config" with
                        | :? JsonObject as b ->
                            match entry b "input_shape" with
                            | :? JsonArray as a ->
                                a
                                |> Seq.mapi (fun i d -> if isNull d || i = 0 then None else Some(d.GetValue<int>()))
                                |> List.ofSeq
                            | _ -> []
                        | _ -> []

                    if shape.IsEmpty then
                        fail (
                            InvalidArgument(
                                owner,
                                "build_config",
                                $"The subclassed model '{className}' has no build_config input shape to build it on.",
                                "None"
                            )
                        )

                    match Model.tryOfLayer layer with
                    | Some model -> model
                    | None ->
                        let input = CoreLayers.input None (Some shape) Float32 None
                        CustomModel.OfLayer(CustomLayer.WithName(layer, owner), input)
                | _ ->
                    let which =
                        if isNull registered then
                            $"'{className}'"
                        else
                            $"'{className}' (registered name '{registered}')"

                    fail (
                        InvalidArgument(
                            owner,
                            "class_name",
                            $"The model is a subclassed model of class {which}: its architecture is Python code, not a config. Register its class with CustomObjects.register (or pass it in `customObjects`) under '{(if isNull registered then className else registered)}' to load it.",
                            $"'{className}'"
                        )
                    )

        /// <summary>Keras's <c>Model.from_config(config, custom_objects)</c>: creates every layer first (custom classes from
        /// <paramref name="customObjects"/> — may be <c>CustomObjects.none</c> — then the global registry), then replays their
        /// calls in order, so shared layers and nested models come back with their nodes. Accepts a functional config
        /// (Keras 3 or Keras 2), a Sequential config (object or bare list under "layers"), or a whole serialized model
        /// <c>{"class_name", "config"}</c>. The new layers have fresh weights.</summary>
        /// <exception cref="KerasException">When a class is unknown, a Lambda function is anonymous or unregistered, or the
        /// graph cannot be replayed.</exception>
        and fromConfig (config: JsonObject) (customObjects: IDictionary<string, CustomObject>) : Model =
            match entry config "class_name", entry config "config" with
            | cls, ((:? JsonObject | :? JsonArray)) when not (isNull (str cls)) -> fromSerialized config customObjects
            | _ ->
                match entry config "layers", entry config "input_layers" with
                | (:? JsonArray as layers), null ->
                    sequentialFromConfig
                        (str (entry config "name"))
                        layers
                        (entry config "build_input_shape")
                        customObjects
                | _ -> functionalFromConfig config customObjects

    type Model with
        /// <summary>Keras's <c>model.get_config()</c>; see <c>Model.getConfig</c>.</summary>
        member model.GetConfig() = Model.getConfig model
