/// The idf weights of tf_idf lookup layers in .keras archives at Keras 3's paths (issue 13): <c>vars/idf_weights</c> in
/// model.weights.h5 (TextVectorization's again under <c>_lookup_layer</c>), the vocabularies as assets, and back.
module TfIdfLayoutTests

open System
open System.IO
open System.IO.Compression
open Expecto
open PureHDF
open TorchSharp
open Keras
open Keras.Operators
open TestData

/// The archive's member names, and the float datasets of its model.weights.h5 by path.
let private openArchive (path: string) =
    use zip = ZipFile.OpenRead path
    let names = zip.Entries |> Seq.map _.FullName |> Set.ofSeq
    let weights = Path.Combine(Path.GetDirectoryName path, "extracted.weights.h5")
    zip.GetEntry("model.weights.h5").ExtractToFile(weights, true)
    use file = H5File.OpenRead weights

    let rec walk (prefix: string) (g: IH5Group) =
        [
            for c in g.Children() do
                let p = if prefix = "" then c.Name else prefix + "/" + c.Name

                match c with
                | :? IH5Group as sub -> yield! walk p sub
                | :? IH5Dataset as d -> yield p, d.Read<float32[]>()
                | _ -> ()
        ]

    let datasets = walk "" file |> Map.ofList

    let groups =
        let rec groupsOf (prefix: string) (g: IH5Group) =
            [
                for c in g.Children() do
                    match c with
                    | :? IH5Group as sub ->
                        let p = if prefix = "" then c.Name else prefix + "/" + c.Name
                        yield p
                        yield! groupsOf p sub
                    | _ -> ()
            ]

        groupsOf "" file |> Set.ofList

    names, datasets, groups

let private readMember (path: string) (name: string) =
    use zip = ZipFile.OpenRead path
    use reader = new StreamReader(zip.GetEntry(name).Open())
    reader.ReadToEnd()

[<Tests>]
let tests =
    testList
        "tf_idf layout"
        [
            test
                "Adapted tf_idf StringLookup and TextVectorization write vars/idf_weights and vocabulary assets as Keras" {
                let text = Keras.Input(shape = [ 1 ], dtype = String, name = "words")
                let lookup = Layers.StringLookup(outputMode = "tf_idf")
                lookup.Adapt([ "x"; "y"; "y"; "z" ])
                let vectorizer = Layers.TextVectorization(outputMode = "tf_idf")
                vectorizer.Adapt([ "x y"; "y z"; "z z"; "w" ])
                let model = Keras.Model([ text ], [ text --> lookup; text --> vectorizer ])
                let data = StringTensor.ofArray2D (array2D [ [ "y z" ]; [ "x" ]; [ "q" ] ])
                let before = model.Predict([ data ])

                inTempFolder "tfidf" (fun folder ->
                    let path = Path.Combine(folder, "tfidf.keras")
                    model.Save path
                    let names, datasets, groups = openArchive path

                    let lookupIdf = (TextLayers.Vocabulary.idfWeights lookup).Value
                    let vectorizerIdf = (TextLayers.Vocabulary.idfWeights vectorizer).Value
                    Expect.equal lookupIdf.Length 4 "[UNK], y, z, x"
                    Expect.equal vectorizerIdf.Length 5 "[UNK], z, y, x, w (no mask token outside int mode)"

                    Expect.equal
                        (Map.tryFind "layers/string_lookup/vars/idf_weights" datasets)
                        (Some lookupIdf)
                        "lookup idf"

                    Expect.equal
                        (Map.tryFind "layers/text_vectorization/vars/idf_weights" datasets)
                        (Some vectorizerIdf)
                        "vectorizer idf"

                    Expect.equal
                        (Map.tryFind "layers/text_vectorization/_lookup_layer/vars/idf_weights" datasets)
                        (Some vectorizerIdf)
                        "the vectorizer's inner StringLookup idf"

                    Expect.isTrue
                        (groups.Contains "layers/text_vectorization/_lookup_layer/vars")
                        "inner lookup vars group"

                    Expect.isFalse
                        (names |> Set.exists (fun n -> n.EndsWith "idf_weights.txt"))
                        "no idf asset any more"

                    for asset in
                        [
                            "assets/layers/string_lookup/vocabulary.txt"
                            "assets/layers/text_vectorization/vocabulary.txt"
                            "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt"
                        ] do
                        Expect.isTrue (names.Contains asset) asset

                    Expect.equal
                        (readMember path "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt")
                        (String.concat "\n" (vectorizer.GetVocabulary()))
                        "the inner lookup's vocabulary"

                    let loaded = Keras.LoadModel path
                    let after = loaded.Predict([ data ])

                    List.iter2
                        (fun (x: torch.Tensor) (y: torch.Tensor) -> closeTo 1e-6f (values x) (values y) "outputs")
                        before
                        after

                    let loadedVectorizer =
                        loaded.Layers |> List.find (fun l -> l.ClassName = "TextVectorization")

                    Expect.equal
                        (TextLayers.Vocabulary.idfWeights loadedVectorizer)
                        (Some vectorizerIdf)
                        "idf read back")
            }

            test "idf_weights from model.weights.h5 win over the config's and apply to a vocabulary given in the config" {
                let text = Keras.Input(shape = [ 1 ], dtype = String)

                let lookup =
                    Layers.StringLookup(
                        vocabulary = [ "a"; "b"; "c" ],
                        idfWeights = [ 1.0; 2.0; 3.0 ],
                        outputMode = "tf_idf"
                    )

                let model = Keras.Model(text, text --> lookup)
                let data = StringTensor.ofArray2D (array2D [ [ "a" ]; [ "c" ]; [ "q" ] ])
                let before = model.Predict(data)

                closeTo
                    1e-6f
                    [| 0.f; 1.f; 0.f; 0.f; 0.f; 0.f; 0.f; 3.f; 2.f; 0.f; 0.f; 0.f |]
                    (values before)
                    "idf, OOV gets the mean"

                inTempFolder "tfidf-config" (fun folder ->
                    let path = Path.Combine(folder, "lookup.keras")
                    model.Save path
                    let _, datasets, _ = openArchive path

                    Expect.equal
                        (Map.tryFind "layers/string_lookup/vars/idf_weights" datasets)
                        (Some [| 2.f; 1.f; 2.f; 3.f |])
                        "front-padded with the mean, as Keras stores it"

                    let loaded = Keras.LoadModel path
                    closeTo 1e-6f (values before) (values (loaded.Predict(data))) "same predictions")
            }

            test "An adapted tf_idf IntegerLookup round-trips with its idf in model.weights.h5" {
                let ids = Keras.Input(shape = [ 2 ], dtype = Int64)
                let lookup = Layers.IntegerLookup(outputMode = "tf_idf")
                lookup.Adapt([ 3L; 5L; 5L; 7L ])
                let model = Keras.Model(ids, ids --> lookup)
                let x = torch.tensor([| 3L; 5L; 5L; 9L |]).reshape(2L, 2L)
                let before = Model.predictMany model 8 [ x ] |> List.head

                inTempFolder "tfidf-int" (fun folder ->
                    let path = Path.Combine(folder, "ints.keras")
                    model.Save path
                    let _, datasets, _ = openArchive path

                    Expect.equal
                        (Map.tryFind "layers/integer_lookup/vars/idf_weights" datasets)
                        (TextLayers.Vocabulary.idfWeights lookup)
                        "idf_weights"

                    let loaded = Keras.LoadModel path

                    closeTo
                        1e-6f
                        (values before)
                        (values (Model.predictMany loaded 8 [ x ] |> List.head))
                        "same predictions")
            }
        ]
