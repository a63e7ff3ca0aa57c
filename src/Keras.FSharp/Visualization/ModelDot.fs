namespace Keras

open System
open System.Collections.Generic
open System.Diagnostics
open System.IO
open System.Text

/// <summary>The options of Keras's <c>plot_model</c> / <c>model_to_dot</c>, with Keras's defaults.</summary>
type PlotOptions =
    {
        /// Show each layer's input and output shapes (Keras's <c>show_shapes</c>).
        ShowShapes: bool
        /// Show each layer's input and output dtypes (<c>show_dtype</c>).
        ShowDtype: bool
        /// Show layer names beside their class (<c>show_layer_names</c>).
        ShowLayerNames: bool
        /// Graphviz rank direction: "TB" (top to bottom) or "LR" (left to right) (<c>rankdir</c>).
        RankDir: string
        /// Draw nested models' layers inside a cluster instead of one box (<c>expand_nested</c>).
        ExpandNested: bool
        /// Resolution of a PNG in dots per inch (<c>dpi</c>).
        Dpi: int
        /// Show the activation of layers that have one (<c>show_layer_activations</c>).
        ShowLayerActivations: bool
    }

/// Graphviz DOT text of a model graph (Keras's <c>model_to_dot</c>) and running Graphviz's <c>dot</c> on it.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module ModelDot =
    /// <summary>Keras's defaults: no shapes, no dtypes, layer names shown, top to bottom, nested models as one box,
    /// 200 dpi, no activations.</summary>
    let defaultOptions =
        {
            ShowShapes = false
            ShowDtype = false
            ShowLayerNames = true
            RankDir = "TB"
            ExpandNested = false
            Dpi = 200
            ShowLayerActivations = false
        }

    let private escape (s: string) =
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;")

    let private formatSpecs (format: TensorSpec -> string) (specs: TensorSpec list) =
        match specs with
        | [ one ] -> format one
        | many -> "[" + (many |> List.map format |> String.concat ", ") + "]"

    let private activationOf (layer: Layer) =
        try
            let config = layer.Spec.Config()
            let mutable value: Text.Json.Nodes.JsonNode = null

            if config.TryGetPropertyValue("activation", &value) && not (isNull value) then
                match value.GetValueKind() with
                | Text.Json.JsonValueKind.String -> Some(value.GetValue<string>())
                | _ -> None
            else
                None
        with _ ->
            None

    /// The HTML-like label of one layer: "name (Class)" on top, then shapes, dtypes and activation rows.
    let private label (options: PlotOptions) (layer: Layer) (calls: Node list) =
        let title =
            if options.ShowLayerNames then
                $"<b>{escape layer.Name}</b> ({escape layer.ClassName})"
            else
                $"<b>{escape layer.ClassName}</b>"

        let row (cells: string list) =
            let tds = cells |> List.map (fun c -> $"<td>{c}</td>") |> String.concat ""

            $"<tr>{tds}</tr>"

        let inOut (format: TensorSpec -> string) (what: string) =
            let inputs, outputs =
                match calls with
                | [ node ] ->
                    let ins =
                        if node.Inputs.IsEmpty then
                            node.Outputs
                        else
                            node.Inputs |> List.map _.Spec

                    formatSpecs format ins, formatSpecs format node.Outputs
                | _ -> "multiple", "multiple"

            row
                [
                    escape ("Input " + what + ": " + inputs)
                    escape ("Output " + what + ": " + outputs)
                ]

        let rows =
            [
                $"<tr><td colspan=\"2\">{title}</td></tr>"
                if options.ShowShapes then
                    inOut (fun s -> Shape.format s.Shape) "shape"
                if options.ShowDtype then
                    inOut (fun s -> DType.name s.DType) "dtype"
                if options.ShowLayerActivations then
                    match activationOf layer with
                    | Some a -> "<tr><td colspan=\"2\">" + escape ("Activation: " + a) + "</td></tr>"
                    | None -> ()
            ]

        "<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" cellpadding=\"4\">"
        + String.concat "" rows
        + "</table>>"

    /// <summary>The Graphviz DOT text of a model (Keras's <c>model_to_dot</c>): one box per layer, one edge per
    /// tensor passed from a layer to the next; with <c>ExpandNested</c>, nested models as clusters of their layers.
    /// </summary>
    /// <example><c>ModelDot.toDot ModelDot.defaultOptions model</c> starts with <c>digraph "model" {</c>.</example>
    let toDot (options: PlotOptions) (model: Model) : string =
        let sb = StringBuilder()

        let line (indent: int) (text: string) =
            sb.Append(' ', indent * 2).Append(text).Append('\n') |> ignore

        let edges = HashSet<string * string>()
        let edgeList = List<string * string>()
        let drawn = HashSet<int64>()
        let id (layer: Layer) = $"layer_{layer.Identity.Id}"

        let expanded (layer: Layer) =
            if options.ExpandNested then
                Model.tryOfLayer layer
            else
                None

        // The box that produces output `index` of `layer` (inside an expanded nested model: its output layer's box).
        let rec source (layer: Layer) (index: int) =
            match expanded layer with
            | Some inner ->
                let t = inner.Outputs[index]
                source t.Node.Layer t.Index
            | None -> id layer

        // The box that receives input `index` of `layer` (inside an expanded nested model: its input layer's box).
        let rec target (layer: Layer) (index: int) =
            match expanded layer with
            | Some inner ->
                let t = inner.Inputs[min index (inner.Inputs.Length - 1)]
                target t.Node.Layer 0
            | None -> id layer

        let rec emit (depth: int) (m: Model) =
            let callsOf = m.Nodes |> List.groupBy _.Layer.Identity.Id |> dict

            for layer in m.Layers do
                if drawn.Add layer.Identity.Id then
                    match expanded layer with
                    | Some inner ->
                        line depth $"subgraph \"cluster_{id layer}\" {{"
                        line (depth + 1) $"label=\"{escape inner.Name} ({layer.ClassName})\";"
                        line (depth + 1) "style=\"rounded,dashed\";"
                        emit (depth + 1) inner
                        line depth "}"
                    | None ->
                        let calls =
                            match callsOf.TryGetValue layer.Identity.Id with
                            | true, c -> c
                            | _ -> []

                        line depth $"\"{id layer}\" [label={label options layer calls}];"

            for node in m.Nodes do
                node.Inputs
                |> List.iteri (fun i input ->
                    let edge = source input.Node.Layer input.Index, target node.Layer i

                    if edges.Add edge then
                        edgeList.Add edge)

        line 0 $"digraph \"{escape model.Name}\" {{"
        line 1 $"graph [rankdir=\"{options.RankDir}\", concentrate=true, dpi={options.Dpi}];"
        line 1 "node [shape=plaintext, fontname=\"Helvetica\", fontsize=11];"
        line 1 "edge [arrowsize=0.7];"
        emit 1 model

        for (a, b) in edgeList do
            line 1 $"\"{a}\" -> \"{b}\";"

        line 0 "}"
        sb.ToString()

    /// <summary>The full path of Graphviz's <c>dot</c> program on the PATH, or <c>None</c> when it is not
    /// installed.</summary>
    let findDot () : string option =
        let names =
            if OperatingSystem.IsWindows() then
                [ "dot.exe" ]
            else
                [ "dot" ]

        (Environment.GetEnvironmentVariable "PATH"
         |> Option.ofObj
         |> Option.defaultValue "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        |> Seq.collect (fun dir -> names |> Seq.map (fun n -> Path.Combine(dir, n)))
        |> Seq.tryFind File.Exists

    let private installHint =
        "Install Graphviz (Debian/Ubuntu: `apt-get install graphviz`; macOS: `brew install graphviz`; Windows: `winget install graphviz`) so that `dot` is on the PATH"

    /// plot with the dot program given (None: as if Graphviz were not installed).
    let internal plotUsing (dotProgram: string option) (options: PlotOptions) (toFile: string) (model: Model) : string =
        let toFile = Path.GetFullPath toFile
        let text = toDot options model
        let ext = Path.GetExtension(toFile).TrimStart('.').ToLowerInvariant()

        Path.GetDirectoryName toFile
        |> Option.ofObj
        |> Option.iter (Directory.CreateDirectory >> ignore)

        match ext with
        | "dot"
        | "gv" ->
            File.WriteAllText(toFile, text)
            toFile
        | "png"
        | "svg"
        | "pdf"
        | "jpg"
        | "jpeg" ->
            let dotFile = Path.ChangeExtension(toFile, ".dot")
            File.WriteAllText(dotFile, text)

            match dotProgram with
            | None ->
                Errors.raiseKeras (
                    InvalidArgument(
                        "plot_model",
                        "to_file",
                        $"Writing a .{ext} needs Graphviz's `dot` program, which was not found on the PATH. {installHint}, then run `dot -T{ext} \"{dotFile}\" -o \"{toFile}\"`, or open the DOT file written to {dotFile} in any Graphviz viewer.",
                        toFile
                    )
                )
            | Some dot ->
                let info =
                    ProcessStartInfo(
                        dot,
                        [ $"-T{ext}"; $"-Gdpi={options.Dpi}"; dotFile; "-o"; toFile ],
                        UseShellExecute = false,
                        RedirectStandardError = true
                    )

                use proc = Process.Start info
                let errors = proc.StandardError.ReadToEnd()
                proc.WaitForExit()

                if proc.ExitCode <> 0 then
                    Errors.raiseKeras (
                        InvalidArgument(
                            "plot_model",
                            "to_file",
                            $"Graphviz's dot failed (exit code {proc.ExitCode}) on {dotFile}: {errors.Trim()}",
                            toFile
                        )
                    )

                toFile
        | _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    "plot_model",
                    "to_file",
                    "Expected a file ending in .png, .svg, .pdf, .jpg or .dot.",
                    toFile
                )
            )

    /// <summary>Writes a model's picture (Keras's <c>plot_model</c>). The format follows the extension of
    /// <paramref name="toFile"/>: <c>.dot</c>/<c>.gv</c> writes the DOT text; <c>.png</c>, <c>.svg</c>, <c>.pdf</c>
    /// and <c>.jpg</c> write the DOT text beside it (same name, <c>.dot</c>) and run Graphviz's <c>dot</c> on it.
    /// </summary>
    /// <returns>The file written.</returns>
    /// <exception cref="KerasException">When the picture needs Graphviz and <c>dot</c> is not installed (the message
    /// says how to install it and where the DOT file is), or when <c>dot</c> fails.</exception>
    let plot (options: PlotOptions) (toFile: string) (model: Model) : string =
        plotUsing (findDot ()) options toFile model
