import Foundation
import GatewayCore
import Testing

@testable import GatewayHTTP

/// `GET /readyz` (design section 6): 503 with a reason until daprd fetched the
/// subscriptions and the backlog arrived, 503 again while draining; `/healthz` is 200
/// throughout, because daprd stops delivering to an app whose health check fails.
@Suite struct ReadinessTests {
    private func problemCode(_ gateway: TestGateway) async throws -> String? {
        let response = try await gateway.get("/readyz")
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.contentType] == "application/problem+json")
        #expect(try await gateway.get("/healthz").status == .ok)
        return jsonObject(String(buffer: response.body))?["code"] as? String
    }

    private func deliver(_ gateway: TestGateway, topic: String, id: String, time: Date) async throws {
        let stamp = Date.ISO8601FormatStyle().format(time)
        let answer = try await gateway.deliver(
            topic: topic,
            body:
                #"{"specversion":"1.0","id":"\#(id)","source":"backend","type":"t","time":"\#(stamp)","data":{"studentId":"s-1"}}"#
        )
        #expect(answer.body == #"{"status":"SUCCESS"}"#)
    }

    @Test func readinessWaitsForTheSubscriptionAndForCurrentEventsOnEveryTopic() async throws {
        // A quiet period longer than the test: only current events can make it ready here.
        let settings = TestGateway.settings { $0.readiness.quietPeriod = .seconds(600) }
        try await TestGateway.run(settings: settings) { gateway in
            #expect(try await problemCode(gateway) == "not_subscribed")
            // Streams are served meanwhile: readiness steers the Service, it refuses nothing.
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            stream.close()

            #expect(try await gateway.get("/dapr/subscribe").status == .ok)
            #expect(try await problemCode(gateway) == "catching_up")
            let scrape = String(buffer: try await gateway.get("/metrics").body)
            #expect(scrape.contains(#"sse_gateway_readiness{state="catching_up"} 1"#))
            #expect(scrape.contains(#"sse_gateway_readiness{state="ready"} 0"#))

            // The backlog, oldest first: an hour old, then the newest retained events.
            let topics = gateway.settings.topics.map(\.topic)
            for topic in topics {
                try await deliver(gateway, topic: topic, id: "old-\(topic)", time: Date() - 3600)
            }
            #expect(try await problemCode(gateway) == "catching_up")
            for topic in topics.dropLast() {
                try await deliver(gateway, topic: topic, id: "new-\(topic)", time: Date())
            }
            #expect(try await problemCode(gateway) == "catching_up")
            try await deliver(gateway, topic: topics[topics.count - 1], id: "new-last", time: Date() - 2)

            let ready = try await gateway.get("/readyz")
            #expect(ready.status == .ok)
            let after = String(buffer: try await gateway.get("/metrics").body)
            #expect(after.contains(#"sse_gateway_readiness{state="ready"} 1"#))
            let catchUp = after.split(separator: "\n").first { $0.hasPrefix("sse_gateway_catch_up_seconds ") }
            #expect((catchUp?.split(separator: " ").last).flatMap { Double($0) }.map { $0 > 0 } == true)

            gateway.hub.beginDrain()
            #expect(try await problemCode(gateway) == "draining")
        }
    }

    @Test func aDeliveryStandsInForTheSubscriptionOfASidecarThatDoesNotAskAgain() async throws {
        // daprd asks GET /dapr/subscribe once per sidecar start; a gateway container
        // restarted in a running pod only ever sees deliveries.
        let settings = TestGateway.settings { $0.readiness.quietPeriod = .seconds(600) }
        try await TestGateway.run(settings: settings) { gateway in
            #expect(try await problemCode(gateway) == "not_subscribed")
            try await deliver(gateway, topic: "student.progress", id: "live", time: Date())
            #expect(try await problemCode(gateway) == "catching_up")
        }
    }
}
