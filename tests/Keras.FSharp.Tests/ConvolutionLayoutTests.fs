/// Convolution kernels kept in the memory layout libtorch computes with: Keras's shape and values stay the public
/// contract (get_weights, set_weights, weights files), training gives the same update as a Keras-contiguous kernel.
module ConvolutionLayoutTests

open System.IO
open Expecto
open TorchSharp
open Keras
open Keras.Operators
open TestData

let private kernelOf (model: Model) =
    (Model.trainableWeights model |> List.head).Value

/// A model of one convolution, trained (SGD, MSE) for one full-batch step.
let private oneConv (layer: Layer) (inputShape: int list) =
    let inputs = Keras.Input(shape = inputShape)
    Keras.Model(inputs, inputs --> layer)

/// The convolution of a channels_last batch with a Keras-layout kernel, by libtorch on contiguous copies.
let private reference2d (x: torch.Tensor) (kernel: torch.Tensor) (bias: torch.Tensor) (padding: int64) =
    use xFirst = x.permute(0L, 3L, 1L, 2L).contiguous ()
    use w = kernel.permute(3L, 2L, 0L, 1L).contiguous ()
    use y = torch.nn.functional.conv2d (xFirst, w, bias, padding = [| padding; padding |])
    y.permute(0L, 2L, 3L, 1L).contiguous ()

/// Values and gradients (input, kernel, bias) of a ReLU convolution layer against libtorch's conv2d then a separate
/// ReLU on contiguous channels-first copies.
let private checkReluConv (filters: int) (useBias: bool) (channelsFirst: bool) =
    torch.manual_seed 11L |> ignore
    let format = if channelsFirst then "channels_first" else "channels_last"

    let layer =
        Layers.Conv2D(filters, 3, padding = "same", activation = "relu", useBias = useBias, dataFormat = format)

    let shape = if channelsFirst then [| 2L; 4L; 6L; 6L |] else [| 2L; 6L; 6L; 4L |]
    use x0 = torch.randn shape
    Layer.callEager layer false [ x0 ] |> ignore
    let weights = Layer.getWeights layer
    use x = x0.clone().requires_grad_ true
    let y = Layer.callEager layer true [ x ] |> List.exactlyOne
    use r = torch.randn (y.Sizes)
    use r64 = r.to_type torch.ScalarType.Float64
    use loss = y.mul(r).sum ()
    let parameters = Layer.weights layer |> List.map (fun w -> w.Value :> torch.Tensor)
    let grads = torch.autograd.grad ([| loss |], Array.ofList (x :: parameters))

    // The reference in float64, which libtorch computes without oneDNN (whose float32 input gradients are wrong on
    // some CPUs for 5 output channels: see TorchConvolution).
    let double (t: torch.Tensor) =
        t.to_type(torch.ScalarType.Float64).requires_grad_ true

    use xr = double x0
    use kr = double weights[0]
    let br = if useBias then double weights[1] else null
    use xFirst = (if channelsFirst then xr else xr.permute (0L, 3L, 1L, 2L)).contiguous ()
    use w = kr.permute(3L, 2L, 0L, 1L).contiguous ()
    use z = torch.nn.functional.conv2d (xFirst, w, br, padding = [| 1L; 1L |])
    use activated = torch.nn.functional.relu z
    use expected = if channelsFirst then activated.alias () else activated.permute (0L, 2L, 3L, 1L)
    use expectedLoss = expected.mul(r64).sum ()
    let refInputs: torch.Tensor list = [ xr; kr ] @ (if useBias then [ br ] else [])
    let expectedGrads = torch.autograd.grad ([| expectedLoss |], Array.ofList refInputs)
    let what = $"{filters} filters, bias {useBias}, {format}"
    closeTo 1e-4f (values expected) (values y) $"{what}: values"
    closeTo 1e-4f (values expectedGrads[0]) (values grads[0]) $"{what}: d/dx"
    closeTo 1e-3f (values expectedGrads[1]) (values grads[1]) $"{what}: d/dkernel"

    if useBias then
        closeTo 1e-3f (values expectedGrads[2]) (values grads[2]) $"{what}: d/dbias"

[<Tests>]
let tests =
    testList
        "convolution kernel layout"
        [
            test "a channels_last Conv2D keeps its kernel as libtorch's channels_last weight, in Keras's shape" {
                torch.manual_seed 3L |> ignore
                let model = oneConv (Layers.Conv2D(16, 3)) [ 6; 6; 4 ]
                let before = model.GetWeights() |> List.map values
                use x = torch.randn (2L, 6L, 6L, 4L)
                model.Predict x |> ignore
                let kernel = kernelOf model
                Expect.equal kernel.Sizes [| 3L; 3L; 4L; 16L |] "Keras's kernel shape"
                // Memory order (filters, kh, kw, in): torch's channels_last (out, in, kh, kw) weight.
                Expect.equal (kernel.stride ()) [| 12L; 4L; 1L; 36L |] "strides of (filters, kh, kw, in) memory"
                let after = model.GetWeights()
                Expect.isTrue (after |> List.forall _.is_contiguous()) "get_weights gives contiguous Keras layouts"
                Expect.equal (after |> List.map values) before "the same values"
            }

            test "a channels_first Conv2D and a Conv1D keep contiguous torch kernels" {
                let first = oneConv (Layers.Conv2D(8, 3, dataFormat = "channels_first")) [ 4; 6; 6 ]
                use x = torch.randn (2L, 4L, 6L, 6L)
                first.Predict x |> ignore
                // Keras (kh, kw, in, out) with memory (out, in, kh, kw).
                Expect.equal ((kernelOf first).stride ()) [| 3L; 1L; 9L; 36L |] "channels_first kernel strides"
                let temporal = oneConv (Layers.Conv1D(8, 3)) [ 10; 4 ]
                use x1 = torch.randn (2L, 10L, 4L)
                temporal.Predict x1 |> ignore
                // Keras (k, in, out) with memory (out, in, k).
                Expect.equal ((kernelOf temporal).stride ()) [| 1L; 3L; 12L |] "Conv1D kernel strides"
            }

            test "one SGD step updates the kernel as on a Keras-contiguous kernel (libtorch reference)" {
                torch.manual_seed 5L |> ignore
                let model = oneConv (Layers.Conv2D(16, 3, padding = "same")) [ 6; 6; 4 ]
                use x = torch.randn (3L, 6L, 6L, 4L)
                use target = torch.randn (3L, 6L, 6L, 16L)
                let compiled = model.Compile(optimizer = Optimizers.SGD(learningRate = ConstantRate 0.1), loss = MeanSquaredError)
                let w0 = model.GetWeights()
                use kernel = w0[0].clone().requires_grad_ true
                use bias = w0[1].clone().requires_grad_ true
                use y = reference2d x kernel bias 1L
                use loss = (y - target).square().mean ()
                let grads = torch.autograd.grad ([| loss |], [| kernel; bias |])
                use expectedKernel = w0[0] - grads[0] * 0.1
                use expectedBias = w0[1] - grads[1] * 0.1
                compiled.Fit(x, target, batchSize = 3, epochs = 1, verbose = 0) |> ignore
                let w1 = model.GetWeights()
                closeTo 1e-5f (values expectedKernel) (values w1[0]) "kernel after one step"
                closeTo 1e-5f (values expectedBias) (values w1[1]) "bias after one step"
                Expect.equal ((kernelOf model).stride ()) [| 12L; 4L; 1L; 36L |] "the kernel stays in libtorch's layout"
                use next = model.Predict x
                use expected = reference2d x w1[0] w1[1] 1L
                closeTo 1e-4f (values expected) (values next) "predictions with the updated kernel"
            }

            test "a ReLU convolution (ReLU in place on the convolution's own result) has conv-then-ReLU values and gradients" {
                // Filters a multiple of 16 with a bias: the result is libtorch's own tensor, ReLU runs in place.
                checkReluConv 16 true false
                checkReluConv 16 false false
                checkReluConv 16 true true
                // 5 filters, no bias, an input gradient: the result is a view of a padded convolution (no in-place).
                checkReluConv 5 false false
                checkReluConv 5 true false
            }

            test "set_weights and a weights file round trip keep Keras's layout" {
                torch.manual_seed 7L |> ignore
                let model = oneConv (Layers.Conv2D(16, 3)) [ 6; 6; 4 ]
                use x = torch.randn (2L, 6L, 6L, 4L)
                model.Predict x |> ignore
                // A contiguous Keras-layout kernel whose entries are their own flat index.
                use kernel = torch.arange((3L * 3L * 4L * 16L).ToScalar(), dtype = torch.float32).reshape (3L, 3L, 4L, 16L) / 1000.0f
                use bias = torch.linspace (-1.0, 1.0, 16L)
                model.SetWeights [ kernel; bias ]
                Expect.equal (values (model.GetWeights()[0])) (values kernel) "get_weights after set_weights"
                use expected = reference2d x kernel bias 0L
                use y = model.Predict x
                closeTo 1e-4f (values expected) (values y) "predictions after set_weights"
                let path = Path.Combine(Path.GetTempPath(), $"layout-{System.Guid.NewGuid()}.weights.h5")

                try
                    model.SaveWeights path
                    let copy = oneConv (Layers.Conv2D(16, 3)) [ 6; 6; 4 ]
                    copy.LoadWeights path
                    Expect.equal (values (copy.GetWeights()[0])) (values kernel) "kernel read back from the file"
                    use z = copy.Predict x
                    closeTo 1e-4f (values expected) (values z) "predictions of the loaded copy"
                finally
                    File.Delete path
            }
        ]
