import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatewayHTTP

@Suite struct StreamRoutesTests {
    @Test func aStreamOpensWithSSEHeadersARetryHintAndAReadyFrame() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.stream(token: token, query: "topics=student.progress,system.notifications")
            #expect(stream.status == 200)
            #expect(stream.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            #expect(stream.header("Cache-Control") == "no-cache")
            #expect(stream.header("X-Accel-Buffering") == "no")
            let ready = try #require(await stream.nextEvent())
            #expect(ready.retry == 3000)
            #expect(ready.event == "ready")
            let data = try #require(jsonObject(ready.data))
            #expect(data["topics"] as? [String] == ["student.progress", "system.notifications"])
            #expect(data["heartbeatSeconds"] as? Int == 1)
            stream.close()
        }
    }

    @Test func heartbeatCommentsArriveAtTheConfiguredInterval() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token)
            var heartbeats = 0
            let started = ContinuousClock.now
            while heartbeats < 2, let next = await stream.next(timeout: .seconds(3)) {
                if next.comment == "heartbeat" { heartbeats += 1 }
            }
            #expect(heartbeats == 2)
            #expect(ContinuousClock.now - started < .seconds(5))
            stream.close()
        }
    }

    @Test func aClientThatDisconnectsIsRemovedFromTheHub() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token)
            #expect(gateway.hub.subscriberCount == 1)
            stream.close()
            #expect(await gateway.noStreamsRemain(within: .seconds(5)))
        }
    }

    @Test func aStudentSeesOnlyTheirOwnProgress() async throws {
        try await TestGateway.run { gateway in
            let one = try await gateway.readyStream(token: try await gateway.token("s-1", roles: ["student"]))
            let two = try await gateway.readyStream(token: try await gateway.token("s-2", roles: ["student"]))
            try await gateway.deliver(topic: "student.progress", id: "for-2", data: #"{"studentId":"s-2"}"#)
            try await gateway.deliver(topic: "student.progress", id: "for-1", data: #"{"studentId":"s-1"}"#)
            let first = try #require(await one.nextEvent(timeout: .seconds(2)))
            #expect(jsonObject(first.data)?["id"] as? String == "for-1")
            let second = try #require(await two.nextEvent(timeout: .seconds(2)))
            #expect(jsonObject(second.data)?["id"] as? String == "for-2")
            one.close()
            two.close()
        }
    }

    @Test func aReconnectWithLastEventIDReceivesExactlyTheMissedEventsInOrder() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let first = try await gateway.readyStream(token: token, query: "topics=student.progress")
            try await gateway.deliver(topic: "student.progress", id: "e0", data: #"{"studentId":"s-1"}"#)
            let seen = try #require(await first.nextEvent())
            first.close()
            #expect(await gateway.noStreamsRemain())
            for index in 1...5 {
                try await gateway.deliver(topic: "student.progress", id: "e\(index)", data: #"{"studentId":"s-1"}"#)
            }
            let lastID = try #require(seen.id)
            let byHeader = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", lastID)]
            )
            let replayed = await byHeader.events(count: 5)
            #expect(replayed.compactMap { jsonObject($0.data)?["id"] as? String } == ["e1", "e2", "e3", "e4", "e5"])
            try await gateway.deliver(topic: "student.progress", id: "e6", data: #"{"studentId":"s-1"}"#)
            let live = try #require(await byHeader.nextEvent())
            #expect(jsonObject(live.data)?["id"] as? String == "e6")
            byHeader.close()

            let encoded = lastID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? lastID
            let byQuery = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress&lastEventId=\(encoded)"
            )
            let again = await byQuery.events(count: 6)
            #expect(again.compactMap { jsonObject($0.data)?["id"] as? String } == ["e1", "e2", "e3", "e4", "e5", "e6"])
            byQuery.close()
        }
    }

    @Test func aMalformedOrTooOldResumePositionStartsWithAReset() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.replay.eventsPerTopic = 3 }) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let malformed = try await gateway.readyStream(token: token, headers: [("Last-Event-ID", "garbage;;%zz")])
            let reset = try #require(await malformed.nextEvent())
            #expect(reset.event == "reset")
            #expect(jsonObject(reset.data)?["reason"] as? String == "history_gap")
            malformed.close()

            for index in 0..<10 {
                try await gateway.deliver(topic: "student.progress", id: "g\(index)", data: #"{"studentId":"s-1"}"#)
            }
            let old = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", "0:g1")]
            )
            let gap = try #require(await old.nextEvent())
            #expect(gap.event == "reset")
            try await gateway.deliver(topic: "student.progress", id: "g10", data: #"{"studentId":"s-1"}"#)
            let live = try #require(await old.nextEvent())
            #expect(jsonObject(live.data)?["id"] as? String == "g10")
            old.close()
        }
    }

    @Test func drainingEndsStreamsWithShuttingDownAndSpreadRetryHints() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.reconnectJitterWindow = .seconds(30) }) {
            gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            var streams: [SSEClient] = []
            for _ in 0..<5 { streams.append(try await gateway.readyStream(token: token)) }
            gateway.hub.beginDrain()
            var retries: [Int] = []
            for stream in streams {
                let event = try #require(await stream.nextEvent())
                #expect(event.event == "error")
                #expect(jsonObject(event.data)?["code"] as? String == "shutting_down")
                retries.append(try #require(event.retry))
                #expect(await stream.waitUntilClosed())
            }
            #expect(Set(retries).count > 1)
            #expect(retries.allSatisfy { $0 >= 3000 && $0 <= 33000 })
            let refused = try await gateway.stream(token: token)
            #expect(refused.status == 503)
        }
    }

    @Test func aStreamEndsWithTokenExpiredAtTheTokensExpiry() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.authentication.leeway = .zero }) { gateway in
            // Long enough to open under ThreadSanitizer with every suite running beside it
            // (`exp` is whole seconds, so the token may live up to a second less).
            let token = try await gateway.token("s-1", roles: ["student"], lifetime: .seconds(5))
            let stream = try await gateway.readyStream(token: token)
            let event = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(event.event == "error")
            #expect(jsonObject(event.data)?["code"] as? String == "token_expired")
            #expect(await stream.waitUntilClosed())
        }
    }
}
