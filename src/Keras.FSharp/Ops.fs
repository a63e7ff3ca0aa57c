namespace Keras

open System
open TorchSharp

/// <summary>Tensor operations that TorchSharp does not guard: called with the wrong shapes, their native error
/// escapes TorchSharp's exception handling and aborts the process. These check the shapes first and raise an
/// <see cref="ArgumentException"/> instead (inside a layer call, a <see cref="KerasException"/> naming the layer).</summary>
/// <remarks>TorchSharp 0.107's <c>torch.matmul</c> (and the <c>Tensor.matmul</c> method) calls libtorch without its
/// usual <c>try</c>/<c>catch</c>, so a size mismatch in a custom layer or loss ends the process with
/// "terminate called after throwing an instance of 'c10::Error'". Use <see cref="Ops.matmul"/> in custom code.</remarks>
[<RequireQualifiedAccess>]
module Ops =
    let private format (shape: int64[]) =
        "("
        + (shape |> Array.map string |> String.concat ", ")
        + (if shape.Length = 1 then ",)" else ")")

    /// <summary>The shape of <c>torch.matmul(a, b)</c> for tensors of these shapes, or why they cannot be multiplied:
    /// vectors as rows or columns, matrices, and batches of matrices with broadcast batch dimensions.</summary>
    let matmulShape (a: int64[]) (b: int64[]) : Result<int64[], string> =
        let mismatch (i: int64) (j: int64) =
            Error
                $"matmul: shapes {format a} and {format b} cannot be multiplied (the contracted sizes are {i} and {j})."

        match a.Length, b.Length with
        | 0, _
        | _, 0 ->
            Error $"matmul: both arguments need at least one dimension. Received shapes {format a} and {format b}."
        | 1, 1 -> if a[0] = b[0] then Ok [||] else mismatch a[0] b[0]
        | 2, 1 -> if a[1] = b[0] then Ok [| a[0] |] else mismatch a[1] b[0]
        | 1, 2 -> if a[0] = b[0] then Ok [| b[1] |] else mismatch a[0] b[0]
        | _ ->
            // Batched: a vector operand is a one-row (or one-column) matrix whose added axis is dropped afterwards.
            let a2 = if a.Length = 1 then [| 1L; a[0] |] else a
            let b2 = if b.Length = 1 then [| b[0]; 1L |] else b
            let k1, k2 = a2[a2.Length - 1], b2[b2.Length - 2]

            if k1 <> k2 then
                mismatch k1 k2
            else
                let batchA, batchB = a2[.. a2.Length - 3], b2[.. b2.Length - 3]
                let rank = max batchA.Length batchB.Length

                let at (dims: int64[]) i =
                    if i < rank - dims.Length then
                        1L
                    else
                        dims[i - (rank - dims.Length)]

                let batch =
                    Array.init rank (fun i ->
                        match at batchA i, at batchB i with
                        | x, y when x = y -> Some x
                        | 1L, y -> Some y
                        | x, 1L -> Some x
                        | _ -> None)

                if batch |> Array.exists Option.isNone then
                    Error
                        $"matmul: the batch dimensions of shapes {format a} and {format b} cannot be broadcast together."
                else
                    let rows = if a.Length = 1 then [||] else [| a2[a2.Length - 2] |]
                    let cols = if b.Length = 1 then [||] else [| b2[b2.Length - 1] |]
                    Ok(Array.concat [ Array.map Option.get batch; rows; cols ])

    /// <summary><c>torch.matmul(a, b)</c> with its shapes checked first.</summary>
    /// The permutation that undoes <paramref name="order"/> (a permutation of the axes 0 .. n-1).
    let internal inversePermutation (order: int64[]) =
        let inverse = Array.zeroCreate<int64> order.Length
        order |> Array.iteri (fun i axis -> inverse[int axis] <- int64 i)
        inverse

    /// <exception cref="ArgumentException">When the shapes cannot be multiplied.</exception>
    let matmul (a: torch.Tensor) (b: torch.Tensor) : torch.Tensor =
        match matmulShape a.Sizes b.Sizes with
        | Ok _ -> torch.matmul (a, b)
        | Error message -> raise (ArgumentException message)
