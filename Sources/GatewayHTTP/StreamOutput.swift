import GatewayCore
import Logging
import NIOCore

/// The bytes one SSE stream writes, and the accounting after each write: everything a
/// stream does between two awaits, kept out of its async loop on purpose.
///
/// An async function keeps its locals in a frame allocated for as long as it runs, and an
/// idle stream is suspended in its loop for hours. With the encoding, the ready data and
/// the metrics inlined into that loop, its frame was a 12 KB allocation per stream, about
/// half of an idle stream's memory (heaptrack over 2,000 idle streams). These methods are
/// synchronous and not inlined, so their temporaries live on the thread's stack and are
/// gone before the loop waits again.
struct StreamOutput: Sendable {
    private var encoder: StreamEncoder
    private let retryMilliseconds: Int64
    private let jitterWindowMilliseconds: Int64
    private let heartbeatSeconds: Int64
    private let metrics: GatewayMetrics
    private let logger: Logger

    /// An output for streams of a gateway with `settings`; `starting(at:)` gives a stream's own.
    init(settings: GatewaySettings, metrics: GatewayMetrics, logger: Logger) {
        self.encoder = StreamEncoder(start: ResumeToken(positions: [:]))
        self.retryMilliseconds = settings.retryHint.milliseconds
        self.jitterWindowMilliseconds = max(0, settings.reconnectJitterWindow.milliseconds)
        self.heartbeatSeconds = settings.heartbeatInterval.components.seconds
        self.metrics = metrics
        self.logger = logger
    }

    /// This output for a stream whose position before its first frame is `start`.
    func starting(at start: ResumeToken) -> StreamOutput {
        var output = self
        output.encoder = StreamEncoder(start: start)
        return output
    }

    /// The `retry:` hint, `event: ready`, and `event: reset` after a history gap.
    @inline(never)
    func opening(scope: StreamScope, historyGap: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        encoder.writeOpening(
            retryMilliseconds: retryMilliseconds,
            readyData: readyData(scope: scope),
            historyGap: historyGap,
            into: &buffer
        )
        return buffer
    }

    /// Replayed frames, written in chunks so a long replay is not one huge buffer.
    @inline(never)
    mutating func replay(_ frames: ArraySlice<EventFrame>) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { encoder.write(frame, into: &buffer) }
        return buffer
    }

    /// A replay chunk was written.
    @inline(never)
    func replayed(_ frames: ArraySlice<EventFrame>) {
        metrics.delivered(frames)
    }

    /// One batch: its frames, the heartbeat when one is due, and the closing frames.
    @inline(never)
    mutating func encode(_ batch: SubscriberBatch) -> ByteBuffer {
        var buffer = ByteBuffer()
        for frame in batch.frames { encoder.write(frame, into: &buffer) }
        if batch.heartbeat { encoder.writeHeartbeat(into: &buffer) }
        if let reason = batch.closeReason {
            encoder.writeClose(reason, retryMilliseconds: closeRetry(reason), into: &buffer)
        }
        return buffer
    }

    /// A batch was written: the bytes are with the socket (flushed, not buffered).
    @inline(never)
    func written(_ batch: SubscriberBatch) {
        if !batch.frames.isEmpty {
            metrics.delivered(batch.frames)
            metrics.flushed(batch.frames, at: .now)
        }
        if let reason = batch.closeReason {
            logger.debug("stream closed", metadata: ["stream.close_reason": "\(reason.rawValue)"])
        }
    }

    /// The `retry:` before an `event: error`: jittered over the configured window when
    /// draining, so reconnects spread over the remaining pods.
    private func closeRetry(_ reason: CloseReason) -> Int64? {
        switch reason {
        case .shuttingDown:
            return retryMilliseconds + Int64.random(in: 0...jitterWindowMilliseconds)
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
            "heartbeatSeconds": String(heartbeatSeconds),
        ])
    }
}
