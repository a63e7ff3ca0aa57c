/// TextVectorization: strings to token indices or token-count vectors, with a vocabulary learned by adapt.
module Keras.TextLayers

open System
open System.Text
open TorchSharp
open Keras
open Keras.LookupLayers

/// Configuration of <see cref="textVectorization"/>, with Keras's defaults in <see cref="TextVectorizationConfig.Default"/>.
type TextVectorizationConfig =
    {
        /// Largest vocabulary size, the mask ("") and OOV ("[UNK]") tokens included; no limit by default.
        MaxTokens: int option
        /// "lower_and_strip_punctuation" (default), "lower", "strip_punctuation", or None.
        Standardize: string option
        /// "whitespace" (default), "character", or None (each string is one token).
        Split: string option
        /// Also emit n-grams up to this size (e.g. 2: unigrams and bigrams); none by default.
        Ngrams: int list option
        /// "int" (default), "multi_hot", "count" or "tf_idf" (one_hot is Keras's too).
        OutputMode: OutputMode
        /// In int mode, pad or truncate every sequence to this length; otherwise to the longest in the batch.
        OutputSequenceLength: int option
        /// Pad non-int outputs to max_tokens columns.
        PadToMaxTokens: bool
        /// A fixed vocabulary (stored in the config); otherwise adapt or load it.
        Vocabulary: string list option
        /// Idf weights for a fixed vocabulary in tf_idf mode.
        IdfWeights: float list option
    }

    /// Keras's defaults.
    static member Default =
        {
            MaxTokens = None
            Standardize = Some "lower_and_strip_punctuation"
            Split = Some "whitespace"
            Ngrams = None
            OutputMode = Int
            OutputSequenceLength = None
            PadToMaxTokens = false
            Vocabulary = None
            IdfWeights = None
        }

/// <summary>The tokenizer of a TextVectorization layer: Keras's standardization, split and n-grams.</summary>
type Tokenizer(standardize: string option, split: string option, ngrams: int list option) =
    static let punctuation = System.Collections.Generic.HashSet<char>("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'")
    static let whitespace = [| ' '; '\t'; '\n'; '\r'; '\011'; '\012' |]

    /// <summary>Keras's standardization: ASCII lowercase (as <c>tf.strings.lower</c>) and/or removing ASCII
    /// punctuation.</summary>
    member _.Standardize(text: string) =
        let lower =
            match standardize with
            | Some "lower"
            | Some "lower_and_strip_punctuation" ->
                System.String(text |> Seq.map (fun c -> if c >= 'A' && c <= 'Z' then char (int c + 32) else c) |> Array.ofSeq)
            | _ -> text

        match standardize with
        | Some "strip_punctuation"
        | Some "lower_and_strip_punctuation" -> System.String(lower |> Seq.filter (punctuation.Contains >> not) |> Array.ofSeq)
        | _ -> lower

    /// The tokens of one string: standardized, split, then n-grams of each width in order.
    member this.Tokens(text: string) : string[] =
        let text = this.Standardize text

        let words =
            match split with
            | Some "whitespace" -> text.Split(whitespace, StringSplitOptions.RemoveEmptyEntries)
            | Some "character" -> text.EnumerateRunes() |> Seq.map (fun r -> r.ToString()) |> Array.ofSeq
            | _ -> [| text |]

        match ngrams with
        | None -> words
        | Some widths ->
            [|
                for n in widths do
                    for i in 0 .. words.Length - n do
                        yield String.Join(" ", words[i .. i + n - 1])
            |]

/// <summary>The state of a TextVectorization layer: its tokenizer and the StringLookup (mask "", OOV "[UNK]") that
/// holds the vocabulary.</summary>
type TextVectorizer(tokenizer: Tokenizer, lookup: IndexLookup<string>) =
    /// The tokenizer.
    member _.Tokenizer = tokenizer
    /// The vocabulary.
    member _.Lookup = lookup

    /// <summary>Keras's <c>adapt</c>: each string is a document; learns the vocabulary (and idf weights).</summary>
    member _.Adapt(texts: string seq) =
        lookup.Adapt(texts |> Seq.map tokenizer.Tokens)

let private validStandardize = [ "lower_and_strip_punctuation"; "lower"; "strip_punctuation" ]
let private validSplit = [ "whitespace"; "character" ]

/// <summary>Keras's <c>TextVectorization</c>: standardizes, splits and (optionally) n-grams each string, then maps the
/// tokens through a vocabulary. Int mode gives <c>(batch, output_sequence_length)</c> int64 indices (0 is padding, 1
/// OOV); the other modes give <c>(batch, vocabulary size)</c> float32 vectors. Inputs are strings of shape
/// <c>(batch,)</c> or <c>(batch, 1)</c>.</summary>
let textVectorization (config: TextVectorizationConfig) (name: string option) : Layer =
    let owner = defaultArg name "TextVectorization"

    let fail argument reason received : 'r =
        Errors.raiseKeras (InvalidArgument(owner, argument, reason, received))

    config.Standardize
    |> Option.iter (fun s ->
        if not (List.contains s validStandardize) then
            fail "standardize" "Expected one of ('lower_and_strip_punctuation', 'lower', 'strip_punctuation') or None." s)

    config.Split
    |> Option.iter (fun s ->
        if not (List.contains s validSplit) then
            fail "split" "Expected one of ('whitespace', 'character') or None." s)

    if config.OutputMode <> Int && config.OutputSequenceLength.IsSome then
        fail
            "output_sequence_length"
            "`output_sequence_length` must not be set if `output_mode` is not 'int'."
            (string config.OutputSequenceLength.Value)

    if config.OutputMode = OneHot then
        fail "output_mode" "Expected one of ('int', 'multi_hot', 'count', 'tf_idf')." "one_hot"

    match config.OutputSequenceLength with
    | Some n when n <= 0 -> fail "output_sequence_length" "Expected a positive integer." (string n)
    | _ -> ()

    let lookup =
        IndexLookup<string>(
            owner,
            config.MaxTokens,
            1,
            Some "",
            "[UNK]",
            false,
            config.OutputMode,
            config.PadToMaxTokens,
            compareUtf8,
            fun _ -> 0L
        )

    match config.Vocabulary with
    | Some v -> lookup.SetVocabulary(v, config.IdfWeights)
    | None -> ()

    let state = TextVectorizer(Tokenizer(config.Standardize, config.Split, config.Ngrams), lookup)

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            match x.Shape with
            | [ _ ]
            | [ _; Some 1 ] ->
                let batch = List.head x.Shape

                if config.OutputMode = Int then
                    Ok [ { Shape = [ batch; config.OutputSequenceLength ]; DType = Int64 } ]
                else
                    let depth = lookup.Depth
                    Ok [ { Shape = [ batch; depth ]; DType = Float32 } ]
            | shape ->
                Error(
                    IncompatibleInput(
                        layerName,
                        0,
                        $"When using `TextVectorization` to tokenize strings, the input rank must be 1 or the last shape dimension must be 1. Received: inputs.shape={Shape.format shape}"
                    )
                )
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    "TextVectorization",
                    "A `TextVectorization` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs
        let texts = stringsOf ctx.LayerName "TextVectorization" x
        let docs = texts |> Array.map (state.Tokenizer.Tokens >> lookup.Lookup)
        let rows = docs.Length

        match config.OutputMode with
        | Int ->
            let width =
                match config.OutputSequenceLength with
                | Some n -> n
                | None -> docs |> Array.fold (fun m d -> max m d.Length) 0

            let out = Array.zeroCreate<int64> (rows * width)

            docs
            |> Array.iteri (fun r d ->
                for k in 0 .. (min width d.Length) - 1 do
                    out[r * width + k] <- d[k])

            [ torch.tensor(out).reshape (int64 rows, int64 width) ]
        | mode ->
            let depth = lookup.Depth |> Option.defaultValue 0

            let flat = Array.zeroCreate<float32> (rows * depth)

            docs
            |> Array.iteri (fun r d ->
                let row = encodeRows mode depth lookup.Idf 1 d.Length d
                Array.blit row 0 flat (r * depth) depth)

            let out = flat
            [ torch.tensor(out).reshape (int64 rows, int64 depth) ]

    let ngramsJson () : Text.Json.Nodes.JsonNode =
        match config.Ngrams with
        | None -> null
        | Some widths when widths = [ 1 .. List.max widths ] && widths.Length > 0 -> Config.value (List.max widths)
        | Some widths -> Config.ints widths

    let optionalString (s: string option) : Text.Json.Nodes.JsonNode =
        match s with
        | Some v -> Config.value v
        | None -> null

    let layer =
        Layer.create
            name
            { Layer.simpleSpec "TextVectorization" call with
                Config =
                    fun () ->
                        Config.ofList
                            [
                                "max_tokens",
                                (match config.MaxTokens with
                                 | Some m -> Config.value m
                                 | None -> null)
                                "standardize", optionalString config.Standardize
                                "split", optionalString config.Split
                                "ngrams", ngramsJson ()
                                "output_mode", Config.value (OutputMode.name config.OutputMode)
                                "output_sequence_length",
                                (match config.OutputSequenceLength with
                                 | Some n -> Config.value n
                                 | None -> null)
                                "pad_to_max_tokens", Config.value config.PadToMaxTokens
                                "sparse", Config.value false
                                "ragged", Config.value false
                                "vocabulary",
                                (match config.Vocabulary with
                                 | Some v ->
                                     Text.Json.Nodes.JsonArray(v |> List.map Config.value |> Array.ofList)
                                     :> Text.Json.Nodes.JsonNode
                                 | None -> null)
                                "idf_weights",
                                (match config.IdfWeights with
                                 | Some w ->
                                     Text.Json.Nodes.JsonArray(w |> List.map Config.value |> Array.ofList)
                                     :> Text.Json.Nodes.JsonNode
                                 | None -> null)
                                "encoding", Config.value "utf-8"
                                "vocabulary_size",
                                (if lookup.HasVocabulary then
                                     Config.value lookup.VocabularySize
                                 else
                                     null)
                            ]
                ComputeOutput = computeOutput
            }

    register layer (box state)

/// <summary>Vocabulary layers' own methods (Keras's <c>adapt</c>, <c>get_vocabulary</c>, <c>set_vocabulary</c>,
/// <c>vocabulary_size</c>) for StringLookup, IntegerLookup and TextVectorization.</summary>
[<RequireQualifiedAccess>]
module Vocabulary =
    let private notVocabularyLayer (layer: Layer) (what: string) : 'T =
        Errors.raiseKeras (
            InvalidArgument(
                layer.Name,
                "layer",
                $"`{what}` needs a StringLookup, IntegerLookup or TextVectorization layer.",
                layer.ClassName
            )
        )

    /// <summary>Learns the vocabulary from strings, one document per string (StringLookup: one token per string;
    /// TextVectorization: tokenized).</summary>
    let adaptStrings (layer: Layer) (data: string seq) =
        match tryState layer with
        | Some(:? TextVectorizer as tv) -> tv.Adapt data
        | Some(:? IndexLookup<string> as lookup) -> lookup.Adapt(data |> Seq.map (fun s -> [| s |]))
        | _ -> notVocabularyLayer layer "adapt(strings)"

    /// <summary>Learns the vocabulary from rows of strings, one document per row (StringLookup).</summary>
    let adaptStringRows (layer: Layer) (data: string[,]) =
        let rows =
            [ for r in 0 .. Array2D.length1 data - 1 -> data[r, *] ]

        match tryState layer with
        | Some(:? IndexLookup<string> as lookup) -> lookup.Adapt rows
        | Some(:? TextVectorizer as tv) -> tv.Adapt(rows |> Seq.map (String.concat " "))
        | _ -> notVocabularyLayer layer "adapt(strings)"

    /// <summary>Learns the vocabulary of an IntegerLookup from integers, one document per value.</summary>
    let adaptIntegers (layer: Layer) (data: int64 seq) =
        match tryState layer with
        | Some(:? IndexLookup<int64> as lookup) -> lookup.Adapt(data |> Seq.map (fun v -> [| v |]))
        | _ -> notVocabularyLayer layer "adapt(integers)"

    /// <summary>Keras's <c>get_vocabulary</c> as strings (IntegerLookup's tokens by their decimal form).</summary>
    let get (layer: Layer) (includeSpecialTokens: bool) : string list =
        match tryState layer with
        | Some(:? TextVectorizer as tv) -> tv.Lookup.GetVocabulary includeSpecialTokens
        | Some(:? IndexLookup<string> as lookup) -> lookup.GetVocabulary includeSpecialTokens
        | Some(:? IndexLookup<int64> as lookup) -> lookup.GetVocabulary includeSpecialTokens |> List.map string
        | _ -> notVocabularyLayer layer "get_vocabulary"

    /// <summary>IntegerLookup's <c>get_vocabulary</c>.</summary>
    let getIntegers (layer: Layer) (includeSpecialTokens: bool) : int64 list =
        match tryState layer with
        | Some(:? IndexLookup<int64> as lookup) -> lookup.GetVocabulary includeSpecialTokens
        | _ -> notVocabularyLayer layer "get_vocabulary"

    /// <summary>Keras's <c>vocabulary_size()</c>.</summary>
    let size (layer: Layer) : int =
        match tryState layer with
        | Some(:? TextVectorizer as tv) -> tv.Lookup.VocabularySize
        | Some(:? IndexLookup<string> as lookup) -> lookup.VocabularySize
        | Some(:? IndexLookup<int64> as lookup) -> lookup.VocabularySize
        | _ -> notVocabularyLayer layer "vocabulary_size"

    /// <summary>Keras's <c>set_vocabulary</c> from strings (IntegerLookup parses them as integers).</summary>
    let set (layer: Layer) (vocabulary: string list) (idfWeights: float list option) =
        match tryState layer with
        | Some(:? TextVectorizer as tv) -> tv.Lookup.SetVocabulary(vocabulary, idfWeights)
        | Some(:? IndexLookup<string> as lookup) -> lookup.SetVocabulary(vocabulary, idfWeights)
        | Some(:? IndexLookup<int64> as lookup) -> lookup.SetVocabulary(vocabulary |> List.map int64, idfWeights)
        | _ -> notVocabularyLayer layer "set_vocabulary"

    /// <summary>Records the vocabulary size of a layer rebuilt from a config (Keras's <c>vocabulary_size</c>), so its
    /// output shape is known before the vocabulary asset is read.</summary>
    let freezeSize (layer: Layer) (size: int option) =
        match tryState layer with
        | Some(:? TextVectorizer as tv) when not tv.Lookup.HasVocabulary -> tv.Lookup.FrozenSize <- size
        | Some(:? IndexLookup<string> as lookup) when not lookup.HasVocabulary -> lookup.FrozenSize <- size
        | Some(:? IndexLookup<int64> as lookup) when not lookup.HasVocabulary -> lookup.FrozenSize <- size
        | _ -> ()

        layer

    /// <summary>Whether the layer's vocabulary is saved as Keras's asset (<c>vocabulary.txt</c>) rather than in its
    /// config: a vocabulary layer that was adapted (or given its vocabulary after construction).</summary>
    let isAsset (layer: Layer) =
        let fromConfig =
            match layer.Spec.Config() |> fun c -> c["vocabulary"] with
            | null -> false
            | _ -> true

        match tryState layer with
        | Some(:? TextVectorizer)
        | Some(:? IndexLookup<string>)
        | Some(:? IndexLookup<int64>) -> not fromConfig
        | _ -> false

    /// <summary>The idf weights of a tf_idf layer, if any.</summary>
    let idfWeights (layer: Layer) : float32[] option =
        match tryState layer with
        | Some(:? TextVectorizer as tv) -> tv.Lookup.Idf
        | Some(:? IndexLookup<string> as lookup) -> lookup.Idf
        | Some(:? IndexLookup<int64> as lookup) -> lookup.Idf
        | _ -> None

