import NIOCore

/// One accepted event, encoded once and shared by every subscriber and the replay log.
package final class EventFrame: Sendable {
    /// Position of the topic in the gateway's topic list.
    package let topicIndex: Int
    /// The CloudEvent id.
    package let eventID: String
    /// What matching needs to know.
    package let facts: EventFacts
    /// The compact JSON envelope (`{"id":…,"topic":…,"type":…,"source":…,"time":…,"data":…}`).
    package let envelope: String
    /// `event: <topic>` and the `data:` lines and the blank line: everything but the `id:` line.
    package let body: ByteBuffer
    /// This event's own entry of a resume token.
    package let position: String
    /// When the delivery request was accepted (latency and replay age).
    package let receivedAt: ContinuousClock.Instant

    /// Encodes `event` for `topic`.
    package init(event: CloudEvent, topicIndex: Int, facts: EventFacts, receivedAt: ContinuousClock.Instant) {
        self.topicIndex = topicIndex
        self.eventID = event.id
        self.facts = facts
        // Written straight into one string: this runs once per accepted event.
        var envelope = #"{"id":"#
        envelope.reserveCapacity(256)
        JSONText.appendQuoted(event.id, to: &envelope)
        envelope += #","topic":"#
        JSONText.appendQuoted(facts.topic, to: &envelope)
        envelope += #","type":"#
        JSONText.appendQuoted(event.type, to: &envelope)
        envelope += #","source":"#
        JSONText.appendQuoted(event.source, to: &envelope)
        if let time = event.time {
            envelope += #","time":"#
            JSONText.appendQuoted(time, to: &envelope)
        }
        envelope += #","data":"#
        JSONText.append(event.data, to: &envelope)
        if let base64 = event.dataBase64 {
            envelope += #","data_base64":"#
            JSONText.appendQuoted(base64, to: &envelope)
        }
        envelope += "}"
        self.envelope = envelope
        var body = ByteBuffer()
        body.reserveCapacity(envelope.utf8.count + facts.topic.utf8.count + 16)
        // The topic name was validated when the configuration was loaded.
        body.writeString("event: \(facts.topic)\n")
        EventStreamFormat.writeData(envelope, into: &body)
        body.writeInteger(UInt8(ascii: "\n"))
        self.body = body
        self.position = ResumeToken.entry(topicIndex: topicIndex, eventID: event.id)
        self.receivedAt = receivedAt
    }
}
