import Foundation

/// What a run measured; printed for people, and as one JSON line for scripts.
package struct BenchReport: BenchOutput {
    /// Connecting the streams.
    package struct Connect: Sendable, Encodable {
        package var requested = 0
        /// Status 200 answers.
        package var established = 0
        /// Streams whose first bytes arrived (subscribed server-side).
        package var ready = 0
        package var failed = 0
        package var failures: [String: Int] = [:]
        /// Non-200 answers by status.
        package var rejected: [String: Int] = [:]
        package var seconds = 0.0
        /// Ready streams per second of the connect phase.
        package var ratePerSecond = 0.0
    }

    /// The server process, from `/proc` (when `--server-pid` is given).
    package struct Server: Sendable, Encodable {
        package var rssBefore: Int?
        package var rssAfterConnect: Int?
        package var rssAfterHold: Int?
        package var rssEnd: Int?
        /// After every client left and the server had `afterLeave` to settle.
        package var rssAfterLeave: Int?
        /// (after connecting - before) / ready streams.
        package var bytesPerConnection: Int?
        /// CPU seconds the server used during the run.
        package var cpuSeconds: Double?
        package var openFileLimit: Int?
    }

    /// Publishing.
    package struct Publish: Sendable, Encodable {
        package var connections = 0
        /// Events per publish request: 1, or the entries of each Dapr bulk body.
        package var eventsPerRequest = 1
        /// Answers that were not acknowledgements, by status (0: connection lost).
        package var refused: [String: Int] = [:]
        /// Publish request to answer.
        package var answerLatency = LatencySummary()
    }

    /// Delivery checks over all phases.
    package struct Deliveries: Sendable, Encodable {
        package var expected = 0
        package var received = 0
        package var lost = 0
        package var duplicates = 0
        /// Per-user: deliveries to a connection whose user the event did not name.
        package var misrouted = 0
        /// Streams that should have received the events.
        package var expectingStreams = 0
    }

    /// The bench process itself.
    package struct Bench: Sendable, Encodable {
        package var cpuSeconds = 0.0
        package var wallSeconds = 0.0
        package var openFileLimit = 0
        package var openFileHardLimit = 0
        package var threads = 0
    }

    package var label = ""
    package var target = ""
    package var routing = ""
    package var connect = Connect()
    package var server = Server()
    package var publish = Publish()
    package var phases: [PhaseReport] = []
    package var deliveries = Deliveries()
    package var heartbeats = 0
    package var errorFrames = 0
    package var closedByServer = 0
    package var streamErrors: [String: Int] = [:]
    package var bench = Bench()

    init(configuration: BenchConfiguration, limits: (soft: Int, hard: Int)) {
        target = configuration.subscribeURL
        routing = configuration.routing.rawValue
        connect.requested = configuration.connections
        bench.openFileLimit = limits.soft
        bench.openFileHardLimit = limits.hard
        bench.threads = configuration.threads
        publish.eventsPerRequest = configuration.bulkSize
    }

    /// Folds the final tallies in.
    mutating func record(_ counts: SubscriberCounts, accepted: SequenceSet, routing: Routing) {
        connect.failed = connect.requested - connect.ready
        heartbeats = counts.heartbeats
        errorFrames = counts.errorFrames
        closedByServer = counts.closedByServer
        streamErrors = counts.errors
        deliveries.expectingStreams = counts.expecting
        deliveries.misrouted = counts.misrouted
        for index in phases.indices where index < counts.phases.count {
            phases[index].record(counts.phases[index])
        }
        deliveries.expected = phases.reduce(0) { $0 + $1.expectedDeliveries }
        deliveries.received = phases.reduce(0) { $0 + $1.deliveries }
        switch routing {
        case .broadcast:
            deliveries.lost = counts.broadcastLosses
            deliveries.duplicates = counts.duplicates
        case .perUser:
            let sent = phases.reduce(0) { $0 + $1.sent }
            for sequence in 0..<sent where accepted.contains(sequence) {
                let arrivals = sequence < counts.arrivals.count ? Int(counts.arrivals[sequence]) : 0
                if arrivals == 0 { deliveries.lost += 1 } else { deliveries.duplicates += arrivals - 1 }
            }
        }
        if let before = server.rssBefore, let after = server.rssAfterConnect, connect.ready > 0 {
            server.bytesPerConnection = (after - before) / connect.ready
        }
    }

    /// The human-readable summary.
    package func text() -> String {
        let mib = mebibytes
        var lines: [String] = []
        lines.append("bench \(label.isEmpty ? "" : label + " ")→ \(target) (\(routing))")
        lines.append(
            "connections: \(connect.ready) ready / \(connect.requested) requested (\(connect.established) answered 200, "
                + "\(connect.failed) failed) in \(format(connect.seconds)) s = \(Int(connect.ratePerSecond)) connections/s"
        )
        if !connect.failures.isEmpty { lines.append("  failures: \(connect.failures)") }
        if !connect.rejected.isEmpty { lines.append("  rejected: \(connect.rejected)") }
        lines.append(
            "server RSS: before \(mib(server.rssBefore)), after connecting \(mib(server.rssAfterConnect)), "
                + "after hold \(mib(server.rssAfterHold)), end \(mib(server.rssEnd)), "
                + "after the clients left \(mib(server.rssAfterLeave)); "
                + "\(server.bytesPerConnection.map { "\($0) bytes" } ?? "n/a") per connection; "
                + "server CPU \(server.cpuSeconds.map(format) ?? "n/a") s; server fd limit \(server.openFileLimit.map(String.init) ?? "n/a")"
        )
        for (index, phase) in phases.enumerated() {
            let rate = phase.rate > 0 ? "\(phase.rate) ev/s" : "max"
            lines.append(
                "phase \(index + 1) (\(rate), \(phase.durationSeconds) s): sent \(phase.sent), accepted \(phase.accepted) "
                    + "(\(Int(phase.ingestPerSecond)) ev/s), delivered \(phase.deliveries) / \(phase.expectedDeliveries) "
                    + "= \(Int(phase.deliveriesPerSecond)) deliveries/s"
            )
            lines.append("  latency \(phase.latency.text)")
        }
        if !phases.isEmpty {
            lines.append(
                "deliveries: expected \(deliveries.expected), received \(deliveries.received), lost \(deliveries.lost), "
                    + "duplicates \(deliveries.duplicates), misrouted \(deliveries.misrouted) "
                    + "over \(deliveries.expectingStreams) streams"
            )
            lines.append("publish: \(publish.connections) connections, answer latency \(publish.answerLatency.text)")
            if !publish.refused.isEmpty { lines.append("  refused: \(publish.refused)") }
        }
        lines.append(
            "heartbeats \(heartbeats), error frames \(errorFrames), closed by server \(closedByServer)"
                + (streamErrors.isEmpty ? "" : ", errors \(streamErrors)")
        )
        lines.append(
            "bench: CPU \(format(bench.cpuSeconds)) s over \(format(bench.wallSeconds)) s wall, \(bench.threads) threads, "
                + "fd limit \(bench.openFileLimit) (hard \(bench.openFileHardLimit))"
        )
        return lines.joined(separator: "\n")
    }
}

/// One publishing phase's figures.
package struct PhaseReport: Sendable, Encodable {
    package var rate: Double
    package var durationSeconds: Double
    package var sent: Int
    package var accepted: Int
    /// Accepted events per second of publishing.
    package var ingestPerSecond: Double
    package var publishSeconds: Double
    package var expectedDeliveries: Int
    package var deliveries = 0
    /// Deliveries per second, from the phase's start to its last delivery.
    package var deliveriesPerSecond = 0.0
    package var latency = LatencySummary()
    private let startedAt: UInt64

    init(
        phase: PublishPhase,
        sent: Int,
        accepted: Int,
        expectedDeliveries: Int,
        publishSeconds: Double,
        startedAt: UInt64
    ) {
        rate = phase.rate
        let parts = phase.duration.components
        durationSeconds = Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        self.sent = sent
        self.accepted = accepted
        self.expectedDeliveries = expectedDeliveries
        self.publishSeconds = publishSeconds
        ingestPerSecond = publishSeconds > 0 ? Double(accepted) / publishSeconds : 0
        self.startedAt = startedAt
    }

    mutating func record(_ tally: PhaseTally) {
        deliveries = tally.deliveries
        latency = LatencySummary(tally.latency)
        if tally.lastArrival > startedAt {
            deliveriesPerSecond = Double(tally.deliveries) / (Double(tally.lastArrival - startedAt) / 1e9)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case rate, durationSeconds, sent, accepted, ingestPerSecond, publishSeconds, expectedDeliveries, deliveries
        case deliveriesPerSecond, latency
    }
}
