/// What a reconnect storm measured; printed for people, and as one JSON line for scripts.
package struct StormReport: BenchOutput {
    /// The fresh server's process, from `/proc` (when `--storm-server-pid` is given).
    package struct Server: Sendable, Encodable {
        /// Resident memory before the storm (after any history delivery).
        package var rssBefore: Int?
        /// The process's peak resident memory (`VmHWM`) at the end of the run.
        package var peakRSS: Int?
        /// Resident memory at the end of the run.
        package var rssEnd: Int?
        /// CPU seconds from the storm's start to the end of the tail.
        package var cpuSeconds: Double?
    }

    package var label = ""
    package var firstURL = ""
    package var freshURL = ""
    package var streams = 0
    /// Streams whose first connection opened.
    package var openedFirst = 0
    package var windowSeconds = 0.0
    /// Events published before the storm.
    package var historyEvents = 0
    /// Events published during the storm and its tail.
    package var liveEvents = 0
    /// Events every server acknowledged.
    package var acceptedEvents = 0
    /// Deliveries a server did not acknowledge, by status (0: connection lost).
    package var refusedDeliveries: [String: Int] = [:]
    /// History deliveries to the fresh server that it did not acknowledge.
    package var historyRefused = 0
    /// From attaching the fresh server (its `/dapr/subscribe`) to its `/readyz` 200.
    package var catchUpSeconds: Double?
    /// Streams open again on the fresh server.
    package var reconnected = 0
    /// Reconnects that failed, by the fresh server's status (0: no answer).
    package var reconnectFailures: [String: Int] = [:]
    /// From the storm's start until the last stream was open again.
    package var allStreamingSeconds = 0.0
    /// Reconnect request sent to its stream's first bytes.
    package var reconnectLatency = LatencySummary()
    /// Admissions (each a verified JWT for the gateway) per second: mean over the storm,
    /// and the most in any one second.
    package var verificationsPerSecond = 0.0
    /// See `verificationsPerSecond`.
    package var peakVerificationsPerSecond = 0
    /// `event: reset` frames (0 when every resume was exact).
    package var resets = 0
    /// Accepted events some stream never received, summed over the streams.
    package var lost = 0
    /// Events a stream received more than once, summed over the streams.
    package var duplicates = 0
    /// `event: error` frames.
    package var errorFrames = 0
    /// Streams the servers ended while the bench held them (other than the moves).
    package var closedByServer = 0
    package var server = Server()
    package var benchCPUSeconds = 0.0
    package var wallSeconds = 0.0

    /// The human-readable summary.
    package func text() -> String {
        let mib = mebibytes
        var lines: [String] = []
        lines.append("storm \(label.isEmpty ? "" : label + " ")\(firstURL) → \(freshURL)")
        lines.append(
            "streams: \(openedFirst) open of \(streams); history \(historyEvents) events, live \(liveEvents), "
                + "accepted \(acceptedEvents)"
                + (refusedDeliveries.isEmpty ? "" : ", refused \(refusedDeliveries)")
                + (historyRefused == 0 ? "" : ", history refused \(historyRefused)")
        )
        if let catchUpSeconds { lines.append("fresh server ready \(format(catchUpSeconds)) s after its subscription") }
        lines.append(
            "reconnects over \(format(windowSeconds)) s: \(reconnected) streaming again after "
                + "\(format(allStreamingSeconds)) s"
                + (reconnectFailures.isEmpty ? "" : ", failed \(reconnectFailures)")
        )
        lines.append("  reconnect latency \(reconnectLatency.text)")
        lines.append(
            "  admissions (JWT verifications) \(Int(verificationsPerSecond))/s mean, \(peakVerificationsPerSecond)/s peak"
        )
        lines.append(
            "resets \(resets), lost \(lost), duplicates \(duplicates), error frames \(errorFrames), "
                + "closed by server \(closedByServer)"
        )
        lines.append(
            "fresh server: RSS before \(mib(server.rssBefore)), peak \(mib(server.peakRSS)), end \(mib(server.rssEnd)); "
                + "CPU \(server.cpuSeconds.map(format) ?? "n/a") s"
        )
        lines.append("bench: CPU \(format(benchCPUSeconds)) s over \(format(wallSeconds)) s wall")
        return lines.joined(separator: "\n")
    }
}
