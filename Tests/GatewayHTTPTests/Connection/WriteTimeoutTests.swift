import Foundation
import GatewayCore
import Testing

@testable import GatewayHTTP

/// An answer nobody reads, on a real port: once its buffered bytes make no progress for
/// `GATEWAY_WRITE_TIMEOUT_SECONDS` (the bound a stream has too), its connection is closed,
/// the poll's slot in the user's stream limit is freed, and the deadline is counted.
@Suite struct WriteTimeoutTests {
    @Test func aPollAnswerNobodyReadsLosesItsConnectionAndFreesItsSlot() async throws {
        let settings = TestGateway.settings {
            $0.writeTimeout = .seconds(1)
            $0.pollMaxBytes = 32 * 1024 * 1024
        }
        try await TestGateway.run(settings: settings) { gateway in
            let padding = String(repeating: "p", count: 200_000)
            // 20 MB of answer: more than the kernel buffers on both ends of a loopback connection
            // (the client's receive buffer is 4 KiB, the server's send buffer at most 4 MiB).
            for index in 0..<100 {
                try await gateway.deliver(
                    topic: "system.notifications",
                    id: "big-\(index)",
                    data: #"{"n":\#(index),"pad":"\#(padding)"}"#
                )
            }
            let token = try await gateway.token("s-1", roles: ["student"])
            let unread = try await RawConnection.open(port: gateway.port, reading: false)
            try await unread.send(
                "GET /events/poll?topics=system.notifications&lastEventId=2: HTTP/1.1\r\n"
                    + "Host: gateway\r\nAuthorization: Bearer \(token)\r\n\r\n"
            )
            // Once the answer has begun, the poll holds its slot until the answer is written
            // or its connection is gone.
            unread.readOnce()
            #expect(await unread.receive("HTTP/1.1 200 OK", within: .seconds(10)))
            #expect(gateway.hub.subscriberCount == 1)
            #expect(await gateway.noStreamsRemain(within: .seconds(15)), "the unread answer's connection was closed")
            let metrics = MetricsRoutesTests.Scrape(String(buffer: try await gateway.get("/metrics").body))
            #expect(metrics["sse_gateway_http_connections_timed_out_total{deadline=\"write\"}"] == 1)
            #expect(metrics["sse_gateway_http_connections_timed_out_total{deadline=\"idle\"}"] == 0)
            await unread.close()
        }
    }
}
