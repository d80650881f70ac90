import DequeModule

/// The recent events of one topic, bounded by count, bytes and age, for resuming streams.
///
/// Memory is bounded by `maximumEvents` × the largest frame and by `maximumBytes`,
/// whichever is hit first, plus one dictionary entry per kept event.
package struct ReplayLog: Sendable {
    /// What a resume position yields.
    package enum Lookup: Sendable {
        /// Every event after the position, oldest first.
        case frames([EventFrame])
        /// The log no longer reaches back to the position.
        case gap
        /// The log never dropped an event and does not hold this id: the event has not
        /// reached this replica yet (a new pod still receiving its backlog), or never will.
        case notYetReceived
    }

    private var entries: Deque<EventFrame> = []
    private var firstSequence: UInt64 = 0
    private var sequenceByID: [String: UInt64] = [:]
    private var bytes = 0
    /// Whether any event has been trimmed since the log started.
    package private(set) var hasTrimmed = false
    private let maximumEvents: Int
    private let maximumBytes: Int
    private let maximumAge: Duration

    /// Creates an empty log.
    package init(maximumEvents: Int, maximumBytes: Int, maximumAge: Duration) {
        self.maximumEvents = max(0, maximumEvents)
        self.maximumBytes = max(0, maximumBytes)
        self.maximumAge = maximumAge
    }

    /// Number of events kept.
    package var count: Int { entries.count }

    /// The newest event id, the position of a stream that has seen everything.
    package var lastEventID: String? { entries.last?.eventID }

    /// Appends an accepted event and trims what falls outside the bounds.
    package mutating func append(_ frame: EventFrame) {
        guard maximumEvents > 0 else {
            hasTrimmed = true
            return
        }
        sequenceByID[frame.eventID] = firstSequence + UInt64(entries.count)
        entries.append(frame)
        bytes += frame.body.readableBytes
        while entries.count > maximumEvents || (bytes > maximumBytes && entries.count > 1) {
            dropOldest()
        }
    }

    /// Drops events older than the age bound.
    package mutating func trim(now: ContinuousClock.Instant) {
        while let oldest = entries.first, now - oldest.receivedAt > maximumAge {
            dropOldest()
        }
    }

    /// The events after `eventID`; an empty id means "from the first event ever".
    package func frames(after eventID: String) -> Lookup {
        if eventID.isEmpty {
            return hasTrimmed ? .gap : .frames(entries.copiedToArray)
        }
        guard let sequence = sequenceByID[eventID] else { return hasTrimmed ? .gap : .notYetReceived }
        let offset = Int(sequence - firstSequence) + 1
        return .frames(entries[offset...].copiedToArray)
    }

    private mutating func dropOldest() {
        guard let oldest = entries.popFirst() else { return }
        bytes -= oldest.body.readableBytes
        if sequenceByID[oldest.eventID] == firstSequence { sequenceByID[oldest.eventID] = nil }
        firstSequence += 1
        hasTrimmed = true
    }
}
