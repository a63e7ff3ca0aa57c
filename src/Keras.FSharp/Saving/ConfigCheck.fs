namespace Keras

open System
open System.Text.Json.Nodes

/// <summary>Checks, before weights are loaded from a file that carries the model's config (<c>.keras</c> archives, legacy
/// full-model <c>.h5</c> files), that the model has the file's architecture: the same layer classes in the same order
/// and the same hyper-parameters that change what the weights mean (units, kernel sizes, strides, padding,
/// activations, normalization epsilon, ...). Weights whose shapes happen to fit a different architecture would
/// otherwise load silently and give wrong outputs.</summary>
[<RequireQualifiedAccess>]
module internal ConfigCheck =
    /// The config entries compared between the model's layers and the file's.
    let private compared =
        [
            "units"
            "filters"
            "kernel_size"
            "strides"
            "padding"
            "dilation_rate"
            "groups"
            "depth_multiplier"
            "pool_size"
            "activation"
            "recurrent_activation"
            "use_bias"
            "epsilon"
            "axis"
            "data_format"
            "center"
            "scale"
            "input_dim"
            "output_dim"
            "return_sequences"
            "go_backwards"
            "reset_after"
            "merge_mode"
            "target_shape"
            "dims"
            "num_heads"
            "key_dim"
        ]

    let private entry (o: JsonObject) (key: string) : JsonNode =
        let mutable node: JsonNode = null

        if not (isNull o) && o.TryGetPropertyValue(key, &node) then
            node
        else
            null

    let private str (node: JsonNode) =
        match node with
        | :? JsonValue as v ->
            match v.TryGetValue<string>() with
            | true, s -> s
            | _ -> null
        | _ -> null

    /// Two config values agree: numbers within a relative 1e-6 (float32 round trips), lists elementwise, an int and a
    /// one-element list alike, anything else by its JSON text.
    let rec private agree (a: JsonNode) (b: JsonNode) =
        let number (n: JsonNode) =
            match n with
            | :? JsonValue as v ->
                match v.TryGetValue<double>() with
                | true, d -> Some d
                | _ -> None
            | _ -> None

        match a, b with
        | null, null -> true
        | (:? JsonArray as x), (:? JsonArray as y) -> x.Count = y.Count && Seq.forall2 agree x y
        | (:? JsonArray as x), y when x.Count = 1 -> agree x[0] y
        | x, (:? JsonArray as y) when y.Count = 1 -> agree x y[0]
        | x, y ->
            match number x, number y with
            | Some p, Some q -> p = q || abs (p - q) <= 1e-6 * max (abs p) (abs q)
            | _ ->
                let text (n: JsonNode) =
                    if isNull n then
                        "null"
                    else
                        match n with
                        | :? JsonObject as o when not (isNull (str (entry o "class_name"))) ->
                            str (entry o "class_name")
                        | _ -> n.ToJsonString()

                text x = text y

    /// The layer entries of a serialized model (Functional or Sequential, Keras 3 or 2), InputLayers left out; None
    /// when the config has no layer list (a subclassed model).
    let private fileLayers (serialized: JsonObject) : JsonObject list option =
        let inner =
            match entry serialized "config" with
            | null -> serialized :> JsonNode
            | c -> c

        let layers =
            match inner with
            | :? JsonArray as bare -> Some bare
            | :? JsonObject as c ->
                match entry c "layers" with
                | :? JsonArray as a -> Some a
                | _ -> None
            | _ -> None

        layers
        |> Option.map (fun a ->
            a
            |> Seq.choose (fun n ->
                match n with
                | :? JsonObject as o when str (entry o "class_name") <> "InputLayer" -> Some o
                | _ -> None)
            |> List.ofSeq)

    /// <summary>Raises a KerasException naming <paramref name="path"/> and the first difference between the model's
    /// layers and the file's config; does nothing when the config has no layer list or a different number of layers
    /// (the weights loader reports those).</summary>
    let check (model: Model) (path: string) (serialized: JsonObject) =
        match fileLayers serialized with
        | None -> ()
        | Some saved ->
            let mine = model.Layers |> List.filter (fun l -> l.ClassName <> "InputLayer")

            if saved.Length = mine.Length then
                List.zip mine saved
                |> List.iteri (fun i (layer, data) ->
                    let theirs =
                        match entry data "config" with
                        | :? JsonObject as c -> c
                        | _ -> JsonObject()

                    let fileName =
                        match str (entry theirs "name") with
                        | null -> str (entry data "name")
                        | n -> n

                    let fileClass = str (entry data "class_name")

                    let fail (argument: string) (reason: string) (received: string) =
                        Errors.raiseKeras (
                            InvalidArgument(
                                layer.Name,
                                argument,
                                $"The model does not have the architecture saved in '{path}': {reason}",
                                received
                            )
                        )

                    if fileClass <> layer.ClassName then
                        fail
                            "class_name"
                            $"layer {i + 1} (\"{layer.Name}\") is a {layer.ClassName}, but the file's layer {i + 1} (\"{fileName}\") is a {fileClass}."
                            fileClass
                    elif layer.ClassName <> "Functional" && layer.ClassName <> "Sequential" then
                        let ours = Layer.getConfig layer

                        for key in compared do
                            let a = entry ours key
                            let b = entry theirs key

                            // An axis counted from the end and one counted from the start may be the same axis
                            // (-1 and 3 for a rank-4 input): only axes counted the same way are compared.
                            let comparable =
                                key <> "axis"
                                || (let sign (n: JsonNode) =
                                        match n with
                                        | :? JsonArray as arr when arr.Count = 1 ->
                                            arr[0].ToJsonString().StartsWith "-"
                                        | :? JsonValue as v -> v.ToJsonString().StartsWith "-"
                                        | _ -> false

                                    sign a = sign b)

                            if ours.ContainsKey key && theirs.ContainsKey key && comparable && not (agree a b) then
                                let show (n: JsonNode) =
                                    if isNull n then "None" else n.ToJsonString()

                                fail
                                    key
                                    $"layer {i + 1} (\"{layer.Name}\", {layer.ClassName}) has {key}={show a}, but the file's layer \"{fileName}\" has {key}={show b}."
                                    (show b))
