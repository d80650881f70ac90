import NIOCore

/// Where one stream or poll stands on each of its topics, advanced frame by frame; its
/// text is the `id:` of the frame just written (or a poll's `lastEventId`).
///
/// Kept per stream (not per frame) so the shared frame stays encoded once and publish
/// cost does not grow with the number of topics a stream carries.
package struct StreamPosition: Sendable {
    private var entries: [String]
    private let slotByTopic: [Int: Int]

    /// Starts at `start` (the position before the first frame).
    package init(start: ResumeToken) {
        let sorted = start.positions.sorted { $0.key < $1.key }
        self.entries = sorted.map { ResumeToken.entry(topicIndex: $0.key, eventID: $0.value) }
        var slots: [Int: Int] = [:]
        for (slot, position) in sorted.enumerated() { slots[position.key] = slot }
        self.slotByTopic = slots
    }

    /// Moves past `frame` on its topic.
    package mutating func advance(past frame: EventFrame) {
        if let slot = slotByTopic[frame.topicIndex] { entries[slot] = frame.position }
    }

    /// Moves the reset topic's position to the event it names (the log's head).
    package mutating func move(_ reset: PositionReset) {
        if let slot = slotByTopic[reset.topicIndex] {
            entries[slot] = ResumeToken.entry(topicIndex: reset.topicIndex, eventID: reset.eventID)
        }
    }

    /// The resume token text.
    package var text: String { entries.count == 1 ? entries[0] : entries.joined(separator: ";") }

    /// Appends the text without building it first (once per frame on the hot path).
    package func write(into buffer: inout ByteBuffer) {
        for (index, entry) in entries.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ";")) }
            buffer.writeString(entry)
        }
    }
}
