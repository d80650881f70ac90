/// A text with `{name}` placeholders, split once so rendering per event is only appends
/// (the publisher renders one body per event, up to hundreds of thousands a second).
package struct Template: Sendable {
    private enum Part: Sendable {
        case literal(String)
        case placeholder(String)
    }

    private let parts: [Part]

    /// Splits `text`; a `{` without a matching `}` stays literal.
    package init(_ text: String) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let name = rest[rest.index(after: open)..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
                parts.append(.placeholder(String(name)))
            } else {
                // Not a placeholder (JSON braces): keep the `{` and look again after it.
                let next = rest.index(after: open)
                parts.append(.literal(String(rest[..<next])))
                rest = rest[next...]
                continue
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// Whether the template uses placeholder `name`.
    package func uses(_ name: String) -> Bool {
        parts.contains { part in
            if case .placeholder(let used) = part { return used == name }
            return false
        }
    }

    /// The text with each placeholder replaced by `value(name)`, or left as `{name}`
    /// when that gives nil.
    package func render(_ value: (String) -> String?) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .literal(let literal): text += literal
            case .placeholder(let name): text += value(name) ?? "{\(name)}"
            }
        }
        return text
    }
}
