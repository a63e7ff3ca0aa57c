/// The fused recurrent path: libtorch's multi-step LSTM and GRU kernels (TorchSharp's <c>nn.LSTM</c> / <c>nn.GRU</c>
/// modules) computing Keras's LSTM and GRU on the layers' own Keras-layout weights. A custom autograd function loads
/// the weights into a pooled native module, runs it with its own graph, and maps the gradients of the module's
/// parameters back onto the Keras-layout weights in backward. Used only for configurations the kernels compute
/// identically (the <c>Fused</c> entries of <c>lstmDef</c> / <c>gruDef</c> in Recurrent.fs); everything else takes the
/// step loop, which stays the reference.
module internal Keras.RecurrentFused

open System
open System.Collections.Concurrent
open System.Runtime.CompilerServices
open System.Threading
open TorchSharp

type internal Tensor = torch.Tensor

/// Whether eligible layers take the fused path (tests switch it off to get the step loop as the reference).
let mutable internal enabled = true

let mutable private calls = 0L

/// How many layer calls took the fused path since the process started.
let internal fusedCalls () = Interlocked.Read &calls

let internal countCall () = Interlocked.Increment &calls |> ignore

/// The recurrent kind the fused path supports.
type internal FusedKind =
    | FusedLstm
    | FusedGru

/// One native module with its parameters weight_ih, weight_hh(, bias_ih, bias_hh), detached from dispose scopes.
[<NoEquality; NoComparison>]
type internal NativeRnn =
    {
        Module: torch.nn.Module
        Params: Tensor[]
        /// (x (batch, time, features), initial states (batch, units)) → (output sequence, final states).
        Run: Tensor -> Tensor list -> Tensor * Tensor list
        /// The predict scope (DerivedWeights.scope) whose weights the parameters hold, and those weights' kernel: within
        /// one predict the weights cannot change, so later batches skip the copy.
        mutable LoadedIn: (int64 * Tensor) option
    }

let private createNative (kind: FusedKind) (inputSize: int64) (units: int64) (useBias: bool) =
    let named (m: torch.nn.Module) =
        let parameters =
            dict [ for struct (name, p) in m.named_parameters () -> name, p :> Tensor ]

        [|
            yield parameters["weight_ih_l0"]
            yield parameters["weight_hh_l0"]
            if useBias then
                yield parameters["bias_ih_l0"]
                yield parameters["bias_hh_l0"]
        |]
        |> Array.map (fun p -> p.DetachFromDisposeScope())

    match kind with
    | FusedLstm ->
        let m = torch.nn.LSTM(inputSize, units, bias = useBias, batchFirst = true)

        {
            Module = m
            Params = named m
            Run =
                fun x states ->
                    let initial =
                        match states with
                        | [ h; c ] -> Nullable<struct (Tensor * Tensor)>(struct (h.unsqueeze 0L, c.unsqueeze 0L))
                        | _ -> Nullable<struct (Tensor * Tensor)>()

                    let struct (y, h, c) = m.forward (x, initial)
                    y, [ h.squeeze 0L; c.squeeze 0L ]
            LoadedIn = None
        }
    | FusedGru ->
        let m = torch.nn.GRU(inputSize, units, bias = useBias, batchFirst = true)

        {
            Module = m
            Params = named m
            Run =
                fun x states ->
                    let initial =
                        match states with
                        | [ h ] -> h.unsqueeze 0L
                        | _ -> null

                    let struct (y, h) = m.forward (x, initial)
                    y, [ h.squeeze 0L ]
            LoadedIn = None
        }

/// Free native modules per layer (keyed by the layer's kernel): a module is taken for one call and given back after
/// its backward (or at once without a graph), so a layer called twice before backward never shares one.
let private pools = ConditionalWeakTable<Tensor, ConcurrentBag<NativeRnn>>()

/// Per (kind, input size, units, bias, batch, initial states): whether libtorch's grad-mode-off kernel gave the
/// grad-mode kernel's values on the first inference of that shape (see <c>run</c>).
let private inferenceKernelAgrees =
    ConcurrentDictionary<struct (FusedKind * int64 * int64 * bool * int64 * int), bool>()

/// Float32 rounding over a few hundred steps stays far below this; the wrong kernel's differences are 1e-2 to 1.
let private inferenceTolerance = 1e-4f

/// <summary>For tests: how many shapes were checked, and how many of them run the grad-mode-off kernel.</summary>
let internal inferenceKernelVerdicts () =
    inferenceKernelAgrees.Count, inferenceKernelAgrees.Values |> Seq.filter id |> Seq.length

/// Keras's GRU gates (z, r, h) ↔ torch's (r, z, n) along <paramref name="axis"/>: swaps the first two blocks.
let private swapFirstGates (units: int64) (axis: int64) (w: Tensor) =
    torch.cat (
        [|
            w.narrow (axis, units, units)
            w.narrow (axis, 0L, units)
            w.narrow (axis, 2L * units, units)
        |],
        axis
    )

/// Copies the Keras-layout weights [kernel; recurrent_kernel; bias] into the module's parameters.
let private load (kind: FusedKind) (units: int64) (native: NativeRnn) (weights: Tensor list) =
    use _ = torch.no_grad ()
    let p = native.Params

    match kind, weights with
    | FusedLstm, kernel :: recurrent :: rest ->
        p[0].copy_(kernel.t ()) |> ignore
        p[1].copy_(recurrent.t ()) |> ignore

        match rest with
        | [ bias ] ->
            p[2].copy_ bias |> ignore
            p[3].zero_() |> ignore
        | _ -> ()
    | FusedGru, kernel :: recurrent :: rest ->
        p[0].copy_((swapFirstGates units -1L kernel).t()) |> ignore
        p[1].copy_((swapFirstGates units -1L recurrent).t()) |> ignore

        match rest with
        | [ bias ] ->
            // Keras's (2, 3·units) bias: row 0 is added to x·kernel, row 1 to h·recurrent_kernel (reset_after).
            p[2].copy_(swapFirstGates units -1L (bias.select (0L, 0L))) |> ignore
            p[3].copy_(swapFirstGates units -1L (bias.select (0L, 1L))) |> ignore
        | _ -> ()
    | _ -> invalidOp "The fused recurrent path takes a kernel and a recurrent kernel."

/// <summary>Keeps an LSTM's Keras (in, 4·units) kernel and recurrent kernel stored as libtorch's (4·units, in)
/// weights (Weights.keepLaidOut; the shape and values stay Keras's): loading them into the native module is then a
/// plain copy, and their gradients come back in the same layout with no transposing copy, at every step.</summary>
let private keepTransposedStorage (w: Tensor) =
    if w.dim () = 2L then
        Weights.keepLaidOut [| 1L; 0L |] w

/// The gradients of the module's parameters in the Keras layout of [kernel; recurrent_kernel; bias].
let private kerasGradients (kind: FusedKind) (units: int64) (grads: Tensor[]) =
    let orNull (f: Tensor -> Tensor) (g: Tensor) = if isNull g then null else f g

    match kind with
    | FusedLstm ->
        [
            // The kernels are stored transposed (keepTransposedStorage): the transposed view has their layout.
            yield orNull (fun g -> g.t ()) grads[0]
            yield orNull (fun g -> g.t ()) grads[1]
            if grads.Length > 2 then
                // bias_ih and bias_hh enter the gates as one sum, so either's gradient is the bias's.
                yield grads[2]
        ]
    | FusedGru ->
        [
            yield orNull (fun g -> swapFirstGates units -1L (g.t ())) grads[0]
            yield orNull (fun g -> swapFirstGates units -1L (g.t ())) grads[1]
            if grads.Length > 2 then
                let gi =
                    if isNull grads[2] then
                        torch.zeros_like grads[3]
                    else
                        grads[2]

                let gh = if isNull grads[3] then torch.zeros_like gi else grads[3]
                yield torch.stack ([| swapFirstGates units -1L gi; swapFirstGates units -1L gh |], 0L)
        ]

/// What one call hands to the autograd function besides its tensors.
[<NoEquality; NoComparison>]
type internal FusedCall =
    {
        Kind: FusedKind
        Units: int64
        Native: NativeRnn
        Release: unit -> unit
    }

/// The graph of one training call, kept from forward to backward.
[<NoEquality; NoComparison>]
type private SavedRun =
    {
        Outputs: Tensor list
        /// The detached copies of the input and the initial states (null where absent).
        Leaves: Tensor list
        Call: FusedCall
        WeightCount: int
    }

/// The autograd function: inputs [x; s0; s1; w0; w1; w2; call] (null where absent), outputs [sequence; states...].
type internal FusedRnnFunction() =
    inherit torch.autograd.MultiTensorFunction<FusedRnnFunction>()

    override _.Name = "KerasFusedRecurrent"

    override _.forward(ctx, vars) =
        let asTensor (v: obj) =
            match v with
            | :? Tensor as t -> t
            | _ -> null

        let call = vars[6] :?> FusedCall
        let weights = [ for i in 3..5 -> asTensor vars[i] ] |> List.filter (isNull >> not)
        load call.Kind call.Units call.Native weights
        call.Native.LoadedIn <- None
        use _ = torch.enable_grad ()

        let leaves =
            [ for i in 0..2 -> asTensor vars[i] ]
            |> List.map (fun t -> if isNull t then null else t.detach().requires_grad_ true)

        let states = leaves.Tail |> List.filter (isNull >> not)
        let sequence, finals = call.Native.Run leaves.Head states
        let outputs = sequence :: finals
        // Undefined output gradients stay undefined (zeros are made here): TorchSharp's materialized zeros come from
        // tensors of the forward's dispose scope, which may be gone by backward.
        ctx.set_materialize_grads false

        for t in outputs @ leaves do
            if not (isNull t) then
                t.DetachFromDisposeScope() |> ignore

        ctx.save_data (
            "run",
            {
                Outputs = outputs
                Leaves = leaves
                Call = call
                WeightCount = weights.Length
            }
        )

        Collections.Generic.List<Tensor>(outputs |> List.map (fun t -> t.detach ()))

    override _.backward(ctx, gradOutputs) =
        let saved = ctx.get_data "run" :?> SavedRun
        let leaves = saved.Leaves |> List.filter (isNull >> not)
        let parameters = saved.Call.Native.Params |> List.ofArray

        let gradOutputs =
            List.map2
                (fun (g: Tensor) (o: Tensor) -> if isNull g || g.IsInvalid then torch.zeros_like o else g)
                (List.ofSeq gradOutputs)
                saved.Outputs

        let grads =
            torch.autograd.grad (
                Collections.Generic.List<Tensor>(saved.Outputs),
                Collections.Generic.List<Tensor>(leaves @ parameters),
                Collections.Generic.List<Tensor>(gradOutputs),
                allow_unused = true
            )
            |> Array.ofSeq

        saved.Call.Release()

        // The graph is freed; the handles kept out of the dispose scopes in forward go now, not at finalization.
        for t in saved.Outputs @ leaves do
            t.Dispose()

        let leafGrads = Collections.Generic.Queue<Tensor>(grads[0 .. leaves.Length - 1])

        let weightGrads =
            kerasGradients saved.Call.Kind saved.Call.Units grads[leaves.Length ..]

        Collections.Generic.List<Tensor>(
            [
                for leaf in saved.Leaves do
                    yield (if isNull leaf then null else leafGrads.Dequeue())
                yield! weightGrads
                yield! List.replicate (3 - saved.WeightCount) (null: Tensor)
                yield (null: Tensor)
            ]
        )

/// Runs the fused kernel: <paramref name="x"/> (batch, time, features) in processing order, the Keras-layout
/// weights [kernel; recurrent_kernel(; bias)], the initial states (None: zeros). Returns the output sequence in
/// processing order and the final states, with gradients flowing to x, the states and the weights.
let internal run
    (kind: FusedKind)
    (units: int64)
    (weights: Tensor list)
    (x: Tensor)
    (initial: Tensor list option)
    : Tensor * Tensor list =
    countCall ()

    if kind = FusedLstm then
        weights |> List.truncate 2 |> List.iter keepTransposedStorage

    let kernel = List.head weights
    let pool = pools.GetValue(kernel, fun _ -> ConcurrentBag<NativeRnn>())

    let native =
        match pool.TryTake() with
        | true, n -> n
        | _ -> createNative kind (kernel.size(0)) units (weights.Length > 2)

    let states = defaultArg initial []

    let needsGraph =
        torch.is_grad_enabled ()
        && (x.requires_grad
            || weights |> List.exists (fun w -> w.requires_grad)
            || states |> List.exists (fun s -> s.requires_grad))

    if not needsGraph then
        match DerivedWeights.scope (), native.LoadedIn with
        | Some scope, Some(loaded, from) when loaded = scope && obj.ReferenceEquals(from, kernel) -> ()
        | scope, _ ->
            load kind units native weights
            native.LoadedIn <- scope |> Option.map (fun s -> s, kernel)

        // Nothing to cut off when nothing records a gradient (a detach costs a tensor per call at batch 1).
        let x = if x.requires_grad then x.detach () else x
        let states = states |> List.map (fun s -> if s.requires_grad then s.detach () else s)

        // libtorch picks its recurrent kernel by grad mode. Its grad-mode-off LSTM kernel (oneDNN's inference
        // primitive) is up to 4 times faster, but wrong on AVX-512 for most hidden sizes (tests/scripts/
        // lstm-kernel-sweep.fsx: 342 of 540 shapes off by up to 1.0 on an AMD EPYC, none with
        // ONEDNN_MAX_CPU_ISA=AVX2). The grad-mode kernel is the one training uses and the step loop agrees with; with
        // nothing requiring a gradient it records no graph. So the first inference of each shape runs both and keeps
        // the fast kernel for that shape only when it agrees; GRU is checked the same way.
        let viaTrainingKernel () =
            use _ = torch.enable_grad ()

            for p in native.Params do
                p.requires_grad <- false

            try
                native.Run x states
            finally
                for p in native.Params do
                    p.requires_grad <- true

        let viaInferenceKernel () =
            use _ = torch.no_grad ()
            native.Run x states

        let key =
            struct (kind, kernel.size(0), units, weights.Length > 2, x.size(0), states.Length)

        let y, finals =
            try
                match inferenceKernelAgrees.TryGetValue key with
                | true, true -> viaInferenceKernel ()
                | true, false -> viaTrainingKernel ()
                | _ ->
                    let y, finals = viaTrainingKernel ()
                    let fastY, fastFinals = viaInferenceKernel ()

                    let agrees =
                        List.forall2
                            (fun (a: Tensor) (b: Tensor) ->
                                a.Sizes = b.Sizes && a.sub(b).abs().max().item<float32> () <= inferenceTolerance)
                            (y :: finals)
                            (fastY :: fastFinals)

                    inferenceKernelAgrees[key] <- agrees
                    y, finals
            finally
                pool.Add native

        y, finals
    else
        let call =
            {
                Kind = kind
                Units = units
                Native = native
                Release = fun () -> pool.Add native
            }

        let at (l: Tensor list) i : obj = if i < l.Length then box l[i] else null

        let outputs =
            FusedRnnFunction.apply (box x, at states 0, at states 1, at weights 0, at weights 1, at weights 2, box call)

        outputs[0], [ for i in 1 .. outputs.Count - 1 -> outputs[i] ]
