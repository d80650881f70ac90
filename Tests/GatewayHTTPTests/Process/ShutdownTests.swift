import Foundation
import GatewayCore
import NIOConcurrencyHelpers
import Testing

/// The built `sse-gateway` binary, run as operators run it.
struct GatewayProcess {
    let process: Process
    let port: Int
    let secret: String

    /// The binary beside the test bundle (`swift build` puts both in one folder).
    static var binary: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.pathExtension == "xctest" || folder.lastPathComponent == "Contents" {
            folder.deleteLastPathComponent()
        }
        for candidate in [folder, Bundle.main.bundleURL.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("sse-gateway")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return folder.appendingPathComponent("sse-gateway")
    }

    /// Starts the binary on a free port and waits for its "listening" log line.
    static func start(environment extra: [String: String] = [:]) async throws -> GatewayProcess {
        let secret = String(repeating: "process-test-secret-", count: 4)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["GATEWAY_JWT_HS256_SECRET"] = secret
        environment["GATEWAY_HEARTBEAT_SECONDS"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let lines = NIOLockedValueBox("")
        let listening = AsyncStream<Int>.makeStream()
        errors.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            let text = lines.withLockedValue { text in
                text += chunk
                return text
            }
            if let range = text.range(of: #"listening on 127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":").last ?? "") ?? 0
                listening.continuation.yield(port)
                listening.continuation.finish()
            }
        }
        try process.run()
        let ports = listening.stream
        let port = await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                for await port in ports { return port }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            listening.continuation.finish()
            return first
        }
        guard let port, port > 0 else {
            process.terminate()
            throw TestFailure("the gateway did not start: \(lines.withLockedValue { $0 })")
        }
        return GatewayProcess(process: process, port: port, secret: secret)
    }

    /// Waits for the process to exit; its status, or `nil` after `timeout`.
    func exit(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }
}

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
