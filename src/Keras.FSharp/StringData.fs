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
