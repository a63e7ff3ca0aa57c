// Build script: `dotnet fsi build.fsx <target>`; targets: build, test, pack, consumer, demo, format, bench, docs.
// `test` and `demo` do everything a fresh clone needs: tool restore, paket restore, Release build, run.
#r "nuget: Fake.Core.Target, 5.20.3"

open System
open System.Diagnostics
open System.IO
open Fake.Core

let root = __SOURCE_DIRECTORY__

/// The test run's closing "N passed, N failed" line, printed again after FAKE's own report so it stays last.
let mutable closingLine: string option = None

/// The "N passed, N failed" counts of each test project's run, in order.
let testCounts = Collections.Generic.List<string * int * int>()

let private countsPattern = @"^(\d+) passed, (\d+) failed$"

/// Runs a program in the repository root, streaming its output; returns its exit code. A test run's own
/// "N passed, N failed" line is echoed with the project's name in front (the closing line is the sum of all runs).
let runCode (label: string) (program: string) (args: string list) =
    let info =
        ProcessStartInfo(program, args, WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true)

    use proc = Process.Start info

    let rec pump () =
        match proc.StandardOutput.ReadLine() with
        | null -> ()
        | line ->
            let m = Text.RegularExpressions.Regex.Match(line, countsPattern)

            if m.Success then
                testCounts.Add(label, int m.Groups[1].Value, int m.Groups[2].Value)
                Console.WriteLine $"{label}: {line}"
            else
                Console.WriteLine line

            pump ()

    pump ()
    proc.WaitForExit()
    proc.ExitCode

/// Runs a program in the repository root, streaming its output; fails the target on a non-zero exit.
let run (program: string) (args: string list) =
    let code = runCode program program args

    if code <> 0 then
        failwithf "'%s %s' failed with exit code %d" program (String.Join(" ", args)) code

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
    // The F# suite (Expecto) prints its own counts line; the C# suite (xunit) writes a TRX file whose counters are read.
    let fsharp =
        runCode
            "Keras.FSharp.Tests"
            "dotnet"
            [
                "run"
                "--no-build"
                "-c"
                "Release"
                "--project"
                "tests/Keras.FSharp.Tests"
                "--"
                "--summary"
                // One test at a time: on 2 cores libtorch's own threads already use the machine, and the RSS test
                // measures this process alone. (Parallel runs crashed in THSTensor_contiguous/THSTensor_sizes: a dump
                // showed TorchSharp finalizing a chained temporary during its native call. Main.fs now keeps each
                // test's tensors reachable until the test ends, and eager calls run in dispose scopes; parallel runs
                // pass again, e.g. `dotnet run --project tests/Keras.FSharp.Tests -c Release -- --summary`.)
                "--sequenced"
            ]

    let results =
        Path.Combine(Path.GetTempPath(), $"keras-csharp-tests-{Guid.NewGuid():N}")

    let csharp =
        runCode
            "Keras.CSharp.Tests"
            "dotnet"
            [
                "test"
                "tests/Keras.CSharp.Tests"
                "--no-build"
                "-c"
                "Release"
                "--logger"
                "trx;LogFileName=csharp.trx"
                "--logger"
                "console;verbosity=minimal"
                "--results-directory"
                results
            ]

    let trx = Path.Combine(results, "csharp.trx")

    if File.Exists trx then
        let counters =
            Xml.Linq.XDocument.Load(trx).Descendants()
            |> Seq.find (fun e -> e.Name.LocalName = "Counters")

        let count (name: string) =
            match counters.Attribute(Xml.Linq.XName.Get name) with
            | null -> 0
            | a -> int a.Value

        let passed = count "passed"
        let failed = count "failed" + count "error" + count "timeout" + count "aborted"
        testCounts.Add("Keras.CSharp.Tests", passed, failed)
        Console.WriteLine $"Keras.CSharp.Tests: {passed} passed, {failed} failed"
        Directory.Delete(results, true)

    let passed = testCounts |> Seq.sumBy (fun (_, p, _) -> p)
    let failed = testCounts |> Seq.sumBy (fun (_, _, f) -> f)
    closingLine <- Some $"{passed} passed, {failed} failed"

    if fsharp <> 0 || csharp <> 0 || testCounts.Count < 2 then
        failwithf "tests failed (exit codes: F# %d, C# %d)" fsharp csharp)

/// Paket writes each dependency as an exact pin ("[10.1.401]"); a library should ask for a minimum, so an app with a
/// newer FSharp.Core or TorchSharp-cpu restores without NU1608. Rewrites the nuspec inside the package in place.
let relaxPins (nupkg: string) =
    use zip = Compression.ZipFile.Open(nupkg, Compression.ZipArchiveMode.Update)
    let entry = zip.Entries |> Seq.find (fun e -> e.FullName.EndsWith ".nuspec")

    let text =
        use reader = new StreamReader(entry.Open())
        reader.ReadToEnd()


    let relaxed =
        Text.RegularExpressions.Regex.Replace(text, @"version=""\[([^,\]]+)\]""", @"version=""$1""")

    let name = entry.FullName
    entry.Delete()
    use writer = new StreamWriter(zip.CreateEntry(name).Open())
    writer.Write relaxed

/// A symbols package (.snupkg) beside the .nupkg: its nuspec marked SymbolsPackage, and the portable PDB.
let symbolsPackage (nupkg: string) (pdb: string) =
    use source = Compression.ZipFile.OpenRead nupkg
    let entry = source.Entries |> Seq.find (fun e -> e.FullName.EndsWith ".nuspec")

    let nuspec =
        use reader = new StreamReader(entry.Open())
        reader.ReadToEnd()


    let nuspec =
        nuspec.Replace("</metadata>", "<packageTypes><packageType name=\"SymbolsPackage\" /></packageTypes></metadata>")

    let target = Path.ChangeExtension(nupkg, ".snupkg")
    File.Delete target
    use zip = Compression.ZipFile.Open(target, Compression.ZipArchiveMode.Create)

    do
        use w = new StreamWriter(zip.CreateEntry(entry.FullName).Open())
        w.Write nuspec

    use output = zip.CreateEntry("lib/net10.0/" + Path.GetFileName pdb).Open()
    use input = File.OpenRead pdb
    input.CopyTo output

Target.create "pack" (fun _ ->
    // Keras.FSharp and Keras.CSharp as .nupkg + .snupkg in artifacts/ (XML docs and README inside), dependencies as
    // minimum versions.
    for name in [ "Keras.FSharp"; "Keras.CSharp" ] do
        dotnet [ "pack"; $"src/{name}"; "-c"; "Release"; "--no-build"; "-o"; "artifacts" ]

        let nupkg =
            Directory.GetFiles(Path.Combine(root, "artifacts"), $"{name}.*.nupkg")
            |> Array.exactlyOne

        relaxPins nupkg
        symbolsPackage nupkg (Path.Combine(root, "src", name, "bin", "Release", "net10.0", $"{name}.pdb")))

Target.create "consumer" (fun _ ->
    // A fresh app in a temporary folder restores Keras.CSharp from artifacts/ (NuGet's cache copies of this version
    // are removed first, so the packages just packed are the ones used) and runs tests/Consumer/Program.cs.
    let dir = Path.Combine(Path.GetTempPath(), $"keras-consumer-{Guid.NewGuid():N}")
    Directory.CreateDirectory dir |> ignore
    let version = "0.1.0"

    let cache =
        Environment.GetEnvironmentVariable "NUGET_PACKAGES"
        |> Option.ofObj
        |> Option.defaultValue (
            Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".nuget", "packages")
        )

    for id in [ "keras.csharp"; "keras.fsharp" ] do
        let cached = Path.Combine(cache, id, version)

        if Directory.Exists cached then
            Directory.Delete(cached, true)

    File.WriteAllText(
        Path.Combine(dir, "nuget.config"),
        $"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="{Path.Combine(root, "artifacts")}" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>"""
    )

    File.WriteAllText(
        Path.Combine(dir, "Consumer.csproj"),
        $"""<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Keras.CSharp" Version="{version}" />
  </ItemGroup>
</Project>"""
    )

    File.Copy(Path.Combine(root, "tests", "Consumer", "Program.cs"), Path.Combine(dir, "Program.cs"))

    try
        dotnet [ "run"; "--project"; dir; "-c"; "Release" ]
    finally
        Directory.Delete(dir, true))

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

    // glibc returns freed blocks above 128 KiB to the system at once and re-faults them at the next step: thousands of
    // page faults a step, landing on one side or the other by allocation order, swung ratios by up to 50 % between
    // runs. Both sides keep their freed memory with these thresholds, so the ratios compare the work done. Set only
    // for the bench process (and only when not set already); the library never changes a process's allocator.
    if String.IsNullOrEmpty(Environment.GetEnvironmentVariable "GLIBC_TUNABLES") then
        Environment.SetEnvironmentVariable(
            "GLIBC_TUNABLES",
            "glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824"
        )

    dotnet ([ "run"; "-c"; "Release"; "--project"; "bench/Keras.Bench"; "--" ] @ repetitions))

// The API site from the XML docs (fsdocs-tool, a local dotnet tool): output/docs/reference/index.html.
// Links: KERAS_DOCS_ROOT is the URL the site is published at (default: this clone's output/docs as a file:// URL, so the
// site browses from disk); KERAS_REPOSITORY_URL is the public repository (Directory.Build.props makes it RepositoryUrl
// and PackageProjectUrl). The project has no public URL yet: without one, "Source" links open this clone's files.
Target.create "docs" (fun _ ->
    // fsdocs caches the cracked projects in .fsdocs and reuses a failed crack even with --clean.
    if Directory.Exists ".fsdocs" then
        Directory.Delete(".fsdocs", true)

    // --clean warns when there is nothing to clean yet.
    Directory.CreateDirectory(Path.Combine("output", "docs")) |> ignore

    let setting name =
        Environment.GetEnvironmentVariable name
        |> Option.ofObj
        |> Option.filter (String.IsNullOrWhiteSpace >> not)

    let withSlash (url: string) =
        if url.EndsWith "/" then url else url + "/"

    let siteRoot =
        setting "KERAS_DOCS_ROOT"
        |> Option.defaultValue (Uri(Path.Combine(root, "output", "docs") + "/").AbsoluteUri)
        |> withSlash

    let repository =
        match setting "KERAS_REPOSITORY_URL" with
        | Some _ -> []
        | None ->
            let clone = Uri(withSlash root).AbsoluteUri
            // fsdocs joins the source repository and a file's path with a "/".
            [
                $"RepositoryUrl={clone}"
                $"""FsDocsSourceRepository={clone.TrimEnd '/'}"""
                $"FsDocsSourceFolder={root}"
            ]

    dotnet (
        [
            "fsdocs"
            "build"
            "--projects"
            "src/Keras.FSharp/Keras.FSharp.fsproj"
            "--properties"
            "Configuration=Release"
            // docs/release_notes.md, a page of the site.
            $"FsDocsReleaseNotesLink={siteRoot}release_notes.html"
        ]
        @ repository
        @ [ "--parameters"; "root"; siteRoot; "--output"; "output/docs"; "--clean" ]
    )

    // fsdocs skips a project it cannot crack (e.g. not restored) and still succeeds: an empty API site is a failure.
    if not (Directory.Exists(Path.Combine("output", "docs", "reference"))) then
        failwith "fsdocs wrote no API reference (output/docs/reference); see the cracking messages above")

open Fake.Core.TargetOperators

"restore" ==> "build" ==> "test" |> ignore
"build" ==> "demo" |> ignore
"build" ==> "pack" ==> "consumer" |> ignore
"restore" ==> "format" |> ignore
"restore" ==> "bench" |> ignore
"build" ==> "docs" |> ignore

let target =
    args
    |> List.tryFind (fun a -> not (a.StartsWith "-"))
    |> Option.defaultValue "build"

try
    Target.run 1 target []
finally
    closingLine |> Option.iter (printfn "%s")
