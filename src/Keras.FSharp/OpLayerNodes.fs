/// <summary>tf.keras 2's node format for op layers (<c>TFOpLambda</c>, <c>SlicingOpLambda</c>) in functional configs. A
/// node is the op's first argument with its structure kept: one entry <c>[layer, node, tensor, {kwargs}]</c> (or
/// <c>["_CONSTANT_VALUE", -1, value, {kwargs}]</c> for a constant), or a list of entries (the values of
/// <c>tf.concat</c>), every entry carrying the same kwargs: the op's other arguments by name, where tensors are
/// <c>[layer, node, tensor]</c> lists and constants plain JSON (slices as <c>{"start", "stop", "step"}</c>).</summary>
module Keras.OpLayerNodes

open System.Text.Json.Nodes
open Keras
open Keras.TFOpElementwise

/// The marker tf.keras 2 writes in place of a layer name for a constant first argument.
[<Literal>]
let ConstantValue = "_CONSTANT_VALUE"

/// Whether the class is one of tf.keras 2's op layer classes.
let isOpClass (className: string) =
    className = "TFOpLambda" || className = "SlicingOpLambda"

let private str = ConfigReader.str

let private int' = tryValue<int>

/// <c>[layer, node, tensor]</c> or <c>[layer, node, tensor, kwargs]</c>, as tf.keras 2's <c>convert_inner_node_data</c>
/// recognises node data.
let private isTensorEntry (node: JsonNode) =
    match node with
    | :? JsonArray as a when a.Count = 3 || a.Count = 4 ->
        not (isNull (str a[0]))
        && str a[0] <> ConstantValue
        && (int' a[1]).IsSome
        && (int' a[2]).IsSome
    | _ -> false

let private isConstantEntry (node: JsonNode) =
    match node with
    | :? JsonArray as a when a.Count = 3 || a.Count = 4 -> str a[0] = ConstantValue
    | _ -> false

/// <summary>Reads one node of an op layer: the (layer, node index, tensor index) references of the tensors it uses, in
/// the order the layer receives them (those of the first argument, then those of the kwargs), and the call with
/// <c>TensorArg</c>s indexing that list.</summary>
/// <exception cref="KerasException">When the node is not in tf.keras 2's op layer format.</exception>
let read (owner: string) (fn: string) (node: JsonNode) : (string * int * int) list * OpCall =
    let refs = ResizeArray<string * int * int>()

    let fail (received: JsonNode) : 'T =
        Errors.raiseKeras (
            InvalidArgument(
                owner,
                "inbound_nodes",
                "An op layer node must be tf.keras 2's [layer, node_index, tensor_index, {kwargs}] (or a list of them).",
                (if isNull received then "None" else received.ToJsonString())
            )
        )

    let addRef (a: JsonArray) =
        refs.Add(str a[0], (int' a[1]).Value, (int' a[2]).Value)
        TensorArg(refs.Count - 1)

    let mutable kwargs: JsonObject = null

    let rec first (n: JsonNode) =
        match n with
        | :? JsonArray as a when isTensorEntry a || isConstantEntry a ->
            if isNull kwargs && a.Count = 4 then
                match a[3] with
                | :? JsonObject as o -> kwargs <- o
                | null -> ()
                | other -> fail other

            if isConstantEntry a then
                ConstArg(if isNull a[2] then null else a[2].DeepClone())
            else
                addRef a
        | :? JsonArray as a when a.Count > 0 -> ListArg(a |> Seq.map first |> List.ofSeq)
        | other -> fail other

    let rec value (n: JsonNode) =
        match n with
        | :? JsonArray as a when isTensorEntry a -> addRef a
        | :? JsonArray as a ->
            let items = a |> Seq.map value |> List.ofSeq

            if
                items
                |> List.forall (fun i ->
                    match i with
                    | ConstArg _ -> true
                    | _ -> false)
            then
                ConstArg(a.DeepClone())
            else
                ListArg items
        | null -> ConstArg null
        | n -> ConstArg(n.DeepClone())

    let firstArg = first node

    let named =
        if isNull kwargs then
            []
        else
            // tf.keras drops `name` when it calls the op.
            kwargs
            |> Seq.filter (fun kv -> kv.Key <> "name")
            |> Seq.map (fun kv -> kv.Key, value kv.Value)
            |> List.ofSeq

    List.ofSeq refs,
    {
        Function = fn
        First = firstArg
        Kwargs = named
    }

let private writeWith (call: OpCall) (tensorRef: int -> JsonArray) : JsonNode =
    let tensor i = tensorRef i :> JsonNode

    let rec value (arg: OpArg) : JsonNode =
        match arg with
        | TensorArg i -> tensor i
        | ConstArg node -> if isNull node then null else node.DeepClone()
        | ListArg items -> JsonArray(items |> List.map value |> Array.ofList)

    let kwargs () =
        let o = JsonObject()

        for key, arg in call.Kwargs do
            o[key] <- value arg

        o

    let rec first (arg: OpArg) : JsonNode =
        match arg with
        | TensorArg i ->
            let t = tensorRef i

            JsonArray(
                [|
                    t[0].DeepClone()
                    t[1].DeepClone()
                    t[2].DeepClone()
                    kwargs () :> JsonNode
                |]
            )
        | ConstArg node ->
            JsonArray(
                [|
                    JsonValue.Create ConstantValue :> JsonNode
                    JsonValue.Create -1
                    (if isNull node then null else node.DeepClone())
                    kwargs ()
                |]
            )
        | ListArg items -> JsonArray(items |> List.map first |> Array.ofList)

    first call.First

/// <summary>Writes one node of an op layer in tf.keras 2's format, the tensors it uses given as their
/// <c>[layer, node, tensor]</c> references in the layer's input order.</summary>
let write (call: OpCall) (tensors: JsonNode list) : JsonNode =
    writeWith call (fun i -> tensors[i].DeepClone().AsArray())

/// A rendering of the call with tensors as their positions, to compare two nodes of one op layer.
let signature (call: OpCall) =
    let placeholder (i: int) =
        JsonArray(
            [|
                JsonValue.Create $"#{i}" :> JsonNode
                JsonValue.Create 0
                JsonValue.Create 0
            |]
        )

    call.Function + (writeWith call placeholder).ToJsonString()

/// <summary>The op layer for one replayed node: a new layer for its first node; for a later node, the same layer
/// when the op and its constant arguments are the same.</summary>
/// <exception cref="KerasException">When the op is unsupported, or a later node calls the layer with other arguments.</exception>
let layerFor (name: string) (className: string) (call: OpCall) (existing: Layer option) : Layer =
    match existing with
    | None -> TFOpLayers.create name className call
    | Some layer ->
        match TFOpLayers.tryCall layer with
        | Some first when signature first = signature call -> layer
        | first ->
            Errors.raiseKeras (
                InvalidArgument(
                    name,
                    "inbound_nodes",
                    "An op layer called again must be called with the same op and constant arguments.",
                    $"{first |> Option.map signature |> Option.defaultValue layer.ClassName} then {signature call}"
                )
            )
