/// A plain benchmark harness: each case runs the same work through Keras.FSharp and through hand-written TorchSharp
/// code, alternating, in the same process; the report gives per-step times, their ratio and the peak RSS so far.
module Harness

open System
open System.Diagnostics
open System.IO
open TorchSharp

/// One comparison: a name, the number of steps one run takes, and the two ways of doing the work.
type Case =
    {
        Name: string
        Steps: int
        /// Runs the work through the library; called once per repetition.
        Library: unit -> unit
        /// Runs the same work as a good TorchSharp user would write it.
        HandWritten: unit -> unit
    }

/// One line of the report.
type Row =
    {
        Name: string
        LibraryMs: float
        HandMs: float
        /// The process's peak resident set so far, in MiB (Linux's VmHWM).
        PeakRssMiB: float
    }

    member row.Ratio = row.LibraryMs / row.HandMs

/// Per-step milliseconds of one side: the median over repetitions (robust to a noisy neighbour).
let private timePerStep (steps: int) (times: float list) =
    (List.sort times)[times.Length / 2] / float steps

let private peakRssMiB () =
    try
        File.ReadAllLines "/proc/self/status"
        |> Array.tryFind (fun l -> l.StartsWith "VmHWM:")
        |> Option.map (fun l -> float (l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0)
        |> Option.defaultValue nan
    with _ ->
        nan

/// `KERAS_BENCH_CLOCK=cpu` measures the process's CPU time instead of wall time: on a busy machine (other builds
/// competing for the cores) wall time mostly measures the neighbours, while CPU time of a run with
/// `OMP_NUM_THREADS=1` still compares the work done. The published figures are wall time on a quiet machine.
let private cpuClock =
    Environment.GetEnvironmentVariable "KERAS_BENCH_CLOCK" = "cpu"

/// Runs each side once to warm up, then alternates them <paramref name="repetitions"/> times.
let measure (repetitions: int) (case: Case) =
    let time (f: unit -> unit) =
        GC.Collect()
        GC.WaitForPendingFinalizers()

        if cpuClock then
            let self = Process.GetCurrentProcess()
            let before = self.TotalProcessorTime
            f ()
            self.Refresh()
            (self.TotalProcessorTime - before).TotalMilliseconds
        else
            let clock = Stopwatch.StartNew()
            f ()
            clock.Elapsed.TotalMilliseconds

    case.Library()
    case.HandWritten()

    let library, hand =
        [ for _ in 1..repetitions -> time case.Library, time case.HandWritten ]
        |> List.unzip

    let row =
        {
            Name = case.Name
            LibraryMs = timePerStep case.Steps library
            HandMs = timePerStep case.Steps hand
            PeakRssMiB = peakRssMiB ()
        }

    printfn
        "%-32s library: %9.3f ms/step   hand-written: %9.3f ms/step   ratio: %.3f×   peak RSS: %.0f MiB"
        row.Name
        row.LibraryMs
        row.HandMs
        row.Ratio
        row.PeakRssMiB

    row

/// One hand-written training epoch of a classifier over sparse labels: shuffle, then per batch forward,
/// cross-entropy from logits, backward and an optimizer step, reading the loss as fit does.
let handClassifierEpoch
    (net: torch.nn.Module<torch.Tensor, torch.Tensor>)
    (optimizer: torch.optim.Optimizer)
    (x: torch.Tensor)
    (y: torch.Tensor)
    (batch: int64)
    =
    let n = x.shape[0]
    net.train ()
    let order = torch.randperm n
    use xs = x.index_select (0L, order)
    use ys = y.index_select (0L, order)

    for start in 0L .. batch .. n - 1L do
        use scope = torch.NewDisposeScope()
        let len = min batch (n - start)
        let logits = net.forward (xs.narrow (0L, start, len))
        let loss = torch.nn.functional.cross_entropy (logits, ys.narrow (0L, start, len))
        optimizer.zero_grad ()
        loss.backward ()
        optimizer.step () |> ignore
        ignore (loss.item<float32>())

/// A prediction case: <paramref name="n"/> samples in batches of <paramref name="batch"/>, through the library's
/// predict and through a hand-written forward pass in eval mode without gradients.
let predictCase
    (name: string)
    (x: torch.Tensor)
    (batch: int)
    (libraryPredict: torch.Tensor -> int -> unit)
    (handForward: torch.Tensor -> torch.Tensor)
    (handEval: unit -> unit)
    : Case =
    let n = x.shape[0]

    // Like predict, the hand-written side keeps every batch's output and joins them into one tensor.
    let handPredict () =
        handEval ()
        use _ = torch.no_grad ()

        let outputs =
            [|
                for start in 0L .. int64 batch .. n - 1L do
                    use scope = torch.NewDisposeScope()
                    scope.MoveToOuter(handForward (x.narrow (0L, start, min (int64 batch) (n - start))))
            |]

        use all = torch.cat (outputs, 0L)

        for o in outputs do
            o.Dispose()

    {
        Name = $"{name} predict, batch {batch}"
        Steps = int ((n + int64 batch - 1L) / int64 batch)
        Library = fun () -> libraryPredict x batch
        HandWritten = handPredict
    }

/// The report as a Markdown table, with the machine it ran on.
let markdown (machine: string) (repetitions: int) (rows: Row list) =
    [
        yield $"Machine: {machine}. Median of {repetitions} alternating runs per side, same process."
        yield ""
        yield "| case | library ms/step | hand-written ms/step | ratio | peak RSS so far |"
        yield "|---|---:|---:|---:|---:|"
        for r in rows do
            yield $"| {r.Name} | {r.LibraryMs:F3} | {r.HandMs:F3} | {r.Ratio:F2}× | {r.PeakRssMiB:F0} MiB |"
    ]
    |> String.concat "\n"
