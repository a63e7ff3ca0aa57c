namespace Keras

open System
open System.Buffers.Binary
open System.Text

/// <summary>FarmHash's <c>Fingerprint64</c> (farmhashna <c>Hash64</c>), the hash behind TensorFlow's
/// <c>tf.strings.to_hash_bucket_fast</c> that Keras's <c>Hashing</c> layer uses: a stable 64-bit fingerprint of a byte
/// string, the same on every platform.</summary>
[<RequireQualifiedAccess>]
module FarmHash =
    let private k0 = 0xc3a5c85c97cb3127UL
    let private k1 = 0xb492b66fbe98f273UL
    let private k2 = 0x9ae16a3b2f90404fUL

    let inline private fetch64 (s: ReadOnlySpan<byte>) (i: int) =
        BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(i, 8))

    let inline private fetch32 (s: ReadOnlySpan<byte>) (i: int) =
        uint64 (BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(i, 4)))

    let inline private rotate (v: uint64) (shift: int) =
        if shift = 0 then v else (v >>> shift) ||| (v <<< (64 - shift))

    let inline private shiftMix (v: uint64) = v ^^^ (v >>> 47)

    let private hashLen16 (u: uint64) (v: uint64) (mul: uint64) =
        let a = (u ^^^ v) * mul
        let a = a ^^^ (a >>> 47)
        let b = (v ^^^ a) * mul
        let b = b ^^^ (b >>> 47)
        b * mul

    let private hashLen0to16 (s: ReadOnlySpan<byte>) =
        let len = s.Length

        if len >= 8 then
            let mul = k2 + uint64 len * 2UL
            let a = fetch64 s 0 + k2
            let b = fetch64 s (len - 8)
            let c = rotate b 37 * mul + a
            let d = (rotate a 25 + b) * mul
            hashLen16 c d mul
        elif len >= 4 then
            let mul = k2 + uint64 len * 2UL
            let a = fetch32 s 0
            hashLen16 (uint64 len + (a <<< 3)) (fetch32 s (len - 4)) mul
        elif len > 0 then
            let a = uint32 s[0]
            let b = uint32 s[len >>> 1]
            let c = uint32 s[len - 1]
            let y = a + (b <<< 8)
            let z = uint32 len + (c <<< 2)
            shiftMix ((uint64 y * k2) ^^^ (uint64 z * k0)) * k2
        else
            k2

    let private hashLen17to32 (s: ReadOnlySpan<byte>) =
        let len = s.Length
        let mul = k2 + uint64 len * 2UL
        let a = fetch64 s 0 * k1
        let b = fetch64 s 8
        let c = fetch64 s (len - 8) * mul
        let d = fetch64 s (len - 16) * k2
        hashLen16 (rotate (a + b) 43 + rotate c 30 + d) (a + rotate (b + k2) 18 + c) mul

    let private hashLen33to64 (s: ReadOnlySpan<byte>) =
        let len = s.Length
        let mul = k2 + uint64 len * 2UL
        let a = fetch64 s 0 * k2
        let b = fetch64 s 8
        let c = fetch64 s (len - 8) * mul
        let d = fetch64 s (len - 16) * k2
        let y = rotate (a + b) 43 + rotate c 30 + d
        let z = hashLen16 y (a + rotate (b + k2) 18 + c) mul
        let e = fetch64 s 16 * mul
        let f = fetch64 s 24
        let g = (y + fetch64 s (len - 32)) * mul
        let h = (z + fetch64 s (len - 24)) * mul
        hashLen16 (rotate (e + f) 43 + rotate g 30 + h) (e + rotate (f + a) 18 + g) mul

    let private weakHashLen32WithSeeds (s: ReadOnlySpan<byte>) (i: int) (a: uint64) (b: uint64) =
        let w = fetch64 s i
        let x = fetch64 s (i + 8)
        let y = fetch64 s (i + 16)
        let z = fetch64 s (i + 24)
        let a = a + w
        let b = rotate (b + a + z) 21
        let c = a
        let a = a + x + y
        let b = b + rotate a 44
        struct (a + z, b + c)

    let private hashLong (s: ReadOnlySpan<byte>) =
        let len = s.Length
        let seed = 81UL
        let mutable x = seed
        let mutable y = seed * k1 + 113UL
        let mutable z = shiftMix (y * k2 + 113UL) * k2
        let mutable v1, v2 = 0UL, 0UL
        let mutable w1, w2 = 0UL, 0UL
        x <- x * k2 + fetch64 s 0
        let last = ((len - 1) / 64) * 64
        let last64 = last + ((len - 1) &&& 63) - 63
        let mutable p = 0

        while p <> last do
            x <- rotate (x + y + v1 + fetch64 s (p + 8)) 37 * k1
            y <- rotate (y + v2 + fetch64 s (p + 48)) 42 * k1
            x <- x ^^^ w2
            y <- y + v1 + fetch64 s (p + 40)
            z <- rotate (z + w1) 33 * k1
            let struct (a, b) = weakHashLen32WithSeeds s p (v2 * k1) (x + w1)
            v1 <- a
            v2 <- b
            let struct (c, d) = weakHashLen32WithSeeds s (p + 32) (z + w2) (y + fetch64 s (p + 16))
            w1 <- c
            w2 <- d
            let t = z
            z <- x
            x <- t
            p <- p + 64

        let mul = k1 + ((z &&& 0xffUL) <<< 1)
        p <- last64
        w1 <- w1 + uint64 ((len - 1) &&& 63)
        v1 <- v1 + w1
        w1 <- w1 + v1
        x <- rotate (x + y + v1 + fetch64 s (p + 8)) 37 * mul
        y <- rotate (y + v2 + fetch64 s (p + 48)) 42 * mul
        x <- x ^^^ (w2 * 9UL)
        y <- y + v1 * 9UL + fetch64 s (p + 40)
        z <- rotate (z + w1) 33 * mul
        let struct (a, b) = weakHashLen32WithSeeds s p (v2 * mul) (x + w1)
        v1 <- a
        v2 <- b
        let struct (c, d) = weakHashLen32WithSeeds s (p + 32) (z + w2) (y + fetch64 s (p + 16))
        w1 <- c
        w2 <- d
        let t = z
        z <- x
        x <- t
        hashLen16 (hashLen16 v1 w1 mul + shiftMix y * k0 + z) (hashLen16 v2 w2 mul + x) mul

    /// <summary>FarmHash <c>Fingerprint64</c> of bytes.</summary>
    /// <example><c>FarmHash.fingerprint64 (Encoding.UTF8.GetBytes "test")</c> is <c>8581389452482819506UL</c>.</example>
    let fingerprint64 (bytes: byte[]) : uint64 =
        let s = ReadOnlySpan<byte>(bytes)

        if s.Length <= 16 then hashLen0to16 s
        elif s.Length <= 32 then hashLen17to32 s
        elif s.Length <= 64 then hashLen33to64 s
        else hashLong s

    /// <summary>Fingerprint64 of a string's UTF-8 bytes (as TensorFlow hashes its strings).</summary>
    let fingerprintString (text: string) = fingerprint64 (Encoding.UTF8.GetBytes text)

    /// <summary><c>tf.strings.to_hash_bucket_fast</c>: the bucket in [0, buckets) of a string.</summary>
    let bucket (buckets: int) (text: string) : int64 =
        int64 (fingerprintString text % uint64 buckets)

/// <summary>SipHash-2-4 with a 128-bit key, the keyed hash behind TensorFlow's <c>tf.strings.to_hash_bucket_strong</c>
/// (Keras's <c>Hashing(salt=...)</c>).</summary>
[<RequireQualifiedAccess>]
module SipHash =
    let inline private rotl (x: uint64) (b: int) = (x <<< b) ||| (x >>> (64 - b))

    /// <summary>SipHash-2-4 of bytes under the key <c>(k0, k1)</c>.</summary>
    let hash (k0: uint64) (k1: uint64) (bytes: byte[]) : uint64 =
        let mutable v0 = k0 ^^^ 0x736f6d6570736575UL
        let mutable v1 = k1 ^^^ 0x646f72616e646f6dUL
        let mutable v2 = k0 ^^^ 0x6c7967656e657261UL
        let mutable v3 = k1 ^^^ 0x7465646279746573UL

        let round () =
            v0 <- v0 + v1
            v1 <- rotl v1 13
            v1 <- v1 ^^^ v0
            v0 <- rotl v0 32
            v2 <- v2 + v3
            v3 <- rotl v3 16
            v3 <- v3 ^^^ v2
            v0 <- v0 + v3
            v3 <- rotl v3 21
            v3 <- v3 ^^^ v0
            v2 <- v2 + v1
            v1 <- rotl v1 17
            v1 <- v1 ^^^ v2
            v2 <- rotl v2 32

        let compress (m: uint64) =
            v3 <- v3 ^^^ m
            round ()
            round ()
            v0 <- v0 ^^^ m

        let blocks = bytes.Length / 8

        for b in 0 .. blocks - 1 do
            compress (BinaryPrimitives.ReadUInt64LittleEndian(ReadOnlySpan<byte>(bytes, b * 8, 8)))

        let mutable last = uint64 (bytes.Length &&& 0xff) <<< 56

        for i in blocks * 8 .. bytes.Length - 1 do
            last <- last ||| (uint64 bytes[i] <<< (8 * (i - blocks * 8)))

        compress last
        v2 <- v2 ^^^ 0xffUL

        for _ in 1..4 do
            round ()

        v0 ^^^ v1 ^^^ v2 ^^^ v3

    /// <summary><c>tf.strings.to_hash_bucket_strong</c>: the bucket in [0, buckets) of a string's UTF-8 bytes.</summary>
    let bucket (k0: uint64) (k1: uint64) (buckets: int) (text: string) : int64 =
        int64 (hash k0 k1 (Encoding.UTF8.GetBytes text) % uint64 buckets)
