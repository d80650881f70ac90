import ArgumentParser
import Foundation
import GatewayBench
import GatewayCore

/// `sse-gateway bench`: a loopback load generator for this gateway and its peers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Open N SSE streams on loopback, publish events, and report deliveries, latency and memory.",
        discussion: """
            The last line of stdout is one JSON object with every figure. Loopback targets only.
            Examples:
              sse-gateway bench --secret "$S" --connections 10000 --hold 5 --server-pid "$PID"
              sse-gateway bench --secret "$S" --connections 10000 --phase 10@30 --phase max@5
              sse-gateway bench --secret "$S" --connections 10000 --routing per-user --phase max@10 \\
                --url 'http://127.0.0.1:3000/events/stream?topics=student.progress'
              sse-gateway bench --secret "$S" --connections 10000 --routing per-user --phase max@10 --bulk 100 \\
                --url 'http://127.0.0.1:3000/events/stream?topics=student.progress'   (GATEWAY_DAPR_BULK=true)
              sse-gateway bench --no-auth --url 'http://127.0.0.1:8080/sub/student.progress.{user}' \\
                --routing per-user --publish-url 'http://127.0.0.1:8080/pub/student.progress.{user}' \\
                --publish-body '{"seq":{seq},"t":{t},"studentId":"{user}"}' --content-type application/json
            Reconnect storm (a rolling update): streams move from the gateway on :3000 to a fresh one on :3001,
            which the bench feeds the history as a new consumer group, each with its Last-Event-ID:
              sse-gateway bench --secret "$S" --connections 10000 --storm-url \\
                'http://127.0.0.1:3001/events/stream?topics=system.notifications' --storm-feed-history \\
                --storm-ready-url http://127.0.0.1:3001/readyz --storm-server-pid "$PID2"
            """
    )

    @Option(help: "Subscribe URL; {user} is the connection's user (s-<i>), {i} its index.")
    var url = "http://127.0.0.1:3000/events/stream?topics=system.notifications"

    @Option(help: "SSE connections to open (one user each).")
    var connections = 100

    @Option(name: .customLong("connect-concurrency"), help: "Handshakes in flight at once.")
    var connectConcurrency = 256

    @Option(help: "Seconds the whole connect phase may take.")
    var timeout = 120.0

    @Option(help: "HS256 secret to mint one token per connection (default GATEWAY_JWT_HS256_SECRET).")
    var secret: String?

    @Option(name: .customLong("token-file"), help: "A file with one token per line, one per connection.")
    var tokenFile: String?

    @Flag(name: .customLong("no-auth"), help: "Send no Authorization header (for peers without auth).")
    var noAuth = false

    @Option(help: "Role in the minted tokens.")
    var role = "student"

    @Option(name: .customLong("user-prefix"), help: "User of connection i is this prefix and i.")
    var userPrefix = "s-"

    @Option(name: .customLong("token-ttl"), help: "Lifetime of minted tokens in seconds.")
    var tokenTTL = 7200

    @Option(help: "Settings file for claim names, issuer and audience (as for serve).")
    var config: String?

    @Option(name: .customLong("publish-url"), help: "Publish URL ({topic}, {user}, {seq}); default the Dapr route.")
    var publishURL: String?

    @Option(
        name: .customLong("publish-body"),
        help: "Publish body ({seq}, {t}, {user}, {topic}, {run}); default a CloudEvent."
    )
    var publishBody: String?

    @Option(name: .customLong("content-type"), help: "Publish Content-Type.")
    var contentType = "application/cloudevents+json"

    @Option(name: .customLong("publish-header"), help: "Extra publish header NAME:VALUE (repeatable).")
    var publishHeaders: [String] = []

    @Option(help: "Topic for {topic} (default system.notifications; student.progress when per-user).")
    var topic: String?

    @Option(
        name: .customLong("publish-connections"),
        help: "Keep-alive publishing connections (one request in flight each)."
    )
    var publishConnections = 8

    @Option(
        help:
            "Events per publish request: more than 1 posts Dapr bulk bodies (the gateway needs GATEWAY_DAPR_BULK=true)."
    )
    var bulk = 1

    @Option(help: "Publishing phase RATE@SECONDS, RATE in events/s or max (repeatable, in order).")
    var phase: [String] = []

    @Option(help: "Events/s for a single phase (0 = as fast as possible), with --duration.")
    var rate = 0.0

    @Option(help: "Seconds of a single publishing phase at --rate; without it and --phase, nothing is published.")
    var duration: Double?

    @Option(help: "At most this many events per phase.")
    var events = 2_000_000

    @Option(
        help: "broadcast (every stream gets every event) or per-user (random students, each only to its own stream)."
    )
    var routing = "broadcast"

    @Option(name: .customLong("drain-timeout"), help: "Seconds to wait for late deliveries after each phase.")
    var drainTimeout = 10.0

    @Option(help: "Seconds to hold the idle streams after connecting, before publishing.")
    var hold = 0.0

    @Option(
        name: .customLong("after-leave"),
        help: "Seconds to wait after closing every stream before reading the server's RSS again (0 skips)."
    )
    var afterLeave = 8.0

    @Option(name: .customLong("server-pid"), help: "The server's pid, for RSS and CPU from /proc (repeatable: summed).")
    var serverPIDs: [Int32] = []

    @Option(help: "Client event-loop threads.")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Flag(
        name: .customLong("ready-on-headers"),
        help: "Count a stream ready at its 200 answer, not its first bytes (servers silent until the first event)."
    )
    var readyOnHeaders = false

    @Option(help: "A label copied into the report.")
    var label = ""

    @Option(
        name: .customLong("storm-url"),
        help: "Reconnect storm: the subscribe URL every stream moves to, with its Last-Event-ID (a fresh server)."
    )
    var stormURL: String?

    @Option(name: .customLong("storm-window"), help: "Seconds over which the reconnects are spread (jitter window).")
    var stormWindow = 10.0

    @Option(name: .customLong("storm-events"), help: "Events every stream receives before the storm (the history).")
    var stormEvents = 200

    @Option(name: .customLong("storm-history-rate"), help: "Events/s while publishing the history (0 = at once).")
    var stormHistoryRate = 0.0

    @Option(name: .customLong("storm-rate"), help: "Live events/s during the storm and its tail.")
    var stormRate = 20.0

    @Option(name: .customLong("storm-tail"), help: "Seconds of live events after the last stream is back.")
    var stormTail = 5.0

    @Flag(
        name: .customLong("storm-feed-history"),
        help: "Play the broker for the fresh gateway: GET /dapr/subscribe, then the whole history and the live events."
    )
    var stormFeedHistory = false

    @Option(
        name: .customLong("storm-ready-url"),
        help: "Wait for 200 here (the fresh gateway's /readyz) before the storm."
    )
    var stormReadyURL: String?

    @Option(
        name: .customLong("storm-server-pid"),
        help: "The fresh server's pid, for its peak RSS and CPU (repeatable)."
    )
    var stormServerPIDs: [Int32] = []

    func run() async throws {
        guard let routing = Routing(rawValue: routing) else {
            throw ValidationError("--routing is broadcast or per-user, not '\(routing)'")
        }
        guard (1...200_000).contains(connections), (1...4096).contains(connectConcurrency),
            (1...256).contains(publishConnections), (1...64).contains(threads), events > 0, (1...10_000).contains(bulk)
        else {
            throw ValidationError(
                "--connections 1...200000, --connect-concurrency 1...4096, --publish-connections 1...256, --threads 1...64, --bulk 1...10000"
            )
        }
        var phases = try phase.map { try PublishPhase(parsing: $0, maximumEvents: events) }
        if phases.isEmpty, let duration {
            guard duration > 0, duration <= 3600, rate >= 0 else {
                throw ValidationError("--duration 0...3600 s, --rate >= 0")
            }
            phases = [PublishPhase(rate: rate, duration: .milliseconds(Int64(duration * 1000)), maximumEvents: events)]
        }
        let topic = self.topic ?? (routing == .perUser ? "student.progress" : "system.notifications")
        let subscribeTarget = try TargetURL(
            url.replacingOccurrences(of: "{user}", with: "0").replacingOccurrences(of: "{i}", with: "0")
        )
        let publishURL = self.publishURL ?? "http://\(subscribeTarget.hostHeader)/dapr/topics/{topic}"
        let headers = try publishHeaders.map { header -> (String, String) in
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("--publish-header '\(header)' is not NAME:VALUE")
            }
            return (
                String(header[..<colon]),
                String(header[header.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            )
        }
        let tokens = try await self.tokens()
        var configuration = BenchConfiguration(
            subscribeURL: url,
            connections: connections,
            connectConcurrency: connectConcurrency,
            connectTimeout: .milliseconds(Int64(timeout * 1000)),
            userPrefix: userPrefix,
            tokens: tokens,
            publishURL: phases.isEmpty ? nil : publishURL,
            publishBody: publishBody ?? BenchConfiguration.cloudEventBody(routing: routing),
            publishContentType: contentType,
            publishHeaders: headers,
            topic: topic,
            publishConnections: publishConnections,
            phases: phases,
            routing: routing,
            drainTimeout: .milliseconds(Int64(drainTimeout * 1000)),
            hold: .milliseconds(Int64(hold * 1000)),
            serverPIDs: serverPIDs,
            threads: threads,
            runID: "\(ProcessInfo.processInfo.processIdentifier)-\(UInt64(Date().timeIntervalSince1970 * 1000))"
        )
        configuration.readyOnHead = readyOnHeaders
        configuration.bulkSize = bulk
        guard (0...600).contains(afterLeave) else { throw ValidationError("--after-leave 0...600 s") }
        configuration.afterLeave = .milliseconds(Int64(afterLeave * 1000))
        if let stormURL {
            try await runStorm(configuration, url: stormURL, publishURL: publishURL, routing: routing)
            return
        }
        try await printReport { try await BenchRunner(configuration: configuration).run(progress: $0) }
    }

    /// Runs a bench with progress lines on stderr, then prints its report (text, then JSON).
    private func printReport<Report: BenchOutput>(
        _ run: (@Sendable (String) -> Void) async throws -> Report
    ) async throws {
        var report: Report
        do {
            report = try await run { line in FileHandle.standardError.write(Data(("bench: " + line + "\n").utf8)) }
        } catch let error as BenchError {
            throw ValidationError(error.description)
        }
        report.label = label
        print(report.text())
        print(report.jsonLine())
    }

    /// The reconnect storm: one publishing stream of events, the streams move to `url`.
    private func runStorm(
        _ configuration: BenchConfiguration,
        url: String,
        publishURL: String,
        routing: Routing
    ) async throws {
        guard routing == .broadcast else { throw ValidationError("--storm-url needs --routing broadcast") }
        guard (0...600).contains(stormWindow), (0...100_000).contains(stormEvents), (0...10_000).contains(stormRate),
            (0...10_000).contains(stormHistoryRate), (0...600).contains(stormTail)
        else {
            throw ValidationError(
                "--storm-window 0...600, --storm-events 0...100000, --storm-rate and --storm-history-rate 0...10000, "
                    + "--storm-tail 0...600"
            )
        }
        var configuration = configuration
        configuration.publishURL = publishURL
        if publishBody == nil {
            configuration.publishBody = BenchConfiguration.cloudEventBody(routing: routing, stamped: true)
        }
        if stormFeedHistory {
            // What daprd sends with every delivery (dapr-contract.md).
            configuration.publishHeaders += [
                ("Pubsubname", "pubsub"), ("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ]
        }
        var storm = StormSettings(url: url)
        storm.window = .milliseconds(Int64(stormWindow * 1000))
        storm.historyEvents = stormEvents
        storm.historyRate = stormHistoryRate
        storm.liveRate = stormRate
        storm.tail = .milliseconds(Int64(stormTail * 1000))
        storm.feedHistory = stormFeedHistory
        storm.readyURL = stormReadyURL
        storm.serverPIDs = stormServerPIDs
        try await printReport { try await StormRunner(configuration: configuration, storm: storm).run(progress: $0) }
    }

    /// One token per connection: from the file, minted, or none with `--no-auth`.
    private func tokens() async throws -> [String]? {
        if noAuth { return nil }
        if let tokenFile {
            let text = try String(contentsOfFile: tokenFile, encoding: .utf8)
            let tokens = text.split(whereSeparator: \.isNewline).map(String.init)
            guard tokens.count >= connections else {
                throw ValidationError(BenchError.notEnoughTokens(needed: connections, found: tokens.count).description)
            }
            return tokens
        }
        let settings = try await SettingsLoader.load(try SettingsOptions.parse(config.map { ["--config", $0] } ?? []))
        guard let secret = secret ?? settings.authentication.hmacSecret else {
            throw ValidationError(BenchError.noCredentials.description)
        }
        let minter = await TokenMinter(secret: secret)
        var tokens: [String] = []
        tokens.reserveCapacity(connections)
        for index in 0..<connections {
            tokens.append(
                try await minter.token(
                    subject: userPrefix + String(index),
                    roles: [role],
                    lifetime: .seconds(tokenTTL),
                    claimNames: settings.authentication.claims,
                    issuer: settings.authentication.issuer,
                    audience: settings.authentication.audience
                )
            )
        }
        return tokens
    }
}
