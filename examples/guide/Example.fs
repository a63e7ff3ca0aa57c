/// What every guide example shares: quick mode, where output goes, where pictures go.
module Examples.Example

open System
open System.IO

/// How an example runs: quick (a few seconds: small data, one epoch) or in full; what it prints to; where it writes.
type Run =
    {
        /// Small data and one epoch, so the test suite can run every example in seconds.
        Quick: bool
        /// Prints one line (the scripts print to the console; the tests collect the lines).
        Print: string -> unit
        /// Folder for pictures (plot_model, training curves).
        OutDir: string
    }

/// Quick when the script is given --quick or KERAS_EXAMPLES_QUICK=1 is set.
let isQuick (args: string seq) =
    Seq.contains "--quick" args
    || Environment.GetEnvironmentVariable "KERAS_EXAMPLES_QUICK" = "1"

/// A run for a script: console output, pictures beside the script in out/.
let forScript (scriptDir: string) (args: string seq) =
    Keras.Native.NativeLoader.ensureLoaded ()

    {
        Quick = isQuick args
        Print = fun line -> Console.WriteLine line
        OutDir = Path.Combine(scriptDir, "out")
    }

/// Writes a model's picture, or says why it could not (Graphviz not installed) and where the DOT file is.
let plot (run: Run) (model: Keras.Model) (file: string) (showShapes: bool) =
    Directory.CreateDirectory run.OutDir |> ignore
    let path = Path.Combine(run.OutDir, file)

    try
        let written = Keras.Plot.Model(model, path, showShapes = showShapes)
        run.Print $"Wrote {Path.GetFileName written}"
    with :? Keras.KerasException as e ->
        run.Print $"No picture: {e.Message}"

/// The first number of training samples in quick mode, all of them otherwise.
let take (run: Run) (quickCount: int64) (x: TorchSharp.torch.Tensor) =
    if run.Quick then
        x.narrow (0L, 0L, min quickCount x.shape[0])
    else
        x
