import NIOCore

/// One accepted event, encoded once and shared by every subscriber and the replay log.
package final class EventFrame: Sendable {
    /// Position of the topic in the gateway's topic list.
    package let topicIndex: Int
    /// The CloudEvent id.
    package let eventID: String
    /// What matching needs to know.
    package let facts: EventFacts
    /// `event: <topic>` and the `data:` line and the blank line: everything but the `id:` line.
    /// The `data:` line is the compact JSON envelope
    /// (`{"id":…,"topic":…,"type":…,"source":…,"time":…,"data":…}`).
    package let body: ByteBuffer
    /// This event's own entry of a resume token.
    package let position: String
    /// When the delivery request was accepted (latency and replay age).
    package let receivedAt: ContinuousClock.Instant
    /// Where the envelope and the `time` string's contents are in `body` (from its reader index).
    private let envelopeRange: Range<Int>
    private let timeRange: Range<Int>?

    /// The compact JSON envelope, as a string (for the poll answer).
    package var envelope: String { String(buffer: envelopeBytes) }

    /// The compact JSON envelope's bytes: a slice of `body`, not a copy.
    package var envelopeBytes: ByteBuffer {
        body.getSlice(at: body.readerIndex + envelopeRange.lowerBound, length: envelopeRange.count) ?? ByteBuffer()
    }

    /// The CloudEvent `time` as the publisher wrote it, decoded on demand (it is not needed
    /// to deliver an event).
    package var time: String? {
        guard let timeRange else { return nil }
        return body.withUnsafeReadableBytes { bytes in
            JSONStringToken(start: timeRange.lowerBound, end: timeRange.upperBound, hasEscapes: true).string(in: bytes)
        }
    }

    /// The parts of an envelope, as JSON text borrowed from the caller for the time of the
    /// write: strings as their contents between quotes (already valid JSON), `data` as a
    /// JSON value.
    struct Parts {
        var id: UnsafeRawBufferPointer
        var type: UnsafeRawBufferPointer
        var source: UnsafeRawBufferPointer
        var time: UnsafeRawBufferPointer?
        /// `data` as JSON text; nil writes `null`.
        var data: UnsafeRawBufferPointer?
        /// Whether `data` holds insignificant whitespace to drop.
        var dataNeedsCompaction: Bool
        var dataBase64: UnsafeRawBufferPointer?
    }

    /// A topic's name as it is written into every frame of the topic, prepared once.
    struct TopicText: Sendable {
        /// `event: <topic>\n`.
        let eventLine: [UInt8]
        /// The name as JSON string contents.
        let json: [UInt8]

        init(_ topic: String) {
            self.eventLine = Array("event: \(topic)\n".utf8)
            let quoted = JSONText.quoted(topic).utf8
            self.json = Array(quoted.dropFirst().dropLast())
        }
    }

    /// Writes a frame from `parts` (the ingest path).
    init(
        parts: Parts,
        topic: TopicText,
        topicIndex: Int,
        eventID: String,
        facts: EventFacts,
        receivedAt: ContinuousClock.Instant
    ) {
        self.topicIndex = topicIndex
        self.eventID = eventID
        self.facts = facts
        (self.body, self.envelopeRange, self.timeRange) = Self.write(parts, topic: topic)
        self.position = ResumeToken.entry(topicIndex: topicIndex, eventID: eventID)
        self.receivedAt = receivedAt
    }

    /// Encodes an event built in code (tests, benchmarks) with the same writer as ingest.
    package convenience init(event: CloudEvent, topicIndex: Int, facts: EventFacts, receivedAt: ContinuousClock.Instant)
    {
        // The parts, each as JSON text, in one scratch string.
        var text = ""
        var ranges: [Range<Int>] = []
        func add(_ piece: String) {
            let start = text.utf8.count
            text += piece
            ranges.append(start..<text.utf8.count)
        }
        func addString(_ value: String) { add(String(JSONText.quoted(value).dropFirst().dropLast())) }
        addString(event.id)
        addString(event.type)
        addString(event.source)
        addString(event.time ?? "")
        add(JSONText.encode(event.data))
        addString(event.dataBase64 ?? "")
        let written = text.withUTF8 { utf8 in
            let base = UnsafeRawBufferPointer(utf8)
            let piece = { (index: Int) in UnsafeRawBufferPointer(rebasing: base[ranges[index]]) }
            let parts = Parts(
                id: piece(0),
                type: piece(1),
                source: piece(2),
                time: event.time == nil ? nil : piece(3),
                data: piece(4),
                dataNeedsCompaction: false,
                dataBase64: event.dataBase64 == nil ? nil : piece(5)
            )
            return Self.write(parts, topic: TopicText(facts.topic))
        }
        self.init(topicIndex: topicIndex, eventID: event.id, facts: facts, receivedAt: receivedAt, written: written)
    }

    private init(
        topicIndex: Int,
        eventID: String,
        facts: EventFacts,
        receivedAt: ContinuousClock.Instant,
        written: (ByteBuffer, Range<Int>, Range<Int>?)
    ) {
        self.topicIndex = topicIndex
        self.eventID = eventID
        self.facts = facts
        (self.body, self.envelopeRange, self.timeRange) = written
        self.position = ResumeToken.entry(topicIndex: topicIndex, eventID: eventID)
        self.receivedAt = receivedAt
    }

    /// The frame's bytes: one allocation sized up front, every part copied once.
    private static func write(
        _ parts: Parts,
        topic: TopicText
    ) -> (body: ByteBuffer, envelope: Range<Int>, time: Range<Int>?) {
        // The constant parts of an envelope are 80 bytes; the rest is copied.
        let capacity =
            topic.eventLine.count + topic.json.count + parts.id.count + parts.type.count + parts.source.count
            + (parts.time?.count ?? 0) + (parts.data?.count ?? 4) + (parts.dataBase64?.count ?? 0) + 112
        var buffer = ByteBufferAllocator().buffer(capacity: capacity)
        // The topic name was validated when the configuration was loaded.
        buffer.writeBytes(topic.eventLine)
        buffer.writeStaticString("data: ")
        let envelopeStart = buffer.writerIndex
        buffer.writeStaticString(#"{"id":""#)
        buffer.writeBytes(parts.id)
        buffer.writeStaticString(#"","topic":""#)
        buffer.writeBytes(topic.json)
        buffer.writeStaticString(#"","type":""#)
        buffer.writeBytes(parts.type)
        buffer.writeStaticString(#"","source":""#)
        buffer.writeBytes(parts.source)
        var timeRange: Range<Int>?
        if let time = parts.time {
            buffer.writeStaticString(#"","time":""#)
            let start = buffer.writerIndex
            buffer.writeBytes(time)
            timeRange = start..<buffer.writerIndex
        }
        buffer.writeStaticString(#"","data":"#)
        if let data = parts.data {
            if parts.dataNeedsCompaction {
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: data.count) { output in
                    JSONScanner.compact(data, into: output)
                }
            } else {
                buffer.writeBytes(data)
            }
        } else {
            buffer.writeStaticString("null")
        }
        if let base64 = parts.dataBase64 {
            buffer.writeStaticString(#","data_base64":""#)
            buffer.writeBytes(base64)
            buffer.writeStaticString(#"""#)
        }
        buffer.writeStaticString("}")
        let envelope = envelopeStart..<buffer.writerIndex
        buffer.writeStaticString("\n\n")
        return (buffer, envelope, timeRange)
    }
}
