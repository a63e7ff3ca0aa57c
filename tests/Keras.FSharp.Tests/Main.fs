/// Runs every test and ends with the plain line "N passed, N failed".
module Main

open System
open Expecto
open Expecto.Impl

/// Runs a test body inside a TorchSharp dispose scope that only holds references: every tensor the test creates on
/// its thread stays reachable until the test ends, then is released to the finalizer as before (nothing is disposed,
/// so shared fixtures created inside a test survive). Why: TorchSharp passes a tensor's raw handle to native code,
/// so a temporary whose last use is that call (<c>t.permute(...).contiguous()</c>) can be finalized by a collection
/// another test triggers while the native call still reads it. A dump of such a crash (segfault in
/// THSTensor_contiguous/THSTensor_sizes) showed exactly that pattern in a test helper.
let private keepTensorsAlive (body: unit -> unit) =
    let scope = TorchSharp.torch.NewDisposeScope()

    try
        body ()
    finally
        scope.Detach(Seq.toArray scope.DisposablesView)
        scope.Dispose()

/// Every test of the assembly, each body wrapped in <see cref="keepTensorsAlive"/>.
let private allTests () =
    let tests =
        testFromThisAssembly ()
        |> Option.defaultWith (fun () -> failwith "no tests found in the test assembly")

    tests
    |> Test.replaceTestCode (fun name code ->
        let wrapped =
            match code with
            | Sync body -> Sync(fun () -> keepTensorsAlive body)
            | SyncWithCancel body -> SyncWithCancel(fun token -> keepTensorsAlive (fun () -> body token))
            | Async body -> Async(async { keepTensorsAlive (fun () -> Async.RunSynchronously body) })
            | AsyncFsCheck(config, stressConfig, body) ->
                AsyncFsCheck(
                    config,
                    stressConfig,
                    fun fsCheckConfig ->
                        async { keepTensorsAlive (fun () -> Async.RunSynchronously(body fsCheckConfig)) }
                )

        match name with
        | null -> TestCase(wrapped, Normal)
        | label -> TestLabel(label, TestCase(wrapped, Normal), Normal))

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
        runTestsWithCLIArgs [ CLIArguments.Printer printer; CLIArguments.No_Spinner ] argv (allTests ())

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
