import Foundation
import GatewayCore
import NIOCore
import Testing

/// Poll answers are bounded in bytes as well as in events, hold their slot until they end,
/// and their pieces add up to one JSON document of the length announced.
@Suite struct PollAnswerTests {
    static let notifications = 2

    static func publish(_ count: Int, bytes: Int, on hub: Hub) {
        let padding = String(repeating: "x", count: bytes)
        for index in 0..<count {
            let event = Fixtures.event("n\(index)", data: .object(["pad": .string(padding)]))
            _ = hub.publish(event, topicIndex: notifications)
        }
    }

    /// The token of a stream that saw nothing yet: its polls start at the log's beginning.
    static let fromTheStart = ResumeRequest(lastEventID: "2:")

    @Test func anAnswerStopsAtTheByteLimitAndTheNextPollGetsTheRest() async throws {
        let hub = Hub(topics: Fixtures.rules)
        Self.publish(10, bytes: 1000, on: hub)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["system.notifications"])
        var position = Self.fromTheStart
        var seen: [String] = []
        var answers = 0
        while seen.count < 10, answers < 20 {
            let result = try await hub.withSubscription(scope: scope, resumeFrom: position) { subscription in
                await subscription.collect(byteLimit: 3500, wait: .zero)
            }
            #expect(result.frames.count <= 3, "3 events of ~1.1 KB fit in 3,500 bytes, 4 do not")
            #expect(!result.frames.isEmpty)
            seen += result.frames.map(\.eventID)
            position = ResumeRequest(lastEventID: result.lastEventID)
            answers += 1
        }
        #expect(seen == (0..<10).map { "n\($0)" }, "every event once, in order")
    }

    @Test func oneEventLargerThanTheLimitIsStillAnsweredAlone() async throws {
        let hub = Hub(topics: Fixtures.rules)
        Self.publish(2, bytes: 5000, on: hub)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["system.notifications"])
        let result = try await hub.withSubscription(scope: scope, resumeFrom: Self.fromTheStart) { subscription in
            await subscription.collect(byteLimit: 100, wait: .zero)
        }
        #expect(result.frames.map(\.eventID) == ["n0"])
    }

    @Test func thePiecesMakeTheWholeDocumentOfTheAnnouncedLength() async throws {
        let hub = Hub(topics: Fixtures.rules)
        Self.publish(40, bytes: 3000, on: hub)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["system.notifications"])
        let result = try await hub.withSubscription(scope: scope, resumeFrom: Self.fromTheStart) { subscription in
            await subscription.collect(byteLimit: 1 << 20, wait: .zero)
        }
        let pieces = Array(result.body(chunkBytes: 16 * 1024))
        #expect(pieces.count > 1)
        #expect(pieces.allSatisfy { $0.readableBytes < 16 * 1024 + 4 * 1024 }, "no piece much beyond the size asked")
        let whole = pieces.reduce(into: [UInt8]()) { $0 += $1.readableBytesView }
        #expect(whole.count == result.bodyLength)
        let document = try JSONSerialization.jsonObject(with: Data(whole)) as? [String: Any]
        #expect((document?["events"] as? [Any])?.count == 40)
        #expect(document?["lastEventId"] as? String == result.lastEventID)
    }

    @Test func aLeaseHoldsTheUsersSlotUntilItEnds() async throws {
        var configuration = Hub.Configuration()
        configuration.limits.streamsPerUser = 1
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"))
        let lease = try SubscriptionLease(hub: hub, scope: scope, resumeFrom: .none)
        #expect(throws: SubscriptionError.tooManyStreams(limit: 1)) { try hub.admissionCheck(subject: "s-1") }
        lease.end()
        lease.end()
        #expect(hub.subscriberCount == 0)
        try hub.admissionCheck(subject: "s-1")
    }

    @Test func aLeaseThatIsDroppedFreesItsSlot() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"))
        do {
            let lease = try SubscriptionLease(hub: hub, scope: scope, resumeFrom: .none)
            #expect(lease.subscription.replay.isEmpty)
            #expect(hub.subscriberCount == 1)
        }
        #expect(hub.subscriberCount == 0)
    }
}
