// The guide's section in examples/guide/MixAndMatch.fs. Run: dotnet fsi examples/guide/mix_and_match.fsx [--quick]
#load "References.fsx" "Example.fs" "MixAndMatch.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.MixAndMatch.main run |> ignore
