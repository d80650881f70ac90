import GatewayCore
import Testing

@Suite struct MemoryReturnPolicyTests {
    /// The policy's answer for each count of open streams, sampled at a steady interval.
    private func decisions(_ openStreams: [Int], minimumDrop: Int = 500) -> [Bool] {
        var policy = MemoryReturnPolicy(minimumDrop: minimumDrop)
        return openStreams.map { policy.shouldReturnMemory(openStreams: $0) }
    }

    @Test func memoryIsReturnedOnceTheStreamsHaveLeft() {
        // Falling from 10,000 over two samples; returned once the count stops falling, then not again.
        #expect(decisions([10_000, 4_000, 0, 0, 0]) == [false, false, false, true, false])
    }

    @Test func aSmallDropIsNotWorthAWalkOverEveryHeap() {
        #expect(decisions([10_000, 9_000, 9_000]) == [false, false, false])
        #expect(decisions([300, 0, 0]) == [false, false, false])
    }

    @Test func aDropInSeveralStepsCountsFromThePeak() {
        #expect(decisions([4_000, 3_500, 3_400, 2_900, 2_900, 2_900]) == [false, false, false, false, true, false])
    }

    @Test func streamsComingBackRaiseThePeakAgain() {
        #expect(decisions([2_000, 0, 0, 2_000, 1_000, 1_000]) == [false, false, true, false, false, true])
    }
}
