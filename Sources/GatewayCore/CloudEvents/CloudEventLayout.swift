/// Where the parts of one structured CloudEvent are in its JSON text, found by the
/// validating scan (`JSONScanner.scanCloudEvent`); nothing is decoded or copied yet.
package struct CloudEventLayout: Sendable, Equatable {
    /// How a string attribute appeared.
    package enum Attribute: Sendable, Equatable {
        /// Absent, or `null` (which the JSON format treats as absent).
        case absent
        /// A string.
        case string(JSONStringToken)
        /// Any other JSON value.
        case notString
    }

    /// A value the scan located (for `data`).
    package struct Value: Sendable, Equatable {
        /// Its bytes, as written.
        package var range: Range<Int>
        /// Its kind.
        package var kind: JSONScanner.ValueKind
        /// Whether insignificant whitespace occurs inside it (it needs compaction).
        package var hasWhitespace: Bool
        /// Its contents when it is a string.
        package var string: JSONStringToken?
    }

    /// `specversion`.
    package var specversion = Attribute.absent
    /// `id`.
    package var id = Attribute.absent
    /// `source`.
    package var source = Attribute.absent
    /// `type`.
    package var type = Attribute.absent
    /// `time`.
    package var time = Attribute.absent
    /// `data_base64`.
    package var dataBase64 = Attribute.absent
    /// `traceparent` (the distributed tracing extension).
    package var traceparent = Attribute.absent
    /// `data`, unless absent or `null`.
    package var data: Value?
    /// The event object's own bytes, braces included (bulk entries are measured by them).
    package var range: Range<Int> = 0..<0

    /// An empty layout.
    package init() {}
}

/// One entry of a Dapr bulk delivery, as located by the scan.
package struct BulkEntryLayout: Sendable, Equatable {
    /// `entryId`, when it is a string.
    package var entryID: JSONStringToken?
    /// `event`, when it is an object.
    package var event: CloudEventLayout?
}

/// What a delivery body holds at its top level.
package enum DeliveryLayout: Sendable, Equatable {
    /// One CloudEvent (structured mode or Dapr's JSON envelope).
    case event(CloudEventLayout)
    /// A Dapr bulk delivery: an object with an `entries` array.
    case bulk([BulkEntryLayout])
    /// A CloudEvents batch: an array of events (nil where an element is not an object).
    case batch([CloudEventLayout?])
    /// More entries than allowed; the scan stopped there.
    case tooManyEntries
    /// Valid JSON, but neither an object nor (for a batch) an array.
    case notObject
}

/// The CloudEvent attributes the gateway reads, and `entries` of a bulk body.
private enum Member {
    case specversion, id, source, type, time, data, dataBase64, traceparent, entries

    /// The member `key` names, comparing the decoded name.
    static func named(_ key: JSONStringToken, in bytes: UnsafeRawBufferPointer) -> Member? {
        guard key.hasEscapes else { return named(key.contents(in: bytes)) }
        // Rare: a publisher escaping plain letters in a member name. Decoding never lengthens.
        guard key.count <= 64 else { return nil }
        return withUnsafeTemporaryAllocation(byteCount: key.count, alignment: 1) { scratch in
            let length = JSONStringToken.decode(key.contents(in: bytes), into: scratch)
            return named(UnsafeRawBufferPointer(rebasing: scratch[0..<length]))
        }
    }

    private static func named(_ name: UnsafeRawBufferPointer) -> Member? {
        // Dispatch on the length first: no allocation, a few byte compares per member.
        switch name.count {
        case 2: return name.holds("id") ? .id : nil
        case 4:
            if name.holds("type") { return .type }
            if name.holds("time") { return .time }
            return name.holds("data") ? .data : nil
        case 6: return name.holds("source") ? .source : nil
        case 7: return name.holds("entries") ? .entries : nil
        case 11:
            if name.holds("specversion") { return .specversion }
            if name.holds("data_base64") { return .dataBase64 }
            return name.holds("traceparent") ? .traceparent : nil
        default: return nil
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether these bytes are exactly `text`'s UTF-8.
    @inline(__always)
    package func holds(_ text: StaticString) -> Bool {
        bytesEqual(self, text.rawBytes)
    }
}

extension StaticString {
    /// The string's UTF-8 bytes.
    package var rawBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: utf8Start, count: utf8CodeUnitCount)
    }
}

extension JSONScanner {
    /// Scans a whole delivery body: one CloudEvent object, or (when `bulkEntryLimit` is
    /// set) a Dapr bulk body, or (when `batch`) a CloudEvents batch array. Each byte is
    /// read once; members the gateway does not read are validated and skipped.
    package static func scanDelivery(
        _ bytes: UnsafeRawBufferPointer,
        bulkEntryLimit: Int?,
        batch: Bool = false
    ) throws(JSONSyntaxError) -> DeliveryLayout {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let layout: DeliveryLayout
        switch scanner.current {
        case UInt8(ascii: "{") where !batch:
            var entries: [BulkEntryLayout]?
            var overLimit = false
            let event = try scanner.scanCloudEvent(depth: 1) { scanner throws(JSONSyntaxError) in
                guard let limit = bulkEntryLimit, scanner.current == UInt8(ascii: "[") else { return .skipped }
                guard let scanned = try scanner.scanBulkEntries(limit: limit) else {
                    overLimit = true
                    return .stop
                }
                entries = scanned
                return .taken
            }
            if overLimit { return .tooManyEntries }
            layout = entries.map(DeliveryLayout.bulk) ?? .event(event)
        case UInt8(ascii: "[") where batch:
            guard let events = try scanner.scanBatch(limit: bulkEntryLimit ?? Int.max) else { return .tooManyEntries }
            layout = .batch(events)
        default:
            _ = try scanner.scanValue(depth: 0)
            layout = .notObject
        }
        try scanner.expectEnd()
        return layout
    }

    /// What the reader of an `entries` member did with it.
    package enum EntriesVerdict {
        /// Left it: the scan skips it like any other member.
        case skipped
        /// Read it.
        case taken
        /// Gave up on the body: the scan stops where it is.
        case stop
    }

    /// Scans one CloudEvent object at the read position. `entries` is offered the value of
    /// an `entries` member (at the top level of a bulk body).
    package mutating func scanCloudEvent(
        depth: Int,
        entries: (inout JSONScanner) throws(JSONSyntaxError) -> EntriesVerdict = { _ in .skipped }
    ) throws(JSONSyntaxError) -> CloudEventLayout {
        var event = CloudEventLayout()
        let start = offset
        try enterObject(depth: depth)
        var first = true
        while let key = try nextMember(first: &first) {
            switch Member.named(key, in: bytes) {
            case .specversion: event.specversion = try scanAttribute(depth: depth)
            case .id: event.id = try scanAttribute(depth: depth)
            case .source: event.source = try scanAttribute(depth: depth)
            case .type: event.type = try scanAttribute(depth: depth)
            case .time: event.time = try scanAttribute(depth: depth)
            case .dataBase64: event.dataBase64 = try scanAttribute(depth: depth)
            case .traceparent: event.traceparent = try scanAttribute(depth: depth)
            case .data:
                let valueStart = offset
                let whitespaceBefore = whitespaceCount
                var string: JSONStringToken?
                let kind: ValueKind
                if current == UInt8(ascii: "\"") {
                    string = try scanString()
                    kind = .string
                } else {
                    kind = try scanValue(depth: depth)
                }
                event.data =
                    kind == .null
                    ? nil
                    : CloudEventLayout.Value(
                        range: valueStart..<offset,
                        kind: kind,
                        hasWhitespace: whitespaceCount != whitespaceBefore,
                        string: string
                    )
            case .entries:
                switch try entries(&self) {
                case .skipped: _ = try scanValue(depth: depth)
                case .taken: break
                case .stop:
                    event.range = start..<offset
                    return event
                }
            case nil:
                _ = try scanValue(depth: depth)
            }
        }
        event.range = start..<offset
        return event
    }

    /// A string attribute's value: its token, absent for `null`, or `notString`.
    private mutating func scanAttribute(depth: Int) throws(JSONSyntaxError) -> CloudEventLayout.Attribute {
        if current == UInt8(ascii: "\"") { return .string(try scanString()) }
        return try scanValue(depth: depth) == .null ? .absent : .notString
    }

    /// The `entries` array of a bulk body (at depth 2); nil once it holds more than `limit`.
    private mutating func scanBulkEntries(limit: Int) throws(JSONSyntaxError) -> [BulkEntryLayout]? {
        var entries: [BulkEntryLayout] = []
        try enterArray(depth: 2)
        var first = true
        while try nextElement(first: &first) {
            guard entries.count < limit else { return nil }
            var entry = BulkEntryLayout()
            if current == UInt8(ascii: "{") {
                try enterObject(depth: 3)
                var firstMember = true
                while let key = try nextMember(first: &firstMember) {
                    if key.equals(("entryId" as StaticString).rawBytes, in: bytes) {
                        if current == UInt8(ascii: "\"") {
                            entry.entryID = try scanString()
                        } else {
                            _ = try scanValue(depth: 3)
                            entry.entryID = nil
                        }
                    } else if key.equals(("event" as StaticString).rawBytes, in: bytes) {
                        if current == UInt8(ascii: "{") {
                            entry.event = try scanCloudEvent(depth: 4)
                        } else {
                            _ = try scanValue(depth: 3)
                            entry.event = nil
                        }
                    } else {
                        _ = try scanValue(depth: 3)
                    }
                }
            } else {
                _ = try scanValue(depth: 2)
            }
            entries.append(entry)
        }
        return entries
    }

    /// The elements of a CloudEvents batch (at depth 1); nil once it holds more than `limit`.
    private mutating func scanBatch(limit: Int) throws(JSONSyntaxError) -> [CloudEventLayout?]? {
        var events: [CloudEventLayout?] = []
        try enterArray(depth: 1)
        var first = true
        while try nextElement(first: &first) {
            guard events.count < limit else { return nil }
            if current == UInt8(ascii: "{") {
                events.append(try scanCloudEvent(depth: 2))
            } else {
                _ = try scanValue(depth: 1)
                events.append(nil)
            }
        }
        return events
    }
}
