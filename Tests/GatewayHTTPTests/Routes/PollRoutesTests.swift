import Foundation
import GatewayCore
import Testing

@testable import GatewayHTTP

/// `GET /events/poll`, the fallback for clients without SSE: same auth, scope, filters
/// and resume positions as the stream.
@Suite struct PollRoutesTests {
    /// A decoded poll answer.
    struct Answer {
        var ids: [String]
        var lastEventID: String
        var reset: String?
    }

    private func answer(_ response: (status: Int, body: String)) throws -> Answer {
        #expect(response.status == 200, "\(response.body)")
        let object = try #require(jsonObject(response.body))
        let events = try #require(object["events"] as? [[String: Any]])
        return Answer(
            ids: events.compactMap { $0["id"] as? String },
            lastEventID: try #require(object["lastEventId"] as? String),
            reset: (object["reset"] as? [String: Any])?["reason"] as? String
        )
    }

    private func query(_ position: String, _ extra: String = "") -> String {
        let escaped = position.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return "topics=student.progress&lastEventId=\(escaped)" + extra
    }

    @Test func aPollReturnsTheMissedEventsInScopeAndAPositionTheStreamResumesFrom() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let fresh = try answer(try await gateway.poll(token: token, query: "topics=student.progress"))
            #expect(fresh.ids.isEmpty)

            try await gateway.deliver(topic: "student.progress", id: "e1", data: #"{"studentId":"s-1"}"#)
            try await gateway.deliver(topic: "student.progress", id: "other", data: #"{"studentId":"s-2"}"#)
            try await gateway.deliver(topic: "student.progress", id: "e2", data: #"{"studentId":"s-1"}"#)
            let missed = try answer(try await gateway.poll(token: token, query: query(fresh.lastEventID)))
            #expect(missed.ids == ["e1", "e2"])
            #expect(missed.reset == nil)
            let caughtUp = try answer(try await gateway.poll(token: token, query: query(missed.lastEventID)))
            #expect(caughtUp.ids.isEmpty)
            #expect(caughtUp.lastEventID == missed.lastEventID)

            // The poll's position is a stream's Last-Event-ID: switching back loses nothing, repeats nothing.
            try await gateway.deliver(topic: "student.progress", id: "e3", data: #"{"studentId":"s-1"}"#)
            let stream = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", missed.lastEventID)]
            )
            let next = try #require(await stream.nextEvent(timeout: .seconds(5)))
            #expect(jsonObject(next.data)?["id"] as? String == "e3")
            stream.close()
        }
    }

    @Test func aLongPollAnswersAsSoonAsAnEventMatches() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let start = try answer(try await gateway.poll(token: token, query: "topics=student.progress"))
            let started = ContinuousClock.now
            async let waiting = gateway.poll(token: token, query: query(start.lastEventID, "&wait=25"))
            // Whether the poll is already waiting or not yet subscribed, it must return this event.
            try await gateway.deliver(topic: "student.progress", id: "not-mine", data: #"{"studentId":"s-2"}"#)
            try await gateway.deliver(topic: "student.progress", id: "mine", data: #"{"studentId":"s-1"}"#)
            let answered = try answer(try await waiting)
            #expect(answered.ids == ["mine"])
            #expect(ContinuousClock.now - started < .seconds(20), "a long poll ends with its first event")
        }
    }

    @Test func aLongPollWithNothingToReturnEndsAfterItsWaitWithTheSamePosition() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let start = try answer(try await gateway.poll(token: token, query: "topics=student.progress"))
            try await gateway.deliver(topic: "student.progress", id: "not-mine", data: #"{"studentId":"s-2"}"#)
            let started = ContinuousClock.now
            let empty = try answer(try await gateway.poll(token: token, query: query(start.lastEventID, "&wait=1")))
            #expect(empty.ids.isEmpty)
            #expect(ContinuousClock.now - started >= .seconds(1))
            #expect(await gateway.noStreamsRemain(), "a finished poll holds no subscription")
            // The position stayed put: the next poll still sees what arrives after it.
            try await gateway.deliver(topic: "student.progress", id: "mine", data: #"{"studentId":"s-1"}"#)
            #expect(try answer(try await gateway.poll(token: token, query: query(empty.lastEventID))).ids == ["mine"])
        }
    }

    @Test func aPositionTheLogNoLongerCoversAnswersWithAReset() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.replay.eventsPerTopic = 2 }) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            try await gateway.deliver(topic: "student.progress", id: "e0", data: #"{"studentId":"s-1"}"#)
            let start = try answer(try await gateway.poll(token: token, query: "topics=student.progress"))
            for index in 1...5 {
                try await gateway.deliver(topic: "student.progress", id: "e\(index)", data: #"{"studentId":"s-1"}"#)
            }
            let gap = try answer(try await gateway.poll(token: token, query: query(start.lastEventID)))
            #expect(gap.reset == "history_gap")
            #expect(gap.ids.isEmpty)
            let unreadable = try answer(try await gateway.poll(token: token, query: query("not a token")))
            #expect(unreadable.reset == "history_gap")
            // After the reset the position is the head: the next poll continues live.
            try await gateway.deliver(topic: "student.progress", id: "e6", data: #"{"studentId":"s-1"}"#)
            #expect(try answer(try await gateway.poll(token: token, query: query(gap.lastEventID))).ids == ["e6"])
        }
    }

    @Test func badPollsGetTheSameProblemsAsStreams() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let cases: [(String?, String, Int, String)] = [
                (nil, "topics=student.progress", 401, "missing"),
                ("not.a.token", "topics=student.progress", 401, "malformed"),
                (token, "wait=31", 400, "malformed_filter"),
                (token, "wait=soon", 400, "malformed_filter"),
                (token, "topics=billing", 400, "unknown_topic"),
                (token, "studentId=s-2", 403, "student_not_granted"),
            ]
            for (token, query, status, code) in cases {
                let response = try await gateway.poll(token: token, query: query)
                #expect(response.status == status, "\(query)")
                #expect(jsonObject(response.body)?["code"] as? String == code, "\(query)")
            }
        }
    }
}
