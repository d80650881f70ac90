/// Why a body is not RFC 8259 JSON, and where the scanner found out.
package struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    package enum Reason: String, Sendable, Equatable {
        /// The text ends inside a value (or is empty).
        case truncated = "the text ends inside a value"
        /// A byte that cannot start or continue a value here.
        case unexpectedByte = "unexpected byte"
        /// A `,` right before `]` or `}`.
        case trailingComma = "trailing comma"
        /// An object member whose name is not a string.
        case keyNotString = "object member name is not a string"
        /// A backslash followed by something other than `"\/bfnrtu` and four hex digits.
        case invalidEscape = "invalid escape sequence"
        /// A `\u` escape of one half of a surrogate pair without the other half.
        case loneSurrogate = "unpaired UTF-16 surrogate escape"
        /// A raw byte below 0x20 inside a string.
        case controlCharacter = "unescaped control character in a string"
        /// A string byte sequence that is not UTF-8.
        case invalidUTF8 = "invalid UTF-8"
        /// A number that does not follow the grammar (`01`, `1.`, `.5`, `+1`, `-`).
        case invalidNumber = "invalid number"
        /// Something that starts like `true`, `false` or `null` and is not.
        case invalidLiteral = "invalid literal"
        /// Arrays and objects nested deeper than `JSONScanner.maximumDepth`.
        case tooDeep = "nested too deep"
        /// Bytes after the top-level value.
        case trailingData = "data after the JSON value"
    }

    /// What is wrong.
    package var reason: Reason
    /// The byte offset where it was found.
    package var offset: Int

    /// An error at `offset`.
    package init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    package var description: String { "\(reason.rawValue) at byte \(offset)" }
}
