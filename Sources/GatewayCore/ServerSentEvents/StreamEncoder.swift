import NIOCore

/// Turns one stream's frames into bytes, keeping the stream's resume position so every
/// frame's `id:` says where the stream stands on each of its topics.
package struct StreamEncoder: Sendable {
    private var position: StreamPosition

    /// Starts at `start` (the position before the first frame).
    package init(start: ResumeToken) {
        self.position = StreamPosition(start: start)
    }

    /// The current resume token.
    package var token: String { position.text }

    /// The first frames: the `retry:` hint, `event: ready`, and `event: reset` after a history gap.
    package func writeOpening(
        retryMilliseconds: Int64,
        readyData: String,
        historyGap: Bool,
        into buffer: inout ByteBuffer
    ) {
        let id = token
        buffer.writeString("retry: \(retryMilliseconds)\n")
        // `id` was built from validated, escaped event ids; `ready`/`reset` are constants.
        try? EventStreamFormat.writeEvent(id: id, name: "ready", data: readyData, into: &buffer)
        if historyGap {
            try? EventStreamFormat.writeEvent(
                id: id,
                name: "reset",
                data: #"{"reason":"history_gap"}"#,
                into: &buffer
            )
        }
    }

    /// One `event: reset` for held topics whose wait ended without their event: their
    /// positions move to the log's head, and the frame's `id:` already says so. `topics`
    /// names them; a `reset` without `topics` (the opening one) concerns every topic.
    package mutating func writeReset(_ resets: [PositionReset], into buffer: inout ByteBuffer) {
        guard !resets.isEmpty else { return }
        for reset in resets { position.move(reset) }
        let data = JSONText.object([
            "reason": JSONText.quoted("history_gap"), "topics": JSONText.array(resets.map(\.topic)),
        ])
        // The id was built from validated, escaped event ids; the name is a constant.
        try? EventStreamFormat.writeEvent(id: token, name: "reset", data: data, into: &buffer)
    }

    /// One event frame; advances the position on the frame's topic.
    package mutating func write(_ frame: EventFrame, into buffer: inout ByteBuffer) {
        position.advance(past: frame)
        buffer.writeStaticString("id: ")
        position.write(into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\n"))
        var body = frame.body
        buffer.writeBuffer(&body)
    }

    /// The heartbeat comment.
    package func writeHeartbeat(into buffer: inout ByteBuffer) {
        buffer.writeString(EventStreamFormat.heartbeat)
    }

    /// The last frames of a stream the gateway ends on purpose: an optional `retry:` and `event: error`.
    package func writeClose(_ reason: CloseReason, retryMilliseconds: Int64?, into buffer: inout ByteBuffer) {
        guard reason.isAnnounced else { return }
        if let retryMilliseconds { EventStreamFormat.writeRetry(milliseconds: retryMilliseconds, into: &buffer) }
        let data = JSONText.object([
            "code": JSONText.quoted(reason.rawValue), "message": JSONText.quoted(reason.message),
        ])
        try? EventStreamFormat.writeEvent(id: nil, name: "error", data: data, into: &buffer)
    }
}
