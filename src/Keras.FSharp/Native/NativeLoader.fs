/// <summary>
/// Makes TorchSharp's native backend loadable on Linux systems whose libstdc++ is older than the one
/// TorchSharp was built against.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> declares a need for <c>GLIBCXX_3.4.32</c> only for
/// <c>std::ios_base_library_init()</c>, which no relocation uses. On systems whose libstdc++
/// stops earlier (Debian 12: <c>GLIBCXX_3.4.30</c>) the dynamic loader refuses the library outright.
/// The fix: copy the library into a private cache, mark that one version need as weak
/// (<c>VER_FLG_WEAK</c>, which turns the loader's hard error into nothing), and load libtorch plus the
/// patched copy before TorchSharp initialises. The loader then finds <c>libLibTorchSharp.so</c> already
/// present (matched by its SONAME) when TorchSharp asks for it by name.
/// </remarks>
module Keras.Native.NativeLoader

open System
open System.Buffers.Binary
open System.IO
open System.Reflection
open System.Runtime.InteropServices
open System.Security.Cryptography
open System.Text

/// Reading and patching the symbol-version tables of ELF64 little-endian files (x86-64 Linux libraries).
module ElfPatch =

    /// One version requirement of an ELF file: an <c>Elf64_Vernaux</c> entry of its <c>.gnu.version_r</c> section.
    type VersionNeed =
        {
            /// The library the version is needed from, e.g. <c>libstdc++.so.6</c>.
            File: string
            /// The version name, e.g. <c>GLIBCXX_3.4.32</c>.
            Version: string
            /// The offset in the file of the entry's 16-bit <c>vna_flags</c> field.
            FlagsOffset: int
            /// The current value of <c>vna_flags</c>.
            Flags: uint16
        }

    /// <c>VER_FLG_WEAK</c>: the dynamic loader does not fail when a weak version need is unmet.
    [<Literal>]
    let VerFlagWeak = 2us

    /// Raised by the bounds-checked readers below; turned into an <c>Error</c> at the public boundary.
    exception private ElfError of string

    let private fail message = raise (ElfError message)

    let private checkBounds (bytes: byte[]) (offset: int64) (length: int64) (what: string) =
        if offset < 0L || length < 0L || offset + length > int64 bytes.Length then
            fail (
                sprintf "%s at offset %d (+%d bytes) lies outside the file (%d bytes)" what offset length bytes.Length
            )

    let private span (bytes: byte[]) (offset: int64) (length: int) (what: string) =
        checkBounds bytes offset (int64 length) what
        ReadOnlySpan<byte>(bytes, int offset, length)

    let private u16 bytes offset what =
        BinaryPrimitives.ReadUInt16LittleEndian(span bytes offset 2 what)

    let private u32 bytes offset what =
        BinaryPrimitives.ReadUInt32LittleEndian(span bytes offset 4 what)

    /// 64-bit fields become int64; a value beyond Int64.MaxValue turns negative and fails the bounds checks.
    let private u64 bytes offset what =
        BinaryPrimitives.ReadInt64LittleEndian(span bytes offset 8 what)

    type private Section =
        {
            Name: uint32
            Type: uint32
            Offset: int64
            Size: int64
            Link: int
            Info: int
        }

    let private SHT_GNU_verdef = 0x6ffffffdu
    let private SHT_GNU_verneed = 0x6ffffffeu

    let private readSection (bytes: byte[]) (at: int64) =
        {
            Name = u32 bytes at "section header"
            Type = u32 bytes (at + 4L) "section header"
            Offset = u64 bytes (at + 24L) "section header"
            Size = u64 bytes (at + 32L) "section header"
            Link = int (u32 bytes (at + 40L) "section header")
            Info = int (u32 bytes (at + 44L) "section header")
        }

    let private sectionHeaders (bytes: byte[]) =
        if bytes.Length < 64 then
            fail (sprintf "file is %d bytes, shorter than an ELF64 header (64 bytes)" bytes.Length)

        if
            not (
                bytes[0] = 0x7Fuy
                && bytes[1] = byte 'E'
                && bytes[2] = byte 'L'
                && bytes[3] = byte 'F'
            )
        then
            fail "not an ELF file (no \\x7fELF magic)"

        if bytes[4] <> 2uy then
            fail "not a 64-bit ELF file (EI_CLASS is not ELFCLASS64)"

        if bytes[5] <> 1uy then
            fail "not a little-endian ELF file (EI_DATA is not ELFDATA2LSB)"

        let tableOffset = u64 bytes 0x28L "e_shoff"
        let entrySize = int (u16 bytes 0x3AL "e_shentsize")
        let count = int (u16 bytes 0x3CL "e_shnum")

        if tableOffset = 0L || count = 0 then
            fail "the file has no section header table"

        if entrySize < 64 then
            fail (sprintf "section header entries are %d bytes, expected at least 64" entrySize)

        checkBounds bytes tableOffset (int64 (entrySize * count)) "section header table"

        [|
            for i in 0 .. count - 1 -> readSection bytes (tableOffset + int64 (i * entrySize))
        |]

    let private cString (bytes: byte[]) (at: int64) (what: string) =
        checkBounds bytes at 1L what
        let finish = Array.IndexOf(bytes, 0uy, int at)

        if finish < 0 then
            fail (sprintf "%s at offset %d is not NUL-terminated" what at)

        Encoding.ASCII.GetString(bytes, int at, finish - int at)

    let private sectionName (bytes: byte[]) (sections: Section[]) (section: Section) =
        let index = int (u16 bytes 0x3EL "e_shstrndx")

        if index >= sections.Length then
            ""
        else
            cString bytes (sections[index].Offset + int64 section.Name) "section name"

    /// The section of the given type, or failing that, of the given name (stripped files may lack types).
    let private findSection (bytes: byte[]) (sectionType: uint32) (name: string) =
        let sections = sectionHeaders bytes

        let section =
            sections
            |> Array.tryFind (fun s -> s.Type = sectionType)
            |> Option.orElse (sections |> Array.tryFind (fun s -> sectionName bytes sections s = name))

        match section with
        | None -> fail (sprintf "the file has no %s section" name)
        | Some s when s.Link <= 0 || s.Link >= sections.Length ->
            fail (sprintf "%s's string table link (%d) is not a valid section index" name s.Link)
        | Some s -> s, sections[s.Link]

    /// Follows a chain of entries linked by relative "next" offsets, within a section's bounds.
    let private chain (section: Section) (first: int64) (count: int) (next: int64 -> int64) (what: string) =
        let rec walk at remaining acc =
            if remaining = 0 then
                List.rev acc
            else
                if at < section.Offset || at >= section.Offset + section.Size then
                    fail (sprintf "a %s entry at offset %d lies outside its section" what at)

                let step = next at

                if step = 0L && remaining > 1 then
                    fail (sprintf "the %s chain ends after %d of %d entries" what (acc.Length + 1) count)

                walk (at + step) (remaining - 1) (at :: acc)

        walk first count []

    let private readVersionNeeds (bytes: byte[]) =
        let section, strings = findSection bytes SHT_GNU_verneed ".gnu.version_r"

        let name offset what =
            cString bytes (strings.Offset + int64 offset) what

        chain section section.Offset section.Info (fun at -> int64 (u32 bytes (at + 12L) "vn_next")) "Verneed"
        |> List.collect (fun need ->
            let file = name (u32 bytes (need + 4L) "vn_file") "vn_file"
            let auxCount = int (u16 bytes (need + 2L) "vn_cnt")
            let firstAux = need + int64 (u32 bytes (need + 8L) "vn_aux")

            chain section firstAux auxCount (fun at -> int64 (u32 bytes (at + 12L) "vna_next")) "Vernaux"
            |> List.map (fun aux ->
                {
                    File = file
                    Version = name (u32 bytes (aux + 8L) "vna_name") "vna_name"
                    FlagsOffset = int (aux + 4L)
                    Flags = u16 bytes (aux + 4L) "vna_flags"
                }))

    let private readVersionDefinitions (bytes: byte[]) =
        let section, strings = findSection bytes SHT_GNU_verdef ".gnu.version_d"

        chain section section.Offset section.Info (fun at -> int64 (u32 bytes (at + 16L) "vd_next")) "Verdef"
        |> List.map (fun def ->
            // The first Verdaux of a definition names the version it defines; later ones name its parents.
            let aux = def + int64 (u32 bytes (def + 12L) "vd_aux")
            cString bytes (strings.Offset + int64 (u32 bytes aux "vda_name")) "vda_name")

    let private protect (parse: unit -> 'a) : Result<'a, string> =
        try
            Ok(parse ())
        with ElfError message ->
            Error message

    /// <summary>Every version requirement (<c>Vernaux</c> entry) of an ELF64 little-endian file.</summary>
    /// <returns>The entries in file order, or an error saying which ELF step failed.</returns>
    let versionNeeds (bytes: byte[]) : Result<VersionNeed list, string> =
        protect (fun () -> readVersionNeeds bytes)

    /// <summary>The version names an ELF64 little-endian library defines (its <c>.gnu.version_d</c> section),
    /// e.g. <c>GLIBCXX_3.4.30</c> for libstdc++.</summary>
    let versionDefinitions (bytes: byte[]) : Result<string list, string> =
        protect (fun () -> readVersionDefinitions bytes)

    /// <summary>The first requirement of the given version (e.g. <c>GLIBCXX_3.4.32</c>) in an ELF64 file.</summary>
    /// <returns>The entry, or an error saying which ELF step failed or that no entry names the version.</returns>
    let findVersionNeed (bytes: byte[]) (version: string) : Result<VersionNeed, string> =
        versionNeeds bytes
        |> Result.bind (fun needs ->
            match needs |> List.tryFind (fun n -> n.Version = version) with
            | Some need -> Ok need
            | None -> Error(sprintf "no Vernaux entry in .gnu.version_r names %s" version))

    /// <summary>A copy of an ELF64 file in which every requirement of the given version is marked weak
    /// (<c>VER_FLG_WEAK</c>), so the dynamic loader accepts a library lacking that version.</summary>
    /// <remarks>Only the <c>vna_flags</c> fields change; the input array is left untouched. Idempotent.</remarks>
    /// <returns>The patched bytes, or an error saying which ELF step failed or that no entry names the version.</returns>
    let weakenVersionNeed (bytes: byte[]) (version: string) : Result<byte[], string> =
        versionNeeds bytes
        |> Result.bind (fun needs ->
            match needs |> List.filter (fun n -> n.Version = version) with
            | [] -> Error(sprintf "no Vernaux entry in .gnu.version_r names %s" version)
            | matches ->
                let patched = Array.copy bytes

                for need in matches do
                    BinaryPrimitives.WriteUInt16LittleEndian(
                        Span<byte>(patched, need.FlagsOffset, 2),
                        need.Flags ||| VerFlagWeak
                    )

                Ok patched)

/// The libstdc++ version TorchSharp 0.107's native library asks for but does not actually use.
[<Literal>]
let RequiredGlibcxx = "GLIBCXX_3.4.32"

/// The libtorch libraries loaded ahead of the patched copy, in dependency order.
let libTorchFiles = [ "libc10.so"; "libtorch_cpu.so"; "libtorch.so" ]

/// The file name of TorchSharp's native glue library on Linux.
[<Literal>]
let LibTorchSharpFile = "libLibTorchSharp.so"

let private libStdCxxFallbacks =
    [
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
        "/lib/x86_64-linux-gnu/libstdc++.so.6"
        "/usr/lib64/libstdc++.so.6"
        "/lib64/libstdc++.so.6"
        "/usr/lib/libstdc++.so.6"
    ]

/// <summary>The path of the libstdc++ this process uses (or would use), if it can be found.</summary>
/// <remarks>
/// Asks the dynamic loader for <c>libstdc++.so.6</c> and reads the path it mapped from
/// <c>/proc/self/maps</c>, so <c>LD_LIBRARY_PATH</c> and the loader cache are honoured. Loading it is
/// harmless: libtorch needs it anyway. Falls back to the usual distribution paths.
/// </remarks>
let locateLibStdCxx () : string option =
    let mapped () =
        try
            NativeLibrary.TryLoad("libstdc++.so.6") |> ignore

            File.ReadLines "/proc/self/maps"
            |> Seq.map (fun line -> line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            |> Seq.filter (fun fields -> fields.Length >= 6)
            |> Seq.map (fun fields -> String.Join(" ", fields[5..]))
            |> Seq.tryFind (fun path -> Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal))
        with
        | :? IOException
        | :? UnauthorizedAccessException -> None

    mapped () |> Option.orElse (libStdCxxFallbacks |> List.tryFind File.Exists)

/// <summary>Whether the process's libstdc++ defines the given symbol version, e.g. <c>GLIBCXX_3.4.30</c>.</summary>
/// <remarks>False when no libstdc++ can be found or read: patching is then the safe choice.</remarks>
let systemHasGlibcxx (version: string) : bool =
    match locateLibStdCxx () with
    | None -> false
    | Some path ->
        try
            match ElfPatch.versionDefinitions (File.ReadAllBytes path) with
            | Ok versions -> List.contains version versions
            | Error _ -> false
        with
        | :? IOException
        | :? UnauthorizedAccessException -> false

let private torchSharpAssembly = typeof<TorchSharp.torch>.Assembly

/// NuGet folder names use normalised versions: "2.10.0.0" lives in "2.10.0".
let private normaliseVersion (version: string) =
    let parts = version.Split('+').[0].Split('.')

    if parts.Length = 4 && parts[3] = "0" then
        String.Join(".", parts[..2])
    else
        String.Join(".", parts)

let private torchSharpVersion () =
    match torchSharpAssembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>() with
    | null -> normaliseVersion (string (torchSharpAssembly.GetName().Version))
    | attribute -> normaliseVersion attribute.InformationalVersion

/// TorchSharp records the libtorch package it was built against in a private constant; reading the
/// constant's metadata does not run torch's static constructor (which would try to load the natives).
let private libTorchVersion () =
    let field =
        typeof<TorchSharp.torch>.GetField("libtorchPackageVersion", BindingFlags.NonPublic ||| BindingFlags.Static)

    match field with
    | null -> None
    | f when f.IsLiteral -> Some(normaliseVersion (string (f.GetRawConstantValue())))
    | _ -> None

let private homeDirectory () =
    Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)

/// <summary>The NuGet global-packages folders that may hold TorchSharp's and libtorch's packages:
/// <c>NUGET_PACKAGES</c>, <c>~/.nuget/packages</c>, and the one TorchSharp.dll itself was loaded from.</summary>
let nugetPackageRoots () : string list =
    let fromEnvironment =
        match Environment.GetEnvironmentVariable "NUGET_PACKAGES" with
        | null
        | "" -> []
        | path -> [ path ]

    // In fsi, TorchSharp.dll is typically <root>/torchsharp/<version>/lib/<tfm>/TorchSharp.dll.
    let fromAssembly =
        match torchSharpAssembly.Location with
        | "" -> []
        | location ->
            let tfm = Directory.GetParent(location)
            let lib = tfm |> Option.ofObj |> Option.bind (fun d -> Option.ofObj d.Parent)
            let version = lib |> Option.bind (fun d -> Option.ofObj d.Parent)
            let package = version |> Option.bind (fun d -> Option.ofObj d.Parent)

            match lib, package with
            | Some l, Some p when
                l.Name = "lib"
                && p.Name.Equals("torchsharp", StringComparison.OrdinalIgnoreCase)
                && not (isNull p.Parent)
                ->
                [ p.Parent.FullName ]
            | _ -> []

    fromEnvironment
    @ [ Path.Combine(homeDirectory (), ".nuget", "packages") ]
    @ fromAssembly
    |> List.map Path.GetFullPath
    |> List.distinct

/// Package version folders to search: the exact one when known, else every version present (newest first).
let private packageVersionFolders (root: string) (package: string) (version: string option) =
    let packageDir = Path.Combine(root, package)

    match version with
    | Some v -> [ Path.Combine(packageDir, v) ]
    | None when Directory.Exists packageDir ->
        Directory.GetDirectories packageDir |> Array.sortDescending |> Array.toList
    | None -> []

/// <summary>The folders searched, in order, for libtorch's and TorchSharp's Linux x64 native libraries.</summary>
/// <remarks>
/// The app's own output (where the build copies <c>runtimes/linux-x64/native</c>), then next to
/// TorchSharp.dll, then the NuGet package folders (needed by <c>dotnet fsi</c> scripts, whose natives
/// are not next to any assembly).
/// </remarks>
let candidateNativeFolders () : string list =
    let nativeUnder (dir: string) =
        [ Path.Combine(dir, "runtimes", "linux-x64", "native"); dir ]

    let assemblyDirectory =
        match torchSharpAssembly.Location with
        | "" -> []
        | location -> [ Path.GetDirectoryName location ]

    let packageFolders root =
        [
            yield! packageVersionFolders root "libtorch-cpu-linux-x64" (libTorchVersion ())
            yield! packageVersionFolders root "torchsharp" (Some(torchSharpVersion ()))
        ]
        |> List.map (fun dir -> Path.Combine(dir, "runtimes", "linux-x64", "native"))

    [
        yield! nativeUnder AppContext.BaseDirectory
        for dir in assemblyDirectory do
            yield! nativeUnder dir
        for root in nugetPackageRoots () do
            yield! packageFolders root
    ]
    |> List.map (Path.GetFullPath >> Path.TrimEndingDirectorySeparator)
    |> List.distinct

/// <summary>The first candidate folder holding the given native file, as a full path to the file.</summary>
let tryFindNative (fileName: string) : string option =
    candidateNativeFolders ()
    |> List.map (fun dir -> Path.Combine(dir, fileName))
    |> List.tryFind File.Exists

let private failWith (message: string) : 'a =
    raise (InvalidOperationException message)

let private listed (folders: string list) =
    folders |> List.map (fun f -> "  " + f) |> String.concat Environment.NewLine

let private findLibTorchFolder folders =
    let holdsAll dir =
        libTorchFiles |> List.forall (fun f -> File.Exists(Path.Combine(dir, f)))

    match folders |> List.tryFind holdsAll with
    | Some dir -> dir
    | None ->
        failWith (
            sprintf
                "Keras native loader: no folder holds all of %s. Searched:%s%s"
                (String.Join(", ", libTorchFiles))
                Environment.NewLine
                (listed folders)
        )

let private findLibTorchSharp folders =
    match
        folders
        |> List.map (fun d -> Path.Combine(d, LibTorchSharpFile))
        |> List.tryFind File.Exists
    with
    | Some path -> path
    | None ->
        failWith (
            sprintf
                "Keras native loader: %s not found. Searched:%s%s"
                LibTorchSharpFile
                Environment.NewLine
                (listed folders)
        )

/// <summary>The folders, in order of preference, under which the patched library may be cached:
/// <c>$XDG_CACHE_HOME/keras-fsharp/native</c>, <c>~/.cache/keras-fsharp/native</c>, then a per-user temp folder.</summary>
let cacheRoots () : string list =
    let xdg =
        match Environment.GetEnvironmentVariable "XDG_CACHE_HOME" with
        | null
        | "" -> []
        | path when Path.IsPathRooted path -> [ Path.Combine(path, "keras-fsharp", "native") ]
        | _ -> [] // the XDG spec says relative values are invalid and must be ignored

    let home = homeDirectory ()

    let userCache =
        if String.IsNullOrEmpty home then
            []
        else
            [ Path.Combine(home, ".cache", "keras-fsharp", "native") ]

    // /tmp is shared between users, so the temp fallback carries the user name.
    let temp =
        Path.Combine(Path.GetTempPath(), "keras-fsharp-" + Environment.UserName, "native")

    xdg @ userCache @ [ temp ] |> List.map Path.GetFullPath |> List.distinct

let private isUnder (root: string) (path: string) =
    let root =
        Path.TrimEndingDirectorySeparator(Path.GetFullPath root)
        + string Path.DirectorySeparatorChar

    path.StartsWith(root, StringComparison.Ordinal)

let private contentKey (bytes: byte[]) =
    Convert.ToHexString(SHA256.HashData bytes).Substring(0, 16).ToLowerInvariant()

/// Writes beside the target, then renames: rename is atomic, so concurrent processes see either no file or
/// the whole file, and a process already using an older copy keeps its (unlinked) inode.
let private writeAtomically (path: string) (bytes: byte[]) =
    let temp = sprintf "%s.%s.tmp" path (Guid.NewGuid().ToString("N"))

    try
        File.WriteAllBytes(temp, bytes)
        File.Move(temp, path, true)
    finally
        try
            File.Delete temp // no-op when the move succeeded
        with _ ->
            ()

let private sameContent (path: string) (bytes: byte[]) =
    try
        File.Exists path
        && ReadOnlySpan(File.ReadAllBytes path).SequenceEqual(ReadOnlySpan bytes)
    with
    | :? IOException
    | :? UnauthorizedAccessException -> false

/// Puts the patched library in the first writable cache folder (reusing an identical copy) and returns its path.
let private cachePatched (patched: byte[]) =
    let folderName =
        sprintf "torchsharp-%s-%s" (torchSharpVersion ()) (contentKey patched)

    let packageRoots = nugetPackageRoots ()

    let attempt root =
        let dir = Path.Combine(root, folderName)
        let path = Path.Combine(dir, LibTorchSharpFile)

        if packageRoots |> List.exists (fun p -> isUnder p path) then
            Error(sprintf "%s: inside the NuGet package cache, never written to" dir)
        else
            try
                if not (sameContent path patched) then
                    Directory.CreateDirectory dir |> ignore
                    writeAtomically path patched

                Ok path
            with
            | :? IOException
            | :? UnauthorizedAccessException as e -> Error(sprintf "%s: %s" dir e.Message)

    let rec firstWritable roots failures =
        match roots with
        | [] ->
            failWith (
                sprintf
                    "Keras native loader: could not write the patched %s to any cache folder:%s%s"
                    LibTorchSharpFile
                    Environment.NewLine
                    (listed (List.rev failures))
            )
        | root :: rest ->
            match attempt root with
            | Ok path -> path
            | Error failure -> firstWritable rest (failure :: failures)

    firstWritable (cacheRoots ()) []

let private load (path: string) =
    try
        NativeLibrary.Load path |> ignore
    with :? DllNotFoundException as e ->
        failWith (sprintf "Keras native loader: loading %s failed: %s" path e.Message)

/// Loads libtorch, then the patched glue library; TorchSharp's own later load by name finds it by SONAME.
let private loadPatchedBackend () =
    let folders = candidateNativeFolders ()
    let original = findLibTorchSharp folders
    let bytes = File.ReadAllBytes original

    match ElfPatch.versionNeeds bytes with
    | Error e -> failWith (sprintf "Keras native loader: cannot read the ELF version needs of %s: %s" original e)
    // A TorchSharp build that does not ask for the missing version loads as it is.
    | Ok needs when not (needs |> List.exists (fun n -> n.Version = RequiredGlibcxx)) -> ()
    | Ok _ ->
        let patched =
            match ElfPatch.weakenVersionNeed bytes RequiredGlibcxx with
            | Ok weakened -> weakened
            | Error e -> failWith (sprintf "Keras native loader: cannot patch %s: %s" original e)

        let libTorchFolder = findLibTorchFolder folders
        let patchedPath = cachePatched patched

        for file in libTorchFiles do
            load (Path.Combine(libTorchFolder, file))

        load patchedPath

let private needsPatch () =
    OperatingSystem.IsLinux()
    && RuntimeInformation.ProcessArchitecture = Architecture.X64
    && not (systemHasGlibcxx RequiredGlibcxx)

let private loadIfNeeded () =
    if needsPatch () then
        loadPatchedBackend ()

let private loaded = lazy (loadIfNeeded ())

/// <summary>Prepares TorchSharp's native backend; call once before the first tensor operation.</summary>
/// <remarks>
/// On Linux x64 whose libstdc++ lacks <c>GLIBCXX_3.4.32</c>, loads libtorch and a patched copy of
/// <c>libLibTorchSharp.so</c> (cached outside the NuGet cache); elsewhere does nothing. Idempotent and
/// thread-safe. Must run before TorchSharp's <c>torch</c> class initialises, since a failed initialisation
/// is not retried by TorchSharp.
/// </remarks>
/// <exception cref="T:System.InvalidOperationException">When a native file is missing, the ELF patch
/// fails, or no cache folder is writable; the message lists what was tried.</exception>
let ensureLoaded () : unit = loaded.Force()
