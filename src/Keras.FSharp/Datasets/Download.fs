/// <summary>
/// Keras's <c>keras.utils.get_file</c>: downloads a file into the Keras cache (<c>$KERAS_HOME</c> or <c>~/.keras</c>,
/// subfolder <c>datasets</c> by default) unless it is already there, verifying its SHA-256 (or MD5) hash when one is given.
/// </summary>
/// <remarks>
/// A download goes to a temporary file in the target folder and is moved into place only when complete and verified,
/// so a failed download never leaves a partial file behind nor replaces a file that was already there.
/// Progress shows as a Spectre.Console bar on a terminal and as plain lines when output is redirected.
/// </remarks>
module Keras.Datasets.Download

open System
open System.Formats.Tar
open System.IO
open System.IO.Compression
open System.Net
open System.Net.Http
open System.Security.Cryptography
open System.Threading
open Keras
open Spectre.Console

/// <summary>The Keras home folder: <c>$KERAS_HOME</c> if set, else <c>~/.keras</c> (it may not exist).</summary>
/// <returns>The folder's path; files go into subfolders such as <c>datasets</c>.</returns>
let kerasHome () : string =
    match Environment.GetEnvironmentVariable "KERAS_HOME" with
    | null
    | "" -> Path.Combine(Environment.GetFolderPath Environment.SpecialFolder.UserProfile, ".keras")
    | home -> home

/// <summary>How a download reports its progress.</summary>
type DownloadProgress =
    /// <summary>A Spectre.Console progress bar on an interactive terminal; plain lines on standard output when it is redirected.</summary>
    | Auto
    /// <summary>Plain lines ("Downloading data from …", "Downloaded … bytes to …") written to the given writer.</summary>
    | Lines of writer: TextWriter
    /// <summary>Nothing is written.</summary>
    | Silent

/// <summary>Settings of <see cref="getFileWith"/>.</summary>
type DownloadOptions =
    {
        /// <summary>The cache root (Keras's <c>cache_dir</c>); files go to <c>CacheRoot/cacheSubdir/fileName</c>.</summary>
        CacheRoot: string
        /// <summary>
        /// The longest wait for the connection, the response headers, or any single read of the body;
        /// a slow but steady download never times out.
        /// </summary>
        Timeout: TimeSpan
        /// <summary>How progress is shown.</summary>
        Progress: DownloadProgress
        /// <summary>Download even when a cached file is present (Keras's <c>force_download</c>).</summary>
        ForceDownload: bool
    }

    /// <summary>Keras's defaults: the cache root is <see cref="kerasHome"/> (read now), a 60 s timeout, automatic progress.</summary>
    /// <returns>The default options.</returns>
    static member Default() : DownloadOptions =
        {
            CacheRoot = kerasHome ()
            Timeout = TimeSpan.FromSeconds 60.0
            Progress = Auto
            ForceDownload = false
        }

/// <summary>A download failed: HTTP error status, timeout, no connection, or a body cut short.</summary>
/// <param name="message">The full message; it names the URL and the target path.</param>
/// <param name="url">The URL that was requested.</param>
/// <param name="path">The cache path the file was to be saved to (left unchanged).</param>
/// <param name="statusCode">The HTTP status code when the server answered with an error status.</param>
/// <param name="inner">The underlying exception, or null.</param>
type DownloadException(message: string, url: string, path: string, statusCode: int option, inner: exn) =
    inherit IOException(message, inner)

    /// <summary>The URL that was requested.</summary>
    member _.Url = url

    /// <summary>The cache path the file was to be saved to; it was left as it was.</summary>
    member _.Path = path

    /// <summary>The HTTP status code, when the server answered with an error status.</summary>
    member _.StatusCode = statusCode

/// <summary>A downloaded file's hash differs from the expected one; the download was discarded.</summary>
/// <param name="url">The URL the file came from.</param>
/// <param name="path">The cache path the file was to be saved to (left unchanged).</param>
/// <param name="algorithm">"sha256" or "md5".</param>
/// <param name="expected">The expected hash (lowercase hex).</param>
/// <param name="actual">The hash of the bytes received (lowercase hex).</param>
/// <remarks>A <see cref="DownloadException"/> (so an <c>IOException</c>) without a status code.</remarks>
type FileHashMismatchException(url: string, path: string, algorithm: string, expected: string, actual: string) =
    inherit
        DownloadException(
            $"Incomplete or corrupted file detected: the {algorithm} hash of the file downloaded from '{url}' is {actual}, "
            + $"but the expected value is {expected}. The download was discarded and '{path}' was left as it was.",
            url,
            path,
            None,
            null
        )

    /// <summary>"sha256" or "md5".</summary>
    member _.Algorithm = algorithm

    /// <summary>The expected hash (lowercase hex).</summary>
    member _.Expected = expected

    /// <summary>The hash of the bytes received (lowercase hex).</summary>
    member _.Actual = actual

// ---------------------------------------------------------------------------------------------
// Hashes. As Keras's hash_algorithm="auto": 64 hex digits are SHA-256, 32 are MD5.
// ---------------------------------------------------------------------------------------------

/// A parsed expected hash.
type private ExpectedHash =
    {
        Algorithm: HashAlgorithmName
        Name: string
        Hex: string
    }

/// Validates an expected hash, raising InvalidArgument for anything but 64 or 32 hex digits.
let private parseHash (fileHash: string) : ExpectedHash =
    let hex = fileHash.Trim().ToLowerInvariant()
    let isHex = hex |> Seq.forall Uri.IsHexDigit

    match hex.Length with
    | 64 when isHex ->
        {
            Algorithm = HashAlgorithmName.SHA256
            Name = "sha256"
            Hex = hex
        }
    | 32 when isHex ->
        {
            Algorithm = HashAlgorithmName.MD5
            Name = "md5"
            Hex = hex
        }
    | _ ->
        Errors.raiseKeras (
            InvalidArgument(
                "get_file",
                "file_hash",
                "expected 64 hex digits (SHA-256) or 32 hex digits (MD5).",
                $"'{fileHash}'"
            )
        )

/// Lowercase hex of a digest.
let private toHex (digest: byte[]) : string =
    Convert.ToHexString(digest).ToLowerInvariant()

/// Hashes a file with the given algorithm.
let private hashWith (algorithm: HashAlgorithmName) (path: string) : string =
    use stream = File.OpenRead path

    if algorithm = HashAlgorithmName.MD5 then
        toHex (MD5.HashData stream)
    else
        toHex (SHA256.HashData stream)

/// <summary>The SHA-256 of a file as lowercase hex, as <c>sha256sum</c> prints it.</summary>
/// <param name="path">The file.</param>
/// <returns>64 lowercase hex digits.</returns>
let sha256File (path: string) : string = hashWith HashAlgorithmName.SHA256 path

/// <summary>Whether a file's hash equals the expected one (Keras's <c>validate_file</c>, case-insensitive).</summary>
/// <param name="path">The file.</param>
/// <param name="fileHash">A SHA-256 (64 hex digits) or MD5 (32 hex digits).</param>
/// <returns>True when the hashes match.</returns>
/// <exception cref="Keras.KerasException"><c>InvalidArgument</c> when the hash is neither 64 nor 32 hex digits.</exception>
let validateFile (path: string) (fileHash: string) : bool =
    let expected = parseHash fileHash
    hashWith expected.Algorithm path = expected.Hex

// ---------------------------------------------------------------------------------------------
// Progress.
// ---------------------------------------------------------------------------------------------

/// Writes a line where the progress mode says lines go (Auto: standard output).
let private say (progress: DownloadProgress) (text: string) : unit =
    match progress with
    | Silent -> ()
    | Lines writer -> writer.WriteLine text
    | Auto -> Console.Out.WriteLine text

/// Runs `work` (which receives a callback taking the bytes received so far) under the chosen progress display.
let private withProgress
    (progress: DownloadProgress)
    (label: string)
    (total: int64 option)
    (work: (int64 -> unit) -> 'T)
    : 'T =
    match progress with
    | Auto when Keras.Progress.isTerminal () ->
        let columns: ProgressColumn[] =
            [|
                TaskDescriptionColumn()
                ProgressBarColumn()
                PercentageColumn()
                DownloadedColumn()
                TransferSpeedColumn()
                RemainingTimeColumn()
            |]

        AnsiConsole
            .Progress()
            .AutoClear(false)
            .Columns(columns)
            .Start(
                Func<ProgressContext, 'T>(fun ctx ->
                    let task = ctx.AddTask(Markup.Escape label, true, float (defaultArg total 1L))
                    task.IsIndeterminate <- total.IsNone

                    let result = work (fun received -> task.Value <- float received)

                    task.IsIndeterminate <- false
                    task.MaxValue <- max task.Value 1.0
                    task.Value <- task.MaxValue
                    task.StopTask()
                    result)
            )
    | _ -> work ignore

// ---------------------------------------------------------------------------------------------
// The transfer.
// ---------------------------------------------------------------------------------------------

/// Checks the origin is an absolute http(s) URL.
let private parseUrl (url: string) : Uri =
    match Uri.TryCreate(url, UriKind.Absolute) with
    | true, uri when uri.Scheme = Uri.UriSchemeHttp || uri.Scheme = Uri.UriSchemeHttps -> uri
    | _ ->
        Errors.raiseKeras (
            InvalidArgument("get_file", "origin", "expected an absolute http:// or https:// URL.", $"'{url}'")
        )

/// The file name to save under: the given one, or the last segment of the URL's path (as Keras does).
let private resolveFileName (uri: Uri) (url: string) (fileName: string) : string =
    if String.IsNullOrEmpty fileName then
        match Path.GetFileName(Uri.UnescapeDataString uri.AbsolutePath) with
        | ""
        | null ->
            Errors.raiseKeras (
                InvalidArgument(
                    "get_file",
                    "origin",
                    "can't parse the file name from the origin; give `fname`.",
                    $"'{url}'"
                )
            )
        | name -> name
    elif fileName.IndexOfAny [| '/'; '\\' |] >= 0 || fileName = "." || fileName = ".." then
        Errors.raiseKeras (
            InvalidArgument(
                "get_file",
                "fname",
                "paths are not accepted as the file name; give the folder as the cache root or `cache_subdir`.",
                fileName
            )
        )
    else
        fileName

/// Streams the body of `url` into `temp`, returning the number of bytes and the hash of what was written.
/// Every failure is raised as a DownloadException naming the URL and the target path.
let private transfer
    (options: DownloadOptions)
    (uri: Uri)
    (url: string)
    (target: string)
    (temp: string)
    (algorithm: HashAlgorithmName)
    : int64 * string =
    let fail (statusCode: int option) (inner: exn) (reason: string) : 'a =
        raise (
            DownloadException(
                $"URL fetch failure on {url}: {reason} (saving to '{target}').",
                url,
                target,
                statusCode,
                inner
            )
        )

    use handler =
        new SocketsHttpHandler(ConnectTimeout = options.Timeout, AutomaticDecompression = DecompressionMethods.None)

    use client = new HttpClient(handler, false, Timeout = Timeout.InfiniteTimeSpan)
    client.DefaultRequestHeaders.UserAgent.ParseAdd "Keras.FSharp"
    use cts = new CancellationTokenSource(options.Timeout)
    let seconds = options.Timeout.TotalSeconds

    let timedOut (e: exn) =
        fail None e $"timed out: nothing received for {seconds:g} s"

    use response =
        try
            use request = new HttpRequestMessage(HttpMethod.Get, uri)
            client.Send(request, HttpCompletionOption.ResponseHeadersRead, cts.Token)
        with
        | :? OperationCanceledException as e -> timedOut e
        | :? HttpRequestException as e when e.HttpRequestError = HttpRequestError.NameResolutionError ->
            fail None e $"could not resolve the host '{uri.Host}' ({e.Message}); check the network connection"
        | :? HttpRequestException as e ->
            fail None e $"could not connect or no response ({e.Message}); check the network connection"

    if not response.IsSuccessStatusCode then
        let code = int response.StatusCode
        fail (Some code) null $"{code} -- {response.ReasonPhrase}"

    let total = response.Content.Headers.ContentLength |> Option.ofNullable
    use hasher = IncrementalHash.CreateHash algorithm
    let buffer = Array.zeroCreate<byte> 81920

    let received =
        try
            use body = response.Content.ReadAsStream cts.Token

            use file =
                new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None)

            withProgress options.Progress (Path.GetFileName target) total (fun report ->
                let mutable count = 0L
                let mutable finished = false

                while not finished do
                    // The timeout is a limit on silence: it restarts before every read.
                    cts.CancelAfter options.Timeout

                    let n =
                        body.ReadAsync(Memory<byte>(buffer), cts.Token).AsTask().GetAwaiter().GetResult()

                    if n = 0 then
                        finished <- true
                    else
                        file.Write(buffer, 0, n)
                        hasher.AppendData(buffer, 0, n)
                        count <- count + int64 n
                        report count

                count)
        with
        | :? OperationCanceledException as e -> timedOut e
        | :? IOException as e when cts.IsCancellationRequested -> timedOut e
        | :? HttpRequestException
        | :? IOException as e when not (e :? DownloadException) ->
            let expected =
                match total with
                | Some n -> $" of {n}"
                | None -> ""

            fail None e $"the connection failed during the transfer ({e.Message}); expected{expected} bytes"

    match total with
    | Some n when n <> received -> fail None null $"the response ended after {received} of {n} bytes"
    | _ -> ()

    received, toHex (hasher.GetHashAndReset())

/// <summary>
/// Keras's <c>get_file</c> with explicit options: returns the cached file <c>CacheRoot/cacheSubdir/fileName</c>,
/// downloading it from <paramref name="url"/> when it is absent, when its hash differs from <paramref name="fileHash"/>,
/// or when <c>ForceDownload</c> is set.
/// </summary>
/// <param name="options">Cache root, timeout, progress display and force flag.</param>
/// <param name="url">The origin: an absolute http:// or https:// URL.</param>
/// <param name="fileName">The file name in the cache; empty to take the last segment of the URL's path.</param>
/// <param name="cacheSubdir">The subfolder of the cache root, usually <c>"datasets"</c> (an absolute path is used as is).</param>
/// <param name="fileHash">The expected SHA-256 (64 hex digits) or MD5 (32 hex digits); <c>None</c> skips verification.</param>
/// <returns>The path of the verified file.</returns>
/// <remarks>
/// The body is written to a temporary file in the same folder, hashed while it is written, and moved over the target
/// only when complete and verified; on any failure the temporary file is deleted and the target is left as it was.
/// Unlike Keras there is no fallback to <c>/tmp/.keras</c> when the cache root is not writable.
/// </remarks>
/// <exception cref="Keras.KerasException"><c>InvalidArgument</c> for a malformed URL, file name or hash.</exception>
/// <exception cref="DownloadException">HTTP error status, timeout, no connection, or a body cut short; names the URL and path.</exception>
/// <exception cref="FileHashMismatchException">The bytes received do not have the expected hash; names URL, path and both hashes.</exception>
let getFileWith
    (options: DownloadOptions)
    (url: string)
    (fileName: string)
    (cacheSubdir: string)
    (fileHash: string option)
    : string =
    let uri = parseUrl url
    let name = resolveFileName uri url fileName
    let expected = fileHash |> Option.map parseHash
    let folder = Path.Combine(options.CacheRoot, cacheSubdir)
    let target = Path.Combine(folder, name)

    let cachedIsGood () =
        File.Exists target
        && match expected with
           | None -> true
           | Some h ->
               let actual = hashWith h.Algorithm target

               if actual <> h.Hex then
                   say
                       options.Progress
                       $"A local file was found at '{target}', but it seems to be incomplete or outdated because its {h.Name} hash {actual} does not match the expected value {h.Hex}; downloading it again."

               actual = h.Hex

    if not options.ForceDownload && cachedIsGood () then
        target
    else
        Directory.CreateDirectory folder |> ignore
        let temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.download")

        let algorithm =
            expected
            |> Option.map _.Algorithm
            |> Option.defaultValue HashAlgorithmName.SHA256

        say options.Progress $"Downloading data from {url}"

        try
            let received, actual = transfer options uri url target temp algorithm

            match expected with
            | Some h when h.Hex <> actual -> raise (FileHashMismatchException(url, target, h.Name, h.Hex, actual))
            | _ -> ()

            File.Move(temp, target, true)
            say options.Progress $"Downloaded {received} bytes to '{target}'"
            target
        finally
            if File.Exists temp then
                File.Delete temp

/// <summary>Keras's <c>get_file</c> with an explicit cache root (Keras's <c>cache_dir</c>) and default options.</summary>
/// <param name="cacheRoot">The cache root; the file goes to <c>cacheRoot/cacheSubdir/fileName</c>.</param>
/// <param name="url">The origin: an absolute http:// or https:// URL.</param>
/// <param name="fileName">The file name in the cache; empty to take the last segment of the URL's path.</param>
/// <param name="cacheSubdir">The subfolder of the cache root, usually <c>"datasets"</c>.</param>
/// <param name="fileHash">The expected SHA-256 (64 hex digits) or MD5 (32 hex digits); <c>None</c> skips verification.</param>
/// <returns>The path of the verified file.</returns>
/// <exception cref="DownloadException">HTTP error status, timeout, no connection, or a body cut short.</exception>
/// <exception cref="FileHashMismatchException">The bytes received do not have the expected hash.</exception>
let getFileIn
    (cacheRoot: string)
    (url: string)
    (fileName: string)
    (cacheSubdir: string)
    (fileHash: string option)
    : string =
    getFileWith
        { DownloadOptions.Default() with
            CacheRoot = cacheRoot
        }
        url
        fileName
        cacheSubdir
        fileHash

/// <summary>
/// Keras's <c>keras.utils.get_file(fname, origin, file_hash=…, cache_subdir=…)</c>: the file from the Keras cache
/// (<see cref="kerasHome"/>), downloaded first when absent or when its hash differs.
/// </summary>
/// <param name="url">The origin: an absolute http:// or https:// URL.</param>
/// <param name="fileName">The file name in the cache; empty to take the last segment of the URL's path.</param>
/// <param name="cacheSubdir">The subfolder of the Keras home, usually <c>"datasets"</c>.</param>
/// <param name="fileHash">The expected SHA-256 (64 hex digits) or MD5 (32 hex digits); <c>None</c> skips verification.</param>
/// <returns>The path of the verified file.</returns>
/// <exception cref="DownloadException">HTTP error status, timeout, no connection, or a body cut short.</exception>
/// <exception cref="FileHashMismatchException">The bytes received do not have the expected hash.</exception>
let getFile (url: string) (fileName: string) (cacheSubdir: string) (fileHash: string option) : string =
    getFileWith (DownloadOptions.Default()) url fileName cacheSubdir fileHash

/// <summary>Extracts a <c>.tar.gz</c> archive into a folder (created if needed), refusing entries that would land outside it.</summary>
/// <param name="archive">The archive file.</param>
/// <param name="destination">The folder to extract into; existing files with the same names are overwritten.</param>
/// <exception cref="System.IO.FileNotFoundException">The archive does not exist.</exception>
/// <exception cref="System.IO.InvalidDataException">The archive is not gzip, is corrupt, or has an entry outside the destination; names the archive.</exception>
let extractTarGz (archive: string) (destination: string) : unit =
    if not (File.Exists archive) then
        raise (FileNotFoundException($"archive not found: '{archive}'", archive))

    Directory.CreateDirectory destination |> ignore

    try
        use file = File.OpenRead archive
        use gzip = new GZipStream(file, CompressionMode.Decompress)
        TarFile.ExtractToDirectory(gzip, destination, true)
    with
    | :? InvalidDataException
    | :? IOException
    | :? FormatException as e when not (e :? FileNotFoundException) ->
        raise (
            InvalidDataException(
                $"could not extract the tar.gz archive '{archive}' into '{destination}': {e.Message}",
                e
            )
        )
