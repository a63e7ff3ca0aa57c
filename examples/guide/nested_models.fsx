// The guide's section in examples/guide/NestedModels.fs. Run: dotnet fsi examples/guide/nested_models.fsx [--quick]
#load "References.fsx" "Example.fs" "NestedModels.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.NestedModels.main run |> ignore
