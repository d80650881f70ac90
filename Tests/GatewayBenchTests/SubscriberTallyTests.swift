import Testing

@testable import GatewayBench

/// What the subscribers of one event loop saw: deliveries and latency per publishing
/// phase, duplicates, and (per-user) how often each sequence number arrived, from which
/// the report counts losses and duplicates.
@Suite struct SubscriberTallyTests {
    @Test func countsADuplicateEvenBeforeTheFirstPhase() {
        // Events can arrive while the bench holds, before phase 0: duplicates still count.
        let tally = SubscriberTally()
        tally.record(sequence: 0, sentAt: nil, now: 1_000, duplicate: true)
        #expect(tally.duplicates == 1)
        #expect(tally.phases.isEmpty)
    }

    @Test func attributesDeliveriesToTheCurrentPhase() {
        let tally = SubscriberTally()
        tally.begin(phase: 0)
        tally.record(sequence: 0, sentAt: nil, now: 100, duplicate: false)
        tally.record(sequence: 0, sentAt: nil, now: 200, duplicate: true)
        tally.begin(phase: 1)
        tally.record(sequence: 1, sentAt: nil, now: 300, duplicate: false)
        #expect(tally.phases.map(\.deliveries) == [2, 1])
        // Deliveries count duplicates too; the duplicate count is kept apart.
        #expect(tally.duplicates == 1)
    }

    @Test func beginningALaterPhaseMakesRoomForTheOnesBefore() {
        let tally = SubscriberTally()
        tally.begin(phase: 2)
        #expect(tally.phase == 2)
        #expect(tally.phases.count == 3)
        tally.record(sequence: 0, sentAt: nil, now: 1, duplicate: false)
        #expect(tally.phases.map(\.deliveries) == [0, 0, 1])
    }

    @Test func measuresLatencyFromTheStampedSendTime() {
        let tally = SubscriberTally()
        tally.begin(phase: 0)
        tally.record(sequence: 0, sentAt: 1_000, now: 3_001_000, duplicate: false)
        let latency = tally.phases[0].latency
        #expect(latency.count == 1)
        #expect(latency.maximum == 3_000_000)
    }

    @Test func countsADeliveryWithoutAUsableSendTimeButNoLatency() {
        // No `"t"` in the data, or a stamp after the arrival (another clock): the event
        // arrived, but there is no latency to record.
        let tally = SubscriberTally()
        tally.begin(phase: 0)
        tally.record(sequence: 0, sentAt: nil, now: 5_000, duplicate: false)
        tally.record(sequence: 1, sentAt: 6_000, now: 5_000, duplicate: false)
        #expect(tally.phases[0].deliveries == 2)
        #expect(tally.phases[0].latency.count == 0)
    }

    @Test func keepsTheFirstAndLastArrivalOfAPhase() {
        let tally = SubscriberTally()
        tally.begin(phase: 0)
        for now: UInt64 in [100, 200, 300] {
            tally.record(sequence: 0, sentAt: nil, now: now, duplicate: false)
        }
        #expect(tally.phases[0].firstArrival == 100)
        #expect(tally.phases[0].lastArrival == 300)
    }

    @Test func tellsARepeatedArrivalFromAFirstOne() {
        let tally = SubscriberTally()
        #expect(!tally.countArrival(3))
        #expect(tally.countArrival(3))
        #expect(!tally.countArrival(0))
        #expect(tally.arrivals.count >= 4)
        #expect(tally.arrivals[3] == 2)
        #expect(tally.arrivals[0] == 1)
        // Numbers in between never arrived: they are the per-user losses.
        #expect(tally.arrivals[1] == 0)
        #expect(tally.arrivals[2] == 0)
    }

    @Test func ignoresSequenceNumbersOutsideItsRange() {
        // A stray number must not grow the array without bound (or index it negatively).
        let tally = SubscriberTally()
        #expect(!tally.countArrival(-1))
        #expect(!tally.countArrival(1 << 26))
        #expect(!tally.countArrival(Int.max))
        #expect(tally.arrivals.isEmpty)
        // A number in range still counts (the last in range, 2^26 − 1, would need a
        // 64 MiB array: too slow to fill under the thread sanitizer).
        #expect(!tally.countArrival(100_000))
        #expect(tally.arrivals.count > 100_000)
        #expect(tally.arrivals[100_000] == 1)
    }

    @Test func saturatesTheArrivalCountInsteadOfWrappingToZero() {
        // A wrapped count of 256 arrivals would read as a loss.
        let tally = SubscriberTally()
        for _ in 0..<300 { _ = tally.countArrival(5) }
        #expect(tally.arrivals[5] == UInt8.max)
        #expect(tally.countArrival(5))
    }

    @Test func copiesItsCountsForTheRunner() {
        let tally = SubscriberTally()
        tally.established = 3
        tally.rejected = [401: 2]
        tally.ready = 3
        tally.closedByServer = 1
        tally.errors = ["reset": 1]
        tally.heartbeats = 4
        tally.errorFrames = 1
        tally.oversizedLines = 2
        tally.misrouted = 5
        tally.begin(phase: 0)
        tally.record(sequence: 0, sentAt: nil, now: 10, duplicate: true)
        _ = tally.countArrival(1)

        let counts = tally.counts(accepted: nil)
        #expect(counts.established == 3)
        #expect(counts.rejected == [401: 2])
        #expect(counts.ready == 3)
        #expect(counts.closedByServer == 1)
        #expect(counts.errors == ["reset": 1])
        #expect(counts.heartbeats == 4)
        #expect(counts.errorFrames == 1)
        #expect(counts.oversizedLines == 2)
        #expect(counts.duplicates == 1)
        #expect(counts.misrouted == 5)
        #expect(counts.phases.map(\.deliveries) == [1])
        #expect(counts.arrivals == [0, 1])
        // No streams on this loop: none expecting, none losing events.
        #expect(counts.expecting == 0)
        #expect(counts.broadcastLosses == 0)
    }

    @Test func countsNoBroadcastLossesWithoutExpectingStreams() {
        // Losses are counted per stream that was ready when publishing began; a loop
        // without streams loses nothing, however many events the server accepted.
        let tally = SubscriberTally()
        var accepted = SequenceSet()
        for value in 0..<10 { accepted.insert(value) }
        #expect(tally.counts(accepted: accepted).broadcastLosses == 0)
    }
}
