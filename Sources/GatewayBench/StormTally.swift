/// What the clients of one event loop received over their two connections and how their
/// reconnects went; merged across loops by the runner.
struct StormTally: Sendable {
    /// Accepted events a stream open at the end never received, summed over those streams.
    var lost = 0
    var duplicates = 0
    var resets = 0
    var errorFrames = 0
    var closedByServer = 0
    /// Streams open again on the fresh server.
    var reopened = 0
    /// Failed reconnects by the fresh server's status (0: no answer).
    var failures: [Int: Int] = [:]
    /// Reconnect request to first bytes, nanoseconds.
    var latency = LatencyHistogram()
    /// When the fresh server admitted each reconnect (monotonic ns).
    var admissions: [UInt64] = []
    /// When the last stream opened again (monotonic ns).
    var lastReopened: UInt64 = 0

    init() {}

    /// The tally of `clients` against the `accepted` events.
    init(_ clients: [StormClient], accepted: SequenceSet) {
        for client in clients {
            duplicates += client.duplicates
            resets += client.resets
            errorFrames += client.errorFrames
            closedByServer += client.closedByServer
            if client.admittedAt > 0 { admissions.append(client.admittedAt) }
            if client.reopenedAt > 0 {
                reopened += 1
                lastReopened = max(lastReopened, client.reopenedAt)
                if client.reconnectSentAt > 0, client.reopenedAt >= client.reconnectSentAt {
                    latency.record(client.reopenedAt - client.reconnectSentAt)
                }
                lost += accepted.count - client.received.intersectionCount(accepted)
            } else if client.reconnectFailed {
                failures[client.reconnectStatus, default: 0] += 1
            } else if client.reconnectSentAt == 0, client.openedFirst {
                // Not moved yet (the history phase): still counts what it misses.
                lost += accepted.count - client.received.intersectionCount(accepted)
            }
        }
    }

    /// Adds `other`.
    mutating func merge(_ other: StormTally) {
        lost += other.lost
        duplicates += other.duplicates
        resets += other.resets
        errorFrames += other.errorFrames
        closedByServer += other.closedByServer
        reopened += other.reopened
        failures.merge(other.failures, uniquingKeysWith: +)
        latency.merge(other.latency)
        admissions += other.admissions
        lastReopened = max(lastReopened, other.lastReopened)
    }
}

extension StormReport {
    /// Folds the final tally in; `stormStart` is when the first reconnect could happen.
    mutating func record(_ tally: StormTally, stormStart: UInt64) {
        resets = tally.resets
        lost = tally.lost
        duplicates = tally.duplicates
        errorFrames = tally.errorFrames
        closedByServer = tally.closedByServer
        reconnected = tally.reopened
        reconnectFailures = Dictionary(uniqueKeysWithValues: tally.failures.map { (String($0.key), $0.value) })
        allStreamingSeconds = tally.lastReopened > stormStart ? Double(tally.lastReopened - stormStart) / 1e9 : 0
        reconnectLatency = LatencySummary(tally.latency)
        verificationsPerSecond = StormTiming.meanPerSecond(tally.admissions, since: stormStart)
        peakVerificationsPerSecond = StormTiming.peakPerSecond(tally.admissions)
    }
}
