import GatewayCore
import Testing

/// When a new pod counts as caught up with the broker's backlog (`GET /readyz`).
@Suite struct CatchUpRuleTests {
    private let start = ContinuousClock.now
    /// Wall-clock "now" in seconds since 1970 for the deliveries below.
    private let wall = 1_800_000_000.0

    private func rule(topics: Int = 2) -> CatchUpRule {
        var settings = ReadinessSettings()
        settings.quietPeriod = .seconds(3)
        settings.currentEventAge = .seconds(5)
        settings.timeout = .seconds(60)
        return CatchUpRule(topicCount: topics, settings: settings, startedAt: start)
    }

    private func at(_ seconds: Double) -> ContinuousClock.Instant {
        start + .milliseconds(Int64(seconds * 1000))
    }

    @Test func nothingIsReadyBeforeDaprFetchesTheSubscriptions() {
        let rule = rule()
        #expect(rule.verdict(at: at(30)) == .notSubscribed)
        #expect(rule.verdict(at: at(60)) == .timedOut(behind: nil))
    }

    @Test func topicsWithoutBacklogAreCaughtUpAfterTheQuietPeriod() {
        var rule = rule()
        rule.subscriptionServed(at: at(1))
        #expect(rule.verdict(at: at(3.9)) == .catchingUp(behind: [0, 1]))
        #expect(rule.verdict(at: at(4)) == .caughtUp)
    }

    @Test func aBacklogKeepsItsTopicBehindUntilAnEventIsCurrent() {
        var rule = rule()
        rule.subscriptionServed(at: at(0))
        // Old events, back to back, for ten seconds: topic 0 is catching up all along.
        for tenth in 0..<100 {
            let now = at(Double(tenth) / 10)
            rule.delivered(topicIndex: 0, eventTime: wall - 3600 + Double(tenth), wallClock: wall, at: now)
        }
        #expect(rule.verdict(at: at(9.95)) == .catchingUp(behind: [0]))
        // An event of four seconds ago: the backlog is through (what follows is newer).
        rule.delivered(topicIndex: 0, eventTime: wall - 4, wallClock: wall, at: at(10))
        #expect(rule.verdict(at: at(10)) == .caughtUp)
    }

    @Test func aPauseInTheDeliveriesEndsTheBacklogWhenEventsCarryNoTime() {
        var rule = rule()
        rule.subscriptionServed(at: at(0))
        rule.delivered(topicIndex: 1, eventTime: nil, wallClock: wall, at: at(2))
        #expect(rule.verdict(at: at(4.9)) == .catchingUp(behind: [1]))
        #expect(rule.verdict(at: at(5)) == .caughtUp)
    }

    @Test func aDeliveryCountsAsTheSubscriptionForAGatewayRestartedBesideARunningSidecar() {
        // daprd asks GET /dapr/subscribe once per sidecar start, never again.
        var rule = rule()
        rule.delivered(topicIndex: 0, eventTime: wall, wallClock: wall, at: at(2))
        #expect(rule.isSubscribed)
        #expect(rule.verdict(at: at(4)) == .catchingUp(behind: [1]))
        #expect(rule.verdict(at: at(5)) == .caughtUp)
    }

    @Test func theTimeoutEndsAWaitThatWouldNotEnd() {
        var rule = rule()
        rule.subscriptionServed(at: at(0))
        // A publisher whose clock is an hour behind, delivering without pause.
        for second in 0...60 {
            rule.delivered(topicIndex: 0, eventTime: wall - 3600, wallClock: wall, at: at(Double(second)))
        }
        #expect(rule.verdict(at: at(59.5)) == .catchingUp(behind: [0]))
        #expect(rule.verdict(at: at(60)) == .timedOut(behind: [0]))
    }

    @Test func anUnknownTopicIndexIsIgnored() {
        var rule = rule(topics: 1)
        rule.delivered(topicIndex: 7, eventTime: wall, wallClock: wall, at: at(1))
        #expect(!rule.isSubscribed)
    }
}
