namespace Keras

open System
open System.IO
open SkiaSharp

/// Training curves: a <see cref="History"/> drawn with ScottPlot, one panel per loss or metric, training and
/// validation per epoch.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module HistoryPlot =
    /// <summary>The panels of a history: each name without its <c>val_</c> prefix, in the order <c>fit</c> recorded
    /// them, with the training series and the validation series when there is one.</summary>
    /// <example>A history of loss, accuracy, val_loss and val_accuracy gives
    /// <c>[ "loss", Some trainLoss, Some valLoss; "accuracy", Some trainAcc, Some valAcc ]</c>.</example>
    let panels (history: History) : (string * float list option * float list option) list =
        let names = history.History.Keys |> List.ofSeq

        let bases =
            names
            |> List.map (fun n -> if n.StartsWith "val_" then n.Substring 4 else n)
            |> List.distinct

        let find n =
            match history.History.TryGetValue n with
            | true, v -> Some v
            | _ -> None

        bases |> List.map (fun b -> b, find b, find ("val_" + b))

    let private plotOf (title: string) (train: float list option) (validation: float list option) =
        let plot = new ScottPlot.Plot()

        let add (label: string) (values: float list) =
            let ys = Array.ofList values
            let xs = Array.init ys.Length (fun i -> float (i + 1))
            let scatter = plot.Add.Scatter(xs, ys)
            scatter.LegendText <- label
            scatter.MarkerSize <- 5.0f

        train |> Option.iter (add "training")
        validation |> Option.iter (add "validation")
        plot.Title title |> ignore
        plot.XLabel "epoch" |> ignore
        plot.YLabel title |> ignore
        // Epochs are whole numbers: no ticks at 1.5.
        plot.Axes.Bottom.TickGenerator <- ScottPlot.TickGenerators.NumericAutomatic(IntegerTicksOnly = true)
        // Outside the data area, so that it never hides the last epochs' points.
        plot.ShowLegend(ScottPlot.Edge.Right) |> ignore
        plot

    /// <summary>Draws the training curves of <paramref name="history"/> to <paramref name="toFile"/>: a PNG, or an SVG
    /// when the name ends in <c>.svg</c>. One panel per loss or metric, stacked, each <paramref name="width"/> by
    /// <paramref name="panelHeight"/> pixels, training and validation values against the epoch (1-based).</summary>
    /// <returns>The full path of the file written.</returns>
    /// <exception cref="KerasException">When the history is empty or the file name is not .png or .svg.</exception>
    let save (width: int) (panelHeight: int) (toFile: string) (history: History) : string =
        let toFile = Path.GetFullPath toFile
        let panels = panels history

        if panels.IsEmpty then
            Errors.raiseKeras (InvalidArgument("History.plot", "history", "The history has no values to plot.", "{}"))

        Path.GetDirectoryName toFile
        |> Option.ofObj
        |> Option.iter (Directory.CreateDirectory >> ignore)

        let height = panelHeight * panels.Length

        let draw (canvas: SKCanvas) =
            canvas.Clear SKColors.White

            panels
            |> List.iteri (fun i (name, train, validation) ->
                use plot = plotOf name train validation
                // ScottPlot clears what it may draw on: each panel gets its own clip, moved into place.
                canvas.Save() |> ignore
                canvas.Translate(0.0f, float32 (i * panelHeight))
                canvas.ClipRect(SKRect.Create(float32 width, float32 panelHeight))
                plot.Render(canvas, width, panelHeight)
                canvas.Restore())

        match Path.GetExtension(toFile).ToLowerInvariant() with
        | ".png" ->
            use surface = SKSurface.Create(SKImageInfo(width, height))
            draw surface.Canvas
            use image = surface.Snapshot()
            use data = image.Encode(SKEncodedImageFormat.Png, 100)
            use stream = File.Create toFile
            data.SaveTo stream
        | ".svg" ->
            do
                use stream = File.Create toFile

                use canvas =
                    SKSvgCanvas.Create(SKRect.Create(float32 width, float32 height), stream)

                draw canvas
        | _ ->
            Errors.raiseKeras (
                InvalidArgument("History.plot", "to_file", "Expected a file ending in .png or .svg.", toFile)
            )

        toFile
