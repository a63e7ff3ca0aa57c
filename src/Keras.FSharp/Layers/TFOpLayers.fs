/// tf.keras 2's op layers (<c>TFOpLambda</c>, <c>SlicingOpLambda</c>): a TensorFlow function applied to symbolic
/// tensors in a functional model, with its other arguments (constants or more tensors) recorded in the node. Only a
/// fixed set of functions is computed (see <see cref="supportedFunctions"/>); each op layer has no weights.
module Keras.TFOpLayers

open System
open System.Runtime.CompilerServices
open System.Text.Json.Nodes
open TorchSharp
open Keras

/// <summary>An argument of an op call: one of the layer's input tensors (by position in the node's inputs), a JSON
/// constant as tf.keras 2 writes it (number, bool, string, null, nested list, slice <c>{"start", "stop", "step"}</c>),
/// or a list holding tensors (the values of <c>tf.concat</c>).</summary>
type OpArg =
    /// The layer's input tensor at this position.
    | TensorArg of int
    /// A constant, as JSON.
    | ConstArg of JsonNode
    /// A list whose items include tensors.
    | ListArg of OpArg list

/// <summary>One recorded op call: the TensorFlow function (without "tf."), its first argument and the others by name,
/// as tf.keras 2's <c>Node.serialize</c> names them.</summary>
type OpCall =
    {
        /// The function's TensorFlow name without "tf." ("math.multiply", "__operators__.getitem", ...).
        Function: string
        /// The first argument.
        First: OpArg
        /// The other arguments by name, in the recorded order.
        Kwargs: (string * OpArg) list
    }

/// An operand of an elementwise op: an input tensor or a constant (values and dims; no dims for a scalar).
type internal Operand =
    | Input of int
    | Constant of float[] * int list

/// An op resolved from its call: the shape rule and the forward function.
type internal ResolvedOp =
    {
        Output: TensorSpec list -> Result<TensorSpec, string>
        Run: torch.Tensor list -> torch.Tensor
    }

let inline private sc (v: float) : Scalar = v.ToScalar()

let private prop (o: JsonObject) (key: string) : JsonNode =
    let mutable node: JsonNode = null
    if o.TryGetPropertyValue(key, &node) then node else null

let private jsonText (node: JsonNode) =
    if isNull node then "None" else node.ToJsonString()

let private asInt (node: JsonNode) =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<int>() with
        | true, i -> Some i
        | _ ->
            match v.TryGetValue<double>() with
            | true, d when d = Math.Floor d && abs d < 1e9 -> Some(int d)
            | _ -> None
    | _ -> None

let private asFloat (node: JsonNode) =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<double>() with
        | true, d -> Some d
        | _ ->
            match v.TryGetValue<bool>() with
            | true, b -> Some(if b then 1.0 else 0.0)
            | _ -> None
    | _ -> None

let private asBool (node: JsonNode) =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<bool>() with
        | true, b -> Some b
        | _ -> None
    | _ -> None

let private asString (node: JsonNode) =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<string>() with
        | true, s -> Some s
        | _ -> None
    | _ -> None

/// A constant number or nested list of numbers as values and dims.
let rec private constantOf (node: JsonNode) : (float[] * int list) option =
    match node with
    | :? JsonArray as a when a.Count = 0 -> Some([||], [ 0 ])
    | :? JsonArray as a ->
        let items = a |> Seq.map constantOf |> List.ofSeq

        if items |> List.forall Option.isSome then
            let items = items |> List.map Option.get
            let dims = snd items.Head

            if items |> List.forall (fun (_, d) -> d = dims) then
                Some(items |> Seq.collect fst |> Array.ofSeq, a.Count :: dims)
            else
                None
        else
            None
    | node -> asFloat node |> Option.map (fun v -> [| v |], [])

exception private OpArgError of string

let private bad message = raise (OpArgError message)

let private kwarg (call: OpCall) (key: string) =
    call.Kwargs |> List.tryFind (fun (k, _) -> k = key) |> Option.map snd

let private constKwarg (call: OpCall) (key: string) =
    match kwarg call key with
    | Some(ConstArg node) -> node
    | Some(TensorArg _ | ListArg _) -> bad $"`{key}` must be a constant, not a tensor."
    | None -> null

let private intKwarg call key (fallback: int option) =
    match constKwarg call key with
    | null ->
        match fallback with
        | Some v -> v
        | None -> bad $"`{key}` is required."
    | node ->
        asInt node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be an integer, received {jsonText node}.")

let private boolKwarg call key fallback =
    match constKwarg call key with
    | null -> fallback
    | node ->
        asBool node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be a boolean, received {jsonText node}.")

let private floatKwarg call key fallback =
    match constKwarg call key with
    | null -> fallback
    | node ->
        asFloat node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be a number, received {jsonText node}.")

/// An axis list: null, an int or a list of ints.
let private axesKwarg call key =
    match constKwarg call key with
    | null -> None
    | :? JsonArray as a ->
        Some(
            a
            |> Seq.map (fun n ->
                asInt n
                |> Option.defaultWith (fun () -> bad $"`{key}` must hold integers, received {jsonText a}."))
            |> List.ofSeq
        )
    | node ->
        match asInt node with
        | Some i -> Some [ i ]
        | None -> bad $"`{key}` must be an integer or a list of integers, received {jsonText node}."

let private operandOf (what: string) (arg: OpArg) =
    match arg with
    | TensorArg i -> Input i
    | ConstArg node ->
        match constantOf node with
        | Some c -> Constant c
        | None -> bad $"`{what}` must be a tensor or a numeric constant, received {jsonText node}."
    | ListArg _ -> bad $"`{what}` must be one tensor, not a list."

let private operandKwarg call key =
    match kwarg call key with
    | Some arg -> operandOf key arg
    | None -> bad $"`{key}` is required."

let private tensorIndex (what: string) (arg: OpArg) =
    match arg with
    | TensorArg i -> i
    | _ -> bad $"`{what}` must be a tensor."

// ---- shape rules --------------------------------------------------------------------------------------------

let private fmt (shape: Shape) = Shape.format shape

/// NumPy broadcasting of two static shapes; unknown dims broadcast against known ones.
let private broadcast (a: Shape) (b: Shape) : Result<Shape, string> =
    let rank = max a.Length b.Length
    let pad (s: Shape) = List.replicate (rank - s.Length) (Some 1) @ s

    let dims =
        List.map2
            (fun x y ->
                match x, y with
                | Some 1, d
                | d, Some 1 -> Ok d
                | Some p, Some q when p = q -> Ok(Some p)
                | Some _, Some _ -> Error()
                | None, d
                | d, None -> Ok d)
            (pad a)
            (pad b)

    if dims |> List.exists Result.isError then
        Error $"Shapes {fmt a} and {fmt b} cannot be broadcast together."
    else
        Ok(dims |> List.map (fun d -> Result.defaultValue None d))

let private specOf (inputs: TensorSpec list) (operand: Operand) =
    match operand with
    | Input i -> Some inputs[i]
    | Constant(_, dims) -> None |> Option.orElse (Some { Shape = Shape.ofInts dims; DType = Float32 })

let private isConstant operand =
    match operand with
    | Constant _ -> true
    | Input _ -> false

let private normalizeAxis (rank: int) (axis: int) =
    let a = if axis < 0 then axis + rank else axis

    if a < 0 || a >= rank then
        Error $"Axis {axis} is out of bounds for a tensor of rank {rank}."
    else
        Ok a

let private sequenceResults (items: Result<'T, string> list) =
    List.foldBack
        (fun item acc ->
            match item, acc with
            | Ok x, Ok xs -> Ok(x :: xs)
            | Error e, _
            | _, Error e -> Error e)
        items
        (Ok [])

// ---- forward helpers ----------------------------------------------------------------------------------------

let private materialize (like: torch.Tensor) (values: float[], dims: int list) =
    let flat: torch.Tensor = torch.tensor values
    let t = flat.reshape (dims |> List.map int64 |> Array.ofList)
    t.to_type like.dtype

let private tensorOf (inputs: torch.Tensor list) (like: torch.Tensor) (operand: Operand) =
    match operand with
    | Input i -> inputs[i]
    | Constant(values, dims) -> materialize like (values, dims)

let private elementwise (dtypeOf: DType -> DType) (x: Operand) (y: Operand) (f: torch.Tensor -> torch.Tensor -> torch.Tensor) =
    if isConstant x && isConstant y then
        bad "At least one operand must be a tensor."

    let output (inputs: TensorSpec list) =
        let sx = (specOf inputs x).Value
        let sy = (specOf inputs y).Value
        let dtype = if isConstant x then sy.DType else sx.DType

        broadcast sx.Shape sy.Shape
        |> Result.map (fun shape -> { Shape = shape; DType = dtypeOf dtype })

    let run (inputs: torch.Tensor list) =
        let like =
            match x, y with
            | Input i, _
            | _, Input i -> inputs[i]
            | _ -> inputs.Head

        let a = tensorOf inputs like x
        let b = tensorOf inputs like y
        f a b

    { Output = output; Run = run }

let private unary (x: Operand) (f: torch.Tensor -> torch.Tensor) =
    match x with
    | Constant _ -> bad "The first argument must be a tensor."
    | Input i ->
        {
            Output = fun inputs -> Ok inputs[i]
            Run = fun inputs -> f inputs[i]
        }

let private trueDivType (dtype: DType) =
    match dtype with
    | Int32
    | Int64 -> Float64
    | Int8
    | Int16
    | UInt8
    | Bool -> Float32
    | d -> d

let private floatOf (t: torch.Tensor) (dtype: DType) =
    if t.dtype = DType.toTorch dtype then t else t.to_type (DType.toTorch dtype)

// ---- the ops ------------------------------------------------------------------------------------------------

let private binaryOps: (string list * (torch.Tensor -> torch.Tensor -> torch.Tensor)) list =
    [
        [ "__operators__.add"; "math.add" ], (fun a b -> torch.add (a, b))
        [ "math.subtract" ], (fun a b -> torch.sub (a, b))
        [ "math.multiply"; "math.multiply_no_nan" ], (fun a b -> torch.mul (a, b))
        [ "math.pow" ], (fun a b -> torch.pow (a, b))
        [ "math.maximum" ], (fun a b -> torch.maximum (a, b))
        [ "math.minimum" ], (fun a b -> torch.minimum (a, b))
        [ "math.squared_difference" ],
        (fun a b ->
            let d = torch.sub (a, b)
            torch.mul (d, d))
        [ "math.floordiv" ], (fun a b -> torch.floor_divide (a, b))
        [ "math.floormod" ], (fun a b -> torch.remainder (a, b))
    ]

let private gelu (approximate: bool) (x: torch.Tensor) =
    if approximate then
        let c = Math.Sqrt(2.0 / Math.PI)
        let cube = x.pow (sc 3.0)
        let inner = x.add(cube.mul (sc 0.044715)).mul (sc c)
        let tanh = inner.tanh ()
        x.mul(sc 0.5).mul (tanh.add (sc 1.0))
    else
        torch.nn.functional.gelu x

let private unaryOps: (string list * (torch.Tensor -> torch.Tensor)) list =
    [
        [ "math.negative" ], (fun x -> torch.neg x)
        [ "math.abs" ], (fun x -> torch.abs x)
        [ "math.exp" ], (fun x -> torch.exp x)
        [ "math.log" ], (fun x -> torch.log x)
        [ "math.log1p" ], (fun x -> torch.log1p x)
        [ "math.expm1" ], (fun x -> torch.expm1 x)
        [ "math.sqrt" ], (fun x -> torch.sqrt x)
        [ "math.rsqrt" ], (fun x -> torch.rsqrt x)
        [ "math.square" ], (fun x -> torch.mul (x, x))
        [ "math.reciprocal" ], (fun x -> torch.reciprocal x)
        [ "math.sign" ], (fun x -> torch.sign x)
        [ "math.floor" ], (fun x -> torch.floor x)
        [ "math.ceil" ], (fun x -> torch.ceil x)
        [ "math.round" ], (fun x -> torch.round x)
        [ "math.sin" ], (fun x -> torch.sin x)
        [ "math.cos" ], (fun x -> torch.cos x)
        [ "math.erf" ], (fun x -> torch.erf x)
        [ "math.sigmoid"; "nn.sigmoid" ], (fun x -> torch.sigmoid x)
        [ "math.tanh"; "nn.tanh" ], (fun x -> torch.tanh x)
        [ "math.softplus"; "nn.softplus" ], (fun x -> torch.nn.functional.softplus x)
        [ "math.softsign"; "nn.softsign" ], (fun x -> x.div (x.abs().add (sc 1.0)))
        [ "nn.relu" ], (fun x -> torch.nn.functional.relu x)
        [ "nn.relu6" ], (fun x -> x.clamp (sc 0.0, sc 6.0))
        [ "nn.elu" ], (fun x -> torch.nn.functional.elu (x, 1.0))
        [ "nn.selu" ], (fun x -> torch.nn.functional.selu x)
        [ "nn.silu"; "nn.swish" ], (fun x -> torch.mul (x, torch.sigmoid x))
    ]

/// The slice items of <c>__operators__.getitem</c>.
type private SliceItem =
    | Index of int
    | Range of int option * int option * int option
    | NewAxis
    | Ellipsis

let private sliceItems (node: JsonNode) =
    let item (n: JsonNode) =
        match n with
        | null -> NewAxis
        | :? JsonObject as o when
            asString (prop o "class_name") = Some "__ellipsis__"
            ->
            Ellipsis
        | :? JsonObject as o ->
            let part key =
                match prop o key with
                | null -> None
                | v ->
                    match asInt v with
                    | Some i -> Some i
                    | None -> bad $"A slice bound must be an integer or null, received {jsonText v}."

            let step = part "step"

            if step = Some 0 then
                bad "A slice step cannot be zero."

            Range(part "start", part "stop", step)
        | n ->
            match asInt n, asString n with
            | Some i, _ -> Index i
            | _, Some "..." -> Ellipsis
            | _ -> bad $"Unsupported slice item {jsonText n} (only integers, slices, None and Ellipsis are supported)."

    match node with
    | :? JsonArray as a -> a |> Seq.map item |> List.ofSeq
    | n -> [ item n ]

/// Python's <c>slice(start, stop, step).indices(n)</c> as the selected positions.
let private slicePositions (start: int option) (stop: int option) (step: int option) (n: int) =
    let step = defaultArg step 1
    let lower, upper = if step > 0 then 0, n else -1, n - 1

    let clampIndex (v: int) =
        if v < 0 then max (v + n) lower else min v upper

    let s = start |> Option.map clampIndex |> Option.defaultValue (if step > 0 then lower else upper)
    let e = stop |> Option.map clampIndex |> Option.defaultValue (if step > 0 then upper else lower)

    if step > 0 then
        [ s..step .. e - 1 ]
    else
        [ s..step .. e + 1 ]

/// Expands the Ellipsis (explicit or implicit at the end) so that the items consume exactly <paramref name="rank"/> axes.
let private expandItems (rank: int) (items: SliceItem list) =
    let consuming =
        items
        |> List.filter (fun i ->
            match i with
            | Index _
            | Range _ -> true
            | _ -> false)
        |> List.length

    if items |> List.filter ((=) Ellipsis) |> List.length > 1 then
        Error "An index can only have a single ellipsis ('...')."
    elif consuming > rank then
        Error $"Too many indices ({consuming}) for a tensor of rank {rank}."
    else
        let fill = List.replicate (rank - consuming) (Range(None, None, None))

        if List.contains Ellipsis items then
            Ok(items |> List.collect (fun i -> if i = Ellipsis then fill else [ i ]))
        else
            Ok(items @ fill)

let private getItem (x: int) (items: SliceItem list) =
    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        expandItems spec.Shape.Length items
        |> Result.bind (fun expanded ->
            let rec walk (dims: int option list) (items: SliceItem list) =
                match items with
                | [] -> Ok []
                | NewAxis :: rest -> walk dims rest |> Result.map (fun r -> Some 1 :: r)
                | Index i :: rest ->
                    match dims.Head with
                    | Some n when i >= n || i < -n -> Error $"Index {i} is out of bounds for an axis of size {n}."
                    | _ -> walk dims.Tail rest
                | Range(s, e, st) :: rest ->
                    let size = dims.Head |> Option.map (fun n -> (slicePositions s e st n).Length)
                    walk dims.Tail rest |> Result.map (fun r -> size :: r)
                | Ellipsis :: rest -> walk dims rest

            walk spec.Shape expanded |> Result.map (fun shape -> { spec with Shape = shape }))

    let run (inputs: torch.Tensor list) =
        let t = inputs[x]

        let expanded =
            match expandItems (int (t.dim ())) items with
            | Ok e -> e
            | Error e -> raise (ArgumentException e)

        let mutable current = t
        let mutable axis = 0L

        for item in expanded do
            match item with
            | NewAxis ->
                current <- current.unsqueeze axis
                axis <- axis + 1L
            | Index i ->
                let n = current.shape[int axis]

                if int64 i >= n || int64 i < -n then
                    raise (ArgumentException $"Index {i} is out of bounds for an axis of size {n}.")

                current <- current.select (axis, (if i < 0 then int64 i + n else int64 i))
            | Range(None, None, (None | Some 1)) -> axis <- axis + 1L
            | Range(s, e, st) ->
                let positions = slicePositions s e st (int current.shape[int axis])
                let index = torch.tensor (positions |> List.map int64 |> Array.ofList, dtype = torch.int64)
                current <- current.index_select (axis, index)
                axis <- axis + 1L
            | Ellipsis -> ()

        current

    { Output = output; Run = run }

let private reduce (x: int) (axes: int list option) (keepdims: bool) (kind: string) =
    let resolveAxes rank =
        match axes with
        | None -> Ok [ 0 .. rank - 1 ]
        | Some list -> list |> List.map (normalizeAxis rank) |> sequenceResults |> Result.map List.distinct

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
        let rank = int (tensors[0].dim ())
        let a = if axis < 0 then axis + (if stack then rank + 1 else rank) else axis

        if stack then
            torch.stack (tensors, int64 a)
        else
            torch.cat (tensors, int64 a)

    { Output = output; Run = run }

let private expandDims (x: int) (axis: int) =
    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        normalizeAxis (spec.Shape.Length + 1) axis
        |> Result.map (fun a -> { spec with Shape = List.insertAt a (Some 1) spec.Shape })

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
            | None -> Ok(t.shape |> Array.indexed |> Array.filter (fun (_, d) -> d = 1L) |> Array.map fst |> List.ofArray)
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
        | Some p when p.Length <> rank || List.sort (p |> List.map (fun a -> if a < 0 then a + rank else a)) <> [ 0 .. rank - 1 ] ->
            Error $"`perm` {p} is not a permutation of the {rank} axes."
        | Some p -> Ok(p |> List.map (fun a -> if a < 0 then a + rank else a))

    let output (inputs: TensorSpec list) =
        let spec = inputs[x]

        permFor spec.Shape.Length
        |> Result.map (fun p -> { spec with Shape = p |> List.map (fun a -> spec.Shape[a]) })

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
            shape |> List.permute (fun i -> if i = n - 1 then n - 2 elif i = n - 2 then n - 1 else i)
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

let private withDType (x: int) (dtype: DType) (f: torch.Tensor -> torch.Tensor) =
    {
        Output = fun inputs -> Ok { inputs[x] with DType = dtype }
        Run = fun inputs -> f inputs[x]
    }

/// Every function name (without "tf.") that an op layer can compute.
let supportedFunctions: string list =
    [
        yield! binaryOps |> List.collect fst
        yield! unaryOps |> List.collect fst
        yield! [ "math.truediv"; "math.divide"; "__operators__.getitem" ]
        yield! [ "math.reduce_mean"; "math.reduce_sum"; "math.reduce_max"; "math.reduce_min"; "math.reduce_prod" ]
        yield! [ "reshape"; "concat"; "stack"; "expand_dims"; "squeeze"; "compat.v1.squeeze" ]
        yield! [ "transpose"; "compat.v1.transpose"; "linalg.matmul"; "matmul"; "cast"; "clip_by_value" ]
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
    let xi () = tensorIndex "the first argument" call.First

    let secondOperand () =
        // tf.math ops name it y; matmul names it b.
        match kwarg call "y" with
        | Some arg -> operandOf "y" arg
        | None -> operandKwarg call "b"

    match binaryOps |> List.tryFind (fun (names, _) -> List.contains fn names) with
    | Some(_, f) -> elementwise id (x ()) (secondOperand ()) f
    | None ->
        match unaryOps |> List.tryFind (fun (names, _) -> List.contains fn names) with
        | Some(_, f) -> unary (x ()) f
        | None ->
            match fn with
            | "math.truediv"
            | "math.divide" ->
                let op = elementwise trueDivType (x ()) (secondOperand ()) (fun a b -> torch.div (a, b))

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
            | "reshape" ->
                match axesKwarg call "shape" with
                | Some target -> reshapeTo (xi ()) target
                | None -> bad "`shape` must be a constant list of integers."
            | "concat"
            | "stack" ->
                let values =
                    match call.First with
                    | ListArg items -> items |> List.map (tensorIndex "values")
                    | TensorArg i -> [ i ]
                    | ConstArg _ -> bad "`values` must be tensors."

                let axis =
                    if fn = "concat" then
                        intKwarg call "axis" None
                    else
                        intKwarg call "axis" (Some 0)

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
                    | Some d ->
                        DType.tryParse d
                        |> Option.defaultWith (fun () -> bad $"Unknown dtype '{d}'.")
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
            | _ -> bad "unsupported"

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
