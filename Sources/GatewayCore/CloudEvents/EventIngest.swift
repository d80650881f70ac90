import NIOCore

/// The one ingest step, used by every route that takes events (Dapr single and bulk
/// deliveries, binary mode, CloudEvents batches, the dev publish route): a body and how it
/// was sent in; validated events with their routing facts and their encoded frames out, or
/// a typed refusal that the route maps to its answer.
///
/// A body is read once, by `JSONScanner`: it is validated as RFC 8259 JSON while the
/// attributes and `data` are located, and nothing is parsed into a tree. `data` goes into
/// the frame as its original bytes, only its insignificant whitespace dropped; the few
/// fields routing needs are read from those bytes (`RoutingFields`). A bulk body is scanned
/// once too, and its entries are measured by their own bytes.
package struct EventIngest: Sendable {
    /// The size bounds of deliveries.
    package struct Limits: Sendable, Equatable {
        /// Largest event: a single delivery's body, a bulk entry's `event` object, a
        /// binary-mode body (`GATEWAY_MAX_EVENT_BYTES`).
        package var maxEventBytes = 256 * 1024
        /// Most entries in a bulk or batch body (`GATEWAY_DAPR_BULK_MAX_MESSAGES`, the
        /// `maxMessagesCount` announced to daprd).
        package var bulkMaxEntries = 100
        /// Largest bulk or batch body (`GATEWAY_DAPR_BULK_MAX_BYTES`).
        package var bulkMaxBytes = 32 * 1024 * 1024

        /// The defaults.
        package init() {}
    }

    /// The topics carried, in resume-token order.
    package let topics: [TopicRule]
    /// The size bounds.
    package let limits: Limits
    /// Whether a Dapr bulk body is taken (bulk subscribe announced).
    package let acceptsBulk: Bool
    private let routing: [RoutingFields]
    private let topicTexts: [EventFrame.TopicText]

    /// An ingest step for `topics`.
    package init(topics: [TopicRule], limits: Limits = Limits(), acceptsBulk: Bool = false) {
        self.topics = topics
        self.limits = limits
        self.acceptsBulk = acceptsBulk
        self.routing = topics.map(RoutingFields.init(rule:))
        self.topicTexts = topics.map { EventFrame.TopicText($0.topic) }
    }

    /// The index of a carried topic, or the refusal for one that is not.
    package func topicIndex(of topic: String) -> Result<Int, IngestRefusal> {
        guard let index = topics.firstIndex(where: { $0.topic == topic }) else { return .failure(.unknownTopic(topic)) }
        return .success(index)
    }

    /// The largest body a delivery in `mode` with `contentType` may have, and the refusal
    /// when it is larger: a single event over its bound is poison (`DROP`), a bulk or batch
    /// body over its bound is refused whole.
    package func bodyBound(mode: DeliveryMode, contentType: String?) -> (limit: Int, refusal: IngestRefusal) {
        let single = (limits.maxEventBytes, IngestRefusal.poison(.tooLarge(limit: limits.maxEventBytes)))
        let many = (limits.bulkMaxBytes, IngestRefusal.bodyTooLarge(limit: limits.bulkMaxBytes))
        switch mode {
        case .binary: return single
        case .batch: return many
        // daprd sends a bulk body as `application/json`, single events as `application/cloudevents+json`.
        case .structured: return acceptsBulk && MediaType(contentType) != .cloudEvents ? many : single
        }
    }

    /// Decodes one delivery body for the topic at `topicIndex` (from `topicIndex(of:)`).
    /// The `traceparent` attribute of bulk and batch entries is decoded (their request's
    /// trace header is not theirs); a single event's only with `traceparents`.
    package func ingest(
        _ body: ByteBuffer,
        mode: DeliveryMode,
        contentType: String?,
        topicIndex: Int,
        receivedAt: ContinuousClock.Instant,
        traceparents: Bool = false
    ) -> IngestResult {
        guard topics.indices.contains(topicIndex) else { return .refused(.unknownTopic(String(topicIndex))) }
        let context = Context(topicIndex: topicIndex, receivedAt: receivedAt, traceparents: traceparents)
        return body.withUnsafeReadableBytes { bytes in
            switch mode {
            case .structured: structured(bytes, context: context)
            case .batch: batch(bytes, context: context)
            case .binary(let headers): binary(bytes, headers: headers, contentType: contentType, context: context)
            }
        }
    }

    /// What every event of one delivery shares.
    struct Context {
        var topicIndex: Int
        var receivedAt: ContinuousClock.Instant
        var traceparents: Bool
    }

    private func structured(_ bytes: UnsafeRawBufferPointer, context: Context) -> IngestResult {
        let layout: DeliveryLayout
        do {
            layout = try JSONScanner.scanDelivery(bytes, bulkEntryLimit: acceptsBulk ? limits.bulkMaxEntries : nil)
        } catch {
            return .refused(.poison(.invalidJSON(error)))
        }
        switch layout {
        case .event(let event):
            guard bytes.count <= limits.maxEventBytes else {
                return .refused(.poison(.tooLarge(limit: limits.maxEventBytes)))
            }
            do {
                return .event(try ingested(event, in: bytes, context: context))
            } catch {
                return .refused(.poison(error))
            }
        case .bulk(let entries):
            return .bulk(
                entries.map { entry in
                    IngestEntry(
                        entryID: entry.entryID?.string(in: bytes) ?? "",
                        result: entryResult(entry.event, in: bytes, context: context)
                    )
                }
            )
        case .tooManyEntries:
            return .refused(.tooManyEntries(limit: limits.bulkMaxEntries))
        case .notObject, .batch:
            return .refused(.poison(.notJSONObject))
        }
    }

    private func batch(_ bytes: UnsafeRawBufferPointer, context: Context) -> IngestResult {
        let layout: DeliveryLayout
        do {
            layout = try JSONScanner.scanDelivery(bytes, bulkEntryLimit: limits.bulkMaxEntries, batch: true)
        } catch {
            return .refused(.poison(.invalidJSON(error)))
        }
        switch layout {
        case .batch(let events):
            return .batch(
                events.enumerated().map { index, event in
                    IngestEntry(entryID: String(index), result: entryResult(event, in: bytes, context: context))
                }
            )
        case .tooManyEntries:
            return .refused(.tooManyEntries(limit: limits.bulkMaxEntries))
        case .notObject, .event, .bulk:
            return .refused(.poison(.notJSONObject))
        }
    }

    /// One event of a bulk or batch body, measured by its own bytes.
    private func entryResult(
        _ event: CloudEventLayout?,
        in bytes: UnsafeRawBufferPointer,
        context: Context
    ) -> Result<IngestedEvent, CloudEventError> {
        guard let event else { return .failure(.notJSONObject) }
        guard event.range.count <= limits.maxEventBytes else { return .failure(.tooLarge(limit: limits.maxEventBytes)) }
        var context = context
        context.traceparents = true
        do {
            return .success(try ingested(event, in: bytes, context: context))
        } catch {
            return .failure(error)
        }
    }

    /// A single structured event in `bytes` (binary mode's rewritten body), without bulk.
    func single(_ bytes: UnsafeRawBufferPointer, context: Context) -> IngestResult {
        let layout: DeliveryLayout
        do {
            layout = try JSONScanner.scanDelivery(bytes, bulkEntryLimit: nil)
        } catch {
            return .refused(.poison(.invalidJSON(error)))
        }
        guard case .event(let event) = layout else { return .refused(.poison(.notJSONObject)) }
        do {
            return .event(try ingested(event, in: bytes, context: context))
        } catch {
            return .refused(.poison(error))
        }
    }

    /// Validates one located event and writes its frame.
    private func ingested(
        _ event: CloudEventLayout,
        in bytes: UnsafeRawBufferPointer,
        context: Context
    ) throws(CloudEventError) -> IngestedEvent {
        let attributes = try ValidatedAttributes(event, in: bytes)
        let routing = self.routing[context.topicIndex]
        var parts = EventFrame.Parts(
            id: attributes.id.contents(in: bytes),
            type: attributes.type.contents(in: bytes),
            source: attributes.source.contents(in: bytes),
            time: attributes.time?.contents(in: bytes),
            data: nil,
            dataNeedsCompaction: false,
            dataBase64: nil
        )
        let traceparent = context.traceparents ? attributes.traceparent?.string(in: bytes) : nil
        func ingested(_ parts: EventFrame.Parts, data: UnsafeRawBufferPointer?) -> IngestedEvent {
            let frame = EventFrame(
                parts: parts,
                topic: topicTexts[context.topicIndex],
                topicIndex: context.topicIndex,
                eventID: attributes.idText,
                facts: routing.facts(type: attributes.typeText, data: data),
                receivedAt: context.receivedAt
            )
            return IngestedEvent(frame: frame, traceparent: traceparent)
        }
        if let data = event.data {
            // Dapr wraps any publish that is not `application/json` in a string: a string
            // holding a JSON object (after whitespace) is matched and forwarded as that object.
            if let string = data.string {
                let promoted = Self.withObject(inString: string, of: bytes) { object in
                    var promotedParts = parts
                    promotedParts.data = object
                    promotedParts.dataNeedsCompaction = true
                    return ingested(promotedParts, data: object)
                }
                if let promoted { return promoted }
            }
            let value = UnsafeRawBufferPointer(rebasing: bytes[data.range])
            parts.data = value
            parts.dataNeedsCompaction = data.hasWhitespace
            return ingested(parts, data: data.kind == .object ? value : nil)
        }
        if let base64 = attributes.dataBase64 {
            // Binary data that is a JSON object is matched and forwarded as that object too.
            let promoted = Self.withObject(inBase64: base64.string(in: bytes)) { object in
                var promotedParts = parts
                promotedParts.data = object
                promotedParts.dataNeedsCompaction = true
                return ingested(promotedParts, data: object)
            }
            if let promoted { return promoted }
            parts.dataBase64 = base64.contents(in: bytes)
        }
        return ingested(parts, data: nil)
    }

    /// Runs `body` with the decoded contents of a JSON string when they are a JSON object
    /// after optional whitespace; nil otherwise.
    private static func withObject<Value>(
        inString string: JSONStringToken,
        of bytes: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) -> Value
    ) -> Value? {
        let raw = string.contents(in: bytes)
        // A cheap look first: as written, such a string starts with `{`, a space, or an
        // escape (`\n`, `\t`, `\u0020`, … or an escaped `{`).
        guard let first = raw.first, first == UInt8(ascii: "{") || first == 0x20 || first == UInt8(ascii: "\\") else {
            return nil
        }
        return withUnsafeTemporaryAllocation(byteCount: raw.count, alignment: 1) { scratch in
            let length = JSONStringToken.decode(raw, into: scratch)
            return withObject(in: UnsafeRawBufferPointer(rebasing: scratch[0..<length]), body)
        }
    }

    /// Runs `body` with `text`, without the whitespace around it, when it is a JSON object.
    static func withObject<Value>(
        in text: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) -> Value
    ) -> Value? {
        let isWhitespace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard let start = text.firstIndex(where: { !isWhitespace($0) }), text[start] == UInt8(ascii: "{"),
            let last = text.lastIndex(where: { !isWhitespace($0) })
        else { return nil }
        let object = UnsafeRawBufferPointer(rebasing: text[start...last])
        guard (try? JSONScanner.validate(object)) == .object else { return nil }
        return body(object)
    }
}

/// The attributes of a located event, checked the way `CloudEventError` describes.
private struct ValidatedAttributes {
    var id: JSONStringToken
    var idText: String
    var type: JSONStringToken
    var typeText: String
    var source: JSONStringToken
    var time: JSONStringToken?
    var dataBase64: JSONStringToken?
    var traceparent: JSONStringToken?

    init(_ event: CloudEventLayout, in bytes: UnsafeRawBufferPointer) throws(CloudEventError) {
        func required(
            _ attribute: CloudEventLayout.Attribute,
            _ name: String
        ) throws(CloudEventError) -> JSONStringToken {
            switch attribute {
            case .absent: throw .missingAttribute(name)
            case .notString: throw .attributeNotString(name)
            case .string(let token):
                // Escapes decode to at least one byte, so empty as written is empty.
                guard token.count > 0 else { throw .missingAttribute(name) }
                return token
            }
        }
        func optional(
            _ attribute: CloudEventLayout.Attribute,
            _ name: String
        ) throws(CloudEventError) -> JSONStringToken? {
            switch attribute {
            case .absent: return nil
            case .notString: throw .attributeNotString(name)
            case .string(let token): return token
            }
        }
        let specversion = try required(event.specversion, "specversion")
        let contents = specversion.contents(in: bytes)
        // "1.0", or another 1.x; anything escaped is decoded first.
        if specversion.hasEscapes || !(contents.holds("1.0") || contents.starts(with: "1.".utf8)) {
            let version = specversion.string(in: bytes)
            guard version == "1.0" || version.hasPrefix("1.") else {
                throw .unsupportedSpecVersion(String(version.prefix(16)))
            }
        }
        self.id = try required(event.id, "id")
        self.source = try required(event.source, "source")
        self.type = try required(event.type, "type")
        self.idText = id.string(in: bytes)
        self.typeText = type.string(in: bytes)
        // Raw control characters never pass the scanner; only escapes can make one.
        if id.hasEscapes && idText.containsLineBreakOrNUL { throw .controlCharacter("id") }
        if type.hasEscapes && typeText.containsLineBreakOrNUL { throw .controlCharacter("type") }
        if source.hasEscapes && source.string(in: bytes).containsLineBreakOrNUL { throw .controlCharacter("source") }
        guard idText.utf8.count <= CloudEvent.maximumIDLength else {
            throw .attributeTooLong("id", limit: CloudEvent.maximumIDLength)
        }
        self.time = try optional(event.time, "time")
        self.dataBase64 = try optional(event.dataBase64, "data_base64")
        self.traceparent = try optional(event.traceparent, "traceparent")
        if event.data != nil && dataBase64 != nil { throw .dataAndDataBase64 }
    }
}

extension EventIngest {
    /// The ingest step the settings describe.
    package init(settings: GatewaySettings) {
        var limits = Limits()
        limits.maxEventBytes = settings.maxEventBytes
        limits.bulkMaxEntries = settings.bulk.maxMessagesCount
        limits.bulkMaxBytes = settings.bulk.maxBodyBytes
        self.init(topics: settings.topics, limits: limits, acceptsBulk: settings.bulk.enabled)
    }
}
