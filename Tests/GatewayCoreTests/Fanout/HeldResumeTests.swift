import GatewayCore
import NIOCore
import Testing

/// A resume position naming an event this replica has not received yet (a new pod still
/// receiving the broker's backlog) is held, not reset (design section 6).
@Suite struct HeldResumeTests {
    private static let bothTopics = ["student.progress", "learning.events"]

    private func hub(hold: Duration = .seconds(10)) -> Hub {
        var configuration = Hub.Configuration()
        configuration.resumeHold = hold
        return Hub(topics: Fixtures.rules, configuration: configuration)
    }

    private func learning(_ id: String) -> CloudEvent {
        Fixtures.event(id, data: .object(["studentId": .string("s-1"), "courseId": .string("c-1")]))
    }

    /// Everything queued right now: resets and frames, without waiting.
    private func queued(_ subscriber: Subscriber) async throws -> SubscriberBatch {
        subscriber.heartbeatIfIdle()
        subscriber.heartbeatIfIdle()
        return try #require(await subscriber.nextBatch())
    }

    @Test func aPositionAheadOfTheLogWaitsForItsEventThenGetsExactlyWhatFollows() async throws {
        let hub = hub()
        _ = hub.publish(Fixtures.progress("p1", student: "s-1"), topicIndex: 0)
        _ = hub.publish(learning("l1"), topicIndex: 1)
        _ = hub.publish(learning("l2"), topicIndex: 1)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: Self.bothTopics)
        // The client saw p1..p3 and l1 on a replica that is ahead of this one.
        let token = ResumeToken(positions: [0: "p3", 1: "l1"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(token)) { subscription in
            #expect(!subscription.historyGap)
            #expect(subscription.heldTopics == [0])
            #expect(subscription.holdDeadline != nil)
            // The other topic replays as usual; the held one keeps the client's position.
            #expect(subscription.replay.map(\.eventID) == ["l2"])
            #expect(subscription.start.positions == [0: "p3", 1: "l1"])

            // The backlog goes on: p2 and p3 are skipped (the client has them), p4 follows.
            _ = hub.publish(Fixtures.progress("p2", student: "s-1"), topicIndex: 0)
            _ = hub.publish(learning("l3"), topicIndex: 1)
            _ = hub.publish(Fixtures.progress("p3", student: "s-1"), topicIndex: 0)
            _ = hub.publish(Fixtures.progress("p4", student: "s-1"), topicIndex: 0)
            let batch = try await queued(subscription.subscriber)
            #expect(batch.frames.map(\.eventID) == ["l3", "p4"])
            #expect(batch.resets.isEmpty)

            // Dapr redelivers p3: acknowledged, not delivered again, and no second release.
            #expect(hub.publish(Fixtures.progress("p3", student: "s-1"), topicIndex: 0) == .duplicate)
            _ = hub.publish(Fixtures.progress("p5", student: "s-1"), topicIndex: 0)
            let afterRedelivery = try await queued(subscription.subscriber)
            #expect(afterRedelivery.frames.map(\.eventID) == ["p5"])

            // Its deadline passing later changes nothing: the hold is over.
            hub.expire(now: 0, monotonicNow: .now + .seconds(60))
            let afterDeadline = try await queued(subscription.subscriber)
            #expect(afterDeadline.resets.isEmpty)
        }
    }

    @Test func theNamedEventReleasesTheHoldEvenWhenTheCurrentScopeNoLongerMatchesIt() async throws {
        // The client saw "x" under an earlier token; it is no longer in its scope, but the
        // stream must still resume after it rather than wait until the deadline.
        let hub = hub()
        _ = hub.publish(Fixtures.progress("p1", student: "s-1"), topicIndex: 0)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "x"]))) {
            subscription in
            #expect(subscription.heldTopics == [0])
            _ = hub.publish(Fixtures.progress("before", student: "s-1"), topicIndex: 0)
            _ = hub.publish(Fixtures.progress("x", student: "s-2"), topicIndex: 0)
            _ = hub.publish(Fixtures.progress("after", student: "s-1"), topicIndex: 0)
            let queuedNow = try await queued(subscription.subscriber)
            #expect(queuedNow.frames.map(\.eventID) == ["after"])
        }
    }

    @Test func aHoldThatOutlivesItsDeadlineMovesThePositionToTheHeadWithAReset() async throws {
        let hub = hub(hold: .seconds(5))
        _ = hub.publish(Fixtures.progress("p1", student: "s-1"), topicIndex: 0)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: Self.bothTopics)
        let token = ResumeToken(positions: [0: "never", 1: ""])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(token)) { subscription in
            #expect(subscription.heldTopics == [0])
            _ = hub.publish(Fixtures.progress("p2", student: "s-1"), topicIndex: 0)
            _ = hub.publish(learning("l1"), topicIndex: 1)
            hub.expire(now: 0, monotonicNow: .now + .seconds(4))
            let beforeDeadline = try await queued(subscription.subscriber)
            #expect(beforeDeadline.frames.map(\.eventID) == ["l1"])

            hub.expire(now: 0, monotonicNow: .now + .seconds(6))
            _ = hub.publish(Fixtures.progress("p3", student: "s-1"), topicIndex: 0)
            let batch = try await queued(subscription.subscriber)
            #expect(batch.resets == [PositionReset(topicIndex: 0, topic: "student.progress", eventID: "p2")])
            #expect(batch.frames.map(\.eventID) == ["p3"])
            #expect(!batch.heartbeat)

            // On the wire: one reset whose id already names the head, then p3 after it.
            var encoder = StreamEncoder(start: subscription.start)
            var buffer = ByteBuffer()
            for frame in beforeDeadline.frames { encoder.write(frame, into: &buffer) }
            encoder.writeReset(batch.resets, into: &buffer)
            for frame in batch.frames { encoder.write(frame, into: &buffer) }
            let text = String(buffer: buffer)
            #expect(
                text.contains(
                    "id: 0:p2;1:l1\nevent: reset\ndata: {\"reason\":\"history_gap\",\"topics\":[\"student.progress\"]}\n\n"
                )
            )
            #expect(text.hasSuffix("}\n\n") && text.contains("id: 0:p3;1:l1\nevent: student.progress\n"))
        }
    }

    @Test func aPositionOlderThanATrimmedLogIsStillAGap() async throws {
        var configuration = Hub.Configuration()
        configuration.replay.eventsPerTopic = 2
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        for index in 0..<4 { _ = hub.publish(Fixtures.progress("p\(index)", student: "s-1"), topicIndex: 0) }
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        // "p9" is not in the log, but the log dropped events: "p9" may be older than it.
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "p9"]))) {
            subscription in
            #expect(subscription.historyGap)
            #expect(subscription.heldTopics.isEmpty)
            #expect(subscription.start.positions == [0: "p3"])
        }
    }

    @Test func aHoldOfZeroResetsAtOnce() async throws {
        let hub = hub(hold: .zero)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "later"]))) {
            subscription in
            #expect(subscription.historyGap)
            #expect(subscription.heldTopics.isEmpty)
        }
    }

    @Test func aGapOnOneTopicResetsTheWholeStreamAndHoldsNothing() async throws {
        var configuration = Hub.Configuration()
        configuration.replay.eventsPerTopic = 1
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        _ = hub.publish(Fixtures.progress("p0", student: "s-1"), topicIndex: 0)
        _ = hub.publish(Fixtures.progress("p1", student: "s-1"), topicIndex: 0)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: Self.bothTopics)
        let token = ResumeToken(positions: [0: "p0", 1: "ahead"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(token)) { subscription in
            #expect(subscription.historyGap)
            #expect(subscription.heldTopics.isEmpty)
            _ = hub.publish(learning("ahead"), topicIndex: 1)
            _ = hub.publish(learning("l2"), topicIndex: 1)
            let queuedNow = try await queued(subscription.subscriber)
            #expect(queuedNow.frames.map(\.eventID) == ["ahead", "l2"])
        }
    }

    @Test func aStreamThatEndsWhileHeldLeavesNoHoldBehind() async throws {
        let hub = hub(hold: .seconds(1))
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "later"]))) {
            #expect($0.heldTopics == [0])
        }
        #expect(hub.subscriberCount == 0)
        // Neither the release nor the deadline reaches the gone stream.
        _ = hub.publish(Fixtures.progress("later", student: "s-1"), topicIndex: 0)
        hub.expire(now: 0, monotonicNow: .now + .seconds(5))
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "later"]))) {
            #expect($0.heldTopics.isEmpty)
            #expect(!$0.historyGap)
        }
    }

    @Test func aPollWaitsForTheNamedEventAndAnswersWithWhatFollows() async throws {
        let hub = hub()
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        let token = ResumeToken(positions: [0: "p2"])
        let result = try await hub.withSubscription(scope: scope, resumeFrom: .token(token)) { subscription in
            // A short poll (wait 0) still waits while its position is ahead of the log.
            async let answer = subscription.collect(byteLimit: 1 << 20, wait: .zero)
            for index in 1...4 { _ = hub.publish(Fixtures.progress("p\(index)", student: "s-1"), topicIndex: 0) }
            return await answer
        }
        #expect(result.frames.first?.eventID == "p3")
        #expect(!result.historyGap)
        #expect(ResumeToken(parsing: result.lastEventID)?.positions[0] == result.frames.last?.eventID)
    }

    @Test func aPollWhoseEventNeverComesAnswersWithAResetAtTheHead() async throws {
        let hub = hub(hold: .milliseconds(100))
        _ = hub.publish(Fixtures.progress("p1", student: "s-1"), topicIndex: 0)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        let result = try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "x"])))
        {
            subscription in
            // What the one ticker does once a second, here before the poll looks.
            hub.expire(now: 0, monotonicNow: .now + .seconds(1))
            return await subscription.collect(byteLimit: 1 << 20, wait: .zero)
        }
        #expect(result.frames.isEmpty)
        #expect(result.historyGap)
        #expect(result.resetTopics == ["student.progress"])
        #expect(result.lastEventID == "0:p1")
        #expect(result.json.contains(#""reset":{"reason":"history_gap","topics":["student.progress"]}"#))
    }
}
