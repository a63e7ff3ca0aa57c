/// tf.keras 2's op layers (<c>TFOpLambda</c>, <c>SlicingOpLambda</c>): a TensorFlow function applied to symbolic
/// tensors in a functional model, with its other arguments (constants or more tensors) recorded in the node. Only a
/// fixed set of functions is computed (see <see cref="supportedFunctions"/>); each op layer has no weights. This file
/// holds the reductions and the shape ops, and makes the layers.
module Keras.TFOpLayers

open System
open System.Runtime.CompilerServices
open TorchSharp
open Keras
open Keras.TFOpElementwise

let private reduce (x: int) (axes: int list option) (keepdims: bool) (kind: string) =
    let resolveAxes rank =
        match axes with
        | None -> Ok [ 0 .. rank - 1 ]
        | Some list ->
            list
            |> List.map (normalizeAxis rank)
            |> sequenceResults
            |> Result.map List.distinct

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        resolveAxes spec.Shape.Length
        |> Result.map (fun axes ->
            let shape =
                spec.Shape
                |> List.indexed
                |> List.collect (fun (i, d) ->
                    if List.contains i axes then
                        (if keepdims then [ Some 1 ] else [])
                    else
                        [ d ])

            { spec with Shape = shape })

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]

        match resolveAxes (int (t.dim ())) with
        | Error e -> raise (ArgumentException e)
        | Ok [] -> t
        | Ok axes ->
            let dims = axes |> List.map int64 |> Array.ofList

            match kind with
            | "mean" -> t.mean (dims, keepdims)
            | "sum" -> t.sum (dims, keepdims)
            | "max" -> t.amax (dims, keepdims)
            | "min" -> t.amin (dims, keepdims)
            | _ ->
                // prod: one axis at a time, the highest first so that the lower axis numbers stay valid.
                axes
                |> List.sortDescending
                |> List.fold (fun (acc: torch.Tensor) a -> acc.prod (int64 a, keepdims)) t

    { Output = output; Run = run }

let private reshapeTo (x: int) (target: int list) =
    if target |> List.filter ((=) -1) |> List.length > 1 then
        bad "Only one dimension of `shape` can be -1."

    if target |> List.exists (fun d -> d < -1) then
        bad $"The dimensions of `shape` must be -1 or non-negative, received {target}."

    let known = target |> List.filter ((<>) -1) |> List.fold (*) 1

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]
        let total = spec.Shape |> List.fold (fun acc d -> Option.map2 (*) acc d) (Some 1)
        let targetShape = Shape.format (Shape.ofInts target)

        match total with
        | Some n when not (List.contains -1 target) && n <> known ->
            Error $"Cannot reshape a tensor of shape {fmt spec.Shape} ({n} elements) to {targetShape}."
        | Some n when List.contains -1 target && (known = 0 || n % known <> 0) ->
            Error $"Cannot reshape a tensor of shape {fmt spec.Shape} ({n} elements) to {targetShape}."
        | _ ->
            let shape =
                target
                |> List.map (fun d ->
                    if d = -1 then
                        total |> Option.map (fun n -> n / known)
                    else
                        Some d)

            Ok { spec with Shape = shape }

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]
        let n = t.numel ()
        let hasUnknown = List.contains -1 target

        if
            (hasUnknown && (known = 0 || n % int64 known <> 0L))
            || (not hasUnknown && n <> int64 known)
        then
            raise (
                ArgumentException
                    $"Cannot reshape a tensor of shape {Shape.formatDims t.shape} ({n} elements) to {Shape.format (Shape.ofInts target)}."
            )

        t.reshape (target |> List.map int64 |> Array.ofList)

    { Output = output; Run = run }

let private concat (values: int list) (axis: int) (stack: bool) =
    if values.IsEmpty then
        bad "`values` must hold at least one tensor."

    let output (inputs: TensorSpec list) =
        let specs = values |> List.map (fun i -> inputs[i])
        let first = specs.Head
        let rank = first.Shape.Length

        if specs |> List.exists (fun s -> s.Shape.Length <> rank) then
            Error(
                "All values must have the same rank. Received shapes: "
                + (specs |> List.map (fun s -> fmt s.Shape) |> String.concat ", ")
            )
        else
            let outRank = if stack then rank + 1 else rank

            normalizeAxis outRank axis
            |> Result.bind (fun a ->
                let received = specs |> List.map (fun s -> fmt s.Shape) |> String.concat ", "

                let merged =
                    [ 0 .. rank - 1 ]
                    |> List.map (fun i ->
                        let dims = specs |> List.map (fun s -> s.Shape[i])

                        if not stack && i = a then
                            Ok(dims |> List.fold (fun acc d -> Option.map2 (+) acc d) (Some 0))
                        else
                            let knownDims = dims |> List.choose id |> List.distinct

                            match knownDims with
                            | [] -> Ok None
                            | [ d ] -> Ok(Some d)
                            | _ ->
                                Error
                                    $"The shapes must match except on the concatenation axis {axis}. Received shapes: {received}")
                    |> sequenceResults

                merged
                |> Result.map (fun dims ->
                    let shape =
                        if stack then
                            List.insertAt a (Some specs.Length) dims
                        else
                            dims

                    { first with Shape = shape }))

    let run (inputs: torch.Tensor list) =
        let tensors = values |> List.map (fun i -> inputs[i]) |> Array.ofList
        let rank = int (tensors[0].dim())

        let a =
            if axis < 0 then
                axis + (if stack then rank + 1 else rank)
            else
                axis

        if stack then
            torch.stack (tensors, int64 a)
        else
            torch.cat (tensors, int64 a)

    { Output = output; Run = run }

/// <summary><c>tf.stack</c> of tensors and scalar constants (<c>tf.stack([tf.shape(x)[0], 4, 3])</c>, as shapes are
/// built): each constant becomes a tensor of the tensors' shape and dtype filled with its value.</summary>
let private stackWithConstants (items: OpArg list) (axis: int) =
    let tensors =
        items
        |> List.choose (fun item ->
            match item with
            | TensorArg i -> Some i
            | _ -> None)

    if tensors.IsEmpty then
        bad "`values` must hold at least one tensor."

    let constants =
        items
        |> List.map (fun item ->
            match item with
            | TensorArg _ -> None
            | ConstArg n ->
                match asFloat n with
                | Some v -> Some v
                | None -> bad $"The constant entries of `values` must be numbers, received {jsonText n}."
            | ListArg _ -> bad "The entries of `values` must be tensors or numbers, not lists.")

    // The tensors alone give the shape checks; the stacked axis then counts every entry.
    let ofTensors = concat tensors axis true

    let output (inputs: TensorSpec list) =
        ofTensors.Output inputs
        |> Result.bind (fun spec ->
            normalizeAxis spec.Shape.Length axis
            |> Result.map (fun a ->
                { spec with
                    Shape = List.updateAt a (Some items.Length) spec.Shape
                }))

    let run (inputs: torch.Tensor list) =
        let first = inputs[tensors.Head]
        let remaining = System.Collections.Generic.Queue<int>(tensors)

        let all =
            constants
            |> List.map (fun constant ->
                match constant with
                | Some v -> torch.full (first.Sizes, v.ToScalar(), dtype = first.dtype)
                | None -> inputs[remaining.Dequeue()])
            |> Array.ofList

        let a = if axis < 0 then axis + int (first.dim ()) + 1 else axis
        torch.stack (all, int64 a)

    { Output = output; Run = run }

let private expandDims (x: int) (axis: int) =
    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        normalizeAxis (spec.Shape.Length + 1) axis
        |> Result.map (fun a ->
            { spec with
                Shape = List.insertAt a (Some 1) spec.Shape
            })

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]
        let rank = int (t.dim ()) + 1
        t.unsqueeze (int64 (if axis < 0 then axis + rank else axis))

    { Output = output; Run = run }

let private squeeze (x: int) (axes: int list option) =
    // Without axes, the axes statically known to have size 1 are removed (unknown ones are kept, as at runtime).
    let resolve (shape: Shape) =
        match axes with
        | None -> Ok(shape |> List.indexed |> List.filter (fun (_, d) -> d = Some 1) |> List.map fst)
        | Some list ->
            list
            |> List.map (fun axis ->
                normalizeAxis shape.Length axis
                |> Result.bind (fun a ->
                    match shape[a] with
                    | Some d when d <> 1 ->
                        Error $"Can not squeeze axis {axis}: its size is {d}, not 1. Received shape: {fmt shape}"
                    | _ -> Ok a))
            |> sequenceResults

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        resolve spec.Shape
        |> Result.map (fun removed ->
            { spec with
                Shape =
                    spec.Shape
                    |> List.indexed
                    |> List.filter (fun (i, _) -> not (List.contains i removed))
                    |> List.map snd
            })

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]
        let static' = (Layer.specOf t).Shape

        let removed =
            match axes with
            | None ->
                Ok(
                    t.Sizes
                    |> Array.indexed
                    |> Array.filter (fun (_, d) -> d = 1L)
                    |> Array.map fst
                    |> List.ofArray
                )
            | Some _ -> resolve static'

        match removed with
        | Error e -> raise (ArgumentException e)
        | Ok removed ->
            removed
            |> List.sortDescending
            |> List.fold (fun (acc: torch.Tensor) a -> acc.squeeze (int64 a)) t

    { Output = output; Run = run }

let private transpose (x: int) (perm: int list option) =
    let permFor rank =
        match perm with
        | None -> Ok [ rank - 1 .. -1 .. 0 ]
        | Some p when
            p.Length <> rank
            || List.sort (p |> List.map (fun a -> if a < 0 then a + rank else a))
               <> [ 0 .. rank - 1 ]
            ->
            Error $"`perm` {p} is not a permutation of the {rank} axes."
        | Some p -> Ok(p |> List.map (fun a -> if a < 0 then a + rank else a))

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        permFor spec.Shape.Length
        |> Result.map (fun p ->
            { spec with
                Shape = p |> List.map (fun a -> spec.Shape[a])
            })

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]

        match permFor (int (t.dim ())) with
        | Ok p -> t.permute (p |> List.map int64 |> Array.ofList)
        | Error e -> raise (ArgumentException e)

    { Output = output; Run = run }

let private matmul (a: Operand) (b: Operand) (transposeA: bool) (transposeB: bool) =
    let swapLast (shape: Shape) flag =
        if flag && shape.Length >= 2 then
            let n = shape.Length

            shape
            |> List.permute (fun i ->
                if i = n - 1 then n - 2
                elif i = n - 2 then n - 1
                else i)
        else
            shape

    let output (inputs: TensorSpec list) =
        let sa = (specOf inputs a).Value
        let sb = (specOf inputs b).Value

        if sa.Shape.Length < 2 || sb.Shape.Length < 2 then
            Error $"Both arguments of matmul need rank 2 or more. Received shapes {fmt sa.Shape} and {fmt sb.Shape}."
        else
            let ta = swapLast sa.Shape transposeA
            let tb = swapLast sb.Shape transposeB
            let na, nb = ta.Length, tb.Length

            if not (Shape.dimsCompatible ta[na - 1] tb[nb - 2]) then
                Error
                    $"matmul: the inner dimensions of shapes {fmt sa.Shape} and {fmt sb.Shape} (transpose_a={transposeA}, transpose_b={transposeB}) do not match."
            else
                broadcast ta[.. na - 3] tb[.. nb - 3]
                |> Result.map (fun batch ->
                    {
                        Shape = batch @ [ ta[na - 2]; tb[nb - 1] ]
                        DType = (if isConstant a then sb else sa).DType
                    })

    let run (inputs: torch.Tensor list) =
        let like =
            match a, b with
            | Input i, _
            | _, Input i -> inputs[i]
            | _ -> inputs.Head

        let ta = tensorOf inputs like a
        let tb = tensorOf inputs like b
        let ta = if transposeA then ta.transpose (-1L, -2L) else ta
        let tb = if transposeB then tb.transpose (-1L, -2L) else tb
        Ops.matmul ta tb

    { Output = output; Run = run }

// ---- tf.shape and reshape to a tensor-valued shape (issue 13) ----

/// <c>tf.shape(x)</c>: the dynamic shape of x as a 1-D integer tensor (int32 unless <c>out_type</c> says otherwise).
let private shapeOp (x: int) (outType: DType) =
    {
        Output =
            fun inputs ->
                Ok
                    {
                        Shape = [ Some inputs[x].Shape.Length ]
                        DType = outType
                    }
        Run =
            fun inputs ->
                let dims: torch.Tensor = torch.tensor inputs[x].shape
                dims.to_type (DType.toTorch outType)
    }

/// One entry of a reshape target: a constant, or the values of a tensor the layer receives.
type private TargetPart =
    | Fixed of int
    | FromTensor of int

/// <c>tf.reshape(x, shape)</c> whose shape is a tensor (<c>tf.stack([...])</c>) or a list mixing constants and scalar
/// tensors (<c>[tf.shape(x)[0], -1, 4]</c>): the target is read from the tensors at run time; symbolically, the
/// dimensions given by tensors are unknown.
let private reshapeDynamic (x: int) (shape: OpArg) =
    let parts, whole =
        match shape with
        | TensorArg i -> [ FromTensor i ], true
        | ListArg items ->
            items
            |> List.map (fun item ->
                match item with
                | TensorArg i -> FromTensor i
                | ConstArg n ->
                    match asInt n with
                    | Some v when v >= -1 -> Fixed v
                    | _ -> bad $"The entries of `shape` must be integers or scalar tensors, received {jsonText n}."
                | ListArg _ -> bad "The entries of `shape` must be integers or scalar tensors, not lists."),
            false
        | ConstArg _ -> bad "`shape` must be a list or a tensor."

    if (parts |> List.filter ((=) (Fixed -1)) |> List.length) > 1 then
        bad "Only one dimension of `shape` can be -1."

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        if whole then
            match parts with
            | [ FromTensor i ] ->
                match inputs[i].Shape with
                | [ Some n ] ->
                    Ok
                        { spec with
                            Shape = List.replicate n None
                        }
                | other -> Error $"The shape tensor must be 1-D with a known length, received shape {fmt other}."
            | _ -> Error "A whole shape tensor is one tensor."
        else
            parts
            |> List.map (fun p ->
                match p, inputs with
                | Fixed v, _ when v >= 0 -> Ok(Some v)
                | Fixed _, _ -> Ok None
                | FromTensor i, _ ->
                    match inputs[i].Shape with
                    | []
                    | [ Some 1 ] -> Ok None
                    | other -> Error $"A tensor entry of `shape` must be a scalar, received shape {fmt other}.")
            |> sequenceResults
            |> Result.map (fun dims -> { spec with Shape = dims })

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]

        let target =
            parts
            |> List.collect (fun p ->
                match p with
                | Fixed v -> [ int64 v ]
                | FromTensor i ->
                    use flat = inputs[i].reshape(-1L).to_type(torch.ScalarType.Int64)
                    flat.data<int64>().ToArray() |> List.ofArray)
            |> Array.ofList

        let known = target |> Array.filter ((<>) -1L) |> Array.fold (*) 1L
        let total = t.numel ()
        let unknowns = target |> Array.filter ((=) -1L) |> Array.length

        let fits =
            target |> Array.forall (fun d -> d >= -1L)
            && unknowns <= 1
            && (if unknowns = 0 then
                    known = total
                else
                    known > 0L && total % known = 0L)

        if not fits then
            let from = fmt (Layer.specOf t).Shape
            let into = target |> Array.map string |> String.concat ", "
            raise (ArgumentException $"Cannot reshape a tensor of shape {from} ({total} elements) to [{into}].")

        t.reshape target

    { Output = output; Run = run }

let private withDType (x: int) (dtype: DType) (f: torch.Tensor -> torch.Tensor) =
    {
        Output = fun inputs -> Ok { inputs[x] with DType = dtype }
        Run = fun inputs -> f inputs[x]
    }

/// Every function name (without "tf.") that an op layer can compute.
let supportedFunctions: string list =
    [
        yield! binaryOps |> List.collect fst
        // Comparison and boolean ops (issue 13).
        yield! booleanBinaryOps |> List.collect fst
        yield! [ "math.logical_not"; "where"; "shape"; "compat.v1.shape" ]
        yield! unaryOps |> List.collect fst
        yield! [ "math.truediv"; "math.divide"; "__operators__.getitem" ]
        yield!
            [
                "math.reduce_mean"
                "math.reduce_sum"
                "math.reduce_max"
                "math.reduce_min"
                "math.reduce_prod"
            ]
        yield! [ "reshape"; "concat"; "stack"; "expand_dims"; "squeeze"; "compat.v1.squeeze" ]
        yield!
            [
                "transpose"
                "compat.v1.transpose"
                "linalg.matmul"
                "matmul"
                "cast"
                "clip_by_value"
            ]
        yield! [ "nn.softmax"; "nn.log_softmax"; "nn.gelu"; "nn.leaky_relu"; "identity" ]
    ]
    |> List.distinct

/// Whether <paramref name="fn"/> (with or without "tf.") is one of <see cref="supportedFunctions"/>.
let isSupported (fn: string) =
    let f = if fn.StartsWith "tf." then fn.Substring 3 else fn
    List.contains f supportedFunctions

let private resolve (call: OpCall) : ResolvedOp =
    let fn = call.Function
    let x () = operandOf "x" call.First

    let xi () =
        tensorIndex "the first argument" call.First

    let secondOperand () =
        // tf.math ops name it y; matmul names it b.
        match kwarg call "y" with
        | Some arg -> operandOf "y" arg
        | None -> operandKwarg call "b"

    // Comparison and boolean ops (issue 13).
    let booleanOp () =
        match booleanBinaryOps |> List.tryFind (fun (names, _) -> List.contains fn names) with
        | Some(_, f) -> elementwise (fun _ -> Bool) (x ()) (secondOperand ()) f
        | None when fn = "math.logical_not" -> logicalNot (x ())
        | None when fn = "where" ->
            match kwarg call "x", kwarg call "y" with
            | Some xs, Some ys -> where3 (operandOf "condition" call.First) (operandOf "x" xs) (operandOf "y" ys)
            | _ ->
                bad
                    "Only the three-argument form `tf.where(condition, x, y)` is supported (not the indices of true elements)."
        | None -> bad "unsupported"

    match binaryOps |> List.tryFind (fun (names, _) -> List.contains fn names) with
    | Some(_, f) -> elementwise id (x ()) (secondOperand ()) f
    | None ->
        match unaryOps |> List.tryFind (fun (names, _) -> List.contains fn names) with
        | Some(_, f) -> unary (x ()) f
        | None ->
            match fn with
            | "math.truediv"
            | "math.divide" ->
                let op =
                    elementwise trueDivType (x ()) (secondOperand ()) (fun a b -> torch.div (a, b))

                { op with
                    Run =
                        fun inputs ->
                            let r = op.Run inputs
                            let spec = op.Output(Layer.specsFor "truediv" inputs) |> Result.map _.DType

                            match spec with
                            | Ok d -> floatOf r d
                            | Error _ -> r
                }
            | "__operators__.getitem" ->
                match constKwarg call "slice_spec" with
                | null when (kwarg call "slice_spec").IsNone -> bad "`slice_spec` is required."
                | spec -> getItem (xi ()) (sliceItems spec)
            | "math.reduce_mean" -> reduce (xi ()) (axesKwarg call "axis") (boolKwarg call "keepdims" false) "mean"
            | "math.reduce_sum" -> reduce (xi ()) (axesKwarg call "axis") (boolKwarg call "keepdims" false) "sum"
            | "math.reduce_max" -> reduce (xi ()) (axesKwarg call "axis") (boolKwarg call "keepdims" false) "max"
            | "math.reduce_min" -> reduce (xi ()) (axesKwarg call "axis") (boolKwarg call "keepdims" false) "min"
            | "math.reduce_prod" -> reduce (xi ()) (axesKwarg call "axis") (boolKwarg call "keepdims" false) "prod"
            | "reshape" when
                (match kwarg call "shape" with
                 | Some(TensorArg _ | ListArg _) -> true
                 | _ -> false)
                ->
                reshapeDynamic (xi ()) (kwarg call "shape").Value
            | "shape"
            | "compat.v1.shape" ->
                let outType =
                    match constKwarg call "out_type" |> asString with
                    | Some d -> DType.tryParse d |> Option.defaultWith (fun () -> bad $"Unknown dtype '{d}'.")
                    | None -> Int32

                shapeOp (xi ()) outType
            | "reshape" ->
                match axesKwarg call "shape" with
                | Some target -> reshapeTo (xi ()) target
                | None -> bad "`shape` must be a constant list of integers."
            | "concat"
            | "stack" ->
                let axis =
                    if fn = "concat" then
                        intKwarg call "axis" None
                    else
                        intKwarg call "axis" (Some 0)

                match call.First with
                | ListArg items when
                    fn = "stack"
                    && items
                       |> List.exists (fun item ->
                           match item with
                           | ConstArg _ -> true
                           | _ -> false)
                    ->
                    stackWithConstants items axis
                | first ->
                    let values =
                        match first with
                        | ListArg items -> items |> List.map (tensorIndex "values")
                        | TensorArg i -> [ i ]
                        | ConstArg _ -> bad "`values` must be tensors."

                    concat values axis (fn = "stack")
            | "expand_dims" -> expandDims (xi ()) (intKwarg call "axis" None)
            | "squeeze"
            | "compat.v1.squeeze" ->
                let axes =
                    match axesKwarg call "axis" with
                    | Some a -> Some a
                    | None -> axesKwarg call "squeeze_dims"

                squeeze (xi ()) axes
            | "transpose"
            | "compat.v1.transpose" ->
                if boolKwarg call "conjugate" false then
                    bad "`conjugate=True` is not supported."

                transpose (xi ()) (axesKwarg call "perm")
            | "linalg.matmul"
            | "matmul" ->
                for key in [ "a_is_sparse"; "b_is_sparse" ] do
                    if boolKwarg call key false then
                        bad $"`{key}=True` is not supported."

                let ta = boolKwarg call "transpose_a" false || boolKwarg call "adjoint_a" false
                let tb = boolKwarg call "transpose_b" false || boolKwarg call "adjoint_b" false
                matmul (x ()) (operandKwarg call "b") ta tb
            | "cast" ->
                let dtype =
                    match constKwarg call "dtype" |> asString with
                    | Some d -> DType.tryParse d |> Option.defaultWith (fun () -> bad $"Unknown dtype '{d}'.")
                    | None -> bad "`dtype` must be a dtype name."

                withDType (xi ()) dtype (fun t -> t.to_type (DType.toTorch dtype))
            | "clip_by_value" ->
                let lo = floatKwarg call "clip_value_min" nan
                let hi = floatKwarg call "clip_value_max" nan

                if Double.IsNaN lo || Double.IsNaN hi then
                    bad "`clip_value_min` and `clip_value_max` must be numbers."

                unary (x ()) (fun t -> t.clamp (sc lo, sc hi))
            | "nn.softmax"
            | "nn.log_softmax" ->
                let axis = intKwarg call "axis" (Some -1)

                let f (t: torch.Tensor) =
                    if fn = "nn.softmax" then
                        t.softmax (int64 axis)
                    else
                        torch.nn.functional.log_softmax (t, int64 axis)

                let op = unary (x ()) f

                { op with
                    Output =
                        fun inputs ->
                            op.Output inputs
                            |> Result.bind (fun s -> normalizeAxis s.Shape.Length axis |> Result.map (fun _ -> s))
                }
            | "nn.gelu" -> unary (x ()) (gelu (boolKwarg call "approximate" false))
            | "nn.leaky_relu" ->
                let alpha = floatKwarg call "alpha" 0.2
                unary (x ()) (fun t -> torch.nn.functional.leaky_relu (t, alpha))
            | "identity" -> unary (x ()) id
            | _ -> booleanOp ()

/// The op call behind each op layer, for writing its node back.
let private calls = ConditionalWeakTable<LayerIdentity, OpCall>()

/// The recorded call of an op layer made by <see cref="create"/>, or <c>None</c> for other layers.
let internal tryCall (layer: Layer) =
    match calls.TryGetValue layer.Identity with
    | true, call -> Some call
    | _ -> None

let private unsupported (name: string) (className: string) (fn: string) =
    InvalidArgument(
        name,
        "function",
        $"The TensorFlow op `tf.{fn}` of {className} layer '{name}' is not supported. Supported ops: "
        + (supportedFunctions |> List.map (fun f -> "tf." + f) |> String.concat ", ")
        + ".",
        $"'{fn}'"
    )

/// <summary>Fails with a <see cref="KerasException"/> naming the op and the layer when <paramref name="fn"/> is not
/// supported.</summary>
let checkSupported (name: string) (className: string) (fn: string) =
    if not (isSupported fn) then
        Errors.raiseKeras (unsupported name className fn)

/// <summary>An op layer (class <paramref name="className"/>: "TFOpLambda" or "SlicingOpLambda") computing
/// <paramref name="call"/>, whose <c>TensorArg</c>s index the tensors the layer is called on.</summary>
/// <exception cref="KerasException">When the function is unsupported or its arguments cannot be computed, naming the op
/// and the layer.</exception>
let create (name: string) (className: string) (call: OpCall) : Layer =
    let call =
        { call with
            Function =
                if call.Function.StartsWith "tf." then
                    call.Function.Substring 3
                else
                    call.Function
        }

    checkSupported name className call.Function

    let op =
        try
            resolve call
        with OpArgError message ->
            Errors.raiseKeras (
                InvalidArgument(name, "inbound_nodes", $"Cannot compute `tf.{call.Function}`: {message}", className)
            )

    let computeOutput (layerName: string) (inputs: TensorSpec list) =
        op.Output inputs
        |> Result.map List.singleton
        |> Result.mapError (fun reason ->
            InvalidInputs(
                layerName,
                className,
                $"tf.{call.Function}: {reason}",
                inputs |> List.map (fun s -> Shape.format s.Shape) |> String.concat ", "
            ))

    let spec =
        { Layer.simpleSpec className (fun _ inputs -> [ op.Run inputs ]) with
            Config = fun () -> Config.ofList [ "function", Config.value call.Function ]
            ComputeOutput = computeOutput
        }

    let layer = Layer.create (Some name) spec
    calls.Add(layer.Identity, call)
    layer
