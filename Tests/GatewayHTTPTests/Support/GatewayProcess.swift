import Foundation
import GatewayCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `sse-gateway` binary, run as operators run it.
struct GatewayProcess {
    let process: Process
    let port: Int
    let secret: String
    /// Everything the process writes, standard output and standard error together.
    let output: ProcessOutputFile

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

    /// Starts the binary on a free port and waits for its "listening" log line (text or JSON logs).
    ///
    /// `arguments` replace `serve --host 127.0.0.1` (the port is always `--port 0`);
    /// `descriptorLimit` runs it under `ulimit -n` (soft and hard) of that many descriptors.
    static func start(
        environment extra: [String: String] = [:],
        arguments: [String] = ["serve", "--host", "127.0.0.1"],
        descriptorLimit: Int? = nil
    ) async throws -> GatewayProcess {
        let secret = String(repeating: "process-test-secret-", count: 4)
        let process = Process()
        if let descriptorLimit {
            // The shell lowers its own limit and becomes the gateway (exec keeps the pid).
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", binary.path]
                + arguments + ["--port", "0"]
        } else {
            process.executableURL = binary
            process.arguments = arguments + ["--port", "0"]
        }
        // A developer's OpenTelemetry set-up must not send the tests' spans anywhere.
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OTEL_") }
        environment["GATEWAY_JWT_HS256_SECRET"] = secret
        environment["GATEWAY_HEARTBEAT_SECONDS"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = try ProcessOutputFile()
        process.standardError = output.handle
        process.standardOutput = output.handle
        try process.run()
        // Polled, bounded: the log line that names the port the kernel picked.
        let deadline = ContinuousClock.now + .seconds(30)
        var port: Int?
        while port == nil, ContinuousClock.now < deadline {
            let text = output.text
            if let range = text.range(of: #"listening on [0-9.]+:(\d+)"#, options: .regularExpression) {
                port = Int(text[range].split(separator: ":").last ?? "")
            } else if !process.isRunning {
                break
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        guard let port, port > 0 else {
            process.terminate()
            throw TestFailure("the gateway did not start: \(output.text)")
        }
        return GatewayProcess(process: process, port: port, secret: secret, output: output)
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

    /// POSTs `body` to the topic's delivery route the way daprd does; the HTTP status and body.
    @discardableResult
    func deliver(topic: String, body: String) async throws -> (status: Int, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/dapr/topics/\(topic)"))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 60)
        request.httpMethod = "POST"
        request.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Delivers one CloudEvent with `data`; fails the test unless the gateway answers `SUCCESS`.
    func deliver(topic: String, id: String, data: String) async throws {
        let body =
            #"{"specversion":"1.0","id":"\#(id)","source":"test","type":"test.event","datacontenttype":"application/json","data":\#(data)}"#
        let answer = try await deliver(topic: topic, body: body)
        #expect(answer.status == 200 && answer.body.contains("SUCCESS"), "\(id): \(answer)")
    }

    /// Opens a stream as `subject` and reads its `ready` frame.
    func readyStream(token: String, query: String, lastEventID: String? = nil) async throws -> SSEClient {
        var headers = [("Authorization", "Bearer \(token)")]
        if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
        let stream = try await SSEClient.connect(port: port, path: "/events/stream?" + query, headers: headers)
        guard stream.status == 200, await stream.nextEvent()?.event == "ready" else {
            throw TestFailure("stream did not open: \(stream.status) \(stream.body)")
        }
        return stream
    }

    /// The process's resident memory in bytes, from `/proc/PID/status`.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// CPU time the process used so far (user and system), from `/proc/PID/stat`.
    var cpuTime: Duration? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let afterName = stat.range(of: ") ", options: .backwards)
        else { return nil }
        // Fields after the name start at the state (field 3); utime and stime are fields 14 and 15.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))
        return .milliseconds((user + system) * 1000 / max(1, ticksPerSecond))
    }

    /// `GET path` on a new connection; the status, or `nil` when no answer came within `timeout`.
    func status(of path: String, timeout: TimeInterval = 10) async -> Int? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let answer = try? await session.data(from: url)
        return (answer?.1 as? HTTPURLResponse)?.statusCode
    }

    /// Stops the process (SIGTERM) and waits for it to exit.
    func stop() async {
        guard process.isRunning else { return }
        process.terminate()
        _ = await exit(within: .seconds(15))
    }
}
