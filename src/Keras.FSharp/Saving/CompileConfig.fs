namespace Keras

open System.Text.Json.Nodes

/// <summary>Keras 3's <c>compile_config</c> (what <c>model.get_compile_config()</c> returns and <c>model.save</c>
/// writes into <c>config.json</c>): the optimizer serialized as <c>{"module": "keras.optimizers", "class_name",
/// "config", "registered_name"}</c>, the loss, loss weights and metrics as they were given (one value, a list in output
/// order, or a dict by output name), and the trainer's flags. Reading accepts Keras's other spellings too: names
/// (<c>"adam"</c>, <c>"categorical_crossentropy"</c>, <c>"accuracy"</c>), functions
/// (<c>{"class_name": "function", "config": "mean_squared_error"}</c>) and Keras 2's <c>training_config</c>.</summary>
[<RequireQualifiedAccess>]
module CompileConfig =
    let private serialized (modu: string) (className: string) (config: (string * JsonNode) list) : JsonNode =
        Config.ofList
            [
                "module", Config.value modu
                "class_name", Config.value className
                "config", Config.ofList config
                "registered_name", null
            ]

    let private fail (argument: string) (reason: string) (received: JsonNode) : 'T =
        Errors.raiseKeras (
            InvalidArgument(
                "compile_from_config",
                argument,
                reason,
                (if isNull received then "None" else received.ToJsonString())
            )
        )

    // ----------------------------------------------------------------------------------------------------------
    // Writing

    /// The optimizer with its current learning rate, as Keras's <c>serialize_keras_object(optimizer)</c>.
    let serializeOptimizer (state: OptimizerState) : JsonNode =
        let optimizer = state.Optimizer

        let rate: JsonNode =
            match optimizer.BaseLearningRate with
            | Schedule(name, f) ->
                match Schedules.configOf f with
                | Some config -> serialized "keras.optimizers.schedules" name config
                | None -> Config.value state.LearningRate
            | _ -> Config.value state.LearningRate

        let optional (v: float option) : JsonNode =
            match v with
            | Some x -> Config.value x
            | None -> null

        let options = optimizer.Options

        let common (name: string) =
            [
                "name", Config.value name
                "learning_rate", rate
                "weight_decay", optional optimizer.EffectiveWeightDecay
                "clipnorm", optional options.ClipNorm
                "global_clipnorm", optional options.GlobalClipNorm
                "clipvalue", optional options.ClipValue
                "use_ema", Config.value false
                "ema_momentum", Config.value 0.99
                "ema_overwrite_frequency", null
                "loss_scale_factor", null
                "gradient_accumulation_steps", null
            ]

        let make className name extra =
            serialized "keras.optimizers" className (common name @ extra)

        match optimizer with
        | SGD(_, momentum, nesterov, _) ->
            make "SGD" "sgd" [ "momentum", Config.value momentum; "nesterov", Config.value nesterov ]
        | RMSprop(_, rho, epsilon, momentum, centered, _) ->
            make
                "RMSprop"
                "rmsprop"
                [
                    "rho", Config.value rho
                    "momentum", Config.value momentum
                    "epsilon", Config.value epsilon
                    "centered", Config.value centered
                ]
        | Adam(_, b1, b2, epsilon, amsgrad, _) ->
            make
                "Adam"
                "adam"
                [
                    "beta_1", Config.value b1
                    "beta_2", Config.value b2
                    "epsilon", Config.value epsilon
                    "amsgrad", Config.value amsgrad
                ]
        | AdamW(_, _, b1, b2, epsilon, amsgrad, _) ->
            make
                "AdamW"
                "adamw"
                [
                    "beta_1", Config.value b1
                    "beta_2", Config.value b2
                    "epsilon", Config.value epsilon
                    "amsgrad", Config.value amsgrad
                ]
        | Adagrad(_, initial, epsilon, _) ->
            make
                "Adagrad"
                "adagrad"
                [
                    "initial_accumulator_value", Config.value initial
                    "epsilon", Config.value epsilon
                ]

    /// A loss as Keras serializes a loss object (a custom loss by its registered name).
    let serializeLoss (loss: Loss) : JsonNode =
        let obj className name extra =
            serialized
                "keras.losses"
                className
                ([ "name", Config.value name; "reduction", Config.value "sum_over_batch_size" ]
                 @ extra)

        let crossentropy fromLogits =
            [
                "from_logits", Config.value fromLogits
                "label_smoothing", Config.value 0.0
                "axis", Config.value -1
            ]

        match loss with
        | SparseCategoricalCrossentropy l ->
            obj
                "SparseCategoricalCrossentropy"
                "sparse_categorical_crossentropy"
                // Keras 3.1.1's SparseCategoricalCrossentropy takes no `axis` (later ones write -1, the only axis here).
                [ "from_logits", Config.value l; "ignore_class", null ]
        | CategoricalCrossentropy l -> obj "CategoricalCrossentropy" "categorical_crossentropy" (crossentropy l)
        | BinaryCrossentropy l -> obj "BinaryCrossentropy" "binary_crossentropy" (crossentropy l)
        | MeanSquaredError -> obj "MeanSquaredError" "mean_squared_error" []
        | MeanAbsoluteError -> obj "MeanAbsoluteError" "mean_absolute_error" []
        | Huber delta -> obj "Huber" "huber_loss" [ "delta", Config.value delta ]
        | CustomLoss(name, _) -> Config.value name

    /// A metric: a name stays a name (as Keras keeps <c>"accuracy"</c>), a metric object is serialized.
    let serializeMetric (spec: MetricSpec) : JsonNode =
        let obj className name extra =
            serialized
                "keras.metrics"
                className
                ([ "name", Config.value name; "dtype", Config.value "float32" ] @ extra)

        let thresholdsValue (t: float) : JsonNode =
            if t = 0.5 then null else Config.value t

        match spec with
        | MetricSpec.Named n -> Config.value n
        | MetricSpec.MeanSquaredError -> obj "MeanSquaredError" "mean_squared_error" []
        | MetricSpec.MeanAbsoluteError -> obj "MeanAbsoluteError" "mean_absolute_error" []
        | MetricSpec.SparseCategoricalAccuracy -> obj "SparseCategoricalAccuracy" "sparse_categorical_accuracy" []
        | MetricSpec.CategoricalAccuracy -> obj "CategoricalAccuracy" "categorical_accuracy" []
        | MetricSpec.BinaryAccuracy t -> obj "BinaryAccuracy" "binary_accuracy" [ "threshold", Config.value t ]
        // Keras 3.1.1 writes the `thresholds` argument as given (`init_thresholds`): null for the default, which its
        // metrics_utils.parse_init_thresholds turns into 0.5; null is read back as 0.5.
        | MetricSpec.Precision t ->
            obj "Precision" "precision" [ "thresholds", thresholdsValue t; "top_k", null; "class_id", null ]
        | MetricSpec.Recall t ->
            obj "Recall" "recall" [ "thresholds", thresholdsValue t; "top_k", null; "class_id", null ]
        | MetricSpec.AUC n ->
            obj
                "AUC"
                "auc"
                [
                    "num_thresholds", Config.value n
                    "curve", Config.value "ROC"
                    "summation_method", Config.value "interpolation"
                    "multi_label", Config.value false
                    "num_labels", null
                    "label_weights", null
                    "from_logits", Config.value false
                ]

    let private array (nodes: JsonNode seq) : JsonNode = JsonArray(Array.ofSeq nodes)

    let private dictOf (pairs: (string * JsonNode) seq) : JsonNode = Config.ofList (List.ofSeq pairs)

    /// <summary>The <c>compile_config</c> of a compiled model: its optimizer (with the current learning rate) and the
    /// losses, loss weights and metrics in the form they were given to <c>compile</c> (per output when only the
    /// compiled model is known).</summary>
    let build (compiled: CompiledModel) (arguments: CompileArguments option) : JsonObject =
        let names = Model.outputNames compiled.Model

        let loss: JsonNode =
            match arguments with
            | Some { Loss = Some l; Losses = None } -> serializeLoss l
            | Some { Losses = Some _ } -> dictOf (List.map2 (fun n l -> n, serializeLoss l) names compiled.Losses)
            | Some { LossList = Some ls } -> array (List.map serializeLoss ls)
            | _ ->
                match compiled.Losses with
                | [ single ] -> serializeLoss single
                | many -> array (List.map serializeLoss many)

        let lossWeights: JsonNode =
            match arguments with
            | Some { LossWeights = Some pairs } -> dictOf (pairs |> List.map (fun (n, w) -> n, Config.value w))
            | Some { LossWeightList = Some ws } -> array (ws |> List.map Config.value)
            | Some _ -> null
            | None when compiled.LossWeights |> List.forall ((=) 1.0) -> null
            | None -> array (compiled.LossWeights |> List.map Config.value)

        let metrics: JsonNode =
            match arguments with
            | Some a ->
                let everyOutput =
                    (defaultArg a.Metrics [] |> List.map MetricSpec.Named)
                    @ defaultArg a.MetricSpecs []

                match a.OutputMetrics with
                | Some byName ->
                    names
                    |> List.map (fun n ->
                        let specs =
                            match byName |> List.tryFind (fun (k, _) -> k = n) with
                            | Some(_, specs) -> specs
                            | None -> everyOutput

                        n, array (List.map serializeMetric specs))
                    |> dictOf
                | None when everyOutput.IsEmpty -> null
                | None -> array (List.map serializeMetric everyOutput)
            | None -> null

        Config.ofList
            [
                "optimizer", serializeOptimizer compiled.Optimizer
                "loss", loss
                "loss_weights", lossWeights
                "metrics", metrics
                "weighted_metrics", null
                "run_eagerly", Config.value false
                "steps_per_execution", Config.value 1
                "jit_compile", Config.value false
            ]

    // ----------------------------------------------------------------------------------------------------------
    // Reading

    let private entry = ConfigReader.entry
    let private str = ConfigReader.str

    let private numberOr (config: JsonObject) (key: string) (fallback: float) =
        match entry config key with
        | null -> fallback
        | node -> ConfigReader.number "compile_from_config" key node

    let private boolOr (config: JsonObject) (key: string) (fallback: bool) =
        match entry config key with
        | null -> fallback
        | node -> ConfigReader.value<bool> "compile_from_config" key node

    let private className (o: JsonObject) = str (entry o "class_name")

    /// A learning rate: a number, or one of Keras's schedules (ExponentialDecay, CosineDecay, InverseTimeDecay).
    let private parseRate (node: JsonNode) (fallback: float) : LearningRate =
        match node with
        | null -> ConstantRate fallback
        | :? JsonObject as o ->
            let c = ConfigReader.innerConfig o
            let initial = numberOr c "initial_learning_rate" fallback
            let steps = int64 (numberOr c "decay_steps" 1.0)

            match className o with
            | "ExponentialDecay" ->
                Schedules.exponentialDecay initial steps (numberOr c "decay_rate" 1.0) (boolOr c "staircase" false)
            | "CosineDecay" when isNull (entry c "warmup_target") ->
                Schedules.cosineDecay initial steps (numberOr c "alpha" 0.0)
            | "InverseTimeDecay" when not (boolOr c "staircase" false) ->
                Schedules.inverseTimeDecay initial steps (numberOr c "decay_rate" 1.0)
            | _ ->
                fail
                    "learning_rate"
                    "This learning-rate schedule cannot be rebuilt (known: ExponentialDecay, CosineDecay without warmup, InverseTimeDecay without staircase). Load the model with compile=false and compile it yourself."
                    node
        | value -> ConstantRate(ConfigReader.number "compile_from_config" "learning_rate" value)

    /// <summary>An optimizer from Keras's serialized form (Keras 3 <c>{"class_name", "config"}</c>, Keras 2's
    /// <c>optimizer_config</c>) or name.</summary>
    /// <exception cref="KerasException">For an optimizer class or option the library does not have.</exception>
    let parseOptimizer (node: JsonNode) : Optimizer =
        match node with
        | :? JsonObject as o ->
            let c = ConfigReader.innerConfig o
            let classText = defaultArg (Option.ofObj (className o)) ""

            let unsupported (key: string) =
                fail
                    $"optimizer.{key}"
                    $"The option `{key}` of the optimizer {classText} is not supported by this library; load the model with compile=false and compile it yourself."
                    (entry c key)

            for key in [ "loss_scale_factor"; "gradient_accumulation_steps" ] do
                match entry c key with
                | null -> ()
                | _ -> unsupported key

            if boolOr c "use_ema" false then
                unsupported "use_ema"

            let name = classText.ToLowerInvariant()

            let optionalNumber (key: string) =
                match entry c key with
                | null -> None
                | n -> Some(ConfigReader.number "compile_from_config" key n)

            let decay = optionalNumber "weight_decay"

            let options =
                OptimizerOptions.Create(
                    classText,
                    (if name = "adamw" then None else decay),
                    optionalNumber "clipnorm",
                    optionalNumber "clipvalue",
                    optionalNumber "global_clipnorm"
                )

            let rateOf fallback =
                parseRate
                    (match entry c "learning_rate" with
                     | null -> entry c "lr"
                     | n -> n)
                    fallback

            match name with
            | "sgd" -> SGD(rateOf 0.01, numberOr c "momentum" 0.0, boolOr c "nesterov" false, options)
            | "rmsprop" ->
                RMSprop(
                    rateOf 0.001,
                    numberOr c "rho" 0.9,
                    numberOr c "epsilon" 1e-7,
                    numberOr c "momentum" 0.0,
                    boolOr c "centered" false,
                    options
                )
            | "adam" ->
                Adam(
                    rateOf 0.001,
                    numberOr c "beta_1" 0.9,
                    numberOr c "beta_2" 0.999,
                    numberOr c "epsilon" 1e-7,
                    boolOr c "amsgrad" false,
                    options
                )
            | "adamw" ->
                AdamW(
                    rateOf 0.001,
                    defaultArg decay 0.004,
                    numberOr c "beta_1" 0.9,
                    numberOr c "beta_2" 0.999,
                    numberOr c "epsilon" 1e-7,
                    boolOr c "amsgrad" false,
                    options
                )
            | "adagrad" ->
                Adagrad(rateOf 0.001, numberOr c "initial_accumulator_value" 0.1, numberOr c "epsilon" 1e-7, options)
            | _ ->
                fail
                    "optimizer"
                    "Unknown optimizer class. Known: SGD, RMSprop, Adam, AdamW, Adagrad."
                    (JsonValue.Create(className o))
        | _ ->
            match Optimizer.TryParse(str node) with
            | Some o -> o
            | None -> fail "optimizer" "Unknown optimizer. Known: sgd, rmsprop, adam, adamw, adagrad." node

    /// <summary>A loss from a Keras name, a function (<c>{"class_name": "function"}</c>) or a serialized loss object.</summary>
    /// <exception cref="KerasException">For a loss or option the library does not have.</exception>
    let parseLoss (node: JsonNode) : Loss =
        match node with
        | :? JsonObject as o ->
            let c = ConfigReader.innerConfig o

            if numberOr c "label_smoothing" 0.0 <> 0.0 then
                fail "loss.label_smoothing" "Label smoothing is not supported." (entry c "label_smoothing")

            let fromLogits = boolOr c "from_logits" false

            match className o with
            | "function" ->
                match Loss.TryParse(str (entry o "config")) with
                | Some l -> l
                | None -> fail "loss" "Unknown loss function." (entry o "config")
            | "SparseCategoricalCrossentropy" -> SparseCategoricalCrossentropy fromLogits
            | "CategoricalCrossentropy" -> CategoricalCrossentropy fromLogits
            | "BinaryCrossentropy" -> BinaryCrossentropy fromLogits
            | "MeanSquaredError" -> MeanSquaredError
            | "MeanAbsoluteError" -> MeanAbsoluteError
            | "Huber" -> Huber(numberOr c "delta" 1.0)
            | _ ->
                fail
                    "loss"
                    "Unknown loss class. Known: SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError, Huber."
                    (JsonValue.Create(className o))
        | null -> fail "loss" "The compile config has no loss; the library cannot train without one." node
        | _ ->
            match Loss.TryParse(str node) with
            | Some l -> l
            | None -> fail "loss" "Unknown loss." node

    /// <summary>A metric from a Keras name, a function or a serialized metric object.</summary>
    let parseMetric (node: JsonNode) : MetricSpec =
        match node with
        | :? JsonObject as o ->
            let c = ConfigReader.innerConfig o

            let threshold () =
                match entry c "thresholds" with
                | null -> 0.5
                | :? JsonArray as a when a.Count = 1 -> ConfigReader.number "compile_from_config" "thresholds" a[0]
                | n -> ConfigReader.number "compile_from_config" "thresholds" n

            match className o with
            | "function" -> MetricSpec.Named(str (entry o "config"))
            | "MeanSquaredError" -> MetricSpec.MeanSquaredError
            | "MeanAbsoluteError" -> MetricSpec.MeanAbsoluteError
            | "SparseCategoricalAccuracy" -> MetricSpec.SparseCategoricalAccuracy
            | "CategoricalAccuracy" -> MetricSpec.CategoricalAccuracy
            | "BinaryAccuracy" -> MetricSpec.BinaryAccuracy(numberOr c "threshold" 0.5)
            | "Precision" -> MetricSpec.Precision(threshold ())
            | "Recall" -> MetricSpec.Recall(threshold ())
            | "AUC" -> MetricSpec.AUC(int (numberOr c "num_thresholds" 200.0))
            | _ ->
                fail
                    "metrics"
                    "Unknown metric class. Known: MeanSquaredError, MeanAbsoluteError, SparseCategoricalAccuracy, CategoricalAccuracy, BinaryAccuracy, Precision, Recall, AUC."
                    (JsonValue.Create(className o))
        | _ ->
            match str node with
            | null -> fail "metrics" "Expected a metric name or object." node
            | name -> MetricSpec.Named name

    /// A serialized object (a loss or metric) rather than a dict keyed by output name.
    let private isSerializedObject (o: JsonObject) = not (isNull (className o))

    let private asList (node: JsonNode) =
        match node with
        | :? JsonArray as a -> List.ofSeq a
        | n -> [ n ]

    /// <summary>Compiles <paramref name="model"/> as its <c>compile_config</c> (Keras 3) or <c>training_config</c>
    /// (Keras 2) says (Keras's <c>compile_from_config</c>).</summary>
    /// <exception cref="KerasException">For an optimizer, loss or metric the library does not have, naming it.</exception>
    let compile (model: Model) (config: JsonObject) : CompiledModel =
        let optimizer =
            match entry config "optimizer", entry config "optimizer_config" with
            | null, null -> Optimizer.op_Implicit "rmsprop"
            | null, legacy -> parseOptimizer legacy
            | node, _ -> parseOptimizer node

        let loss, losses, lossList =
            match entry config "loss" with
            | :? JsonObject as o when not (isSerializedObject o) ->
                None, Some [ for KeyValue(k, v) in o -> k, parseLoss v ], None
            | :? JsonArray as a -> None, None, Some [ for v in a -> parseLoss v ]
            | node -> Some(parseLoss node), None, None

        let lossWeights, lossWeightList =
            match entry config "loss_weights" with
            | null -> None, None
            | :? JsonObject as o ->
                Some
                    [
                        for KeyValue(k, v) in o -> k, ConfigReader.number "compile_from_config" "loss_weights" v
                    ],
                None
            | :? JsonArray as a ->
                None, Some [ for v in a -> ConfigReader.number "compile_from_config" "loss_weights" v ]
            | node -> fail "loss_weights" "Expected a list or dict of loss weights." node

        let metrics, outputMetrics =
            match entry config "metrics" with
            | null -> None, None
            | :? JsonObject as o when not (isSerializedObject o) ->
                None, Some [ for KeyValue(k, v) in o -> k, asList v |> List.map parseMetric ]
            | :? JsonArray as a when a |> Seq.exists (fun n -> n :? JsonArray || isNull n) ->
                // One list per output, in output order.
                let names = Model.outputNames model

                if a.Count <> names.Length then
                    fail "metrics" $"Expected one metric list per output ({names.Length})." a

                None, Some(List.zip names [ for v in a -> (if isNull v then [] else asList v |> List.map parseMetric) ])
            | node -> Some(asList node |> List.map parseMetric), None

        CompileExtensions.compileModel (
            model,
            optimizer,
            loss,
            losses,
            lossList,
            lossWeights,
            lossWeightList,
            None,
            metrics,
            outputMetrics
        )

    /// <summary>The trainable weights the optimizer updates, in Keras's <c>model.trainable_variables</c> order.</summary>
    let internal parameters (model: Model) =
        Model.trainableWeights model |> List.map _.Value

    /// <summary>Restores optimizer variables (Keras's <c>optimizer/vars</c>) into a compiled model when their count and
    /// shapes fit, as Keras's <c>load_own_variables</c>; returns false (nothing changed) when they do not, where Keras
    /// warns and skips.</summary>
    let restoreOptimizer (compiled: CompiledModel) (values: TorchSharp.torch.Tensor list) : bool =
        compiled.Optimizer.TryImportVariables(parameters compiled.Model, values)

    /// <summary>The optimizer variables to save for a compiled model, in Keras's order (see
    /// <c>OptimizerState.ExportVariables</c>).</summary>
    let internal optimizerVariables (compiled: CompiledModel) =
        compiled.Optimizer.ExportVariables(parameters compiled.Model)

    /// <summary>A compiled model's entry for <c>compile_config</c> when the model was compiled.</summary>
    let internal ofModel (model: Model) : (CompiledModel * JsonObject) option =
        CompiledModels.tryFind model
        |> Option.map (fun (compiled, arguments) -> compiled, build compiled (Some arguments))
