import Testing

@testable import GatewayBench

/// The reconnect storm's pure parts: the schedule, the admission rate, what one client
/// makes of the lines of its two connections, and the losses and duplicates over both.
@Suite struct StormTests {
    /// A deterministic generator, so a schedule can be checked exactly.
    private struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var value = state
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            return value ^ (value >> 31)
        }
    }

    private func feed(_ client: StormClient, _ text: String) {
        // What follows the last line break is an unfinished line, as for the scanner.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            Array(line.utf8).withUnsafeBytes { client.handle($0) }
        }
    }

    @Test func reconnectsAreSpreadOverTheWholeWindow() {
        var generator = SplitMix(state: 7)
        let offsets = StormTiming.offsets(count: 10_000, window: .seconds(10), using: &generator)
        #expect(offsets.count == 10_000)
        #expect(offsets.allSatisfy { $0 <= 10_000_000_000 })
        // Every second of the window gets about a tenth of the reconnects.
        var perSecond = [Int](repeating: 0, count: 11)
        for offset in offsets { perSecond[Int(offset / 1_000_000_000)] += 1 }
        #expect(perSecond.prefix(10).allSatisfy { (850...1150).contains($0) }, "\(perSecond)")
        var again = SplitMix(state: 7)
        #expect(StormTiming.offsets(count: 3, window: .zero, using: &again) == [0, 0, 0])
    }

    @Test func admissionsPerSecondAreTheMeanAndTheBusiestSecond() {
        let second: UInt64 = 1_000_000_000
        let admissions = [0, 1, 2, 3].map { 10 * second + $0 } + [11 * second + 500_000_000, 12 * second]
        #expect(StormTiming.peakPerSecond(admissions) == 4)
        #expect(StormTiming.peakPerSecond([]) == 0)
        // Six admissions in the two seconds after the storm started at 10 s.
        #expect(StormTiming.meanPerSecond(admissions, since: 10 * second) == 3)
        #expect(StormTiming.meanPerSecond([], since: 0) == 0)
    }

    @Test func aClientResumesFromTheIdOfTheLastDispatchedEvent() {
        let client = StormClient(index: 0)
        feed(client, "retry: 3000\nid: 2:\nevent: ready\ndata: {\"topics\":[]}\n")
        #expect(client.lastEventIDHeader == nil, "no event dispatched yet")
        feed(client, "\nid: 2:bench-r-0\nevent: system.notifications\ndata: {\"data\":{\"seq\":0,\"t\":1}}\n\n")
        feed(client, "id:2:bench-r-1\ndata: {\"seq\":1}\n")
        // The second event is not dispatched (no blank line yet): its id is not the position.
        #expect(client.lastEventIDHeader == "2:bench-r-0")
        feed(client, "\n: heartbeat\n\n")
        #expect(client.lastEventIDHeader == "2:bench-r-1")
        #expect(client.received.count == 2)
    }

    @Test func aClientCountsDuplicatesResetsAndErrorsButNotTheirData() {
        let client = StormClient(index: 0)
        feed(client, "id: a\ndata: {\"seq\":4}\n\nid: b\ndata: {\"seq\":4}\n\n")
        feed(client, "id: c\nevent: reset\ndata: {\"reason\":\"history_gap\"}\n\n")
        feed(client, "event: error\ndata: {\"code\":\"shutting_down\",\"seq\":9}\n\n")
        #expect(client.duplicates == 1)
        #expect(client.resets == 1)
        #expect(client.errorFrames == 1)
        #expect(!client.received.contains(9))
        #expect(client.lastEventIDHeader == "c")
    }

    @Test func theTallyCountsLossesOnlyOnStreamsThatCameBack() {
        var accepted = SequenceSet()
        for sequence in 0..<5 { accepted.insert(sequence) }
        let back = StormClient(index: 0)
        feed(back, "data: {\"seq\":0}\n\ndata: {\"seq\":1}\n\ndata: {\"seq\":3}\n\n")
        back.reconnectSentAt = 1_000
        back.admittedAt = 1_500
        back.reopenedAt = 3_000
        let refused = StormClient(index: 1)
        refused.reconnectSentAt = 1_000
        refused.reconnectStatus = 503
        refused.reconnectFailed = true
        let tally = StormTally([back, refused], accepted: accepted)
        #expect(tally.lost == 2)
        #expect(tally.reopened == 1)
        #expect(tally.failures == [503: 1])
        #expect(tally.latency.count == 1)
        #expect(tally.admissions == [1_500])

        var report = StormReport()
        report.record(tally, stormStart: 500)
        #expect(report.lost == 2)
        #expect(report.reconnected == 1)
        #expect(report.reconnectFailures == ["503": 1])
        #expect(abs(report.allStreamingSeconds - 2.5e-6) < 1e-12)
        #expect(report.jsonLine().contains(#""lost":2"#))
    }
}
