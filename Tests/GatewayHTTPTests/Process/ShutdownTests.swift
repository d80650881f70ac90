import Foundation
import GatewayCore
import NIOConcurrencyHelpers
import Testing

@Suite struct ShutdownTests {
    @Test func sigtermEndsOpenStreamsWithShuttingDownAndExitsWithinTheDrainTime() async throws {
        let gateway = try await GatewayProcess.start(environment: [
            "GATEWAY_DRAIN_SECONDS": "5", "GATEWAY_RECONNECT_JITTER_SECONDS": "20",
        ])
        let minter = await TokenMinter(secret: gateway.secret)
        var streams: [SSEClient] = []
        for index in 0..<4 {
            let token = try await minter.token(subject: "s-\(index)", roles: ["student"], lifetime: .seconds(600))
            let stream = try await SSEClient.connect(
                port: gateway.port,
                path: "/events/stream",
                headers: [("Authorization", "Bearer \(token)")]
            )
            #expect(stream.status == 200)
            #expect(await stream.nextEvent()?.event == "ready")
            streams.append(stream)
        }
        let signalled = ContinuousClock.now
        kill(gateway.process.processIdentifier, SIGTERM)
        var retries: [Int] = []
        for stream in streams {
            let event = try #require(await stream.nextEvent(timeout: .seconds(5)))
            #expect(event.event == "error")
            #expect(jsonObject(event.data)?["code"] as? String == "shutting_down")
            retries.append(try #require(event.retry))
            #expect(await stream.waitUntilClosed(timeout: .seconds(5)))
        }
        #expect(Set(retries).count > 1)
        let status = await gateway.exit(within: .seconds(10))
        #expect(status == 0)
        // Drain (5 s) plus the server's own stop: well inside the grace period.
        #expect(ContinuousClock.now - signalled < .seconds(10))
    }

    @Test func serveRefusesToStartWithoutAnyKey() async throws {
        let process = Process()
        process.executableURL = GatewayProcess.binary
        process.arguments = ["serve", "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        for key in [
            "GATEWAY_JWT_HS256_SECRET", "GATEWAY_JWKS_URL", "GATEWAY_JWKS_FILE", "GATEWAY_JWT_PUBLIC_KEY_FILES",
        ] {
            environment[key] = nil
        }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(message.contains("no token key is configured"))
    }
}
