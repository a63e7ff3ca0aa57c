// Checks libtorch's LSTM kernels on this machine's CPU: for each hidden size, input size, batch and sequence length, a
// torch.nn.LSTM's output with grad mode off (oneDNN's inference primitive) against the same module with grad mode on
// and nothing requiring a gradient (the kernel Keras.FSharp's fused path uses for inference and training alike).
// Prints each shape that differs beyond float32 rounding and a count. On the AMD EPYC (AVX-512) where it was written,
// 342 of 540 shapes differ by up to 1.0; with ONEDNN_MAX_CPU_ISA=AVX2 in the environment, none.
// Build first (dotnet fsi build.fsx build), then: dotnet fsi tests/scripts/lstm-kernel-sweep.fsx
#r "nuget: TorchSharp-cpu, 0.107.0"
#r "nuget: FSharp.SystemTextJson, 0.16.6"
#r "nuget: Spectre.Console, 0.57.2"
#r "nuget: PureHDF, 2.2.0"
#r "../../src/Keras.FSharp/bin/Release/net10.0/Keras.FSharp.dll"

open TorchSharp

Keras.Native.NativeLoader.ensureLoaded ()
torch.manual_seed 1L |> ignore
let mutable wrong = 0
let mutable total = 0

for hidden in [ 1L; 4L; 8L; 16L; 32L; 64L ] do
    for input in [ 1L; 3L; 8L; 16L; 64L ] do
        let lstm = torch.nn.LSTM(input, hidden, batchFirst = true)

        for p in lstm.parameters () do
            p.requires_grad <- false

        for batch in [ 1L; 2L; 3L; 8L; 32L; 256L ] do
            for steps in [ 1L; 5L; 20L ] do
                use scope = torch.NewDisposeScope()
                let x = torch.randn (batch, steps, input)

                let withGradMode =
                    use _ = torch.enable_grad ()
                    let struct (y, _, _) = lstm.forward (x, System.Nullable())
                    y

                let withoutGradMode =
                    use _ = torch.no_grad ()
                    let struct (y, _, _) = lstm.forward (x, System.Nullable())
                    y

                let difference = (withGradMode - withoutGradMode).abs().max().item<float32> ()
                total <- total + 1

                if difference > 1e-5f then
                    wrong <- wrong + 1

                    printfn
                        "batch %d, steps %d, input %d, hidden %d: grad mode off differs by %g"
                        batch
                        steps
                        input
                        hidden
                        difference

printfn "%d of %d shapes differ" wrong total
