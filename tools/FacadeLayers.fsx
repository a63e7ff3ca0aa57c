// Generates src/Keras.CSharp/Layers.Generated.cs: one C# adapter per public constructor of the core's `Keras.Layers`,
// PascalCase names, the core's parameter names, and Keras's defaults read from each layer's own get_config.
// Run after a Release build: `dotnet fsi tools/FacadeLayers.fsx`. The facade coverage test fails when the output is stale.
#r "../tests/Keras.FSharp.Tests/bin/Release/net10.0/TorchSharp.dll"
#r "../tests/Keras.FSharp.Tests/bin/Release/net10.0/Keras.FSharp.dll"

open System
open System.Globalization
open System.IO
open System.Reflection
open System.Text
open System.Text.Json.Nodes
open System.Xml.Linq
open Microsoft.FSharp.Core
open Microsoft.FSharp.Reflection

Keras.Native.NativeLoader.ensureLoaded ()

let root = Path.Combine(__SOURCE_DIRECTORY__, "..")
let coreType = typeof<Keras.Layers>
let asm = coreType.Assembly

let xmlDocs =
    let path = Path.ChangeExtension(asm.Location, ".xml")

    XDocument.Load(path).Descendants(XName.Get "member")
    |> Seq.filter (fun m -> m.Attribute(XName.Get "name").Value.StartsWith "M:Keras.Layers.")
    |> Seq.toList

let snake (name: string) =
    let sb = StringBuilder()

    for i, c in Seq.indexed name do
        if Char.IsUpper c && i > 0 then
            sb.Append('_') |> ignore

        sb.Append(Char.ToLowerInvariant c) |> ignore

    sb.ToString()

let isOption (t: Type) =
    t.IsGenericType && t.GetGenericTypeDefinition() = typedefof<option<_>>

let optionArg (t: Type) = t.GetGenericArguments().[0]

let isList (t: Type) =
    t.IsGenericType && t.GetGenericTypeDefinition() = typedefof<list<_>>

let dimsType = asm.GetType("Keras.ConvolutionLayers+Dims")

/// C# type, conversion expression to the core's type (for a required value), and a sample value for the generator.
let rec describe (t: Type) : string * (string -> string) * obj =
    if t = typeof<int> then
        "int", id, box 2
    elif t = typeof<float> then
        "double", id, box 0.5
    elif t = typeof<bool> then
        "bool", id, box true
    elif t = typeof<string> then
        "string", id, box "x"
    elif t = typeof<Keras.Activation> then
        "string", (fun v -> $"Fs.Activation.Parse({v})"), box Keras.Activation.Relu
    elif t = typeof<Keras.Initializer> then
        "Initializer", (fun v -> $"{v}.Core"), box Keras.Initializer.Zeros
    elif t = typeof<Keras.Regularizer> then
        "Regularizer", (fun v -> $"{v}.Core"), box (Keras.Regularizer.L2 0.01)
    elif t = typeof<Keras.Constraint> then
        "Constraint", (fun v -> $"{v}.Core"), box Keras.Constraint.NonNeg
    elif t = dimsType then
        "Dims", (fun v -> $"{v}.Core"), FSharpValue.MakeUnion(FSharpType.GetUnionCases(dimsType).[0], [| box [ 3 ] |])
    elif t = typeof<Keras.Layer> then
        "Layer", (fun v -> $"{v}.Core"), box (Keras.Layers.LSTM(2))
    elif t = typeof<int list> then
        "int[]", (fun v -> $"Fx.List({v})"), box [ 1 ]
    // Text and lookup preprocessing (issue 13): vocabularies and idf weights.
    elif t = typeof<string list> then
        "string[]", (fun v -> $"Fx.List({v})"), box [ "a" ]
    elif t = typeof<float list> then
        "double[]", (fun v -> $"Fx.List({v})"), box [ 1.0 ]
    elif t = typeof<int * int> then
        "(int, int)", (fun v -> $"Fx.Tuple({v})"), box (1, 1)
    elif t = typeof<int * int * int> then
        "(int, int, int)", (fun v -> $"Fx.Tuple({v})"), box (1, 1, 1)
    elif t = typeof<(int * int) * (int * int)> then
        "((int, int), (int, int))", (fun v -> $"Fx.Tuple({v})"), box ((1, 1), (1, 1))
    elif t = typeof<(int * int) * (int * int) * (int * int)> then
        "((int, int), (int, int), (int, int))", (fun v -> $"Fx.Tuple({v})"), box ((1, 1), (1, 1), (1, 1))
    // Issue 13: Normalization's values and EinsumDense's partial output shape.
    elif t = typeof<float list> then
        "double[]", (fun v -> $"Fx.List({v})"), box [ 1.0 ]
    elif t = typeof<int option list> then
        "int?[]", (fun v -> $"Fx.OptionList({v})"), box [ Some 1 ]
    // Preprocessing (issue 13): factor pairs and value ranges (bin boundaries use the float list case above).
    elif t = typeof<float * float> then
        "(double, double)", (fun v -> $"Fx.Tuple({v})"), box (0.1, 0.2)
    // StackedRNNCells (issue 13): a list of cell layers.
    elif t = typeof<Keras.Layer list> then
        "IEnumerable<Layer>",
        (fun v -> $"Fx.List(System.Linq.Enumerable.Select({v}, cell => cell.Core))"),
        box [ Keras.Layers.LSTMCell(2) ]
    elif t = typeof<Keras.KerasTensor list> then
        "IEnumerable<KerasTensor>", (fun v -> $"KerasTensor.Cores({v})"), null
    else
        failwithf "No C# mapping for %s" t.FullName

let isValueType (cs: string) =
    cs = "int" || cs = "double" || cs = "bool" || cs.StartsWith "("

let literal (cs: string) (node: JsonNode) (paramName: string) : string option =
    let allEqualInts (n: JsonNode) =
        let rec flat (n: JsonNode) : JsonNode list =
            match n with
            | :? JsonArray as a -> a |> Seq.collect flat |> Seq.toList
            | n -> [ n ]

        match
            flat n
            |> List.map (fun v ->
                try
                    Some(v.GetValue<int>())
                with _ ->
                    None)
        with
        | Some x :: rest when rest |> List.forall ((=) (Some x)) -> Some x
        | _ -> None

    match node with
    | null -> None
    | :? JsonValue as v ->
        match cs with
        | "bool" ->
            (try
                Some(if v.GetValue<bool>() then "true" else "false")
             with _ ->
                 None)
        | "int" ->
            (try
                Some(string (v.GetValue<int>()))
             with _ ->
                 None)
        | "double" ->
            (try
                let d = v.GetValue<double>()
                let s = d.ToString("R", CultureInfo.InvariantCulture)
                Some(if s.Contains '.' || s.Contains 'E' then s else s + ".0")
             with _ ->
                 None)
        | "string" ->
            (try
                Some("\"" + v.GetValue<string>() + "\"")
             with _ ->
                 None)
        | _ -> None
    | :? JsonArray when
        cs = "int"
        && List.contains paramName [ "padding"; "cropping"; "size"; "poolSize" ]
        ->
        allEqualInts node |> Option.map string
    | _ -> None

let docOf (m: MethodInfo) (index: int) =
    let n = m.GetParameters().Length

    let candidates =
        xmlDocs
        |> List.filter (fun x ->
            let name = x.Attribute(XName.Get "name").Value
            let prefix = $"M:Keras.Layers.{m.Name}"

            name = prefix && n = 0
            || name.StartsWith(prefix + "(")
               && (let args = name.Substring(prefix.Length + 1).TrimEnd(')')
                   let mutable depth = 0
                   let mutable commas = 0

                   for c in args do
                       if c = '{' || c = '(' then
                           depth <- depth + 1
                       elif c = '}' || c = ')' then
                           depth <- depth - 1
                       elif c = ',' && depth = 0 then
                           commas <- commas + 1

                   commas + 1 = n))

    candidates |> List.tryItem index |> Option.orElse (List.tryHead candidates)

let clean (s: string) =
    Text.RegularExpressions.Regex.Replace(s.Trim(), @"\s+", " ")

let pascal (s: string) =
    string (Char.ToUpperInvariant s[0]) + s.Substring 1

let out = StringBuilder()
let w (s: string) = out.AppendLine s |> ignore

w
    "// <auto-generated> by tools/FacadeLayers.fsx from the core's Keras.Layers: do not edit; rerun the script. </auto-generated>"

w "#nullable enable"
w "using System.Collections.Generic;"
w "using Fs = global::Keras;"
w ""
w "namespace Keras.CSharp;"
w ""
w "public partial class Layers"
w "{"

let methods =
    coreType.GetMethods(BindingFlags.Public ||| BindingFlags.Static)
    |> Array.filter (fun m -> m.DeclaringType = coreType)
    |> Array.sortBy (fun m -> m.MetadataToken)

let seen = Collections.Generic.Dictionary<string, int>()

for m in methods do
    let parameters = m.GetParameters()
    let key = $"{m.Name}/{parameters.Length}"

    let index =
        match seen.TryGetValue key with
        | true, i -> i
        | _ -> 0

    seen[key] <- index + 1
    let isFunction = Char.IsLower m.Name[0]
    let facadeName = if isFunction then pascal m.Name + "Tensors" else m.Name
    // Defaults: build the layer with sample required arguments and read its config. A second build with other
    // integer samples finds the defaults that follow a required argument (MultiHeadAttention's value_dim is its
    // key_dim): those get no literal default in C# (null: the core's default).
    let configWith (shift: int) =
        if isFunction then
            null
        else
            try
                let args =
                    parameters
                    |> Array.map (fun p ->
                        if isOption p.ParameterType then
                            null
                        else
                            match describe p.ParameterType with
                            | _, _, (:? int as i) -> box (i + shift)
                            | _, _, s -> s)

                let layer = m.Invoke(null, args) :?> Keras.Layer
                Keras.Layer.getConfig layer
            with e ->
                eprintfn
                    "%s: no config (%s)"
                    m.Name
                    (e.InnerException
                     |> Option.ofObj
                     |> Option.map _.Message
                     |> Option.defaultValue e.Message)

                null

    let config = configWith 0
    let shiftedConfig = configWith 1

    /// Whether a parameter's config value changes with the required arguments (so it is not a constant default).
    let followsRequired (key: string) =
        not (isNull config || isNull shiftedConfig)
        && (let a, b = config[key], shiftedConfig[key]
            (if isNull a then "null" else a.ToJsonString()) <> (if isNull b then "null" else b.ToJsonString()))

    let doc = docOf m index

    let paramDoc (name: string) =
        doc
        |> Option.bind (fun d ->
            d.Elements(XName.Get "param")
            |> Seq.tryFind (fun p -> p.Attribute(XName.Get "name").Value = name))
        |> Option.map (fun p -> clean (String.Concat(p.Nodes() |> Seq.map string)))

    let summary =
        doc
        |> Option.bind (fun d -> d.Element(XName.Get "summary") |> Option.ofObj)
        |> Option.map (fun s -> clean (String.Concat(s.Nodes() |> Seq.map string)))
        |> Option.defaultValue $"Keras's <c>{m.Name}</c> layer."

    let csParams = ResizeArray<string>()
    let callArgs = ResizeArray<string>()
    let docs = ResizeArray<string>()

    for p in parameters do
        let optional = isOption p.ParameterType

        let t =
            if optional then
                optionArg p.ParameterType
            else
                p.ParameterType

        let cs, convert, _ = describe t

        let fromConfig =
            if isNull config || followsRequired (snake p.Name) then
                None
            else
                literal cs (config[snake p.Name]) p.Name

        let defaultText =
            match fromConfig with
            | Some lit when p.Name <> "name" -> Some lit
            | _ -> None

        let pdoc =
            match paramDoc p.Name with
            | Some d -> d
            | None when p.Name = "name" -> "Layer name; unique in a model, derived from the class name when null."
            | None ->
                $"Keras's <c>{snake p.Name}</c>"
                + (if optional && defaultText.IsNone then
                       "; Keras's default when null."
                   else
                       ".")

        docs.Add($"    /// <param name=\"{p.Name}\">{pdoc}</param>")

        if not optional then
            csParams.Add($"{cs} {p.Name}")
            callArgs.Add($"{p.Name}: {convert p.Name}")
        else
            match defaultText with
            | Some lit ->
                let nullableRef = if cs = "string" then "string?" else cs
                csParams.Add($"{nullableRef} {p.Name} = {lit}")

                let inner =
                    if cs = "string" && t = typeof<Keras.Activation> then
                        $"Fx.Activation({p.Name})"
                    else
                        $"Fx.Some({convert p.Name})"

                callArgs.Add($"{p.Name}: {inner}")
            | None ->
                csParams.Add($"{cs}? {p.Name} = null")

                let inner =
                    if t = typeof<Keras.Activation> then
                        $"Fx.Activation({p.Name})"
                    elif cs = "int" || cs = "double" || cs = "bool" then
                        $"Fx.Val({p.Name})"
                    elif isValueType cs then
                        let v = p.Name + "Value"
                        $"({p.Name} is {{ }} {v} ? Fx.Some({convert v}) : null)"
                    elif cs = "string" then
                        $"Fx.Ref({p.Name})"
                    else
                        $"({p.Name} is null ? null : Fx.Some({convert p.Name}))"

                callArgs.Add($"{p.Name}: {inner}")

    w $"    /// <summary>{summary}</summary>"
    docs |> Seq.iter w
    let returns = if isFunction then "KerasTensor" else "Layer"
    let csList = String.Join(", ", csParams)
    let callList = String.Join(", ", callArgs)
    w $"    public static {returns} {facadeName}({csList}) =>"
    w $"        new(Fs.Layers.{m.Name}({callList}));"
    w ""

    if isFunction then
        // The params form: the tensors only.
        w
            $"    /// <summary>Keras's <c>layers.{m.Name}</c> on the tensors, with the other arguments' defaults.</summary>"

        w "    /// <param name=\"inputs\">The tensors.</param>"

        w
            $"    public static KerasTensor {facadeName}(params KerasTensor[] inputs) => {facadeName}((IEnumerable<KerasTensor>)inputs);"

        w ""

w "}"
File.WriteAllText(Path.Combine(root, "src/Keras.CSharp/Layers.Generated.cs"), out.ToString().Replace("\r\n", "\n"))
printfn "%d core constructors" methods.Length
