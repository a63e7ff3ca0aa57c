namespace Keras

open TorchSharp

/// An activation function, by value. <c>Activation.ofName</c> resolves Keras's string names.
[<CustomEquality; NoComparison>]
type Activation =
    /// <summary>The identity, Keras's <c>"linear"</c> (a layer's default: no activation).</summary>
    | Linear
    /// <summary>max(x, 0), Keras's <c>"relu"</c>.</summary>
    | Relu
    /// <summary>1 / (1 + exp(-x)), Keras's <c>"sigmoid"</c>.</summary>
    | Sigmoid
    /// Softmax over the last axis.
    | Softmax
    /// <summary>The hyperbolic tangent, Keras's <c>"tanh"</c>.</summary>
    | Tanh
    /// Exact (erf-based) GELU, Keras's default (<c>approximate=False</c>).
    | Gelu
    /// <summary>x for x &gt; 0, exp(x) - 1 otherwise (alpha 1.0), Keras's <c>"elu"</c>.</summary>
    | Elu
    /// <summary>Scaled ELU with Keras's fixed alpha ≈ 1.6733 and scale ≈ 1.0507, Keras's <c>"selu"</c>.</summary>
    | Selu
    /// <summary>log(1 + exp(x)), Keras's <c>"softplus"</c>.</summary>
    | Softplus
    /// Also known as SiLU.
    | Swish
    /// Leaky ReLU with the given negative slope (Keras's default is 0.2).
    | LeakyRelu of negativeSlope: float
    /// A user function with the name it is registered and serialized under.
    | CustomActivation of name: string * apply: (torch.Tensor -> torch.Tensor)

    override this.Equals(other) =
        match other with
        | :? Activation as o ->
            match this, o with
            | CustomActivation(a, _), CustomActivation(b, _) -> a = b
            | LeakyRelu a, LeakyRelu b -> a = b
            | CustomActivation _, _
            | _, CustomActivation _ -> false
            // The remaining cases carry no data: equal when they are the same case.
            | _ -> this.CaseName = o.CaseName
        | _ -> false

    override this.GetHashCode() =
        match this with
        | CustomActivation(name, _) -> hash name
        | LeakyRelu slope -> hash ("leaky_relu", slope)
        | _ -> hash this.CaseName

    /// The union case's name, for equality of the cases without data.
    member private this.CaseName =
        match this with
        | Linear -> "Linear"
        | Relu -> "Relu"
        | Sigmoid -> "Sigmoid"
        | Softmax -> "Softmax"
        | Tanh -> "Tanh"
        | Gelu -> "Gelu"
        | Elu -> "Elu"
        | Selu -> "Selu"
        | Softplus -> "Softplus"
        | Swish -> "Swish"
        | LeakyRelu _ -> "LeakyRelu"
        | CustomActivation(name, _) -> "Custom:" + name

    /// <summary>Resolves a Keras activation name; <c>None</c> means linear, as in Keras.</summary>
    /// <example><c>Activation.TryParse "silu"</c> is <c>Some Swish</c>.</example>
    static member TryParse(name: string) =
        match (if isNull name then "" else name.Trim().ToLowerInvariant()) with
        | ""
        | "linear"
        | "none" -> Some Linear
        | "relu" -> Some Relu
        | "sigmoid" -> Some Sigmoid
        | "softmax" -> Some Softmax
        | "tanh" -> Some Tanh
        | "gelu" -> Some Gelu
        | "elu" -> Some Elu
        | "selu" -> Some Selu
        | "softplus" -> Some Softplus
        | "swish"
        | "silu" -> Some Swish
        | "leaky_relu" -> Some(LeakyRelu 0.2)
        | _ -> None

    /// The names <see cref="TryParse"/> accepts.
    static member KnownNames =
        [
            "linear"
            "relu"
            "sigmoid"
            "softmax"
            "tanh"
            "gelu"
            "elu"
            "selu"
            "softplus"
            "swish"
            "silu"
            "leaky_relu"
        ]

    /// Resolves a Keras activation name or raises an error listing the known names.
    static member Parse(name: string) =
        match Activation.TryParse name with
        | Some activation -> activation
        | None ->
            Errors.raiseKeras (
                InvalidArgument(
                    "activation",
                    "activation",
                    $"""Unknown activation. Known: {String.concat ", " Activation.KnownNames}.""",
                    $"'{name}'"
                )
            )

    /// Lets a Keras name stand for the activation where a method expects one: <c>Dense(64, activation = "relu")</c>.
    static member op_Implicit(name: string) : Activation = Activation.Parse name

/// Applying activations and resolving their Keras names.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Activation =
    /// The Keras name of an activation, as written in layer configs.
    let name activation =
        match activation with
        | Linear -> "linear"
        | Relu -> "relu"
        | Sigmoid -> "sigmoid"
        | Softmax -> "softmax"
        | Tanh -> "tanh"
        | Gelu -> "gelu"
        | Elu -> "elu"
        | Selu -> "selu"
        | Softplus -> "softplus"
        | Swish -> "silu" // Keras 3.1.1 writes silu's function name; "swish" is read as an alias
        | LeakyRelu _ -> "leaky_relu"
        | CustomActivation(name, _) -> name

    /// The owner an unsavable activation's error carries until <c>Layer.getConfig</c> replaces it with the layer's name.
    let internal unsavableOwner = "activation"

    /// Keras's negative slope for the activation named "leaky_relu" (<c>keras.activations.leaky_relu</c>'s default).
    let kerasLeakyReluSlope = 0.2

    /// <summary>Why an activation cannot be written exactly where Keras 3.1.1 writes a layer's activation (a plain
    /// name: <c>"activation": "leaky_relu"</c>, read back with the function's defaults), or None when its name says
    /// everything. Only <c>LeakyRelu</c> carries a parameter: its name means slope 0.2, so any other slope would be
    /// lost. (Softmax over the last axis, ELU with alpha 1 and exact GELU are the defaults of Keras's functions.)</summary>
    /// <example><c>Activation.unsavableReason (LeakyRelu 0.1)</c> is <c>Some "..."</c>; <c>(LeakyRelu 0.2)</c> gives
    /// <c>None</c>.</example>
    let unsavableReason (activation: Activation) : string option =
        match activation with
        | LeakyRelu slope when slope <> kerasLeakyReluSlope ->
            Some(
                $"Keras 3.1.1 writes a layer's activation as a plain name, and \"leaky_relu\" means negative_slope={kerasLeakyReluSlope}, so a leaky ReLU with negative_slope={slope} cannot be saved exactly. Use a LeakyReLU layer instead: a linear layer followed by Layers.LeakyReLU(negativeSlope = {slope}) (Keras's layers.LeakyReLU(negative_slope={slope}))."
            )
        | _ -> None

    /// <summary>Resolves a Keras activation name; <c>None</c> means linear, as in Keras.</summary>
    let tryOfName (name: string) = Activation.TryParse name

    /// Resolves a Keras activation name or raises an error listing the known names.
    let ofName (name: string) = Activation.Parse name

    /// Applies the activation to a tensor.
    let apply activation (x: torch.Tensor) : torch.Tensor =
        match activation with
        | Linear -> x
        | Relu -> torch.nn.functional.relu x
        | Sigmoid -> torch.sigmoid x
        | Softmax -> torch.nn.functional.softmax (x, -1L)
        | Tanh -> torch.tanh x
        | Gelu -> torch.nn.functional.gelu x
        | Elu -> torch.nn.functional.elu (x, 1.0)
        | Selu -> torch.nn.functional.selu x
        | Softplus -> torch.nn.functional.softplus x
        | Swish -> torch.nn.functional.silu x
        | LeakyRelu slope -> torch.nn.functional.leaky_relu (x, slope)
        | CustomActivation(_, f) -> f x
