import Testing

// `@testable`: the implicit `init()` of `PhaseTally` and `SubscriberCounts` is internal.
@testable import GatewayBench

/// Each event loop tallies a phase's deliveries; the report merges the loops' tallies.
/// 0 means "no arrival" for the first and last arrival instants.
@Suite struct PhaseTallyTests {
    private static func tally(deliveries: Int, first: UInt64, last: UInt64, latencies: [UInt64]) -> PhaseTally {
        var tally = PhaseTally()
        tally.deliveries = deliveries
        tally.firstArrival = first
        tally.lastArrival = last
        for latency in latencies { tally.latency.record(latency) }
        return tally
    }

    @Test func mergingAddsDeliveriesAndLatencies() {
        var merged = Self.tally(deliveries: 2, first: 100, last: 200, latencies: [1_000, 2_000])
        merged.merge(Self.tally(deliveries: 3, first: 150, last: 400, latencies: [5_000]))
        #expect(merged.deliveries == 5)
        #expect(merged.latency.count == 3)
        #expect(merged.latency.maximum == 5_000)
    }

    @Test func mergingKeepsTheEarliestFirstAndTheLatestLastArrival() {
        var merged = Self.tally(deliveries: 1, first: 150, last: 400, latencies: [])
        merged.merge(Self.tally(deliveries: 1, first: 100, last: 200, latencies: []))
        #expect(merged.firstArrival == 100)
        #expect(merged.lastArrival == 400)
    }

    @Test func aLoopWithoutArrivalsDoesNotMoveTheFirstArrivalToZero() {
        var merged = Self.tally(deliveries: 1, first: 150, last: 400, latencies: [])
        merged.merge(PhaseTally())
        #expect(merged.firstArrival == 150)
        #expect(merged.lastArrival == 400)
    }

    @Test func mergingIntoAnEmptyTallyTakesTheOthersArrivals() {
        var merged = PhaseTally()
        merged.merge(Self.tally(deliveries: 4, first: 150, last: 400, latencies: [10]))
        #expect(merged.deliveries == 4)
        #expect(merged.firstArrival == 150)
        #expect(merged.lastArrival == 400)
        #expect(merged.latency.count == 1)
    }
}
