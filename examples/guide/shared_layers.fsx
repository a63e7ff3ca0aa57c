// The guide's section in examples/guide/SharedLayers.fs. Run: dotnet fsi examples/guide/shared_layers.fsx [--quick]
#load "References.fsx" "Example.fs" "SharedLayers.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.SharedLayers.main run |> ignore
