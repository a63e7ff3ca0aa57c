// The consumer check in the test run: the facade and the core are packed into a local folder feed, and a fresh C#
// console app (top-level statements, no project reference, outside the repository) restores Keras.CSharp from it,
// builds, fits one epoch and prints the summary.
using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace Keras.CSharp.Tests;

public class ConsumerTests
{
    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Keras.Functional.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Keras.Functional.sln not found above the test binary");
    }

    /// <summary>Runs dotnet with the arguments in a folder; returns its output, failing with it on a non-zero exit.</summary>
    private static string Dotnet(string folder, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // The test host's MSBuild settings must not leak into the child builds.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
            start.Environment.Remove(key);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var output = stdout + stderr.Result;
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output}");
        return output;
    }

    [Fact]
    public void AFreshConsoleAppBuildsAgainstThePackedPackagesFitsOneEpochAndPrintsTheSummary()
    {
        var root = RepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), $"keras-consumer-test-{Guid.NewGuid():N}");
        var feed = Path.Combine(work, "feed");
        var app = Path.Combine(work, "app");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(app);
        // A version of its own, so that NuGet's cache cannot serve an older package under the same number.
        var version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try
        {
            foreach (var project in new[] { "src/Keras.FSharp", "src/Keras.CSharp" })
                Dotnet(root, "pack", project, "-c", "Release", "--no-build", "-o", feed, $"-p:PackageVersion={version}");
            Assert.Equal(2, Directory.GetFiles(feed, "*.nupkg").Length);

            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Consumer.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Keras.CSharp" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.Copy(Path.Combine(root, "tests", "Consumer", "Program.cs"), Path.Combine(app, "Program.cs"));

            var output = Dotnet(app, "run", "-c", "Release");
            Assert.Contains("Model: \"consumer\"", output);
            Assert.Contains("Total params: 50,890 (198.79 KB)", output);
            Assert.Contains("epochs 1; loss ", output);
            Assert.Contains("params 50890; prediction (256, 10)", output);
            Assert.Contains("caught UnknownName", output);
        }
        finally
        {
            Directory.Delete(work, true);
            foreach (var id in new[] { "keras.csharp", "keras.fsharp" })
            {
                var cached = Path.Combine(cache, id, version);
                if (Directory.Exists(cached)) Directory.Delete(cached, true);
            }
        }
    }
}
