/// The fields of `data` that one topic routes on, read straight from the event's JSON text.
///
/// Those are the rule's scope fields (`studentId`, `courseId`, or whatever the
/// configuration names), its audience field, and the fields of the client filters
/// (`studentId`, `courseId`, `priority`). Only members at the top level of a `data` object
/// count; when a name occurs twice the last one wins, as in a browser's `JSON.parse`.
package struct RoutingFields: Sendable {
    private let rule: TopicRule
    /// Member names to look for: `studentId`, `courseId`, `priority`, the audience field
    /// (empty when the rule has none), then the scope fields in rule order.
    private let names: [[UInt8]]

    private static let studentSlot = 0
    private static let courseSlot = 1
    private static let prioritySlot = 2
    private static let audienceSlot = 3
    private static let firstScopeSlot = 4

    /// The fields of `rule`'s topic.
    package init(rule: TopicRule) {
        self.rule = rule
        self.names =
            [
                Array("studentId".utf8), Array("courseId".utf8), Array("priority".utf8),
                Array((rule.audienceField ?? "").utf8),
            ]
            + rule.scope.map { Array($0.field.utf8) }
    }

    /// The facts of an event of `type` whose data is `data`: JSON text the scanner has
    /// validated, or nil when the event has none. Fields are read only from an object.
    package func facts(type: String, data: UnsafeRawBufferPointer?) -> EventFacts {
        var facts = EventFacts(topic: rule.topic, type: type)
        guard let data, data.first == UInt8(ascii: "{") else { return facts }
        withUnsafeTemporaryAllocation(of: FieldValue.self, capacity: names.count) { found in
            _ = found.initialize(from: repeatElement(FieldValue.absent, count: names.count))
            defer { found.deinitialize() }
            var scanner = JSONScanner(data)
            do {
                try scanner.enterObject(depth: 1)
                var first = true
                while let key = try scanner.nextMember(first: &first) {
                    let value = try scanner.scanFieldValue()
                    for slot in names.indices where !names[slot].isEmpty {
                        if names[slot].withUnsafeBytes({ key.equals($0, in: data) }) { found[slot] = value }
                    }
                }
            } catch {
                // `data` was validated before; text that is not an object has no fields.
                return
            }
            for (offset, scope) in rule.scope.enumerated() {
                if let value = found[Self.firstScopeSlot + offset].text(in: data) {
                    facts.scopeValues[scope.field] = value
                }
            }
            facts.studentID = found[Self.studentSlot].text(in: data)
            facts.courseID = found[Self.courseSlot].text(in: data)
            if rule.audienceField != nil { facts.audience = found[Self.audienceSlot].texts(in: data) }
            facts.priority = found[Self.prioritySlot].text(in: data).flatMap(EventPriority.init(name:)) ?? .normal
        }
        return facts
    }
}

/// One member value the routing fields may use.
private enum FieldValue {
    case absent
    case string(JSONStringToken)
    case number(Range<Int>)
    case bool(Bool)
    case array(Range<Int>)
    case other

    /// A scalar as the text a scope key is compared with (`42` and `"42"` are the same key).
    func text(in data: UnsafeRawBufferPointer) -> String? {
        switch self {
        case .string(let token): token.string(in: data)
        case .number(let range): Self.numberText(UnsafeRawBufferPointer(rebasing: data[range]))
        case .bool(let flag): flag ? "true" : "false"
        case .absent, .array, .other: nil
        }
    }

    /// Every scalar of an array as text, or the one scalar itself.
    func texts(in data: UnsafeRawBufferPointer) -> [String] {
        guard case .array(let range) = self else { return text(in: data).map { [$0] } ?? [] }
        var scanner = JSONScanner(UnsafeRawBufferPointer(rebasing: data[range]))
        var texts: [String] = []
        do {
            try scanner.enterArray(depth: 1)
            var first = true
            while try scanner.nextElement(first: &first) {
                let element = try scanner.scanFieldValue()
                if let text = element.text(in: scanner.bytes) { texts.append(text) }
            }
        } catch {
            return texts
        }
        return texts
    }

    /// A number as `JSONValue.scalarText` renders it: integers exactly, other values that
    /// are whole and below 10^15 as integers, the rest in Swift's shortest form; nil for a
    /// number beyond a double's range.
    static func numberText(_ bytes: UnsafeRawBufferPointer) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        let isInteger = !bytes.contains {
            $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
        }
        if isInteger, let integer = Int64(text) { return String(integer) }
        guard let value = Double(text), value.isFinite else { return nil }
        if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension JSONScanner {
    /// Scans a member value (depth 1) and keeps what routing can use of it.
    fileprivate mutating func scanFieldValue() throws(JSONSyntaxError) -> FieldValue {
        let start = offset
        // The scanner stands at a value (`nextMember` checked there is one).
        switch current ?? 0 {
        case UInt8(ascii: "\""):
            return .string(try scanString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try scanNumber())
        case UInt8(ascii: "["):
            _ = try scanValue(depth: 1)
            return .array(start..<offset)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try scanValue(depth: 1)
            return .bool(bytes[start] == UInt8(ascii: "t"))
        default:
            _ = try scanValue(depth: 1)
            return .other
        }
    }
}
