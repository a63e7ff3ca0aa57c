/// Runs every test and ends with the plain line "N passed, N failed".
module Main

open System
open Expecto
open Expecto.Impl

/// Runs the tests and prints the closing line.
let private runAll (argv: string[]) =
    let mutable counts = 0, 0

    let printer =
        { TestPrinters.defaultPrinter with
            summary =
                fun config summary ->
                    async {
                        do! TestPrinters.defaultPrinter.summary config summary
                        counts <- summary.passed.Length, summary.failed.Length + summary.errored.Length
                    }
        }

    let exitCode =
        runTestsInAssemblyWithCLIArgs [ CLIArguments.Printer printer; CLIArguments.No_Spinner ] argv

    let passed, failed = counts
    // Expecto replaces Console.Out with a writer that pads lines and may leave colour codes pending;
    // write the closing line straight to the standard output stream so it stands alone, as plain text.
    Console.Out.Flush()
    use stdout = Console.OpenStandardOutput()
    let line = Text.Encoding.UTF8.GetBytes($"\n{passed} passed, {failed} failed\n")
    stdout.Write(line, 0, line.Length)
    stdout.Flush()
    exitCode

[<EntryPoint>]
let main argv =
    // TorchSharp must find its native libraries before any test touches a tensor; tests run in parallel.
    Keras.Native.NativeLoader.ensureLoaded ()

    // Long attack harnesses, outside the test run: --attack N, --save-loop FOLDER (until killed), --save-check FOLDER.
    match List.ofArray argv with
    | [ "--attack"; n ] -> HostileFileTests.attackHarness (int n)
    | [ "--save-loop"; folder ] ->
        HostileFileTests.saveLoop folder
        0
    | [ "--save-check"; folder ] -> HostileFileTests.saveCheck folder
    | _ -> runAll argv
