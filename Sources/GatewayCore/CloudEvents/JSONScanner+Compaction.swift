extension JSONScanner {
    /// Copies a value `JSONScanner` validated into `output` (at least `source.count` bytes)
    /// without its insignificant whitespace, and returns the length written.
    ///
    /// Strings are copied byte for byte, escapes as written: the result is the same JSON
    /// value, on one line (a raw CR or LF can only be whitespace between tokens, since the
    /// scanner refused them inside strings), which is what an SSE `data:` line needs.
    package static func compact(_ source: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        var index = 0
        var inString = false
        while index < source.count {
            let byte = source[index]
            index += 1
            if inString {
                output[written] = byte
                written += 1
                if byte == UInt8(ascii: "\\"), index < source.count {
                    // The escaped byte cannot end the string.
                    output[written] = source[index]
                    written += 1
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            output[written] = byte
            written += 1
        }
        return written
    }
}
