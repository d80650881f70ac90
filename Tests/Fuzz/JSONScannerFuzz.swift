// Differential fuzzing of the gateway's strict JSON scanner against Foundation's
// JSONSerialization (libFuzzer). Built by scripts/fuzz with swiftc from the scanner's own
// sources and this file; see Tests/Fuzz/README.md.
//
// For every input:
// - the verdicts must agree (valid JSON or not), except for the disagreements the scanner
//   makes on purpose (each has a test in JSONScannerDisagreementTests): trailing commas, a
//   byte order mark or UTF-16/32 text, nesting deeper than JSONScanner.maximumDepth (all
//   refused by the scanner, accepted by Foundation), and numbers beyond a double's range
//   (valid RFC 8259, refused by Foundation);
// - for valid input: the compacted copy has no CR, LF or NUL byte (it becomes one SSE data
//   line) and Foundation parses it to the same value as the input; a top-level object's
//   string attributes decode to Foundation's strings; the routing fields read from it are
//   the ones Foundation's value gives (not compared when a string starts with U+FEFF, which
//   Foundation drops).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let data = Data(bytes)
    let foundation = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    let verdict = Result { () throws(JSONSyntaxError) in try JSONScanner.validate(bytes) }
    // The delivery scan must never crash, whatever the input (ASan checks every read).
    _ = try? JSONScanner.scanDelivery(bytes, bulkEntryLimit: 4)
    _ = try? JSONScanner.scanDelivery(bytes, bulkEntryLimit: nil, batch: true)
    switch (verdict, foundation) {
    case (.success, let value?):
        checkCompaction(bytes, foundation: value)
        // Foundation drops a U+FEFF that starts a string value or follows an escape sequence
        // (the scanner keeps it, it is part of the string): strings are compared only
        // without one (JSONScannerDisagreementTests).
        let stringStartsWithBOM = bytes.indices.contains { index in
            index + 2 < bytes.count && bytes[index] == 0xEF && bytes[index + 1] == 0xBB && bytes[index + 2] == 0xBF
        }
        if let object = value as? [String: Any], !stringStartsWithBOM { checkObject(bytes, foundation: object) }
    case (.success, nil):
        guard hasNumberBeyondDouble(bytes) else { disagree("the scanner accepts what Foundation refuses", bytes) }
    case (.failure(let error), _?):
        guard refusedOnPurpose(bytes, error: error) else {
            disagree("Foundation accepts what the scanner refuses (\(error))", bytes)
        }
    case (.failure, nil):
        break
    }
    return 0
}

private func disagree(_ message: String, _ bytes: UnsafeRawBufferPointer) -> Never {
    let preview = bytes.prefix(200).map { String(format: "%02x", $0) }.joined()
    fatalError("\(message): \(preview)")
}

/// The compacted copy is one line and the same JSON value.
private func checkCompaction(_ bytes: UnsafeRawBufferPointer, foundation value: Any) {
    let compacted = [UInt8](unsafeUninitializedCapacity: max(1, bytes.count)) { buffer, count in
        count = JSONScanner.compact(bytes, into: UnsafeMutableRawBufferPointer(buffer))
    }
    if compacted.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) {
        disagree("the compacted copy holds CR, LF or NUL", bytes)
    }
    guard let again = try? JSONSerialization.jsonObject(with: Data(compacted), options: [.fragmentsAllowed]) else {
        disagree("Foundation refuses the compacted copy", bytes)
    }
    guard JSONValue(foundation: again) == JSONValue(foundation: value) else {
        disagree("the compacted copy is another value", bytes)
    }
}

/// A top-level object: attributes and routing fields agree with Foundation's reading.
private func checkObject(_ bytes: UnsafeRawBufferPointer, foundation object: [String: Any]) {
    guard case .event(let layout)? = try? JSONScanner.scanDelivery(bytes, bulkEntryLimit: nil) else {
        disagree("a valid object is not scanned as an event", bytes)
    }
    let attributes: [(String, CloudEventLayout.Attribute)] = [
        ("specversion", layout.specversion), ("id", layout.id), ("source", layout.source), ("type", layout.type),
        ("time", layout.time), ("data_base64", layout.dataBase64), ("traceparent", layout.traceparent),
    ]
    for (name, attribute) in attributes {
        let expected = object[name]
        switch attribute {
        case .absent:
            if let expected, !(expected is NSNull) { disagree("'\(name)' is missing", bytes) }
        case .notString:
            if expected is String || expected == nil || expected is NSNull {
                disagree("'\(name)' is not a string", bytes)
            }
        case .string(let token):
            guard let text = expected as? String, token.string(in: bytes) == text else {
                disagree("'\(name)' decodes to another string", bytes)
            }
        }
    }
    if let data = layout.data {
        guard let expected = object["data"], !(expected is NSNull) else { disagree("'data' is found", bytes) }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[data.range])
        guard let value = try? JSONSerialization.jsonObject(with: Data(slice), options: [.fragmentsAllowed]),
            JSONValue(foundation: value) == JSONValue(foundation: expected)
        else { disagree("'data' is located at another value", bytes) }
    } else if let expected = object["data"], !(expected is NSNull) {
        disagree("'data' is missing", bytes)
    }
    // The whole object as an event's data: the routing fields against Foundation's values.
    let rule = TopicRule(
        topic: "t",
        scope: [ScopeField(field: "a", grantedBy: []), ScopeField(field: "studentId", grantedBy: [])],
        audienceField: "audience"
    )
    let facts = RoutingFields(rule: rule).facts(type: "x", data: UnsafeRawBufferPointer(rebasing: bytes[layout.range]))
    let expected = EventFacts(
        event: CloudEvent(id: "i", source: "s", type: "x", data: JSONValue(foundation: object)),
        rule: rule
    )
    guard facts == expected || sameUpToRounding(facts, expected) else {
        disagree("routing fields differ: \(facts) against \(expected)", bytes)
    }
}

/// Foundation on Linux reads some long decimals a few units in the last place off (Swift's
/// `Double(String)`, which the scanner's reading uses, rounds correctly): a routing key made
/// of such a number may differ in its last digits.
private func sameUpToRounding(_ ours: EventFacts, _ theirs: EventFacts) -> Bool {
    func close(_ left: String?, _ right: String?) -> Bool {
        if left == right { return true }
        guard let left, let right, let a = Double(left), let b = Double(right) else { return false }
        return a == b || abs(a - b) <= abs(a) * 1e-12
    }
    return ours.topic == theirs.topic && ours.type == theirs.type && ours.priority == theirs.priority
        && close(ours.studentID, theirs.studentID) && close(ours.courseID, theirs.courseID)
        && ours.audience.count == theirs.audience.count && zip(ours.audience, theirs.audience).allSatisfy(close)
        && Set(ours.scopeValues.keys) == Set(theirs.scopeValues.keys)
        && ours.scopeValues.allSatisfy { close($0.value, theirs.scopeValues[$0.key]) }
}

/// Trailing commas, a byte order mark, UTF-16/32, nesting beyond the bound.
private func refusedOnPurpose(_ bytes: UnsafeRawBufferPointer, error: JSONSyntaxError) -> Bool {
    if error.reason == .tooDeep { return true }
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
        return true
    }
    // UTF-16 or UTF-32 without a byte order mark: Foundation detects it by the NUL bytes.
    if bytes.prefix(4).contains(0) { return true }
    if error.reason == .trailingComma || error.reason == .unexpectedByte {
        let repaired = withoutTrailingCommas(bytes)
        if repaired.count != bytes.count,
            (repaired.withUnsafeBytes { try? JSONScanner.validate($0) }) != nil
        {
            return true
        }
    }
    return false
}

/// The text with every `,` that is followed (after whitespace) by `]` or `}` removed.
private func withoutTrailingCommas(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
    var output: [UInt8] = []
    var inString = false
    var escaped = false
    for (index, byte) in bytes.enumerated() {
        if inString {
            if escaped {
                escaped = false
            } else if byte == 0x5C {
                escaped = true
            } else if byte == 0x22 {
                inString = false
            }
            output.append(byte)
            continue
        }
        if byte == 0x22 { inString = true }
        if byte == UInt8(ascii: ",") {
            let next = bytes[(index + 1)...].first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            if next == UInt8(ascii: "]") || next == UInt8(ascii: "}") { continue }
        }
        output.append(byte)
    }
    return output
}

/// Whether a number in the (valid) text is beyond a double's range, which Foundation
/// refuses ("not representable") and RFC 8259 allows.
private func hasNumberBeyondDouble(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var inString = false
    var escaped = false
    var number: [UInt8] = []
    func ends() -> Bool {
        defer { number.removeAll() }
        guard !number.isEmpty, let value = Double(String(decoding: number, as: UTF8.self)) else { return false }
        return !value.isFinite
    }
    for byte in bytes {
        if inString {
            if escaped {
                escaped = false
            } else if byte == 0x5C {
                escaped = true
            } else if byte == 0x22 {
                inString = false
            }
            continue
        }
        let isNumberByte = (byte >= 0x30 && byte <= 0x39) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(byte)
        if isNumberByte && (!number.isEmpty || byte == 0x2D || (byte >= 0x30 && byte <= 0x39)) {
            number.append(byte)
            continue
        }
        if ends() { return true }
        if byte == 0x22 { inString = true }
    }
    return ends()
}

extension JSONValue {
    /// Foundation's reading of a value, as the gateway's old decoder converted it.
    init(foundation object: Any) {
        switch object {
        case let text as String:
            self = .string(text)
        case let members as [String: Any]:
            self = .object(members.mapValues(JSONValue.init(foundation:)))
        case let items as [Any]:
            self = .array(items.map(JSONValue.init(foundation:)))
        case let number as NSNumber:
            switch UInt8(bitPattern: number.objCType.pointee) {
            case UInt8(ascii: "c"), UInt8(ascii: "B"):
                self = .bool(number.boolValue)
            case UInt8(ascii: "d"), UInt8(ascii: "f"):
                self = .number(number.doubleValue)
            default:
                self = Int64(exactly: number).map(JSONValue.integer) ?? .number(number.doubleValue)
            }
        default:
            self = .null
        }
    }
}
