import Foundation
import GatewayCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real binary's logs as a log collector sees them.
@Suite struct LogFormatTests {
    @Test func productionLogsAreJSONLinesWithTheTraceAndWithoutTokensOrPayloads() async throws {
        let gateway = try await GatewayProcess.start(environment: [
            "GATEWAY_LOG_FORMAT": "json", "GATEWAY_LOG_LEVEL": "debug",
        ])
        let minter = await TokenMinter(secret: gateway.secret)
        let token = try await minter.token(subject: "s-1", roles: ["student"], lifetime: .seconds(600))
        let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let url = try #require(URL(string: "http://127.0.0.1:\(gateway.port)/dapr/topics/student.progress"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
        request.setValue(traceparent, forHTTPHeaderField: "traceparent")
        request.httpBody = Data(
            #"{"specversion":"1.0","id":"log-1","source":"test","type":"t","data":{"studentId":"s-1","note":"payload-marker-7731"}}"#
                .utf8
        )
        _ = try await URLSession.shared.data(for: request)
        _ = await stream.nextEvent(timeout: .seconds(10))
        // A refused token is logged too; the token itself must not be.
        let refused = try await SSEClient.connect(
            port: gateway.port,
            path: "/events/stream",
            headers: [("Authorization", "Bearer \(token)tampered")]
        )
        #expect(refused.status == 401)
        stream.close()
        await gateway.stop()

        let lines = gateway.output.text.split(separator: "\n").map(String.init)
        let records = lines.compactMap(jsonObject)
        #expect(!lines.isEmpty)
        #expect(records.count == lines.count, "not JSON: \(lines.filter { jsonObject($0) == nil }.prefix(3))")
        for record in records {
            #expect(record["time"] is String && record["level"] is String && record["message"] is String)
        }
        let delivered = try #require(records.first { $0["message"] as? String == "event delivered" })
        #expect(delivered["trace.parent"] as? String == traceparent)
        // Tracing is off (no OTLP endpoint): the ids are those of daprd's span.
        #expect(delivered["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(delivered["span_id"] as? String == "00f067aa0ba902b7")
        #expect(delivered["event.topic"] as? String == "student.progress")
        #expect(delivered["event.id"] as? String == "log-1")
        #expect(records.contains { $0["message"] as? String == "token rejected" })
        let text = lines.joined(separator: "\n")
        #expect(!text.contains("payload-marker-7731"))
        #expect(!text.contains(token))
    }

    @Test func anUnknownLogFormatRefusesToStartAndSaysWhy() async throws {
        let run = try await CommandRun.sseGateway(
            ["serve", "--host", "127.0.0.1", "--port", "0"],
            environment: ["GATEWAY_LOG_FORMAT": "yaml", "GATEWAY_JWT_HS256_SECRET": String(repeating: "k", count: 32)]
        )
        #expect(run.status != 0)
        #expect(run.output.contains("GATEWAY_LOG_FORMAT must be 'json' or 'text', not 'yaml'"))
    }
}
