import Foundation
import GatewayCore
import Testing

/// A `Last-Event-ID` naming an event this replica has not received yet, on a log that never
/// dropped anything, waits for that event (design section 6), on the stream and the poll.
@Suite struct HeldResumeRoutesTests {
    private func progress(_ gateway: TestGateway, _ id: String) async throws {
        try await gateway.deliver(topic: "student.progress", id: id, data: #"{"studentId":"s-1"}"#)
    }

    @Test func aStreamAheadOfThisReplicaOpensAndResumesExactlyOnceItsEventArrives() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            try await progress(gateway, "e1")
            let stream = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", "0:e3")]
            )
            for id in ["e2", "e3", "e4"] { try await progress(gateway, id) }
            let next = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(next.event == "student.progress")
            #expect(jsonObject(next.data)?["id"] as? String == "e4")
            #expect(next.id == "0:e4")
            stream.close()
        }
    }

    @Test func aStreamWhoseEventNeverArrivesGetsAResetForThatTopicAtTheHold() async throws {
        let settings = TestGateway.settings { $0.resumeHold = .seconds(1) }
        try await TestGateway.run(settings: settings) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            try await progress(gateway, "e1")
            let stream = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress,system.notifications",
                headers: [("Last-Event-ID", "0:never;2:")]
            )
            let reset = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(reset.event == "reset")
            #expect(jsonObject(reset.data)?["reason"] as? String == "history_gap")
            #expect(jsonObject(reset.data)?["topics"] as? [String] == ["student.progress"])
            #expect(reset.id == "0:e1;2:")
            try await progress(gateway, "e2")
            let live = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(jsonObject(live.data)?["id"] as? String == "e2")
            #expect(live.id == "0:e2;2:")
            stream.close()
        }
    }

    @Test func aPollAheadOfThisReplicaWaitsForItsEventAndAnswersWithWhatFollows() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            try await progress(gateway, "e1")
            async let answer = gateway.poll(token: token, query: "topics=student.progress&lastEventId=0%3Ae2&wait=25")
            // Held before e2 arrives, or replaying or waiting after: each way it answers with e3.
            for id in ["e2", "e3"] { try await progress(gateway, id) }
            let (status, body) = try await answer
            #expect(status == 200)
            let object = try #require(jsonObject(body))
            let events = try #require(object["events"] as? [[String: Any]])
            #expect(events.compactMap { $0["id"] as? String } == ["e3"])
            #expect(object["lastEventId"] as? String == "0:e3")
            #expect(object["reset"] == nil)
        }
    }
}
