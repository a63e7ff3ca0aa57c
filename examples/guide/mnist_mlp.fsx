// The guide's "Introduction" section: the MNIST MLP. Run: dotnet fsi examples/guide/mnist_mlp.fsx [--quick] [mnist folder]
#load "References.fsx" "Example.fs" "MnistMlp.fs"

let args = fsi.CommandLineArgs |> Array.skip 1
let run = Examples.Example.forScript __SOURCE_DIRECTORY__ args

let folder =
    args
    |> Array.tryFind (fun a -> not (a.StartsWith "--"))
    |> Option.orElse (Examples.MnistMlp.findData (System.IO.Path.Combine(__SOURCE_DIRECTORY__, "..", "..")))

Examples.MnistMlp.main run folder |> ignore
