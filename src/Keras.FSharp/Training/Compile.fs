namespace Keras

open System.Runtime.CompilerServices

/// <summary>The arguments a model was compiled with, as given (Keras keeps them as its <c>_compile_config</c>, which
/// <c>model.save</c> writes as <c>compile_config</c>): one loss or per-output losses, loss weights and metrics.</summary>
type CompileArguments =
    {
        /// One loss for every output.
        Loss: Loss option
        /// Losses keyed by output name.
        Losses: (string * Loss) list option
        /// Losses in output order.
        LossList: Loss list option
        /// Loss weights keyed by output name.
        LossWeights: (string * float) list option
        /// Loss weights in output order.
        LossWeightList: float list option
        /// Metrics for every output by Keras name.
        Metrics: string list option
        /// Metrics for every output as values.
        MetricSpecs: MetricSpec list option
        /// Metrics keyed by output name.
        OutputMetrics: (string * MetricSpec list) list option
    }

/// <summary>The last compile of each model, as Keras's <c>model.compile</c> leaves it on the model: <c>model.Save</c>
/// writes its <c>compile_config</c> and optimizer variables, and <c>Keras.LoadModel</c> registers the compiled model it
/// rebuilds.</summary>
[<RequireQualifiedAccess>]
module CompiledModels =
    let private table =
        ConditionalWeakTable<LayerIdentity, CompiledModel * CompileArguments>()

    /// Records a compile of a model (replacing an earlier one, as a second <c>compile</c> does in Keras).
    let register (compiled: CompiledModel) (arguments: CompileArguments) =
        table.AddOrUpdate(compiled.Model.AsLayer.Identity, (compiled, arguments))

    /// The last compile of the model and its arguments, if it was compiled.
    let tryFind (model: Model) : (CompiledModel * CompileArguments) option =
        match table.TryGetValue model.AsLayer.Identity with
        | true, entry -> Some entry
        | _ -> None

/// <c>model.Compile(...)</c> with Keras's arguments.
[<AutoOpen>]
module CompileExtensions =
    let private perOutput
        (model: Model)
        (what: string)
        (fallback: 'T option)
        (byName: (string * 'T) list option)
        (inOrder: 'T list option)
        =
        let names = Model.outputNames model

        match byName, inOrder, fallback with
        | Some pairs, _, _ ->
            for k, _ in pairs do
                if not (List.contains k names) then
                    Errors.raiseKeras (UnknownName(model.Name, "output", k, names))

            names
            |> List.map (fun n ->
                match pairs |> List.tryFind (fun (k, _) -> k = n), fallback with
                | Some(_, v), _ -> v
                | None, Some v -> v
                | None, None ->
                    Errors.raiseKeras (
                        InvalidArgument(
                            model.Name,
                            what,
                            $"No {what} for output '{n}'.",
                            String.concat ", " (List.map fst pairs)
                        )
                    ))
        | None, Some values, _ when values.Length = names.Length -> values
        | None, Some values, _ ->
            Errors.raiseKeras (
                InvalidArgument(
                    model.Name,
                    what,
                    $"""Expected one {what} per output ({String.concat ", " names}).""",
                    $"{values.Length} values"
                )
            )
        | None, None, Some v -> names |> List.map (fun _ -> v)
        | None, None, None -> Errors.raiseKeras (InvalidArgument(model.Name, what, $"A {what} is required.", "None"))

    /// <summary><c>model.Compile(...)</c> as one static method with every argument (None where not given), for .NET
    /// languages that cannot call F# extension members (the C# facade).</summary>
    let compileModel
        (
            model: Model,
            optimizer: Optimizer,
            loss: Loss option,
            losses: (string * Loss) list option,
            lossList: Loss list option,
            lossWeights: (string * float) list option,
            lossWeightList: float list option,
            metrics: string list option,
            metricSpecs: MetricSpec list option,
            outputMetrics: (string * MetricSpec list) list option
        ) : CompiledModel =
        let resolvedLosses = perOutput model "loss" loss losses lossList
        let weights = perOutput model "loss weight" (Some 1.0) lossWeights lossWeightList

        let everyOutput =
            (defaultArg metrics [] |> List.map MetricSpec.Named) @ defaultArg metricSpecs []

        let resolvedMetrics =
            perOutput model "metrics" (Some everyOutput) outputMetrics None

        let compiled =
            CompiledModel(model, optimizer, resolvedLosses, weights, resolvedMetrics)

        CompiledModels.register
            compiled
            {
                Loss = loss
                Losses = losses
                LossList = lossList
                LossWeights = lossWeights
                LossWeightList = lossWeightList
                Metrics = metrics
                MetricSpecs = metricSpecs
                OutputMetrics = outputMetrics
            }

        compiled

    type Model with
        /// <summary>Configures the model for training (Keras's <c>compile</c>) and returns it ready to fit.</summary>
        /// <param name="optimizer">An optimizer value or Keras name ("rmsprop", "adam", ...).</param>
        /// <param name="loss">One loss for every output (a value or Keras name).</param>
        /// <param name="losses">Losses keyed by output name.</param>
        /// <param name="lossList">Losses in output order.</param>
        /// <param name="lossWeights">Loss weights keyed by output name (1.0 for outputs not named).</param>
        /// <param name="lossWeightList">Loss weights in output order.</param>
        /// <param name="metrics">Metrics for every output by Keras name ("accuracy", "mae", "precision", "auc", ...).</param>
        /// <param name="metricSpecs">Metrics for every output as values (e.g. <c>MetricSpec.AUC 100</c>).</param>
        /// <param name="outputMetrics">Metrics keyed by output name.</param>
        member model.Compile
            (
                optimizer: Optimizer,
                ?loss: Loss,
                ?losses: (string * Loss) list,
                ?lossList: Loss list,
                ?lossWeights: (string * float) list,
                ?lossWeightList: float list,
                ?metrics: string list,
                ?metricSpecs: MetricSpec list,
                ?outputMetrics: (string * MetricSpec list) list
            ) : CompiledModel =
            compileModel (
                model,
                optimizer,
                loss,
                losses,
                lossList,
                lossWeights,
                lossWeightList,
                metrics,
                metricSpecs,
                outputMetrics
            )
