namespace Keras

open TorchSharp

/// Element types, named as Keras names them.
type DType =
    /// <summary>32-bit float, Keras's <c>"float32"</c> (the default for inputs and weights).</summary>
    | Float32
    /// <summary>64-bit float, Keras's <c>"float64"</c>.</summary>
    | Float64
    /// <summary>16-bit IEEE half float, Keras's <c>"float16"</c>.</summary>
    | Float16
    /// <summary>16-bit brain float (8 exponent bits), Keras's <c>"bfloat16"</c>.</summary>
    | BFloat16
    /// <summary>32-bit signed integer, Keras's <c>"int32"</c>.</summary>
    | Int32
    /// <summary>64-bit signed integer, Keras's <c>"int64"</c> (token ids for <c>Embedding</c>).</summary>
    | Int64
    /// <summary>16-bit signed integer, Keras's <c>"int16"</c>.</summary>
    | Int16
    /// <summary>8-bit signed integer, Keras's <c>"int8"</c>.</summary>
    | Int8
    /// <summary>8-bit unsigned integer, Keras's <c>"uint8"</c> (raw image bytes).</summary>
    | UInt8
    /// <summary>Boolean, Keras's <c>"bool"</c> (masks).</summary>
    | Bool
    /// <summary>Keras's <c>"string"</c> dtype (<c>Input(shape, dtype="string")</c>). Tensors cannot hold text: a string
    /// tensor flows as int64 handles into a table of .NET strings (see <c>StringTensor</c>); only the string layers
    /// (StringLookup, Hashing, TextVectorization) read it.</summary>
    | String

/// Conversions between Keras dtype names, DType and TorchSharp scalar types.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module DType =
    /// The Keras name: "float32", "int64", ...
    let name dtype =
        match dtype with
        | Float32 -> "float32"
        | Float64 -> "float64"
        | Float16 -> "float16"
        | BFloat16 -> "bfloat16"
        | Int32 -> "int32"
        | Int64 -> "int64"
        | Int16 -> "int16"
        | Int8 -> "int8"
        | UInt8 -> "uint8"
        | Bool -> "bool"
        | String -> "string"

    // String comes last: tryOfTorch maps int64 to Int64, never to the handles of a string tensor.
    let private all =
        [ Float32; Float64; Float16; BFloat16; Int32; Int64; Int16; Int8; UInt8; Bool; String ]

    /// Parses a Keras dtype name ("float32", "int32", ...).
    let tryParse (text: string) =
        all |> List.tryFind (fun d -> name d = text.Trim().ToLowerInvariant())

    /// Size of one element in bits, as Keras counts it for summaries.
    let bits dtype =
        match dtype with
        | Float64
        | Int64
        | String -> 64
        | Float32
        | Int32 -> 32
        | Float16
        | BFloat16
        | Int16 -> 16
        | Int8
        | UInt8 -> 8
        | Bool -> 8

    /// True for floating point types.
    let isFloating dtype =
        match dtype with
        | Float32
        | Float64
        | Float16
        | BFloat16 -> true
        | _ -> false

    /// The TorchSharp scalar type.
    let toTorch dtype =
        match dtype with
        | Float32 -> torch.ScalarType.Float32
        | Float64 -> torch.ScalarType.Float64
        | Float16 -> torch.ScalarType.Float16
        | BFloat16 -> torch.ScalarType.BFloat16
        | Int32 -> torch.ScalarType.Int32
        | Int64 -> torch.ScalarType.Int64
        | Int16 -> torch.ScalarType.Int16
        | Int8 -> torch.ScalarType.Int8
        | UInt8 -> torch.ScalarType.Byte
        | Bool -> torch.ScalarType.Bool
        // The handles of a string tensor.
        | String -> torch.ScalarType.Int64

    /// The DType of a TorchSharp scalar type, when Keras has one.
    let tryOfTorch (scalarType: torch.ScalarType) =
        all |> List.tryFind (fun d -> toTorch d = scalarType)
