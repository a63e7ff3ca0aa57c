namespace Keras

open TorchSharp

/// Loss functions with Keras's names, defaults and formulas.
[<CustomEquality; NoComparison>]
type Loss =
    /// Integer class labels against class scores; <c>fromLogits</c> when the outputs are not probabilities.
    | SparseCategoricalCrossentropy of fromLogits: bool
    /// One-hot labels against class scores.
    | CategoricalCrossentropy of fromLogits: bool
    /// 0/1 labels against one probability (or logit) per output unit.
    | BinaryCrossentropy of fromLogits: bool
    /// <summary>mean((y_true - y_pred)²) over the last axis, Keras's <c>"mean_squared_error"</c> /
    /// <c>"mse"</c>.</summary>
    | MeanSquaredError
    /// <summary>mean(|y_true - y_pred|) over the last axis, Keras's <c>"mean_absolute_error"</c> /
    /// <c>"mae"</c>.</summary>
    | MeanAbsoluteError
    /// Quadratic below <c>delta</c>, linear above (Keras's default delta is 1.0).
    | Huber of delta: float
    /// A user loss returning one value per sample, with the name it is reported and registered under.
    | CustomLoss of name: string * perSample: (torch.Tensor -> torch.Tensor -> torch.Tensor)

    override this.Equals(other) =
        match other with
        | :? Loss as o ->
            match this, o with
            | SparseCategoricalCrossentropy a, SparseCategoricalCrossentropy b
            | CategoricalCrossentropy a, CategoricalCrossentropy b
            | BinaryCrossentropy a, BinaryCrossentropy b -> a = b
            | MeanSquaredError, MeanSquaredError
            | MeanAbsoluteError, MeanAbsoluteError -> true
            | Huber a, Huber b -> a = b
            | CustomLoss(a, _), CustomLoss(b, _) -> a = b
            | _ -> false
        | _ -> false

    override this.GetHashCode() =
        match this with
        | CustomLoss(name, _) -> hash name
        | _ -> hash (this.ToString())

    override this.ToString() =
        match this with
        | SparseCategoricalCrossentropy l -> $"SparseCategoricalCrossentropy(from_logits={l})"
        | CategoricalCrossentropy l -> $"CategoricalCrossentropy(from_logits={l})"
        | BinaryCrossentropy l -> $"BinaryCrossentropy(from_logits={l})"
        | MeanSquaredError -> "MeanSquaredError"
        | MeanAbsoluteError -> "MeanAbsoluteError"
        | Huber d -> $"Huber(delta={d})"
        | CustomLoss(name, _) -> name

    /// <summary>Resolves Keras's string names: "sparse_categorical_crossentropy", "mse", "mean_absolute_error", ...</summary>
    static member TryParse(name: string) =
        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | "sparse_categorical_crossentropy" -> Some(SparseCategoricalCrossentropy false)
        | "categorical_crossentropy" -> Some(CategoricalCrossentropy false)
        | "binary_crossentropy" -> Some(BinaryCrossentropy false)
        | "mse"
        | "mean_squared_error" -> Some MeanSquaredError
        | "mae"
        | "mean_absolute_error" -> Some MeanAbsoluteError
        | "huber"
        | "huber_loss" -> Some(Huber 1.0)
        | _ -> None

    /// Resolves a Keras loss name or raises an error listing the known names.
    static member Parse(name: string) =
        match Loss.TryParse name with
        | Some loss -> loss
        | None ->
            Errors.raiseKeras (
                InvalidArgument(
                    "compile",
                    "loss",
                    "Unknown loss. Known: sparse_categorical_crossentropy, categorical_crossentropy, binary_crossentropy, mean_squared_error (mse), mean_absolute_error (mae), huber.",
                    $"'{name}'"
                )
            )

    /// Lets a Keras name stand for the loss where a method expects one: <c>loss = "mse"</c>.
    static member op_Implicit(name: string) : Loss = Loss.Parse name

/// Checks of targets against an output's predictions, cheap enough for every batch: shape comparisons and at most a
/// min and a max over the labels (no .NET loop over elements). Errors name the output and the loss or metric.
[<RequireQualifiedAccess>]
module Targets =
    let private show (t: torch.Tensor) =
        "("
        + (t.Sizes |> Array.map string |> String.concat ", ")
        + (if t.dim () = 1L then ",)" else ")")

    let private fail output what reason received =
        Errors.raiseKeras (InvalidTargets(output, what, reason, received))

    /// The labels of sparseLabels, with or without the range check.
    let private labelsChecked
        (checkRange: bool)
        (output: string)
        (what: string)
        (yTrue: torch.Tensor)
        (yPred: torch.Tensor)
        =
        if yPred.dim () = 0L then
            fail output what "Expected predictions with a class axis." $"predictions of shape {show yPred}"

        let labels =
            if yTrue.dim () = yPred.dim () && yTrue.size(-1) = 1L then
                yTrue.squeeze (-1L)
            else
                yTrue

        let expected = yPred.Sizes[.. int (yPred.dim ()) - 2]

        if labels.Sizes <> expected then
            fail
                output
                what
                $"Expected integer class labels of shape {show (yPred.select (-1L, 0L))} (or with a last axis of 1) for predictions of shape {show yPred}."
                $"targets of shape {show yTrue}"

        let classes = yPred.size(-1)

        if labels.numel () = 0L then
            labels.to_type torch.ScalarType.Int64
        else
            if labels.is_floating_point () then
                use _ = torch.no_grad ()
                use fraction = labels.ne (labels.floor ())
                use notWhole = fraction.any ()

                if notWhole.item<bool>() then
                    use first = labels.masked_select(fraction).flatten().select(0L, 0L)

                    fail
                        output
                        what
                        "Expected integer class labels; float labels must be whole numbers."
                        $"a label of {first.ToDouble()}"

            let ints =
                if labels.dtype = torch.ScalarType.Int64 then
                    labels
                else
                    labels.to_type torch.ScalarType.Int64

            if checkRange then
                use lowest = ints.min ()
                use highest = ints.max ()
                let low, high = lowest.item<int64>(), highest.item<int64>()

                if low < 0L || high >= classes then
                    fail
                        output
                        what
                        $"Expected class labels in [0, {classes - 1L}] for the {classes} classes of the output."
                        $"a label of {(if low < 0L then low else high)}"

            ints

    /// <summary>Integer class labels (int64) from sparse targets of shape <c>(batch, ...)</c> or <c>(batch, ..., 1)</c>
    /// against predictions of shape <c>(batch, ..., classes)</c>, checked as Keras (and libtorch's kernels) need them:
    /// whole numbers in <c>[0, classes)</c>. Without the check libtorch reads label -100 as "ignore" (loss 0) and
    /// fails on larger labels with a C++ trace.</summary>
    /// <exception cref="KerasException">When the shapes do not fit, a float label is not whole, or a label is out of range.</exception>
    let sparseLabels (output: string) (what: string) (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        labelsChecked true output what yTrue yPred

    /// <summary>As <see cref="sparseLabels"/> without the range check, for kernels that check the range themselves
    /// (libtorch's cross_entropy): reading the smallest and largest label costs two reductions and two reads each
    /// step. When the kernel refuses the labels, <see cref="sparseLabels"/> gives Keras's error.</summary>
    let internal sparseLabelsForCheckingKernel (output: string) (what: string) (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        labelsChecked false output what yTrue yPred

    /// <summary>Targets brought to the rank of the predictions as Keras's <c>squeeze_or_expand_to_same_rank</c> does
    /// (a last axis of 1 added or removed), then checked to have the predictions' shape, or (when
    /// <paramref name="broadcast"/>) a shape that broadcasts to it without changing it.</summary>
    /// <exception cref="KerasException">When the shapes do not fit; a (batch,) target against (batch, 1) predictions
    /// would otherwise broadcast to (batch, batch) and give a wrong loss silently.</exception>
    let matching (output: string) (what: string) (broadcast: bool) (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        let y =
            if yTrue.dim () + 1L = yPred.dim () && yPred.size(-1) = 1L then
                yTrue.unsqueeze (-1L)
            elif yTrue.dim () = yPred.dim () + 1L && yTrue.size(-1) = 1L then
                yTrue.squeeze (-1L)
            else
                yTrue

        let fits =
            y.dim () = yPred.dim ()
            && Array.forall2 (fun (t: int64) p -> t = p || (broadcast && t = 1L)) y.Sizes yPred.Sizes

        if not fits then
            fail output what $"Expected targets of the output's shape {show yPred}." $"targets of shape {show yTrue}"

        y

/// Computing losses.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Loss =
    /// Keras's epsilon: probabilities are clipped to [eps, 1 - eps] before a logarithm.
    let epsilon = 1e-7

    /// The snake_case name Keras reports (e.g. for "<output>_loss" it uses the output name instead).
    let name loss =
        match loss with
        | SparseCategoricalCrossentropy _ -> "sparse_categorical_crossentropy"
        | CategoricalCrossentropy _ -> "categorical_crossentropy"
        | BinaryCrossentropy _ -> "binary_crossentropy"
        | MeanSquaredError -> "mean_squared_error"
        | MeanAbsoluteError -> "mean_absolute_error"
        | Huber _ -> "huber"
        | CustomLoss(name, _) -> name

    let private clipProbabilities (p: torch.Tensor) =
        p.clamp (epsilon.ToScalar(), (1.0 - epsilon).ToScalar())

    /// Keras rescales probabilities to sum to one over the classes before taking logarithms.
    let private logProbabilities (fromLogits: bool) (yPred: torch.Tensor) =
        if fromLogits then
            torch.nn.functional.log_softmax (yPred, -1L)
        else
            (yPred / yPred.sum (-1L, true)) |> clipProbabilities |> torch.log

    /// <summary>The loss of each sample for the output named <paramref name="output"/>: a tensor with the batch axis
    /// and every axis of <paramref name="yTrue"/> but the reduced last one (Keras's per-sample values before
    /// reduction). Targets are checked first (see <see cref="Targets"/>); errors name the output.</summary>
    let perSampleFor (output: string) (loss: Loss) (yTrue: torch.Tensor) (yPred: torch.Tensor) : torch.Tensor =
        let what = name loss

        match loss with
        | SparseCategoricalCrossentropy fromLogits ->
            // Labels may come as (batch,) or (batch, 1), as Keras accepts both.
            let labels = Targets.sparseLabels output what yTrue yPred

            if fromLogits && yPred.dim () = 2L then
                // One fused kernel (log-softmax and negative log-likelihood), the same math.
                torch.nn.functional.cross_entropy (yPred, labels, reduction = torch.nn.Reduction.None)
            else
                let logp = logProbabilities fromLogits yPred
                logp.gather(-1L, labels.unsqueeze -1L).squeeze(-1L).neg()
        | CategoricalCrossentropy fromLogits ->
            let yTrue = Targets.matching output what false yTrue yPred
            let logp = logProbabilities fromLogits yPred
            (yTrue.to_type logp.dtype * logp).sum(-1L).neg()
        | BinaryCrossentropy fromLogits ->
            let y = (Targets.matching output what false yTrue yPred).to_type yPred.dtype

            let elementwise =
                if fromLogits then
                    // The stable form of -(y·log σ(x) + (1−y)·log(1−σ(x))).
                    yPred.clamp_min (0.0.ToScalar()) - yPred * y
                    + torch.log1p (torch.exp (yPred.abs().neg()))
                else
                    let p = clipProbabilities yPred
                    (y * torch.log p + (1.0f - y) * torch.log (1.0f - p)).neg()

            elementwise.mean ([| -1L |])
        | MeanSquaredError ->
            let y = Targets.matching output what true yTrue yPred
            (yPred - y.to_type yPred.dtype).square().mean([| -1L |])
        | MeanAbsoluteError ->
            let y = Targets.matching output what true yTrue yPred
            (yPred - y.to_type yPred.dtype).abs().mean([| -1L |])
        | Huber delta ->
            let y = Targets.matching output what true yTrue yPred
            let err = (yPred - y.to_type yPred.dtype).abs()
            let quadratic = err.clamp_max (delta.ToScalar())
            let linear = err - quadratic
            (quadratic.square () * 0.5f + linear * delta).mean([| -1L |])
        | CustomLoss(_, f) -> f yTrue yPred

    /// <summary>The loss of each sample: a tensor with the batch axis and every axis of <paramref name="yTrue"/>
    /// but the reduced last one (Keras's per-sample values before reduction). Errors call the targets "y_true".</summary>
    let perSample (loss: Loss) (yTrue: torch.Tensor) (yPred: torch.Tensor) : torch.Tensor =
        perSampleFor "y_true" loss yTrue yPred

    /// <summary>Keras's "sum_over_batch_size" reduction: per-sample losses times the sample weights (when given),
    /// summed and divided by the number of values (weights do not change the divisor).</summary>
    let computeFor
        (output: string)
        (loss: Loss)
        (yTrue: torch.Tensor)
        (yPred: torch.Tensor)
        (sampleWeight: torch.Tensor option)
        =
        match loss, sampleWeight with
        | SparseCategoricalCrossentropy true, None when yPred.dim () = 2L ->
            // The common classifier case in one fused kernel with its own mean (one autograd node fewer). The kernel
            // checks the labels' range itself (no label is ignored: ignore_index is out of every range); when it
            // refuses them, the full check names the output and the label.
            let labels = Targets.sparseLabelsForCheckingKernel output (name loss) yTrue yPred

            try
                torch.nn.functional.cross_entropy (yPred, labels, ignore_index = System.Int64.MinValue)
            with _ ->
                Targets.sparseLabels output (name loss) yTrue yPred |> ignore
                reraise ()
        | BinaryCrossentropy true, None when yPred.dim () >= 2L ->
            // The per-sample mean over the last axis, then the batch mean, is the mean over every element: libtorch's
            // fused (and equally stable) binary_cross_entropy_with_logits, one kernel forward and backward.
            let y = Targets.matching output (name loss) false yTrue yPred
            torch.nn.functional.binary_cross_entropy_with_logits (yPred, y.to_type yPred.dtype)
        | CategoricalCrossentropy true, None when yPred.dim () = 2L ->
            // One-hot or soft targets: libtorch's cross-entropy with class probabilities, −Σ y·log_softmax(x) per
            // sample and its mean, in one fused kernel (targets need not sum to one, as in Keras).
            let targets = Targets.matching output (name loss) false yTrue yPred
            torch.nn.functional.cross_entropy (yPred, targets.to_type yPred.dtype)
        | _ ->
            let values = perSampleFor output loss yTrue yPred

            match sampleWeight with
            | None -> values.mean ()
            | Some w ->
                let w =
                    w
                        .to_type(values.dtype)
                        .reshape(Array.append [| values.size(0) |] (Array.create (values.dim () - 1L |> int) 1L))

                (values * w).sum() / float32 (values.numel ())

    /// <summary>Keras's "sum_over_batch_size" reduction of the loss (see <see cref="computeFor"/>); errors call the
    /// targets "y_true".</summary>
    let compute (loss: Loss) (yTrue: torch.Tensor) (yPred: torch.Tensor) (sampleWeight: torch.Tensor option) =
        computeFor "y_true" loss yTrue yPred sampleWeight
