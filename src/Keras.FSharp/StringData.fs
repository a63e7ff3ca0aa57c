namespace Keras

open TorchSharp

/// <summary>Feeding .NET strings to models and layers: <c>model.Predict(string[])</c>, <c>model.Predict(string[,])</c>
/// and <c>layer.CallEager(string[])</c>. The strings become a string tensor (see <see cref="StringTensor"/>) for the
/// call; fit and evaluate take string arrays through <see cref="Data"/>'s conversions.</summary>
[<AutoOpen>]
module StringDataExtensions =
    type Model with
        /// <summary>Predicts from one string per sample (a model whose input has dtype string).</summary>
        member model.Predict(x: string[], ?batchSize: int) : torch.Tensor =
            Model.predictMany model (defaultArg batchSize 32) [ StringTensor.ofArray x ] |> List.head

        /// <summary>Predicts from rows of strings (an input of shape <c>(None, columns)</c> with dtype string).</summary>
        member model.Predict(x: string[,], ?batchSize: int) : torch.Tensor =
            Model.predictMany model (defaultArg batchSize 32) [ StringTensor.ofArray2D x ] |> List.head

    type Layer with
        /// <summary>Calls a string layer (StringLookup, Hashing, TextVectorization) on one string per sample.</summary>
        member layer.CallEager(x: string[]) : torch.Tensor =
            Layer.callEager layer false [ StringTensor.ofArray x ] |> List.head

        /// <summary>Calls a string layer on rows of strings.</summary>
        member layer.CallEager(x: string[,]) : torch.Tensor =
            Layer.callEager layer false [ StringTensor.ofArray2D x ] |> List.head

/// <summary>Vocabulary methods on layers, as Keras names them: <c>layer.Adapt(texts)</c>,
/// <c>layer.GetVocabulary()</c>, <c>layer.SetVocabulary(tokens)</c>, <c>layer.VocabularySize()</c>.</summary>
[<AutoOpen>]
module VocabularyExtensions =
    type Layer with
        /// <summary>Learns the vocabulary of a StringLookup or TextVectorization from strings, one document per string.</summary>
        member layer.Adapt(data: string seq) = TextLayers.Vocabulary.adaptStrings layer data

        /// <summary>Learns the vocabulary of a StringLookup from rows of strings, one document per row.</summary>
        member layer.Adapt(data: string[,]) = TextLayers.Vocabulary.adaptStringRows layer data

        /// <summary>Learns the vocabulary of an IntegerLookup.</summary>
        member layer.Adapt(data: int64 seq) = TextLayers.Vocabulary.adaptIntegers layer data

        /// <summary>Learns the vocabulary of an IntegerLookup.</summary>
        member layer.Adapt(data: int seq) =
            TextLayers.Vocabulary.adaptIntegers layer (data |> Seq.map int64)

        /// <summary>Keras's <c>get_vocabulary</c>: the token of each index, special tokens first unless
        /// <paramref name="includeSpecialTokens"/> is false.</summary>
        member layer.GetVocabulary(?includeSpecialTokens: bool) =
            TextLayers.Vocabulary.get layer (defaultArg includeSpecialTokens true)

        /// <summary>Keras's <c>set_vocabulary</c>.</summary>
        member layer.SetVocabulary(vocabulary: string seq, ?idfWeights: float seq) =
            TextLayers.Vocabulary.set layer (List.ofSeq vocabulary) (idfWeights |> Option.map List.ofSeq)

        /// <summary>Keras's <c>vocabulary_size()</c>: tokens plus mask and OOV indices.</summary>
        member layer.VocabularySize() = TextLayers.Vocabulary.size layer
