namespace Keras

open System
open System.Collections.Generic
open System.Globalization
open System.IO
open System.Text
open System.Text.RegularExpressions

/// Python's <c>str.format</c> for checkpoint file names: <c>{epoch:02d}</c>, <c>{val_loss:.2f}</c>, ...
module internal CheckpointPath =
    let private spec =
        Regex(@"^(?<zero>0)?(?<width>\d+)?(?:\.(?<precision>\d+))?(?<kind>[dfFeE]?)$")

    /// Python's <c>repr</c> of a float: the shortest round-trip text, always with a decimal point or an exponent.
    let private pythonRepr (v: float) =
        if Double.IsNaN v then
            "nan"
        elif Double.IsPositiveInfinity v then
            "inf"
        elif Double.IsNegativeInfinity v then
            "-inf"
        else
            let text = v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e")

            if text.Contains '.' || text.Contains 'e' then
                text
            else
                text + ".0"

    let private invalid (filepath: string) (reason: string) : 'T =
        Errors.raiseKeras (
            InvalidArgument(
                "ModelCheckpoint",
                "filepath",
                $"Failed to format this callback filepath: \"{filepath}\". Reason: {reason}",
                filepath
            )
        )

    /// Formats one value with a Python format spec (the subset [0][width][.precision][d|f|e]).
    let private formatValue (filepath: string) (name: string) (value: Choice<int, float>) (format: string) =
        let m = spec.Match format

        if not m.Success then
            invalid filepath $"the format spec '{format}' of '{name}' is not supported (use e.g. 02d, .2f, .3e)."

        let precision =
            if m.Groups["precision"].Success then
                Some(int m.Groups["precision"].Value)
            else
                None

        let body =
            match m.Groups["kind"].Value, value with
            | "", Choice1Of2 i -> string i
            | "", Choice2Of2 f when precision.IsNone -> pythonRepr f
            | "d", Choice1Of2 i -> string i
            | "d", Choice2Of2 f when f = Math.Floor f && not (Double.IsInfinity f) ->
                (int64 f).ToString(CultureInfo.InvariantCulture)
            | "d", Choice2Of2 _ -> invalid filepath $"Unknown format code 'd' for object of type 'float' ('{name}')."
            | "", v ->
                let f =
                    match v with
                    | Choice1Of2 i -> float i
                    | Choice2Of2 f -> f

                f
                    .ToString("G" + string (max 1 (defaultArg precision 6)), CultureInfo.InvariantCulture)
                    .Replace("E", "e")
            | ("f" | "F"), v ->
                let f =
                    match v with
                    | Choice1Of2 i -> float i
                    | Choice2Of2 f -> f

                if Double.IsNaN f then
                    "nan"
                elif Double.IsInfinity f then
                    (if f > 0.0 then "inf" else "-inf")
                else
                    f.ToString("F" + string (defaultArg precision 6), CultureInfo.InvariantCulture)
            | kind, v ->
                let f =
                    match v with
                    | Choice1Of2 i -> float i
                    | Choice2Of2 f -> f

                let digits = defaultArg precision 6
                let mantissa = if digits = 0 then "0" else "0." + String('0', digits)
                let text = f.ToString(mantissa + "e+00", CultureInfo.InvariantCulture)
                if kind = "E" then text.ToUpperInvariant() else text

        let width =
            if m.Groups["width"].Success then
                int m.Groups["width"].Value
            else
                0

        if body.Length >= width then
            body
        elif m.Groups["zero"].Success then
            let negative = body.StartsWith "-"
            let digits = if negative then body.Substring 1 else body

            (if negative then "-" else "")
            + digits.PadLeft(width - (if negative then 1 else 0), '0')
        else
            body.PadLeft width

    /// Replaces <c>{name}</c> and <c>{name:spec}</c> by the epoch (1-based, as Keras formats it) or a log value;
    /// <c>{{</c> and <c>}}</c> are literal braces.
    let format (filepath: string) (epoch: int) (logs: IReadOnlyDictionary<string, float>) =
        let out = StringBuilder()
        let mutable i = 0

        while i < filepath.Length do
            let c = filepath[i]

            if c = '{' && i + 1 < filepath.Length && filepath[i + 1] = '{' then
                out.Append '{' |> ignore
                i <- i + 2
            elif c = '}' && i + 1 < filepath.Length && filepath[i + 1] = '}' then
                out.Append '}' |> ignore
                i <- i + 2
            elif c = '{' then
                let close = filepath.IndexOf('}', i)

                if close < 0 then
                    invalid filepath "Single '{' encountered in format string."

                let field = filepath.Substring(i + 1, close - i - 1)

                let name, spec =
                    match field.IndexOf ':' with
                    | -1 -> field, ""
                    | k -> field.Substring(0, k), field.Substring(k + 1)

                let value =
                    if name = "epoch" then
                        Choice1Of2(epoch + 1)
                    else
                        match logs.TryGetValue name with
                        | true, v -> Choice2Of2 v
                        | _ ->
                            let known = "epoch" :: (logs.Keys |> Seq.sort |> List.ofSeq) |> String.concat ", "
                            invalid filepath $"KeyError: '{name}' (available: {known})."

                out.Append(formatValue filepath name value spec) |> ignore
                i <- close + 1
            elif c = '}' then
                invalid filepath "Single '}' encountered in format string."
            else
                out.Append c |> ignore
                i <- i + 1

        out.ToString()

/// <summary>Keras's <c>ModelCheckpoint</c> callback: saves the model's weights at the end of every epoch, or with
/// <paramref name="saveBestOnly"/> only when <paramref name="monitor"/> improves on its best value so far.</summary>
/// <remarks>
/// <para>The file name may hold Python format placeholders, filled at each save as Keras fills them: <c>{epoch}</c>
/// and <c>{epoch:02d}</c> (1-based), and any log value, e.g. <c>{val_loss:.2f}</c>; so
/// <c>"ckpt-{epoch:02d}.weights.h5"</c> keeps one file per saved epoch while a fixed name is overwritten.</para>
/// <para>Only weights are saved for now, in Keras 3's <c>.weights.h5</c> layout (<see cref="WeightsFile.saveWeights"/>),
/// so <paramref name="filepath"/> must end in <c>.weights.h5</c>. Saving the full model as <c>.keras</c> comes later;
/// a <c>.keras</c> path or <c>saveWeightsOnly = false</c> is rejected when the callback is made.</para>
/// <para>Each save goes to a temporary file that then replaces the target, so an interrupted save leaves the previous
/// checkpoint intact.</para>
/// </remarks>
/// <param name="filepath">Where to save: a path ending in <c>.weights.h5</c>, with optional placeholders.</param>
/// <param name="monitor">The log value to watch with <paramref name="saveBestOnly"/>; "val_loss" by default.</param>
/// <param name="verbose">0 silent (default); 1 prints a line for each save or missed improvement, as Keras does.</param>
/// <param name="saveBestOnly">Save only when the monitored value improves; false by default.</param>
/// <param name="saveWeightsOnly">Must be true (the default): only weights saving is supported for now.</param>
/// <param name="mode">Whether smaller (Min) or larger (Max) is better; Auto (default) picks Max for accuracies and AUC.</param>
/// <exception cref="KerasException">When the path ends in <c>.keras</c>, does not end in <c>.weights.h5</c>, or
/// <paramref name="saveWeightsOnly"/> is false.</exception>
type ModelCheckpoint
    (filepath: string, ?monitor: string, ?verbose: int, ?saveBestOnly: bool, ?saveWeightsOnly: bool, ?mode: MonitorMode)
    =
    inherit Callback()
    let monitorName = defaultArg monitor "val_loss"
    let verbose = defaultArg verbose 0
    let saveBestOnly = defaultArg saveBestOnly false
    let tracker = Monitor(monitorName, defaultArg mode Auto, 0.0)
    let saved = ResizeArray<string>()

    let reject (argument: string) (reason: string) (received: string) : unit =
        Errors.raiseKeras (InvalidArgument("ModelCheckpoint", argument, reason, received))

    do
        if isNull filepath || String.IsNullOrWhiteSpace filepath then
            reject "filepath" "A file path is required." "\"\""
        elif filepath.EndsWith(".keras", StringComparison.OrdinalIgnoreCase) then
            reject
                "filepath"
                "Saving the full model (`.keras`) is not supported yet: ModelCheckpoint saves weights only. Use a filepath ending in `.weights.h5`."
                filepath
        elif not (defaultArg saveWeightsOnly true) then
            reject
                "save_weights_only"
                "Only weights can be saved for now (full `.keras` model saving comes later); leave saveWeightsOnly = true."
                "False"
        elif not (filepath.EndsWith(".weights.h5", StringComparison.Ordinal)) then
            reject
                "filepath"
                "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end in `.weights.h5` (Keras weights format)."
                filepath

    let fixed5 (v: float) =
        if Double.IsPositiveInfinity v then "inf"
        elif Double.IsNegativeInfinity v then "-inf"
        else v.ToString("F5", CultureInfo.InvariantCulture)

    let save (model: Model) (path: string) =
        let folder = Path.GetDirectoryName(Path.GetFullPath path)

        if not (Directory.Exists folder) then
            Directory.CreateDirectory folder |> ignore

        WeightsFile.saveWeights model path
        saved.Add path

    /// <summary>The file name for an epoch (0-based, as in the callback hooks) and its logs.</summary>
    /// <exception cref="KerasException">When a placeholder names no log value or has an unsupported format.</exception>
    member _.FormatPath(epoch: int, logs: IReadOnlyDictionary<string, float>) =
        CheckpointPath.format filepath epoch logs

    /// The best monitored value so far (infinite before the first save with <c>saveBestOnly</c>).
    member _.Best = tracker.Best

    /// The files written so far, in order (a fixed name appears once per save).
    member _.SavedPaths = List.ofSeq saved

    override this.OnEpochEnd(control, epoch, logs) =
        let path = this.FormatPath(epoch, logs)

        if saveBestOnly then
            match tracker.Read logs with
            | None -> eprintfn $"Can save best model only with {monitorName} available, skipping."
            | Some current ->
                let previous = tracker.Best

                if tracker.Improves current then
                    if verbose > 0 then
                        Console.WriteLine
                            $"\nEpoch {epoch + 1}: {monitorName} improved from {fixed5 previous} to {fixed5 current}, saving model to {path}"

                    save control.Model path
                elif verbose > 0 then
                    Console.WriteLine $"\nEpoch {epoch + 1}: {monitorName} did not improve from {fixed5 previous}"
        else
            if verbose > 0 then
                Console.WriteLine $"\nEpoch {epoch + 1}: saving model to {path}"

            save control.Model path
