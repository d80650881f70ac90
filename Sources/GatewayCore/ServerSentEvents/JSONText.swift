import Foundation

/// Compact JSON text for the few documents the gateway writes by hand, so key order is
/// the documented one (`id`, `topic`, `type`, …) and nothing is escaped twice.
package enum JSONText {
    /// `text` as a JSON string literal.
    package static func quoted(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &result)
        return result
    }

    /// Appends `text` as a JSON string literal.
    package static func appendQuoted(_ text: String, to result: inout String) {
        result += "\""
        // Most strings need no escape: copy them whole. 0xE2 leads U+2028 and U+2029,
        // which are valid JSON but end a line in JavaScript, so they are escaped too.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) {
            result += text
        } else {
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                case "\n": result += "\\n"
                case "\r": result += "\\r"
                case "\t": result += "\\t"
                case let s where s.value < 0x20 || s.value == 0x2028 || s.value == 0x2029:
                    let hex = String(s.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
    }

    /// A value as compact JSON (object members in no particular order, as with `JSONEncoder`).
    package static func encode(_ value: JSONValue) -> String {
        var result = ""
        append(value, to: &result)
        return result
    }

    /// Appends a value as compact JSON.
    package static func append(_ value: JSONValue, to result: inout String) {
        switch value {
        case .null: result += "null"
        case .bool(let flag): result += flag ? "true" : "false"
        case .integer(let integer): result += String(integer)
        // Parsed JSON numbers are always finite; a non-finite one built in code has no JSON form.
        case .number(let number): result += number.isFinite ? String(number) : "null"
        case .string(let text): appendQuoted(text, to: &result)
        case .array(let items):
            result += "["
            for (offset, item) in items.enumerated() {
                if offset > 0 { result += "," }
                append(item, to: &result)
            }
            result += "]"
        case .object(let members):
            result += "{"
            var first = true
            for (key, member) in members {
                if !first { result += "," }
                first = false
                appendQuoted(key, to: &result)
                result += ":"
                append(member, to: &result)
            }
            result += "}"
        }
    }

    /// An object from ordered members whose values are already JSON text.
    package static func object(_ members: KeyValuePairs<String, String>) -> String {
        "{" + members.map { quoted($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }

    /// An object from members built at run time (optional members present or not).
    package static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// An array of strings.
    package static func array(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ",") + "]"
    }
}
