/// Keras's progress output: "Epoch 1/2", then "750/750 ━━━━━━━━━━━━━━━━━━━━ 1s 863us/step - accuracy: 0.8425 - loss: 0.5733".
/// On a terminal the line updates in place (rendered by Spectre.Console); otherwise only finished lines are printed.
module Keras.Progress

open System
open System.Collections.Generic
open System.Diagnostics
open Spectre.Console

/// Keras's value format: four decimals, or scientific notation for small magnitudes.
let formatValue (v: float) =
    if abs v > 1e-3 || v = 0.0 then
        v.ToString("F4", Globalization.CultureInfo.InvariantCulture)
    else
        v.ToString("0.0000e+00", Globalization.CultureInfo.InvariantCulture)

/// Keras's per-step time: "2s/step", "15ms/step" or "863us/step".
let formatStepTime (seconds: float) =
    let r (x: float) =
        Math.Round(x, MidpointRounding.ToEven).ToString("F0", Globalization.CultureInfo.InvariantCulture)

    if seconds >= 1.0 || seconds = 0.0 then $"{r seconds}s/step"
    elif seconds >= 1e-3 then $"{r (seconds * 1e3)}ms/step"
    else $"{r (seconds * 1e6)}us/step"

/// Keras's ETA: "5s", "1:05" or "1:01:05".
let formatEta (seconds: float) =
    let s = int seconds

    if seconds > 3600.0 then
        sprintf "%d:%02d:%02d" (s / 3600) ((s % 3600) / 60) (s % 60)
    elif seconds > 60.0 then
        sprintf "%d:%02d" (s / 60) (s % 60)
    else
        $"{s}s"

/// The values part of a line: " - name: value" in name order, as Keras's logs come out sorted.
let formatLogs (logs: IReadOnlyDictionary<string, float>) =
    logs
    |> Seq.sortBy _.Key
    |> Seq.map (fun kv -> $" - {kv.Key}: {formatValue kv.Value}")
    |> String.concat ""

/// A progress line's pieces, so the terminal can colour the bar and plain output can print it as text.
type Line =
    {
        /// <summary>The step counter, right-aligned: <c>" 40/750"</c>.</summary>
        Count: string
        /// <summary>How many of the bar's 20 cells are done.</summary>
        Done: int
        /// <summary>How many of the bar's 20 cells remain (20 - Done).</summary>
        Remaining: int
        /// <summary>Time, time per step and the running logs: <c>" 3s 57ms/step - loss: 0.5733"</c>.</summary>
        Info: string
    }

    /// The line as plain text.
    member this.Text =
        $"""{this.Count} {String.replicate this.Done "━"}{String.replicate this.Remaining "━"}{this.Info}"""

/// <summary>The verbose=1 line after <paramref name="current"/> of <paramref name="target"/> steps.</summary>
let line (current: int) (target: int) (elapsed: float) (stepTime: float) (logs: IReadOnlyDictionary<string, float>) =
    let digits = int (floor (log10 (float (max target 1)))) + 1
    let count = (string current).PadLeft(digits) + "/" + string target
    let doneWidth = int (20.0 * float current / float (max target 1))

    let time =
        if current >= target then
            $"{Math.Round(elapsed, MidpointRounding.ToEven):F0}s"
        else
            formatEta (stepTime * float (target - current))

    {
        Count = count
        Done = doneWidth
        Remaining = 20 - doneWidth
        Info = $" {time} {formatStepTime stepTime}{formatLogs logs}"
    }

/// <summary>The verbose=2 line: "313/313 - 0s - 341us/step - accuracy: 0.9613 - loss: 0.1288".</summary>
let summaryLine (target: int) (elapsed: float) (stepTime: float) (logs: IReadOnlyDictionary<string, float>) =
    $"{target}/{target} - {Math.Round(elapsed, MidpointRounding.ToEven):F0}s - {formatStepTime stepTime}{formatLogs logs}"

/// Whether standard output is an interactive terminal (then lines update in place).
let isTerminal () =
    not Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi

/// Tracks one epoch's (or evaluation's) steps and prints as Keras's progress bar does for a verbosity.
/// On a terminal the running line is a Spectre.Console live display; the finished line is printed after it.
type Bar(target: int, verbose: int) =
    let clock = Stopwatch.StartNew()
    let mutable afterFirst = 0.0
    let mutable lastDraw = -1.0
    let mutable live: LiveDisplayContext option = None
    let dynamic = verbose = 1 && isTerminal ()

    let stepTime (current: int) =
        let now = clock.Elapsed.TotalSeconds

        if current > 1 && afterFirst > 0.0 then
            (now - afterFirst) / float (current - 1)
        elif current > 0 then
            now / float current
        else
            0.0

    let markup (l: Line) =
        $"""[bold]{Markup.Escape l.Count}[/] [green]{String.replicate l.Done "━"}[/][grey]{String.replicate l.Remaining "━"}[/]{Markup.Escape l.Info}"""

    /// Runs the steps; on a terminal, inside a live display that <see cref="Update"/> redraws.
    member _.Run(work: unit -> 'T) : 'T =
        if dynamic then
            AnsiConsole
                .Live(Text(""))
                .AutoClear(true)
                .Start(fun ctx ->
                    live <- Some ctx
                    let result = work ()
                    live <- None
                    result)
        else
            work ()

    /// Records that <paramref name="current"/> steps are done, redrawing at most every 50 ms on a terminal.
    member _.Update(current: int, logs: IReadOnlyDictionary<string, float>) =
        if current = 1 then
            afterFirst <- clock.Elapsed.TotalSeconds

        let now = clock.Elapsed.TotalSeconds

        match live with
        | Some ctx when now - lastDraw >= 0.05 ->
            lastDraw <- now
            ctx.UpdateTarget(Markup(markup (line current target now (stepTime current) logs)))
            ctx.Refresh()
        | _ -> ()

    /// Prints the final line with the epoch's values (validation included).
    member _.Finish(logs: IReadOnlyDictionary<string, float>) =
        let now = clock.Elapsed.TotalSeconds
        let perStep = stepTime target

        match verbose with
        | 1 when dynamic -> AnsiConsole.MarkupLine(markup (line target target now perStep logs))
        | 1 -> Console.WriteLine((line target target now perStep logs).Text)
        | 2 -> Console.WriteLine(summaryLine target now perStep logs)
        | _ -> ()
