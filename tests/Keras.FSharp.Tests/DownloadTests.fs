/// Tests for Download.getFile, the MNIST download and CIFAR-10: a minimal HTTP/1.1 server on 127.0.0.1 (no other
/// network) serves a real mnist.npz built from shared/data/mnist, error statuses, wrong bytes, cut and stalled bodies.
module DownloadTests

open System
open System.Collections.Concurrent
open System.Formats.Tar
open System.IO
open System.IO.Compression
open System.Net
open System.Net.Sockets
open System.Security.Cryptography
open System.Text
open System.Threading
open System.Threading.Tasks
open Expecto
open Keras
open Keras.Datasets
open Keras.Datasets.Download

// ---------------------------------------------------------------------------------------------
// A loopback HTTP/1.1 server: one request per connection ("Connection: close"), fixed replies.
// ---------------------------------------------------------------------------------------------

/// What the server answers for a path.
type Reply =
    /// 200 with the bytes.
    | Body of byte[]
    /// An error status with an empty body.
    | Status of code: int * reason: string
    /// 200 declaring the full length, then only the first `sent` bytes, then the connection is closed.
    | CutAfter of body: byte[] * sent: int
    /// 200 declaring the full length, the first `sent` bytes, then silence until the server stops.
    | StallAfter of body: byte[] * sent: int
    /// Accepts the request and never answers until the server stops.
    | Stall

/// Serves `routes` on http://127.0.0.1:&lt;free port&gt;/; unknown paths get 404. Disposing stops everything.
type LoopbackServer(routes: (string * Reply) list) =
    let listener = new TcpListener(IPAddress.Loopback, 0)
    do listener.Start()
    let port = (listener.LocalEndpoint :?> IPEndPoint).Port
    let stop = new CancellationTokenSource()
    let hits = ConcurrentDictionary<string, int>()
    let table = Map.ofList routes

    /// Reads the request head (up to the blank line); bounded by 8 KB and by the server's stop token.
    let readHead (stream: NetworkStream) : Task<string> =
        task {
            let buffer = Array.zeroCreate<byte> 8192
            let mutable count = 0
            let mutable finished = false

            while not finished && count < buffer.Length do
                let! n = stream.ReadAsync(buffer, count, buffer.Length - count, stop.Token)

                if n = 0 then
                    finished <- true
                else
                    count <- count + n
                    finished <- Encoding.ASCII.GetString(buffer, 0, count).Contains "\r\n\r\n"

            return Encoding.ASCII.GetString(buffer, 0, count)
        }

    /// Answers one connection; every path ends by itself (the stalls end when the server stops, or after 10 s).
    let serve (client: TcpClient) : Task =
        task {
            use client = client

            try
                use stream = client.GetStream()
                let! head = readHead stream

                let path =
                    match head.Split ' ' with
                    | parts when parts.Length > 1 -> parts[1]
                    | _ -> ""

                hits.AddOrUpdate(path, 1, (fun _ n -> n + 1)) |> ignore

                let send (status: string) (length: int) (body: byte[]) (count: int) =
                    task {
                        let header =
                            Encoding.ASCII.GetBytes
                                $"HTTP/1.1 {status}\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"

                        do! stream.WriteAsync(header, 0, header.Length, stop.Token)
                        do! stream.WriteAsync(body, 0, count, stop.Token)
                        do! stream.FlushAsync stop.Token
                    }

                let silence () =
                    Task.Delay(TimeSpan.FromSeconds 10.0, stop.Token)

                match table.TryFind path with
                | Some(Body bytes) -> do! send "200 OK" bytes.Length bytes bytes.Length
                | Some(Status(code, reason)) -> do! send $"{code} {reason}" 0 [||] 0
                | Some(CutAfter(bytes, sent)) -> do! send "200 OK" bytes.Length bytes sent
                | Some(StallAfter(bytes, sent)) ->
                    do! send "200 OK" bytes.Length bytes sent
                    do! silence ()
                | Some Stall -> do! silence ()
                | None -> do! send "404 Not Found" 0 [||] 0
            with _ ->
                ()
        }

    /// Accepts until stopped.
    let loop: Task =
        task {
            try
                while not stop.IsCancellationRequested do
                    let! client = listener.AcceptTcpClientAsync stop.Token
                    serve client |> ignore
            with _ ->
                ()
        }

    /// The URL of a path on this server.
    member _.Url(path: string) = $"http://127.0.0.1:{port}{path}"

    /// How many requests a path received.
    member _.Hits(path: string) =
        match hits.TryGetValue path with
        | true, n -> n
        | _ -> 0

    /// All requests received.
    member _.TotalHits = hits.Values |> Seq.sum

    interface IDisposable with
        member _.Dispose() =
            stop.Cancel()
            listener.Stop()
            loop.Wait(TimeSpan.FromSeconds 5.0) |> ignore
            stop.Dispose()

/// Runs `f` with a server that is stopped afterwards whatever happens.
let private withServer (routes: (string * Reply) list) (f: LoopbackServer -> unit) : unit =
    use server = new LoopbackServer(routes)
    f server

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// Quiet download options rooted at a temporary folder, with a short timeout.
let private quiet (root: string) : DownloadOptions =
    { DownloadOptions.Default() with
        CacheRoot = root
        Progress = Silent
        Timeout = TimeSpan.FromSeconds 5.0
    }

/// The file names in a folder, sorted (hidden temporary files included); empty when it does not exist.
let private filesIn (folder: string) : string[] =
    if Directory.Exists folder then
        Directory.GetFileSystemEntries folder
        |> Array.map Path.GetFileName
        |> Array.sort
    else
        [||]

/// Lowercase hex SHA-256 / MD5 of bytes.
let private sha256 (bytes: byte[]) =
    Convert.ToHexString(SHA256.HashData bytes).ToLowerInvariant()

let private md5 (bytes: byte[]) =
    Convert.ToHexString(MD5.HashData bytes).ToLowerInvariant()

/// Deterministic bytes.
let private pattern (n: int) (seed: int) : byte[] =
    Array.init n (fun k -> byte ((k * 131 + seed * 17 + k / 251) % 256))

/// Runs `f` and returns the exception of type 'E it raises (subtypes included); fails otherwise.
let private raises<'E, 'T when 'E :> exn> (what: string) (f: unit -> 'T) : 'E =
    let outcome =
        try
            Choice1Of2(f ())
        with e ->
            Choice2Of2 e

    match outcome with
    | Choice2Of2(:? 'E as e) -> e
    | Choice2Of2 e -> failtestf "%s: expected %s, got %s: %s" what typeof<'E>.Name (e.GetType().Name) e.Message
    | Choice1Of2 _ -> failtestf "%s: expected %s, nothing was raised" what typeof<'E>.Name

/// Asserts a message contains every fragment.
let private mentions (message: string) (fragments: string list) =
    for fragment in fragments do
        Expect.stringContains message fragment $"the message names '{fragment}'"

/// Keras's mnist.npz rebuilt from the real MNIST in shared/data/mnist (deflated .npy v1 entries), built once.
let private realNpz: Lazy<byte[]> =
    lazy
        (let d = DatasetTests.realMnist.Value
         let path = Path.Combine(Path.GetTempPath(), $"mnist-{Guid.NewGuid():N}.npz")

         try
             DatasetTests.writeNpz
                 path
                 [
                     "x_train.npy", DatasetTests.npy 1 [| 60000; 28; 28 |] (DatasetTests.flatten d.XTrain)
                     "y_train.npy", DatasetTests.npy 1 [| 60000 |] d.YTrain
                     "x_test.npy", DatasetTests.npy 1 [| 10000; 28; 28 |] (DatasetTests.flatten d.XTest)
                     "y_test.npy", DatasetTests.npy 1 [| 10000 |] d.YTest
                 ]

             File.ReadAllBytes path
         finally
             File.Delete path)

// ---------------------------------------------------------------------------------------------
// getFile and the MNIST download.
// ---------------------------------------------------------------------------------------------

let private downloadTests =
    testList
        "getFile"
        [
            test "mnist.npz is downloaded, verified and read; later calls use the cache" {
                let npz = realNpz.Value
                let hash = sha256 npz

                withServer [ "/mnist.npz", Body npz ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/mnist.npz"
                        let options = quiet root
                        let (xTrain, yTrain), (xTest, yTest) = Mnist.loadDataWith options url (Some hash)

                        Expect.equal
                            [ Array3D.length1 xTrain; Array3D.length2 xTrain; Array3D.length3 xTrain ]
                            [ 60000; 28; 28 ]
                            "xTrain shape"

                        Expect.equal (Array3D.length1 xTest) 10000 "xTest count"
                        Expect.equal yTrain[0] 5uy "first training label"
                        Expect.equal yTest[0] 7uy "first test label"
                        let real = DatasetTests.realMnist.Value

                        Expect.equal
                            (sha256 (DatasetTests.flatten xTrain))
                            (sha256 (DatasetTests.flatten real.XTrain))
                            "the downloaded training images are MNIST's"

                        Expect.equal server.TotalHits 1 "one request"
                        let datasets = Path.Combine(root, "datasets")
                        Expect.equal (filesIn datasets) [| "mnist.npz" |] "only mnist.npz in the cache"
                        let cached = Path.Combine(datasets, "mnist.npz")
                        Expect.equal (Download.sha256File cached) hash "the cached file is the served one"

                        Expect.isTrue
                            (Download.validateFile cached (hash.ToUpperInvariant()))
                            "validateFile ignores case"

                        let (xTrain2, _), _ = Mnist.loadDataWith options url (Some hash)
                        Expect.equal (Array3D.length1 xTrain2) 60000 "second load"
                        let path = Download.getFileWith options url "mnist.npz" "datasets" (Some hash)
                        Expect.equal path cached "getFile returns the cached path"
                        Expect.equal server.TotalHits 1 "the cache served both later calls"))
            }

            test "hash mismatch names URL, path and both hashes; nothing is left in the cache" {
                let good = pattern 100_000 1
                let wrong = pattern 100_000 2

                withServer [ "/data.bin", Body wrong ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/data.bin"
                        let target = Path.Combine(root, "datasets", "data.bin")

                        let e =
                            raises<FileHashMismatchException, _> "sha256 mismatch" (fun () ->
                                Download.getFileWith (quiet root) url "data.bin" "datasets" (Some(sha256 good)))

                        mentions e.Message [ url; target; sha256 good; sha256 wrong; "sha256" ]
                        Expect.equal (e.Expected, e.Actual) (sha256 good, sha256 wrong) "hashes as data"
                        Expect.isTrue (e :> exn :? IOException) "an IOException"
                        Expect.equal (filesIn (Path.Combine(root, "datasets"))) [||] "no file, no temporary file"

                        let e =
                            raises<FileHashMismatchException, _> "md5 mismatch" (fun () ->
                                Download.getFileWith (quiet root) url "data.bin" "datasets" (Some(md5 good)))

                        mentions e.Message [ "md5"; md5 good; md5 wrong ]
                        Expect.equal (filesIn (Path.Combine(root, "datasets"))) [||] "still nothing"
                        // The right MD5 is accepted, as Keras's hash_algorithm="auto".
                        let path =
                            Download.getFileWith (quiet root) url "data.bin" "datasets" (Some(md5 wrong))

                        Expect.equal (File.ReadAllBytes path) wrong "saved with a matching md5"))
            }

            test "a failed re-download leaves the existing file untouched; a matching one is reused" {
                let good = pattern 50_000 3
                let wrong = pattern 50_000 4

                withServer [ "/data.bin", Body wrong ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/data.bin"
                        let datasets = Path.Combine(root, "datasets")
                        Directory.CreateDirectory datasets |> ignore
                        let target = Path.Combine(datasets, "data.bin")
                        File.WriteAllBytes(target, good)

                        let path =
                            Download.getFileWith (quiet root) url "data.bin" "datasets" (Some(sha256 good))

                        Expect.equal path target "a cached file with the right hash is returned"
                        Expect.equal server.TotalHits 0 "without a request"

                        raises<FileHashMismatchException, _> "forced download of wrong bytes" (fun () ->
                            Download.getFileWith
                                { quiet root with ForceDownload = true }
                                url
                                "data.bin"
                                "datasets"
                                (Some(sha256 good)))
                        |> ignore

                        Expect.equal server.TotalHits 1 "forced: one request"
                        Expect.equal (File.ReadAllBytes target) good "the good file is untouched"
                        Expect.equal (filesIn datasets) [| "data.bin" |] "no temporary file"

                        // An outdated cached file is downloaded again; when that fails it stays as it was.
                        let old = Encoding.ASCII.GetBytes "an older version"
                        File.WriteAllBytes(target, old)
                        use log = new StringWriter()

                        raises<FileHashMismatchException, _> "re-download of an outdated file" (fun () ->
                            Download.getFileWith
                                { quiet root with Progress = Lines log }
                                url
                                "data.bin"
                                "datasets"
                                (Some(sha256 good)))
                        |> ignore

                        mentions
                            (string log)
                            [ "A local file was found"; target; sha256 old; $"Downloading data from {url}" ]

                        Expect.equal server.TotalHits 2 "one more request"
                        Expect.equal (File.ReadAllBytes target) old "the outdated file is untouched"))
            }

            test "HTTP error statuses name the URL and the status; no file is created" {
                withServer [ "/busy", Status(503, "Service Unavailable") ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/missing.npz"

                        let e =
                            raises<DownloadException, _> "404" (fun () ->
                                Download.getFileWith (quiet root) url "missing.npz" "datasets" None)

                        mentions e.Message [ url; "404"; "Not Found"; Path.Combine(root, "datasets", "missing.npz") ]
                        Expect.equal e.StatusCode (Some 404) "status code as data"
                        Expect.equal e.Url url "URL as data"
                        let busy = server.Url "/busy"

                        let e =
                            raises<DownloadException, _> "503" (fun () ->
                                Download.getFileWith (quiet root) busy "" "datasets" None)

                        mentions e.Message [ busy; "503"; "Service Unavailable" ]
                        Expect.equal (filesIn (Path.Combine(root, "datasets"))) [||] "no file"))
            }

            test "a body cut short raises an error naming the URL and leaves no partial file" {
                let bytes = pattern 300_000 5

                withServer [ "/cut.bin", CutAfter(bytes, 100_000) ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/cut.bin"
                        let datasets = Path.Combine(root, "datasets")

                        let e =
                            raises<DownloadException, _> "cut" (fun () ->
                                Download.getFileWith (quiet root) url "cut.bin" "datasets" None)

                        mentions e.Message [ url; "300000" ]
                        Expect.equal (filesIn datasets) [||] "no partial file"

                        // With an existing file at the target, it survives the failed download.
                        File.WriteAllBytes(Path.Combine(datasets, "cut.bin"), [| 1uy; 2uy |])

                        raises<DownloadException, _> "cut, forced" (fun () ->
                            Download.getFileWith
                                { quiet root with ForceDownload = true }
                                url
                                "cut.bin"
                                "datasets"
                                None)
                        |> ignore

                        Expect.equal (File.ReadAllBytes(Path.Combine(datasets, "cut.bin"))) [| 1uy; 2uy |] "untouched"
                        Expect.equal (filesIn datasets) [| "cut.bin" |] "no temporary file"))
            }

            test "silence times out, before the headers and in the middle of the body" {
                let bytes = pattern 200_000 6

                withServer [ "/stall", Stall; "/stall-body", StallAfter(bytes, 50_000) ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let options =
                            { quiet root with
                                Timeout = TimeSpan.FromMilliseconds 300.0
                            }

                        for path in [ "/stall"; "/stall-body" ] do
                            let url = server.Url path

                            let e =
                                raises<DownloadException, _> path (fun () ->
                                    Download.getFileWith options url "file.bin" "datasets" None)

                            mentions e.Message [ url; "timed out"; "0.3 s" ]

                        Expect.equal (filesIn (Path.Combine(root, "datasets"))) [||] "no partial file"))
            }

            test "no server listening: the error names the URL" {
                let closed = new TcpListener(IPAddress.Loopback, 0)
                closed.Start()
                let port = (closed.LocalEndpoint :?> IPEndPoint).Port
                closed.Stop()

                DatasetTests.withTempDir (fun root ->
                    let url = $"http://127.0.0.1:{port}/mnist.npz"

                    let e =
                        raises<DownloadException, _> "refused" (fun () ->
                            Download.getFileWith (quiet root) url "mnist.npz" "datasets" None)

                    mentions e.Message [ url; "could not connect"; Path.Combine(root, "datasets", "mnist.npz") ]
                    Expect.isNone e.StatusCode "no status"
                    Expect.equal (filesIn (Path.Combine(root, "datasets"))) [||] "no file")
            }

            test "the file name defaults to the URL's last segment; progress lines; absolute cache_subdir" {
                let bytes = pattern 1234 7

                withServer [ "/files/data.bin", Body bytes ] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/files/data.bin"
                        use log = new StringWriter()

                        let path =
                            Download.getFileWith { quiet root with Progress = Lines log } url "" "models" None

                        Expect.equal path (Path.Combine(root, "models", "data.bin")) "name from the URL, subfolder"
                        Expect.equal (File.ReadAllBytes path) bytes "content"
                        mentions (string log) [ $"Downloading data from {url}"; "Downloaded 1234 bytes"; path ]
                        let elsewhere = Path.Combine(root, "elsewhere")
                        let other = Download.getFileWith (quiet root) url "copy.bin" elsewhere None

                        Expect.equal
                            other
                            (Path.Combine(elsewhere, "copy.bin"))
                            "an absolute cache_subdir is used as is"))
            }

            test "malformed hash, URL or file name raise InvalidArgument before any request" {
                withServer [] (fun server ->
                    DatasetTests.withTempDir (fun root ->
                        let url = server.Url "/x.bin"

                        let invalid (argument: string) (f: unit -> string) =
                            let e = raises<KerasException, _> argument f

                            match e.Error with
                            | InvalidArgument("get_file", name, _, _) -> Expect.equal name argument "argument named"
                            | other -> failtestf "expected InvalidArgument for %s, got %A" argument other

                        invalid "file_hash" (fun () ->
                            Download.getFileWith (quiet root) url "x.bin" "datasets" (Some "abc"))

                        invalid "file_hash" (fun () ->
                            Download.getFileWith (quiet root) url "x.bin" "datasets" (Some(System.String('z', 64))))

                        invalid "origin" (fun () ->
                            Download.getFileWith (quiet root) "ftp://host/x.bin" "x.bin" "datasets" None)

                        invalid "origin" (fun () -> Download.getFileWith (quiet root) "x.bin" "" "datasets" None)

                        invalid "origin" (fun () ->
                            Download.getFileWith (quiet root) (server.Url "/") "" "datasets" None)

                        invalid "fname" (fun () -> Download.getFileWith (quiet root) url "../x.bin" "datasets" None)
                        Expect.equal server.TotalHits 0 "no request was made"))
            }
        ]

// ---------------------------------------------------------------------------------------------
// CIFAR-10: synthetic binary batches.
// ---------------------------------------------------------------------------------------------

/// The test's pixel rule: record r (counted across all files of a split), channel c, row i, column j.
let private pixel (seed: int) (r: int) (c: int) (i: int) (j: int) : byte =
    byte ((seed * 101 + r * 7 + c * 50 + i * 3 + j * 5) % 256)

/// A label rule giving every class.
let private label (seed: int) (r: int) : byte = byte ((r * 3 + seed) % 10)

/// Binary records as the dataset authors describe them: label, then the R, G and B planes row by row.
let private records (seed: int) (first: int) (count: int) : byte[] =
    [|
        for r in first .. first + count - 1 do
            yield label seed r

            for c in 0..2 do
                for i in 0..31 do
                    for j in 0..31 do
                        yield pixel seed r c i j
    |]

/// Record counts of the five training batches in the synthetic set.
let private trainCounts = [ 2; 1; 3; 1; 2 ]

/// Writes cifar-10-batches-bin with the synthetic batches into `parent`; returns the batch folder.
let private writeCifar (parent: string) : string =
    let folder = Path.Combine(parent, Cifar10.BatchFolder)
    Directory.CreateDirectory folder |> ignore
    let mutable first = 0

    for name, count in List.zip Cifar10.TrainBatchFiles trainCounts do
        File.WriteAllBytes(Path.Combine(folder, name), records 1 first count)
        first <- first + count

    File.WriteAllBytes(Path.Combine(folder, Cifar10.TestBatchFile), records 2 0 2)
    folder

/// Checks images and labels against the pixel and label rules, every element.
let private checkSplit (what: string) (seed: int) (x: byte[,,,]) (y: byte[]) (n: int) =
    Expect.equal
        [ Array4D.length1 x; Array4D.length2 x; Array4D.length3 x; Array4D.length4 x ]
        [ n; 32; 32; 3 ]
        $"{what} shape"

    Expect.equal y (Array.init n (label seed)) $"{what} labels"

    for r in 0 .. n - 1 do
        for i in 0..31 do
            for j in 0..31 do
                for c in 0..2 do
                    if x[r, i, j, c] <> pixel seed r c i j then
                        failtestf
                            "%s[%d, %d, %d, %d] is %d, expected %d"
                            what
                            r
                            i
                            j
                            c
                            x[r, i, j, c]
                            (pixel seed r c i j)

/// A tar.gz of a folder (with the folder's name as the top entry), in memory.
let private tarGz (folder: string) : byte[] =
    use output = new MemoryStream()

    (use gzip = new GZipStream(output, CompressionLevel.Fastest, true)
     TarFile.CreateFromDirectory(folder, gzip, true))

    output.ToArray()

let private cifarTests =
    testList
        "Cifar10"
        [
            test "binary batches become channels-last images and labels, batches in order" {
                DatasetTests.withTempDir (fun dir ->
                    let folder = writeCifar dir
                    let (xTrain, yTrain), (xTest, yTest) = Cifar10.loadDataFrom dir
                    checkSplit "xTrain" 1 xTrain yTrain 9
                    checkSplit "xTest" 2 xTest yTest 2
                    // By hand: seed 1, record 0, row 0, column 1 is 101 + 5 + 50c for channel c.
                    Expect.equal
                        [ xTrain[0, 0, 1, 0]; xTrain[0, 0, 1, 1]; xTrain[0, 0, 1, 2] ]
                        [ 106uy; 156uy; 206uy ]
                        "RGB"
                    // The second training batch's single record is record 2 of the split: label (2·3 + 1) mod 10 = 7.
                    Expect.equal yTrain[2] 7uy "batches concatenated in order"
                    let d = Cifar10.loadFrom folder
                    Expect.equal d.YTrain yTrain "the batch folder itself works too"
                    let y2 = Cifar10.yAs2D yTest
                    Expect.equal [ Array2D.length1 y2; Array2D.length2 y2 ] [ 2; 1 ] "yAs2D shape"
                    Expect.equal [ y2[0, 0]; y2[1, 0] ] [ yTest[0]; yTest[1] ] "yAs2D values"
                    Expect.equal Cifar10.classNames[int yTest[1]] "dog" "label 5 is 'dog'")
            }

            test "a wrong record size, a bad label or a missing batch names the file" {
                DatasetTests.withTempDir (fun dir ->
                    let folder = writeCifar dir
                    let batch3 = Path.Combine(folder, "data_batch_3.bin")
                    File.WriteAllBytes(batch3, Array.append (records 1 0 2) (Array.zeroCreate 5))

                    let e =
                        raises<InvalidDataException, _> "record size" (fun () -> Cifar10.loadFrom dir)

                    mentions e.Message [ batch3; "3073-byte records"; "6151 bytes"; "2 records and 5 bytes left over" ]

                    File.WriteAllBytes(batch3, [||])
                    let e = raises<InvalidDataException, _> "empty" (fun () -> Cifar10.loadFrom dir)
                    mentions e.Message [ batch3; "found 0 bytes" ]

                    let bad = records 1 0 2
                    bad[Cifar10.RecordSize] <- 10uy
                    File.WriteAllBytes(batch3, bad)
                    let e = raises<InvalidDataException, _> "label" (fun () -> Cifar10.loadFrom dir)
                    mentions e.Message [ batch3; "label 10 of record 1" ]

                    File.Delete batch3
                    File.Delete(Path.Combine(folder, Cifar10.TestBatchFile))
                    let e = raises<FileNotFoundException, _> "missing" (fun () -> Cifar10.loadFrom dir)
                    mentions e.Message [ batch3; Path.Combine(folder, Cifar10.TestBatchFile); "data_batch_5.bin" ])
            }

            test "the binary archive is downloaded, verified, extracted, then read from the cache" {
                DatasetTests.withTempDir (fun source ->
                    let archive = tarGz (writeCifar source)
                    // An archive lacking the test batch.
                    File.Delete(Path.Combine(source, Cifar10.BatchFolder, Cifar10.TestBatchFile))
                    let partial = tarGz (Path.Combine(source, Cifar10.BatchFolder))

                    withServer [ "/cifar.tar.gz", Body archive; "/partial.tar.gz", Body partial ] (fun server ->
                        DatasetTests.withTempDir (fun root ->
                            let url = server.Url "/cifar.tar.gz"

                            let (xTrain, yTrain), (xTest, yTest) =
                                Cifar10.loadDataWith (quiet root) url (Some(md5 archive))

                            checkSplit "xTrain" 1 xTrain yTrain 9
                            checkSplit "xTest" 2 xTest yTest 2
                            let datasets = Path.Combine(root, "datasets")

                            Expect.equal
                                (filesIn datasets)
                                [| Cifar10.BatchFolder; Cifar10.ArchiveFile |]
                                "archive and folder only"

                            let (_, yTrain2), _ = Cifar10.loadDataWith (quiet root) url (Some(md5 archive))
                            Expect.equal yTrain2 yTrain "second load"
                            Expect.equal server.TotalHits 1 "the second load used the extracted folder"

                            let partialUrl = server.Url "/partial.tar.gz"

                            let e =
                                raises<InvalidDataException, _> "archive without test_batch.bin" (fun () ->
                                    Cifar10.loadWith { quiet root with ForceDownload = true } partialUrl None)

                            mentions
                                e.Message
                                [
                                    partialUrl
                                    Cifar10.TestBatchFile
                                    Path.Combine(datasets, Cifar10.ArchiveFile)
                                ]
                            // The complete cached folder is kept; only the (unverified) archive was replaced.
                            Expect.equal
                                (filesIn datasets)
                                [| Cifar10.BatchFolder; Cifar10.ArchiveFile |]
                                "no staging folder left"

                            Expect.equal (Cifar10.loadFrom datasets).YTest yTest "the cached batches are intact")))
            }
        ]

/// All download and CIFAR-10 tests.
[<Tests>]
let tests = testList "Download" [ downloadTests; cifarTests ]
