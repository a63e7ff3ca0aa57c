namespace Keras

open System.Collections.Generic
open System.Text
open Keras.TextLayers

/// <summary>Vocabularies in <c>.keras</c> archives, as Keras 3 stores them: an adapted StringLookup, IntegerLookup or
/// TextVectorization writes <c>assets/&lt;layer path&gt;/vocabulary.txt</c> (one token per line, special tokens first;
/// the layer path as for weights, <c>layers/text_vectorization</c>), and reads it back after the model is rebuilt. A
/// vocabulary given at construction is in the layer's config instead.</summary>
/// <remarks>Keras keeps the idf weights of an adapted tf_idf layer in <c>model.weights.h5</c> (<c>vars/idf_weights</c>);
/// here they go beside the vocabulary as <c>idf_weights.txt</c> (one number per line).</remarks>
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
                    yield $"assets/{path}/vocabulary.txt", Encoding.UTF8.GetBytes(String.concat "\n" lines)

                    match Vocabulary.idfWeights layer with
                    | Some idf ->
                        let text =
                            idf |> Array.map (fun v -> v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))

                        yield $"assets/{path}/idf_weights.txt", Encoding.UTF8.GetBytes(String.concat "\n" text)
                    | None -> ()
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
                let lines =
                    lines |> List.rev |> List.skipWhile (fun l -> l = "") |> List.rev

                let idf =
                    read $"assets/{path}/idf_weights.txt"
                    |> Option.map (fun t ->
                        t.Split('\n', System.StringSplitOptions.RemoveEmptyEntries)
                        |> Array.map (fun v -> float (System.Single.Parse(v, System.Globalization.CultureInfo.InvariantCulture)))
                        |> List.ofArray
                        |> List.truncate lines.Length)

                Vocabulary.set layer lines idf
