namespace Keras

open TorchSharp

/// Reading a tensor's sizes without TorchSharp's <c>shape</c> property.
[<AutoOpen>]
module internal TensorSizes =
    type torch.Tensor with
        /// <summary>The size of every axis, read one axis at a time. TorchSharp's <c>shape</c> (and <c>size()</c>)
        /// marshals the sizes through a callback that allocates a pinned array: about 0.65 µs a call, as much as a
        /// small tensor operation, where <c>dim()</c> and <c>size(i)</c> are plain calls of about 0.01 µs. Layers
        /// read shapes several times per call, so at batch 1 the property alone took a quarter of <c>predict</c>.</summary>
        member t.Sizes: int64[] =
            let rank = int (t.dim ())
            let sizes = Array.zeroCreate<int64> rank

            for i in 0 .. rank - 1 do
                sizes[i] <- t.size i

            sizes
