import GatewayCore
import Testing

@Suite struct ReplayLogTests {
    private func frame(_ id: String, at instant: ContinuousClock.Instant = .now) -> EventFrame {
        let rule = TopicRule.learningPlatformDefaults()[0]
        let event = CloudEvent(id: id, source: "s", type: "t", data: .object([:]))
        return EventFrame(event: event, topicIndex: 0, facts: EventFacts(event: event, rule: rule), receivedAt: instant)
    }

    private func ids(_ lookup: ReplayLog.Lookup) -> [String]? {
        if case .frames(let frames) = lookup { return frames.map(\.eventID) }
        return nil
    }

    @Test func returnsTheEventsAfterAPosition() {
        var log = ReplayLog(maximumEvents: 10, maximumBytes: 1 << 20, maximumAge: .seconds(60))
        for id in ["a", "b", "c"] { log.append(frame(id)) }
        #expect(ids(log.frames(after: "a")) == ["b", "c"])
        #expect(ids(log.frames(after: "c")) == [])
        #expect(ids(log.frames(after: "")) == ["a", "b", "c"])
        #expect(ids(log.frames(after: "zzz")) == nil)
    }

    @Test func isBoundedByCountBytesAndAge() {
        var byCount = ReplayLog(maximumEvents: 2, maximumBytes: 1 << 20, maximumAge: .seconds(60))
        for id in ["a", "b", "c"] { byCount.append(frame(id)) }
        #expect(byCount.count == 2)
        #expect(ids(byCount.frames(after: "a")) == nil)
        #expect(ids(byCount.frames(after: "b")) == ["c"])
        #expect(ids(byCount.frames(after: "")) == nil)

        let one = frame("x").body.readableBytes
        var byBytes = ReplayLog(maximumEvents: 100, maximumBytes: one * 2, maximumAge: .seconds(60))
        for id in ["a", "b", "c", "d"] { byBytes.append(frame(id)) }
        #expect(byBytes.count == 2)

        let start = ContinuousClock.now
        var byAge = ReplayLog(maximumEvents: 100, maximumBytes: 1 << 20, maximumAge: .seconds(10))
        byAge.append(frame("old", at: start))
        byAge.append(frame("new", at: start + .seconds(8)))
        byAge.trim(now: start + .seconds(12))
        #expect(ids(byAge.frames(after: "old")) == nil)
        #expect(byAge.count == 1)
        #expect(byAge.lastEventID == "new")
    }
}
