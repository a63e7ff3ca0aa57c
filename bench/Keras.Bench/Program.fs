/// Benchmarks: `dotnet fsi build.fsx bench`. Each case reports fit's per-step time against a hand-written
/// TorchSharp loop doing the same work in the same run.
module Program

open System.IO
open Keras.Datasets

[<EntryPoint>]
let main argv =
    let repetitions = argv |> Array.tryHead |> Option.map int |> Option.defaultValue 3
    Keras.Utils.setRandomSeed 0

    printfn
        "Machine: %d cores, %s, %s"
        System.Environment.ProcessorCount
        (System.Runtime.InteropServices.RuntimeInformation.OSDescription)
        (System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription)

    printfn "TorchSharp threads: %d" (TorchSharp.torch.get_num_threads ())

    let mnist =
        [
            Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "..", "shared", "data", "mnist")
        ]
        |> List.tryFind Directory.Exists
        |> Option.map Mnist.loadFrom

    let x, y =
        match mnist with
        | Some data -> Tensors.ofImagesFlatScaled data.XTrain, Tensors.ofLabels data.YTrain
        | None -> TorchSharp.torch.rand (60000L, 784L), TorchSharp.torch.randint (10L, [| 60000L |])

    // A second argument keeps only the cases whose name contains it (e.g. "depthwise").
    let only = argv |> Array.tryItem 1

    let cases: (string * (unit -> Harness.Case)) list =
        [
            "mnist", fun () -> MnistMlp.case x y
            "resnet", fun () -> ToyResnet.case 512L
            "depthwise", fun () -> DepthwiseCnn.case 64L
        ]

    let results =
        cases
        |> List.filter (fun (key, _) -> only |> Option.forall (fun o -> key.Contains(o: string)))
        |> List.map (fun (_, make) -> Harness.measure repetitions (make ()))

    // Exit non-zero only if a case could not run; the ratios are reported, not asserted.
    if results |> List.forall (fun (l, h) -> l > 0.0 && h > 0.0) then
        0
    else
        1
