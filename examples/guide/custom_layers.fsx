// The guide's section in examples/guide/CustomLayers.fs. Run: dotnet fsi examples/guide/custom_layers.fsx [--quick]
#load "References.fsx" "Example.fs" "CustomLayers.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.CustomLayers.main run |> ignore
