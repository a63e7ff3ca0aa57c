/// String inputs and the text layers: FarmHash and SipHash against published values, StringLookup, IntegerLookup,
/// Hashing and TextVectorization against hand-computed vocabularies and vectors, configs both ways, vocabulary assets
/// in .keras files, and a text classifier fed with .NET strings.
module TextTests

open System
open System.IO
open System.IO.Compression
open System.Text
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private ints (t: torch.Tensor) =
    t.to_type(torch.ScalarType.Int64).contiguous().data<int64>().ToArray()

let private column (xs: string list) = array2D [ for x in xs -> [ x ] ]

/// Guava's check of FarmHash Fingerprint64 over 800 evolving buffers (lengths 0 to 3200, every code path), ported.
let private multipleLengths () =
    let iterations = 800
    let buf = Array.zeroCreate<byte> (iterations * 4)
    let mutable bufLen = 0
    let mutable h = 0L

    let fp (len: int) =
        int64 (FarmHash.fingerprint64 (Array.sub buf 0 len))

    let remix (h: int64) =
        let h = h ^^^ int64 (uint64 h >>> 41)
        h * 949921979L

    let getChar (h: int64) = byte (int 'a' + int ((h &&& 0xfffffL) % 26L))

    let step (len: int) =
        h <- h ^^^ fp len
        h <- remix h
        buf[bufLen] <- getChar h
        bufLen <- bufLen + 1

    for i in 0 .. iterations - 1 do
        step i
        step (i * i % bufLen)
        step (i * i * i % bufLen)
        step bufLen
        let x0 = int buf[bufLen - 1]
        let x1 = int buf[bufLen - 2]
        let x2 = int buf[bufLen - 3]
        let x3 = int buf[bufLen / 2]
        let a = ((x0 <<< 16) + (x1 <<< 8) + x2) % bufLen
        buf[a] <- buf[a] ^^^ byte x3
        let b = ((x1 <<< 16) + (x2 <<< 8) + x3) % bufLen
        buf[b] <- buf[b] ^^^ byte (i % 256)

    h

let private hashingWith (numBins: int) (mask: string option) (salt: (int64 * int64) option) =
    LookupLayers.hashing
        { LookupLayers.HashingConfig.Default numBins with
            MaskValue = mask
            Salt = salt
        }
        None

let private roundTrip (layer: Layer) =
    let serialized = LayerSerialization.serialize layer None
    let rebuilt = LayerSerialization.deserialize CustomObjects.none serialized

    Expect.equal
        ((LayerSerialization.serialize rebuilt None).ToJsonString())
        (serialized.ToJsonString())
        $"config of {layer.ClassName} survives from_config"

    rebuilt

[<Tests>]
let tests =
    testList
        "Text"
        [
            testList
                "FarmHash"
                [
                    test "Fingerprint64 matches Guava's published values" {
                        let fp (s: string) = int64 (FarmHash.fingerprintString s)
                        Expect.equal (fp "test") 8581389452482819506L "test"
                        Expect.equal (fp (String.replicate 8 "test")) -4196240717365766262L "32 bytes"
                        Expect.equal (fp (String.replicate 64 "test")) 3500507768004279527L "256 bytes"
                        Expect.equal (FarmHash.fingerprintString "") 0x9ae16a3b2f90404fUL "empty string is k2"
                    }

                    test "Fingerprint64 over every length up to 3200 bytes matches the C++ reference (Guava's check)" {
                        Expect.equal (multipleLengths ()) 0x7a1d67c50ec7e167L "mixed fingerprints"
                    }
                ]

            testList
                "Hashing"
                [
                    test "Strings hash into Keras's bins (keras hashing_test values)" {
                        let layer = Layers.Hashing(3)
                        let out = layer.CallEager(column [ "A"; "B"; "C"; "D"; "E" ])
                        Expect.equal (ints out) [| 1L; 0L; 1L; 1L; 2L |] "bins"
                        Expect.equal out.shape [| 5L; 1L |] "shape"
                        let two = Layers.Hashing(2).CallEager([| "omar"; "stringer"; "marlo"; "wire"; "skywalker" |])
                        Expect.equal (ints two) [| 0L; 0L; 1L; 0L; 0L |] "two bins"
                    }

                    test "Integers hash by their decimal text" {
                        Native.NativeLoader.ensureLoaded ()
                        let x = (torch.tensor [| 0L; 1L; 2L; 3L; 4L |]).reshape (5L, 1L)
                        let out = Layer.callEager (Layers.Hashing(3)) false [ x ] |> List.exactlyOne
                        Expect.equal (ints out) [| 1L; 0L; 1L; 0L; 2L |] "bins of 0..4"

                        let byText =
                            [| "0"; "1"; "2"; "3"; "4" |] |> Array.map (FarmHash.bucket 3)

                        Expect.equal (ints out) byText "same as hashing the strings"
                    }

                    test "A mask value takes bin 0 and the rest hash into num_bins - 1" {
                        let out = Layers.Hashing(3, maskValue = "").CallEager(column [ "A"; "B"; ""; "C"; "D" ])
                        Expect.equal (ints out) [| 1L; 1L; 0L; 2L; 2L |] "masked bins"
                        let words = column [ "omar"; "stringer"; "marlo"; "wire"; "skywalker" ]
                        let omar = Layers.Hashing(3, maskValue = "omar").CallEager(words)
                        Expect.equal (ints omar) [| 0L; 1L; 2L; 1L; 1L |] "omar masked"
                    }

                    test "A salt switches to SipHash (keras hashing_test values)" {
                        let letters = column [ "A"; "B"; "C"; "D"; "E" ]
                        let pair = (hashingWith 3 None (Some(133L, 137L))).CallEager(letters)
                        Expect.equal (ints pair) [| 1L; 2L; 1L; 0L; 2L |] "salt [133, 137]"
                        let single = Layers.Hashing(3, salt = 133).CallEager(letters)
                        Expect.equal (ints single) [| 0L; 0L; 2L; 1L; 0L |] "salt 133"
                        Native.NativeLoader.ensureLoaded ()
                        let numbers = (torch.tensor [| 0L; 1L; 2L; 3L; 4L |]).reshape (5L, 1L)
                        let out = Layer.callEager (hashingWith 3 None (Some(133L, 137L))) false [ numbers ] |> List.head
                        Expect.equal (ints out) [| 1L; 1L; 2L; 0L; 1L |] "integers with salt"
                    }

                    test "Vector modes count bins per sample" {
                        Native.NativeLoader.ensureLoaded ()
                        let x = (torch.tensor [| 0L; 1L; 2L; 3L; 4L |]).reshape (1L, 5L)
                        let multi = Layers.Hashing(3, outputMode = "multi_hot")
                        let out = Layer.callEager multi false [ x ] |> List.head
                        Expect.equal out.shape [| 1L; 3L |] "shape"
                        closeTo 0.f [| 1.f; 1.f; 1.f |] (values out) "multi_hot of bins 1,0,1,0,2"
                        let count = Layer.callEager (Layers.Hashing(3, outputMode = "count")) false [ x ] |> List.head
                        closeTo 0.f [| 2.f; 2.f; 1.f |] (values count) "count of bins 1,0,1,0,2"
                    }
                ]

            testList
                "StringLookup"
                [
                    test "adapt orders by count, then by token descending, and truncates to max_tokens" {
                        let layer = Layers.StringLookup()
                        layer.Adapt([ "a"; "b"; "b"; "c"; "c"; "c"; "d"; "d" ])
                        Expect.equal (layer.GetVocabulary()) [ "[UNK]"; "c"; "d"; "b"; "a" ] "vocabulary"
                        Expect.equal (layer.GetVocabulary(false)) [ "c"; "d"; "b"; "a" ] "without specials"
                        Expect.equal (layer.VocabularySize()) 5 "size"
                        let out = layer.CallEager([| "a"; "c"; "x" |])
                        Expect.equal (ints out) [| 4L; 1L; 0L |] "indices; x is OOV"
                        let small = Layers.StringLookup(maxTokens = 3)
                        small.Adapt([ "a"; "b"; "b"; "c"; "c"; "c"; "d"; "d" ])
                        Expect.equal (small.GetVocabulary()) [ "[UNK]"; "c"; "d" ] "two learned tokens"
                    }

                    test "A mask token takes index 0 and shifts the OOV index to 1" {
                        let layer = Layers.StringLookup(maskToken = "", vocabulary = [ "c"; "d" ])
                        Expect.equal (layer.GetVocabulary()) [ ""; "[UNK]"; "c"; "d" ] "vocabulary"
                        let out = layer.CallEager(array2D [ [ "c"; ""; "z" ]; [ "d"; "d"; "" ] ])
                        Expect.equal (ints out) [| 2L; 0L; 1L; 3L; 3L; 0L |] "indices"
                    }

                    test "Several OOV indices hash unknown strings by FarmHash" {
                        let layer = Layers.StringLookup(numOovIndices = 3, vocabulary = [ "a" ])
                        let out = layer.CallEager([| "a"; "omar"; "wire" |])
                        let bucket s = FarmHash.bucket 3 s
                        Expect.equal (ints out) [| 3L; bucket "omar"; bucket "wire" |] "a after three OOV indices"
                    }

                    test "num_oov_indices=0 refuses unknown strings, naming the layer" {
                        let layer = Layers.StringLookup(numOovIndices = 0, vocabulary = [ "a" ], name = "strict")
                        let _, message = kerasError (fun () -> layer.CallEager([| "a"; "b" |]))
                        Expect.stringContains message "strict" "layer named"
                        Expect.stringContains message "num_oov_indices=0" "reason"
                    }

                    test "Output modes against hand-computed vectors" {
                        let vocab = [ "a"; "b"; "c" ]
                        let rows = array2D [ [ "a"; "c"; "c" ]; [ "b"; "x"; "b" ] ]
                        let multi = Layers.StringLookup(vocabulary = vocab, outputMode = "multi_hot").CallEager(rows)
                        Expect.equal multi.shape [| 2L; 4L |] "multi_hot shape"
                        closeTo 0.f [| 0.f; 1.f; 0.f; 1.f; 1.f; 0.f; 1.f; 0.f |] (values multi) "multi_hot"
                        let count = Layers.StringLookup(vocabulary = vocab, outputMode = "count").CallEager(rows)
                        closeTo 0.f [| 0.f; 1.f; 0.f; 2.f; 1.f; 0.f; 2.f; 0.f |] (values count) "count"

                        let oneHot =
                            Layers.StringLookup(vocabulary = vocab, outputMode = "one_hot").CallEager([| "a"; "x"; "c" |])

                        Expect.equal oneHot.shape [| 3L; 4L |] "one_hot shape"

                        closeTo
                            0.f
                            [| 0.f; 1.f; 0.f; 0.f; 1.f; 0.f; 0.f; 0.f; 0.f; 0.f; 0.f; 1.f |]
                            (values oneHot)
                            "one_hot"

                        // idf of the OOV index: the mean of the given weights (2).
                        let tfidf =
                            Layers.StringLookup(vocabulary = vocab, idfWeights = [ 1.0; 2.0; 3.0 ], outputMode = "tf_idf")
                                .CallEager(rows)

                        closeTo 1e-6f [| 0.f; 1.f; 0.f; 6.f; 2.f; 0.f; 4.f; 0.f |] (values tfidf) "tf_idf"
                    }

                    test "A mask token is dropped in vector modes; pad_to_max_tokens widens the output" {
                        let layer =
                            Layers.StringLookup(
                                maskToken = "",
                                vocabulary = [ "a"; "b" ],
                                outputMode = "multi_hot",
                                maxTokens = 5,
                                padToMaxTokens = true
                            )

                        let out = layer.CallEager(array2D [ [ "a"; "" ] ])
                        Expect.equal out.shape [| 1L; 5L |] "padded to max_tokens"
                        closeTo 0.f [| 0.f; 1.f; 0.f; 0.f; 0.f |] (values out) "mask not counted"
                    }

                    test "invert maps indices back to strings" {
                        Native.NativeLoader.ensureLoaded ()
                        let layer = Layers.StringLookup(vocabulary = [ "a"; "b"; "c" ], invert = true)
                        let out = Layer.callEager layer false [ torch.tensor (array2D [ [ 1L; 3L ]; [ 0L; 7L ] ]) ] |> List.head
                        Expect.equal (StringTensor.toArray2D out) (array2D [ [ "a"; "c" ]; [ "[UNK]"; "[UNK]" ] ]) "strings"
                    }

                    test "A vocabulary with repeated tokens is refused" {
                        let _, message = kerasError (fun () -> Layers.StringLookup(vocabulary = [ "a"; "a" ]))
                        Expect.stringContains message "repeated" "reason"
                    }

                    test "Config round trip keeps the vocabulary and predictions" {
                        let layer =
                            Layers.StringLookup(vocabulary = [ "x"; "y" ], maskToken = "", outputMode = "int")

                        let rebuilt = roundTrip layer
                        let data = [| "y"; ""; "q"; "x" |]
                        Expect.equal (ints (rebuilt.CallEager data)) (ints (layer.CallEager data)) "same indices"
                        Expect.equal (ints (layer.CallEager data)) [| 3L; 0L; 1L; 2L |] "indices"
                    }
                ]

            testList
                "IntegerLookup"
                [
                    test "adapt, lookup, OOV by floormod, invert" {
                        Native.NativeLoader.ensureLoaded ()
                        let layer = Layers.IntegerLookup()
                        layer.Adapt([ 5; 7; 7; 9; 9; 9 ])
                        Expect.equal (TextLayers.Vocabulary.getIntegers layer true) [ -1L; 9L; 7L; 5L ] "vocabulary"
                        let x = torch.tensor (array2D [ [ 9L; 5L; 42L ] ])
                        let out = Layer.callEager layer false [ x ] |> List.head
                        Expect.equal (ints out) [| 1L; 3L; 0L |] "indices"
                        let two = Layers.IntegerLookup(numOovIndices = 2, vocabulary = [ 9 ])
                        let y = torch.tensor ([| 9L; 42L; 43L; -3L |])
                        let o2 = Layer.callEager two false [ y ] |> List.head
                        Expect.equal (ints o2) [| 2L; 0L; 1L; 1L |] "floormod OOV (-3 mod 2 = 1)"
                        let inv = Layers.IntegerLookup(vocabulary = [ 9; 7 ], invert = true)
                        let back = Layer.callEager inv false [ torch.tensor ([| 1L; 2L; 0L |]) ] |> List.head
                        Expect.equal (ints back) [| 9L; 7L; -1L |] "inverted"
                        let rebuilt = roundTrip two
                        Expect.equal (ints (Layer.callEager rebuilt false [ y ] |> List.head)) (ints o2) "from config"
                    }
                ]

            testList
                "TextVectorization"
                [
                    let corpus = [ "The cat sat."; "The dog sat!"; "the cat ran" ]

                    test "adapt: standardize, split, order by frequency then token descending; int output padded" {
                        let layer = Layers.TextVectorization(outputSequenceLength = 4)
                        layer.Adapt corpus

                        Expect.equal
                            (layer.GetVocabulary())
                            [ ""; "[UNK]"; "the"; "sat"; "cat"; "ran"; "dog" ]
                            "vocabulary"

                        let out = layer.CallEager([| "The bird sat"; "the cat the cat the" |])
                        Expect.equal out.shape [| 2L; 4L |] "shape"
                        Expect.equal (ints out) [| 2L; 1L; 3L; 0L; 2L; 4L; 2L; 4L |] "padded and truncated"
                    }

                    test "Without output_sequence_length int output pads to the longest string in the batch" {
                        let layer = Layers.TextVectorization(vocabulary = [ "a"; "b" ])
                        let out = layer.CallEager([| "a"; "b a b"; "" |])
                        Expect.equal out.shape [| 3L; 3L |] "shape"
                        Expect.equal (ints out) [| 2L; 0L; 0L; 3L; 2L; 3L; 0L; 0L; 0L |] "indices"
                    }

                    test "Vector modes: multi_hot, count and tf_idf with Keras's idf" {
                        let multi = Layers.TextVectorization(outputMode = "multi_hot")
                        multi.Adapt corpus
                        Expect.equal (multi.GetVocabulary()) [ "[UNK]"; "the"; "sat"; "cat"; "ran"; "dog" ] "vocabulary"
                        let doc = [| "the the bird cat" |]
                        closeTo 0.f [| 1.f; 1.f; 0.f; 1.f; 0.f; 0.f |] (values (multi.CallEager doc)) "multi_hot"
                        let count = Layers.TextVectorization(outputMode = "count")
                        count.Adapt corpus
                        closeTo 0.f [| 1.f; 2.f; 0.f; 1.f; 0.f; 0.f |] (values (count.CallEager doc)) "count"
                        let tfidf = Layers.TextVectorization(outputMode = "tf_idf")
                        tfidf.Adapt corpus
                        // idf = ln(1 + documents / (1 + document count)); the OOV column gets the mean.
                        let idf df = Math.Log(1.0 + 3.0 / (1.0 + df))
                        let learned = [| idf 3.0; idf 2.0; idf 2.0; idf 1.0; idf 1.0 |]
                        let weights = Array.append [| Array.average learned |] learned
                        let counts = [| 1.0; 2.0; 0.0; 1.0; 0.0; 0.0 |]
                        let expected = Array.map2 (fun c w -> float32 (c * w)) counts weights
                        closeTo 1e-6f expected (values (tfidf.CallEager doc)) "tf_idf"
                    }

                    test "Standardization, character split and n-grams" {
                        let tokenizer = TextLayers.Tokenizer(Some "lower_and_strip_punctuation", Some "whitespace", Some [ 1; 2 ])
                        Expect.equal (tokenizer.Tokens "Hello, World! Again") [| "hello"; "world"; "again"; "hello world"; "world again" |] "bigrams"
                        let chars = TextLayers.Tokenizer(None, Some "character", None)
                        Expect.equal (chars.Tokens "Ab!") [| "A"; "b"; "!" |] "characters"
                        let whole = TextLayers.Tokenizer(Some "lower", None, None)
                        Expect.equal (whole.Tokens "A B") [| "a b" |] "no split"
                        let layer = Layers.TextVectorization(ngrams = 2, vocabulary = [ "a"; "b"; "a b" ])
                        Expect.equal (ints (layer.CallEager([| "a b" |]))) [| 2L; 3L; 4L |] "unigrams then bigrams"
                    }

                    test "max_tokens keeps the most frequent tokens; the config round trip keeps the layer" {
                        let layer = Layers.TextVectorization(maxTokens = 4, outputSequenceLength = 3, name = "tv_small")
                        layer.Adapt corpus
                        Expect.equal (layer.GetVocabulary()) [ ""; "[UNK]"; "the"; "sat" ] "two learned tokens"
                        let serialized = LayerSerialization.serialize layer None
                        let config = serialized["config"].AsObject()
                        Expect.equal (config["vocabulary_size"].GetValue<int>()) 4 "vocabulary_size"
                        Expect.isNull config["vocabulary"] "an adapted vocabulary is an asset, not config"
                        let fixedLayer = Layers.TextVectorization(vocabulary = [ "x"; "y" ], outputSequenceLength = 2)
                        let rebuilt = roundTrip fixedLayer
                        Expect.equal (ints (rebuilt.CallEager([| "y x z" |]))) [| 3L; 2L |] "from config"
                    }

                    test "A rank-2 input whose last axis is not 1 is refused" {
                        let layer = Layers.TextVectorization(name = "tv_rank")
                        let input = Keras.Input(shape = [ 2 ], dtype = String)
                        let _, message = kerasError (fun () -> input --> layer)
                        Expect.stringContains message "tv_rank" "layer named"
                    }
                ]

            testList
                "String inputs"
                [
                    test "A string tensor reaching a numeric layer fails naming the layer" {
                        let input = Keras.Input(shape = [ 1 ], dtype = String)
                        let error, message = kerasError (fun () -> input --> Layers.Dense(2, name = "numeric_dense"))

                        match error with
                        | IncompatibleInput("numeric_dense", 0, _) -> ()
                        | e -> failtestf "unexpected %A" e

                        Expect.stringContains message "dtype=string" "says string"
                        Expect.equal (string input) $"<KerasTensor shape=(None, 1), dtype=string, sparse=False, name={input.Name}>" "repr"
                    }

                    test "Strings given to a numeric input, or numbers to a string input, are refused" {
                        let s = Keras.Input(shape = [ 1 ], dtype = String)
                        let m = Keras.Model(s, s --> Layers.StringLookup(vocabulary = [ "a" ]))
                        Native.NativeLoader.ensureLoaded ()

                        match kerasError (fun () -> m.Predict(torch.zeros (2L, 1L))) with
                        | DataMismatch _, message -> Expect.stringContains message "dtype string" "reason"
                        | e -> failtestf "unexpected %A" e

                        let x = Keras.Input(shape = [ 1 ])
                        let n = Keras.Model(x, x --> Layers.Dense(1))

                        match kerasError (fun () -> n.Predict([| "a"; "b" |])) with
                        | DataMismatch _, _ -> ()
                        | e -> failtestf "unexpected %A" e
                    }

                    test "Predict takes string[] (as a column) and string[,], in batches" {
                        let input = Keras.Input(shape = [ 1 ], dtype = String)
                        let model = Keras.Model(input, input --> Layers.StringLookup(vocabulary = [ "a"; "b" ]))
                        let data = Array.init 70 (fun i -> if i % 3 = 0 then "b" elif i % 3 = 1 then "a" else "q")
                        let out = model.Predict(data, batchSize = 32)
                        Expect.equal out.shape [| 70L; 1L |] "shape"
                        Expect.equal (ints out) (data |> Array.map (function "a" -> 1L | "b" -> 2L | _ -> 0L)) "indices"
                        let rows = model.Predict(array2D [ [ "b" ]; [ "a" ] ])
                        Expect.equal (ints rows) [| 2L; 1L |] "2D"
                    }

                    test "A text classifier fed with .NET strings trains, saves and loads with equal predictions" {
                        torch.manual_seed 7L |> ignore
                        let positive = [| "good movie"; "great film"; "loved it"; "good fun"; "great acting"; "really good" |]
                        let negative = [| "bad movie"; "awful film"; "hated it"; "bad fun"; "awful acting"; "really bad" |]
                        let texts = Array.append positive negative
                        let labels = Array2D.init 12 1 (fun i _ -> if i < 6 then 1.0f else 0.0f)
                        let vectorizer = Layers.TextVectorization(maxTokens = 20, outputSequenceLength = 4)
                        vectorizer.Adapt texts
                        let input = Keras.Input(shape = [ 1 ], dtype = String, name = "text")

                        let output =
                            input
                            --> vectorizer
                            --> Layers.Embedding(20, 8)
                            --> Layers.GRU(8)
                            --> Layers.Dense(1, activation = "sigmoid")

                        let model = Keras.Model(input, output, name = "text_classifier")
                        let compiled = model.Compile(optimizer = Optimizers.Adam(learningRate = ConstantRate 0.05), loss = "binary_crossentropy")
                        let history = compiled.Fit(texts, labels, batchSize = 4, epochs = 8, verbose = 0)
                        let losses = history["loss"]
                        Expect.isLessThan (List.last losses) (List.head losses) "loss decreases"
                        let before = model.Predict(texts)
                        Expect.equal before.shape [| 12L; 1L |] "prediction shape"
                        let dir = Path.Combine(Path.GetTempPath(), $"keras-text-{Guid.NewGuid():N}")
                        Directory.CreateDirectory dir |> ignore

                        try
                            let path = Path.Combine(dir, "text.keras")
                            model.Save path

                            do
                                use zip = ZipFile.OpenRead path
                                let entry = zip.GetEntry "assets/layers/text_vectorization/vocabulary.txt"
                                Expect.isNotNull entry "vocabulary asset at Keras's path"
                                use reader = new StreamReader(entry.Open(), Encoding.UTF8)
                                let lines = reader.ReadToEnd().Split('\n') |> List.ofArray
                                Expect.equal lines (vectorizer.GetVocabulary()) "one token per line"

                            let loaded = Keras.LoadModel path
                            let after = loaded.Predict(texts)
                            closeTo 0.f (values before) (values after) "same predictions"
                            let loadedVectorizer = loaded.Layers |> List.find (fun l -> l.ClassName = "TextVectorization")
                            Expect.equal (loadedVectorizer.GetVocabulary()) (vectorizer.GetVocabulary()) "same vocabulary"
                        finally
                            Directory.Delete(dir, true)
                    }

                    test "Adapted lookups and a tf_idf vectorizer round-trip through .keras" {
                        let text = Keras.Input(shape = [ 1 ], dtype = String, name = "words")
                        let lookup = Layers.StringLookup(outputMode = "one_hot")
                        lookup.Adapt([ "x"; "y"; "y" ])
                        let tfidf = Layers.TextVectorization(outputMode = "tf_idf")
                        tfidf.Adapt([ "x y"; "y z"; "z z" ])
                        let a = text --> lookup
                        let b = text --> tfidf
                        let model = Keras.Model([ text ], [ a; b ])
                        let data = StringTensor.ofArray2D (array2D [ [ "y z" ]; [ "x" ] ])
                        let before = model.Predict([ data ])
                        let path = Path.Combine(Path.GetTempPath(), $"keras-lookup-{Guid.NewGuid():N}.keras")

                        try
                            model.Save path
                            let loaded = Keras.LoadModel path
                            let after = loaded.Predict([ data ])
                            List.iter2 (fun (x: torch.Tensor) (y: torch.Tensor) -> closeTo 1e-6f (values x) (values y) "outputs") before after
                        finally
                            File.Delete path
                    }
                ]
        ]
