/// Every public type and member of Keras.FSharp has a non-empty <summary> in the generated Keras.FSharp.xml (the C#
/// facade gets the same from the compiler, CS1591; F# has no such warning).
module XmlDocAuditTests

open System
open System.Reflection
open System.Xml.Linq
open Expecto
open Microsoft.FSharp.Core
open Microsoft.FSharp.Reflection

/// The documentation ID of a type as a parameter (ECMA-334 annex D, with the F# compiler's spelling of
/// multi-dimensional arrays: r - 1 bounds, "[0:]" for 2D and "[0:, 0:]" for 3D).
let rec private typeId (t: Type) : string =
    if t.IsGenericParameter then
        (if isNull t.DeclaringMethod then "`" else "``")
        + string t.GenericParameterPosition
    elif t.IsArray then
        let rank = t.GetArrayRank()

        let bounds =
            if rank = 1 then
                "[]"
            else
                "[" + String.Join(", ", Array.replicate (rank - 1) "0:") + "]"

        typeId (t.GetElementType()) + bounds
    elif t.IsByRef then
        typeId (t.GetElementType()) + "@"
    elif t.IsPointer then
        typeId (t.GetElementType()) + "*"
    elif t.IsGenericType && not t.IsGenericTypeDefinition then
        let name = definitionId (t.GetGenericTypeDefinition())
        let name = name.Substring(0, name.LastIndexOf '`')
        name + "{" + String.Join(",", t.GetGenericArguments() |> Array.map typeId) + "}"
    else
        definitionId t

/// A type's own documentation ID, without the "T:" prefix: namespace, enclosing types, name with its arity.
and private definitionId (t: Type) : string =
    if t.IsNested then
        definitionId t.DeclaringType + "." + t.Name
    elif String.IsNullOrEmpty t.Namespace then
        t.Name
    else
        t.Namespace + "." + t.Name

let private parameterList (parameters: ParameterInfo[]) =
    if parameters.Length = 0 then
        ""
    else
        "("
        + String.Join(",", parameters |> Array.map (fun p -> typeId p.ParameterType))
        + ")"

let private sourceKind (m: MemberInfo) =
    m.GetCustomAttributes(typeof<CompilationMappingAttribute>, false)
    |> Seq.cast<CompilationMappingAttribute>
    |> Seq.tryHead
    |> Option.map (fun a -> a.SourceConstructFlags &&& SourceConstructFlags.KindMask)

let private compilerGenerated (m: MemberInfo) =
    m.IsDefined(typeof<Runtime.CompilerServices.CompilerGeneratedAttribute>, false)

let private isUnion (t: Type) =
    sourceKind t = Some SourceConstructFlags.SumType

let private isRecord (t: Type) =
    sourceKind t = Some SourceConstructFlags.RecordType

/// The documentation IDs of the assembly's public API that must carry a summary. What is checked and what is not:
/// - public types (classes, F# modules, records, unions, interfaces, enums, exceptions), their public methods,
///   properties, fields and events declared on them (F# module functions are methods, module values properties);
/// - each union case (F# writes its docs as "T:Union.Case") and each record field ("P:Record.Field");
/// - skipped: compiler-generated members (Equals, GetHashCode, CompareTo of records and unions) and F#'s
///   witness-passing copies of inline functions (named with a "$"), property and event accessors (the property is
///   checked), overrides of an inherited member (the base's docs apply), union case testers (IsCase), Tag and the
///   classes F# nests in a union for its cases (the case itself is checked), fields of exception declarations and
///   enum's value__, and constructors (F# attaches no docs to a primary constructor; the type's summary documents it).
let private requiredIds (assembly: Assembly) =
    [
        for t in assembly.GetExportedTypes() do
            let caseClass = t.IsNested && isUnion t.DeclaringType

            if not caseClass && not (compilerGenerated t) then
                let tid = definitionId t
                yield "T:" + tid, []

                if isUnion t then
                    for case in FSharpType.GetUnionCases(t, BindingFlags.Public ||| BindingFlags.NonPublic) do
                        yield "T:" + tid + "." + case.Name, []

                if isRecord t then
                    for field in FSharpType.GetRecordFields(t, BindingFlags.Public ||| BindingFlags.NonPublic) do
                        yield "P:" + tid + "." + field.Name, []

                let flags =
                    BindingFlags.Public
                    ||| BindingFlags.Static
                    ||| BindingFlags.Instance
                    ||| BindingFlags.DeclaredOnly

                for m in t.GetMembers flags do
                    let skip =
                        compilerGenerated m
                        || m.Name.Contains "$" // witness passing copies of inline functions ("op_MinusMinusGreater$W")
                        || m.MemberType = MemberTypes.NestedType
                        || m.MemberType = MemberTypes.Constructor
                        || (match sourceKind m with
                            | Some SourceConstructFlags.Field
                            | Some SourceConstructFlags.UnionCase -> true
                            | _ -> false)
                        || (match m with
                            | :? MethodInfo as mi ->
                                (mi.IsSpecialName && not (mi.Name.StartsWith "op_"))
                                || mi.GetBaseDefinition().DeclaringType <> mi.DeclaringType
                            | :? FieldInfo as f -> f.IsSpecialName
                            | _ -> false)
                        || (isUnion t && (m.Name = "Tag" || (m.Name.StartsWith "Is" && m :? PropertyInfo)))

                    if not skip then
                        match m with
                        | :? MethodInfo as mi ->
                            let arity =
                                if mi.IsGenericMethod then
                                    "``" + string (mi.GetGenericArguments().Length)
                                else
                                    ""

                            yield "M:" + tid + "." + mi.Name + arity + parameterList (mi.GetParameters()), []
                        | :? PropertyInfo as p ->
                            yield "P:" + tid + "." + p.Name + parameterList (p.GetIndexParameters()), []
                        // An F# module value is a static field to reflection and a property to the doc writer.
                        | :? FieldInfo as f -> yield "F:" + tid + "." + f.Name, [ "P:" + tid + "." + f.Name ]
                        | :? EventInfo as e -> yield "E:" + tid + "." + e.Name, []
                        | _ -> ()
    ]

/// The IDs among <paramref name="required"/> without a non-empty summary in <paramref name="docs"/>. An ID the
/// generator spelled differently from the F# compiler (a parameter type written another way) is matched by its name
/// without parameters: then some overload of that name must have a summary.
let missingSummaries (docs: XDocument) (required: (string * string list) list) =
    let summaries =
        docs.Descendants(XName.Get "member")
        |> Seq.map (fun m ->
            // F# writes plain `///` lines as they are, without a <summary> element; they are the summary.
            let summary = m.Element(XName.Get "summary")
            let text = if isNull summary then m.Value else summary.Value
            m.Attribute(XName.Get "name").Value, not (String.IsNullOrWhiteSpace text))
        |> Seq.groupBy fst
        |> Seq.map (fun (id, entries) -> id, entries |> Seq.exists snd)
        |> dict

    let documented id =
        match summaries.TryGetValue id with
        | true, has -> Some has
        | _ -> None

    let withoutParameters (id: string) =
        match id.IndexOf '(' with
        | -1 -> id
        | i -> id.Substring(0, i)

    let overloadDocumented (id: string) =
        let name = withoutParameters id

        summaries |> Seq.exists (fun kv -> kv.Value && withoutParameters kv.Key = name)

    required
    |> List.filter (fun (id, alternatives) ->
        match documented id, alternatives |> List.tryPick documented with
        | Some true, _
        | _, Some true -> false
        | Some false, _ -> true
        | None, _ -> not (overloadDocumented id))
    |> List.map fst
    |> List.distinct

[<Tests>]
let tests =
    testList
        "XmlDocs"
        [
            test "Every public type and member of Keras.FSharp has a summary in Keras.FSharp.xml" {
                let assembly = typeof<Keras.Model>.Assembly
                let xmlPath = IO.Path.ChangeExtension(assembly.Location, ".xml")
                Expect.isTrue (IO.File.Exists xmlPath) $"the documentation file beside the DLL: {xmlPath}"
                let required = requiredIds assembly
                Expect.isGreaterThan required.Length 1000 "the whole public API was found"
                let missing = missingSummaries (XDocument.Load xmlPath) required

                if not missing.IsEmpty then
                    for id in missing do
                        printfn "missing <summary>: %s" id

                let listing = String.Join("\n", missing)
                Expect.isEmpty missing $"{missing.Length} public types or members without a summary:\n{listing}"
            }
            test "The audit sees an undocumented member and a documented one" {
                let docs =
                    XDocument.Parse
                        """<doc><members>
                             <member name="T:A.B"><summary>A thing.</summary></member>
                             <member name="M:A.B.f(System.Int32)"><summary> </summary></member>
                             <member name="P:A.B.v"><summary>A value.</summary></member>
                             <member name="P:A.B.w"> F# writes plain doc lines without a summary element. </member>
                           </members></doc>"""

                let missing =
                    missingSummaries
                        docs
                        [
                            "T:A.B", []
                            "M:A.B.f(System.Int32)", []
                            "M:A.B.g", []
                            "F:A.B.v", [ "P:A.B.v" ]
                            "P:A.B.w", []
                        ]

                Expect.equal missing [ "M:A.B.f(System.Int32)"; "M:A.B.g" ] "empty and absent summaries"
            }
        ]
