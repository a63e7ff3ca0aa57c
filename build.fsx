// Build script: `dotnet fsi build.fsx <target>`; targets: build, test, demo, format, bench, docs.
// `test` and `demo` do everything a fresh clone needs: tool restore, paket restore, Release build, run.
#r "nuget: Fake.Core.Target, 5.20.3"

open System
open System.Diagnostics
open System.IO
open Fake.Core

let root = __SOURCE_DIRECTORY__

/// The test run's closing "N passed, N failed" line, printed again after FAKE's own report so it stays last.
let mutable closingLine: string option = None

/// Runs a program in the repository root, streaming its output; fails the target on a non-zero exit.
let run (program: string) (args: string list) =
    let info =
        ProcessStartInfo(program, args, WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true)

    use proc = Process.Start info

    let rec pump () =
        match proc.StandardOutput.ReadLine() with
        | null -> ()
        | line ->
            Console.WriteLine line

            if Text.RegularExpressions.Regex.IsMatch(line, @"^\d+ passed, \d+ failed$") then
                closingLine <- Some line

            pump ()

    pump ()
    proc.WaitForExit()

    if proc.ExitCode <> 0 then
        failwithf "'%s %s' failed with exit code %d" program (String.Join(" ", args)) proc.ExitCode

let dotnet args = run "dotnet" args

/// The real data beside the repository (CI and developer machines have ../shared/data).
let sharedData sub =
    let path = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", sub))
    if Directory.Exists path then Some path else None

let args = fsi.CommandLineArgs |> Array.skip 1 |> List.ofArray
let context = Context.FakeExecutionContext.Create false "build.fsx" args
Context.setExecutionContext (Context.RuntimeContext.Fake context)

Target.create "restore" (fun _ ->
    dotnet [ "tool"; "restore" ]
    dotnet [ "paket"; "restore" ])

Target.create "build" (fun _ -> dotnet [ "build"; "Keras.Functional.sln"; "-c"; "Release" ])

Target.create "test" (fun _ ->
    dotnet
        [
            "run"
            "--no-build"
            "-c"
            "Release"
            "--project"
            "tests/Keras.FSharp.Tests"
            "--"
            "--summary"
        ])

Target.create "demo" (fun _ ->
    let data = sharedData "mnist" |> Option.toList

    dotnet (
        [
            "run"
            "--no-build"
            "-c"
            "Release"
            "--project"
            "examples/MnistDemo"
            "--"
        ]
        @ data
    ))

Target.create "format" (fun _ ->
    dotnet
        [
            "fantomas"
            "src/Keras.FSharp"
            "tests"
            "examples/MnistDemo"
            "examples/guide"
            "bench"
            "build.fsx"
        ])

Target.create "bench" (fun _ ->
    // `dotnet fsi build.fsx bench 7`: the number after the target is the repetitions per case (3 by default).
    let repetitions =
        args |> List.skipWhile (fun a -> a <> "bench") |> List.skip 1 |> List.truncate 1

    dotnet ([ "run"; "-c"; "Release"; "--project"; "bench/Keras.Bench"; "--" ] @ repetitions))

// The API site from the XML docs (fsdocs-tool, a local dotnet tool): output/docs/reference/index.html.
Target.create "docs" (fun _ ->
    dotnet
        [
            "fsdocs"
            "build"
            "--projects"
            "src/Keras.FSharp/Keras.FSharp.fsproj"
            "--properties"
            "Configuration=Release"
            "--output"
            "output/docs"
            "--clean"
        ])

open Fake.Core.TargetOperators

"restore" ==> "build" ==> "test" |> ignore
"build" ==> "demo" |> ignore
"restore" ==> "format" |> ignore
"restore" ==> "bench" |> ignore
"restore" ==> "docs" |> ignore

let target =
    args
    |> List.tryFind (fun a -> not (a.StartsWith "-"))
    |> Option.defaultValue "build"

try
    Target.run 1 target []
finally
    closingLine |> Option.iter (printfn "%s")
