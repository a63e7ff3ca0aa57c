using System.Runtime.CompilerServices;

namespace Keras.CSharp;

/// <summary>Loads TorchSharp's native libraries when this assembly is first used, so C# code never calls the loader.</summary>
internal static class NativeInitializer
{
    /// <summary>Runs once, before any type of Keras.CSharp is used.</summary>
#pragma warning disable CA2255 // A library module initializer is the point: native loading must precede any TorchSharp call.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => global::Keras.Native.NativeLoader.ensureLoaded();
}
