namespace Keras

open System
open System.IO
open System.IO.Compression

/// Reading one member of a zip archive (a <c>.keras</c> file) without trusting the archive: the member must be unique,
/// may not expand beyond a bound, and must match the length and CRC-32 its header declares.
module internal ZipMember =
    let private table =
        Array.init 256 (fun n ->
            let mutable c = uint32 n

            for _ in 1..8 do
                c <-
                    if c &&& 1u <> 0u then
                        0xEDB88320u ^^^ (c >>> 1)
                    else
                        c >>> 1

            c)

    /// <summary>Continues a CRC-32 (zip's polynomial) over <paramref name="count"/> bytes; start with 0.</summary>
    let crc32 (crc: uint32) (bytes: byte[]) (offset: int) (count: int) =
        let mutable c = ~~~crc

        for i in offset .. offset + count - 1 do
            c <- table[int ((c ^^^ uint32 bytes[i]) &&& 0xFFu)] ^^^ (c >>> 8)

        ~~~c

    /// <summary>The bytes of the archive member <paramref name="name"/>, or why they cannot be trusted. Refuses an
    /// archive holding the member more than once, a member declaring or expanding to more than
    /// <paramref name="limit"/> bytes, and one whose content differs from its declared length or CRC-32.</summary>
    /// <param name="path">The zip file.</param>
    /// <param name="name">The member's full name.</param>
    /// <param name="limit">The most bytes the member may hold.</param>
    /// <param name="missing">The reason given when the archive has no such member, from the names it has.</param>
    let read (path: string) (name: string) (limit: int64) (missing: string list -> string) : Result<byte[], string> =
        let archive =
            try
                Ok(ZipFile.OpenRead path)
            with ex ->
                Error $"The file is not a `.keras` archive (a zip file): {ex.Message}"

        match archive with
        | Error e -> Error e
        | Ok archive ->
            use archive = archive

            try
                let entries = archive.Entries |> Seq.toList

                match entries |> List.filter (fun e -> e.FullName = name) with
                | [] -> Error(missing (entries |> List.map _.FullName))
                | _ :: _ :: _ as all ->
                    Error
                        $"The archive holds {all.Length} members named `{name}`; Keras would read the last one and this library the first, so the archive is refused as ambiguous."
                | [ entry ] ->
                    let declared = entry.Length
                    let bound = min limit (int64 Array.MaxLength)

                    if declared < 0L || declared > bound then
                        Error
                            $"The archive's `{name}` declares {declared} bytes, more than the {bound} bytes the model's weights can take; the archive is refused."
                    else
                        let buffer = Array.zeroCreate<byte>(int declared)
                        use content = entry.Open()
                        let mutable total = 0
                        let mutable crc = 0u
                        let mutable finished = false
                        let mutable overflow = false

                        while not finished && not overflow do
                            let n =
                                if total < buffer.Length then
                                    content.Read(buffer, total, buffer.Length - total)
                                else
                                    // Anything beyond the declared length means the header lied.
                                    let probe = Array.zeroCreate<byte> 1
                                    let extra = content.Read(probe, 0, 1)

                                    if extra > 0 then
                                        overflow <- true

                                    0

                            if n = 0 then
                                finished <- true
                            else
                                crc <- crc32 crc buffer total n
                                total <- total + n

                        if overflow then
                            Error
                                $"The archive's `{name}` expands to more than the {declared} bytes its header declares; the archive is damaged or hostile."
                        elif int64 total <> declared then
                            Error
                                $"The archive's `{name}` holds {total} bytes, but its header declares {declared}; the archive is truncated or damaged."
                        elif crc <> entry.Crc32 then
                            Error
                                $"The archive's `{name}` fails its CRC-32 check (stored {entry.Crc32:X8}, computed {crc:X8}); the archive is damaged."
                        else
                            Ok buffer
            with ex ->
                Error $"The archive's `{name}` could not be read: {ex.GetType().Name}: {ex.Message}"
