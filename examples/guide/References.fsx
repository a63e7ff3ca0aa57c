// The library and its dependencies, for the guide's scripts. Build first: dotnet fsi build.fsx build
#r "nuget: TorchSharp-cpu, 0.107.0"
#r "nuget: FSharp.SystemTextJson, 0.16.6"
#r "nuget: Spectre.Console, 0.57.2"
#r "nuget: PureHDF, 2.2.0"
#r "nuget: ScottPlot, 5.1.59"
#r "nuget: SkiaSharp, 3.119.0"
#r "nuget: SkiaSharp.NativeAssets.Linux.NoDependencies, 3.119.0"
#r "../../src/Keras.FSharp/bin/Release/net10.0/Keras.FSharp.dll"
