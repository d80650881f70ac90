import GatewayBench
import Testing

/// Each broadcast stream keeps the set of sequence numbers it received, to tell a
/// duplicate from a first delivery; the runner keeps the set the server accepted. A
/// stream's losses are the accepted events missing from its set.
@Suite struct SequenceSetTests {
    @Test func tellsAFirstInsertionFromARepeatedOne() {
        var set = SequenceSet()
        // `insert` mutates, so it runs outside the expectation macro.
        let first = set.insert(5)
        let again = set.insert(5)
        let other = set.insert(6)
        #expect(first)
        #expect(!again)
        #expect(other)
        #expect(set.count == 2)
    }

    @Test func containsWhatWasInsertedAndNothingElse() {
        var set = SequenceSet()
        // Word boundaries (63/64) and far numbers that make the set grow.
        let values = [0, 1, 63, 64, 127, 1_000, 100_000]
        for value in values { set.insert(value) }
        #expect(set.count == values.count)
        for value in values { #expect(set.contains(value)) }
        for absent in [2, 62, 65, 128, 999, 1_001, 99_999, 100_001, 10_000_000] {
            #expect(!set.contains(absent))
        }
    }

    @Test func containsNoNegativeNumber() {
        var set = SequenceSet()
        set.insert(0)
        #expect(!set.contains(-1))
        #expect(!set.contains(-64))
    }

    @Test func anEmptySetContainsNothing() {
        let set = SequenceSet()
        #expect(set.count == 0)
        #expect(!set.contains(0))
        #expect(set.intersectionCount(SequenceSet()) == 0)
    }

    @Test func countsTheCommonNumbersOfTwoSets() {
        var lower = SequenceSet()
        var upper = SequenceSet()
        for value in 0..<100 { lower.insert(value) }
        for value in 50..<150 { upper.insert(value) }
        // 50 … 99.
        #expect(lower.intersectionCount(upper) == 50)
        #expect(upper.intersectionCount(lower) == 50)
    }

    @Test func countsTheCommonNumbersOfSetsOfDifferentSizes() {
        // One set reaches much further than the other: only the shared range can match.
        var small = SequenceSet()
        var large = SequenceSet()
        for value in [1, 2, 3] { small.insert(value) }
        for value in [2, 3, 4, 50_000] { large.insert(value) }
        #expect(small.intersectionCount(large) == 2)
        #expect(large.intersectionCount(small) == 2)
    }

    @Test func countsTheAcceptedEventsAStreamMissed() {
        // The runner's loss count: accepted.count − received ∩ accepted. The stream missed
        // 3 and 7, and also saw 12, which the server never acknowledged (it must not make
        // up for a loss).
        var accepted = SequenceSet()
        for value in 0..<10 { accepted.insert(value) }
        var received = SequenceSet()
        for value in [0, 1, 2, 4, 5, 6, 8, 9, 12] { received.insert(value) }
        #expect(accepted.count - received.intersectionCount(accepted) == 2)
    }

    @Test func ignoresNumbersOutsideItsRangeInsteadOfGrowingWithoutBound() async {
        // A broadcast stream inserts whatever `"seq"` a data line carries (up to
        // Int.max), so one stray event must not make the set allocate for every number
        // below it. Run in a child process: the old failure was a crash ("failed to
        // allocate … bytes", or under the thread sanitizer "allocation-size-too-big").
        await #expect(processExitsWith: .success) {
            var set = SequenceSet()
            precondition(!set.insert(1 << 60))
            precondition(!set.insert(-1))
            precondition(set.insert(SequenceSet.maximumValue))
            precondition(set.count == 1 && set.contains(SequenceSet.maximumValue) && !set.contains(1 << 60))
        }
    }
}
