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
            "mnist predict", fun () -> MnistMlp.predictCase x 512L 1
            "mnist predict", fun () -> MnistMlp.predictCase x 8192L 256
            "resnet", fun () -> ToyResnet.case 512L
            "resnet predict", fun () -> ToyResnet.predictCase 64L 1
            "resnet predict", fun () -> ToyResnet.predictCase 1024L 256
            "depthwise", fun () -> DepthwiseCnn.case 64L
            "depthwise predict", fun () -> DepthwiseCnn.predictCase 16L 1
            "depthwise predict", fun () -> DepthwiseCnn.predictCase 256L 256
            "ticket", fun () -> TicketRouting.case 1280L
            "ticket predict", fun () -> TicketRouting.predictCase 128L 1
            "ticket predict", fun () -> TicketRouting.predictCase 2048L 256
            "transformer", fun () -> TransformerBlock.case 512L
            "transformer predict", fun () -> TransformerBlock.predictCase 128L 1
            "transformer predict", fun () -> TransformerBlock.predictCase 2048L 256
        ]

    let rows =
        cases
        |> List.filter (fun (key, _) -> only |> Option.forall (fun o -> key.Contains(o: string)))
        |> List.map (fun (_, make) -> Harness.measure repetitions (make ()))

    // The table goes to bench/results.md (which the README links) when every case ran.
    let machine =
        let cpu =
            try
                File.ReadAllLines "/proc/cpuinfo"
                |> Array.tryFind (fun l -> l.StartsWith "model name")
                |> Option.map (fun l -> (l.Split(':', 2)[1]).Trim())
                |> Option.defaultValue "unknown CPU"
            with _ ->
                "unknown CPU"

        let flags =
            try
                let all = File.ReadAllText "/proc/cpuinfo"

                [ "avx2"; "avx512f" ]
                |> List.filter (fun f -> all.Contains $" {f} ")
                |> String.concat ", "
            with _ ->
                ""

        let allocator =
            match System.Environment.GetEnvironmentVariable "GLIBC_TUNABLES" with
            | null
            | "" -> "glibc malloc defaults"
            | tunables -> $"GLIBC_TUNABLES={tunables}"

        $"{cpu} ({flags}), {System.Environment.ProcessorCount} cores, libtorch 2.10 CPU with {TorchSharp.torch.get_num_threads ()} threads, {allocator}"

    if only.IsNone then
        File.WriteAllText(
            Path.Combine(__SOURCE_DIRECTORY__, "..", "results.md"),
            Harness.markdown machine repetitions rows + "\n"
        )

    let results = rows |> List.map (fun r -> r.LibraryMs, r.HandMs)

    // Exit non-zero only if a case could not run; the ratios are reported, not asserted.
    if results |> List.forall (fun (l, h) -> l > 0.0 && h > 0.0) then
        0
    else
        1
