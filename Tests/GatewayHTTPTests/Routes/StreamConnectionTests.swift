import Foundation
import GatewayCore
import NIOConcurrencyHelpers
import Testing

@testable import GatewayHTTP

/// The stream's connection on a real port: how it ends, HTTP/1.0 and `Connection: close`,
/// refusals on a kept-alive connection, and a client that stops reading (issue 15 items
/// 1, 4 and 6).
@Suite struct StreamConnectionTests {
    private func scrape(_ gateway: TestGateway) async throws -> MetricsRoutesTests.Scrape {
        MetricsRoutesTests.Scrape(String(buffer: try await gateway.get("/metrics").body))
    }

    @Test func aUserAtTheirLimitWhoClosesAStreamWithAFINOrAResetOpensANewOneAtOnce() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.limits.streamsPerUser = 2 }) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let first = try await gateway.readyStream(token: token)
            let second = try await gateway.readyStream(token: token)
            #expect(try await gateway.stream(token: token).status == 429)

            // A tab reloads: its connection closes with a FIN, the page connects again at once.
            first.close()
            let third = try await gateway.stream(token: token)
            #expect(third.status == 200)
            #expect(try await scrape(gateway)["sse_gateway_connections_active"] == 2)

            // The same after a reset.
            second.reset()
            let fourth = try await gateway.stream(token: token)
            #expect(fourth.status == 200)
            let metrics = try await scrape(gateway)
            #expect(metrics["sse_gateway_connections_active"] == 2)
            #expect(metrics["sse_gateway_connections_opened_total"] == 5)
            #expect(metrics["sse_gateway_connections_closed_total{reason=\"client_gone\"}"] == 2)
            #expect(metrics["sse_gateway_connections_closed_total{reason=\"limit\"}"] == 1)
            third.close()
            fourth.close()
            #expect(await gateway.noStreamsRemain())
            #expect(try await scrape(gateway)["sse_gateway_connections_active"] == 0)
        }
    }

    @Test func anHTTP10StreamHasABodyThatEndsWithTheConnection() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let raw = try await RawConnection.open(port: gateway.port)
            try await raw.send(
                "GET /events/stream?topics=student.progress HTTP/1.0\r\nAuthorization: Bearer \(token)\r\n\r\n"
            )
            let opening = try #require(await raw.read { $0.contains("event: ready") })
            let (head, body) = try Self.split(opening)
            #expect(head.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(head.lowercased().contains("connection: close"))
            #expect(!head.lowercased().contains("transfer-encoding"))
            #expect(head.lowercased().contains("content-type: text/event-stream"))
            #expect(body.hasPrefix("retry: 3000\nid: 0:\nevent: ready\n"), "no chunk framing: \(body.prefix(20))")

            try await gateway.deliver(topic: "student.progress", id: "e1", data: #"{"studentId":"s-1"}"#)
            #expect(await raw.read { $0.contains("id: 0:e1\nevent: student.progress\n") } != nil)
            gateway.hub.beginDrain()
            let all = try #require(await raw.readToEnd(), "the server ends the body by closing")
            #expect(
                all.hasSuffix(
                    "\"code\":\"shutting_down\",\"message\":\"the gateway is shutting down; reconnect to resume\"}\n\n"
                )
            )
        }
    }

    @Test func connectionCloseIsHonouredByStreamsAndTheirRefusals() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.authentication.leeway = .zero }) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"], lifetime: .seconds(2))
            let raw = try await RawConnection.open(port: gateway.port)
            try await raw.send(
                "GET /events/stream HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\nAuthorization: Bearer \(token)\r\n\r\n"
            )
            let opening = try #require(await raw.read { $0.contains("event: ready") })
            let head = try Self.split(opening).head.lowercased()
            #expect(head.contains("connection: close"))
            #expect(head.contains("transfer-encoding: chunked"))
            // The token expires: the stream ends with its last chunk, and the connection closes.
            let all = try #require(await raw.readToEnd(timeout: .seconds(10)))
            #expect(all.contains("token_expired"))
            #expect(all.hasSuffix("\r\n0\r\n\r\n"))

            let refused = try await RawConnection.open(port: gateway.port)
            try await refused.send("GET /events/stream HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n")
            let answer = try #require(await refused.readToEnd(), "a refusal with Connection: close ends the connection")
            #expect(answer.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
            #expect(answer.lowercased().contains("www-authenticate: bearer error=\"invalid_token\""))
        }
    }

    @Test func aStreamCanFollowOtherRequestsOnAKeptAliveConnection() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let raw = try await RawConnection.open(port: gateway.port)
            // A browser's pooled connection, or an ingress's upstream keep-alive: a probe, then
            // (pipelined behind another) the stream.
            try await raw.send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
            #expect(await raw.read { $0.contains("{\"status\":\"ok\"}") } != nil)
            try await raw.send(
                "GET /readyz HTTP/1.1\r\nHost: gateway\r\n\r\n"
                    + "GET /events/stream?topics=student.progress HTTP/1.1\r\nHost: gateway\r\n"
                    + "Authorization: Bearer \(token)\r\n\r\n"
            )
            let opened = try #require(await raw.read { $0.contains("event: ready") })
            let streamAnswer = try #require(opened.range(of: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream"))
            // The probe's answer comes first (a fresh gateway is not ready before daprd subscribed).
            #expect(opened[..<streamAnswer.lowerBound].contains("\"code\":\"not_subscribed\""))
            try await gateway.deliver(topic: "student.progress", id: "e1", data: #"{"studentId":"s-1"}"#)
            #expect(await raw.read { $0.contains("id: 0:e1\nevent: student.progress\n") } != nil)
            #expect(gateway.hub.subscriberCount == 1)
            await raw.close()
            #expect(await gateway.noStreamsRemain())
        }
    }

    @Test func aRefusedStreamRequestEndsItsConnection() async throws {
        try await TestGateway.run { gateway in
            let raw = try await RawConnection.open(port: gateway.port)
            try await raw.send(
                "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\nGET /events/stream HTTP/1.1\r\nHost: gateway\r\n\r\n"
            )
            let all = try #require(await raw.readToEnd(), "the connection ends after the refusal")
            let refusal = try #require(all.range(of: "HTTP/1.1 401 Unauthorized\r\n"))
            #expect(all[..<refusal.lowerBound].contains("{\"status\":\"ok\"}"))
            let answer = all[refusal.lowerBound...].lowercased()
            #expect(answer.contains("connection: close"))
            #expect(answer.contains("content-type: application/problem+json"))
            #expect(answer.contains("\"code\":\"missing\""))
        }
    }

    @Test func aStreamWhoseWritesMakeNoProgressIsEnded() async throws {
        let settings = TestGateway.settings {
            $0.writeTimeout = .seconds(1)
            // Large enough that the queue never evicts: only the write timeout can end it.
            $0.subscriberBufferFrames = 100_000
        }
        try await TestGateway.run(settings: settings) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            try await stream.stopReading()
            let padding = String(repeating: "x", count: 60_000)
            // 24 MB: more than the kernel buffers on both ends of a loopback connection.
            for index in 0..<400 {
                try await gateway.deliver(
                    topic: "student.progress",
                    id: "big-\(index)",
                    data: #"{"studentId":"s-1","pad":"\#(padding)"}"#
                )
                if gateway.hub.subscriberCount == 0 { break }
            }
            #expect(await gateway.noStreamsRemain(within: .seconds(10)), "the stalled stream was ended")
            let metrics = try await scrape(gateway)
            #expect(metrics["sse_gateway_connections_closed_total{reason=\"slow_consumer\"}"] == 1)
            try await stream.resumeReading()
            #expect(await stream.waitUntilClosed(timeout: .seconds(10)))
        }
    }

    /// Streams open and close (FIN and reset) on real sockets while events are published
    /// from several threads: every stream sees its events in order without duplicates,
    /// and nothing is left in the hub or the gauges. Meant for the ThreadSanitizer run.
    @Test func streamsOpenAndCloseWhilePublishersRace() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.limits.streamsPerUser = 100 }) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let hub = gateway.hub
            let published = NIOLockedValueBox(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for publisher in 0..<3 {
                    group.addTask {
                        for index in 0..<300 {
                            let event = CloudEvent(
                                id: "p\(publisher)-\(index)",
                                source: "test",
                                type: "race",
                                data: .object(["studentId": .string("s-1"), "n": .number(Double(index))])
                            )
                            _ = hub.publish(event, topicIndex: 0)
                            published.withLockedValue { $0 += 1 }
                            if index % 20 == 0 { await Task.yield() }
                        }
                    }
                }
                for client in 0..<6 {
                    group.addTask {
                        for round in 0..<6 {
                            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
                            var last: [Int: Int] = [:]
                            for _ in 0..<(round % 3) * 5 {
                                guard let event = await stream.nextEvent(timeout: .milliseconds(200)) else { break }
                                let id = try #require(jsonObject(event.data)?["id"] as? String)
                                let parts = id.dropFirst().split(separator: "-").compactMap { Int($0) }
                                try #require(parts.count == 2)
                                #expect(parts[1] > last[parts[0], default: -1], "in order, once: \(id)")
                                last[parts[0]] = parts[1]
                            }
                            if (client + round) % 2 == 0 { stream.close() } else { stream.reset() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(published.withLockedValue { $0 } == 900)
            #expect(await gateway.noStreamsRemain(within: .seconds(10)))
            let metrics = try await scrape(gateway)
            #expect(metrics["sse_gateway_connections_active"] == 0)
            #expect(metrics["sse_gateway_connections_opened_total"] == 36)
        }
    }

    /// The response head and the body of a raw answer.
    private static func split(_ response: String) throws -> (head: String, body: String) {
        let end = try #require(response.range(of: "\r\n\r\n"))
        return (String(response[..<end.upperBound]), String(response[end.upperBound...]))
    }
}
