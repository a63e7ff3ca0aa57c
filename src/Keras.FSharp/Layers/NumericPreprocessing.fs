/// Numeric preprocessing layers (Keras 3's CategoryEncoding and Discretization): no weights; Discretization learns its
/// bin boundaries with <see cref="adapt"/> (Keras's approximate quantiles) and keeps them in its config.
module Keras.NumericPreprocessingLayers

open System.Text.Json.Nodes
open TorchSharp
open Keras

let private fail (error: KerasError) : 'T = Errors.raiseKeras error

let private outputModes = [ "one_hot"; "multi_hot"; "count" ]

/// <summary>Keras's <c>encode_categorical_inputs</c> (torch backend) on int64 indices in [0, depth): "one_hot" adds an
/// axis of size depth (replacing a last axis of size 1 when rank > 1); "multi_hot" (any index present) and "count"
/// (occurrences) reduce axis 1 (axis 0 for rank 1) into the depth axis. Float32.</summary>
let encode (mode: string) (depth: int) (indices: torch.Tensor) : torch.Tensor =
    use scope = torch.NewDisposeScope()

    let oneHot (i: torch.Tensor) =
        torch.nn.functional.one_hot(i, int64 depth).to_type torch.ScalarType.Float32

    let result =
        match mode with
        | "one_hot" ->
            let i =
                if indices.dim () > 1L && indices.size(-1) = 1L then
                    indices.squeeze (-1L)
                else
                    indices

            oneHot i
        | "multi_hot" ->
            let axis = if indices.dim () > 1L then 1L else 0L
            (oneHot indices).amax([| axis |])
        | _ ->
            let axis = if indices.dim () > 1L then 1L else 0L
            (oneHot indices).sum(axis)

    result.MoveToOuterDisposeScope()

/// Keras's output shape of <see cref="encode"/> for an input shape.
let private encodedShape (mode: string) (depth: int) (shape: Shape) : Shape =
    match mode, shape with
    | _, [] -> [ Some depth ]
    | "one_hot", _ when shape.Length > 1 && List.last shape = Some 1 ->
        List.take (shape.Length - 1) shape @ [ Some depth ]
    | "one_hot", _ -> shape @ [ Some depth ]
    | _, [ _ ] -> [ Some depth ]
    | _, first :: _ :: rest -> first :: rest @ [ Some depth ]

/// Raises when a concrete index is outside [0, depth), naming the layer.
let private checkIndices (layerName: string) (depth: int) (indices: torch.Tensor) =
    if indices.numel () > 0L then
        let lo = indices.min().item<int64>()
        let hi = indices.max().item<int64>()

        if lo < 0L || hi >= int64 depth then
            fail (
                InvalidInputs(
                    layerName,
                    "CategoryEncoding",
                    $"Input values must be in the range 0 <= values < num_tokens with num_tokens={depth}.",
                    $"values from {lo} to {hi}"
                )
            )

/// <summary>Encodes integer category indices in [0, numTokens) of a rank 1 or 2 input: "multi_hot" (Keras's default),
/// "one_hot" or "count"; float32 output of last axis numTokens. Indices outside the range raise.</summary>
/// <exception cref="KerasException">When numTokens is below 1 or the mode is unknown.</exception>
let categoryEncoding (numTokens: int) (outputMode: string) (name: string option) : Layer =
    let mode = if outputMode = "binary" then "multi_hot" else outputMode

    if not (List.contains mode outputModes) then
        fail (
            InvalidArgument(
                "CategoryEncoding",
                "output_mode",
                "Expected one of 'one_hot', 'multi_hot', 'count'.",
                $"'{outputMode}'"
            )
        )

    if numTokens < 1 then
        fail (InvalidArgument("CategoryEncoding", "num_tokens", "`num_tokens` must be >= 1.", string numTokens))

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs
        let indices = x.to_type torch.ScalarType.Int64
        checkIndices ctx.LayerName numTokens indices
        [ encode mode numTokens indices ]

    Layer.create
        name
        { Layer.simpleSpec "CategoryEncoding" call with
            Config =
                fun () ->
                    Config.ofList
                        // No `sparse`: Keras 3.1.1's CategoryEncoding refuses it and no Keras writes it.
                        [ "num_tokens", Config.value numTokens; "output_mode", Config.value mode ]
            InputSpecs = [ { InputSpec.any with MaxNDim = Some 2 } ]
            ComputeOutput =
                fun _ inputs ->
                    Ok(
                        inputs
                        |> List.map (fun s ->
                            {
                                Shape = encodedShape mode numTokens s.Shape
                                DType = Float32
                            })
                    )
        }

// ---- Discretization ----

/// Keras's quantile summaries (discretization.py): a (values, weights) pair of float32 arrays, sorted by value.
module internal Quantiles =
    /// numpy's <c>interp</c>: piecewise linear through (xp, fp), constant outside.
    let interp (x: float) (xp: float[]) (fp: float[]) =
        let n = xp.Length

        if x <= xp[0] then
            fp[0]
        elif x >= xp[n - 1] then
            fp[n - 1]
        else
            // The last j with xp[j] <= x.
            let mutable j = 0

            while j + 1 < n && xp[j + 1] <= x do
                j <- j + 1

            fp[j] + (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]) * (x - xp[j])

    /// Keras's <c>summarize</c>: every step-th sorted value, weighted by the step.
    let summarize (values: float32[]) (epsilon: float) =
        let sorted = Array.sort values
        let elements = float sorted.Length
        let step = max (elements / (1.0 / epsilon)) 1.0
        let start = int (step - 1.0)
        let stride = int step
        let picked = [| for i in start..stride .. sorted.Length - 1 -> sorted[i] |]
        picked, Array.create picked.Length (float32 step)

    /// Keras's <c>compress_summary</c>: the summary resampled at the 1/epsilon quantiles.
    let compress (values: float32[], weights: float32[]) (epsilon: float) =
        if float values.Length * epsilon < 1.0 then
            values, weights
        else
            let count = int (ceil (1.0 / epsilon))
            let percents = Array.init count (fun i -> epsilon + float i * epsilon)
            let cum = Array.scan (+) 0.0f weights |> Array.tail
            let total = cum[cum.Length - 1]
            let cumPercents = cum |> Array.map (fun c -> float (c / total))
            let vs = values |> Array.map float
            let newBins = percents |> Array.map (fun p -> interp p cumPercents vs)

            let newCum =
                percents |> Array.map (fun p -> interp p cumPercents (cum |> Array.map float))

            let newWeights =
                newCum |> Array.mapi (fun i c -> if i = 0 then c else c - newCum[i - 1])

            Array.map float32 newBins, Array.map float32 newWeights

    /// Keras's <c>merge_summaries</c>.
    let merge (a: float32[], aw: float32[]) (b: float32[], bw: float32[]) (epsilon: float) =
        let merged = Array.append (Array.zip a aw) (Array.zip b bw) |> Array.sortBy fst
        compress (Array.map fst merged, Array.map snd merged) epsilon

    /// Keras's <c>get_bin_boundaries</c>: the summary at 1/numBins quantiles, without the last.
    let binBoundaries (summary: float32[] * float32[]) (numBins: int) =
        let values, _ = compress summary (1.0 / float numBins)
        values |> Array.truncate (max 0 (values.Length - 1)) |> Array.map float

/// The boundaries of Discretization layers, by layer identity (set by <see cref="adapt"/>).
let private adapted =
    System.Runtime.CompilerServices.ConditionalWeakTable<LayerIdentity, float list>()

/// Keras's Discretization settings.
type DiscretizationConfig =
    {
        /// Sorted boundaries; bins are (-inf, b0), [b0, b1), ..., [bn, inf).
        BinBoundaries: float list option
        /// The number of bins that <see cref="adapt"/> learns boundaries for.
        NumBins: int option
        /// Error tolerance of the adapt quantiles (Keras's default 0.01).
        Epsilon: float
        /// "int" (default: the bin index, int32), "one_hot", "multi_hot" or "count".
        OutputMode: string
    }

/// <summary>Keras's <c>numpy.digitize</c> of the layer: the number of boundaries ≤ x, for each element.</summary>
let digitize (boundaries: float list) (x: torch.Tensor) : torch.Tensor =
    use scope = torch.NewDisposeScope()
    let f = x.to_type torch.ScalarType.Float32

    let result =
        match boundaries with
        | [] -> torch.zeros_like(f).to_type torch.ScalarType.Int64
        | _ ->
            let b = torch.tensor (boundaries |> List.map float32 |> Array.ofList)
            torch.bucketize (f, b, right = true)

    result.MoveToOuterDisposeScope()

/// <summary>Puts numbers into bins: with <c>BinBoundaries</c> [b0; ...; bn], x goes to bin i when b(i−1) ≤ x &lt; b(i)
/// (n + 1 bins); with <c>NumBins</c> the boundaries come from <see cref="adapt"/>. "int" gives the bin index (int32,
/// same shape); the other modes encode it as <see cref="encode"/> does with depth = number of bins.</summary>
/// <exception cref="KerasException">When both or neither of boundaries and bin count are given, the count is negative,
/// or the mode is unknown.</exception>
let discretization (config: DiscretizationConfig) (name: string option) : Layer =
    match config.BinBoundaries, config.NumBins with
    | Some _, Some _ ->
        fail (
            InvalidArgument(
                "Discretization",
                "num_bins",
                "Both `num_bins` and `bin_boundaries` should not be set.",
                string config.NumBins.Value
            )
        )
    | None, None ->
        fail (
            InvalidArgument(
                "Discretization",
                "bin_boundaries",
                "You need to set either `num_bins` or `bin_boundaries`.",
                "None"
            )
        )
    | _, Some n when n < 0 ->
        fail (InvalidArgument("Discretization", "num_bins", "`num_bins` must be greater than or equal to 0.", string n))
    | _ -> ()

    if not (List.contains config.OutputMode ("int" :: outputModes)) then
        fail (
            InvalidArgument(
                "Discretization",
                "output_mode",
                "Expected one of 'int', 'one_hot', 'multi_hot', 'count'.",
                $"'{config.OutputMode}'"
            )
        )

    let identity: LayerIdentity ref = ref null

    let boundaries () =
        match adapted.TryGetValue identity.Value with
        | true, b -> Some b
        | _ -> config.BinBoundaries

    let depth () =
        match config.NumBins, boundaries () with
        | Some n, _ -> n
        | None, Some b -> b.Length + 1
        | None, None -> 1

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        match boundaries () with
        | None ->
            fail (
                InvalidInputs(
                    ctx.LayerName,
                    "Discretization",
                    "You need to either pass the `bin_boundaries` argument at construction time or call `adapt(dataset)` before you can start using the `Discretization` layer.",
                    "bin_boundaries=None"
                )
            )
        | Some b ->
            let indices = digitize b (List.exactlyOne inputs)

            if config.OutputMode = "int" then
                [ indices.to_type torch.ScalarType.Int32 ]
            else
                [ encode config.OutputMode (depth ()) indices ]

    let floats (values: float list option) : JsonNode =
        match values with
        | Some vs -> JsonArray(vs |> List.map (fun v -> Config.value v) |> Array.ofList)
        | None -> null

    let layer =
        Layer.create
            name
            { Layer.simpleSpec "Discretization" call with
                Config =
                    fun () ->
                        Config.ofList
                            [
                                "bin_boundaries", floats (boundaries ())
                                "num_bins",
                                (match config.NumBins with
                                 | Some n -> Config.value n
                                 | None -> null)
                                "epsilon", Config.value config.Epsilon
                                "output_mode", Config.value config.OutputMode
                                "sparse", Config.value false
                            ]
                ComputeOutput =
                    fun _ inputs ->
                        Ok(
                            inputs
                            |> List.map (fun s ->
                                if config.OutputMode = "int" then
                                    { s with DType = Int32 }
                                else
                                    {
                                        Shape = encodedShape config.OutputMode (depth ()) s.Shape
                                        DType = Float32
                                    })
                        )
            }

    identity.Value <- layer.Identity
    layer

/// <summary>Keras's <c>Discretization.adapt</c>: learns <c>num_bins − 1</c> boundaries at the approximate quantiles of
/// <paramref name="data"/> (Keras's summaries with the layer's epsilon), replacing any earlier ones. Each tensor of
/// <paramref name="batches"/> is one batch (Keras's update_state).</summary>
/// <exception cref="KerasException">When the layer is not a Discretization built with <c>num_bins</c>.</exception>
let adaptBatches (layer: Layer) (batches: torch.Tensor seq) =
    let config = layer.Spec.Config()

    let numBins =
        match layer.ClassName, config["num_bins"] with
        | "Discretization", (:? JsonValue as v) -> v.GetValue<int>()
        | _ ->
            fail (
                InvalidArgument(
                    layer.Name,
                    "num_bins",
                    "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, use `num_bins` instead.",
                    "None"
                )
            )

    let epsilon = config["epsilon"].GetValue<float>()

    let summary =
        batches
        |> Seq.fold
            (fun acc (batch: torch.Tensor) ->
                let values =
                    batch.detach().cpu().to_type(torch.ScalarType.Float32).contiguous().data<float32>().ToArray()

                Quantiles.merge (Quantiles.summarize values epsilon) acc epsilon)
            ([||], [||])

    adapted.AddOrUpdate(layer.Identity, List.ofArray (Quantiles.binBoundaries summary numBins))

/// <summary>Keras's <c>Discretization.adapt(data)</c> on one tensor.</summary>
/// <exception cref="KerasException">When the layer is not a Discretization built with <c>num_bins</c>.</exception>
let adapt (layer: Layer) (data: torch.Tensor) = adaptBatches layer [ data ]

/// <summary>Rebuilds a Discretization from a Keras config that may carry both the bin count and adapted boundaries
/// (Keras's from_config).</summary>
let internal withBoundaries (layer: Layer) (boundaries: float list) =
    adapted.AddOrUpdate(layer.Identity, boundaries)
