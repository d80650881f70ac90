import Testing

// `@testable`: the implicit `init()` of `PhaseTally` and `SubscriberCounts` is internal.
@testable import GatewayBench

/// The runner merges every event loop's counts into one before the report derives losses
/// and duplicates from them; per-user, an accepted event with 0 arrivals over all loops is
/// lost and every arrival after the first is a duplicate.
@Suite struct SubscriberCountsTests {
    @Test func mergingAddsTheScalarCounts() {
        var total = SubscriberCounts()
        total.established = 1
        total.duplicates = 2
        total.misrouted = 3
        total.expecting = 4
        total.broadcastLosses = 5
        var other = SubscriberCounts()
        other.established = 10
        other.ready = 7
        other.closedByServer = 1
        other.heartbeats = 6
        other.errorFrames = 2
        other.oversizedLines = 1
        other.duplicates = 20
        other.misrouted = 30
        other.expecting = 40
        other.broadcastLosses = 50
        total.merge(other)
        #expect(total.established == 11)
        #expect(total.ready == 7)
        #expect(total.closedByServer == 1)
        #expect(total.heartbeats == 6)
        #expect(total.errorFrames == 2)
        #expect(total.oversizedLines == 1)
        #expect(total.duplicates == 22)
        #expect(total.misrouted == 33)
        #expect(total.expecting == 44)
        #expect(total.broadcastLosses == 55)
    }

    @Test func mergingAddsTheCountsByStatusAndByError() {
        var total = SubscriberCounts()
        total.rejected = [401: 1, 503: 2]
        total.errors = ["reset": 1]
        var other = SubscriberCounts()
        other.rejected = [503: 3, 429: 1]
        other.errors = ["reset": 2, "timeout": 1]
        total.merge(other)
        #expect(total.rejected == [401: 1, 503: 5, 429: 1])
        #expect(total.errors == ["reset": 3, "timeout": 1])
    }

    @Test func mergingAddsArrivalsPerSequenceNumberOverLoopsOfDifferentReach() {
        // Loop A saw events 0 and 2, loop B saw 1, 2 and 4: over all loops 3 never
        // arrived (a loss) and 2 arrived twice (a duplicate).
        var total = SubscriberCounts()
        total.arrivals = [1, 0, 1]
        var other = SubscriberCounts()
        other.arrivals = [0, 1, 1, 0, 1]
        total.merge(other)
        #expect(total.arrivals == [1, 1, 2, 0, 1])
    }

    @Test func mergingSaturatesArrivalsInsteadOfWrapping() {
        var total = SubscriberCounts()
        total.arrivals = [200]
        var other = SubscriberCounts()
        other.arrivals = [100]
        total.merge(other)
        #expect(total.arrivals == [UInt8.max])
    }

    @Test func mergingMergesPhasesByIndex() {
        var first = PhaseTally()
        first.deliveries = 1
        var second = PhaseTally()
        second.deliveries = 2
        var total = SubscriberCounts()
        total.phases = [first]
        var other = SubscriberCounts()
        other.phases = [first, second]
        total.merge(other)
        #expect(total.phases.map(\.deliveries) == [2, 2])
    }
}
