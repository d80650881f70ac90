import Foundation
import GatewayCore
import Testing

/// The gateway under `ulimit -n 256` filled with idle connections: it stops accepting at
/// its cap instead of spinning on `accept`, says so once, and recovers by itself.
@Suite struct DescriptorLimitTests {
    static let descriptorLimit = 256
    /// The default reserve (128) leaves 128 connections.
    static let cap = 128

    @Test func atTheCapItWaitsWithoutSpinningAndRecoversWhenConnectionsClose() async throws {
        let gateway = try await GatewayProcess.start(
            // Long idle timeout: the connections must stay until the test closes them.
            environment: ["GATEWAY_IDLE_TIMEOUT_SECONDS": "600"],
            descriptorLimit: Self.descriptorLimit
        )
        do {
            try await run(gateway)
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    private func run(_ gateway: GatewayProcess) async throws {
        #expect(gateway.output.text.contains(#""connections.limit":"\#(Self.cap)""#), "the cap is logged at start")
        // More connections than the process has descriptors: before the cap, accept failed
        // with EMFILE for the rest, over and over.
        var connections: [RawConnection] = []
        for _ in 0..<(Self.descriptorLimit + 44) {
            connections.append(try await RawConnection.open(port: gateway.port))
        }
        let reached = try await logLine("connection limit reached", in: gateway, within: .seconds(15))
        #expect(reached)

        // A spinning accept loop burns a core; a gateway waiting at its cap burns nothing.
        let cpuBefore = try #require(gateway.cpuTime)
        try await Task.sleep(for: .seconds(2))  // the measuring window, not a wait for a condition
        let cpuUsed = try #require(gateway.cpuTime) - cpuBefore
        #expect(cpuUsed < .milliseconds(250), "CPU used at the cap over 2 s: \(cpuUsed)")
        let warnings = gateway.output.text.components(separatedBy: "connection limit reached").count - 1
        #expect(warnings == 1, "one warning while held at the cap, not one per waiting connection")

        // Closing some lets the waiting ones in, and then a probe.
        for connection in connections.prefix(200) { await connection.close() }
        #expect(await gateway.status(of: "/healthz", timeout: 15) == 200)
        for connection in connections.dropFirst(200) { await connection.close() }
    }

    /// Whether `text` appears in the process's output within `timeout` (polled, bounded).
    private func logLine(_ text: String, in gateway: GatewayProcess, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if gateway.output.text.contains(text) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return gateway.output.text.contains(text)
    }
}
