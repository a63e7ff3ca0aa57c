// Checks Keras.TorchConvolution on this machine's CPU: every combination of rank, data format, groups, channel
// counts, kernel, stride, dilation and padding, in float32 (values and gradients of input, kernel and bias) against
// libtorch's float64 kernels, which oneDNN does not run. Prints each difference above float32 rounding and a count.
// Build first (dotnet fsi build.fsx build), then: dotnet fsi tests/scripts/convolution-sweep.fsx [raw] [big]
//   raw: call libtorch directly instead, to see which combinations this CPU gets wrong without the routing.
//   big: larger channel counts and maps (ResNet-like sizes).
// With ONEDNN_MAX_CPU_ISA=AVX2 in the environment, oneDNN's AVX2 kernels are checked on an AVX-512 machine.
#r "nuget: TorchSharp-cpu, 0.107.0"
#r "nuget: FSharp.SystemTextJson, 0.16.6"
#r "nuget: Spectre.Console, 0.57.2"
#r "nuget: PureHDF, 2.2.0"
#r "../../src/Keras.FSharp/bin/Release/net10.0/Keras.FSharp.dll"

open TorchSharp

Keras.Native.NativeLoader.ensureLoaded ()
let args = fsi.CommandLineArgs |> Array.skip 1
let raw, big = Array.contains "raw" args, Array.contains "big" args
let f64 = torch.ScalarType.Float64

let rawConv rank (x: torch.Tensor) w b (s: int64[]) (p: int64[]) (d: int64[]) (groups: int64) =
    match rank with
    | 1 -> torch.nn.functional.conv1d (x, w, b, stride = s[0], padding = p[0], dilation = d[0], groups = groups)
    | 2 -> torch.nn.functional.conv2d (x, w, b, strides = s, padding = p, dilation = d, groups = groups)
    | _ -> torch.nn.functional.conv3d (x, w, b, strides = s, padding = p, dilation = d, groups = groups)

let rawTranspose rank (x: torch.Tensor) w b (s: int64[]) (p: int64[]) (op: int64[]) (d: int64[]) =
    match rank with
    | 1 -> torch.nn.functional.conv_transpose1d (x, w, b, stride = s[0], padding = p[0], output_padding = op[0], dilation = d[0])
    | 2 -> torch.nn.functional.conv_transpose2d (x, w, b, strides = s, padding = p, output_padding = op, dilation = d)
    | _ -> torch.nn.functional.conv_transpose3d (x, w, b, strides = s, padding = p, output_padding = op, dilation = d)

let mutable bad, total = 0, 0

/// Runs one case in float32 through `f32` and in float64 through `f64ref`; compares output and the three gradients.
let check name rank (xShapeLast: int64[]) (wShape: int64[]) (bLen: int64) channelsLast f32 f64ref =
    total <- total + 1
    let xLast, w0, b0 = torch.randn xShapeLast, torch.randn wShape, torch.randn [| bLen |]
    let toFirst (t: torch.Tensor) = t.permute (Array.concat [ [| 0L; int64 rank + 1L |]; [| 1L .. int64 rank |] ])

    let run (dt: torch.ScalarType) conv =
        let xl = xLast.to_type(dt).detach().clone().requires_grad_ true
        let w = w0.to_type(dt).detach().clone().requires_grad_ true
        let b = b0.to_type(dt).detach().clone().requires_grad_ true
        let x = if channelsLast then toFirst xl else (toFirst xl).contiguous ()
        let y: torch.Tensor = conv x w b
        let r = torch.ones_like y * 0.5 + (torch.arange(y.numel (), dtype = dt).reshape y.shape % 7L) * 0.3
        y.mul(r).sum().backward ()
        [ y.detach (); xl.grad; w.grad; b.grad ] |> List.map (fun t -> t.to_type f64)

    let errors =
        List.map2
            (fun (a: torch.Tensor) (e: torch.Tensor) ->
                (a - e).abs().max().item<double> () / max 1.0 (e.abs().max().item<double> ()))
            (run torch.ScalarType.Float32 f32)
            (run f64 f64ref)

    if errors |> List.exists (fun e -> e > 1e-4) then
        bad <- bad + 1
        printfn "%s %s: output %.2g, d/dx %.2g, d/dw %.2g, d/db %.2g" name (if channelsLast then "channels_last" else "channels_first") errors[0] errors[1] errors[2] errors[3]

let spatial = if big then [| 15L; 14L; 6L |] else [| 7L; 6L; 5L |]

let groupings =
    if big then
        [ 1L, 3L, 32L; 1L, 32L, 64L; 1L, 64L, 10L; 1L, 1L, 16L; 32L, 1L, 1L; 32L, 1L, 2L; 16L, 4L, 4L; 1L, 24L, 24L
          1L, 8L, 8L; 1L, 12L, 12L; 1L, 20L, 6L; 1L, 6L, 6L; 1L, 9L, 3L; 2L, 12L, 12L ]
    else
        [ 1L, 1L, 1L; 1L, 3L, 5L; 1L, 4L, 16L; 1L, 16L, 4L; 1L, 5L, 17L; 4L, 1L, 1L; 4L, 1L, 2L; 4L, 1L, 3L
          4L, 2L, 1L; 4L, 2L, 3L; 2L, 8L, 8L; 2L, 3L, 16L ]

for rank in [ 1; 2; 3 ] do
    for groups, inPerGroup, outPerGroup in groupings do
        for k in [ 1L; 3L ] do
            for stride, dilation in [ 1L, 1L; 2L, 1L; 1L, 2L ] do
                for pad in [ 0L; 1L ] do
                    for channelsLast in [ false; true ] do
                        let s, p, d = Array.create rank stride, Array.create rank pad, Array.create rank dilation
                        let xShape = Array.concat [ [| 2L |]; spatial[.. rank - 1]; [| groups * inPerGroup |] ]
                        let wShape = Array.append [| groups * outPerGroup; inPerGroup |] (Array.create rank k)
                        let conv x w b =
                            if raw then rawConv rank x w b s p d groups
                            else Keras.TorchConvolution.conv rank x w b s p d groups
                        check $"conv rank {rank}, groups {groups}, {inPerGroup}→{outPerGroup} per group, kernel {k}, stride {stride}, dilation {dilation}, padding {pad}"
                            rank xShape wShape (groups * outPerGroup) channelsLast conv (fun x w b -> rawConv rank x w b s p d groups)

for rank in [ 1; 2; 3 ] do
    for channels, filters in [ 1L, 1L; 3L, 2L; 5L, 4L; 16L, 3L; 17L, 16L; 4L, 32L; 32L, 16L; 16L, 24L; 5L, 20L; 24L, 3L; 12L, 12L; 9L, 6L ] do
        for k in [ 2L; 3L ] do
            for stride, dilation, outputPadding in [ 1L, 1L, 0L; 2L, 1L, 0L; 2L, 1L, 1L; 1L, 2L, 0L ] do
                for pad in [ 0L; 1L ] do
                    for channelsLast in [ false; true ] do
                        let s, p, d = Array.create rank stride, Array.create rank pad, Array.create rank dilation
                        let op = Array.create rank outputPadding
                        let xShape = Array.concat [ [| 2L |]; spatial[.. rank - 1]; [| channels |] ]
                        let conv x w b =
                            if raw then rawTranspose rank x w b s p op d
                            else Keras.TorchConvolution.convTranspose rank x w b s p op d
                        check $"transposed rank {rank}, {channels}→{filters}, kernel {k}, stride {stride}, dilation {dilation}, output padding {outputPadding}, padding {pad}"
                            rank xShape (Array.append [| channels; filters |] (Array.create rank k)) filters channelsLast conv
                            (fun x w b -> rawTranspose rank x w b s p op d)

printfn "%d of %d combinations differ beyond float32 rounding" bad total
exit (if bad = 0 then 0 else 1)
