/// Vocabulary lookup layers: StringLookup and IntegerLookup (Keras's IndexLookup), and Hashing.
module Keras.LookupLayers

open System
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Text
open TorchSharp
open Keras

/// How lookup and hashing layers encode their indices (Keras's <c>output_mode</c>).
type OutputMode =
    /// One index per token (int64).
    | Int
    /// One one-hot vector per token.
    | OneHot
    /// Per sample (the last axis), 1 where an index occurs.
    | MultiHot
    /// Per sample, how often each index occurs.
    | Count
    /// Per sample, counts times the inverse document frequency of each index.
    | TfIdf

/// Keras names of output modes.
[<RequireQualifiedAccess>]
module OutputMode =
    /// The Keras name: "int", "one_hot", ...
    let name mode =
        match mode with
        | Int -> "int"
        | OneHot -> "one_hot"
        | MultiHot -> "multi_hot"
        | Count -> "count"
        | TfIdf -> "tf_idf"

    /// Parses a Keras name (with the old spellings "binary" and "tf-idf"), or fails naming the owner.
    let parse (owner: string) (allowed: OutputMode list) (text: string) =
        let mode =
            match text with
            | "int" -> Some Int
            | "one_hot" -> Some OneHot
            | "multi_hot"
            | "binary" -> Some MultiHot
            | "count" -> Some Count
            | "tf_idf"
            | "tf-idf" -> Some TfIdf
            | _ -> None

        match mode with
        | Some m when List.contains m allowed -> m
        | _ ->
            let names = allowed |> List.map (fun m -> $"'{name m}'") |> String.concat ", "

            Errors.raiseKeras (
                InvalidArgument(owner, "output_mode", $"Expected one of ({names}).", string text)
            )

/// <summary>The output of the multi-hot, count and tf-idf modes: one row per sample of <paramref name="indices"/>
/// (rows of <paramref name="width"/> indices), <paramref name="depth"/> columns; negative indices (masked tokens) are
/// dropped, as Keras drops them from its bincount.</summary>
let internal encodeRows (mode: OutputMode) (depth: int) (idf: float32[] option) (rows: int) (width: int) (indices: int64[]) =
    let out = Array.zeroCreate<float32> (rows * depth)

    for r in 0 .. rows - 1 do
        for k in 0 .. width - 1 do
            let i = indices[r * width + k]

            if i >= 0L && i < int64 depth then
                let at = r * depth + int i

                match mode with
                | MultiHot -> out[at] <- 1.0f
                | _ -> out[at] <- out[at] + 1.0f

    match mode, idf with
    | TfIdf, Some weights ->
        for r in 0 .. rows - 1 do
            for c in 0 .. depth - 1 do
                out[r * depth + c] <- out[r * depth + c] * (if c < weights.Length then weights[c] else 0.0f)
    | _ -> ()

    out

/// <summary>Encodes a tensor of indices in a non-int mode; <c>one_hot</c> gives one vector per index, the other modes
/// one vector per sample (a rank-1 input is one index per sample).</summary>
let internal encode (mode: OutputMode) (depth: int) (idf: float32[] option) (dims: int64[]) (indices: int64[]) =
    match mode with
    | Int -> torch.tensor(indices).reshape dims
    | OneHot ->
        let lead =
            if dims.Length > 1 && dims[dims.Length - 1] = 1L then
                dims[.. dims.Length - 2]
            else
                dims

        let out = Array.zeroCreate<float32> (indices.Length * depth)

        indices
        |> Array.iteri (fun k i ->
            if i >= 0L && i < int64 depth then
                out[k * depth + int i] <- 1.0f)

        torch.tensor(out).reshape (Array.append lead [| int64 depth |])
    | _ ->
        let width, lead =
            if dims.Length <= 1 then 1, dims else int dims[dims.Length - 1], dims[.. dims.Length - 2]

        let rows = if width = 0 then 0 else indices.Length / width
        let rows = if dims.Length > 1 then int (Array.fold (*) 1L lead) else rows
        let out = encodeRows mode depth idf rows width indices
        torch.tensor(out).reshape (Array.append lead [| int64 depth |])

/// The output shape of an encoding mode for an input shape (Keras's <c>compute_output_shape</c>).
let internal encodedShape (mode: OutputMode) (depth: int option) (shape: Shape) : Shape =
    match mode with
    | Int -> shape
    | OneHot ->
        match List.rev shape with
        | Some 1 :: rest when shape.Length > 1 -> List.rev rest @ [ depth ]
        | _ -> shape @ [ depth ]
    | _ ->
        match shape with
        | []
        | [ _ ] -> shape @ [ depth ]
        | _ -> List.truncate (shape.Length - 1) shape @ [ depth ]

/// <summary>The state of a vocabulary layer (Keras's IndexLookup): the learned tokens in index order, their indices,
/// and idf weights for <c>tf_idf</c>. <typeparamref name="T"/> is <c>string</c> (StringLookup, TextVectorization) or
/// <c>int64</c> (IntegerLookup).</summary>
[<Sealed>]
type IndexLookup<'T when 'T: equality>
    (
        owner: string,
        maxTokens: int option,
        numOovIndices: int,
        maskToken: 'T option,
        oovToken: 'T,
        invert: bool,
        outputMode: OutputMode,
        padToMaxTokens: bool,
        compareTokens: 'T -> 'T -> int,
        hashOov: 'T -> int64
    ) =
    let fail argument reason received : 'r =
        Errors.raiseKeras (InvalidArgument(owner, argument, reason, received))

    do
        match maxTokens with
        | Some m when m <= 1 ->
            fail "max_tokens" "If set, `max_tokens` must be greater than 1." (string m)
        | _ -> ()

        if padToMaxTokens && maxTokens.IsNone then
            fail "pad_to_max_tokens" "If pad_to_max_tokens is True, must set `max_tokens`." "None"

        if numOovIndices < 0 then
            fail "num_oov_indices" "`num_oov_indices` must be greater than or equal to 0." (string numOovIndices)

        if invert && outputMode <> Int then
            fail "output_mode" "`output_mode` must be `'int'` when `invert` is true." (OutputMode.name outputMode)

    let mutable tokens: 'T[] = [||]
    let mutable index = Dictionary<'T, int64>()
    let mutable idf: float32[] option = None
    let mutable isSet = false
    let mutable frozenSize: int option = None

    let oovStart = if maskToken.IsSome && outputMode = Int then 1 else 0
    let tokenStart = oovStart + numOovIndices

    let show (t: 'T) = string (box t)

    /// Index of the first OOV bucket.
    member _.OovStart = oovStart
    /// Index of the first learned token.
    member _.TokenStart = tokenStart
    /// The mask token, if any.
    member _.MaskToken = maskToken
    /// The OOV token.
    member _.OovToken = oovToken
    /// Whether the layer maps indices back to tokens.
    member _.Invert = invert
    /// The output mode.
    member _.OutputMode = outputMode
    /// True once a vocabulary was set or adapted.
    member _.HasVocabulary = isSet
    /// The learned tokens (without mask and OOV), in index order.
    member _.Tokens = tokens
    /// The idf weights of every index (tf_idf only).
    member _.Idf = idf

    /// Keras's <c>vocabulary_size()</c>: learned tokens plus mask and OOV indices.
    member _.VocabularySize = tokens.Length + tokenStart

    /// <summary>The vocabulary size a saved layer declares (Keras's <c>vocabulary_size</c> config entry), giving the
    /// output width before its vocabulary asset is read.</summary>
    member _.FrozenSize
        with get () = frozenSize
        and set (v: int option) = frozenSize <- v

    /// The number of output columns in non-int modes, when known.
    member this.Depth =
        if padToMaxTokens then maxTokens
        elif isSet then Some this.VocabularySize
        else frozenSize

    /// <summary>Keras's <c>get_vocabulary</c>: the token of each index (mask and OOV tokens first when
    /// <paramref name="includeSpecial"/>).</summary>
    member _.GetVocabulary(includeSpecial: bool) : 'T list =
        let specials =
            [
                if oovStart = 1 then
                    yield maskToken.Value
                for _ in 1..numOovIndices do
                    yield oovToken
            ]

        if includeSpecial then
            specials @ List.ofArray tokens
        else
            List.ofArray tokens

    /// <summary>Keras's <c>set_vocabulary</c>: tokens in index order, optionally preceded by the special tokens in
    /// Keras's order; idf weights for tf_idf.</summary>
    member this.SetVocabulary(vocabulary: 'T list, idfWeights: float list option) =
        match outputMode, idfWeights with
        | TfIdf, None -> fail "idf_weights" "`idf_weights` must be set if output_mode is 'tf_idf'." "None"
        | mode, Some _ when mode <> TfIdf ->
            fail "idf_weights" "`idf_weights` should only be set if output_mode is `'tf_idf'`." (OutputMode.name mode)
        | _ -> ()

        if vocabulary.IsEmpty then
            fail "vocabulary" "Cannot set an empty vocabulary." "[]"

        let specials = this.GetVocabulary(true) |> List.truncate tokenStart
        let foundSpecials = vocabulary.Length >= tokenStart && List.truncate tokenStart vocabulary = specials
        let learned = if foundSpecials then List.skip tokenStart vocabulary else vocabulary

        let repeated =
            learned |> List.countBy id |> List.filter (fun (_, n) -> n > 1) |> List.map fst

        if not repeated.IsEmpty then
            fail
                "vocabulary"
                "The passed vocabulary has at least one repeated term. Please uniquify your dataset."
                (repeated |> List.map show |> String.concat ", ")

        match maskToken with
        | Some m when List.contains m learned ->
            fail
                "vocabulary"
                "Found reserved mask token at unexpected location in `vocabulary`. Either remove all mask and OOV tokens, or include them only at the start of the vocabulary."
                (show m)
        | _ -> ()

        if invert && List.contains oovToken learned then
            fail
                "vocabulary"
                "Found reserved OOV token at unexpected location in `vocabulary`. Either remove all mask and OOV tokens, or include them only at the start of the vocabulary."
                (show oovToken)

        let size = tokenStart + learned.Length

        match maxTokens with
        | Some m when size > m ->
            fail
                "vocabulary"
                $"Attempted to set a vocabulary larger than the maximum vocab size. `max_tokens` is {m}."
                $"vocabulary size {size}"
        | _ -> ()

        tokens <- Array.ofList learned
        index <- Dictionary<'T, int64>()
        tokens |> Array.iteri (fun i t -> index[t] <- int64 (tokenStart + i))

        idf <-
            idfWeights
            |> Option.map (fun w ->
                if w.Length <> vocabulary.Length then
                    fail
                        "idf_weights"
                        $"`idf_weights` must be the same length as vocabulary ({vocabulary.Length})."
                        (string w.Length)

                let front =
                    if foundSpecials then [] else List.replicate tokenStart (List.average w)

                let all = front @ w

                let back =
                    match maxTokens with
                    | Some m when padToMaxTokens -> List.replicate (max 0 (m - all.Length)) 0.0
                    | _ -> []

                (all @ back) |> List.map float32 |> Array.ofList)

        isSet <- true

    /// <summary>Keras's <c>adapt</c>: counts tokens over documents (rows), orders them by count (descending), ties by
    /// token (descending), keeps the <c>max_tokens</c> most frequent, and learns idf weights in tf_idf mode
    /// (<c>log(1 + documents / (1 + document count))</c>, the OOV indices getting their mean).</summary>
    member _.Adapt(documents: 'T[] seq) =
        let counts = Dictionary<'T, int64>()
        let docCounts = Dictionary<'T, int64>()
        let mutable numDocs = 0L

        for doc in documents do
            numDocs <- numDocs + 1L

            for t in doc do
                counts[t] <- (match counts.TryGetValue t with
                              | true, n -> n
                              | _ -> 0L)
                             + 1L

            for t in Array.distinct doc do
                docCounts[t] <- (match docCounts.TryGetValue t with
                                 | true, n -> n
                                 | _ -> 0L)
                                + 1L

        maskToken |> Option.iter (counts.Remove >> ignore)
        counts.Remove oovToken |> ignore

        let ordered =
            counts
            |> Seq.map (fun kv -> kv.Key, kv.Value)
            |> Array.ofSeq
            |> Array.sortWith (fun (t1, c1) (t2, c2) ->
                if c1 <> c2 then compare c2 c1 else compareTokens t2 t1)
            |> Array.map fst

        let kept =
            match maxTokens with
            | Some m -> Array.truncate (max 0 (m - tokenStart)) ordered
            | None -> ordered

        tokens <- kept
        index <- Dictionary<'T, int64>()
        tokens |> Array.iteri (fun i t -> index[t] <- int64 (tokenStart + i))

        if outputMode = TfIdf then
            let learned =
                kept
                |> Array.map (fun t -> Math.Log(1.0 + float numDocs / (1.0 + float docCounts[t])))

            let mean = if learned.Length = 0 then 0.0 else Array.average learned
            let all = Array.append (Array.replicate tokenStart mean) learned

            let padded =
                match maxTokens with
                | Some m when padToMaxTokens -> Array.append all (Array.zeroCreate (max 0 (m - all.Length)))
                | _ -> all

            idf <- Some(padded |> Array.map float32)

        isSet <- true

    /// <summary>The index of each token: learned tokens from <see cref="TokenStart"/>, the mask token 0 in int mode
    /// (-1, dropped, in the other modes), unknown tokens an OOV index (hashed among several).</summary>
    member this.Lookup(values: 'T[]) : int64[] =
        if outputMode <> Int && not padToMaxTokens && not isSet then
            Errors.raiseKeras (
                InvalidInputs(
                    owner,
                    "IndexLookup",
                    $"When using `output_mode={OutputMode.name outputMode}` and `pad_to_max_tokens=False`, you must set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to the layer, or call `adapt` with some sample data.",
                    "a layer without vocabulary"
                )
            )

        values
        |> Array.map (fun v ->
            match maskToken with
            | Some m when m = v -> if outputMode = Int then 0L else -1L
            | _ ->
                match index.TryGetValue v with
                | true, i -> i
                | _ when numOovIndices = 0 ->
                    Errors.raiseKeras (
                        InvalidInputs(
                            owner,
                            "IndexLookup",
                            "When `num_oov_indices=0` all inputs should be in vocabulary, consider setting `num_oov_indices=1`.",
                            $"OOV value {show v}"
                        )
                    )
                | _ when numOovIndices = 1 -> int64 oovStart
                | _ -> int64 oovStart + hashOov v)

    /// <summary>The token of each index (invert=True): the mask token at 0 when there is one, the OOV token for OOV
    /// and unknown indices.</summary>
    member _.InvertIndices(indices: int64[]) : 'T[] =
        indices
        |> Array.map (fun i ->
            if oovStart = 1 && i = 0L then
                maskToken.Value
            else
                let k = i - int64 tokenStart
                if k >= 0L && k < int64 tokens.Length then tokens[int k] else oovToken)

/// The vocabulary state of each lookup layer, for adapt, get_vocabulary and saving.
let private states = ConditionalWeakTable<LayerIdentity, obj>()

/// <summary>The state behind a vocabulary layer (an <c>IndexLookup&lt;string&gt;</c> or <c>IndexLookup&lt;int64&gt;</c>),
/// or None for other layers.</summary>
let tryState (layer: Layer) : obj option =
    match states.TryGetValue layer.Identity with
    | true, s -> Some s
    | _ -> None

/// Records the state of a vocabulary layer.
let internal register (layer: Layer) (state: obj) =
    states.AddOrUpdate(layer.Identity, state)
    layer

/// <summary>The strings of a string tensor, or an error naming the layer when it holds numbers.</summary>
let internal stringsOf (layerName: string) (className: string) (x: torch.Tensor) =
    match StringTensor.tryStrings (x.contiguous().data<int64>().ToArray()) with
    | Ok strings when x.dtype = torch.ScalarType.Int64 -> strings
    | _ ->
        Errors.raiseKeras (
            InvalidInputs(
                layerName,
                className,
                "Expected a string tensor (from string data or an `Input` with dtype=\"string\").",
                $"a {x.dtype} tensor of shape {Shape.formatDims x.shape}"
            )
        )

/// Integer values of an integer (or float, truncated) tensor.
let internal integersOf (x: torch.Tensor) =
    use t = x.to_type(torch.ScalarType.Int64).contiguous()
    t.data<int64>().ToArray()

/// Keras's ordering of string tokens: by UTF-8 bytes, as numpy sorts them.
let compareUtf8 (a: string) (b: string) =
    let x = Encoding.UTF8.GetBytes a
    let y = Encoding.UTF8.GetBytes b
    ReadOnlySpan<byte>(x).SequenceCompareTo(ReadOnlySpan<byte>(y))

/// Configuration shared by StringLookup and IntegerLookup, with Keras's defaults.
type LookupConfig<'T> =
    {
        /// Largest vocabulary size, special tokens included; no limit by default.
        MaxTokens: int option
        /// Number of OOV indices (1 by default); unknown tokens are hashed among them.
        NumOovIndices: int
        /// The token that means "masked" (index 0 in int mode); none by default.
        MaskToken: 'T option
        /// The token standing for OOV indices when inverting ("[UNK]" or -1).
        OovToken: 'T
        /// A fixed vocabulary (stored in the config); otherwise adapt or load it.
        Vocabulary: 'T list option
        /// Idf weights for a fixed vocabulary in tf_idf mode.
        IdfWeights: float list option
        /// Map indices back to tokens.
        Invert: bool
        /// How indices are encoded.
        OutputMode: OutputMode
        /// Pad non-int outputs to max_tokens columns.
        PadToMaxTokens: bool
    }

let private lookupLayer
    (className: string)
    (tokenDType: DType)
    (config: LookupConfig<'T>)
    (compareTokens: 'T -> 'T -> int)
    (hashOov: int -> 'T -> int64)
    (tokensOf: string -> string -> torch.Tensor -> 'T[])
    (outputTokens: StringTable option ref -> IndexLookup<'T> -> 'T[] -> int64[] -> torch.Tensor)
    (tokenJson: 'T -> System.Text.Json.Nodes.JsonNode)
    (extraConfig: (string * System.Text.Json.Nodes.JsonNode) list)
    (name: string option)
    =
    let owner = defaultArg name className

    let state =
        IndexLookup<'T>(
            owner,
            config.MaxTokens,
            config.NumOovIndices,
            config.MaskToken,
            config.OovToken,
            config.Invert,
            config.OutputMode,
            config.PadToMaxTokens,
            compareTokens,
            hashOov config.NumOovIndices
        )

    match config.Vocabulary with
    | Some v -> state.SetVocabulary(v, config.IdfWeights)
    | None ->
        if config.IdfWeights.IsSome then
            Errors.raiseKeras (
                InvalidArgument(owner, "idf_weights", "`idf_weights` needs a `vocabulary`.", "idf_weights without vocabulary")
            )

    let invertTable = ref None

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            if config.Invert then
                Ok [ { Shape = x.Shape; DType = tokenDType } ]
            else
                let dtype = if config.OutputMode = Int then Int64 else Float32

                Ok
                    [
                        {
                            Shape = encodedShape config.OutputMode state.Depth x.Shape
                            DType = dtype
                        }
                    ]
        | many ->
            Error(InvalidInputs(layerName, className, $"A `{className}` layer takes exactly one input.", $"{many.Length} inputs"))

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs

        if config.Invert then
            let indices = integersOf x
            [ outputTokens invertTable state (state.InvertIndices indices) x.Sizes ]
        else
            let values = tokensOf ctx.LayerName className x
            let indices = state.Lookup values
            let depth = state.Depth |> Option.defaultValue 0
            [ encode config.OutputMode depth state.Idf x.Sizes indices ]

    let layer =
        Layer.create
            name
            { Layer.simpleSpec className call with
                Config =
                    fun () ->
                        Config.ofList (
                            [
                                "invert", Config.value config.Invert
                                "max_tokens", (match config.MaxTokens with
                                               | Some m -> Config.value m
                                               | None -> null)
                                "num_oov_indices", Config.value config.NumOovIndices
                                "oov_token", tokenJson config.OovToken
                                "mask_token", (match config.MaskToken with
                                               | Some m -> tokenJson m
                                               | None -> null)
                                "output_mode", Config.value (OutputMode.name config.OutputMode)
                                "sparse", Config.value false
                                "pad_to_max_tokens", Config.value config.PadToMaxTokens
                            ]
                            @ extraConfig
                            @ [
                                "idf_weights",
                                (match config.IdfWeights with
                                 | Some w -> System.Text.Json.Nodes.JsonArray(w |> List.map Config.value |> Array.ofList) :> System.Text.Json.Nodes.JsonNode
                                 | None -> null)
                                "vocabulary",
                                (match config.Vocabulary with
                                 | Some v -> System.Text.Json.Nodes.JsonArray(v |> List.map tokenJson |> Array.ofList) :> System.Text.Json.Nodes.JsonNode
                                 | None -> null)
                                "vocabulary_size", (if state.HasVocabulary then Config.value state.VocabularySize else null)
                            // Later Keras writes oov_method ("floormod") and salt (null), which Keras 3.1.1's
                            // IndexLookup refuses; the library only has their defaults, so it writes neither.
                            ]
                        )
                ComputeOutput = computeOutput
            }

    register layer (box state)

/// <summary>Keras's <c>StringLookup</c>: maps strings to indices of a vocabulary (adapted or given), or back with
/// <c>invert</c>; encodes them as ints, one-hot, multi-hot, counts or tf-idf.</summary>
let stringLookup (config: LookupConfig<string>) (name: string option) : Layer =
    let outputTokens (table: StringTable option ref) (state: IndexLookup<string>) (tokens: string[]) (dims: int64[]) =
        // The layer's vocabulary (with the special tokens) as one table the output handles point into.
        let vocab = state.GetVocabulary true |> Array.ofList

        let current =
            match table.Value with
            | Some t when t.Strings.Length = vocab.Length + 1 && Array.forall2 (=) t.Strings[.. vocab.Length - 1] vocab ->
                t
            | _ ->
                let t = StringTensor.createTable (Array.append vocab [| state.OovToken |])
                table.Value <- Some t
                t

        let position = Dictionary<string, int64>()
        current.Strings |> Array.iteri (fun i s -> position.TryAdd(s, int64 i) |> ignore)
        StringTensor.ofTable current (tokens |> Array.map (fun s -> position[s])) dims

    lookupLayer
        "StringLookup"
        String
        config
        compareUtf8
        (fun buckets s -> FarmHash.bucket buckets s)
        stringsOf
        outputTokens
        Config.value
        [ "encoding", Config.value "utf-8" ]
        name

/// <summary>Keras's <c>IntegerLookup</c>: maps integers to indices of a vocabulary (adapted or given), or back with
/// <c>invert</c>; several OOV indices take <c>value mod num_oov_indices</c> (Keras's "floormod").</summary>
let integerLookup (config: LookupConfig<int64>) (name: string option) : Layer =
    let floorMod (buckets: int) (v: int64) =
        let m = v % int64 buckets
        if m < 0L then m + int64 buckets else m

    lookupLayer
        "IntegerLookup"
        Int64
        config
        compare
        floorMod
        (fun _ _ x -> integersOf x)
        (fun _ _ tokens dims -> torch.tensor(tokens).reshape dims)
        Config.value
        [ "vocabulary_dtype", Config.value "int64" ]
        name

/// Configuration of <see cref="hashing"/>, with Keras's defaults in <see cref="HashingConfig.Default"/>.
type HashingConfig =
    {
        /// Number of bins (bin 0 is the mask's when <c>MaskValue</c> is set).
        NumBins: int
        /// The value that maps to bin 0, as text (integers by their decimal form); none by default.
        MaskValue: string option
        /// Keyed hashing (SipHash) with these two keys instead of FarmHash; none by default.
        Salt: (int64 * int64) option
        /// "int" (default), "one_hot", "multi_hot" or "count".
        OutputMode: OutputMode
    }

    /// Keras's defaults: no mask, no salt, int output.
    static member Default(numBins) =
        {
            NumBins = numBins
            MaskValue = None
            Salt = None
            OutputMode = Int
        }

/// <summary>Keras's <c>Hashing</c>: the bin of each value by FarmHash Fingerprint64 of its string form
/// (<c>tf.strings.to_hash_bucket_fast</c>; integers by their decimal text, floats truncated first), or SipHash with a
/// salt; encoded as ints or one-hot, multi-hot and count vectors of <c>num_bins</c>.</summary>
let hashing (config: HashingConfig) (name: string option) : Layer =
    let owner = defaultArg name "Hashing"

    if config.NumBins <= 0 then
        Errors.raiseKeras (
            InvalidArgument(owner, "num_bins", "The `num_bins` for `Hashing` cannot be `None` or non-positive values.", string config.NumBins)
        )

    if config.OutputMode = TfIdf then
        Errors.raiseKeras (
            InvalidArgument(owner, "output_mode", "Expected one of ('int', 'one_hot', 'multi_hot', 'count').", "tf_idf")
        )

    let bins, offset =
        match config.MaskValue with
        | Some _ when config.NumBins > 1 -> config.NumBins - 1, 1L
        | _ -> config.NumBins, 0L

    let bucket (text: string) =
        match config.MaskValue with
        | Some m when offset = 1L && m = text -> 0L
        | _ ->
            let b =
                match config.Salt with
                | Some(k0, k1) -> SipHash.bucket (uint64 k0) (uint64 k1) bins text
                | None -> FarmHash.bucket bins text

            b + offset

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs

        let texts =
            if x.dtype = torch.ScalarType.Int64 && StringTensor.tryStrings (x.contiguous().data<int64>().ToArray()) |> Result.isOk then
                stringsOf ctx.LayerName "Hashing" x
            else
                integersOf x |> Array.map string

        [ encode config.OutputMode config.NumBins None x.Sizes (texts |> Array.map bucket) ]

    Layer.create
        name
        { Layer.simpleSpec "Hashing" call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "num_bins", Config.value config.NumBins
                            "salt",
                            (match config.Salt with
                             | Some(a, b) -> Config.ints [ int a; int b ]
                             | None -> null)
                            "mask_value",
                            (match config.MaskValue with
                             | Some m ->
                                 match Int64.TryParse m with
                                 | true, n -> Config.value n
                                 | _ -> Config.value m
                             | None -> null)
                            "output_mode", Config.value (OutputMode.name config.OutputMode)
                            "sparse", Config.value false
                        ]
            ComputeOutput =
                fun layerName inputs ->
                    match inputs with
                    | [ x ] ->
                        let dtype = if config.OutputMode = Int then Int64 else Float32
                        Ok [ { Shape = encodedShape config.OutputMode (Some config.NumBins) x.Shape; DType = dtype } ]
                    | many ->
                        Error(InvalidInputs(layerName, "Hashing", "A `Hashing` layer takes exactly one input.", $"{many.Length} inputs"))
        }
