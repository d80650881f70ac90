/// Hands out sequence numbers to the publishing connections, paced to the phase's rate,
/// and keeps what the server answered. All publishing connections share one event loop,
/// and this object lives on it, so taking a number needs no lock.
final class PublishSchedule {
    /// What a publishing connection should do next.
    enum Step {
        /// Send event `sequence` now.
        case send(Int)
        /// Nothing is due before this monotonic instant (ns).
        case wait(until: UInt64)
        /// The phase is over.
        case done
    }

    private(set) var nextSequence = 0
    private var phaseFirstSequence = 0
    private var phaseStart: UInt64 = 0
    private var phaseEnd: UInt64 = 0
    private var phaseLimit = 0
    private var interval: Double = 0
    private var finished: (() -> Void)?
    /// Requests on the wire.
    private(set) var inFlight = 0

    /// Events the server acknowledged (2xx, not RETRY/DROP).
    var accepted = SequenceSet()
    /// Events sent in each phase.
    var sentPerPhase: [Int] = []
    /// Events acknowledged in each phase.
    var acceptedPerPhase: [Int] = []
    /// Answers that were not an acknowledgement, by status (0: connection lost).
    var refused: [Int: Int] = [:]
    /// Request-to-answer time.
    var answerLatency = LatencyHistogram()
    private var phaseIndex = -1
    private var over = false

    init() {}

    /// Starts a phase at `now`; `finished` runs once when it is over and nothing is in flight.
    func begin(_ phase: PublishPhase, index: Int, now: UInt64, finished: @escaping () -> Void) {
        phaseIndex = index
        while sentPerPhase.count <= index {
            sentPerPhase.append(0)
            acceptedPerPhase.append(0)
        }
        phaseFirstSequence = nextSequence
        phaseStart = now
        let duration = phase.duration.components
        phaseEnd = now + UInt64(duration.seconds) * 1_000_000_000 + UInt64(duration.attoseconds / 1_000_000_000)
        phaseLimit = phase.maximumEvents
        interval = phase.rate > 0 ? 1_000_000_000 / phase.rate : 0
        self.finished = finished
        over = false
    }

    /// The next step at `now`.
    func next(now: UInt64) -> Step {
        guard phaseIndex >= 0, finished != nil else { return .done }
        let inPhase = nextSequence - phaseFirstSequence
        if now >= phaseEnd || inPhase >= phaseLimit {
            over = true
            return .done
        }
        if interval > 0 {
            let due = phaseStart + UInt64(Double(inPhase) * interval)
            if due > now { return .wait(until: min(due, phaseEnd)) }
        }
        let sequence = nextSequence
        nextSequence += 1
        inFlight += 1
        sentPerPhase[phaseIndex] += 1
        return .send(sequence)
    }

    /// Up to `maximum` events due at `now`, for one request that carries several (a Dapr
    /// bulk delivery): `.send` with the first, and `count` set to how many follow it.
    func nextBatch(now: UInt64, maximum: Int, count: inout Int) -> Step {
        count = 0
        let first = next(now: now)
        guard case .send = first else { return first }
        count = 1
        while count < maximum, case .send = next(now: now) { count += 1 }
        return first
    }

    /// Records the answer for `sequence`; `status` 0 means the connection was lost.
    func answered(_ sequence: Int, status: Int, acknowledged: Bool, latency: UInt64) {
        inFlight -= 1
        answerLatency.record(latency)
        if acknowledged {
            accepted.insert(sequence)
            if phaseIndex >= 0 { acceptedPerPhase[phaseIndex] += 1 }
        } else {
            refused[status, default: 0] += 1
        }
    }

    /// Called by a connection that found the phase over (or lost its connection); once
    /// the phase is over and nothing is in flight, reports the end.
    func idle() {
        guard over, inFlight == 0, let finished else { return }
        self.finished = nil
        finished()
    }
}
