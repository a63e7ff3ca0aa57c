namespace Keras

open System.Collections.Generic
open System.Text.Json
open System.Text.Json.Nodes

/// <summary>Reading Keras's serialized objects inside layer configs (<c>from_config</c>): activations, initializers
/// (Keras 3 classes and Keras 2's <c>VarianceScaling</c> forms), regularizers, constraints and the plain values of a
/// config, each refused with a Keras-style error naming the layer and the argument.</summary>
[<RequireQualifiedAccess>]
module ConfigReader =
    let private fail (error: KerasError) : 'T = Errors.raiseKeras error

    /// The entry <paramref name="key"/> of an object, or null when it is missing.
    let entry (o: JsonObject) (key: string) : JsonNode =
        if isNull o then
            null
        else
            let mutable node: JsonNode = null
            if o.TryGetPropertyValue(key, &node) then node else null

    /// A JSON string's text, or null for anything else.
    let str (node: JsonNode) =
        match node with
        | :? JsonValue as v ->
            match v.TryGetValue<string>() with
            | true, s -> s
            | _ -> null
        | _ -> null

    let private show (node: JsonNode) =
        if isNull node then "None" else node.ToJsonString()

    /// The <c>config</c> object of a serialized object, or an empty object.
    let innerConfig (o: JsonObject) =
        match entry o "config" with
        | :? JsonObject as c -> c
        | _ -> JsonObject()

    /// <summary>A value of type <typeparamref name="T"/> from a JSON node.</summary>
    let value<'T> (owner: string) (key: string) (node: JsonNode) : 'T =
        try
            node.Deserialize<'T>()
        with _ ->
            fail (InvalidArgument(owner, key, $"Expected a value of type {typeof<'T>.Name}.", show node))

    /// A number.
    let number owner key (node: JsonNode) : float = value<float> owner key node

    /// <summary>An initializer from its Keras form: a name ("glorot_uniform"), <c>{"class_name", "config"}</c> with Keras
    /// 3's class names, or Keras 2's <c>VarianceScaling</c> when it equals one of the named initializers.</summary>
    /// <exception cref="KerasException">For an initializer this library does not have.</exception>
    let initializer (owner: string) (node: JsonNode) : Initializer =
        let unknown (reason: string) =
            fail (InvalidArgument(owner, "initializer", reason, show node))

        match node with
        | null -> unknown "Unknown initializer."
        | :? JsonObject as o ->
            let cfg = innerConfig o

            let num key fallback =
                match entry cfg key with
                | null -> fallback
                | n -> number owner key n

            match str (entry o "class_name") with
            | "Zeros"
            | "zeros" -> Zeros
            | "Ones"
            | "ones" -> Ones
            | "Constant" -> Constant(num "value" 0.0)
            | "GlorotUniform" -> GlorotUniform
            | "GlorotNormal" -> GlorotNormal
            | "HeUniform" -> HeUniform
            | "HeNormal" -> HeNormal
            | "LecunUniform" -> LecunUniform
            | "LecunNormal" -> LecunNormal
            | "RandomNormal" -> RandomNormal(num "mean" 0.0, num "stddev" 0.05)
            | "RandomUniform" -> RandomUniform(num "minval" -0.05, num "maxval" 0.05)
            | "Orthogonal"
            | "OrthogonalInitializer" -> Orthogonal(num "gain" 1.0)
            | "VarianceScaling" ->
                let scale = num "scale" 1.0
                let mode = str (entry cfg "mode") |> Option.ofObj |> Option.defaultValue "fan_in"

                let distribution =
                    match str (entry cfg "distribution") with
                    | null -> "truncated_normal"
                    | "normal" -> "truncated_normal"
                    | d -> d

                match scale, mode, distribution with
                | 1.0, "fan_avg", "uniform" -> GlorotUniform
                | 1.0, "fan_avg", "truncated_normal" -> GlorotNormal
                | 2.0, "fan_in", "uniform" -> HeUniform
                | 2.0, "fan_in", "truncated_normal" -> HeNormal
                | 1.0, "fan_in", "uniform" -> LecunUniform
                | 1.0, "fan_in", "truncated_normal" -> LecunNormal
                | _ ->
                    unknown
                        "Only the VarianceScaling forms equal to Glorot, He and LeCun initializers (scale 1 fan_avg, scale 2 fan_in, scale 1 fan_in; uniform or truncated normal) are supported."
            | other ->
                match Initializer.tryOfName (if isNull other then "" else other) with
                | Some init -> init
                | None -> unknown "Unknown initializer."
        | _ ->
            match Initializer.tryOfName (str node |> Option.ofObj |> Option.defaultValue "") with
            | Some init -> init
            | None -> unknown "Unknown initializer."

    /// <summary>A regularizer from its Keras form (<c>{"class_name": "L2", "config": {"l2": 0.01}}</c>, Keras 2's
    /// <c>L1L2</c>, <c>OrthogonalRegularizer</c> with <c>factor</c> and <c>mode</c>, or a name), or None for null.</summary>
    let regularizer (owner: string) (key: string) (node: JsonNode) : Regularizer option =
        match node with
        | null -> None
        | :? JsonObject as o ->
            let cfg = innerConfig o

            let num k =
                match entry cfg k with
                | null -> 0.0
                | n -> number owner key n

            match str (entry o "class_name") with
            | "L1"
            | "l1" -> Some(L1(num "l1"))
            | "L2"
            | "l2" -> Some(L2(num "l2"))
            | "L1L2"
            | "l1_l2" -> Some(L1L2(num "l1", num "l2"))
            | "OrthogonalRegularizer"
            | "orthogonal_regularizer" ->
                let factor =
                    match entry cfg "factor" with
                    | null -> 0.01
                    | n -> number owner key n

                let mode =
                    match entry cfg "mode" with
                    | null -> "rows"
                    | n -> str n

                Some(Regularizer.Orthogonal(factor, mode))
            | _ -> fail (InvalidArgument(owner, key, "Unknown regularizer.", show node))
        | _ ->
            match Regularizer.TryParse(str node) with
            | Some r -> Some r
            | None -> fail (InvalidArgument(owner, key, "Unknown regularizer.", show node))

    /// <summary>A constraint from its Keras form (<c>MaxNorm</c>, <c>NonNeg</c>, <c>UnitNorm</c>, <c>MinMaxNorm</c>),
    /// or None for null.</summary>
    let constraintOf (owner: string) (key: string) (node: JsonNode) : Constraint option =
        match node with
        | null -> None
        | :? JsonObject as o ->
            let cfg = innerConfig o

            let num k fallback =
                match entry cfg k with
                | null -> fallback
                | n -> number owner key n

            let axis () =
                match entry cfg "axis" with
                | null -> [ 0 ]
                | :? JsonArray as a -> a |> Seq.map (value<int> owner key) |> List.ofSeq
                | n -> [ value<int> owner key n ]

            match str (entry o "class_name") with
            | "MaxNorm" -> Some(MaxNorm(num "max_value" 2.0, axis ()))
            | "NonNeg" -> Some NonNeg
            | "UnitNorm" -> Some(UnitNorm(axis ()))
            | "MinMaxNorm" -> Some(MinMaxNorm(num "min_value" 0.0, num "max_value" 1.0, num "rate" 1.0, axis ()))
            | _ -> fail (InvalidArgument(owner, key, "Unknown constraint.", show node))
        | _ ->
            match Constraint.TryParse(str node) with
            | Some c -> Some c
            | None -> fail (InvalidArgument(owner, key, "Unknown constraint.", show node))

    /// <summary>An activation from its Keras name (or <c>{"class_name"}</c>); names Keras does not know are looked up
    /// as functions in the custom objects.</summary>
    /// <exception cref="KerasException">When the name is neither a Keras activation nor a custom function.</exception>
    let activation (owner: string) (customObjects: IDictionary<string, CustomObject>) (node: JsonNode) : Activation =
        let name =
            match node with
            | null -> "linear"
            | :? JsonObject as o ->
                match str (entry o "registered_name") with
                | null -> str (entry o "class_name") |> Option.ofObj |> Option.defaultValue ""
                | r -> r
            | _ -> str node |> Option.ofObj |> Option.defaultValue ""

        match Activation.TryParse name with
        | Some a -> a
        | None ->
            match CustomObjects.tryFind customObjects name with
            | Some(Function f) -> CustomActivation(name, f)
            | _ ->
                fail (
                    InvalidArgument(
                        owner,
                        "activation",
                        "Unknown activation: not a Keras activation nor a function in the custom objects.",
                        $"'{name}'"
                    )
                )

/// <summary>The entries of one layer's config, read with Keras's defaults; every failure names the layer and key.</summary>
type internal LayerConfigReader(owner: string, config: JsonObject, customObjects: IDictionary<string, CustomObject>) =
    let node key = ConfigReader.entry config key

    let fail (key: string) (reason: string) : 'T =
        Errors.raiseKeras (
            InvalidArgument(
                owner,
                key,
                reason,
                (ConfigReader.entry config key
                 |> fun n -> if isNull n then "None" else n.ToJsonString())
            )
        )

    /// The layer's name.
    member _.Owner = owner
    /// The raw entry.
    member _.Node(key: string) = node key

    /// A required value.
    member _.Req<'T>(key: string) : 'T =
        match node key with
        | null -> fail key "The config needs this entry."
        | n -> ConfigReader.value<'T> owner key n

    /// An optional value (missing or null → None).
    member _.Opt<'T>(key: string) : 'T option =
        match node key with
        | null -> None
        | n -> Some(ConfigReader.value<'T> owner key n)

    /// An int or a list of ints (Keras's kernel sizes, strides, axes).
    member this.Dims(key: string) : int list option =
        match node key with
        | null -> None
        | :? JsonArray as a -> Some(a |> Seq.map (ConfigReader.value<int> owner key) |> List.ofSeq)
        | n -> Some [ ConfigReader.value<int> owner key n ]

    /// A single int, also from a one-element list (Keras 2 writes some axes as lists).
    member this.OneInt(key: string) : int option =
        match this.Dims key with
        | Some [ single ] -> Some single
        | None -> None
        | Some _ -> fail key "Expected a single integer."

    /// An activation entry.
    member _.Activation(key: string) =
        ConfigReader.activation owner customObjects (node key)

    /// An optional activation entry.
    member this.ActivationOpt(key: string) =
        match node key with
        | null -> None
        | _ -> Some(this.Activation key)

    /// An initializer entry (missing → None, the constructor's default).
    member _.Init(key: string) =
        match node key with
        | null -> None
        | n -> Some(ConfigReader.initializer owner n)

    /// A regularizer entry.
    member _.Reg(key: string) =
        ConfigReader.regularizer owner key (node key)

    /// A constraint entry.
    member _.Constr(key: string) =
        ConfigReader.constraintOf owner key (node key)

    /// Refuses a setting the library cannot honour unless it has the value Keras uses by default.
    member _.Expect(key: string, allowed: JsonNode -> bool, reason: string) =
        let n = node key

        if not (isNull n) && not (allowed n) then
            fail key reason

    /// Refuses <c>data_format="channels_first"</c> where only channels_last is implemented.
    member this.ChannelsLast() =
        this.Expect(
            "data_format",
            (fun n -> ConfigReader.str n = "channels_last"),
            "Only data_format=\"channels_last\" is supported for this layer."
        )
