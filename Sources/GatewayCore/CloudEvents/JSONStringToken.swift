/// Where a JSON string's contents are (the bytes between its quotes), as `JSONScanner`
/// found and validated them.
///
/// The contents are already a valid JSON string body: written between quotes they are the
/// same string, so forwarding a string needs no decoding and no re-escaping. Decoding is
/// only for values the gateway reads (ids, types, routing fields).
package struct JSONStringToken: Sendable, Equatable {
    /// Offset of the first content byte.
    package var start: Int
    /// Offset of the closing quote.
    package var end: Int
    /// Whether the contents hold a backslash escape.
    package var hasEscapes: Bool

    /// A token for the contents `start..<end`.
    package init(start: Int, end: Int, hasEscapes: Bool) {
        self.start = start
        self.end = end
        self.hasEscapes = hasEscapes
    }

    /// The number of content bytes (escapes as written).
    package var count: Int { end - start }

    /// The contents as written in `bytes` (the text the token was scanned from).
    package func contents(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// The decoded string.
    package func string(in bytes: UnsafeRawBufferPointer) -> String {
        let raw = contents(in: bytes)
        guard hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        // Decoding never lengthens: `\n` is 1 byte for 2, `\uXXXX` at most 3 for 6, a
        // surrogate pair 4 for 12.
        return String(unsafeUninitializedCapacity: raw.count) { buffer in
            Self.decode(raw, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Whether the decoded string is exactly `name` (UTF-8).
    package func equals(_ name: UnsafeRawBufferPointer, in bytes: UnsafeRawBufferPointer) -> Bool {
        let raw = contents(in: bytes)
        if !hasEscapes {
            return bytesEqual(raw, name)
        }
        // Rare (a publisher escaping plain letters in a member name): decode on the stack.
        guard raw.count <= 256 else { return string(in: bytes).utf8.elementsEqual(name) }
        return withUnsafeTemporaryAllocation(byteCount: raw.count, alignment: 1) { scratch in
            let length = Self.decode(raw, into: scratch)
            return bytesEqual(UnsafeRawBufferPointer(rebasing: scratch[0..<length]), name)
        }
    }

    /// Decodes the escapes of valid string contents into `output` (at least `raw.count`
    /// bytes) and returns the decoded length.
    package static func decode(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        var read = 0
        var written = 0
        func put(_ byte: UInt8) {
            output[written] = byte
            written += 1
        }
        func unit(at position: Int) -> UInt32 {
            var value: UInt32 = 0
            for index in position..<min(position + 4, raw.count) {
                value = value << 4 | UInt32(JSONScanner.hexValue(raw[index]) ?? 0)
            }
            return value
        }
        while read < raw.count {
            let byte = raw[read]
            guard byte == UInt8(ascii: "\\"), read + 1 < raw.count else {
                put(byte)
                read += 1
                continue
            }
            let escape = raw[read + 1]
            read += 2
            switch escape {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                var scalar = unit(at: read)
                read += 4
                if (0xD800...0xDBFF).contains(scalar), read + 6 <= raw.count, raw[read] == UInt8(ascii: "\\") {
                    let low = unit(at: read + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                    read += 6
                }
                // The scanner refused lone surrogates, so the scalar is valid.
                if let encoded = UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") {
                    for byte in encoded { put(byte) }
                }
            default: put(escape)  // `"`, `\`, `/`
            }
        }
        return written
    }
}

/// Whether two byte ranges hold the same bytes.
@inline(__always)
func bytesEqual(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
    guard left.count == right.count else { return false }
    for index in 0..<left.count where left[index] != right[index] { return false }
    return true
}
