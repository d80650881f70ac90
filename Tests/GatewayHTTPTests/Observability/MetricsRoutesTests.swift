import Foundation
import GatewayCore
import Testing

@testable import GatewayHTTP

/// `GET /metrics`: what an operator's Prometheus scrapes after real streams, deliveries
/// and refusals on a real port.
@Suite struct MetricsRoutesTests {
    /// One scrape, as `name{labels}` → value.
    struct Scrape {
        var text: String
        var samples: [String: Double]

        init(_ text: String) {
            self.text = text
            var samples: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
                else { continue }
                samples[String(line[..<space])] = value
            }
            self.samples = samples
        }

        subscript(_ name: String) -> Double? { samples[name] }
    }

    private func scrape(_ gateway: TestGateway) async throws -> Scrape {
        let response = try await gateway.get("/metrics")
        #expect(response.status == .ok)
        #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        return Scrape(String(buffer: response.body))
    }

    /// Scrapes until `condition` holds (stream ends are counted by the stream's own task).
    private func scrape(
        _ gateway: TestGateway,
        until condition: (Scrape) -> Bool
    ) async throws -> Scrape {
        var last = try await scrape(gateway)
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(last), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            last = try await scrape(gateway)
        }
        return last
    }

    @Test func streamsDeliveriesRepliesReplaysAndRefusalsAreCounted() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let opened = try await scrape(gateway)
            #expect(opened["sse_gateway_connections_active"] == 1)
            #expect(opened["sse_gateway_connections_opened_total"] == 1)

            try await gateway.deliver(topic: "student.progress", id: "m1", data: #"{"studentId":"s-1"}"#)
            try await gateway.deliver(topic: "student.progress", id: "m1", data: #"{"studentId":"s-1"}"#)
            try await gateway.deliver(topic: "student.progress", id: "m2", data: #"{"studentId":"s-2"}"#)
            let poison = try await gateway.deliver(topic: "student.progress", body: "not json")
            #expect(poison.body.contains("DROP"))
            let first = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(jsonObject(first.data)?["id"] as? String == "m1")

            let delivered = try await scrape(gateway) {
                $0[#"sse_gateway_deliveries_total{topic="student.progress"}"#] == 1
            }
            #expect(delivered[#"sse_gateway_events_received_total{topic="student.progress",reply="success"}"#] == 2)
            #expect(delivered[#"sse_gateway_events_received_total{topic="student.progress",reply="duplicate"}"#] == 1)
            #expect(delivered[#"sse_gateway_events_received_total{topic="student.progress",reply="drop"}"#] == 1)
            #expect(delivered[#"sse_gateway_events_received_total{topic="learning.events",reply="success"}"#] == 0)
            // The only student who may see m1 got it, once; m2 reached nobody.
            #expect(delivered[#"sse_gateway_deliveries_total{topic="student.progress"}"#] == 1)
            #expect(delivered[#"sse_gateway_ingest_to_flush_seconds_count{topic="student.progress"}"#] == 1)
            #expect(delivered[#"sse_gateway_ingest_to_flush_seconds_bucket{topic="student.progress",le="+Inf"}"#] == 1)
            let lastDelivery = try #require(delivered["sse_gateway_last_dapr_delivery_timestamp_seconds"])
            #expect(abs(Date().timeIntervalSince1970 - lastDelivery) < 60)

            // A resume the log covers, one it cannot read, and refusals.
            let position = try #require(first.id)
            let resumed = try await gateway.readyStream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", position)]
            )
            let garbled = try await gateway.stream(
                token: token,
                query: "topics=student.progress",
                headers: [("Last-Event-ID", "not-a-resume-token")]
            )
            _ = await garbled.nextEvent()
            let forged = try await gateway.token("s-1", roles: ["student"]) + "x"
            let refused = try await gateway.stream(token: forged, query: "topics=student.progress")
            #expect(refused.status == 401)
            let forbidden = try await gateway.stream(token: token, query: "topics=student.progress&studentId=s-2")
            #expect(forbidden.status == 403)
            let anonymous = try await gateway.stream(token: nil, query: "topics=student.progress")
            #expect(anonymous.status == 401)

            stream.close()
            resumed.close()
            garbled.close()
            let closed = try await scrape(gateway) { $0["sse_gateway_connections_active"] == 0 }
            #expect(closed["sse_gateway_connections_active"] == 0)
            #expect(closed["sse_gateway_connections_opened_total"] == 3)
            #expect(closed[#"sse_gateway_connections_closed_total{reason="client_gone"}"#] == 3)
            #expect(closed[#"sse_gateway_replay_requests_total{outcome="hit"}"#] == 1)
            #expect(closed[#"sse_gateway_replay_requests_total{outcome="miss"}"#] == 1)
            #expect(closed[#"sse_gateway_auth_failures_total{reason="bad_signature"}"#] == 1)
            #expect(closed[#"sse_gateway_auth_failures_total{reason="missing"}"#] == 1)
            #expect(closed[#"sse_gateway_auth_failures_total{reason="student_not_granted"}"#] == 1)
            // No user id and no token ever becomes a label.
            #expect(!closed.text.contains("s-1"))
            #expect(!closed.text.contains(token))
        }
    }

    @Test func everyFamilyHasHelpAndTypeAndTheBuildAndProcessFiguresAreThere() async throws {
        let settings = TestGateway.settings { $0.limits.totalStreams = 1234 }
        let started = Date().timeIntervalSince1970
        try await TestGateway.run(settings: settings) { gateway in
            let scrape = try await scrape(gateway)
            let lines = scrape.text.split(separator: "\n")
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            #expect(!typed.isEmpty)
            #expect(typed == helped, "families without # HELP: \(typed.subtracting(helped).sorted())")
            #expect(
                scrape[
                    #"sse_gateway_build_info{version="\#(GatewayVersion.current)",swift_version="\#(GatewayVersion.swift)"}"#
                ] == 1
            )
            #expect(scrape["sse_gateway_connections_limit"] == 1234)
            // No delivery yet: the gateway's start stands in for the last one.
            let lastDelivery = try #require(scrape["sse_gateway_last_dapr_delivery_timestamp_seconds"])
            #expect(lastDelivery >= started - 1 && lastDelivery <= Date().timeIntervalSince1970)
            #if os(Linux)
            // This test process's own figures, as /proc/self/status reports them.
            let resident = try #require(scrape["process_resident_memory_bytes"])
            #expect(resident > 1_000_000)
            #expect(try #require(scrape["process_open_fds"]) > 3)
            #expect(try #require(scrape["process_max_fds"]) >= scrape["process_open_fds"] ?? 0)
            #expect(try #require(scrape["process_cpu_seconds_total"]) > 0)
            let start = try #require(scrape["process_start_time_seconds"])
            #expect(start <= started + 1 && start > started - 24 * 3600)
            #endif
        }
    }

    @Test func aStreamRefusedByALimitAndOneEndedByTheDrainAreCountedByReason() async throws {
        let settings = TestGateway.settings { $0.limits.streamsPerUser = 1 }
        try await TestGateway.run(settings: settings) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let second = try await gateway.stream(token: token, query: "topics=student.progress")
            #expect(second.status == 429)
            gateway.hub.beginDrain()
            let error = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(error.event == "error")
            let counted = try await scrape(gateway) { $0["sse_gateway_connections_active"] == 0 }
            #expect(counted[#"sse_gateway_connections_closed_total{reason="limit"}"#] == 1)
            #expect(counted[#"sse_gateway_connections_closed_total{reason="shutting_down"}"#] == 1)
            #expect(counted["sse_gateway_connections_opened_total"] == 2)
        }
    }
}
