extension Subscription {
    /// Most events one poll answer carries; a client with more to catch up polls again at once.
    package static let maximumPollEvents = 1000

    /// What a poll answers with (design section 2, `GET /events/poll`): the missed events
    /// when there are any, else the first live events that arrive within `wait`.
    ///
    /// The position advances only past the events returned, so whatever a poll leaves
    /// out (over the limit, or arriving as it ends) is in the next poll's replay.
    package func collect(limit: Int = maximumPollEvents, wait: Duration) async -> PollResult {
        var frames = Array(replay.prefix(limit))
        if frames.isEmpty, !historyGap, wait > .zero {
            frames = Array(await subscriber.firstFrames(within: wait).prefix(limit))
        }
        var position = StreamPosition(start: start)
        for frame in frames { position.advance(past: frame) }
        return PollResult(frames: frames, historyGap: historyGap, lastEventID: position.text)
    }
}

extension Subscriber {
    /// The first frames queued within `wait`; empty when none came or the subscriber was closed.
    fileprivate func firstFrames(within wait: Duration) async -> [EventFrame] {
        let frames = await withTimeout(wait) {
            // Heartbeats wake the loop too; only frames or the end of the subscription count.
            while let batch = await self.nextBatch() {
                if !batch.frames.isEmpty || batch.closeReason != nil { return batch.frames }
            }
            return []
        }
        return frames ?? []
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

    /// The JSON body: `{"events":[…],"lastEventId":"…"}`, with `"reset"` after a history gap.
    package var json: String {
        var members: [(String, String)] = [
            ("events", "[" + frames.map(\.envelope).joined(separator: ",") + "]"),
            ("lastEventId", JSONText.quoted(lastEventID)),
        ]
        if historyGap { members.append(("reset", #"{"reason":"history_gap"}"#)) }
        return JSONText.object(members)
    }
}
