/// Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate.
module Keras.MergingLayers

open TorchSharp
open Keras

let private shapesText (inputs: TensorSpec list) =
    "input_shape=["
    + (inputs |> List.map (fun x -> Shape.format x.Shape) |> String.concat ", ")
    + "]"

/// Result dtype of merging: the widest floating type, float32 when none is floating.
let private mergedDType (inputs: TensorSpec list) =
    inputs
    |> List.map _.DType
    |> List.tryFind DType.isFloating
    |> Option.defaultValue Float32

/// <summary>The output shape of an elementwise merge with Keras's broadcasting rule: shapes align on the right;
/// sizes must be equal, 1, or unknown.</summary>
let elementwiseShape (a: Shape) (b: Shape) : Result<Shape, string> =
    let longer, shorter = if a.Length >= b.Length then a, b else b, a
    let prefix = longer |> List.take (longer.Length - shorter.Length)
    let aligned = List.zip (longer |> List.skip prefix.Length) shorter

    let dims =
        aligned
        |> List.map (fun (i, j) ->
            match i, j with
            | None, _
            | _, None -> Ok None
            | Some 1, _ -> Ok j
            | _, Some 1 -> Ok i
            | Some x, Some y when x = y -> Ok i
            | _ -> Error $"Inputs have incompatible shapes. Received shapes {Shape.format a} and {Shape.format b}")

    match
        dims
        |> List.tryPick (function
            | Error e -> Some e
            | Ok _ -> None)
    with
    | Some e -> Error e
    | None ->
        Ok(
            prefix
            @ (dims
               |> List.map (function
                   | Ok d -> d
                   | Error _ -> None))
        )

let private elementwiseOutput className (arity: int option) layerName (inputs: TensorSpec list) =
    let fail reason =
        Error(InvalidInputs(layerName, className, reason, shapesText inputs))

    match arity with
    | Some n when inputs.Length <> n -> fail $"A `{className}` layer should be called on exactly {n} inputs."
    | _ when inputs.Length < 2 -> fail $"A `{className}` layer should be called on a list of at least 2 inputs."
    | _ ->
        // Keras merges the batch axis separately: equal known sizes, or unknown.
        let batches =
            inputs
            |> List.choose (fun x -> List.tryHead x.Shape |> Option.flatten)
            |> List.distinct

        if batches.Length > 1 then
            fail "Cannot merge tensors with different batch sizes."
        else
            let batch =
                if
                    batches.Length = 1
                    && inputs |> List.forall (fun x -> (List.tryHead x.Shape |> Option.flatten).IsSome)
                then
                    Some batches.Head
                else
                    None

            let samples = inputs |> List.map (fun x -> List.tail x.Shape)

            samples.Tail
            |> List.fold (fun acc s -> acc |> Result.bind (fun a -> elementwiseShape a s)) (Ok samples.Head)
            |> Result.mapError (fun reason -> InvalidInputs(layerName, className, reason, shapesText inputs))
            |> Result.map (fun s ->
                [
                    {
                        Shape = batch :: s
                        DType = mergedDType inputs
                    }
                ])

let private elementwise className arity (combine: torch.Tensor list -> torch.Tensor) (name: string option) =
    Layer.create
        name
        { Layer.simpleSpec className (fun _ inputs -> [ combine inputs ]) with
            ComputeOutput = elementwiseOutput className arity
        }

let private pairwise (op: torch.Tensor -> torch.Tensor -> torch.Tensor) (inputs: torch.Tensor list) =
    inputs.Tail |> List.fold op inputs.Head

/// Adds its inputs elementwise.
let add name =
    elementwise "Add" None (pairwise (fun a b -> a.add b)) name

/// Subtracts the second input from the first; takes exactly two inputs.
let subtract name =
    elementwise "Subtract" (Some 2) (pairwise (fun a b -> a.sub b)) name

/// Multiplies its inputs elementwise.
let multiply name =
    elementwise "Multiply" None (pairwise (fun a b -> a.mul b)) name

/// The elementwise mean of its inputs.
let average name =
    elementwise
        "Average"
        None
        (fun inputs -> (pairwise (fun a b -> a.add b) inputs).div(torch.tensor (float32 inputs.Length)))
        name

/// The elementwise maximum of its inputs.
let maximum name =
    elementwise "Maximum" None (pairwise (fun a b -> torch.maximum (a, b))) name

/// The elementwise minimum of its inputs.
let minimum name =
    elementwise "Minimum" None (pairwise (fun a b -> torch.minimum (a, b))) name

/// <summary>The output shape of <see cref="concatenate"/>: inputs agree on every axis but <paramref name="axis"/>,
/// whose sizes add up (unknown when one is unknown).</summary>
let concatenateShape (axis: int) (shapes: Shape list) : Result<Shape, string> =
    let rank = shapes.Head.Length
    let a = Shape.normalizeAxis rank axis

    if shapes |> List.exists (fun s -> s.Length <> rank) || a < 0 || a >= rank then
        Error "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis."
    else
        let merged =
            [
                for i in 0 .. rank - 1 ->
                    let dims = shapes |> List.map (fun s -> s[i])

                    if i = a then
                        Ok(dims |> List.fold (fun acc d -> Option.map2 (+) acc d) (Some 0))
                    else
                        let known = dims |> List.choose id |> List.distinct

                        if known.Length > 1 then
                            Error
                                "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis."
                        else
                            Ok(List.tryHead known)
            ]

        match
            merged
            |> List.tryPick (function
                | Error e -> Some e
                | Ok _ -> None)
        with
        | Some e -> Error e
        | None ->
            Ok(
                merged
                |> List.map (function
                    | Ok d -> d
                    | Error _ -> None)
            )

/// <summary>Concatenates its inputs along <paramref name="axis"/> (Keras's default is -1).</summary>
let concatenate (axis: int) (name: string option) : Layer =
    let computeOutput layerName (inputs: TensorSpec list) =
        if inputs.Length < 2 then
            Error(
                InvalidInputs(
                    layerName,
                    "Concatenate",
                    "A `Concatenate` layer should be called on a list of at least 2 inputs.",
                    shapesText inputs
                )
            )
        else
            concatenateShape axis (inputs |> List.map _.Shape)
            |> Result.mapError (fun reason -> InvalidInputs(layerName, "Concatenate", reason, shapesText inputs))
            |> Result.map (fun s ->
                [
                    {
                        Shape = s
                        DType = mergedDType inputs
                    }
                ])

    let call _ (inputs: torch.Tensor list) =
        [ torch.cat (Array.ofList inputs, int64 axis) ]

    Layer.create
        name
        { Layer.simpleSpec "Concatenate" call with
            Config = fun () -> Config.ofList [ "axis", Config.value axis ]
            ComputeOutput = computeOutput
        }
