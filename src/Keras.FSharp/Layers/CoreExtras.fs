/// Core and merging layers beyond Dense: Identity, ActivityRegularization, Dot (Keras's batch dot) and EinsumDense.
module Keras.CoreExtraLayers

open System.Text.RegularExpressions
open TorchSharp
open Keras

let inline private sc (v: float) : Scalar = v.ToScalar()

/// <summary>Keras's Identity: returns its input unchanged (shape, dtype and mask).</summary>
let identity (name: string option) : Layer =
    Layer.create
        name
        { Layer.simpleSpec "Identity" (fun _ inputs -> inputs) with
            ComputeMask = Layer.passMask
        }

/// <summary>Keras's ActivityRegularization: returns its input unchanged and adds
/// <c>l1·sum(|x|) + l2·sum(x²)</c> of it to the training loss (summed over the batch, as Keras 3 does).</summary>
/// <exception cref="KerasException">When a factor is negative or not finite.</exception>
let activityRegularization (l1: float) (l2: float) (name: string option) : Layer =
    let regularizer = L1L2(l1, l2)
    Regularizer.validate regularizer

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        Regularizer.addActivity (Some regularizer) ctx inputs

    Layer.create
        name
        { Layer.simpleSpec "ActivityRegularization" call with
            Config = fun () -> Config.ofList [ "l1", Config.value l1; "l2", Config.value l2 ]
            ComputeMask = Layer.passMask
        }

// ---------------------------------------------------------------------------------------------------------------
// Dot
// ---------------------------------------------------------------------------------------------------------------

/// <summary>The axes of a Dot layer: one axis for both inputs, or one per input.</summary>
type DotAxes =
    /// The same axis of both inputs (a negative axis counts from the end of each input).
    | Both of axis: int
    /// An axis of the first input and one of the second.
    | Pair of first: int * second: int

let private shapesText (inputs: TensorSpec list) =
    "input_shape=["
    + (inputs |> List.map (fun x -> Shape.format x.Shape) |> String.concat ", ")
    + "]"

/// The two axes, made non-negative for inputs of these ranks (Keras's <c>axes % rank</c>).
let private resolveAxes (axes: DotAxes) (rank1: int) (rank2: int) =
    let norm (a: int) (rank: int) =
        if a < 0 then ((a % rank) + rank) % rank else a

    match axes with
    | Both a when a < 0 -> norm a rank1, norm a rank2
    | Both a -> a, a
    | Pair(a, b) -> norm a rank1, norm b rank2

/// <summary>Keras's shape rule for <c>Dot</c> (its <c>batch_dot</c>): the first shape without its dot axis, then the
/// second without its batch and dot axes; (batch,) becomes (batch, 1).</summary>
let dotShape (layerName: string) (axes: DotAxes) (inputs: TensorSpec list) : Result<TensorSpec list, KerasError> =
    let fail reason =
        Error(InvalidInputs(layerName, "Dot", reason, shapesText inputs))

    match inputs with
    | [ x1; x2 ] ->
        let s1, s2 = x1.Shape, x2.Shape

        if s1.Length < 2 || s2.Length < 2 then
            fail
                $"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {Shape.format s1} and {Shape.format s2}."
        else
            match s1[0], s2[0] with
            | Some b1, Some b2 when b1 <> b2 ->
                fail
                    $"Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes {Shape.format s1} and {Shape.format s2}."
            | _ ->
                let a1, a2 = resolveAxes axes s1.Length s2.Length

                if a1 >= s1.Length || a2 >= s2.Length || a1 < 0 || a2 < 0 then
                    fail $"Axes ({a1}, {a2}) are out of range for inputs of rank {s1.Length} and {s2.Length}."
                elif a1 = 0 || a2 = 0 then
                    fail
                        "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch dimension to your inputs using keras.ops.expand_dims(x, 0)"
                else
                    let d1, d2 = s1[a1], s2[a2]

                    match d1, d2 with
                    | Some n1, Some n2 when n1 <> n2 ->
                        let dim (d: int option) =
                            d |> Option.map string |> Option.defaultValue "None"

                        fail
                            $"Incompatible input shapes: axis values {dim d1} (at axis {a1}) != {dim d2} (at axis {a2}). Full input shapes: {Shape.format s1}, {Shape.format s2}"
                    | _ ->
                        let rest1 = s1 |> List.removeAt a1
                        let rest2 = s2 |> List.removeAt a2 |> List.tail
                        let shape = rest1 @ rest2
                        let shape = if shape.Length = 1 then shape @ [ Some 1 ] else shape

                        let dtype =
                            [ x1.DType; x2.DType ]
                            |> List.tryFind DType.isFloating
                            |> Option.defaultValue Float32

                        Ok [ { Shape = shape; DType = dtype } ]
    | _ -> fail "A `Dot` layer should be called on a list of 2 inputs."

/// L2-normalizes along an axis as Keras's <c>ops.normalize</c>: <c>x · rsqrt(max(sum(x²), epsilon²))</c>, epsilon 1e-7.
let internal l2Normalize (axis: int64 option) (x: torch.Tensor) =
    let squareSum =
        match axis with
        | Some a -> x.square().sum(a, keepdim = true)
        | None -> x.square().sum()

    x.mul (squareSum.clamp_min(sc 1e-14).rsqrt())

/// <summary>Keras's <c>batch_dot</c> of two batched tensors over one axis of each (neither the batch axis).</summary>
let batchDot (x: torch.Tensor) (y: torch.Tensor) (a1: int) (a2: int) : torch.Tensor =
    let batch = x.size(0)
    // x: the dot axis last, the others (after the batch) flattened to rows; y: the dot axis first, the others columns.
    let xs = x.movedim ([| int64 a1 |], [| x.dim () - 1L |])
    let ys = y.movedim ([| int64 a2 |], [| 1L |])
    let xRest = xs.Sizes[1 .. int (xs.dim ()) - 2]
    let yRest = ys.Sizes[2..]
    let k = xs.size(-1)
    let x3 = xs.reshape (batch, -1L, k)
    let y3 = ys.reshape (batch, k, -1L)
    let product = Ops.matmul x3 y3
    let shape = Array.concat [ [| batch |]; xRest; yRest ]
    let shape = if shape.Length = 1 then [| batch; 1L |] else shape
    product.reshape shape

/// <summary>Keras's Dot: the dot product of two inputs over <paramref name="axes"/>, sample by sample; with
/// <paramref name="normalize"/>, both inputs are L2-normalized along their axis first (cosine proximity).
/// Output: the first input's shape without its axis, then the second's without its batch and axis.</summary>
let dot (axes: DotAxes) (normalize: bool) (name: string option) : Layer =
    let call _ (inputs: torch.Tensor list) =
        match inputs with
        | [ x1; x2 ] ->
            let x1 = CoreLayers.asFloat x1
            let x2 = CoreLayers.asFloat x2
            let a1, a2 = resolveAxes axes (int (x1.dim ())) (int (x2.dim ()))

            let x1, x2 =
                if normalize then
                    l2Normalize (Some(int64 a1)) x1, l2Normalize (Some(int64 a2)) x2
                else
                    x1, x2

            [ batchDot x1 x2 a1 a2 ]
        | _ -> invalidArg "inputs" "A `Dot` layer should be called on exactly 2 inputs."

    Layer.create
        name
        { Layer.simpleSpec "Dot" call with
            Config =
                fun () ->
                    Config.ofList
                        [
                            "axes",
                            (match axes with
                             | Both a -> Config.value a
                             | Pair(a, b) -> Config.ints [ a; b ])
                            "normalize", Config.value normalize
                        ]
            ComputeOutput = fun layerName inputs -> dotShape layerName axes inputs
        }

// ---------------------------------------------------------------------------------------------------------------
// EinsumDense
// ---------------------------------------------------------------------------------------------------------------

/// What Keras's <c>_analyze_einsum_string</c> derives from an equation and an input shape.
type EinsumAnalysis =
    {
        /// The kernel's shape.
        KernelShape: int option list
        /// The bias's shape, when <c>bias_axes</c> is given.
        BiasShape: int option list option
        /// The full output shape (batch first).
        OutputShape: Shape
        /// The input axes of the equation's subscripts (for the input spec), as (axis, subscript).
        InputAxes: (int * char) list
    }

/// <summary>Keras's EinsumDense shape analysis: the kernel, bias and output shapes of <paramref name="equation"/>
/// ("ab,bc->ac", "...b,bc->...c" or "ab...,bc->ac...") for an input of <paramref name="inputShape"/> and the partial
/// <paramref name="outputShape"/> (without the batch axis and the elided axes). Errors carry Keras's texts.</summary>
let analyzeEinsum
    (equation: string)
    (biasAxes: string option)
    (inputShape: Shape)
    (outputShape: int option list)
    : Result<EinsumAnalysis, string> =
    let replaced = equation.Replace("...", "0")
    let plain = Regex.Match(replaced, "^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
    let left = Regex.Match(replaced, "^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$")
    let right = Regex.Match(replaced, "^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$")

    let parts, leftElided =
        if plain.Success then Some plain, false
        elif left.Success then Some left, true
        elif right.Success then Some right, false
        else None, false

    match parts with
    | None ->
        Error
            $"Invalid einsum equation '{equation}'. Equations must be in the form [X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    | Some m ->
        let inputSpec = m.Groups[1].Value
        let weightSpec = m.Groups[2].Value
        let outputSpec = m.Groups[3].Value
        let rank = inputShape.Length
        let elided = rank - inputSpec.Length

        if elided < 0 then
            Error
                $"The input spec '{inputSpec}' of equation '{equation}' has more axes than the input, whose shape is {Shape.format inputShape}."
        else
            // The full output shape: batch, then the left-elided axes or the partial shape, then the right-elided ones.
            let full =
                if elided > 0 && leftElided then
                    inputShape[0] :: (inputShape[1 .. elided - 1] @ outputShape)
                elif elided > 0 then
                    (inputShape[0] :: outputShape) @ inputShape[rank - elided ..]
                else
                    inputShape[0] :: outputShape

            let inputIndex (i: int) = if leftElided then i + elided else i
            let outputIndex (i: int) = if leftElided then i + elided else i

            let inputDim (c: char) =
                inputShape[inputIndex (inputSpec.IndexOf c)]

            let outputPos (c: char) = outputIndex (outputSpec.IndexOf c)

            let expectedOutputAxes = outputSpec.Length + (if elided > 0 then elided else 0)

            let dimText (d: int option) =
                d |> Option.map string |> Option.defaultValue "None"

            let mismatch =
                inputSpec
                |> Seq.tryPick (fun c ->
                    if outputSpec.Contains c && outputPos c < full.Length then
                        match full[outputPos c], inputDim c with
                        | Some o, i when i <> Some o ->
                            Some(
                                $"Input shape and output shape do not match at shared dimension '{c}'. Input shape is {dimText i}, and output shape is {o}."
                            )
                        | _ -> None
                    else
                        None)

            let unmatchedOutput =
                outputSpec
                |> Seq.tryFind (fun c -> not (inputSpec.Contains c) && not (weightSpec.Contains c))

            if full.Length <> expectedOutputAxes then
                Error
                    $"The output_shape {Shape.format outputShape} does not fit the equation '{equation}' for an input of shape {Shape.format inputShape}: the output would have {full.Length} axes, but its output spec '{outputSpec}' (with the elided axes) has {expectedOutputAxes}."
            else
                match mismatch, unmatchedOutput with
                | Some e, _ -> Error e
                | None, Some c ->
                    Error
                        $"Dimension '{c}' was specified in the output '{outputSpec}' but has no corresponding dim in the input spec '{inputSpec}' or weight spec '{outputSpec}'"
                | None, None ->
                    // A None in the output shape whose subscript the input has takes the input's size (the size the
                    // einsum produces; Keras's documented `(None, 32, 64)` for "abc,cd->abd" on (None, 32, 128)).
                    let full =
                        full
                        |> List.mapi (fun i d ->
                            let j = if leftElided then i - elided else i

                            match d with
                            | None when j >= 0 && j < outputSpec.Length && inputSpec.Contains outputSpec[j] ->
                                inputDim outputSpec[j]
                            | _ -> d)

                    let kernel =
                        weightSpec
                        |> Seq.map (fun c ->
                            if outputSpec.Contains c then
                                Ok full[outputPos c]
                            elif inputSpec.Contains c then
                                Ok(inputDim c)
                            else
                                Error
                                    $"Weight dimension '{c}' did not have a match in either the input spec '{inputSpec}' or the output spec '{outputSpec}'. For this layer, the weight must be fully specified.")
                        |> List.ofSeq

                    match
                        kernel
                        |> List.tryPick (function
                            | Error e -> Some e
                            | Ok _ -> None)
                    with
                    | Some e -> Error e
                    | None ->
                        let kernelShape =
                            kernel
                            |> List.map (function
                                | Ok d -> d
                                | Error _ -> None)

                        let bias =
                            match biasAxes with
                            | None -> Ok None
                            | Some axes ->
                                match axes |> Seq.tryFind (fun c -> not (outputSpec.Contains c)) with
                                | Some c ->
                                    Error
                                        $"Bias dimension '{c}' was requested, but is not part of the output spec '{outputSpec}'"
                                | None when axes.Length = 0 -> Ok None
                                | None ->
                                    let first = axes |> Seq.map (fun c -> outputSpec.IndexOf c) |> Seq.min
                                    let offset = if leftElided then elided else 0

                                    let shape =
                                        [
                                            for i in first .. outputSpec.Length - 1 ->
                                                if axes.Contains outputSpec[i] then
                                                    full[i + offset]
                                                else
                                                    Some 1
                                        ]

                                    let trailing = if leftElided then [] else List.replicate elided (Some 1)
                                    Ok(Some(shape @ trailing))

                        bias
                        |> Result.map (fun biasShape ->
                            {
                                KernelShape = kernelShape
                                BiasShape = biasShape
                                OutputShape = full
                                InputAxes = inputSpec |> Seq.mapi (fun i c -> inputIndex i, c) |> List.ofSeq
                            })

/// Configuration of <see cref="einsumDense"/>, with Keras's defaults in <see cref="EinsumDenseConfig.Default"/>.
type EinsumDenseConfig =
    {
        /// The einsum equation: "ab,bc->ac", "...b,bc->...c" or "ab...,bc->ac...".
        Equation: string
        /// The output shape without the batch axis and the elided axes; <c>None</c> for a size to infer.
        OutputShape: int option list
        /// <summary>Applied to the output after the bias (Keras's <c>activation</c>, none by default).</summary>
        Activation: Activation
        /// The output subscripts that get a bias; <c>None</c>: no bias.
        BiasAxes: string option
        /// <summary>Fills the kernel (Keras's default <c>"glorot_uniform"</c>).</summary>
        KernelInitializer: Initializer
        /// <summary>Fills the bias (Keras's default <c>"zeros"</c>).</summary>
        BiasInitializer: Initializer
        /// <summary>Penalty on the kernel added to the training loss.</summary>
        KernelRegularizer: Regularizer option
        /// <summary>Penalty on the bias added to the training loss.</summary>
        BiasRegularizer: Regularizer option
        /// Penalty on the layer's output added to the training loss.
        ActivityRegularizer: Regularizer option
        /// <summary>Projection applied to the kernel after each optimizer update.</summary>
        KernelConstraint: Constraint option
        /// <summary>Projection applied to the bias after each optimizer update.</summary>
        BiasConstraint: Constraint option
    }

    /// Keras's defaults: linear, no bias, glorot_uniform kernel, zero bias, no regularizers or constraints.
    static member Default(equation, outputShape) =
        {
            Equation = equation
            OutputShape = outputShape
            Activation = Linear
            BiasAxes = None
            KernelInitializer = GlorotUniform
            BiasInitializer = Zeros
            KernelRegularizer = None
            BiasRegularizer = None
            ActivityRegularizer = None
            KernelConstraint = None
            BiasConstraint = None
        }

/// <summary>Keras's EinsumDense: <c>activation(einsum(equation, x, kernel) + bias)</c>, with the kernel and bias
/// shapes Keras derives from the equation (weights "kernel", then "bias" when <c>BiasAxes</c> is set).</summary>
/// <remarks>Keras gives variance-scaling kernel initializers the fans of the equation's input and output axes; here
/// the fans come from the kernel's shape as for other layers (the same for rank-2 kernels).</remarks>
/// <exception cref="KerasException">On a call, when the equation does not fit the input (Keras's messages).</exception>
let einsumDense (config: EinsumDenseConfig) (name: string option) : Layer =
    let analyze layerName (x: TensorSpec) =
        analyzeEinsum config.Equation config.BiasAxes x.Shape config.OutputShape
        |> Result.mapError (fun reason -> InvalidInputs(layerName, "EinsumDense", reason, Shape.format x.Shape))

    let computeOutput layerName (inputs: TensorSpec list) =
        match inputs with
        | [ x ] ->
            analyze layerName x
            |> Result.bind (fun a ->
                let unknown =
                    a.KernelShape @ (a.BiasShape |> Option.defaultValue [])
                    |> List.exists Option.isNone

                if unknown then
                    Error(
                        InvalidInputs(
                            layerName,
                            "EinsumDense",
                            $"The weights' shapes must be fully known: the kernel of '{config.Equation}' has shape {Shape.format a.KernelShape}.",
                            Shape.format x.Shape
                        )
                    )
                else
                    Ok
                        [
                            { CoreLayers.floatSpec x with
                                Shape = a.OutputShape
                            }
                        ])
        | many ->
            Error(
                InvalidInputs(
                    layerName,
                    "EinsumDense",
                    "An `EinsumDense` layer takes exactly one input.",
                    $"{many.Length} inputs"
                )
            )

    let build (inputs: TensorSpec list) : BuildResult =
        let x = List.exactlyOne inputs
        let a = analyze "EinsumDense" x |> Errors.orRaise
        let lhs = config.Equation.Split("->")[0]
        let weightSubscripts = lhs.Split(",")[1]
        let known (s: int option list) = s |> List.map Option.get

        {
            Weights =
                [
                    Constraint.trainableWeight
                        "kernel"
                        (known a.KernelShape)
                        config.KernelInitializer
                        config.KernelConstraint
                    match a.BiasShape with
                    | Some b -> Constraint.trainableWeight "bias" (known b) config.BiasInitializer config.BiasConstraint
                    | None -> ()
                ]
            InputSpecs =
                [
                    { InputSpec.any with
                        NDim = Some x.Shape.Length
                        Axes =
                            [
                                for axis, c in a.InputAxes do
                                    if axis > 0 && weightSubscripts.Contains c then
                                        match x.Shape[axis] with
                                        | Some d -> axis, d
                                        | None -> ()
                            ]
                    }
                ]
        }

    let call (ctx: CallContext) (inputs: torch.Tensor list) =
        let x = CoreLayers.asFloat (List.exactlyOne inputs)
        let y = torch.einsum (config.Equation, x, ctx.Weights[0].Value)

        let y =
            if ctx.Weights.Length > 1 then
                y.add ctx.Weights[1].Value
            else
                y

        Regularizer.addActivity config.ActivityRegularizer ctx [ Activation.apply config.Activation y ]

    Layer.create
        name
        {
            ClassName = "EinsumDense"
            Config =
                fun () ->
                    Config.ofList
                        [
                            "output_shape", Config.shape config.OutputShape
                            "equation", Config.value config.Equation
                            "activation", Config.activation config.Activation
                            "bias_axes",
                            (match config.BiasAxes with
                             | Some b -> Config.value b
                             | None -> null)
                            "kernel_initializer", Config.initializer config.KernelInitializer
                            "bias_initializer", Config.initializer config.BiasInitializer
                            "kernel_regularizer", Regularizer.configOrNull config.KernelRegularizer
                            "bias_regularizer", Regularizer.configOrNull config.BiasRegularizer
                            "activity_regularizer", Regularizer.configOrNull config.ActivityRegularizer
                            "kernel_constraint", Constraint.configOrNull config.KernelConstraint
                            "bias_constraint", Constraint.configOrNull config.BiasConstraint
                            // quantization_config (Keras 3.10+) is never written while it is null (KerasFile.KerasVersion).
                        ]
            InputSpecs = []
            ComputeOutput = computeOutput
            Build = build
            Call = call
            SubLayers = fun () -> []
            ComputeMask = fun _ _ -> []
            RegularizationLosses =
                Regularizer.ofWeights [ config.KernelRegularizer, "kernel"; config.BiasRegularizer, "bias" ]
        }
