import Foundation
import GatewayCore
import Testing

/// Two gateway processes, as two replicas behind one Service: each receives every event
/// (its own consumer group), with the topics interleaved differently.
@Suite struct CrossReplicaResumeTests {
    private struct Event: Hashable {
        var topic: String
        var id: String
        var data: String
    }

    private static let progress = (1...12).map {
        Event(topic: "student.progress", id: "p\($0)", data: #"{"studentId":"s-1","score":\#($0)}"#)
    }
    private static let learning = (1...12).map {
        Event(topic: "learning.events", id: "l\($0)", data: #"{"studentId":"s-1","courseId":"c-1","step":\#($0)}"#)
    }
    /// Another student's events: never on s-1's stream, on either replica.
    private static let noise = (1...6).map {
        Event(
            topic: $0.isMultiple(of: 2) ? "student.progress" : "learning.events",
            id: "n\($0)",
            data: #"{"studentId":"s-2"}"#
        )
    }

    private func deliver(_ events: [Event], to gateway: GatewayProcess) async throws {
        for event in events { try await gateway.deliver(topic: event.topic, id: event.id, data: event.data) }
    }

    private func ids(_ events: [ReceivedEvent]) -> [String] {
        events.compactMap { jsonObject($0.data)?["id"] as? String }
    }

    @Test func aStreamResumesExactlyOnAReplicaThatSawTheTopicsInterleavedDifferently() async throws {
        let first = try await GatewayProcess.start()
        let second = try await GatewayProcess.start()
        do {
            try await run(first: first, second: second)
        } catch {
            await first.stop()
            await second.stop()
            throw error
        }
        await first.stop()
        await second.stop()
    }

    private func run(first: GatewayProcess, second: GatewayProcess) async throws {
        let token = try await TokenMinter(secret: first.secret).token(
            subject: "s-1",
            roles: ["student"],
            lifetime: .seconds(600)
        )
        let query = "topics=student.progress,learning.events"

        // Replica one: topics alternate, another student's events in between.
        var alternating: [Event] = []
        for index in 0..<12 {
            alternating += [Self.progress[index], Self.learning[index]]
            if index < Self.noise.count { alternating.append(Self.noise[index]) }
        }
        let stream = try await first.readyStream(token: token, query: query)
        try await deliver(alternating, to: first)
        let before = await stream.events(count: 9, timeout: .seconds(20))
        #expect(ids(before) == ["p1", "l1", "p2", "l2", "p3", "l3", "p4", "l4", "p5"])
        let lastID = try #require(before.last?.id)
        stream.close()

        // Replica two: every progress event first, learning events lagging behind.
        try await deliver(Self.noise + Self.progress + Array(Self.learning.prefix(8)), to: second)
        let resumed = try await second.readyStream(token: token, query: query, lastEventID: lastID)
        var after = await resumed.events(count: 7 + 4, timeout: .seconds(20))
        // The rest of learning.events reaches replica two after the client moved there: live frames.
        try await deliver(Array(Self.learning.suffix(4)), to: second)
        after += await resumed.events(count: 4, timeout: .seconds(20))
        #expect(await resumed.nextEvent(timeout: .milliseconds(500)) == nil, "nothing beyond the expected events")
        resumed.close()

        let expectedRest = Set(Self.progress.suffix(7).map(\.id) + Self.learning.suffix(8).map(\.id))
        let restIDs = ids(after)
        #expect(restIDs.count == expectedRest.count, "no duplicate: \(restIDs)")
        #expect(Set(restIDs) == expectedRest, "no loss and nothing from before the switch")
        #expect(Set(ids(before) + restIDs) == Set((Self.progress + Self.learning).map(\.id)))
        #expect(restIDs.filter { $0.hasPrefix("p") } == Self.progress.suffix(7).map(\.id), "per-topic order")
        #expect(restIDs.filter { $0.hasPrefix("l") } == Self.learning.suffix(8).map(\.id), "per-topic order")
    }
}
