module NativeLoaderTests

open System
open System.IO
open Expecto
open TorchSharp
open Keras.Native.NativeLoader

/// The real TorchSharp glue library, read into memory: the patcher only ever works on this copy.
let private libTorchSharpBytes () =
    match tryFindNative LibTorchSharpFile with
    | Some path -> File.ReadAllBytes path
    | None -> failtestf "%s not found in any of %A" LibTorchSharpFile (candidateNativeFolders ())

let private expectError (result: Result<'a, string>) (fragment: string) =
    match result with
    | Ok _ -> failtest "expected an Error"
    | Error message -> Expect.stringContains message fragment "the error names the failing step"

let private linuxX64 =
    OperatingSystem.IsLinux()
    && Runtime.InteropServices.RuntimeInformation.ProcessArchitecture = Runtime.InteropServices.Architecture.X64

let private elfTests =
    testList
        "ElfPatch"
        [
            test "finds the GLIBCXX_3.4.32 need of the real libLibTorchSharp.so" {
                let need =
                    ElfPatch.findVersionNeed (libTorchSharpBytes ()) RequiredGlibcxx
                    |> Result.defaultWith failwith

                Expect.equal need.File "libstdc++.so.6" "needed from libstdc++"
                Expect.equal need.Version RequiredGlibcxx "the version asked for"
                Expect.equal need.Flags 0us "not weak in the shipped file"
            }

            test "weakening sets flag 2 on that entry and changes no other byte" {
                let original = libTorchSharpBytes ()

                let need =
                    ElfPatch.findVersionNeed original RequiredGlibcxx |> Result.defaultWith failwith

                let patched =
                    ElfPatch.weakenVersionNeed original RequiredGlibcxx
                    |> Result.defaultWith failwith

                Expect.equal patched.Length original.Length "same length"

                let changed =
                    [
                        for i in 0 .. original.Length - 1 do
                            if original[i] <> patched[i] then
                                i
                    ]

                Expect.equal changed [ need.FlagsOffset ] "only the low byte of vna_flags changes"
                Expect.equal patched[need.FlagsOffset] 2uy "VER_FLG_WEAK"

                let reread =
                    ElfPatch.findVersionNeed patched RequiredGlibcxx |> Result.defaultWith failwith

                Expect.equal reread.Flags ElfPatch.VerFlagWeak "the parser sees the weak flag"

                let others bytes =
                    ElfPatch.versionNeeds bytes
                    |> Result.defaultWith failwith
                    |> List.filter (fun n -> n.Version <> RequiredGlibcxx)

                Expect.equal (others patched) (others original) "every other entry is as it was"
            }

            test "weakening is idempotent and leaves its input alone" {
                let original = libTorchSharpBytes ()
                let copy = Array.copy original

                let once =
                    ElfPatch.weakenVersionNeed original RequiredGlibcxx
                    |> Result.defaultWith failwith

                let twice =
                    ElfPatch.weakenVersionNeed once RequiredGlibcxx |> Result.defaultWith failwith

                Expect.sequenceEqual twice once "a second patch changes nothing"
                Expect.sequenceEqual original copy "the input array is not modified"
            }

            test "the real file lists many needs, all readable" {
                let needs =
                    ElfPatch.versionNeeds (libTorchSharpBytes ()) |> Result.defaultWith failwith

                Expect.isGreaterThan needs.Length 20 "libc, libm, libgcc_s and libstdc++ needs"
                Expect.contains (needs |> List.map _.Version) "GLIBCXX_3.4.30" "an ordinary libstdc++ need"
            }

            test "a version the file does not need is an Error" {
                expectError (ElfPatch.weakenVersionNeed (libTorchSharpBytes ()) "GLIBCXX_9.9") "GLIBCXX_9.9"
            }

            test "non-ELF input is a clear Error" {
                let text = Text.Encoding.ASCII.GetBytes(String('x', 100))
                expectError (ElfPatch.findVersionNeed text RequiredGlibcxx) "not an ELF file"
            }

            test "input shorter than an ELF header is a clear Error" {
                expectError
                    (ElfPatch.weakenVersionNeed [| 0x7Fuy; byte 'E'; byte 'L'; byte 'F' |] RequiredGlibcxx)
                    "shorter than an ELF64 header"

                expectError (ElfPatch.versionNeeds [||]) "shorter than an ELF64 header"
            }

            test "a truncated library is a clear Error" {
                let bytes = libTorchSharpBytes ()
                let truncated = bytes[.. bytes.Length / 2]
                expectError (ElfPatch.findVersionNeed truncated RequiredGlibcxx) "outside the file"
            }

            test "a 32-bit ELF header is refused" {
                let bytes = Array.copy (libTorchSharpBytes ())
                bytes[4] <- 1uy
                expectError (ElfPatch.versionNeeds bytes) "not a 64-bit ELF"
            }
        ]

let private systemTests =
    testList
        "system"
        [
            test "libstdc++ defines GLIBCXX_3.4.30 but not GLIBCXX_3.4.99" {
                if not linuxX64 then
                    skiptest "Linux x64 only"

                Expect.isTrue (systemHasGlibcxx "GLIBCXX_3.4.30") "Debian 12's libstdc++ has 3.4.30"
                Expect.isFalse (systemHasGlibcxx "GLIBCXX_3.4.99") "no libstdc++ has 3.4.99"
            }

            test "candidate folders start with the app's own native folder" {
                let folders = candidateNativeFolders ()

                let expected =
                    Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"))

                Expect.equal (List.head folders) expected "the build output first"
                Expect.allEqual (folders |> List.map Path.IsPathRooted) true "absolute paths"
            }

            test "cache folders never lie inside the NuGet package cache" {
                for cache in cacheRoots () do
                    for packages in nugetPackageRoots () do
                        let packages =
                            Path.TrimEndingDirectorySeparator packages + string Path.DirectorySeparatorChar

                        Expect.isFalse (cache.StartsWith(packages, StringComparison.Ordinal)) cache
            }
        ]

let private loadTests =
    testSequenced
    <| testList
        "loading"
        [
            test "after ensureLoaded a TorchSharp op works" {
                ensureLoaded ()
                ensureLoaded () // idempotent
                let sum = torch.tensor([| 1.f; 2.f |]).sum().item<float32>()
                Expect.equal sum 3.f "1 + 2"
            }

            test "ensureLoaded is safe from many threads at once" {
                Array.Parallel.init 8 (fun _ -> ensureLoaded ()) |> ignore
                Expect.equal (torch.ones(2L).sum().item<float32>()) 2.f "still works"
            }
        ]

/// All NativeLoader tests.
[<Tests>]
let tests = testList "NativeLoader" [ elfTests; systemTests; loadTests ]
