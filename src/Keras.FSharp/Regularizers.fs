namespace Keras

open System.Text.Json.Nodes
open TorchSharp

/// <summary>A weight regularizer: a penalty on a weight (or, as an activity regularizer, on a layer's output) added
/// to the training loss (Keras's <c>keras.regularizers</c>). Keras's string identifiers use 0.01 for every factor
/// (<see cref="Regularizer.TryParse"/>); a name can stand for a regularizer where a method expects one:
/// <c>Layers.Dense(4, kernelRegularizer = "l2")</c>.</summary>
type Regularizer =
    /// <c>l1 · sum(|w|)</c>; Keras's default factor is 0.01.
    | L1 of l1: float
    /// <c>l2 · sum(w²)</c>; Keras's default factor is 0.01.
    | L2 of l2: float
    /// <c>l1 · sum(|w|) + l2 · sum(w²)</c>; <c>"l1_l2"</c> uses 0.01 for both.
    | L1L2 of l1: float * l2: float
    /// <summary>Keras's <c>OrthogonalRegularizer(factor=0.01, mode="rows")</c>: <c>factor</c> times the mean absolute
    /// dot product between distinct L2-normalized rows (<c>mode = "rows"</c>) or columns (<c>"columns"</c>) of a
    /// rank-2 weight. Build it with <see cref="Regularizer.Orthogonal"/>, which checks the factor and the
    /// mode as Keras's constructor does.</summary>
    | OrthogonalRegularizer of factor: float * mode: string

    /// <summary>Resolves Keras's string identifiers "l1", "l2" and "l1_l2" (every factor 0.01),
    /// "orthogonal_regularizer" (factor 0.01, rows) and the class names.</summary>
    static member TryParse(name: string) =
        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | "l1" -> Some(L1 0.01)
        | "l2" -> Some(L2 0.01)
        | "l1_l2"
        | "l1l2" -> Some(L1L2(0.01, 0.01))
        | "orthogonal_regularizer"
        | "orthogonalregularizer" -> Some(OrthogonalRegularizer(0.01, "rows"))
        | _ -> None

    /// <summary>Keras's <c>OrthogonalRegularizer</c>, checked as Keras's constructor checks it.</summary>
    /// <param name="factor">The regularization factor, a finite non-negative float; 0.01 by default.</param>
    /// <param name="mode">"rows" (the default) or "columns": which vectors of the weight are pushed to be orthogonal.</param>
    /// <returns>The regularizer <c>OrthogonalRegularizer(factor, mode)</c>.</returns>
    /// <exception cref="KerasException">When the factor is negative, infinite or NaN, or the mode is neither "rows"
    /// nor "columns".</exception>
    /// <example><c>Layers.Dense(4, kernelRegularizer = Regularizer.Orthogonal(0.1, "columns"))</c></example>
    static member Orthogonal(?factor: float, ?mode: string) =
        let factor = defaultArg factor 0.01
        let mode = defaultArg mode "rows"

        if System.Double.IsNaN factor || System.Double.IsInfinity factor || factor < 0.0 then
            Errors.raiseKeras (
                InvalidArgument("OrthogonalRegularizer", "factor", "expected a non-negative float.", string factor)
            )

        if mode <> "rows" && mode <> "columns" then
            Errors.raiseKeras (
                InvalidArgument("OrthogonalRegularizer", "mode", "Expected one of {\"rows\", \"columns\"}.", mode)
            )

        OrthogonalRegularizer(factor, mode)

    /// <summary>Resolves a Keras regularizer identifier or raises an error naming the known ones.</summary>
    /// <exception cref="KerasException">When the name is unknown.</exception>
    static member Parse(name: string) =
        match Regularizer.TryParse name with
        | Some r -> r
        | None ->
            Errors.raiseKeras (
                InvalidArgument(
                    "regularizer",
                    "identifier",
                    "Unknown regularizer. Known: l1, l2, l1_l2, orthogonal_regularizer.",
                    $"'{name}'"
                )
            )

    /// Lets a Keras identifier stand for a regularizer where a method expects one: <c>kernelRegularizer = "l2"</c>.
    static member op_Implicit(name: string) : Regularizer = Regularizer.Parse name

/// <summary>A weight constraint: a projection applied to a weight right after each optimizer step (Keras's
/// <c>keras.constraints</c>). Norms are L2 norms over <c>axis</c> — axis 0 for a Dense kernel <c>(in, out)</c>
/// constrains each unit's incoming weight vector; <c>[0; 1; 2]</c> for a Conv2D kernel constrains each filter.</summary>
type Constraint =
    /// Rescales vectors whose norm exceeds <c>maxValue</c> down to it (Keras's defaults: 2.0, axis 0).
    | MaxNorm of maxValue: float * axis: int list
    /// Clips negative entries to zero.
    | NonNeg
    /// Rescales vectors to unit norm (Keras's default: axis 0).
    | UnitNorm of axis: int list
    /// Moves each norm towards <c>[minValue, maxValue]</c>: the new norm is
    /// <c>rate·clip(norm, minValue, maxValue) + (1 - rate)·norm</c> (Keras's defaults: 0.0, 1.0, 1.0, axis 0).
    | MinMaxNorm of minValue: float * maxValue: float * rate: float * axis: int list

    /// <summary>Resolves Keras's string identifiers with Keras's defaults: "max_norm", "non_neg", "unit_norm",
    /// "min_max_norm" (and the CamelCase class names).</summary>
    static member TryParse(name: string) =
        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | "max_norm"
        | "maxnorm" -> Some(MaxNorm(2.0, [ 0 ]))
        | "non_neg"
        | "nonneg" -> Some NonNeg
        | "unit_norm"
        | "unitnorm" -> Some(UnitNorm [ 0 ])
        | "min_max_norm"
        | "minmaxnorm" -> Some(MinMaxNorm(0.0, 1.0, 1.0, [ 0 ]))
        | _ -> None

    /// <summary>Resolves a Keras constraint identifier or raises an error naming the known ones.</summary>
    /// <exception cref="KerasException">When the name is unknown.</exception>
    static member Parse(name: string) =
        match Constraint.TryParse name with
        | Some c -> c
        | None ->
            Errors.raiseKeras (
                InvalidArgument(
                    "constraint",
                    "identifier",
                    "Unknown constraint. Known: max_norm, non_neg, unit_norm, min_max_norm.",
                    $"'{name}'"
                )
            )

    /// Lets a Keras identifier stand for a constraint where a method expects one: <c>kernelConstraint = "non_neg"</c>.
    static member op_Implicit(name: string) : Constraint = Constraint.Parse name

/// Computing and describing regularization penalties.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Regularizer =
    let inline private sc (v: float) : Scalar = v.ToScalar()

    /// Keras's <c>L1()</c>: factor 0.01.
    let l1Default = L1 0.01

    /// Keras's <c>L2()</c>: factor 0.01.
    let l2Default = L2 0.01

    /// Keras's <c>"l1_l2"</c> identifier: both factors 0.01. (The <c>L1L2()</c> class itself defaults to 0 and 0.)
    let l1l2Default = L1L2(0.01, 0.01)

    let private checkFactor (argument: string) (value: float) =
        if System.Double.IsNaN value || System.Double.IsInfinity value || value < 0.0 then
            Errors.raiseKeras (InvalidArgument("Regularizer", argument, "expected a non-negative float.", string value))

    /// <summary>Checks the factors are finite and non-negative, as Keras's constructors do.</summary>
    /// <exception cref="KerasException">When a factor is negative, infinite or NaN.</exception>
    let validate (regularizer: Regularizer) =
        match regularizer with
        | L1 l1 -> checkFactor "l1" l1
        | L2 l2 -> checkFactor "l2" l2
        | L1L2(l1, l2) ->
            checkFactor "l1" l1
            checkFactor "l2" l2
        | OrthogonalRegularizer(factor, mode) -> Regularizer.Orthogonal(factor, mode) |> ignore

    /// Keras's orthogonal penalty of a rank-2 weight (checked by the caller): the vectors (rows or columns) are
    /// divided by max(‖v‖, 1e-7), their Gram matrix's off-diagonal absolute values are summed, halved and divided by
    /// the number of pairs n(n-1)/2. As in Keras, a weight with a single vector (n = 1) gives 0/0 = NaN.
    let private orthogonalPenalty (factor: float) (mode: string) (w: torch.Tensor) =
        let vectors = if mode = "rows" then w else w.t ()
        let squares = vectors.square ()
        let norms = squares.sum([| 1L |], keepdim = true).sqrt()
        let denominators = norms.clamp_min (sc 1e-7)
        let unit = vectors.div denominators
        let transposed = unit.t ()
        let gram = unit.matmul transposed
        let n = vectors.shape[0]
        let eye = torch.eye (n, n, dtype = w.dtype, device = w.device)
        let ones = torch.ones_like eye
        let offMask = ones.sub eye
        let offDiagonal = gram.mul offMask
        let total = offDiagonal.abs().sum()
        let pairs = float n * (float n - 1.0) / 2.0
        total.mul(sc (factor * 0.5)).div(sc pairs)

    /// <summary>The penalty of a weight: a scalar tensor in the weight's dtype, differentiable with respect to it.</summary>
    /// <exception cref="KerasException">When a factor is invalid, or an orthogonal regularizer meets a weight whose
    /// rank is not 2 (Keras's message).</exception>
    let penalty (regularizer: Regularizer) (w: torch.Tensor) : torch.Tensor =
        validate regularizer
        let l1Term (f: float) = w.abs().sum().mul(sc f)
        let l2Term (f: float) = w.square().sum().mul(sc f)

        match regularizer with
        | L1 l1 -> l1Term l1
        | L2 l2 -> l2Term l2
        | L1L2(l1, l2) -> (l1Term l1).add(l2Term l2)
        | OrthogonalRegularizer(factor, mode) ->
            if w.dim () <> 2L then
                let dims = w.shape |> Array.map string |> String.concat ", "
                let shown = if w.shape.Length = 1 then $"({dims},)" else $"({dims})"

                Errors.raiseKeras (
                    InvalidArgument(
                        "OrthogonalRegularizer",
                        "inputs.shape",
                        "Inputs to OrthogonalRegularizer must have rank 2.",
                        shown
                    )
                )

            orthogonalPenalty factor mode w

    /// <summary>Resolves Keras's string identifiers "l1", "l2", "l1_l2" (every factor 0.01) and
    /// "orthogonal_regularizer".</summary>
    let tryOfName (name: string) = Regularizer.TryParse name

    /// Keras's class name ("L1", "L2", "L1L2", "OrthogonalRegularizer").
    let className (regularizer: Regularizer) =
        match regularizer with
        | L1 _ -> "L1"
        | L2 _ -> "L2"
        | L1L2 _ -> "L1L2"
        | OrthogonalRegularizer _ -> "OrthogonalRegularizer"

    /// Keras's serialized form: module, class name and config.
    let config (regularizer: Regularizer) : JsonNode =
        let inner =
            match regularizer with
            | L1 l1 -> [ "l1", Config.value l1 ]
            | L2 l2 -> [ "l2", Config.value l2 ]
            | L1L2(l1, l2) -> [ "l1", Config.value l1; "l2", Config.value l2 ]
            | OrthogonalRegularizer(factor, mode) -> [ "factor", Config.value factor; "mode", Config.value mode ]

        Config.ofList
            [
                "module", Config.value "keras.regularizers"
                "class_name", Config.value (className regularizer)
                "config", Config.ofList inner
                "registered_name", null
            ]

    /// The config entry of an optional regularizer: its serialized form, or JSON null when absent (as Keras writes it).
    let configOrNull (regularizer: Regularizer option) : JsonNode =
        match regularizer with
        | Some r -> config r
        | None -> null

    /// <summary>The penalties of a layer's weights (its <c>RegularizationLosses</c>): for each (regularizer, weight
    /// name) pair with a regularizer, the penalty of the weight of that name, if the layer has it.</summary>
    let ofWeights (pairs: (Regularizer option * string) list) (weights: Weight[]) : torch.Tensor list =
        [
            for regularizer, name in pairs do
                match regularizer with
                | Some r ->
                    match weights |> Array.tryFind (fun w -> w.Name = name) with
                    | Some w -> yield penalty r w.Value
                    | None -> ()
                | None -> ()
        ]

    /// <summary>Keras's activity regularization: adds <c>penalty(output)</c> of every output to the loss through
    /// <c>ctx.AddLoss</c> — summed over the batch, not divided by its size (Keras 3's <c>Layer.__call__</c>) — and
    /// returns the outputs unchanged.</summary>
    let addActivity (regularizer: Regularizer option) (ctx: CallContext) (outputs: torch.Tensor list) =
        match regularizer with
        | Some r ->
            for output in outputs do
                ctx.AddLoss(penalty r output)
        | None -> ()

        outputs

/// Applying and describing constraints.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Constraint =
    let inline private sc (v: float) : Scalar = v.ToScalar()

    /// Keras's fuzz factor, added to norms before dividing.
    let epsilon = 1e-7

    /// Keras's <c>MaxNorm()</c>: max_value 2, axis 0.
    let maxNormDefault = MaxNorm(2.0, [ 0 ])

    /// Keras's <c>UnitNorm()</c>: axis 0.
    let unitNormDefault = UnitNorm [ 0 ]

    /// Keras's <c>MinMaxNorm()</c>: min_value 0, max_value 1, rate 1, axis 0.
    let minMaxNormDefault = MinMaxNorm(0.0, 1.0, 1.0, [ 0 ])

    let private norms (axis: int list) (w: torch.Tensor) =
        w.square().sum(axis |> List.map int64 |> Array.ofList, keepdim = true).sqrt()

    /// <summary>The projected weight, a new tensor (Keras's <c>constraint(w)</c>).</summary>
    let apply (c: Constraint) (w: torch.Tensor) : torch.Tensor =
        match c with
        | NonNeg -> w.clamp_min (sc 0.0)
        | UnitNorm axis -> w.div ((norms axis w).add(sc epsilon))
        | MaxNorm(maxValue, axis) ->
            let n = norms axis w
            w.mul (n.clamp(sc 0.0, sc maxValue).div(n.add (sc epsilon)))
        | MinMaxNorm(minValue, maxValue, rate, axis) ->
            let n = norms axis w

            let desired =
                n.clamp(sc minValue, sc maxValue).mul(sc rate).add(n.mul (sc (1.0 - rate)))

            w.mul (desired.div (n.add (sc epsilon)))

    /// <summary>The projection a weight carries (<c>WeightSpec.Constraint</c>) for an optional constraint.</summary>
    let projection (c: Constraint option) : (torch.Tensor -> torch.Tensor) option = c |> Option.map apply

    /// <summary>Resolves Keras's string identifiers with Keras's defaults: "max_norm", "non_neg", "unit_norm",
    /// "min_max_norm" (and the CamelCase class names).</summary>
    let tryOfName (name: string) = Constraint.TryParse name

    /// Keras's class name.
    let className (c: Constraint) =
        match c with
        | MaxNorm _ -> "MaxNorm"
        | NonNeg -> "NonNeg"
        | UnitNorm _ -> "UnitNorm"
        | MinMaxNorm _ -> "MinMaxNorm"

    let private axisValue (axis: int list) =
        match axis with
        | [ a ] -> Config.value a
        | many -> Config.ints many

    /// Keras's serialized form: module, class name and config.
    let config (c: Constraint) : JsonNode =
        let inner =
            match c with
            | MaxNorm(maxValue, axis) -> [ "max_value", Config.value maxValue; "axis", axisValue axis ]
            | NonNeg -> []
            | UnitNorm axis -> [ "axis", axisValue axis ]
            | MinMaxNorm(minValue, maxValue, rate, axis) ->
                [
                    "min_value", Config.value minValue
                    "max_value", Config.value maxValue
                    "rate", Config.value rate
                    "axis", axisValue axis
                ]

        Config.ofList
            [
                "module", Config.value "keras.constraints"
                "class_name", Config.value (className c)
                "config", Config.ofList inner
                "registered_name", null
            ]

    /// The config entry of an optional constraint: its serialized form, or JSON null when absent (as Keras writes it).
    let configOrNull (c: Constraint option) : JsonNode =
        match c with
        | Some c -> config c
        | None -> null

    /// <summary>A trainable float32 weight with an optional constraint: how most layers declare their weights.</summary>
    let trainableWeight
        (name: string)
        (shape: int list)
        (init: Initializer)
        (weightConstraint: Constraint option)
        : WeightSpec =
        {
            Name = name
            Shape = shape
            Initializer = init
            Trainable = true
            DType = Float32
            Constraint = projection weightConstraint
        }
