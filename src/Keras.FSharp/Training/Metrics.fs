namespace Keras

open TorchSharp

/// A metric as compile takes it: by Keras name or by value.
[<RequireQualifiedAccess>]
type MetricSpec =
    /// "accuracy"/"acc" is resolved from the loss and shapes, as Keras does; other Keras names map to metrics.
    | Named of string
    /// <summary>Keras's <c>"mse"</c> metric: the mean squared error, averaged over the epoch.</summary>
    | MeanSquaredError
    /// <summary>Keras's <c>"mae"</c> metric: the mean absolute error, averaged over the epoch.</summary>
    | MeanAbsoluteError
    /// <summary>Keras's <c>"sparse_categorical_accuracy"</c>: the share of samples whose highest score is at the
    /// integer label.</summary>
    | SparseCategoricalAccuracy
    /// <summary>Keras's <c>"categorical_accuracy"</c>: the share of samples whose highest score is where the one-hot
    /// label is 1.</summary>
    | CategoricalAccuracy
    /// Binary accuracy with a threshold (Keras's default 0.5).
    | BinaryAccuracy of threshold: float
    /// Precision at a threshold (Keras's default 0.5).
    | Precision of threshold: float
    /// Recall at a threshold (Keras's default 0.5).
    | Recall of threshold: float
    /// Area under the ROC curve with this many thresholds (Keras's default 200).
    | AUC of numThresholds: int

    /// Lets a Keras name stand for a metric: <c>metrics = [ "accuracy" ]</c>.
    static member op_Implicit(name: string) : MetricSpec = Named name

/// A stateful metric: accumulates over batches until reset, like Keras's metric objects.
[<AbstractClass>]
type Metric(name: string) =
    /// The name the metric is reported under.
    member _.Name = name
    /// Adds a batch of targets and predictions (with optional per-sample weights).
    abstract Update: yTrue: torch.Tensor * yPred: torch.Tensor * sampleWeight: torch.Tensor option -> unit
    /// The value accumulated so far.
    abstract Result: unit -> float
    /// Clears the state, at the start of each epoch and evaluation.
    abstract Reset: unit -> unit

/// A weighted mean of per-sample values: the base of accuracies and error metrics.
type MeanMetric(name: string, perSample: torch.Tensor -> torch.Tensor -> torch.Tensor) =
    inherit Metric(name)
    let mutable total = 0.0
    let mutable count = 0.0

    /// Adds a batch.
    override _.Update(yTrue, yPred, sampleWeight) =
        use _ = torch.no_grad ()
        use raw = perSample yTrue yPred

        match sampleWeight with
        | None ->
            // Sums of a batch are exact in the values' own type (0/1 counts, float32 errors); accumulate in float.
            use s = raw.sum ()

            total <-
                total
                + (if s.dtype = torch.ScalarType.Int64 then
                       float (s.item<int64>())
                   else
                       s.ToDouble())

            count <- count + float (raw.numel ())
        | Some w ->
            use values = raw.to_type torch.ScalarType.Float64

            use w =
                w
                    .to_type(torch.ScalarType.Float64)
                    .reshape(Array.append [| values.size(0) |] (Array.create (values.dim () - 1L |> int) 1L))

            use weighted = values * w
            total <- total + weighted.sum().item<float>()
            count <- count + (w.expand_as values).sum().item<float>()

    /// The weighted mean.
    override _.Result() =
        if count = 0.0 then 0.0 else total / count

    /// Clears the state.
    override _.Reset() =
        total <- 0.0
        count <- 0.0

/// Confusion counts at one or more thresholds: the base of Precision, Recall and AUC.
type ConfusionMetric(name: string, thresholds: float[], result: float[] -> float[] -> float[] -> float[] -> float) =
    inherit Metric(name)
    let tp = Array.zeroCreate<float> thresholds.Length
    let fp = Array.zeroCreate<float> thresholds.Length
    let tn = Array.zeroCreate<float> thresholds.Length
    let fn = Array.zeroCreate<float> thresholds.Length

    /// Adds a batch: predictions above a threshold count as positive.
    override _.Update(yTrue, yPred, sampleWeight) =
        use _ = torch.no_grad ()
        use scope = torch.NewDisposeScope()
        let p = yPred.to_type(torch.ScalarType.Float64).flatten()
        let y = yTrue.to_type(torch.ScalarType.Float64).flatten().gt(0.5.ToScalar())

        let w =
            match sampleWeight with
            | None -> torch.ones_like p
            | Some w ->
                w.to_type(torch.ScalarType.Float64).reshape(-1L, 1L).expand(-1L, p.size(0) / w.size(0)).flatten()

        let t = torch.tensor(thresholds).unsqueeze 1L
        let above = p.unsqueeze(0L).gt t
        let pos = y.unsqueeze 0L

        let sum (mask: torch.Tensor) =
            (mask.to_type torch.ScalarType.Float64 * w.unsqueeze 0L).sum(1L).data<float>().ToArray()

        let add (acc: float[]) (v: float[]) =
            Array.iteri (fun i x -> acc[i] <- acc[i] + x) v

        add tp (sum (above.logical_and pos))
        add fp (sum (above.logical_and (pos.logical_not ())))
        add fn (sum ((above.logical_not ()).logical_and pos))
        add tn (sum ((above.logical_not ()).logical_and(pos.logical_not ())))

    /// The metric from the counts.
    override _.Result() = result tp fp tn fn

    /// Clears the counts.
    override _.Reset() =
        for a in [ tp; fp; tn; fn ] do
            System.Array.Clear a

/// Building metrics from specs.
[<RequireQualifiedAccess>]
module Metrics =
    let private ratio (a: float) (b: float) = if b = 0.0 then 0.0 else a / b

    let private classOf (t: torch.Tensor) = t.argmax (-1L)

    /// <summary>Keras's sparse categorical accuracy per sample for the output named <paramref name="output"/>: argmax
    /// of the prediction equals the label. Labels are checked as the sparse loss checks them (whole numbers in
    /// [0, classes)).</summary>
    let sparseCategoricalAccuracyFor (output: string) (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        (classOf yPred).eq(Targets.sparseLabels output "sparse_categorical_accuracy" yTrue yPred)

    /// Keras's sparse categorical accuracy per sample: argmax of the prediction equals the label.
    let sparseCategoricalAccuracy (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        sparseCategoricalAccuracyFor "y_true" yTrue yPred

    /// Keras's categorical accuracy per sample: the argmaxes agree.
    let categoricalAccuracy (yTrue: torch.Tensor) (yPred: torch.Tensor) = (classOf yPred).eq(classOf yTrue)

    /// Keras's binary accuracy per sample: the mean over the last axis of (prediction > threshold) = label.
    let binaryAccuracy (threshold: float) (yTrue: torch.Tensor) (yPred: torch.Tensor) =
        yPred.gt(threshold.ToScalar()).eq(yTrue.gt (0.5.ToScalar())).to_type(torch.ScalarType.Float32).mean([| -1L |])

    /// Keras's thresholds for AUC: 0 - ε, (1..n-2)/(n-1), 1 + ε.
    let aucThresholds (n: int) =
        [|
            yield -1e-7
            for i in 1 .. n - 2 -> float i / float (n - 1)
            yield 1.0 + 1e-7
        |]

    /// Area under the ROC curve by the trapezoidal rule over the thresholds (Keras's "interpolation").
    let private rocAuc (tp: float[]) (fp: float[]) (tn: float[]) (fn: float[]) =
        let tpr = Array.map2 ratio tp (Array.map2 (+) tp fn)
        let fpr = Array.map2 ratio fp (Array.map2 (+) fp tn)

        Array.init (tpr.Length - 1) (fun i -> (fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2.0)
        |> Array.sum

    /// <summary>Creates a metric. "accuracy" is resolved as Keras 3 does from the shapes of the first batch:
    /// one output unit → binary, labels of lower rank (or one column) against several units → sparse categorical,
    /// otherwise categorical. Its name stays as given ("accuracy" or "acc").</summary>
    let createFor (output: string) (spec: MetricSpec) (yTrue: torch.Tensor) (yPred: torch.Tensor) : Metric =
        let mean name f = MeanMetric(name, f) :> Metric
        let sparseCategoricalAccuracy = sparseCategoricalAccuracyFor output
        let perSample = Keras.Loss.perSampleFor output

        match spec with
        | MetricSpec.Named n when n = "accuracy" || n = "acc" ->
            let units = yPred.size(-1)

            if units = 1L then
                mean n (binaryAccuracy 0.5)
            elif yTrue.dim () < yPred.dim () || yTrue.size(-1) = 1L then
                mean n sparseCategoricalAccuracy
            else
                mean n categoricalAccuracy
        | MetricSpec.Named n ->
            match n with
            | "mse"
            | "mean_squared_error" -> mean n (perSample MeanSquaredError)
            | "mae"
            | "mean_absolute_error" -> mean n (perSample MeanAbsoluteError)
            | "sparse_categorical_accuracy" -> mean n sparseCategoricalAccuracy
            | "categorical_accuracy" -> mean n categoricalAccuracy
            | "binary_accuracy" -> mean n (binaryAccuracy 0.5)
            | "precision" -> ConfusionMetric(n, [| 0.5 |], fun tp fp _ _ -> ratio tp[0] (tp[0] + fp[0])) :> Metric
            | "recall" -> ConfusionMetric(n, [| 0.5 |], fun tp _ _ fn -> ratio tp[0] (tp[0] + fn[0])) :> Metric
            | "auc" -> ConfusionMetric(n, aucThresholds 200, rocAuc) :> Metric
            | other -> Errors.raiseKeras (InvalidArgument("compile", "metrics", "Unknown metric.", $"'{other}'"))
        | MetricSpec.MeanSquaredError -> mean "mean_squared_error" (perSample MeanSquaredError)
        | MetricSpec.MeanAbsoluteError -> mean "mean_absolute_error" (perSample MeanAbsoluteError)
        | MetricSpec.SparseCategoricalAccuracy -> mean "sparse_categorical_accuracy" sparseCategoricalAccuracy
        | MetricSpec.CategoricalAccuracy -> mean "categorical_accuracy" categoricalAccuracy
        | MetricSpec.BinaryAccuracy t -> mean "binary_accuracy" (binaryAccuracy t)
        | MetricSpec.Precision t ->
            ConfusionMetric("precision", [| t |], fun tp fp _ _ -> ratio tp[0] (tp[0] + fp[0])) :> Metric
        | MetricSpec.Recall t ->
            ConfusionMetric("recall", [| t |], fun tp _ _ fn -> ratio tp[0] (tp[0] + fn[0])) :> Metric
        | MetricSpec.AUC n -> ConfusionMetric("auc", aucThresholds n, rocAuc) :> Metric

    /// <summary>Creates a metric (see <see cref="createFor"/>); errors call the targets "y_true".</summary>
    let create (spec: MetricSpec) (yTrue: torch.Tensor) (yPred: torch.Tensor) : Metric =
        createFor "y_true" spec yTrue yPred
