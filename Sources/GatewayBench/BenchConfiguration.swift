/// Which subscribers an event is meant for, which decides how losses are counted.
package enum Routing: String, Sendable, CaseIterable {
    /// Every subscriber should get every event (a topic everyone follows).
    case broadcast
    /// Each event names one user (`{user}`, `"studentId"`) and only that user's
    /// connection should get it; anything else is counted as misrouted.
    case perUser = "per-user"
}

/// One publishing phase: a rate (0 = as fast as possible) for a time, bounded in events.
package struct PublishPhase: Sendable, Equatable {
    /// Events per second; 0 means as fast as the server answers.
    package var rate: Double
    /// How long the phase publishes.
    package var duration: Duration
    /// At most this many events in the phase.
    package var maximumEvents: Int

    /// A phase.
    package init(rate: Double, duration: Duration, maximumEvents: Int) {
        self.rate = rate
        self.duration = duration
        self.maximumEvents = maximumEvents
    }

    /// Parses `RATE@SECONDS` (`10@30`, `max@5`, `0@5`).
    package init(parsing text: String, maximumEvents: Int) throws {
        let parts = text.split(separator: "@")
        guard parts.count == 2, let seconds = Double(parts[1]), seconds > 0, seconds <= 3600 else {
            throw BenchError.invalidOption("--phase '\(text)' is not RATE@SECONDS (like 10@30 or max@5)")
        }
        let rate: Double
        if parts[0] == "max" {
            rate = 0
        } else if let parsed = Double(parts[0]), parsed >= 0 {
            rate = parsed
        } else {
            throw BenchError.invalidOption("--phase '\(text)': the rate is a number of events/s or 'max'")
        }
        self.init(rate: rate, duration: .milliseconds(Int64(seconds * 1000)), maximumEvents: maximumEvents)
    }
}

/// Everything one run needs, already validated.
package struct BenchConfiguration: Sendable {
    /// Subscribe URL template: `{user}` is the connection's user, `{i}` its index.
    package var subscribeURL: String
    /// How many SSE connections to open.
    package var connections: Int
    /// Handshakes (TCP connect to the first body bytes) in flight at once.
    package var connectConcurrency: Int
    /// How long the whole connect phase may take.
    package var connectTimeout: Duration
    /// User of connection `i`: this prefix and `i` (`s-` gives students `s-0`, `s-1`, …).
    package var userPrefix: String
    /// One `Authorization: Bearer` token per connection, or none.
    package var tokens: [String]?
    /// Publish URL template (`{topic}`, `{user}`, `{seq}`).
    package var publishURL: String?
    /// Publish body template (`{seq}`, `{t}`, `{user}`, `{topic}`, `{run}`).
    package var publishBody: String
    /// Publish `Content-Type`.
    package var publishContentType: String
    /// Extra publish headers (`dapr-api-token`).
    package var publishHeaders: [(String, String)]
    /// The topic substituted for `{topic}`.
    package var topic: String
    /// Keep-alive publishing connections, one request in flight on each.
    package var publishConnections: Int
    /// The publishing phases, in order.
    package var phases: [PublishPhase]
    /// How the deliveries are checked.
    package var routing: Routing
    /// How long to wait for late deliveries after each phase.
    package var drainTimeout: Duration
    /// Idle time after connecting, before publishing (heartbeats, idle RSS).
    package var hold: Duration
    /// The server processes to measure (summed), if given.
    package var serverPIDs: [Int32]
    /// Count a stream ready at its 200 head instead of its first body bytes, for servers
    /// that write nothing until the first event.
    package var readyOnHead = false
    /// How long to wait after closing every connection before reading the server's RSS
    /// once more (memory returned after the clients left); zero skips it.
    package var afterLeave: Duration = .seconds(8)
    /// Events per publish request: 1 posts each event on its own; more posts Dapr bulk
    /// bodies of up to this many entries (the gateway needs `GATEWAY_DAPR_BULK=true`).
    package var bulkSize = 1
    /// Event loop threads of the client.
    package var threads: Int
    /// An id unique to this run, in CloudEvent ids so a server's de-duplication of
    /// earlier runs' ids never hides events.
    package var runID: String

    /// A configuration; every field is set by the caller.
    package init(
        subscribeURL: String,
        connections: Int,
        connectConcurrency: Int,
        connectTimeout: Duration,
        userPrefix: String,
        tokens: [String]?,
        publishURL: String?,
        publishBody: String,
        publishContentType: String,
        publishHeaders: [(String, String)],
        topic: String,
        publishConnections: Int,
        phases: [PublishPhase],
        routing: Routing,
        drainTimeout: Duration,
        hold: Duration,
        serverPIDs: [Int32],
        threads: Int,
        runID: String
    ) {
        self.subscribeURL = subscribeURL
        self.connections = connections
        self.connectConcurrency = connectConcurrency
        self.connectTimeout = connectTimeout
        self.userPrefix = userPrefix
        self.tokens = tokens
        self.publishURL = publishURL
        self.publishBody = publishBody
        self.publishContentType = publishContentType
        self.publishHeaders = publishHeaders
        self.topic = topic
        self.publishConnections = publishConnections
        self.phases = phases
        self.routing = routing
        self.drainTimeout = drainTimeout
        self.hold = hold
        self.serverPIDs = serverPIDs
        self.threads = threads
        self.runID = runID
    }

    /// The user of connection `index`.
    package func user(_ index: Int) -> String { userPrefix + String(index) }

    /// The default body: a CloudEvent whose data carries the sequence number and the send
    /// time (and the student for per-user routing); `stamped` adds the CloudEvent `time`
    /// daprd writes (a new pod's readiness reads it).
    package static func cloudEventBody(routing: Routing, stamped: Bool = false) -> String {
        let student = routing == .perUser ? #","studentId":"{user}""# : ""
        let time = stamped ? #""time":"{time}","# : ""
        return #"{"specversion":"1.0","id":"bench-{run}-{seq}","source":"sse-gateway-bench","type":"bench.event","#
            + time + #""datacontenttype":"application/json","data":{"seq":{seq},"t":{t}"# + student + "}}"
    }
}
