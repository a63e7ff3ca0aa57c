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
    | MeanSquaredError
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

    /// <summary>The loss of each sample: a tensor with the batch axis and every axis of <paramref name="yTrue"/>
    /// but the reduced last one (Keras's per-sample values before reduction).</summary>
    let perSample (loss: Loss) (yTrue: torch.Tensor) (yPred: torch.Tensor) : torch.Tensor =
        match loss with
        | SparseCategoricalCrossentropy fromLogits ->
            // Labels may come as (batch,) or (batch, 1), as Keras accepts both.
            let labels =
                let l =
                    if yTrue.dim () = yPred.dim () then
                        yTrue.squeeze (-1L)
                    else
                        yTrue

                if l.dtype = torch.ScalarType.Int64 then
                    l
                else
                    l.to_type torch.ScalarType.Int64

            if fromLogits && yPred.dim () = 2L then
                // One fused kernel (log-softmax and negative log-likelihood), the same math.
                torch.nn.functional.cross_entropy (yPred, labels, reduction = torch.nn.Reduction.None)
            else
                let logp = logProbabilities fromLogits yPred
                logp.gather(-1L, labels.unsqueeze -1L).squeeze(-1L).neg()
        | CategoricalCrossentropy fromLogits ->
            let logp = logProbabilities fromLogits yPred
            (yTrue.to_type logp.dtype * logp).sum(-1L).neg()
        | BinaryCrossentropy fromLogits ->
            let y = yTrue.to_type yPred.dtype

            let elementwise =
                if fromLogits then
                    // The stable form of -(y·log σ(x) + (1−y)·log(1−σ(x))).
                    yPred.clamp_min (0.0.ToScalar()) - yPred * y
                    + torch.log1p (torch.exp (yPred.abs().neg()))
                else
                    let p = clipProbabilities yPred
                    (y * torch.log p + (1.0f - y) * torch.log (1.0f - p)).neg()

            elementwise.mean ([| -1L |])
        | MeanSquaredError -> (yPred - yTrue.to_type yPred.dtype).square().mean([| -1L |])
        | MeanAbsoluteError -> (yPred - yTrue.to_type yPred.dtype).abs().mean([| -1L |])
        | Huber delta ->
            let err = (yPred - yTrue.to_type yPred.dtype).abs()
            let quadratic = err.clamp_max (delta.ToScalar())
            let linear = err - quadratic
            (quadratic.square () * 0.5f + linear * delta).mean([| -1L |])
        | CustomLoss(_, f) -> f yTrue yPred

    /// <summary>Keras's "sum_over_batch_size" reduction: per-sample losses times the sample weights (when given),
    /// summed and divided by the number of values (weights do not change the divisor).</summary>
    let compute (loss: Loss) (yTrue: torch.Tensor) (yPred: torch.Tensor) (sampleWeight: torch.Tensor option) =
        let values = perSample loss yTrue yPred

        match sampleWeight with
        | None -> values.mean ()
        | Some w ->
            let w =
                w
                    .to_type(values.dtype)
                    .reshape(Array.append [| values.shape[0] |] (Array.create (values.dim () - 1L |> int) 1L))

            (values * w).sum() / float32 (values.numel ())
