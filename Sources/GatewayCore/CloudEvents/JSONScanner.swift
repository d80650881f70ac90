/// A strict RFC 8259 scanner over UTF-8 bytes: it validates values in one pass and reports
/// where strings, numbers and containers are, without building anything.
///
/// Written for the gateway's ingest, which needs a few top-level attributes and a few
/// fields of `data` and otherwise forwards the bytes as they came: a general parser would
/// build a tree only to throw it away. Everything RFC 8259 refuses is refused here: trailing
/// commas, unquoted or non-string member names, single quotes, comments, `NaN`, leading
/// zeros, bad escapes, lone surrogate escapes, raw control characters, invalid UTF-8, a byte
/// order mark, and nesting deeper than `maximumDepth` (which also bounds the recursion).
///
/// The scanner reads `bytes` only while the caller's `withUnsafeBytes` closure runs; it is
/// never stored.
package struct JSONScanner {
    /// Deepest nesting of arrays and objects accepted (a CloudEvent's `data` object is at 2).
    package static let maximumDepth = 128

    /// The text.
    package let bytes: UnsafeRawBufferPointer
    /// The next byte to read.
    package private(set) var offset: Int
    /// Insignificant whitespace bytes skipped so far; equal counts before and after a value
    /// mean the value holds none, so it can be copied without compaction.
    package private(set) var whitespaceCount = 0

    /// A scanner at the start of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    /// What kind of value the scanner passed.
    package enum ValueKind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    // MARK: Whole documents

    /// Validates the whole text as one JSON value with optional whitespace around it.
    package static func validate(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> ValueKind {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let kind = try scanner.scanValue(depth: 0)
        try scanner.expectEnd()
        return kind
    }

    /// Skips trailing whitespace and requires the end of the text.
    package mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        guard offset == bytes.count else { throw JSONSyntaxError(.trailingData, at: offset) }
    }

    // MARK: Bytes

    /// The byte at the read position, or nil at the end.
    @inline(__always)
    package var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    /// Skips JSON whitespace (space, tab, LF, CR, nothing else).
    @inline(__always)
    package mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D:
                offset += 1
                whitespaceCount += 1
            default:
                return
            }
        }
    }

    // MARK: Values

    /// Scans one value starting at the read position (whitespace already skipped).
    /// `depth` is the nesting level of the containers around it.
    package mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> ValueKind {
        guard let byte = current else { throw JSONSyntaxError(.truncated, at: offset) }
        switch byte {
        case UInt8(ascii: "{"):
            try skipObject(depth: depth + 1)
            return .object
        case UInt8(ascii: "["):
            try skipArray(depth: depth + 1)
            return .array
        case UInt8(ascii: "\""):
            _ = try scanString()
            return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
            return .number
        case UInt8(ascii: "t"):
            try scanLiteral("true")
            return .bool
        case UInt8(ascii: "f"):
            try scanLiteral("false")
            return .bool
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        default:
            throw JSONSyntaxError(.unexpectedByte, at: offset)
        }
    }

    private mutating func skipObject(depth: Int) throws(JSONSyntaxError) {
        try enterObject(depth: depth)
        var first = true
        while try nextMember(first: &first) != nil {
            _ = try scanValue(depth: depth)
        }
    }

    private mutating func skipArray(depth: Int) throws(JSONSyntaxError) {
        try enterArray(depth: depth)
        var first = true
        while try nextElement(first: &first) {
            _ = try scanValue(depth: depth)
        }
    }

    // MARK: Containers, member by member

    /// Consumes `{` at the read position; `depth` is the new object's nesting level.
    package mutating func enterObject(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maximumDepth else { throw JSONSyntaxError(.tooDeep, at: offset) }
        guard current == UInt8(ascii: "{") else { throw JSONSyntaxError(.unexpectedByte, at: offset) }
        offset += 1
    }

    /// Moves to the next member of the object being read: returns its name, with the read
    /// position at its value (whitespace skipped), or nil after the closing `}`.
    /// `first` starts true for each object and is updated here.
    package mutating func nextMember(first: inout Bool) throws(JSONSyntaxError) -> JSONStringToken? {
        skipWhitespace()
        guard let byte = current else { throw JSONSyntaxError(.truncated, at: offset) }
        if byte == UInt8(ascii: "}") {
            offset += 1
            return nil
        }
        if first {
            first = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw JSONSyntaxError(.unexpectedByte, at: offset) }
            offset += 1
            skipWhitespace()
        }
        switch current {
        case UInt8(ascii: "\""):
            break
        case UInt8(ascii: "}"):
            throw JSONSyntaxError(.trailingComma, at: offset)
        case nil:
            throw JSONSyntaxError(.truncated, at: offset)
        default:
            throw JSONSyntaxError(.keyNotString, at: offset)
        }
        let key = try scanString()
        skipWhitespace()
        guard let colon = current else { throw JSONSyntaxError(.truncated, at: offset) }
        guard colon == UInt8(ascii: ":") else { throw JSONSyntaxError(.unexpectedByte, at: offset) }
        offset += 1
        skipWhitespace()
        guard offset < bytes.count else { throw JSONSyntaxError(.truncated, at: offset) }
        return key
    }

    /// Consumes `[` at the read position; `depth` is the new array's nesting level.
    package mutating func enterArray(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maximumDepth else { throw JSONSyntaxError(.tooDeep, at: offset) }
        guard current == UInt8(ascii: "[") else { throw JSONSyntaxError(.unexpectedByte, at: offset) }
        offset += 1
    }

    /// Moves to the next element of the array being read: true with the read position at
    /// it (whitespace skipped), or false after the closing `]`.
    package mutating func nextElement(first: inout Bool) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard let byte = current else { throw JSONSyntaxError(.truncated, at: offset) }
        if byte == UInt8(ascii: "]") {
            offset += 1
            return false
        }
        if first {
            first = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw JSONSyntaxError(.unexpectedByte, at: offset) }
            offset += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: "]"): throw JSONSyntaxError(.trailingComma, at: offset)
            case nil: throw JSONSyntaxError(.truncated, at: offset)
            default: break
            }
        }
        return true
    }

    // MARK: Scalars

    /// Scans a string at the read position (at its opening quote) and returns where its
    /// contents are; escapes and UTF-8 are validated.
    package mutating func scanString() throws(JSONSyntaxError) -> JSONStringToken {
        offset += 1
        let start = offset
        var hasEscapes = false
        let count = bytes.count
        while true {
            // Plain printable ASCII is the common case: eight bytes at a time while none of
            // them is a quote, a backslash, a control character or a non-ASCII byte.
            while offset &+ 8 <= count {
                let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                if Self.isPlainASCII(word) { offset &+= 8 } else { break }
            }
            guard offset < count else { throw JSONSyntaxError(.truncated, at: offset) }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                let token = JSONStringToken(start: start, end: offset, hasEscapes: hasEscapes)
                offset += 1
                return token
            case UInt8(ascii: "\\"):
                hasEscapes = true
                try scanEscape()
            case 0x00..<0x20:
                throw JSONSyntaxError(.controlCharacter, at: offset)
            case 0x20..<0x80:
                offset += 1
            default:
                try scanUTF8Sequence(lead: byte)
            }
        }
    }

    /// Whether all eight bytes are ASCII from 0x20 on, none a quote or a backslash.
    @inline(__always)
    private static func isPlainASCII(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        // A byte's high bit is set in each term when the byte is (non-ASCII), (below 0x20),
        // (equal to 0x22), (equal to 0x5C): the classic "has less / has zero byte" tricks.
        let below20 = (word &- ones &* 0x20) & ~word
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        return (word | below20 | hasQuote | hasBackslash) & highs == 0
    }

    private mutating func scanEscape() throws(JSONSyntaxError) {
        let escapeStart = offset
        guard offset + 1 < bytes.count else { throw JSONSyntaxError(.truncated, at: bytes.count) }
        switch bytes[offset + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            offset += 2
        case UInt8(ascii: "u"):
            let unit = try hexUnit(at: offset + 2)
            offset += 6
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate must be followed at once by an escaped low surrogate.
                guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"),
                    bytes[offset + 1] == UInt8(ascii: "u")
                else {
                    if offset + 1 >= bytes.count { throw JSONSyntaxError(.truncated, at: bytes.count) }
                    throw JSONSyntaxError(.loneSurrogate, at: escapeStart)
                }
                let low = try hexUnit(at: offset + 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw JSONSyntaxError(.loneSurrogate, at: escapeStart) }
                offset += 6
            case 0xDC00...0xDFFF:
                throw JSONSyntaxError(.loneSurrogate, at: escapeStart)
            default:
                break
            }
        default:
            throw JSONSyntaxError(.invalidEscape, at: offset)
        }
    }

    /// The four hex digits at `position` as a UTF-16 code unit.
    private func hexUnit(at position: Int) throws(JSONSyntaxError) -> UInt16 {
        guard position + 4 <= bytes.count else { throw JSONSyntaxError(.truncated, at: bytes.count) }
        var unit: UInt16 = 0
        for index in position..<position + 4 {
            guard let digit = Self.hexValue(bytes[index]) else { throw JSONSyntaxError(.invalidEscape, at: index) }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    /// The value of one hex digit.
    @inline(__always)
    package static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// One multi-byte UTF-8 sequence, as RFC 3629 and Unicode table 3-7 allow it: no
    /// overlong forms, no surrogates, nothing above U+10FFFF.
    private mutating func scanUTF8Sequence(lead: UInt8) throws(JSONSyntaxError) {
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: throw JSONSyntaxError(.invalidUTF8, at: offset)
        }
        guard offset + length <= bytes.count else { throw JSONSyntaxError(.truncated, at: bytes.count) }
        guard secondRange.contains(bytes[offset + 1]) else { throw JSONSyntaxError(.invalidUTF8, at: offset) }
        for index in offset + 2..<offset + length where bytes[index] & 0xC0 != 0x80 {
            throw JSONSyntaxError(.invalidUTF8, at: offset)
        }
        offset += length
    }

    /// Scans a number at the read position and returns its bytes' range.
    package mutating func scanNumber() throws(JSONSyntaxError) -> Range<Int> {
        let start = offset
        if current == UInt8(ascii: "-") { offset += 1 }
        guard let first = current else { throw JSONSyntaxError(.truncated, at: offset) }
        switch first {
        case UInt8(ascii: "0"):
            offset += 1
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            skipDigits()
        default:
            throw JSONSyntaxError(.invalidNumber, at: start)
        }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard try requireDigit(numberStart: start) else { throw JSONSyntaxError(.invalidNumber, at: start) }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard try requireDigit(numberStart: start) else { throw JSONSyntaxError(.invalidNumber, at: start) }
        }
        return start..<offset
    }

    /// Skips one or more digits; false when there is none (truncation throws).
    private mutating func requireDigit(numberStart: Int) throws(JSONSyntaxError) -> Bool {
        guard let byte = current else { throw JSONSyntaxError(.truncated, at: offset) }
        guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return false }
        skipDigits()
        return true
    }

    @inline(__always)
    private mutating func skipDigits() {
        while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") {
            offset += 1
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let start = offset
        let length = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for index in 0..<length {
            guard offset < bytes.count else { throw JSONSyntaxError(.truncated, at: offset) }
            guard bytes[offset] == text[index] else { throw JSONSyntaxError(.invalidLiteral, at: start) }
            offset += 1
        }
    }
}
