import Foundation
import GatewayCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The real binary continues daprd's trace: spans over OTLP/HTTP to a real receiver, and
/// the trace and span ids on the delivery's log lines.
@Suite struct TracingTests {
    /// daprd's span for the delivery: trace id, then its own span id, sampled.
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let daprSpanID = "00f067aa0ba902b7"

    static func deliver(
        _ body: String,
        port: Int,
        topic: String = "student.progress",
        traceparent: String
    ) async throws -> String {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/dapr/topics/\(topic)"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
        request.setValue(traceparent, forHTTPHeaderField: "Traceparent")
        request.httpBody = Data(body.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func eachDeliveryIsASpanInDaprsTraceExportedOverOTLPAndNamedInTheLogs() async throws {
        try await OTLPReceiver.run { receiver in
            let gateway = try await GatewayProcess.start(environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(receiver.port)",
                // Export within 100 ms instead of 5 s: the test awaits the spans, not the schedule.
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                "GATEWAY_LOG_FORMAT": "json", "GATEWAY_LOG_LEVEL": "debug",
            ])
            let minter = await TokenMinter(secret: gateway.secret)
            let token = try await minter.token(subject: "s-1", roles: ["student"], lifetime: .seconds(600))
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let event =
                #"{"specversion":"1.0","id":"traced-1","source":"grades","type":"progress.updated","data":{"studentId":"s-1"}}"#
            let answer = try await Self.deliver(
                event,
                port: gateway.port,
                traceparent: "00-\(Self.traceID)-\(Self.daprSpanID)-01"
            )
            #expect(answer.contains("SUCCESS"))
            #expect(await stream.nextEvent(timeout: .seconds(10))?.event == "student.progress")
            let poison = try await Self.deliver(
                "not json",
                port: gateway.port,
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            )
            #expect(poison.contains("DROP"))

            let spans = await receiver.spans(atLeast: 2, within: .seconds(30))
            stream.close()
            await gateway.stop()
            #expect(receiver.contentTypes.allSatisfy { $0 == "application/x-protobuf" })

            let delivered = try #require(spans.first { $0.traceID == Self.traceID }, "spans: \(spans)")
            #expect(delivered.parentSpanID == Self.daprSpanID)
            #expect(delivered.name == "ingest student.progress")
            #expect(delivered.kind == 5)  // consumer
            #expect(delivered.attributes["messaging.destination.name"] == .string("student.progress"))
            #expect(delivered.attributes["messaging.message.id"] == .string("traced-1"))
            #expect(delivered.attributes["cloudevents.event_type"] == .string("progress.updated"))
            #expect(delivered.attributes["sse_gateway.recipients"] == .int(1))
            #expect(delivered.attributes["sse_gateway.outcome"] == .string("success"))
            #expect(delivered.statusCode != 2)
            #expect(delivered.resource["service.name"] == .string("sse-gateway"))
            #expect(delivered.resource["service.version"] == .string(GatewayVersion.current))

            let dropped = try #require(spans.first { $0.traceID == "0af7651916cd43dd8448eb211c80319c" })
            #expect(dropped.attributes["sse_gateway.outcome"] == .string("drop"))
            #expect(dropped.statusCode == 2)  // error
            #expect(!dropped.statusMessage.isEmpty && !dropped.statusMessage.contains("not json"))

            // The delivery's log line names the gateway's span, so logs and traces join up.
            let records = gateway.output.text.split(separator: "\n").compactMap { jsonObject(String($0)) }
            let line = try #require(records.first { $0["message"] as? String == "event delivered" })
            #expect(line["trace_id"] as? String == Self.traceID)
            #expect(line["span_id"] as? String == delivered.spanID)
        }
    }

    @Test func anEndpointThatIsNotAnHTTPURLRefusesToStartAndSaysWhich() async throws {
        let run = try await CommandRun.sseGateway(
            ["serve", "--host", "127.0.0.1", "--port", "0"],
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
                "GATEWAY_JWT_HS256_SECRET": String(repeating: "k", count: 32),
            ]
        )
        #expect(run.status != 0)
        #expect(run.output.contains("OTEL_EXPORTER_OTLP_ENDPOINT"))
        #expect(run.output.contains("http:// or https:// URL"))
    }
}
