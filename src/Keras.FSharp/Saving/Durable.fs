namespace Keras

open System
open System.IO
open System.Runtime.InteropServices

/// Replacing a file so that a crash at any moment leaves either the complete old or the complete new version:
/// write a temporary file beside it, flush it to disk, rename it over the target, flush the folder.
module internal Durable =
    [<DllImport("libc", EntryPoint = "open", SetLastError = true)>]
    extern int private sysOpen(string path, int flags)

    [<DllImport("libc", EntryPoint = "fsync", SetLastError = true)>]
    extern int private sysFsync(int fd)

    [<DllImport("libc", EntryPoint = "close", SetLastError = true)>]
    extern int private sysClose(int fd)

    /// The marker in the names of temporary files: <c>.&lt;target name&gt;.saving-&lt;32 hex digits&gt;.tmp</c>.
    [<Literal>]
    let Marker = ".saving-"

    /// A fresh temporary file name beside the target.
    let tempFor (target: string) =
        Path.Combine(Path.GetDirectoryName target, $".{Path.GetFileName target}{Marker}{Guid.NewGuid():N}.tmp")

    /// True when a file name is one of <see cref="tempFor"/>'s for the target.
    let isTempOf (target: string) (file: string) =
        let name = Path.GetFileName file
        let prefix = $".{Path.GetFileName target}{Marker}"

        name.StartsWith(prefix, StringComparison.Ordinal)
        && name.EndsWith(".tmp", StringComparison.Ordinal)
        && name.Length = prefix.Length + 32 + 4
        && name.Substring(prefix.Length, 32) |> Seq.forall Uri.IsHexDigit

    /// Removes temporary files that interrupted saves of the same target left behind (best effort).
    let removeStaleTemps (target: string) =
        try
            for file in Directory.EnumerateFiles(Path.GetDirectoryName target, $".{Path.GetFileName target}*") do
                if isTempOf target file then
                    try
                        File.Delete file
                    with _ ->
                        ()
        with _ ->
            ()

    /// Flushes a file's content to disk.
    let flushFile (path: string) =
        use stream =
            new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)

        stream.Flush true

    /// Flushes a folder's entries (a rename) to disk, where the system allows it (POSIX); best effort.
    let flushFolder (folder: string) =
        if not (OperatingSystem.IsWindows()) then
            try
                let fd = sysOpen (folder, 0)

                if fd >= 0 then
                    sysFsync fd |> ignore
                    sysClose fd |> ignore
            with
            | :? DllNotFoundException
            | :? EntryPointNotFoundException -> ()

    /// Flushes the temporary file, renames it over the target and flushes the folder.
    let replace (temp: string) (target: string) =
        flushFile temp
        File.Move(temp, target, true)
        flushFolder (Path.GetDirectoryName target)
