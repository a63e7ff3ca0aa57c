/// Keras 3's model summary: the same table, column widths, wrapping and footer as <c>model.summary()</c>.
module Keras.Summary

open System
open System.Text

type private Align =
    | Left
    | Right

/// Python's round(): halves go to the even neighbour. Rich relies on it when it shrinks columns.
let private pyRound (x: float) =
    int (Math.Round(x, MidpointRounding.ToEven))

/// Rich's last-resort column shrinking: the excess is taken from the columns evenly, front to back.
let private ratioReduce (total: int) (widths: int list) =
    let folder (remaining, ratioLeft, acc) width =
        let distributed = min width (pyRound (float remaining / float ratioLeft))
        remaining - distributed, ratioLeft - 1, (width - distributed) :: acc

    let _, _, reduced = widths |> List.fold folder (total, widths.Length, [])
    List.rev reduced

/// Widths of the cells' text, as Keras asks rich for them: each column gets its share of the line, then the
/// table (with one space of padding each side and the borders) is shrunk to fit the line.
let private columnWidths (lineLength: int) (positions: float list) =
    let _, requested =
        positions
        |> List.fold
            (fun (current, acc) pos -> let w = int (pos * float lineLength) - current in current + w, acc @ [ w ])
            (0, [])

    let withPadding = requested |> List.map (fun w -> w + 2)
    let borders = requested.Length + 1
    let excess = List.sum withPadding - (lineLength - borders)

    let shrunk =
        if excess > 0 then
            ratioReduce excess withPadding
        else
            withPadding

    shrunk |> List.map (fun w -> w - 2)

/// Greedy word wrap as rich does it in Keras's tables: words move to the next line when they do not fit, and a word
/// longer than the column is cut with an ellipsis (rich's default overflow for table cells).
let private wrap (width: int) (text: string) =
    let fit (word: string) =
        if word.Length > width then
            word.Substring(0, width - 1) + "…"
        else
            word

    let words =
        text.Split(' ', StringSplitOptions.RemoveEmptyEntries)
        |> List.ofArray
        |> List.map fit

    let rec fold (lines: string list) (current: string) (words: string list) =
        match words with
        | [] -> List.rev (if current = "" then lines else current :: lines)
        | w :: rest when current = "" -> fold lines w rest
        | w :: rest when current.Length + 1 + w.Length <= width -> fold lines (current + " " + w) rest
        | w :: rest -> fold (current :: lines) w rest

    match fold [] "" words with
    | [] -> [ "" ]
    | lines -> lines

let private renderTable (widths: int list) (aligns: Align list) (header: string list) (rows: string list list) =
    let sb = StringBuilder()

    let rule (l: string) (fill: string) (mid: string) (r: string) =
        sb
            .Append(l)
            .Append(String.Join(mid, widths |> List.map (fun w -> String.replicate (w + 2) fill)))
            .Append(r)
            .Append('\n')
        |> ignore

    let line (edge: string) (cells: string list list) =
        let height = cells |> List.map List.length |> List.max

        for i in 0 .. height - 1 do
            let parts =
                List.zip3 widths aligns cells
                |> List.map (fun (w, a, lines) ->
                    let text = if i < lines.Length then lines[i] else ""

                    " "
                    + (match a with
                       | Left -> text.PadRight w
                       | Right -> text.PadLeft w)
                    + " ")

            sb.Append(edge).Append(String.Join(edge, parts)).Append(edge).Append('\n')
            |> ignore

    let cellsOf (row: string list) = List.map2 wrap widths row

    rule "┏" "━" "┳" "┓"
    line "┃" (cellsOf header)
    rule "┡" "━" "╇" "┩"

    rows
    |> List.iteri (fun i row ->
        if i > 0 then
            rule "├" "─" "┼" "┤"

        line "│" (cellsOf row))

    rule "└" "─" "┴" "┘"
    sb.ToString()

/// Keras's readable byte count: "215.04 KB", "0.00 B".
let readableSize (bytes: float) =
    let units = [ "B"; "KB"; "MB"; "GB"; "TB"; "PB" ]

    let rec go (size: float) (units: string list) =
        match units with
        | [ last ] -> $"%.2f{size} {last}"
        | unit :: rest ->
            if size / 1024.0 < 1.0 then
                $"%.2f{size} {unit}"
            else
                go (size / 1024.0) rest
        | [] -> $"%.2f{size} B"

    go bytes units

/// A chain of single-input calls, each layer once: Keras then omits the "Connected to" column.
let private isSequentialLike (model: Model) =
    let calls = model.Nodes |> List.filter (fun n -> not n.Inputs.IsEmpty)
    let inputNodes = model.Nodes |> List.filter (fun n -> n.Inputs.IsEmpty)

    let chained =
        calls
        |> List.fold
            (fun (previous: Node option, ok) node ->
                match previous, node.Inputs with
                | Some p, [ x ] -> Some node, ok && x.Node = p
                | _ -> Some node, false)
            (List.tryHead inputNodes, true)
        |> snd

    inputNodes.Length = 1
    && model.Outputs.Length = 1
    && chained
    && (calls |> List.map _.Layer |> List.distinct).Length = calls.Length

let private formatOutputs (node: Node) =
    match node.Outputs with
    | [ single ] -> Shape.format single.Shape
    | many ->
        "["
        + (many |> List.map (fun s -> Shape.format s.Shape) |> String.concat ", ")
        + "]"

let private connections (model: Model) (layer: Layer) =
    let text =
        model.Nodes
        |> List.filter (fun n -> n.Layer = layer)
        |> List.collect (fun n ->
            n.Inputs
            |> List.map (fun t -> $"{t.Node.Layer.Name}[{t.Node.NodeIndex}][{t.Index}]"))
        |> String.concat ", "

    if text = "" then "-" else text

/// <summary>The summary text of a model, as Keras prints it with a line of <paramref name="lineLength"/>
/// characters (Keras's defaults: 88, or 108 when the table has a "Connected to" column).</summary>
let renderWith (lineLength: int option) (model: Model) =
    let sequential = isSequentialLike model

    let defaultLength, positions, header, aligns =
        if sequential then
            88, [ 0.45; 0.80; 1.0 ], [ "Layer (type)"; "Output Shape"; "Param #" ], [ Left; Left; Right ]
        else
            108,
            [ 0.3; 0.56; 0.74; 1.0 ],
            [ "Layer (type)"; "Output Shape"; "Param #"; "Connected to" ],
            [ Left; Left; Right; Left ]

    let widths = columnWidths (defaultArg lineLength defaultLength) positions

    let rows =
        model.Layers
        |> List.map (fun layer ->
            let lastNode = model.Nodes |> List.findBack (fun n -> n.Layer = layer)

            [
                yield $"{layer.Name} ({layer.ClassName})"
                yield formatOutputs lastNode
                yield (Layer.countParams layer).ToString("N0", Globalization.CultureInfo.InvariantCulture)
                if not sequential then
                    yield connections model layer
            ])

    let trainable = Model.trainableWeights model
    let nonTrainable = Model.nonTrainableWeights model

    let count ws =
        (Weights.count ws).ToString("N0", Globalization.CultureInfo.InvariantCulture)

    let all = trainable @ nonTrainable

    String.concat
        ""
        [
            $"Model: \"{model.Name}\"\n"
            renderTable widths aligns header rows
            $" Total params: {count all} ({readableSize (Weights.bytes all)})\n"
            $" Trainable params: {count trainable} ({readableSize (Weights.bytes trainable)})\n"
            $" Non-trainable params: {count nonTrainable} ({readableSize (Weights.bytes nonTrainable)})\n"
        ]

/// The summary text with Keras's default line length.
let render (model: Model) = renderWith None model

/// Prints the summary to standard output.
let print (model: Model) = Console.Write(render model)
