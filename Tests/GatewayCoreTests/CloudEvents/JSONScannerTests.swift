import GatewayCore
import Testing

@Suite struct JSONScannerTests {
    private func validate(_ bytes: [UInt8]) -> Result<JSONScanner.ValueKind, JSONSyntaxError> {
        bytes.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try JSONScanner.validate(buffer) } }
    }

    private func validate(_ text: String) -> Result<JSONScanner.ValueKind, JSONSyntaxError> {
        validate(Array(text.utf8))
    }

    @Test(arguments: [
        (#"{"a":[1,-2.5e+3,true,false,null,"x"],"b":{}}"#, JSONScanner.ValueKind.object),
        (" [ ] ", .array), (#""é😀\u00e9\ud83d\ude00""#, .string), ("-0", .number), ("0.5E-7", .number),
        ("true", .bool), ("null", .null), ("123456789012345678901234567890", .number), ("[1e400]", .array),
        (#"{"":"","\/":"\b\f\n\r\t\"\\"}"#, .object),
    ])
    func acceptsRFC8259Text(text: String, kind: JSONScanner.ValueKind) {
        #expect(validate(text) == .success(kind))
    }

    @Test(arguments: [
        ("", JSONSyntaxError.Reason.truncated), ("{", .truncated), (#"{"a":"#, .truncated), (#"["abc"#, .truncated),
        (#"["\u12"#, .truncated), ("[1,]", .trailingComma), (#"{"a":1,}"#, .trailingComma), ("{a:1}", .keyNotString),
        ("{'a':1}", .keyNotString), ("['a']", .unexpectedByte), ("[01]", .unexpectedByte), ("[1.]", .invalidNumber),
        ("[.5]", .unexpectedByte), ("[+1]", .unexpectedByte), ("[-]", .invalidNumber), ("[1e]", .invalidNumber),
        ("[NaN]", .unexpectedByte), ("[tru]", .invalidLiteral), ("[nul", .truncated), (#"["\x"]"#, .invalidEscape),
        (#"["\u00g0"]"#, .invalidEscape), (#"["\ud800"]"#, .loneSurrogate), (#"["\udc00"]"#, .loneSurrogate),
        (#"["\ud83d\u0041"]"#, .loneSurrogate), ("[1]x", .trailingData), ("[1] [2]", .trailingData),
        ("[1/*c*/]", .unexpectedByte), ("[1 2]", .unexpectedByte), (#"{"a" 1}"#, .unexpectedByte),
        ("[,1]", .unexpectedByte), ("[1,,2]", .unexpectedByte),
    ])
    func refusesWhatRFC8259Refuses(text: String, reason: JSONSyntaxError.Reason) {
        #expect(validate(text).refusalReason == (reason), "\(text)")
    }

    @Test func refusesRawControlCharactersAndInvalidUTF8InStrings() {
        for byte in UInt8(0)..<0x20 {
            #expect(validate([0x22, byte, 0x22]).refusalReason == (.controlCharacter))
        }
        // Overlong, surrogate, beyond U+10FFFF, stray continuation, truncated sequence, 0xFF.
        for sequence: [UInt8] in [
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xFF],
        ] {
            #expect(validate([0x22] + sequence + [0x22]).refusalReason == (.invalidUTF8), "\(sequence)")
        }
        #expect(validate([0x22, 0xE2, 0x82, 0x22]).refusalReason == (.invalidUTF8))
        #expect(validate([0x22, 0xF0, 0x9F, 0x98, 0x80, 0x7F, 0x22]) == .success(.string))
    }

    @Test func findsTheSpecialByteOfAStringWhereverItSitsInTheWordAtATimeScan() {
        // The scanner reads plain ASCII eight bytes at a time: a quote, backslash, control
        // character or non-ASCII byte must be seen at every position of a word.
        for position in 0..<24 {
            let prefix = [UInt8](repeating: UInt8(ascii: "a"), count: position)
            let suffix = [UInt8](repeating: UInt8(ascii: "b"), count: 20)
            #expect(validate([0x22] + prefix + [0x01] + suffix + [0x22]).refusalReason == (.controlCharacter))
            #expect(validate([0x22] + prefix + [0xFF] + suffix + [0x22]).refusalReason == (.invalidUTF8))
            #expect(validate([0x22] + prefix + Array(#"\q"#.utf8) + suffix + [0x22]).refusalReason == (.invalidEscape))
            // A quote ends the string early: what follows is then unexpected.
            #expect(validate([0x22] + prefix + [0x22] + suffix + [0x22]).refusalReason == (.trailingData))
            #expect(validate([0x22] + prefix + [0x7F, 0x7E, 0x20] + suffix + [0x22]) == .success(.string))
        }
    }

    @Test func boundsTheNesting() {
        let deepest =
            String(repeating: "[", count: JSONScanner.maximumDepth)
            + String(repeating: "]", count: JSONScanner.maximumDepth)
        #expect(validate(deepest) == .success(.array))
        let tooDeep = "[" + deepest + "]"
        #expect(validate(tooDeep).refusalReason == (.tooDeep))
        // A hostile body of a million brackets is refused at the bound, without recursing further.
        #expect(validate(String(repeating: "{\"a\":", count: 1_000_000)).refusalReason == (.tooDeep))
    }

    @Test func decodesStringTokensAndComparesDecodedNames() throws {
        let text = Array(#"["plain","a\"b\\c\/d\n\u00e9\ud83d\ude00\u0000"]"#.utf8)
        try text.withUnsafeBytes { bytes in
            var scanner = JSONScanner(bytes)
            try scanner.enterArray(depth: 1)
            var first = true
            #expect(try scanner.nextElement(first: &first))
            let plain = try scanner.scanString()
            #expect(!plain.hasEscapes)
            #expect(plain.string(in: bytes) == "plain")
            #expect(plain.equals(("plain" as StaticString).rawBytes, in: bytes))
            #expect(try scanner.nextElement(first: &first))
            let escaped = try scanner.scanString()
            #expect(escaped.hasEscapes)
            #expect(escaped.string(in: bytes) == "a\"b\\c/d\n\u{e9}\u{1F600}\u{0}")
            #expect(!escaped.equals(("a" as StaticString).rawBytes, in: bytes))
            #expect(try !scanner.nextElement(first: &first))
            try scanner.expectEnd()
        }
    }

    @Test func compactsWithoutTouchingStrings() {
        let text = " {\n \"a b\" : [ 1 ,\t\"x \\\" y\" ] ,\r\n \"c\":{ } } "
        let compacted = Array(text.utf8).withUnsafeBytes { bytes in
            [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                count = JSONScanner.compact(bytes, into: UnsafeMutableRawBufferPointer(buffer))
            }
        }
        #expect(String(decoding: compacted, as: UTF8.self) == #"{"a b":[1,"x \" y"],"c":{}}"#)
    }
}

extension Result where Failure == JSONSyntaxError {
    /// Why the scanner refused the text; nil when it accepted it.
    var refusalReason: JSONSyntaxError.Reason? {
        guard case .failure(let error) = self else { return nil }
        return error.reason
    }
}
