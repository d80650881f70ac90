import NIOCore

extension Subscription {
    /// Most events one poll answer carries; a client with more to catch up polls again at once.
    package static let maximumPollEvents = 1000

    /// How long after a hold's deadline a poll still waits for the reset: the ticker that
    /// turns expired holds into resets runs once a second.
    static let holdResetGrace: Duration = .milliseconds(1500)

    /// What a poll answers with (design section 2, `GET /events/poll`): the missed events
    /// when there are any, else the first live events that arrive within `wait`.
    ///
    /// A poll whose position names an event this replica has not received yet waits for
    /// it as a stream does (design section 6), whatever its `wait`: then it answers with
    /// what follows, or with a reset when the hold ends without the event.
    ///
    /// The position advances only past the events returned, so whatever a poll leaves
    /// out (over either limit, or arriving as it ends) is in the next poll's replay.
    /// `byteLimit` bounds the events' JSON; the first event is answered whatever its
    /// size, so a poll always makes progress.
    package func collect(limit: Int = maximumPollEvents, byteLimit: Int, wait: Duration) async -> PollResult {
        var frames = Self.prefix(of: replay, limit: limit, byteLimit: byteLimit)
        var resets: [PositionReset] = []
        if frames.isEmpty, !historyGap {
            var budget = wait
            // Past the deadline (a poll that started late), still long enough for the ticker.
            if let holdDeadline { budget = max(wait, max(holdDeadline - .now, .zero) + Self.holdResetGrace) }
            if budget > .zero {
                let batch = await subscriber.firstDelivery(within: budget)
                frames = Self.prefix(of: batch.frames, limit: limit, byteLimit: byteLimit)
                resets = batch.resets
            }
        }
        var position = StreamPosition(start: start)
        for reset in resets { position.move(reset) }
        for frame in frames { position.advance(past: frame) }
        return PollResult(
            frames: frames,
            historyGap: historyGap || !resets.isEmpty,
            lastEventID: position.text,
            resetTopics: resets.map(\.topic)
        )
    }
}

extension Subscription {
    /// The longest prefix of `frames` within both limits, and never empty when `frames` is not.
    static func prefix(of frames: [EventFrame], limit: Int, byteLimit: Int) -> [EventFrame] {
        var bytes = 0
        var count = 0
        for frame in frames.prefix(limit) {
            // The envelope and the comma before it.
            bytes += frame.envelope.utf8.count + 1
            if bytes > byteLimit, count > 0 { break }
            count += 1
        }
        return Array(frames.prefix(count))
    }
}

extension Subscriber {
    /// The first frames (or resets) queued within `wait`; empty when none came or the
    /// subscriber was closed.
    fileprivate func firstDelivery(within wait: Duration) async -> SubscriberBatch {
        let batch = await withTimeout(wait) {
            // Heartbeats wake the loop too; only frames, resets or the end of the subscription count.
            while let batch = await self.nextBatch() {
                if !batch.frames.isEmpty || !batch.resets.isEmpty || batch.closeReason != nil { return batch }
            }
            return SubscriberBatch(frames: [], heartbeat: false)
        }
        return batch ?? SubscriberBatch(frames: [], heartbeat: false)
    }
}

/// One poll answer.
package struct PollResult: Sendable {
    /// The events, oldest first, already checked against the scope.
    package var frames: [EventFrame]
    /// Whether the log no longer covered the position (the application should refetch state).
    package var historyGap: Bool
    /// The position after the last returned event, for the next poll or an SSE `Last-Event-ID`.
    package var lastEventID: String
    /// Held topics reset during this poll; empty when the reset (if any) concerns every topic.
    package var resetTopics: [String] = []

    /// The JSON body: `{"events":[…],"lastEventId":"…"}`, with `"reset"` after a history gap.
    package var json: String {
        var whole = ByteBuffer()
        for chunk in body() { whole.writeImmutableBuffer(chunk) }
        return String(buffer: whole)
    }

    /// The JSON body's length in bytes.
    package var bodyLength: Int {
        frames.reduce(bodyHead.utf8.count + bodyTail.utf8.count) { $0 + $1.envelope.utf8.count }
            + max(0, frames.count - 1)
    }

    /// The JSON body in pieces of about `chunkBytes`: written one at a time, an answer to a
    /// client that reads slowly holds one piece, not a copy of every event it carries.
    package func body(chunkBytes: Int = 64 * 1024) -> PollBody {
        PollBody(frames: frames, head: bodyHead, tail: bodyTail, chunkBytes: chunkBytes)
    }

    private var bodyHead: String { #"{"events":["# }

    private var bodyTail: String {
        var tail = #"],"lastEventId":"# + JSONText.quoted(lastEventID)
        if historyGap {
            tail += #","reset":{"reason":"history_gap""#
            if !resetTopics.isEmpty { tail += #","topics":"# + JSONText.array(resetTopics) }
            tail += "}"
        }
        return tail + "}"
    }
}

/// A poll answer's JSON body, piece by piece (`PollResult.body(chunkBytes:)`).
package struct PollBody: Sequence, IteratorProtocol, Sendable {
    private let frames: [EventFrame]
    private let head: String
    private let tail: String
    private let chunkBytes: Int
    private var nextFrame = 0
    private var started = false
    private var finished = false

    init(frames: [EventFrame], head: String, tail: String, chunkBytes: Int) {
        self.frames = frames
        self.head = head
        self.tail = tail
        self.chunkBytes = Swift.max(1, chunkBytes)
    }

    /// The next piece; `nil` after the last.
    package mutating func next() -> ByteBuffer? {
        guard !finished else { return nil }
        var chunk = ByteBuffer()
        if !started {
            started = true
            chunk.writeString(head)
        }
        while nextFrame < frames.count, chunk.readableBytes < chunkBytes {
            if nextFrame > 0 { chunk.writeInteger(UInt8(ascii: ",")) }
            chunk.writeString(frames[nextFrame].envelope)
            nextFrame += 1
        }
        if nextFrame == frames.count {
            chunk.writeString(tail)
            finished = true
        }
        return chunk
    }
}
