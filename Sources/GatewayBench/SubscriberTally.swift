/// What the subscribers of one event loop saw. Only that loop touches it (it sits in a
/// `NIOLoopBound`), so recording a delivery is plain arithmetic, no lock or atomic; the
/// runner reads a `SubscriberCounts` copy through the loop.
final class SubscriberTally {
    /// Responses with status 200.
    var established = 0
    /// Responses with another status, by status.
    var rejected: [Int: Int] = [:]
    /// Streams whose first body bytes arrived (the gateway writes them once subscribed).
    var ready = 0
    /// Streams the server ended or cut while the bench still held them.
    var closedByServer = 0
    /// Errors on established streams, by description.
    var errors: [String: Int] = [:]
    /// `: heartbeat` comment lines.
    var heartbeats = 0
    /// `event: error` frames (the gateway's `slow_consumer`, `token_expired`, …).
    var errorFrames = 0
    /// Lines dropped as oversized.
    var oversizedLines = 0
    /// Deliveries that were seen before on the same connection (broadcast) or anywhere
    /// (per-user).
    var duplicates = 0
    /// Per-user: deliveries whose `studentId` is not the connection's user.
    var misrouted = 0
    /// The publishing phase the runner is in (-1 before the first).
    var phase = -1
    /// Per phase: deliveries, latency, first and last arrival.
    var phases: [PhaseTally] = []
    /// Per-user: how often each sequence number arrived anywhere on this loop.
    var arrivals: [UInt8] = []
    /// The streams of this loop, to mark them expected and to close them at the end.
    var handlers: [SubscriberHandler] = []
    /// Set when the runner closes the streams itself, so those closes are not counted.
    var closing = false

    init() {}

    func record(sequence: Int, sentAt: UInt64?, now: UInt64, duplicate: Bool) {
        if duplicate { duplicates += 1 }
        guard phase >= 0, phase < phases.count else { return }
        phases[phase].deliveries += 1
        if let sentAt, now >= sentAt { phases[phase].latency.record(now - sentAt) }
        if phases[phase].firstArrival == 0 { phases[phase].firstArrival = now }
        phases[phase].lastArrival = now
    }

    /// Per-user: counts an arrival of `sequence`; true when it arrived before.
    func countArrival(_ sequence: Int) -> Bool {
        guard sequence >= 0, sequence < 1 << 26 else { return false }
        if sequence >= arrivals.count {
            arrivals.append(contentsOf: repeatElement(0, count: max(sequence + 1 - arrivals.count, arrivals.count)))
        }
        let before = arrivals[sequence]
        if before < UInt8.max { arrivals[sequence] = before + 1 }
        return before > 0
    }

    func begin(phase index: Int) {
        while phases.count <= index { phases.append(PhaseTally()) }
        phase = index
    }

    /// A copy for the runner; `accepted` are the events the server acknowledged, to count
    /// each expecting broadcast stream's losses.
    func counts(accepted: SequenceSet?) -> SubscriberCounts {
        var counts = SubscriberCounts()
        counts.established = established
        counts.rejected = rejected
        counts.ready = ready
        counts.closedByServer = closedByServer
        counts.errors = errors
        counts.heartbeats = heartbeats
        counts.errorFrames = errorFrames
        counts.oversizedLines = oversizedLines + handlers.reduce(0) { $0 + $1.oversizedLines }
        counts.duplicates = duplicates
        counts.misrouted = misrouted
        counts.phases = phases
        counts.arrivals = arrivals
        counts.expecting = handlers.reduce(0) { $0 + ($1.expecting ? 1 : 0) }
        if let accepted {
            for handler in handlers where handler.expecting {
                counts.broadcastLosses += accepted.count - handler.received.intersectionCount(accepted)
            }
        }
        return counts
    }
}

/// One phase's deliveries on one loop, or merged over all loops.
package struct PhaseTally: Sendable {
    /// Deliveries (duplicates included).
    package var deliveries = 0
    /// Publish-to-receipt latency, nanoseconds.
    package var latency = LatencyHistogram()
    /// Monotonic ns of the first and last delivery; 0 when none.
    package var firstArrival: UInt64 = 0
    /// See `firstArrival`.
    package var lastArrival: UInt64 = 0

    /// Adds `other`'s deliveries.
    package mutating func merge(_ other: PhaseTally) {
        deliveries += other.deliveries
        latency.merge(other.latency)
        if other.firstArrival != 0 {
            firstArrival = firstArrival == 0 ? other.firstArrival : min(firstArrival, other.firstArrival)
        }
        lastArrival = max(lastArrival, other.lastArrival)
    }
}

/// A copy of the subscriber tallies, mergeable across loops.
package struct SubscriberCounts: Sendable {
    package var established = 0
    package var rejected: [Int: Int] = [:]
    package var ready = 0
    package var closedByServer = 0
    package var errors: [String: Int] = [:]
    package var heartbeats = 0
    package var errorFrames = 0
    package var oversizedLines = 0
    package var duplicates = 0
    package var misrouted = 0
    package var phases: [PhaseTally] = []
    package var arrivals: [UInt8] = []
    package var expecting = 0
    package var broadcastLosses = 0

    /// Adds `other`.
    package mutating func merge(_ other: SubscriberCounts) {
        established += other.established
        rejected.merge(other.rejected, uniquingKeysWith: +)
        ready += other.ready
        closedByServer += other.closedByServer
        errors.merge(other.errors, uniquingKeysWith: +)
        heartbeats += other.heartbeats
        errorFrames += other.errorFrames
        oversizedLines += other.oversizedLines
        duplicates += other.duplicates
        misrouted += other.misrouted
        while phases.count < other.phases.count { phases.append(PhaseTally()) }
        for (index, phase) in other.phases.enumerated() { phases[index].merge(phase) }
        if arrivals.count < other.arrivals.count {
            arrivals.append(contentsOf: repeatElement(0, count: other.arrivals.count - arrivals.count))
        }
        for (index, count) in other.arrivals.enumerated() where count > 0 {
            arrivals[index] = UInt8(clamping: Int(arrivals[index]) + Int(count))
        }
        expecting += other.expecting
        broadcastLosses += other.broadcastLosses
    }
}
