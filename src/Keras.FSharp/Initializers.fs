namespace Keras

open TorchSharp

/// Weight initializers with Keras's names and defaults.
type Initializer =
    /// <summary>All zeros, Keras's <c>"zeros"</c> (the default bias initializer).</summary>
    | Zeros
    /// <summary>All ones, Keras's <c>"ones"</c> (e.g. a normalization's gamma).</summary>
    | Ones
    /// <summary>Every entry equal to <c>value</c>, Keras's <c>Constant(value)</c>.</summary>
    | Constant of value: float
    /// Uniform in [-limit, limit] with limit = sqrt(6 / (fan_in + fan_out)). Keras's default kernel initializer.
    | GlorotUniform
    /// Truncated normal with stddev = sqrt(2 / (fan_in + fan_out)).
    | GlorotNormal
    /// <summary>Uniform in [-limit, limit] with limit = sqrt(6 / fan_in), Keras's <c>"he_uniform"</c>.</summary>
    | HeUniform
    /// <summary>Truncated normal (at two standard deviations) with stddev = sqrt(2 / fan_in), Keras's
    /// <c>"he_normal"</c>.</summary>
    | HeNormal
    /// <summary>Uniform in [-limit, limit] with limit = sqrt(3 / fan_in), Keras's <c>"lecun_uniform"</c>.</summary>
    | LecunUniform
    /// <summary>Truncated normal (at two standard deviations) with stddev = sqrt(1 / fan_in), Keras's
    /// <c>"lecun_normal"</c>.</summary>
    | LecunNormal
    /// Normal with the given mean and stddev (Keras's defaults: 0.0 and 0.05).
    | RandomNormal of mean: float * stddev: float
    /// Uniform in [minval, maxval) (Keras's defaults: -0.05 and 0.05).
    | RandomUniform of minval: float * maxval: float
    /// A (semi-)orthogonal matrix times <c>gain</c> (Keras's default recurrent initializer, gain 1.0).
    | Orthogonal of gain: float

/// Creating weight tensors from initializers.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Initializer =
    /// <summary>The Keras class name, as written in configs: Keras 3.1.1's canonical export names (its orthogonal
    /// initializer is <c>OrthogonalInitializer</c>; Keras 3.4+ writes <c>Orthogonal</c>, and both are read).</summary>
    let className init =
        match init with
        | Zeros -> "Zeros"
        | Ones -> "Ones"
        | Constant _ -> "Constant"
        | GlorotUniform -> "GlorotUniform"
        | GlorotNormal -> "GlorotNormal"
        | HeUniform -> "HeUniform"
        | HeNormal -> "HeNormal"
        | LecunUniform -> "LecunUniform"
        | LecunNormal -> "LecunNormal"
        | RandomNormal _ -> "RandomNormal"
        | RandomUniform _ -> "RandomUniform"
        | Orthogonal _ -> "OrthogonalInitializer"

    /// <summary>Resolves Keras's string identifiers ("glorot_uniform", "zeros", "random_normal", ...) with Keras's default arguments.</summary>
    let tryOfName (name: string) =
        match name.Trim().ToLowerInvariant() with
        | "zeros" -> Some Zeros
        | "ones" -> Some Ones
        | "glorot_uniform" -> Some GlorotUniform
        | "glorot_normal" -> Some GlorotNormal
        | "he_uniform" -> Some HeUniform
        | "he_normal" -> Some HeNormal
        | "lecun_uniform" -> Some LecunUniform
        | "lecun_normal" -> Some LecunNormal
        | "random_normal" -> Some(RandomNormal(0.0, 0.05))
        | "random_uniform"
        | "uniform" -> Some(RandomUniform(-0.05, 0.05))
        | "orthogonal" -> Some(Orthogonal 1.0)
        | _ -> None

    /// Fan-in and fan-out of a weight shape, computed as Keras does: the last two axes are (in, out)
    /// and any leading axes form the receptive field of a convolution kernel.
    let fans (shape: int list) =
        match shape with
        | [] -> 1.0, 1.0
        | [ n ] -> float n, float n
        | [ fanIn; fanOut ] -> float fanIn, float fanOut
        | _ ->
            let reversed = List.rev shape

            let receptive =
                reversed |> List.skip 2 |> List.fold (fun acc d -> acc * float d) 1.0

            float reversed[1] * receptive, float reversed[0] * receptive

    // Keras draws "normal" variance-scaling weights from a normal truncated at two standard deviations;
    // this constant is the stddev of the unit normal truncated to [-2, 2], used to rescale.
    let private truncatedStddevCorrection = 0.87962566103423978

    let private truncatedNormal (shape: int64[]) dtype (stddev: float) =
        let t = torch.empty (shape, dtype = dtype)
        torch.nn.init.trunc_normal_ (t, 0.0, stddev, -2.0 * stddev, 2.0 * stddev)

    let private uniform (shape: int64[]) dtype (low: float) (high: float) =
        torch.empty(shape, dtype = dtype).uniform_(low, high)

    /// Keras's orthogonal initializer: the weight is viewed as a (rows, last axis) matrix; Q of the QR decomposition
    /// of a normal matrix, with signs fixed by R's diagonal so the result is uniformly distributed.
    let private orthogonal (shape: int64[]) dtype (gain: float) =
        if shape.Length < 2 then
            invalidArg (nameof shape) "The orthogonal initializer needs a shape of at least two axes."

        let cols = Array.last shape
        let rows = Array.fold (*) 1L shape / cols
        let a = torch.randn (max rows cols, min rows cols, dtype = torch.ScalarType.Float64)
        let struct (q, r) = torch.linalg.qr a
        let q = q.mul (torch.sign (torch.diagonal r))
        let q = if rows < cols then q.t () else q
        q.mul(torch.tensor gain).reshape(shape).to_type dtype

    /// Creates a new tensor of the given shape and dtype, filled as the initializer says. Uses TorchSharp's
    /// global generator, so <c>torch.manual_seed</c> makes it reproducible.
    let create init (shape: int list) (dtype: DType) : torch.Tensor =
        let dims = shape |> List.map int64 |> Array.ofList
        let st = DType.toTorch dtype
        let fanIn, fanOut = fans shape

        use _ = torch.no_grad ()

        match init with
        | Zeros -> torch.zeros (dims, dtype = st)
        | Ones -> torch.ones (dims, dtype = st)
        | Constant v -> torch.empty(dims, dtype = st).fill_ v
        | GlorotUniform ->
            let limit = sqrt (6.0 / (fanIn + fanOut))
            uniform dims st -limit limit
        | GlorotNormal -> truncatedNormal dims st (sqrt (2.0 / (fanIn + fanOut)) / truncatedStddevCorrection)
        | HeUniform ->
            let limit = sqrt (6.0 / fanIn)
            uniform dims st -limit limit
        | HeNormal -> truncatedNormal dims st (sqrt (2.0 / fanIn) / truncatedStddevCorrection)
        | LecunUniform ->
            let limit = sqrt (3.0 / fanIn)
            uniform dims st -limit limit
        | LecunNormal -> truncatedNormal dims st (sqrt (1.0 / fanIn) / truncatedStddevCorrection)
        | RandomNormal(mean, stddev) -> torch.normal (mean, stddev, dims, dtype = st)
        | RandomUniform(minval, maxval) -> uniform dims st minval maxval
        | Orthogonal gain -> orthogonal dims st gain
