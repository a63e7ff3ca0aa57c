// The guide's "When to use the functional API" in examples/guide/WhenToUse.fs.
// Run: dotnet fsi examples/guide/when_to_use.fsx [--quick]
#load "References.fsx" "Example.fs" "WhenToUse.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.WhenToUse.main run |> ignore
