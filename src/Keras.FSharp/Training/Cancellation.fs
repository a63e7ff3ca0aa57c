namespace Keras

open System.Threading

/// <summary>Cancelling <c>fit</c> from another thread, .NET style: a callback that throws
/// <see cref="System.OperationCanceledException"/> at the next batch (or epoch) boundary once the token is cancelled, so
/// no step is left half-applied.</summary>
/// <param name="token">The token to watch.</param>
type CancellationCallback(token: CancellationToken) =
    inherit Callback()

    /// The token being watched.
    member _.Token = token

    override _.OnEpochBegin(_, _) = token.ThrowIfCancellationRequested()
    override _.OnBatchBegin(_, _) = token.ThrowIfCancellationRequested()

/// Reading Keras's monitor-mode names.
[<RequireQualifiedAccess>]
module MonitorModes =
    /// <summary>Keras's <c>mode</c> argument: "min", "max" or "auto" (any case).</summary>
    /// <exception cref="KerasException">For another name (an <c>InvalidArgument</c> of <paramref name="owner"/>).</exception>
    let parse (owner: string) (mode: string) : MonitorMode =
        match (if isNull mode then "" else mode.Trim().ToLowerInvariant()) with
        | "min" -> Min
        | "max" -> Max
        | "auto" -> Auto
        | _ -> Errors.raiseKeras (InvalidArgument(owner, "mode", "Expected \"min\", \"max\" or \"auto\".", string mode))
