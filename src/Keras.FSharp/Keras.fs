namespace Keras

open System.Collections.Generic
open TorchSharp

/// <summary>Entry points named as in Python Keras: <c>Keras.Input</c> and <c>Keras.Model</c>.</summary>
[<AbstractClass; Sealed>]
type Keras =
    /// <summary>A symbolic input. <paramref name="shape"/> omits the batch axis; <paramref name="batchShape"/>
    /// includes it. A -1 stands for an unknown dimension (Keras's <c>None</c>).</summary>
    /// <param name="shape">Sample shape, e.g. <c>[784]</c> or <c>[28; 28; 1]</c>.</param>
    /// <param name="batchShape">Full shape with the batch axis, e.g. <c>[16; 10; 5]</c>.</param>
    /// <param name="dtype">Element type; float32 by default.</param>
    /// <param name="name">The input layer's name; Keras's automatic "input_layer", "input_layer_1", ... otherwise.</param>
    /// <example><c>Keras.Input(shape = [784])</c> has shape <c>(None, 784)</c>.</example>
    static member Input(?shape: int list, ?batchShape: int list, ?dtype: DType, ?name: string) : KerasTensor =
        let dims (s: int list) =
            s |> List.map (fun d -> if d = -1 then None else Some d)

        CoreLayers.input (Option.map dims shape) (Option.map dims batchShape) (defaultArg dtype Float32) name

    /// <summary>A symbolic input with dimensions given as a <see cref="Shape"/> (<c>None</c> for unknown sizes).</summary>
    static member Input(shape: Shape, ?dtype: DType, ?name: string) : KerasTensor =
        CoreLayers.input (Some shape) None (defaultArg dtype Float32) name

    /// <summary>A model with one input and one output.</summary>
    /// <exception cref="KerasException">When the graph is invalid.</exception>
    static member Model(inputs: KerasTensor, outputs: KerasTensor, ?name: string) : Model =
        Model.create [ inputs ] [ outputs ] SingleOutput name

    /// <summary>A model with several inputs and one output.</summary>
    static member Model(inputs: KerasTensor list, outputs: KerasTensor, ?name: string) : Model =
        Model.create inputs [ outputs ] SingleOutput name

    /// <summary>A model with several inputs and a list of outputs.</summary>
    static member Model(inputs: KerasTensor list, outputs: KerasTensor list, ?name: string) : Model =
        Model.create inputs outputs OutputList name

    /// <summary>A model with one input and a list of outputs.</summary>
    static member Model(inputs: KerasTensor, outputs: KerasTensor list, ?name: string) : Model =
        Model.create [ inputs ] outputs OutputList name

    /// <summary>A model whose outputs are named (Keras's dict of outputs), in the given order.</summary>
    static member Model(inputs: KerasTensor list, outputs: (string * KerasTensor) list, ?name: string) : Model =
        Model.create inputs (List.map snd outputs) (OutputDict(List.map fst outputs)) name

/// The overloads behind <c>--></c>: what can be applied to what.
[<AbstractClass; Sealed>]
type Apply =
    /// A layer on one tensor.
    static member Call(x: KerasTensor, layer: Layer) = Layer.call layer x

    /// A layer on several tensors (merge layers).
    static member Call(xs: KerasTensor list, layer: Layer) =
        Layer.callMany layer xs |> List.exactlyOne

    /// A model on one tensor.
    static member Call(x: KerasTensor, model: Model) = Model.call model x

    /// A model on several tensors.
    static member Call(xs: KerasTensor list, model: Model) =
        Model.callMany model xs |> List.exactlyOne

/// The overloads behind <c>-->></c>: a layer or model with several outputs (an LSTM with <c>returnState</c>,
/// attention with <c>returnAttentionScores</c>) applied to tensors, giving every output.
[<AbstractClass; Sealed>]
type ApplyMany =
    /// A layer on one tensor: all its outputs.
    static member CallMany(x: KerasTensor, layer: Layer) = Layer.callMany layer [ x ]

    /// A layer on several tensors: all its outputs.
    static member CallMany(xs: KerasTensor list, layer: Layer) = Layer.callMany layer xs

    /// A model on one tensor: all its outputs.
    static member CallMany(x: KerasTensor, model: Model) = Model.callMany model [ x ]

    /// A model on several tensors: all its outputs.
    static member CallMany(xs: KerasTensor list, model: Model) = Model.callMany model xs

/// <summary>Spellings of dimensions: <c>Keras.Input(shape = [ Dim.Unknown; 32 ])</c> is Keras's
/// <c>keras.Input(shape=(None, 32))</c>.</summary>
[<RequireQualifiedAccess>]
module Dim =
    /// <summary>An unknown dimension, Keras's <c>None</c> in a shape (the same as -1).</summary>
    [<Literal>]
    let Unknown = -1

/// Opt-in operators: <c>open Keras.Operators</c>.
module Operators =
    let inline private applyWith (_: ^W) (x: ^X) (f: ^F) : ^R =
        ((^W or ^F): (static member Call: ^X * ^F -> ^R) (x, f))

    /// <summary>Applies a layer or a model to a symbolic tensor (or a list of them) and returns its output.</summary>
    /// <example><c>inputs --> Layers.Dense(64, activation = "relu") --> Layers.Dense(10)</c></example>
    let inline (-->) (x: ^X) (f: ^F) : KerasTensor =
        applyWith Unchecked.defaultof<Apply> x f

    let inline private applyManyWith (_: ^W) (x: ^X) (f: ^F) : ^R =
        ((^W or ^F): (static member CallMany: ^X * ^F -> ^R) (x, f))

    /// <summary>Applies a layer or model with several outputs and returns all of them, in order.</summary>
    /// <example><c>let outputs = inputs -->> Layers.LSTM(4, returnState = true)</c> is
    /// <c>[ output; h; c ]</c>, each of shape <c>(None, 4)</c>.</example>
    let inline (-->>) (x: ^X) (f: ^F) : KerasTensor list =
        applyManyWith Unchecked.defaultof<ApplyMany> x f

/// Methods on models, Keras-style: <c>model.Summary()</c>, <c>model.Predict(x)</c>.
[<AutoOpen>]
module ModelExtensions =
    type Model with
        /// Prints Keras's summary table.
        member model.Summary(?lineLength: int) =
            System.Console.Write(Summary.renderWith lineLength model)

        /// The summary table as text.
        member model.SummaryText(?lineLength: int) = Summary.renderWith lineLength model

        /// Number of scalars in all weights.
        member model.CountParams() = Model.countParams model

        /// <summary>Keras's <c>model.trainable</c>. Setting it false freezes every layer of the model, nested models
        /// included: <c>fit</c> leaves their weights unchanged, <c>summary</c> counts them as non-trainable, and
        /// BatchNormalization runs in inference mode. As in Keras, compile again after changing it.</summary>
        /// <example><c>baseModel.Trainable &lt;- false</c> (Keras's <c>base_model.trainable = False</c>).</example>
        member model.Trainable
            with get () = Model.isTrainable model
            and set (value: bool) = Model.setTrainable value model

        /// <summary>The weights <c>fit</c> updates (Keras's <c>model.trainable_weights</c>).</summary>
        member model.TrainableWeights = Model.trainableWeights model

        /// <summary>The weights <c>fit</c> leaves alone (Keras's <c>model.non_trainable_weights</c>).</summary>
        member model.NonTrainableWeights = Model.nonTrainableWeights model

        /// The layer with this name.
        member model.GetLayer(name: string) = Model.getLayer model name

        /// Calls the model on a symbolic tensor (nesting it in another model).
        member model.Call(x: KerasTensor) = Model.call model x

        /// <summary>Copies of every weight value of the model, in the order of its layers (Keras's
        /// <c>model.get_weights()</c>).</summary>
        member model.GetWeights() : torch.Tensor list = Layer.getWeights model.AsLayer

        /// <summary>Copies values into every weight of the model, in the order <see cref="GetWeights"/> gives (Keras's
        /// <c>model.set_weights(weights)</c>): <c>copy.SetWeights(original.GetWeights())</c>.</summary>
        /// <exception cref="KerasException">When the count or a shape differs.</exception>
        member model.SetWeights(weights: torch.Tensor seq) =
            Layer.setWeights model.AsLayer (List.ofSeq weights)

        /// Predicts in batches (32 by default) in inference mode.
        member model.Predict(x: torch.Tensor, ?batchSize: int) =
            Model.predictMany model (defaultArg batchSize 32) [ x ] |> List.head

        /// Predicts for a model with several inputs; one tensor per output.
        member model.Predict(xs: torch.Tensor list, ?batchSize: int) =
            Model.predictMany model (defaultArg batchSize 32) xs

        /// Predicts from named inputs; outputs keyed by output name.
        member model.Predict(xs: IReadOnlyDictionary<string, torch.Tensor>, ?batchSize: int) =
            Model.predictNamed model (defaultArg batchSize 32) xs

    type Layer with
        /// Calls the layer on a symbolic tensor.
        member layer.Call(x: KerasTensor) = Layer.call layer x
        /// Calls the layer on several symbolic tensors.
        member layer.Call(xs: KerasTensor list) = Layer.callMany layer xs

        /// <summary>Calls a recurrent layer on a sequence with Keras's <c>initial_state=[...]</c> (issue 13): the
        /// states (an LSTM's h and c) start the recurrence; all the layer's outputs are returned.</summary>
        member layer.Call(x: KerasTensor, initialState: KerasTensor list) = Layer.callMany layer (x :: initialState)

        /// <summary>Keras's <c>reset_states</c> (issue 13): a stateful recurrent layer's next call starts from zero
        /// states; nothing for other layers.</summary>
        member layer.ResetStates() = RNNLayers.resetStates layer
        /// The layer's weights (trainable first); empty before it is built.
        member layer.Weights = Layer.weights layer
        /// Number of scalars in the layer's weights.
        member layer.CountParams() = Layer.countParams layer

        /// <summary>Keras's <c>layer.trainable</c>: setting it false freezes the layer and every layer it holds (see
        /// <c>Layer.setTrainable</c>). As in Keras, compile again after changing it.</summary>
        member layer.Trainable
            with get () = Layer.isTrainable layer
            and set (value: bool) = Layer.setTrainable value layer

        /// <summary>Keras's <c>layer.input</c>: the input of the layer's first call (see <c>Layer.input</c>).</summary>
        member layer.Input: KerasTensor = Layer.input layer

        /// <summary>Keras's <c>layer.output</c>: the output of the layer's first call (see <c>Layer.output</c>).</summary>
        member layer.Output: KerasTensor = Layer.output layer

        /// <summary>Keras's <c>layer.trainable_weights</c>.</summary>
        member layer.TrainableWeights = Layer.trainableWeights layer

        /// <summary>Keras's <c>layer.non_trainable_weights</c>.</summary>
        member layer.NonTrainableWeights = Layer.nonTrainableWeights layer
