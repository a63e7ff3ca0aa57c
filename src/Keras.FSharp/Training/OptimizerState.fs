namespace Keras

open System.Collections.Generic
open TorchSharp

/// An optimizer's running state: step count, per-weight slots and the learning rate (which callbacks may change).
type OptimizerState(optimizer: Optimizer) =
    let slots =
        Dictionary<TorchSharp.Modules.Parameter, torch.Tensor[]>(HashIdentity.Reference)

    let mutable iterations = 0L

    let baseRate = optimizer.BaseLearningRate

    let mutable rateOverride: float option = None

    /// Keras's slot variables in the order of its <c>build</c>: groups made by one <c>add_optimizer_variables</c>
    /// call each, a group interleaving its names weight by weight; each name with its initial value.
    let groups: (string * float) list list =
        match optimizer with
        | SGD(_, momentum, _, _) when momentum = 0.0 -> []
        | SGD _ -> [ [ "momentum", 0.0 ] ]
        | RMSprop(_, _, _, momentum, centered, _) ->
            [
                [ "velocity", 0.0 ]
                if momentum > 0.0 then
                    [ "momentum", 0.0 ]
                if centered then
                    [ "average_gradient", 0.0 ]
            ]
        | Adam(_, _, _, _, amsgrad, _)
        | AdamW(_, _, _, _, _, amsgrad, _) ->
            [
                [ "momentum", 0.0; "velocity", 0.0 ]
                if amsgrad then
                    [ "velocity_hat", 0.0 ]
            ]
        | Adagrad(_, initial, _, _) -> [ [ "accumulator", initial ] ]

    let layout = List.concat groups

    /// The position, in a weight's slot array, where each group starts.
    let groupStarts =
        groups
        |> List.scan (fun start g -> start + List.length g) 0
        |> List.take groups.Length

    /// The slot indices in the order Keras lists the optimizer's variables: group by group, weight by weight.
    let variableOrder (parameters: TorchSharp.Modules.Parameter list) =
        [
            for start, group in List.zip groupStarts groups do
                for p in parameters do
                    for k in 0 .. List.length group - 1 do
                        yield p, start + k
        ]

    /// The optimizer this state belongs to.
    member _.Optimizer = optimizer

    /// <summary>Keras's default <c>name</c> of an optimizer (<c>"adam"</c>, <c>"rmsprop"</c>, ...), the label of its
    /// <c>optimizer/vars</c> group in weights files.</summary>
    static member internal KerasName(optimizer: Optimizer) =
        match optimizer with
        | SGD _ -> "sgd"
        | RMSprop _ -> "rmsprop"
        | Adam _ -> "adam"
        | AdamW _ -> "adamw"
        | Adagrad _ -> "adagrad"

    /// Steps taken so far (Keras's <c>optimizer.iterations</c>).
    member _.Iterations = iterations

    /// The learning rate of the next step.
    member _.LearningRate =
        match rateOverride, baseRate with
        | Some r, _ -> r
        | None, ConstantRate r -> r
        | None, Schedule(_, f) -> f iterations

    /// Sets a constant learning rate from now on (ReduceLROnPlateau, LearningRateScheduler).
    member _.SetLearningRate(rate: float) = rateOverride <- Some rate

    /// Copies of the slot tensors, for restoring them after a failed step.
    member internal _.Slots = slots

    member private _.SlotsFor(p: TorchSharp.Modules.Parameter) =
        match slots.TryGetValue p with
        | true, s -> s
        | _ ->
            // Slots live as long as the optimizer: keep them out of the training step's dispose scope.
            let s =
                layout
                |> List.map (fun (_, init) -> torch.full_like(p, init).detach().DetachFromDisposeScope())
                |> Array.ofList

            slots[p] <- s
            s

    /// Keras's slot variables of one weight, with their initial value, as they sit in <see cref="Slots"/>: Adam and
    /// AdamW a momentum and a velocity (and a velocity_hat with AMSGrad), SGD a momentum (only with momentum), RMSprop
    /// a velocity (then a momentum with momentum, an average_gradient when centered), Adagrad an accumulator.
    member internal _.SlotLayout: (string * float) list = layout

    /// <summary>Keras's <c>optimizer.variables</c> for these trainable weights, as copies: the iteration count (int64
    /// scalar), the learning rate (float32 scalar; absent for a schedule, as in Keras), then the slots in the order of
    /// Keras's <c>build</c>: one <c>add_optimizer_variables</c> group after another (Adam: each weight's momentum and
    /// velocity, then each weight's velocity_hat; RMSprop: velocities, then momentums, then average gradients), with
    /// initial values for weights not yet updated.</summary>
    member internal this.ExportVariables(parameters: TorchSharp.Modules.Parameter list) : torch.Tensor list =
        use _ = torch.no_grad ()

        [
            yield torch.tensor(iterations).DetachFromDisposeScope()

            match baseRate with
            | Schedule _ -> ()
            | ConstantRate _ -> yield torch.tensor(float32 this.LearningRate).DetachFromDisposeScope()

            for p, k in variableOrder parameters do
                match slots.TryGetValue p with
                | true, s when s.Length = layout.Length -> yield s[k].detach().clone().DetachFromDisposeScope()
                | _ ->
                    let _, init = layout[k]
                    yield torch.full_like(p, init.ToScalar()).detach().DetachFromDisposeScope()
        ]

    /// The shapes <see cref="ExportVariables"/> gives, without copying.
    member internal _.VariableShapes(parameters: TorchSharp.Modules.Parameter list) : int64[] list =
        [
            yield [||]

            match baseRate with
            | Schedule _ -> ()
            | ConstantRate _ -> yield [||]

            for p, _ in variableOrder parameters do
                yield p.Sizes
        ]

    /// <summary>Restores the state <see cref="ExportVariables"/> gave (Keras's <c>load_own_variables</c>): the iteration
    /// count, the slots (copied) and, when the saved float32 learning rate differs from this optimizer's, that rate.
    /// The caller checks the count and shapes against <see cref="VariableShapes"/>.</summary>
    member internal _.ImportVariables(parameters: TorchSharp.Modules.Parameter list, values: torch.Tensor list) =
        use _ = torch.no_grad ()
        let values = Array.ofList values
        iterations <- values[0].to_type(torch.ScalarType.Int64).item<int64>()

        let first =
            match baseRate with
            | Schedule _ -> 1
            | ConstantRate rate ->
                let saved = values[1].to_type(torch.ScalarType.Float32).item<float32>()

                if saved <> float32 rate then
                    rateOverride <- Some(float saved)

                2

        for old in slots.Values do
            for t in old do
                t.Dispose()

        slots.Clear()

        if not layout.IsEmpty then
            for p in parameters do
                slots[p] <- Array.zeroCreate layout.Length

            variableOrder parameters
            |> List.iteri (fun i (p, k) ->
                let v = values[first + i]
                // In the weight's own memory layout (a convolution kernel's may differ from Keras's contiguous one).
                use converted = v.to_type(p.dtype).detach ()
                slots[p][k] <- torch.empty_like(p).detach().copy_(converted).DetachFromDisposeScope())

    /// <summary>Restores saved optimizer variables when their count and shapes fit these weights (as
    /// <see cref="ImportVariables"/>); returns false, changing nothing, when they do not — where Keras's
    /// <c>load_own_variables</c> warns and skips.</summary>
    member internal this.TryImportVariables
        (parameters: TorchSharp.Modules.Parameter list, values: torch.Tensor list)
        : bool =
        let expected = this.VariableShapes parameters

        let fits =
            values.Length = expected.Length
            && List.forall2 (fun (v: torch.Tensor) (s: int64[]) -> v.Sizes = s) values expected

        if fits then
            this.ImportVariables(parameters, values)

        fits

    /// <summary>Keras's <c>_clip_gradients</c>: by each gradient's norm, by the global norm of all gradients, or by
    /// value, as the options say. Returns new tensors (or the gradients themselves when nothing is clipped).</summary>
    static member internal Clip
        (options: OptimizerOptions, gradients: (TorchSharp.Modules.Parameter * torch.Tensor) list)
        =
        let present = gradients |> List.filter (fun (_, g) -> not (isNull g))

        match options with
        | { ClipNorm = Some c } when c > 0.0 ->
            present
            |> List.map (fun (p, g) ->
                // g · c / max(‖g‖, c): unchanged when the norm is within c (and when it is 0).
                let norm = g.square().sum().sqrt().item<float32>() |> float
                p, (if norm > c then g * (c / max norm c) else g))
        | { GlobalClipNorm = Some c } when c > 0.0 ->
            let squared =
                present
                |> List.sumBy (fun (_, g) -> g.to_type(torch.ScalarType.Float64).square().sum().item<float>())

            let norm = sqrt squared
            // Keras's scale c · min(1/norm, 1/c): 1 within the limit, NaN for a non-finite norm.
            let scale = c * min (1.0 / norm) (1.0 / c) + (norm - norm)

            if scale = 1.0 then
                present
            else
                present |> List.map (fun (p, g) -> p, g * scale)
        | { ClipValue = Some v } when v > 0.0 ->
            present |> List.map (fun (p, g) -> p, g.clamp ((-v).ToScalar(), v.ToScalar()))
        | _ -> present

    /// <summary>Applies one update from gradients, in place, without recording gradients (Keras's
    /// <c>apply_gradients</c>): clipping, then weight decay, then the update rule. Weights with no gradient are
    /// skipped.</summary>
    member this.Apply(gradients: (TorchSharp.Modules.Parameter * torch.Tensor) list) =
        use _ = torch.no_grad ()
        let lr = this.LearningRate
        let t = float (iterations + 1L)
        let gradients = OptimizerState.Clip(optimizer.Options, gradients)

        match optimizer.EffectiveWeightDecay with
        | Some decay ->
            for p, _ in gradients do
                p.sub_ (p * (lr * decay)) |> ignore
        | None -> ()

        for p, g in gradients do
            match optimizer with
            | SGD(_, momentum, nesterov, _) ->
                if momentum = 0.0 then
                    p.sub_ (g * lr) |> ignore
                else
                    let v = this.SlotsFor(p)[0]
                    v.mul_(momentum.ToScalar()).sub_(g * lr) |> ignore

                    if nesterov then
                        p.add_(v * momentum).sub_(g * lr) |> ignore
                    else
                        p.add_ v |> ignore
            | RMSprop(_, rho, eps, momentum, centered, _) ->
                let s = this.SlotsFor(p)
                let a = s[0]
                a.mul_(rho.ToScalar()).addcmul_(g, g, value = (1.0 - rho).ToScalar()) |> ignore

                let denominator =
                    if centered then
                        let mean = s[s.Length - 1]
                        mean.mul_(rho.ToScalar()).add_(g * (1.0 - rho)) |> ignore
                        (a - mean.square ()).add_(eps.ToScalar())
                    else
                        a + eps

                if momentum > 0.0 then
                    let m = s[1]

                    m.mul_(momentum.ToScalar()).addcdiv_(g, denominator.sqrt_ (), lr.ToScalar())
                    |> ignore

                    p.sub_ m |> ignore
                else
                    // addcdiv_ fuses the division into the update, as a hand-written TorchSharp step would.
                    p.addcdiv_ (g, denominator.sqrt_ (), (-lr).ToScalar()) |> ignore
            | Adam(_, b1, b2, eps, amsgrad, _)
            | AdamW(_, _, b1, b2, eps, amsgrad, _) ->
                let s = this.SlotsFor(p)
                let alpha = lr * sqrt (1.0 - b2 ** t) / (1.0 - b1 ** t)
                s[0].mul_(b1.ToScalar()).add_(g, (1.0 - b1).ToScalar()) |> ignore
                s[1].mul_(b2.ToScalar()).addcmul_(g, g, value = (1.0 - b2).ToScalar()) |> ignore

                let v =
                    if amsgrad then
                        use larger = torch.maximum (s[2], s[1])
                        s[2].copy_ larger
                    else
                        s[1]

                p.addcdiv_ (s[0], v.sqrt().add_(eps.ToScalar()), (-alpha).ToScalar()) |> ignore
            | Adagrad(_, _, eps, _) ->
                let a = this.SlotsFor(p)[0]
                a.addcmul_ (g, g, value = 1.0.ToScalar()) |> ignore
                p.addcdiv_ (g, (a + eps).sqrt_(), (-lr).ToScalar()) |> ignore

        iterations <- iterations + 1L
