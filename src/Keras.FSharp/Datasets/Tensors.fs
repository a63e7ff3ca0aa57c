/// Turning dataset arrays into TorchSharp tensors, as Keras users turn NumPy arrays into model inputs.
module Keras.Datasets.Tensors

open System
open TorchSharp

/// <summary>Images (count × height × width bytes) as a uint8 tensor of the same shape.</summary>
let ofImages (images: byte[,,]) : torch.Tensor =
    Keras.Native.NativeLoader.ensureLoaded ()
    let flat = Array.zeroCreate<byte> images.Length
    // A .NET multi-dimensional array is stored row-major, like the tensor: one block copy keeps the order.
    Buffer.BlockCopy(images, 0, flat, 0, images.Length)

    torch
        .tensor(flat, dtype = torch.ScalarType.Byte)
        .reshape(int64 (Array3D.length1 images), int64 (Array3D.length2 images), int64 (Array3D.length3 images))

/// <summary>Labels as an int64 tensor, the type losses take class indices in.</summary>
let ofLabels (labels: byte[]) : torch.Tensor =
    Keras.Native.NativeLoader.ensureLoaded ()
    torch.tensor (labels |> Array.map int64)

/// <summary>Images flattened to (count, height·width) float32 values scaled to [0, 1], as the guide prepares MNIST:
/// <c>x_train.reshape(60000, 784).astype("float32") / 255</c>.</summary>
let ofImagesFlatScaled (images: byte[,,]) : torch.Tensor =
    use raw = ofImages images
    raw.reshape(raw.shape[0], -1L).to_type(torch.ScalarType.Float32).div_(torch.tensor 255.f)
