// The guide's "Extract and reuse nodes" section in examples/guide/IntermediateOutputs.fs.
// Run: dotnet fsi examples/guide/intermediate_outputs.fsx [--quick] [vgg19 weights file]
#load "References.fsx" "Example.fs" "IntermediateOutputs.fs"

let args = fsi.CommandLineArgs |> Array.skip 1
let run = Examples.Example.forScript __SOURCE_DIRECTORY__ args
Examples.IntermediateOutputs.main run (args |> Array.tryFind (fun a -> not (a.StartsWith "--"))) |> ignore
