/// Core layers: Input, Dense, Activation, Dropout.
module Keras.CoreLayers

open TorchSharp
open Keras

/// <summary>Creates a symbolic input. Give the sample shape (batch omitted), or the full <paramref name="batchShape"/>.</summary>
/// <exception cref="KerasException">When neither or both shapes are given, or a dimension is negative.</exception>
let input
    (shape: int option list option)
    (batchShape: int option list option)
    (dtype: DType)
    (name: string option)
    : KerasTensor =
    let fullShape =
        match shape, batchShape with
        | Some s, None -> None :: s
        | None, Some b -> b
        | None, None ->
            Errors.raiseKeras (InvalidArgument("Input", "shape", "You must pass a `shape` argument.", "None"))
        | Some s, Some b ->
            Errors.raiseKeras (
                InvalidArgument(
                    "Input",
                    "shape",
                    "You cannot pass both `shape` and `batch_shape` at the same time.",
                    $"{Shape.format s}, batch_shape={Shape.format b}"
                )
            )

    if fullShape |> List.exists (fun d -> d |> Option.exists (fun n -> n < 0)) then
        Errors.raiseKeras (
            InvalidArgument("Input", "shape", "Dimensions must be non-negative.", Shape.format fullShape)
        )

    let spec = { Shape = fullShape; DType = dtype }

    let layerSpec =
        { Layer.simpleSpec "InputLayer" (fun _ inputs -> inputs) with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "batch_shape", Config.shape fullShape
                            "dtype", Config.value (DType.name dtype)
                            "sparse", Config.value false
                        ]
            ComputeOutput = fun _ _ -> Ok [ spec ]
        }

    let layer = Layer.create name layerSpec
    Layer.record layer [] [ spec ] |> List.exactlyOne

/// Keras layers compute in float32: integer and boolean inputs are cast, floats keep their type.
let internal floatSpec (spec: TensorSpec) =
    if DType.isFloating spec.DType then
        spec
    else
        { spec with DType = Float32 }

let internal asFloat (x: torch.Tensor) =
    if x.is_floating_point () then
        x
    else
        x.to_type torch.ScalarType.Float32

/// Configuration of <see cref="dense"/>, with Keras's defaults in <see cref="DenseConfig.Default"/>.
type DenseConfig =
    {
        /// <summary>The size of the last axis of the output (Keras's <c>units</c>).</summary>
        Units: int
        /// <summary>Applied to <c>x · kernel + bias</c> (Keras's <c>activation</c>; linear by default).</summary>
        Activation: Activation
        /// <summary>Whether a bias vector of <c>units</c> is added (Keras's <c>use_bias</c>, true by
        /// default).</summary>
        UseBias: bool
        /// <summary>Fills the (input units, units) kernel (Keras's default <c>"glorot_uniform"</c>).</summary>
        KernelInitializer: Initializer
        /// <summary>Fills the bias (Keras's default <c>"zeros"</c>).</summary>
        BiasInitializer: Initializer
        /// Penalty on the kernel added to the training loss.
        KernelRegularizer: Regularizer option
        /// Penalty on the bias added to the training loss.
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss (summed over the batch, as Keras 3 does).
        ActivityRegularizer: Regularizer option
        /// Projection of the kernel after each optimizer step.
        KernelConstraint: Constraint option
        /// Projection of the bias after each optimizer step.
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: linear activation, bias on, glorot_uniform kernel, zero bias, no regularizers or constraints.
    static member Default(units) =
        {
            Units = units
            Activation = Linear
            UseBias = true
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            KernelRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            BiasConstraint = None
        }

/// <summary>The densely connected layer: <c>activation(inputs · kernel + bias)</c> on the last axis.</summary>
let dense (config: DenseConfig) (name: string option) : Layer =
    if config.Units <= 0 then
        Errors.raiseKeras (InvalidArgument("Dense", "units", "Expected a positive integer.", string config.Units))

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            match List.tryLast x.Shape with
            | Some(Some _) ->
                Ok
                    [
                        { floatSpec x with
                            Shape = (x.Shape |> List.take (x.Shape.Length - 1)) @ [ Some config.Units ]
                        }
                    ]
            | _ ->
                Error(
                    InvalidInputs(
                        layerName,
                        "Dense",
                        "The last dimension of the inputs to a `Dense` layer should be defined. Found `None`.",
                        Shape.format x.Shape
                    )
                )
        | many ->
            Error(
                InvalidInputs(layerName, "Dense", "A `Dense` layer takes exactly one input.", $"{many.Length} inputs")
            )

    let build (inputs: TensorSpec list) : BuildResult =
        let inDim = inputs |> List.exactlyOne |> _.Shape |> List.last |> Option.get

        {
            Weights =
                [
                    yield
                        {
                            Name = "kernel"
                            Shape = [ inDim; config.Units ]
                            Initializer = config.KernelInitializer
                            Trainable = true
                            DType = Float32
                            Constraint = Constraint.projection config.KernelConstraint
                        }
                    if config.UseBias then
                        yield
                            {
                                Name = "bias"
                                Shape = [ config.Units ]
                                Initializer = config.BiasInitializer
                                Trainable = true
                                DType = Float32
                                Constraint = Constraint.projection config.BiasConstraint
                            }
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        MinNDim = Some 2
                        Axes = [ -1, inDim ]
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = asFloat (List.exactlyOne inputs)
        let kernel = ctx.Weights[0].Value

        let z =
            if config.UseBias then
                let bias = ctx.Weights[1].Value
                // addmm fuses the product and the bias for the common rank-2 case.
                let rank = int (x.dim ())

                if rank = 2 then
                    torch.addmm (bias, x, kernel, 1.0f, 1.0f)
                elif rank > 2 && x.size(rank - 1) = kernel.size 0 then
                    // Higher ranks: libtorch's linear folds the leading axes into one matrix product with the bias
                    // fused into the backward pass, where matmul + add costs a broadcast sum.
                    DerivedWeights.linear x kernel bias
                else
                    (Ops.matmul x kernel).add bias
            else
                Ops.matmul x kernel

        Regularizer.addActivity config.ActivityRegularizer ctx [ Activation.apply config.Activation z ]

    Layer.create
        name
        {
            ClassName = "Dense"
            Config =
                fun () ->
                    Config.ofList
                        [ // Keras's base Layer.get_config writes activity_regularizer (after dtype) only when set.
                            match config.ActivityRegularizer with
                            | Some r -> yield "activity_regularizer", Regularizer.config r
                            | None -> ()
                            yield "units", Config.value config.Units
                            yield "activation", Config.activation config.Activation
                            yield "use_bias", Config.value config.UseBias
                            yield "kernel_initializer", Config.initializer config.KernelInitializer
                            yield "bias_initializer", Config.initializer config.BiasInitializer
                            yield "kernel_regularizer", Regularizer.configOrNull config.KernelRegularizer
                            yield "bias_regularizer", Regularizer.configOrNull config.BiasRegularizer
                            yield "kernel_constraint", Constraint.configOrNull config.KernelConstraint
                            yield "bias_constraint", Constraint.configOrNull config.BiasConstraint
                        ]
            InputSpecs = [ { InputSpec.any with MinNDim = Some 2 } ]
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = Layer.passMask
            RegularizationLosses =
                Regularizer.ofWeights [ config.KernelRegularizer, "kernel"; config.BiasRegularizer, "bias" ]
        }

/// Applies an activation function to its input.
let activation (activation: Activation) (name: string option) : Layer =
    Layer.create
        name
        { Layer.simpleSpec "Activation" (fun _ inputs -> inputs |> List.map (asFloat >> Activation.apply activation)) with
            Config = fun () -> Config.ofList [ "activation", Config.activation activation ]
            ComputeMask = Layer.passMask
            ComputeOutput = fun _ inputs -> Ok(inputs |> List.map floatSpec)
        }

/// <summary>Sets a fraction <paramref name="rate"/> of inputs to 0 during training and scales the rest by
/// 1/(1 - rate); does nothing at inference.</summary>
let dropout (rate: float) (seed: int option) (name: string option) : Layer =
    if rate < 0.0 || rate > 1.0 then
        Errors.raiseKeras (
            InvalidArgument("Dropout", "rate", "The `rate` argument must be a number between 0 and 1.", string rate)
        )

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = List.exactlyOne inputs

        [
            if ctx.Training && rate > 0.0 then
                torch.nn.functional.dropout (x, rate, true)
            else
                x
        ]

    Layer.create
        name
        { Layer.simpleSpec "Dropout" call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "rate", Config.value rate
                            "seed",
                            (match seed with
                             | Some s -> Config.value s
                             | None -> null)
                            "noise_shape", null
                        ]
            ComputeMask = Layer.passMask
        }
