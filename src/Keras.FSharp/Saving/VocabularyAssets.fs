namespace Keras

open System.Collections.Generic
open System.Text
open Keras.TextLayers

/// <summary>Vocabularies in <c>.keras</c> archives, as Keras 3 stores them: an adapted StringLookup, IntegerLookup or
/// TextVectorization writes <c>assets/&lt;layer path&gt;/vocabulary.txt</c> (one token per line, special tokens first;
/// the layer path as for weights, <c>layers/text_vectorization</c>), and reads it back after the model is rebuilt. A
/// vocabulary given at construction is in the layer's config instead.</summary>
/// <remarks>As Keras, the idf weights of a tf_idf layer are in <c>model.weights.h5</c> (<c>vars/idf_weights</c>, see
/// <c>WeightsFile</c>), and a TextVectorization also writes its vocabulary for its inner StringLookup
/// (<c>assets/layers/text_vectorization/_lookup_layer/vocabulary.txt</c>). Archives of the library's earlier layout,
/// with the idf weights in <c>idf_weights.txt</c> beside the vocabulary, still load.</remarks>
[<RequireQualifiedAccess>]
module VocabularyAssets =
    /// The layers whose vocabulary is an asset, with their paths (Keras's <c>layers/&lt;snake_case class&gt;_n</c>).
    let private entries (model: Model) =
        let visited = HashSet<int64>()

        let rec container (path: string) (layers: Layer list) =
            let used = Dictionary<string, int>()

            [
                for layer in layers do
                    let baseName = Ids.snakeCase layer.ClassName

                    let name =
                        match used.TryGetValue baseName with
                        | true, n ->
                            used[baseName] <- n + 1
                            $"{baseName}_{n + 1}"
                        | _ ->
                            used[baseName] <- 0
                            baseName

                    let at = $"{path}/{name}"

                    if visited.Add layer.Identity.Id then
                        if Vocabulary.isAsset layer then
                            yield at, layer

                        match layer.ClassName with
                        | "Functional"
                        | "Sequential" -> yield! container $"{at}/layers" (layer.Spec.SubLayers())
                        | _ -> ()
            ]

        container "layers" model.Layers

    /// <summary>The asset members of the model's vocabulary layers: name in the archive and bytes.</summary>
    let members (model: Model) : (string * byte[]) list =
        [
            for path, layer in entries model do
                if not (Vocabulary.get layer false).IsEmpty then
                    let lines = Vocabulary.get layer true
                    let bytes = Encoding.UTF8.GetBytes(String.concat "\n" lines)
                    yield $"assets/{path}/vocabulary.txt", bytes

                    // Keras's TextVectorization saves its `_lookup_layer`'s assets too.
                    if layer.ClassName = "TextVectorization" then
                        yield $"assets/{path}/_lookup_layer/vocabulary.txt", bytes
        ]

    /// <summary>Sets each vocabulary layer's vocabulary from the archive at <paramref name="archive"/>; a layer whose
    /// vocabulary member is missing stays without vocabulary (as a layer saved before adapting).</summary>
    let load (model: Model) (archive: string) =
        let limit = 256L * 1024L * 1024L

        let read (name: string) =
            match ZipMember.read archive name limit (fun _ -> "missing") with
            | Ok bytes -> Some(Encoding.UTF8.GetString bytes)
            | Error _ -> None

        for path, layer in entries model do
            match read $"assets/{path}/vocabulary.txt" with
            | None -> ()
            | Some text ->
                let lines = text.Split('\n') |> List.ofArray
                // Keras drops trailing empty lines only (the mask token "" may be the first line).
                let lines = lines |> List.rev |> List.skipWhile (fun l -> l = "") |> List.rev

                // The idf weights read from model.weights.h5 (Keras's layout), else the earlier idf_weights.txt.
                let stored =
                    match WeightsFile.pendingIdf.TryGetValue layer.Identity with
                    | true, values ->
                        WeightsFile.pendingIdf.Remove layer.Identity |> ignore

                        Some(values |> Array.truncate lines.Length |> Array.map float |> List.ofArray)
                    | _ -> None

                let idf =
                    match stored with
                    | Some _ -> stored
                    | None ->
                        read $"assets/{path}/idf_weights.txt"
                        |> Option.map (fun t ->
                            t.Split('\n', System.StringSplitOptions.RemoveEmptyEntries)
                            |> Array.map (fun v ->
                                float (System.Single.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))
                            |> List.ofArray
                            |> List.truncate lines.Length)

                Vocabulary.set layer lines idf
