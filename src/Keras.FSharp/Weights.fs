namespace Keras

open System.Runtime.CompilerServices
open TorchSharp

/// A built layer's state: its weights and the input rules fixed by the first call.
type internal BuiltState =
    {
        Weights: Weight[]
        InputSpecs: InputSpec list
    }

/// Weights as explicit state keyed by layer identity. Every model that contains a layer sees the same
/// weights; when no layer value refers to an identity any more, its weights can be collected.
[<RequireQualifiedAccess>]
module Weights =
    let private table = ConditionalWeakTable<LayerIdentity, BuiltState>()
    let private gate = obj ()

    let internal tryState (layer: Layer) =
        match table.TryGetValue layer.Identity with
        | true, state -> Some state
        | _ -> None

    /// The layer's own weights (not those of layers it holds), in declaration order; empty until built.
    let ofLayer (layer: Layer) : Weight[] =
        match tryState layer with
        | Some state -> state.Weights
        | None -> [||]

    /// True once the layer has created its weights.
    let isBuilt (layer: Layer) = (tryState layer).IsSome

    let private create (layer: Layer) (spec: WeightSpec) =
        // Weights outlive any dispose scope they are first built in (an eager call inside a training step).
        let value =
            (Initializer.create spec.Initializer spec.Shape spec.DType).DetachFromDisposeScope()

        // A weight of a frozen layer records no gradient (Keras's torch backend: `requires_grad = trainable`).
        let parameter =
            new TorchSharp.Modules.Parameter(value, spec.Trainable && layer.Identity.Trainable)

        parameter.DetachFromDisposeScope() |> ignore

        {
            Name = spec.Name
            Owner = layer.Name
            Value = parameter
            Trainable = spec.Trainable
            Constraint = spec.Constraint
        }

    /// Builds the layer from the specs of its first inputs unless it is built already, and returns its state.
    let internal ensureBuilt (layer: Layer) (inputs: TensorSpec list) =
        match tryState layer with
        | Some state -> state
        | None ->
            lock gate (fun () ->
                match tryState layer with
                | Some state -> state
                | None ->
                    Native.NativeLoader.ensureLoaded ()
                    let result = layer.Spec.Build inputs

                    let state =
                        {
                            Weights = result.Weights |> List.map (create layer) |> Array.ofList
                            InputSpecs = result.InputSpecs
                        }

                    table.Add(layer.Identity, state)
                    state)

    /// The layer and, recursively, every layer it holds, each once, in order of first appearance.
    let rec private flattenLayers (seen: System.Collections.Generic.HashSet<int64>) (layers: Layer list) =
        [
            for layer in layers do
                if seen.Add layer.Identity.Id then
                    yield layer
                    yield! flattenLayers seen (layer.Spec.SubLayers())
        ]

    /// These layers and every layer they hold, recursively, each once.
    let allLayers (layers: Layer list) =
        flattenLayers (System.Collections.Generic.HashSet()) layers

    /// Every weight of these layers and of the layers they hold, each once (shared layers count once).
    let ofLayers (layers: Layer list) : Weight list =
        flattenLayers (System.Collections.Generic.HashSet()) layers
        |> List.collect (ofLayer >> List.ofArray)

    /// <summary>Keras's <c>trainable_weights</c> of a layer or model: none when it is frozen, otherwise the weights
    /// declared trainable of every layer it holds (itself included) that is not frozen, in layer order.</summary>
    let trainableOf (layer: Layer) : Weight list =
        if not layer.Identity.Trainable then
            []
        else
            [
                for l in allLayers [ layer ] do
                    if l.Identity.Trainable then
                        for w in ofLayer l do
                            if w.Trainable then
                                yield w
            ]

    /// <summary>Keras's <c>non_trainable_weights</c>: every weight when the layer or model is frozen, otherwise the
    /// weights declared non-trainable (BatchNormalization's moving statistics) and those of frozen layers it holds.</summary>
    let nonTrainableOf (layer: Layer) : Weight list =
        [
            for l in allLayers [ layer ] do
                for w in ofLayer l do
                    if not (layer.Identity.Trainable && l.Identity.Trainable && w.Trainable) then
                        yield w
        ]

    /// Trainable weights first, then non-trainable ones — Keras's order.
    let ordered (weights: Weight list) =
        (weights |> List.filter _.Trainable)
        @ (weights |> List.filter (fun w -> not w.Trainable))

    /// <summary>Applies each weight's constraint in place, without recording gradients (Keras's optimizer does it right
    /// after each update: <c>variable.assign(variable.constraint(variable))</c>).</summary>
    let applyConstraints (weights: Weight seq) =
        use _ = torch.no_grad ()

        for w in weights do
            match w.Constraint with
            | Some project ->
                use scope = torch.NewDisposeScope()
                w.Value.copy_ (project w.Value) |> ignore
            | None -> ()

    /// Number of scalars in a weight.
    let size (weight: Weight) = weight.Value.numel ()

    /// Total number of scalars in these weights.
    let count (weights: Weight list) = weights |> List.sumBy size

    /// Number of parameters of a layer, including the layers it holds.
    let countParams (layer: Layer) = ofLayers [ layer ] |> count

    /// True when the tensor's memory is dense with its axes laid out in <paramref name="order"/> (outermost first).
    let internal isLaidOut (order: int64[]) (t: torch.Tensor) =
        let mutable expected = 1L
        let mutable dense = true

        for i in order.Length - 1 .. -1 .. 0 do
            let size = t.size (int order[i])

            if size <> 1L && t.stride (int order[i]) <> expected then
                dense <- false

            expected <- expected * size

        dense

    /// <summary>Keeps a weight's memory laid out in <paramref name="order"/> (its axes, outermost first), changing its
    /// storage once (the first call, or after something replaced it); its shape and values stay Keras's. Layers use
    /// it to hold a Keras-shaped kernel in the layout libtorch computes with: no copy forward or backward, and the
    /// gradient comes back dense in the same layout, so optimizer updates run on dense memory.</summary>
    let internal keepLaidOut (order: int64[]) (weight: torch.Tensor) =
        if not (isLaidOut order weight) then
            // Once per weight: calls racing on the first use of a shared layer change the storage one at a time.
            lock weight (fun () ->
                if not (isLaidOut order weight) then
                    use _ = torch.no_grad ()
                    use permuted = weight.permute order
                    use dense = permuted.contiguous ()
                    use relaid = dense.permute (Ops.inversePermutation order)
                    weight.set_ relaid |> ignore)

    /// Bytes the weights take, as Keras reports them in summaries.
    let bytes (weights: Weight list) =
        weights
        |> List.sumBy (fun w ->
            let bits =
                DType.tryOfTorch w.Value.dtype
                |> Option.map DType.bits
                |> Option.defaultValue 32

            float (size w) * float bits / 8.0)

/// <summary>Tensors derived from weights (a kernel in the layout libtorch computes fastest with) kept for the length of
/// one <c>predict</c>, when the weights cannot change: each is made on the first batch and reused by the others.</summary>
/// <remarks>Outside a <c>predict</c> (training, eager calls) nothing is kept: the weights change at every step, and a
/// derived tensor is made at each call, so values are always those of the current weights.</remarks>
module internal DerivedWeights =
    open System.Collections.Generic

    type private Table = Dictionary<torch.Tensor, Dictionary<string, torch.Tensor>>

    // Per thread: predict runs one batch after another on the calling thread. Each scope has its own number.
    let private current = new System.Threading.ThreadLocal<(int64 * Table) option>(fun () -> None)
    let mutable private scopes = 0L

    /// <summary>The number of this thread's current <c>predict</c> scope (unique in the process), when one is active and
    /// no gradient is recorded: state loaded from the weights under one number stays valid while it is current.</summary>
    let scope () =
        match current.Value with
        | Some(id, _) when not (torch.is_grad_enabled ()) -> Some id
        | _ -> None

    /// <summary>Starts keeping derived tensors on this thread until the result is disposed (then they are freed).
    /// Nested scopes share the outer one.</summary>
    let keep () : System.IDisposable =
        match current.Value with
        | Some _ -> { new System.IDisposable with member _.Dispose() = () }
        | None ->
            let table = Table(HashIdentity.Reference)
            current.Value <- Some(System.Threading.Interlocked.Increment &scopes, table)

            { new System.IDisposable with
                member _.Dispose() =
                    current.Value <- None

                    for perWeight in table.Values do
                        for t in perWeight.Values do
                            t.Dispose()
            }

    /// <summary>Inside a <c>predict</c> (and without gradients): <c>kept weight</c>, made once for this weight and
    /// purpose (<paramref name="key"/>). Elsewhere: <c>otherwise weight</c>, made at each call (typically a view).</summary>
    let get
        (key: string)
        (kept: torch.Tensor -> torch.Tensor)
        (otherwise: torch.Tensor -> torch.Tensor)
        (weight: torch.Tensor)
        =
        match current.Value with
        | Some(_, table) when not (torch.is_grad_enabled ()) ->
            let perWeight =
                match table.TryGetValue weight with
                | true, d -> d
                | _ ->
                    let d = Dictionary<string, torch.Tensor>()
                    table[weight] <- d
                    d

            match perWeight.TryGetValue key with
            | true, derived -> derived
            | _ ->
                let derived = kept weight

                if not (obj.ReferenceEquals(derived, weight)) then
                    // Out of the batch's dispose scope: it lives until the end of predict.
                    derived.DetachFromDisposeScope() |> ignore
                    perWeight[key] <- derived

                derived
        | _ -> otherwise weight

    /// <summary>A weight viewed with other sizes (<c>reshape</c>), kept through a predict: at batch 1 making the view
    /// costs as much as the arithmetic. <paramref name="key"/> names the purpose (one per call site).</summary>
    let reshaped (key: string) (sizes: int64[]) (weight: torch.Tensor) =
        let view (w: torch.Tensor) = w.reshape sizes
        get key view view weight

    /// <summary>A matrix weight as its transpose (a view), kept through a predict: Keras's (in, out) kernel as the
    /// (out, in) weight libtorch's <c>linear</c> takes.</summary>
    let transposed (weight: torch.Tensor) =
        let view (w: torch.Tensor) = w.t ()
        get "transposed" view view weight

    /// <summary>A Keras (in, out) kernel applied to the last axis of <paramref name="x"/> (any rank ≥ 2) with an
    /// optional bias, through libtorch's <c>linear</c>: it folds the leading axes inside libtorch (one tensor for
    /// TorchSharp to track instead of a reshape, an addmm and a reshape) and fuses the bias forward and backward.</summary>
    let linear (x: torch.Tensor) (kernel: torch.Tensor) (bias: torch.Tensor) =
        torch.nn.functional.linear (x, transposed kernel, bias)
