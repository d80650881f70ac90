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
    /// out (over the limit, or arriving as it ends) is in the next poll's replay.
    package func collect(limit: Int = maximumPollEvents, wait: Duration) async -> PollResult {
        var frames = Array(replay.prefix(limit))
        var resets: [PositionReset] = []
        if frames.isEmpty, !historyGap {
            var budget = wait
            // Past the deadline (a poll that started late), still long enough for the ticker.
            if let holdDeadline { budget = max(wait, max(holdDeadline - .now, .zero) + Self.holdResetGrace) }
            if budget > .zero {
                let batch = await subscriber.firstDelivery(within: budget)
                frames = Array(batch.frames.prefix(limit))
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
        var members: [(String, String)] = [
            ("events", "[" + frames.map(\.envelope).joined(separator: ",") + "]"),
            ("lastEventId", JSONText.quoted(lastEventID)),
        ]
        if historyGap {
            var reset = [("reason", JSONText.quoted("history_gap"))]
            if !resetTopics.isEmpty { reset.append(("topics", JSONText.array(resetTopics))) }
            members.append(("reset", JSONText.object(reset)))
        }
        return JSONText.object(members)
    }
}
