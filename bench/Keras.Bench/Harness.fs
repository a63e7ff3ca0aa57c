/// A plain benchmark harness: each case runs the same training work through Keras.FSharp's fit and through a
/// hand-written TorchSharp loop, alternating, in the same process; the report gives per-step times and their ratio.
module Harness

open System
open System.Diagnostics

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

/// Per-step milliseconds of one side: the median over repetitions (robust to a noisy neighbour).
let private timePerStep (steps: int) (times: float list) =
    (List.sort times)[times.Length / 2] / float steps

/// Runs each side once to warm up, then alternates them <paramref name="repetitions"/> times.
let measure (repetitions: int) (case: Case) =
    let time (f: unit -> unit) =
        GC.Collect()
        GC.WaitForPendingFinalizers()
        let clock = Stopwatch.StartNew()
        f ()
        clock.Elapsed.TotalMilliseconds

    case.Library()
    case.HandWritten()

    let library, hand =
        [ for _ in 1..repetitions -> time case.Library, time case.HandWritten ]
        |> List.unzip

    let l, h = timePerStep case.Steps library, timePerStep case.Steps hand
    printfn "%-28s fit: %8.3f ms/step   hand-written: %8.3f ms/step   ratio: %.3f×" case.Name l h (l / h)
    l, h
