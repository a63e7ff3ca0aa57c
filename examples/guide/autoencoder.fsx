// The guide's section in examples/guide/Autoencoder.fs. Run: dotnet fsi examples/guide/autoencoder.fsx [--quick]
#load "References.fsx" "Example.fs" "Autoencoder.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.Autoencoder.main run |> ignore
