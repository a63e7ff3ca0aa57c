/// <summary>libtorch's convolutions, called only in forms whose results are right on every CPU.</summary>
/// <remarks>
/// <para>libtorch 2.10 runs float32 convolutions on oneDNN 3.7, whose JIT kernels (AVX2 and AVX-512 alike) give wrong
/// values on some CPUs (seen on AMD EPYC with AVX-512, errors of 0.2 to 40, different from run to run) in these
/// cases, found by comparing every combination of rank, layout, groups, channel counts, strides, dilation and padding
/// with libtorch's float64 kernels (which oneDNN does not run) and with plain loops:</para>
/// <list type="bullet">
/// <item>input gradients (oneDNN's backward-data kernel) whenever the output channels per group are not a multiple
/// of 16, except for the depthwise kernel (one input and one output channel per group, rank 1 or 2, undilated or
/// contiguous input); transposed convolutions run the same kernel forward, so their input channels count;</item>
/// <item>forward values when the input channels per group are more than 8 and not a multiple of 16 (more than 16 on
/// AVX-512 CPUs, more than 8 on AVX2 ones); a transposed convolution's input gradient reads its filters so;</item>
/// <item>forward values and input gradients of grouped convolutions with one input channel per group and several
/// outputs per group on a channels_last view, and of any such convolution of rank 3 or with dilation.</item>
/// </list>
/// <para>Each case is routed to a form that oneDNN computes right, at the lowest cost found: zero channels up to a
/// multiple of 16 (the added filters are dropped from the output by a view), the input's channels repeated once per
/// output of their group (which turns a depthwise multiplier into the fast depthwise kernel), or a contiguous
/// channels-first input. Everything else, including the common case of channel counts that are multiples of 16, goes
/// to libtorch unchanged. The convolution tests check every layer against plain loops in both data formats.</para>
/// </remarks>
module Keras.TorchConvolution

open System
open TorchSharp

/// The channel block of oneDNN's AVX-512 kernels (twice AVX2's): channel counts that are multiples of it have no tail.
let private block = 16L

let private roundUp (n: int64) = (n + block - 1L) / block * block

let private product (values: int64 seq) = Seq.fold (*) 1L values

/// Zero channels added to axis 1 of a channels-first tensor within each of the groups: (N, G·c, ...) → (N, G·c', ...).
let private padChannelsPerGroup (groups: int64) (target: int64) (x: torch.Tensor) =
    let shape = x.Sizes
    let perGroup = shape[1] / groups
    let spatial = shape[2..]
    let grouped = x.reshape (Array.concat [ [| shape[0]; groups; perGroup |]; spatial ])

    let zeros =
        torch.zeros (Array.concat [ [| shape[0]; groups; target - perGroup |]; spatial ], dtype = x.dtype)

    torch.cat([| grouped; zeros |], 2L).reshape(Array.concat [ [| shape[0]; groups * target |]; spatial ])

/// Zero rows added to a weight's axis (0: output channels, 1: input channels per group) within each group.
let private padWeight (axis: int) (groups: int64) (target: int64) (w: torch.Tensor) =
    let shape = w.Sizes

    if axis = 1 then
        let zeros =
            torch.zeros (Array.concat [ [| shape[0]; target - shape[1] |]; shape[2..] ], dtype = w.dtype)

        torch.cat ([| w; zeros |], 1L)
    else
        let perGroup = shape[0] / groups
        let rest = shape[1..]
        let grouped = w.reshape (Array.append [| groups; perGroup |] rest)

        let zeros =
            torch.zeros (Array.append [| groups; target - perGroup |] rest, dtype = w.dtype)

        torch.cat([| grouped; zeros |], 1L).reshape(Array.append [| groups * target |] rest)

/// The first <paramref name="perGroup"/> channels of each group of a (N, G·padded, ...) result.
let private takeChannelsPerGroup (groups: int64) (perGroup: int64) (y: torch.Tensor) =
    if groups = 1L then
        y.narrow (1L, 0L, perGroup)
    else
        let shape = y.Sizes
        let spatial = shape[2..]

        y
            .reshape(Array.concat [ [| shape[0]; groups; shape[1] / groups |]; spatial ])
            .narrow(2L, 0L, perGroup)
            .reshape(Array.concat [ [| shape[0]; groups * perGroup |]; spatial ])

/// A channels-first view's channels repeated in place, each <paramref name="times"/> times, keeping its memory
/// channels_last: channel c·times + j of the result is channel c of the input.
let private repeatChannels (rank: int) (times: int64) (x: torch.Tensor) =
    let toLast = Array.concat [ [| 0L |]; [| 2L .. int64 rank + 1L |]; [| 1L |] ]
    let toFirst = Array.concat [ [| 0L; int64 rank + 1L |]; [| 1L .. int64 rank |] ]
    x.permute(toLast).repeat_interleave(times, int64 rank + 1L).permute toFirst

let private rawConv
    (rank: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    (strides: int64[])
    (padding: int64[])
    (dilation: int64[])
    (groups: int64)
    =
    match rank with
    | 1 ->
        torch.nn.functional.conv1d (
            x,
            w,
            bias,
            stride = Nullable strides[0],
            padding = Nullable padding[0],
            dilation = Nullable dilation[0],
            groups = groups
        )
    | 2 ->
        torch.nn.functional.conv2d (
            x,
            w,
            bias,
            strides = strides,
            padding = padding,
            dilation = dilation,
            groups = groups
        )
    | _ ->
        torch.nn.functional.conv3d (
            x,
            w,
            bias,
            strides = strides,
            padding = padding,
            dilation = dilation,
            groups = groups
        )

let private addBias (rank: int) (bias: torch.Tensor) (y: torch.Tensor) =
    if isNull bias then
        y
    else
        y.add (bias.reshape (Array.append [| bias.size(0) |] (Array.create rank 1L)))

/// <summary>A convolution as <see cref="conv"/> computes it, with whether the result is a tensor of its own (not a view
/// of a larger one), which an in-place activation may overwrite without autograd rewriting a base's history.</summary>
let convOwned
    (rank: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    (strides: int64[])
    (padding: int64[])
    (dilation: int64[])
    (groups: int64)
    =
    let shape = w.Sizes
    let inPerGroup = shape[1]
    let outPerGroup = shape[0] / groups
    let taps = product shape[2..]
    let undilated = dilation |> Array.forall ((=) 1L)

    // One input channel per group on a channels_last view: only the undilated depthwise kernel of rank 1 or 2 is
    // right, so a depthwise multiplier becomes repeated input channels; other cases read a contiguous copy.
    let x, w, groups, outPerGroup =
        if groups > 1L && inPerGroup = 1L && not (x.is_contiguous ()) then
            if rank <= 2 && undilated then
                if outPerGroup > 1L && taps > 1L then
                    repeatChannels rank outPerGroup x, w, groups * outPerGroup, 1L
                else
                    x, w, groups, outPerGroup
            else
                x.contiguous (), w, groups, outPerGroup
        else
            x, w, groups, outPerGroup

    let depthwiseKernel =
        groups > 1L
        && inPerGroup = 1L
        && outPerGroup = 1L
        && rank <= 2
        && (undilated || x.is_contiguous ())

    // Forward values: input channels per group beyond AVX2's block of 8 and not a whole number of blocks.
    let x, w =
        if inPerGroup > block / 2L && inPerGroup % block <> 0L then
            let target = roundUp inPerGroup
            padChannelsPerGroup groups target x, padWeight 1 groups target w
        else
            x, w

    // Input gradients: output channels per group not a whole number of blocks (only when a gradient is wanted).
    if x.requires_grad && outPerGroup % block <> 0L && not depthwiseKernel then
        let target = roundUp outPerGroup

        rawConv rank x (padWeight 0 groups target w) null strides padding dilation groups
        |> takeChannelsPerGroup groups outPerGroup
        |> addBias rank bias,
        not (isNull bias)
    else
        rawConv rank x w bias strides padding dilation groups, true

/// <summary>A convolution as <c>torch.nn.functional.conv1d/2d/3d</c> computes it (input (N, C, ...spatial), maybe a
/// channels_last view; weight (out, C / groups, ...kernel)), with right values and gradients on every CPU.</summary>
let conv
    (rank: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    (strides: int64[])
    (padding: int64[])
    (dilation: int64[])
    (groups: int64)
    =
    convOwned rank x w bias strides padding dilation groups |> fst

let private rawConvTranspose
    (rank: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    (strides: int64[])
    (padding: int64[])
    (outputPadding: int64[])
    (dilation: int64[])
    =
    match rank with
    | 1 ->
        torch.nn.functional.conv_transpose1d (
            x,
            w,
            bias,
            stride = Nullable strides[0],
            padding = Nullable padding[0],
            output_padding = Nullable outputPadding[0],
            dilation = Nullable dilation[0]
        )
    | 2 ->
        torch.nn.functional.conv_transpose2d (
            x,
            w,
            bias,
            strides = strides,
            padding = padding,
            output_padding = outputPadding,
            dilation = dilation
        )
    | _ ->
        torch.nn.functional.conv_transpose3d (
            x,
            w,
            bias,
            strides = strides,
            padding = padding,
            output_padding = outputPadding,
            dilation = dilation
        )

/// <summary>A transposed convolution as <c>torch.nn.functional.conv_transpose1d/2d/3d</c> computes it (input
/// (N, C, ...spatial); weight (C, out, ...kernel)), with right values and gradients on every CPU.</summary>
/// <remarks>Its forward pass is oneDNN's backward-data kernel, where the input's channels play the part of output
/// channels; its input gradient is a forward convolution reading the output's channels.</remarks>
let convTranspose
    (rank: int)
    (x: torch.Tensor)
    (w: torch.Tensor)
    (bias: torch.Tensor)
    (strides: int64[])
    (padding: int64[])
    (outputPadding: int64[])
    (dilation: int64[])
    =
    let channels = w.size(0)
    let filters = w.size(1)

    let x, w =
        if channels % block <> 0L then
            let target = roundUp channels
            padChannelsPerGroup 1L target x, padWeight 0 1L target w
        else
            x, w

    if x.requires_grad && filters > block / 2L && filters % block <> 0L then
        let target = roundUp filters

        rawConvTranspose rank x (padWeight 1 1L target w) null strides padding outputPadding dilation
        |> takeChannelsPerGroup 1L filters
        |> addBias rank bias
    else
        rawConvTranspose rank x w bias strides padding outputPadding dilation
