import Foundation
import GatewayCore
import Testing

/// Slow and idle clients against the real binary on real sockets: every phase of a request
/// has a deadline, and an open stream has none.
@Suite struct ConnectionTimeoutTests {
    static let environment = [
        "GATEWAY_IDLE_TIMEOUT_SECONDS": "1",
        "GATEWAY_HEADER_TIMEOUT_SECONDS": "1",
        "GATEWAY_BODY_TIMEOUT_SECONDS": "1",
    ]
    /// Far beyond every deadline above: a connection the guards should end never gets this far.
    static let patience = Duration.seconds(15)

    @Test func idleSlowHeadAndSlowBodyClientsAreCutOffButAStreamStaysOpen() async throws {
        let gateway = try await GatewayProcess.start(environment: Self.environment)
        do {
            try await run(gateway)
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    private func run(_ gateway: GatewayProcess) async throws {
        // Connects and says nothing.
        let silent = try await RawConnection.open(port: gateway.port)
        #expect(await silent.closedByServer(within: Self.patience), "an idle connection is closed")

        // One request, then nothing: closed after the keep-alive idle time.
        let keepAlive = try await RawConnection.open(port: gateway.port)
        try await keepAlive.send("GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        #expect(await keepAlive.receive("200 OK", within: Self.patience))
        #expect(await keepAlive.closedByServer(within: Self.patience), "an idle keep-alive connection is closed")

        // A head sent a byte every 250 ms: never idle, and never complete within the header timeout.
        let drip = try await RawConnection.open(port: gateway.port)
        let head = "GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Slow: " + String(repeating: "a", count: 60) + "\r\n\r\n"
        var sent = 0
        for byte in head {
            if await drip.closedByServer(within: .milliseconds(250)) { break }
            try? await drip.send(String(byte))
            sent += 1
        }
        #expect(sent < head.count, "the server ended the connection before the head was complete")
        // The 408 is asserted on the handler itself (RequestTimeoutHandlerTests). Here it may
        // be lost: a byte the client drips just as the server closes is unread input there,
        // so the kernel answers it with a reset, which discards the 408 this side has not
        // read yet. What does arrive must be the 408.
        #expect(
            drip.received.isEmpty || drip.received.hasPrefix("HTTP/1.1 408"),
            "a slow head is told 408: \(drip.received.prefix(80))"
        )

        // A body that stops halfway.
        let body = try await RawConnection.open(port: gateway.port)
        try await body.send(
            "POST /dapr/topics/system.notifications HTTP/1.1\r\nHost: gateway\r\n"
                + "Content-Type: application/cloudevents+json\r\nContent-Length: 400\r\n\r\n{\"specversion\":"
        )
        #expect(await body.closedByServer(within: Self.patience), "a stalled body is cut off")

        // A stream outlives every deadline: it is a response, not a read.
        let minter = await TokenMinter(secret: gateway.secret)
        let token = try await minter.token(subject: "s-1", roles: ["student"], lifetime: .seconds(900))
        let stream = try await gateway.readyStream(token: token, query: "topics=system.notifications")
        var heartbeats = 0
        while heartbeats < 4, let next = await stream.next(timeout: Self.patience), next.isComment {
            heartbeats += 1
        }
        #expect(heartbeats == 4, "4 heartbeats, 1 s apart, came on the open stream")
        try await gateway.deliver(topic: "system.notifications", id: "after-idle", data: #"{"n":1}"#)
        #expect(await stream.nextEvent(timeout: Self.patience)?.id?.contains("after-idle") == true)
        stream.close()
    }
}
