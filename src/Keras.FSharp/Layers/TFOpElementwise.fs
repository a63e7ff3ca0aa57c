/// The first half of tf.keras 2's op layers (see <c>TFOpLayers</c>): the recorded call (<see cref="OpCall"/>), reading
/// its arguments, static broadcasting, and the elementwise and slicing ops.
module Keras.TFOpElementwise

open System
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

let inline internal sc (v: float) : Scalar = v.ToScalar()

let internal prop (o: JsonObject) (key: string) : JsonNode =
    let mutable node: JsonNode = null
    if o.TryGetPropertyValue(key, &node) then node else null

let internal jsonText (node: JsonNode) =
    if isNull node then "None" else node.ToJsonString()

/// A JSON value of exactly type <typeparamref name="T"/>; <c>None</c> for anything else (null, lists, other types).
let internal tryValue<'T> (node: JsonNode) : 'T option =
    match node with
    | :? JsonValue as v ->
        match v.TryGetValue<'T>() with
        | true, x -> Some x
        | _ -> None
    | _ -> None

/// An integer, also written as a whole double (e.g. <c>2.0</c>).
let internal asInt (node: JsonNode) =
    tryValue<int> node
    |> Option.orElseWith (fun () ->
        tryValue<double> node
        |> Option.filter (fun d -> d = Math.Floor d && abs d < 1e9)
        |> Option.map int)

/// A number; a bool counts as 1 or 0.
let internal asFloat (node: JsonNode) =
    tryValue<double> node
    |> Option.orElseWith (fun () -> tryValue<bool> node |> Option.map (fun b -> if b then 1.0 else 0.0))

let internal asBool (node: JsonNode) = tryValue<bool> node

let internal asString (node: JsonNode) = tryValue<string> node

/// A constant number or nested list of numbers as values and dims.
let rec internal constantOf (node: JsonNode) : (float[] * int list) option =
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

exception internal OpArgError of string

let internal bad message = raise (OpArgError message)

let internal kwarg (call: OpCall) (key: string) =
    call.Kwargs |> List.tryFind (fun (k, _) -> k = key) |> Option.map snd

let internal constKwarg (call: OpCall) (key: string) =
    match kwarg call key with
    | Some(ConstArg node) -> node
    | Some(TensorArg _ | ListArg _) -> bad $"`{key}` must be a constant, not a tensor."
    | None -> null

let internal intKwarg call key (fallback: int option) =
    match constKwarg call key with
    | null ->
        match fallback with
        | Some v -> v
        | None -> bad $"`{key}` is required."
    | node ->
        asInt node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be an integer, received {jsonText node}.")

let internal boolKwarg call key fallback =
    match constKwarg call key with
    | null -> fallback
    | node ->
        asBool node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be a boolean, received {jsonText node}.")

let internal floatKwarg call key fallback =
    match constKwarg call key with
    | null -> fallback
    | node ->
        asFloat node
        |> Option.defaultWith (fun () -> bad $"`{key}` must be a number, received {jsonText node}.")

/// An axis list: null, an int or a list of ints.
let internal axesKwarg call key =
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

let internal operandOf (what: string) (arg: OpArg) =
    match arg with
    | TensorArg i -> Input i
    | ConstArg node ->
        match constantOf node with
        | Some c -> Constant c
        | None -> bad $"`{what}` must be a tensor or a numeric constant, received {jsonText node}."
    | ListArg _ -> bad $"`{what}` must be one tensor, not a list."

let internal operandKwarg call key =
    match kwarg call key with
    | Some arg -> operandOf key arg
    | None -> bad $"`{key}` is required."

let internal tensorIndex (what: string) (arg: OpArg) =
    match arg with
    | TensorArg i -> i
    | _ -> bad $"`{what}` must be a tensor."

// ---- shape rules --------------------------------------------------------------------------------------------

let internal fmt (shape: Shape) = Shape.format shape

/// NumPy broadcasting of two static shapes; unknown dims broadcast against known ones.
let internal broadcast (a: Shape) (b: Shape) : Result<Shape, string> =
    let rank = max a.Length b.Length

    let pad (s: Shape) =
        List.replicate (rank - s.Length) (Some 1) @ s

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

let internal specOf (inputs: TensorSpec list) (operand: Operand) =
    match operand with
    | Input i -> Some inputs[i]
    | Constant(_, dims) ->
        None
        |> Option.orElse (
            Some
                {
                    Shape = Shape.ofInts dims
                    DType = Float32
                }
        )

let internal isConstant operand =
    match operand with
    | Constant _ -> true
    | Input _ -> false

let internal normalizeAxis (rank: int) (axis: int) =
    let a = if axis < 0 then axis + rank else axis

    if a < 0 || a >= rank then
        Error $"Axis {axis} is out of bounds for a tensor of rank {rank}."
    else
        Ok a

let internal sequenceResults (items: Result<'T, string> list) =
    List.foldBack
        (fun item acc ->
            match item, acc with
            | Ok x, Ok xs -> Ok(x :: xs)
            | Error e, _
            | _, Error e -> Error e)
        items
        (Ok [])

// ---- forward helpers ----------------------------------------------------------------------------------------

let internal materialize (like: torch.Tensor) (values: float[], dims: int list) =
    let flat: torch.Tensor = torch.tensor values
    let t = flat.reshape (dims |> List.map int64 |> Array.ofList)
    t.to_type like.dtype

let internal tensorOf (inputs: torch.Tensor list) (like: torch.Tensor) (operand: Operand) =
    match operand with
    | Input i -> inputs[i]
    | Constant(values, dims) -> materialize like (values, dims)

let internal elementwise
    (dtypeOf: DType -> DType)
    (x: Operand)
    (y: Operand)
    (f: torch.Tensor -> torch.Tensor -> torch.Tensor)
    =
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

let internal unary (x: Operand) (f: torch.Tensor -> torch.Tensor) =
    match x with
    | Constant _ -> bad "The first argument must be a tensor."
    | Input i ->
        {
            Output = fun inputs -> Ok inputs[i]
            Run = fun inputs -> f inputs[i]
        }

let internal trueDivType (dtype: DType) =
    match dtype with
    | Int32
    | Int64 -> Float64
    | Int8
    | Int16
    | UInt8
    | Bool -> Float32
    | d -> d

let internal floatOf (t: torch.Tensor) (dtype: DType) =
    if t.dtype = DType.toTorch dtype then
        t
    else
        t.to_type (DType.toTorch dtype)

// ---- the ops ------------------------------------------------------------------------------------------------

let internal binaryOps: (string list * (torch.Tensor -> torch.Tensor -> torch.Tensor)) list =
    [
        [ "__operators__.add"; "math.add" ], (fun a b -> torch.add (a, b))
        [ "math.subtract" ], (fun a b -> torch.sub (a, b))
        [ "math.multiply" ], (fun a b -> torch.mul (a, b))
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

// ---- comparison and boolean ops (issue 13) ----

/// Comparisons and binary logical ops: elementwise with broadcasting, with a boolean result.
let internal booleanBinaryOps: (string list * (torch.Tensor -> torch.Tensor -> torch.Tensor)) list =
    [
        [ "math.equal" ], (fun a b -> a.eq b)
        [ "math.not_equal" ], (fun a b -> a.ne b)
        [ "math.greater" ], (fun a b -> a.gt b)
        [ "math.greater_equal" ], (fun a b -> a.ge b)
        [ "math.less" ], (fun a b -> a.lt b)
        [ "math.less_equal" ], (fun a b -> a.le b)
        [ "math.logical_and" ],
        (fun a b -> a.to_type(torch.ScalarType.Bool).logical_and(b.to_type torch.ScalarType.Bool))
        [ "math.logical_or" ], (fun a b -> a.to_type(torch.ScalarType.Bool).logical_or(b.to_type torch.ScalarType.Bool))
        [ "math.logical_xor" ],
        (fun a b -> a.to_type(torch.ScalarType.Bool).logical_xor(b.to_type torch.ScalarType.Bool))
    ]

/// <c>tf.math.logical_not</c>: a boolean tensor negated.
let internal logicalNot (x: Operand) =
    let op = unary x (fun t -> t.to_type(torch.ScalarType.Bool).logical_not())

    { op with
        Output = fun inputs -> op.Output inputs |> Result.map (fun s -> { s with DType = Bool })
    }

/// <c>tf.where(condition, x, y)</c>: x where the condition holds, else y, all three broadcast together; the result has
/// the dtype of x (of y when x is a constant).
let internal where3 (condition: Operand) (x: Operand) (y: Operand) =
    if isConstant condition then
        bad "`condition` must be a tensor."

    let output (inputs: TensorSpec list) =
        let sc = (specOf inputs condition).Value
        let sx = (specOf inputs x).Value
        let sy = (specOf inputs y).Value

        let dtype =
            match x, y with
            | Input _, _ -> sx.DType
            | _, Input _ -> sy.DType
            | _ -> Float32

        broadcast sc.Shape sx.Shape
        |> Result.bind (fun shape -> broadcast shape sy.Shape)
        |> Result.map (fun shape -> { Shape = shape; DType = dtype })

    let run (inputs: torch.Tensor list) =
        let c = tensorOf inputs inputs.Head condition

        let like =
            match x, y with
            | Input i, _
            | _, Input i -> inputs[i]
            | _ -> torch.zeros ([| 1L |], dtype = torch.ScalarType.Float32)

        let a = tensorOf inputs like x
        let b = tensorOf inputs like y
        torch.where (c.to_type torch.ScalarType.Bool, a, b.to_type a.dtype)

    { Output = output; Run = run }

let internal gelu (approximate: bool) (x: torch.Tensor) =
    if approximate then
        let c = Math.Sqrt(2.0 / Math.PI)
        let cube = x.pow (sc 3.0)
        let inner = x.add(cube.mul (sc 0.044715)).mul(sc c)
        let tanh = inner.tanh ()
        x.mul(sc 0.5).mul(tanh.add (sc 1.0))
    else
        torch.nn.functional.gelu x

let internal unaryOps: (string list * (torch.Tensor -> torch.Tensor)) list =
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
        [ "math.softsign"; "nn.softsign" ], (fun x -> x.div (x.abs().add(sc 1.0)))
        [ "nn.relu" ], (fun x -> torch.nn.functional.relu x)
        [ "nn.relu6" ], (fun x -> x.clamp (sc 0.0, sc 6.0))
        [ "nn.elu" ], (fun x -> torch.nn.functional.elu (x, 1.0))
        [ "nn.selu" ], (fun x -> torch.nn.functional.selu x)
        [ "nn.silu"; "nn.swish" ], (fun x -> torch.mul (x, torch.sigmoid x))
    ]

/// The slice items of <c>__operators__.getitem</c>.
type internal SliceItem =
    | Index of int
    | Range of int option * int option * int option
    | NewAxis
    | Ellipsis

let internal sliceItems (node: JsonNode) =
    let item (n: JsonNode) =
        match n with
        | null -> NewAxis
        | :? JsonObject as o when asString (prop o "class_name") = Some "__ellipsis__" -> Ellipsis
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
let internal slicePositions (start: int option) (stop: int option) (step: int option) (n: int) =
    let step = defaultArg step 1
    let lower, upper = if step > 0 then 0, n else -1, n - 1

    let clampIndex (v: int) =
        if v < 0 then max (v + n) lower else min v upper

    let s =
        start
        |> Option.map clampIndex
        |> Option.defaultValue (if step > 0 then lower else upper)

    let e =
        stop
        |> Option.map clampIndex
        |> Option.defaultValue (if step > 0 then upper else lower)

    if step > 0 then
        [ s..step .. e - 1 ]
    else
        [ s..step .. e + 1 ]

/// Expands the Ellipsis (explicit or implicit at the end) so that the items consume exactly <paramref name="rank"/> axes.
let internal expandItems (rank: int) (items: SliceItem list) =
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

let internal getItem (x: int) (items: SliceItem list) =
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

            walk spec.Shape expanded
            |> Result.map (fun shape -> { spec with Shape = shape }))

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
                let n = current.size(int axis)

                if int64 i >= n || int64 i < -n then
                    raise (ArgumentException $"Index {i} is out of bounds for an axis of size {n}.")

                current <- current.select (axis, (if i < 0 then int64 i + n else int64 i))
            | Range(None, None, (None | Some 1)) -> axis <- axis + 1L
            | Range(s, e, st) ->
                let positions = slicePositions s e st (int (current.size(int axis)))

                let index =
                    torch.tensor (positions |> List.map int64 |> Array.ofList, dtype = torch.int64)

                current <- current.index_select (axis, index)
                axis <- axis + 1L
            | Ellipsis -> ()

        current

    { Output = output; Run = run }
