import Foundation
import NIOConcurrencyHelpers

/// One run of the built `sse-gateway` binary as a command-line tool.
struct CommandRun {
    var status: Int32
    var output: String

    /// Runs the binary with `arguments`; the environment is the test's own minus the Dapr and
    /// gateway variables a developer's shell may hold, plus `environment`.
    static func sseGateway(
        _ arguments: [String],
        environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> CommandRun {
        let process = Process()
        process.executableURL = GatewayProcess.binary
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("DAPR_") && !$0.key.hasPrefix("GATEWAY_") && $0.key != "APP_API_TOKEN"
        }
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        // Read as the output comes (a full pipe would block the child), on the handle's own
        // queue: a blocking read here would hold one of the few cooperative threads.
        let collected = NIOLockedValueBox(Data())
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            collected.withLockedValue { $0.append(chunk) }
        }
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
            throw TestFailure("sse-gateway \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let data = collected.withLockedValue { $0 + rest }
        return CommandRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
