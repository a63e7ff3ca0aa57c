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
        let dims (s: int list) = s |> List.map (fun d -> if d = -1 then None else Some d)
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

/// <summary>Layer constructors with Keras's names, arguments and defaults: <c>Layers.Dense(64, activation = "relu")</c>.</summary>
[<AbstractClass; Sealed>]
type Layers =
    /// <summary>Densely connected layer: <c>activation(dot(input, kernel) + bias)</c>.</summary>
    /// <param name="units">Size of the output's last axis.</param>
    /// <param name="activation">Activation by value or Keras name; linear by default.</param>
    /// <param name="useBias">Whether to add a bias; true by default.</param>
    /// <param name="kernelInitializer">glorot_uniform by default.</param>
    /// <param name="biasInitializer">zeros by default.</param>
    /// <param name="name">Layer name; "dense", "dense_1", ... by default.</param>
    static member Dense
        (units: int, ?activation: Activation, ?useBias: bool, ?kernelInitializer: Initializer, ?biasInitializer: Initializer, ?name: string)
        : Layer =
        let d = CoreLayers.DenseConfig.Default units

        CoreLayers.dense
            { d with
                Activation = defaultArg activation d.Activation
                UseBias = defaultArg useBias d.UseBias
                KernelInitializer = defaultArg kernelInitializer d.KernelInitializer
                BiasInitializer = defaultArg biasInitializer d.BiasInitializer }
            name

    /// <summary>Applies an activation function.</summary>
    static member Activation(activation: Activation, ?name: string) : Layer = CoreLayers.activation activation name

    /// <summary>Randomly zeroes a fraction <paramref name="rate"/> of inputs during training only.</summary>
    static member Dropout(rate: float, ?seed: int, ?name: string) : Layer = CoreLayers.dropout rate seed name

    /// <summary>Flattens each sample to one axis.</summary>
    static member Flatten(?name: string) : Layer = ReshapingLayers.flatten name

    /// <summary>Reshapes each sample to <paramref name="targetShape"/> (one entry may be -1).</summary>
    static member Reshape(targetShape: int list, ?name: string) : Layer = ReshapingLayers.reshape targetShape name

    /// <summary>Adds inputs elementwise.</summary>
    static member Add(?name: string) : Layer = MergingLayers.add name

    /// <summary>Subtracts the second input from the first.</summary>
    static member Subtract(?name: string) : Layer = MergingLayers.subtract name

    /// <summary>Multiplies inputs elementwise.</summary>
    static member Multiply(?name: string) : Layer = MergingLayers.multiply name

    /// <summary>Averages inputs elementwise.</summary>
    static member Average(?name: string) : Layer = MergingLayers.average name

    /// <summary>Elementwise maximum of the inputs.</summary>
    static member Maximum(?name: string) : Layer = MergingLayers.maximum name

    /// <summary>Elementwise minimum of the inputs.</summary>
    static member Minimum(?name: string) : Layer = MergingLayers.minimum name

    /// <summary>Concatenates inputs along <paramref name="axis"/> (-1 by default).</summary>
    static member Concatenate(?axis: int, ?name: string) : Layer = MergingLayers.concatenate (defaultArg axis -1) name

    /// <summary>Keras's <c>layers.add</c>: adds the tensors with a new Add layer.</summary>
    static member add(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.add name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.subtract</c>.</summary>
    static member subtract(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.subtract name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.multiply</c>.</summary>
    static member multiply(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.multiply name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.average</c>: averages the tensors with a new Average layer.</summary>
    static member average(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.average name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.maximum</c>.</summary>
    static member maximum(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.maximum name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.minimum</c>.</summary>
    static member minimum(inputs: KerasTensor list, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.minimum name) inputs |> List.exactlyOne

    /// <summary>Keras's <c>layers.concatenate</c>: concatenates the tensors along <paramref name="axis"/>.</summary>
    static member concatenate(inputs: KerasTensor list, ?axis: int, ?name: string) : KerasTensor =
        Layer.callMany (MergingLayers.concatenate (defaultArg axis -1) name) inputs |> List.exactlyOne

/// The overloads behind <c>--></c>: what can be applied to what.
[<AbstractClass; Sealed>]
type Apply =
    /// A layer on one tensor.
    static member Call(x: KerasTensor, layer: Layer) = Layer.call layer x
    /// A layer on several tensors (merge layers).
    static member Call(xs: KerasTensor list, layer: Layer) = Layer.callMany layer xs |> List.exactlyOne
    /// A model on one tensor.
    static member Call(x: KerasTensor, model: Model) = Model.call model x
    /// A model on several tensors.
    static member Call(xs: KerasTensor list, model: Model) = Model.callMany model xs |> List.exactlyOne

/// Opt-in operators: <c>open Keras.Operators</c>.
module Operators =
    let inline private applyWith (_: ^W) (x: ^X) (f: ^F) : ^R =
        ((^W or ^F): (static member Call: ^X * ^F -> ^R) (x, f))

    /// <summary>Applies a layer or a model to a symbolic tensor (or a list of them) and returns its output.</summary>
    /// <example><c>inputs --> Layers.Dense(64, activation = "relu") --> Layers.Dense(10)</c></example>
    let inline (-->) (x: ^X) (f: ^F) : KerasTensor = applyWith Unchecked.defaultof<Apply> x f

/// Methods on models, Keras-style: <c>model.Summary()</c>, <c>model.Predict(x)</c>.
[<AutoOpen>]
module ModelExtensions =
    type Model with
        /// Prints Keras's summary table.
        member model.Summary(?lineLength: int) = System.Console.Write(Summary.renderWith lineLength model)

        /// The summary table as text.
        member model.SummaryText(?lineLength: int) = Summary.renderWith lineLength model

        /// Number of scalars in all weights.
        member model.CountParams() = Model.countParams model

        /// The layer with this name.
        member model.GetLayer(name: string) = Model.getLayer model name

        /// Calls the model on a symbolic tensor (nesting it in another model).
        member model.Call(x: KerasTensor) = Model.call model x

        /// Predicts in batches (32 by default) in inference mode.
        member model.Predict(x: torch.Tensor, ?batchSize: int) = Model.predictMany model (defaultArg batchSize 32) [ x ] |> List.head

        /// Predicts for a model with several inputs; one tensor per output.
        member model.Predict(xs: torch.Tensor list, ?batchSize: int) = Model.predictMany model (defaultArg batchSize 32) xs

        /// Predicts from named inputs; outputs keyed by output name.
        member model.Predict(xs: IReadOnlyDictionary<string, torch.Tensor>, ?batchSize: int) =
            Model.predictNamed model (defaultArg batchSize 32) xs

    type Layer with
        /// Calls the layer on a symbolic tensor.
        member layer.Call(x: KerasTensor) = Layer.call layer x
        /// Calls the layer on several symbolic tensors.
        member layer.Call(xs: KerasTensor list) = Layer.callMany layer xs
        /// The layer's weights (trainable first); empty before it is built.
        member layer.Weights = Layer.weights layer
        /// Number of scalars in the layer's weights.
        member layer.CountParams() = Layer.countParams layer
