namespace Keras

open System.Threading
open System.Text.Json.Nodes
open TorchSharp

/// The identity of a layer. Two layer values with the same identity are the same layer: they share
/// weights. Weights are kept in a table keyed by this object (see <c>Weights</c>), never inside the
/// immutable layer record.
[<Sealed; AllowNullLiteral>]
type LayerIdentity internal (id: int64) =
    let mutable nodeCount = 0
    let mutable trainable = true
    /// A number unique in this process.
    member _.Id = id

    /// <summary>Keras's <c>layer.trainable</c> flag of this layer alone (true until frozen). <c>Layer.setTrainable</c>
    /// sets it on the layer and every layer it holds, as Keras's setter does.</summary>
    member _.Trainable
        with get () = trainable
        and internal set (value: bool) = trainable <- value

    /// Index of the next call (node) of this layer, as Keras numbers a layer's inbound nodes.
    member internal _.NextNodeIndex() = Interlocked.Increment(&nodeCount) - 1
    override _.ToString() = $"layer#{id}"

/// Shape and dtype of one tensor flowing through a graph.
type TensorSpec =
    {
        /// <summary>The shape with the batch axis first; <c>None</c> for an unknown dimension (Keras's
        /// <c>None</c>).</summary>
        Shape: Shape
        /// <summary>The element type (Keras's <c>dtype</c>).</summary>
        DType: DType
    }

/// Keras's InputSpec: what a layer accepts on one input. Checked on every call once the layer is built.
type InputSpec =
    {
        /// <summary>Keras's <c>ndim</c>: the exact rank (batch axis included) the input must have; <c>None</c>:
        /// any.</summary>
        NDim: int option
        /// <summary>Keras's <c>min_ndim</c>: the least rank the input may have (Dense needs 2).</summary>
        MinNDim: int option
        /// <summary>Keras's <c>max_ndim</c>: the greatest rank the input may have.</summary>
        MaxNDim: int option
        /// Axis (possibly negative) and the size it must have.
        Axes: (int * int) list
    }

/// A weight the layer declares when it is built.
type WeightSpec =
    {
        /// <summary>The weight's name within its layer, as Keras names it (<c>"kernel"</c>, <c>"bias"</c>,
        /// <c>"gamma"</c>, ...).</summary>
        Name: string
        /// <summary>The weight's shape, fully known (Dense's kernel is (input units, units)).</summary>
        Shape: int list
        /// <summary>How the weight is filled when the layer is built (Keras's <c>kernel_initializer</c>,
        /// ...).</summary>
        Initializer: Initializer
        /// <summary>True when the optimizer updates the weight; false for statistics such as BatchNormalization's
        /// moving mean.</summary>
        Trainable: bool
        /// <summary>The weight's element type (float32 unless the layer says otherwise).</summary>
        DType: DType
        /// Keras's weight constraint as the projection it applies (<c>Constraint.projection</c>): the optimizer step
        /// replaces the weight with <c>f(weight)</c> right after each update. <c>None</c>: unconstrained.
        Constraint: (torch.Tensor -> torch.Tensor) option
    }

/// A created weight: a TorchSharp parameter (gradients on when trainable).
type Weight =
    {
        /// <summary>The weight's name within its layer (<c>"kernel"</c>, <c>"bias"</c>, ...).</summary>
        Name: string
        /// The layer that owns this weight.
        Owner: string
        /// <summary>The tensor holding the weight's values, in Keras's layout (Dense kernel (in, out), Conv kernel
        /// (*kernel_size, in, filters)).</summary>
        Value: TorchSharp.Modules.Parameter
        /// <summary>True when the optimizer updates the weight (Keras's <c>variable.trainable</c>).</summary>
        Trainable: bool
        /// The projection applied after each optimizer update (Keras's <c>variable.constraint</c>); <c>None</c>: none.
        Constraint: (torch.Tensor -> torch.Tensor) option
    }

/// What a layer's forward function receives besides its input tensors.
type CallContext =
    {
        /// True inside <c>fit</c>: Dropout drops, BatchNormalization uses batch statistics.
        Training: bool
        /// <summary>Keras's <c>layer.trainable</c> of the called layer: false once it is frozen. A frozen
        /// BatchNormalization runs in inference mode even inside <c>fit</c>, as in Keras 3.</summary>
        Trainable: bool
        /// The layer's own weights, in the order its build declared them.
        Weights: Weight[]
        /// The layer's name, for error messages.
        LayerName: string
        /// Keras masks of the inputs (e.g. from <c>Embedding(mask_zero=True)</c>); <c>None</c> where an input has none.
        Masks: torch.Tensor option list
        /// Adds a loss term (an activity regularizer) to the training loss of the current step.
        AddLoss: torch.Tensor -> unit
    }

/// What building a layer produces: its weights and the input rules that hold from then on.
type BuildResult =
    {
        /// <summary>The weights to create, in the order Keras's <c>build</c> creates them (the order of
        /// <c>get_weights</c>).</summary>
        Weights: WeightSpec list
        /// <summary>The input rules that hold once the layer is built (e.g. Dense's last axis fixed to the built size),
        /// one per input or one for all.</summary>
        InputSpecs: InputSpec list
    }

/// The behaviour of a kind of layer — the same mechanism for built-in and user layers: a Keras config, a
/// shape rule, weight creation from input shapes, and a forward function on tensors.
[<NoEquality; NoComparison>]
type LayerSpec =
    {
        /// Keras class name ("Dense", "Concatenate", ...).
        ClassName: string
        /// Keras config entries of this layer (without "name"), with Keras's parameter names.
        Config: unit -> JsonObject
        /// Input rules known before building (e.g. Dense needs rank ≥ 2), one per input or one for all.
        InputSpecs: InputSpec list
        /// The shape rule: output specs from input specs, or an error naming the layer (its name is the first argument).
        ComputeOutput: string -> TensorSpec list -> Result<TensorSpec list, KerasError>
        /// Weight creation from the input specs of the first call.
        Build: TensorSpec list -> BuildResult
        /// The forward function.
        Call: CallContext -> torch.Tensor list -> torch.Tensor list
        /// Layers held inside this one (a nested model's layers); their weights count as this layer's.
        SubLayers: unit -> Layer list
        /// The masks of the outputs from the inputs and their masks; an empty list means no output has a mask.
        ComputeMask: torch.Tensor list -> torch.Tensor option list -> torch.Tensor option list
        /// Weight regularization terms (Keras's kernel/bias regularizers) added to the training loss.
        RegularizationLosses: Weight[] -> torch.Tensor list
    }

/// A layer: immutable configuration and behaviour plus a stable identity and a unique name.
and [<CustomEquality; NoComparison>] Layer =
    {
        /// <summary>The layer's identity: layer values with the same identity are the same layer and share
        /// weights.</summary>
        Identity: LayerIdentity
        /// <summary>The layer's unique name (Keras's <c>layer.name</c>: given, or automatic such as
        /// <c>"dense_1"</c>).</summary>
        Name: string
        /// <summary>What the layer is and does: class name, config, shape rule, weight creation and forward
        /// function.</summary>
        Spec: LayerSpec
    }

    /// Keras class name.
    member this.ClassName = this.Spec.ClassName

    override this.Equals(other) =
        match other with
        | :? Layer as o -> obj.ReferenceEquals(this.Identity, o.Identity)
        | _ -> false

    override this.GetHashCode() = this.Identity.Id.GetHashCode()

    override this.ToString() =
        $"<{this.Spec.ClassName} name={this.Name}>"

/// A symbolic tensor: shape, dtype and history (the call of a layer that produced it, and which output).
/// dotnet fsi and <c>%A</c> show it as Keras does: <c>&lt;KerasTensor shape=(None, 784), dtype=float32, ...&gt;</c>.
[<CustomEquality; NoComparison; StructuredFormatDisplay("{Display}")>]
type KerasTensor =
    {
        /// <summary>A number unique in this process, naming the tensor.</summary>
        Id: int64
        /// <summary>Keras's tensor name (<c>"keras_tensor_3"</c>), as <c>ToString</c> shows it.</summary>
        Name: string
        /// <summary>Shape and dtype of the tensor.</summary>
        Spec: TensorSpec
        /// The layer call that produced this tensor (for an <c>Input</c>, the input layer's node).
        Node: Node
        /// Which output of that node this is.
        Index: int
    }

    /// The shape, <c>None</c> for unknown dimensions.
    member this.Shape = this.Spec.Shape
    /// The element type.
    member this.DType = this.Spec.DType

    override this.Equals(other) =
        match other with
        | :? KerasTensor as o -> this.Id = o.Id
        | _ -> false

    override this.GetHashCode() = this.Id.GetHashCode()

    /// <summary>Keras's rendering, as dotnet fsi and <c>%A</c> show the tensor.</summary>
    member this.Display = this.ToString()

    override this.ToString() =
        $"<KerasTensor shape={Shape.format this.Spec.Shape}, dtype={DType.name this.Spec.DType}, sparse=False, name={this.Name}>"

/// One call of a layer: its input tensors and the specs of its outputs.
and [<CustomEquality; NoComparison>] Node =
    {
        /// <summary>A number unique in this process, naming the call.</summary>
        Id: int64
        /// <summary>The layer that was called.</summary>
        Layer: Layer
        /// <summary>The symbolic tensors the layer was called on, in order.</summary>
        Inputs: KerasTensor list
        /// <summary>Shape and dtype of each output of the call.</summary>
        Outputs: TensorSpec list
        /// Position of this call among all calls of the layer (Keras's node index).
        NodeIndex: int
    }

    override this.Equals(other) =
        match other with
        | :? Node as o -> this.Id = o.Id
        | _ -> false

    override this.GetHashCode() = this.Id.GetHashCode()

/// Unique numbers and Keras-style automatic names.
module internal Ids =
    let mutable private counter = 0L
    let next () = Interlocked.Increment(&counter)

    let private nameCounts =
        System.Collections.Concurrent.ConcurrentDictionary<string, int>()

    /// Keras's auto naming: "dense", then "dense_1", "dense_2", ... per prefix, process-wide.
    let uniqueName (prefix: string) =
        let n = nameCounts.AddOrUpdate(prefix, 0, (fun _ count -> count + 1))
        if n = 0 then prefix else $"{prefix}_{n}"

    /// Keras's snake_case of a class name: "GlobalMaxPooling2D" becomes "global_max_pooling2d",
    /// "Conv2DTranspose" becomes "conv2d_transpose" (the same two rewrites Keras applies).
    let snakeCase (className: string) =
        let re (pattern: string) (input: string) =
            System.Text.RegularExpressions.Regex.Replace(input, pattern, "$1_$2")

        System.Text.RegularExpressions.Regex.Replace(className, @"\W+", "")
        |> re "(.)([A-Z][a-z]+)"
        |> re "([a-z])([A-Z])"
        |> fun s -> s.ToLowerInvariant()
