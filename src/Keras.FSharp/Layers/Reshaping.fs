/// Reshaping layers: Flatten, Reshape.
module Keras.ReshapingLayers

open TorchSharp
open Keras

/// Flattens every axis after the batch axis into one: (batch, d1, d2, ...) becomes (batch, d1·d2·...).
let flatten (name: string option) : Layer =
    let computeOutput _ (inputs: TensorSpec list) =
        Ok(inputs |> List.map (fun x -> { x with Shape = [ List.head x.Shape; Shape.sampleSize x.Shape ] }))

    let call _ (inputs: torch.Tensor list) =
        inputs
        |> List.map (fun x -> if x.dim () = 1L then x.unsqueeze 1L else x.flatten 1L)

    Layer.create
        name
        { Layer.simpleSpec "Flatten" call with
            Config = fun () -> Config.ofList [ "data_format", Config.value "channels_last" ]
            InputSpecs = [ { InputSpec.any with MinNDim = Some 1 } ]
            ComputeOutput = computeOutput }

/// <summary>The output shape of <see cref="reshape"/>: the target with its single -1 resolved when the input's
/// sample size is known.</summary>
let reshapeOutput (layerName: string) (target: int list) (input: Shape) : Result<Shape, KerasError> =
    let unknowns = target |> List.filter (fun d -> d = -1) |> List.length
    let known = target |> List.filter (fun d -> d <> -1) |> List.fold (*) 1
    let received = $"input_shape={Shape.format input}, target_shape={Shape.format (Shape.ofInts target)}"
    let fail reason = Error(InvalidInputs(layerName, "Reshape", reason, received))

    if unknowns > 1 then
        fail "There must be at most one unknown dimension (-1) in `target_shape`."
    elif target |> List.exists (fun d -> d < -1 || d = 0) then
        fail "Every dimension of `target_shape` must be positive or -1."
    else
        match Shape.sampleSize input with
        | None -> Ok(List.head input :: (target |> List.map (fun d -> if d = -1 then None else Some d)))
        | Some size when unknowns = 0 ->
            if size = known then Ok(List.head input :: Shape.ofInts target)
            else fail "The total size of the tensor must be unchanged."
        | Some size ->
            if size % known = 0 then
                Ok(List.head input :: (target |> List.map (fun d -> Some(if d = -1 then size / known else d))))
            else
                fail "The total size of the tensor must be unchanged."

/// <summary>Reshapes each sample to <paramref name="targetShape"/> (batch axis omitted; one entry may be -1).</summary>
let reshape (targetShape: int list) (name: string option) : Layer =
    let computeOutput layerName (inputs: TensorSpec list) =
        inputs
        |> List.map (fun x -> reshapeOutput layerName targetShape x.Shape |> Result.map (fun s -> { x with Shape = s }))
        |> List.fold (fun acc r -> acc |> Result.bind (fun xs -> r |> Result.map (fun x -> xs @ [ x ]))) (Ok [])

    let dims = -1L :: (targetShape |> List.map int64) |> Array.ofList

    let call _ (inputs: torch.Tensor list) =
        inputs
        |> List.map (fun x ->
            // A -1 in the target must be resolved here: torch allows only one -1, and the batch takes it.
            let sample = x.shape |> Array.skip 1 |> Array.fold (*) 1L
            let known = targetShape |> List.filter (fun d -> d <> -1) |> List.fold (fun a d -> a * int64 d) 1L
            let resolved = dims |> Array.mapi (fun i d -> if i > 0 && d = -1L then sample / known else d)
            x.reshape resolved)

    Layer.create
        name
        { Layer.simpleSpec "Reshape" call with
            Config = fun () -> Config.ofList [ "target_shape", Config.ints targetShape ]
            ComputeOutput = computeOutput }
