// The guide's section in examples/guide/ToyResNet.fs. Run: dotnet fsi examples/guide/toy_resnet.fsx [--quick]
#load "References.fsx" "Example.fs" "ToyResNet.fs"

let run =
    Examples.Example.forScript __SOURCE_DIRECTORY__ (fsi.CommandLineArgs |> Array.skip 1)

Examples.ToyResNet.main run |> ignore
