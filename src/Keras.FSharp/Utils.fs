/// Keras's utilities: seeding and label encoding.
module Keras.Utils

open TorchSharp

/// <summary>Sets every random seed the library uses (Keras's <c>keras.utils.set_random_seed</c>): weight
/// initialization, dropout and shuffling all draw from TorchSharp's generator. Two runs with the same seed on CPU give
/// identical weights.</summary>
let setRandomSeed (seed: int) =
    Native.NativeLoader.ensureLoaded ()
    torch.manual_seed (int64 seed) |> ignore

/// <summary>One-hot encodes integer class labels (Keras's <c>to_categorical</c>) as float32 with
/// <paramref name="numClasses"/> columns (max label + 1 when not given).</summary>
/// <exception cref="KerasException">When a label is negative or not below the number of classes.</exception>
let toCategorical (labels: torch.Tensor) (numClasses: int option) =
    Native.NativeLoader.ensureLoaded ()
    let y = labels.to_type torch.ScalarType.Int64

    let y =
        if y.dim () > 1L && y.size(-1) = 1L then
            y.squeeze (-1L)
        else
            y

    let maxLabel = if y.numel () = 0L then -1L else y.max().item<int64>()
    let minLabel = if y.numel () = 0L then 0L else y.min().item<int64>()
    let classes = numClasses |> Option.map int64 |> Option.defaultValue (maxLabel + 1L)

    if minLabel < 0L || maxLabel >= classes then
        Errors.raiseKeras (
            InvalidArgument(
                "to_categorical",
                "num_classes",
                $"Labels must be in [0, {classes - 1L}].",
                $"labels from {minLabel} to {maxLabel}"
            )
        )

    torch.nn.functional.one_hot(y, classes).to_type torch.ScalarType.Float32
