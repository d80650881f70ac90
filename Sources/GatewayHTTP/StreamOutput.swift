import GatewayCore
import Logging
import NIOCore

/// The bytes one SSE stream writes, framed for the wire, and the accounting after each
/// write.
///
/// Per stream it holds only the encoder (the stream's resume position) and the body
/// framing; what every stream shares is one `StreamOutput.Settings` reference, because an
/// idle stream should cost as little as it can.
struct StreamOutput {
    /// What the outputs of every stream share.
    final class Settings: Sendable {
        /// The `retry:` hint of every stream's opening.
        let retryMilliseconds: Int64
        /// The spread of the `retry:` hint before `shutting_down`.
        let jitterWindowMilliseconds: Int64
        /// The heartbeat interval announced in `ready`.
        let heartbeatSeconds: Int64
        /// Most bytes of replayed frames in one write (at least one frame).
        let replayChunkBytes: Int
        /// Where deliveries are counted.
        let metrics: GatewayMetrics
        /// Where stream ends are logged (debug).
        let logger: Logger

        init(settings: GatewaySettings, metrics: GatewayMetrics, logger: Logger) {
            self.retryMilliseconds = settings.retryHint.milliseconds
            self.jitterWindowMilliseconds = max(0, settings.reconnectJitterWindow.milliseconds)
            self.heartbeatSeconds = settings.heartbeatInterval.components.seconds
            self.replayChunkBytes = settings.replayChunkBytes
            self.metrics = metrics
            self.logger = logger
        }
    }

    private var encoder: StreamEncoder
    /// How the body is delimited (chunked, or by the connection's end).
    let framing: BodyFraming
    /// The shared part.
    let settings: Settings

    /// The output of a stream whose position before its first frame is `start`.
    init(start: ResumeToken, framing: BodyFraming, settings: Settings) {
        self.encoder = StreamEncoder(start: start)
        self.framing = framing
        self.settings = settings
    }

    /// The `retry:` hint, `event: ready`, and `event: reset` after a history gap.
    func opening(scope: StreamScope, historyGap: Bool) -> ByteBuffer {
        var buffer = framing.makeBuffer()
        encoder.writeOpening(
            retryMilliseconds: settings.retryMilliseconds,
            readyData: readyData(scope: scope),
            historyGap: historyGap,
            into: &buffer
        )
        framing.seal(&buffer)
        return buffer
    }

    /// The next replayed frames taken off the front of `pending`: at most
    /// `replayChunkBytes` of them, or one frame when that frame alone is larger.
    mutating func replayChunk(
        _ pending: inout ArraySlice<EventFrame>
    ) -> (bytes: ByteBuffer, frames: ArraySlice<EventFrame>) {
        let limit = settings.replayChunkBytes
        var end = pending.startIndex
        var size = 0
        while end < pending.endIndex {
            let frameSize = pending[end].body.readableBytes + Self.idLineAllowance
            if end > pending.startIndex && size + frameSize > limit { break }
            size += frameSize
            end += 1
        }
        var buffer = framing.makeBuffer(capacity: size)
        let frames = pending[pending.startIndex..<end]
        for frame in frames { encoder.write(frame, into: &buffer) }
        framing.seal(&buffer)
        pending = pending[end...]
        return (buffer, frames)
    }

    /// A replay chunk was written.
    func replayed(_ frames: ArraySlice<EventFrame>) {
        settings.metrics.delivered(frames)
    }

    /// One batch: its resets, its frames, the heartbeat when one is due, and the closing frames. Empty
    /// when the batch has nothing to write (a close the client is not told about).
    mutating func encode(_ batch: SubscriberBatch) -> ByteBuffer {
        var size = 64
        for frame in batch.frames { size += frame.body.readableBytes + Self.idLineAllowance }
        var buffer = framing.makeBuffer(capacity: size)
        encoder.writeReset(batch.resets, into: &buffer)
        for frame in batch.frames { encoder.write(frame, into: &buffer) }
        if batch.heartbeat { encoder.writeHeartbeat(into: &buffer) }
        if let reason = batch.closeReason {
            encoder.writeClose(reason, retryMilliseconds: closeRetry(reason), into: &buffer)
        }
        framing.seal(&buffer)
        return buffer
    }

    /// A batch was written: the bytes are with the channel, flushed.
    func written(_ batch: SubscriberBatch) {
        if !batch.resets.isEmpty { settings.metrics.resumeHoldsExpired(batch.resets.count) }
        if !batch.frames.isEmpty {
            settings.metrics.delivered(batch.frames)
            settings.metrics.flushed(batch.frames, at: .now)
        }
        if let reason = batch.closeReason {
            settings.logger.debug("stream closed", metadata: ["stream.close_reason": "\(reason.rawValue)"])
        }
    }

    /// A typical `id:` line, for sizing buffers (a longer one only grows the buffer).
    private static let idLineAllowance = 64

    /// The `retry:` before an `event: error`: jittered over the configured window when
    /// draining, so reconnects spread over the remaining pods.
    private func closeRetry(_ reason: CloseReason) -> Int64? {
        switch reason {
        case .shuttingDown:
            return settings.retryMilliseconds + Int64.random(in: 0...settings.jitterWindowMilliseconds)
        case .clientGone, .tokenExpired, .slowConsumer, .limit:
            return nil
        }
    }

    private func readyData(scope: StreamScope) -> String {
        let filters = scope.filters
        var filterMembers: [(String, String)] = []
        if let student = filters.studentID { filterMembers.append(("studentId", JSONText.quoted(student))) }
        if let course = filters.courseID { filterMembers.append(("courseId", JSONText.quoted(course))) }
        if let priority = filters.minimumPriority {
            filterMembers.append(("minPriority", JSONText.quoted(priority.name)))
        }
        if let types = filters.types { filterMembers.append(("types", JSONText.array(types.sorted()))) }
        let filterJSON = JSONText.object(filterMembers)
        return JSONText.object([
            "topics": JSONText.array(scope.topics.map(\.rule.topic)),
            "filters": filterJSON,
            "heartbeatSeconds": String(settings.heartbeatSeconds),
        ])
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
