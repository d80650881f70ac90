/// The streams of one topic whose resume position names an event this replica has not
/// received yet (design section 6): they skip the topic's frames until that event passes
/// through `Hub.publish`, then receive what follows; at their deadline the hub resets them.
///
/// Lives in the hub's state, under the hub's lock. Bounded by the open streams: a hold
/// is removed when it is released, expires, or its stream ends.
struct ResumeHolds: Sendable {
    private struct Hold {
        let subscriber: Subscriber
        let eventID: String
        let deadline: ContinuousClock.Instant
    }

    private var bySubscriber: [UInt64: Hold] = [:]
    /// Subscriber ids per awaited event id, so a publish finds the holds it releases at
    /// once, whether or not the event matches the held streams' scopes.
    private var byEventID: [String: [UInt64]] = [:]

    /// Whether no stream is held on the topic (the publish fast path).
    var isEmpty: Bool { bySubscriber.isEmpty }

    /// Whether the subscriber is held on the topic.
    func isHolding(_ subscriberID: UInt64) -> Bool {
        bySubscriber[subscriberID] != nil
    }

    /// Holds `subscriber` until `eventID` is published or `deadline` passes.
    mutating func hold(_ subscriber: Subscriber, until eventID: String, deadline: ContinuousClock.Instant) {
        bySubscriber[subscriber.id] = Hold(subscriber: subscriber, eventID: eventID, deadline: deadline)
        byEventID[eventID, default: []].append(subscriber.id)
    }

    /// Ends the holds waiting for `eventID`: their streams receive the topic's next frames.
    /// Returns how many were released.
    @discardableResult
    mutating func release(after eventID: String) -> Int {
        guard let waiting = byEventID.removeValue(forKey: eventID) else { return 0 }
        for id in waiting { bySubscriber[id] = nil }
        return waiting.count
    }

    /// Forgets the subscriber's hold (its stream ended).
    mutating func remove(_ subscriberID: UInt64) {
        guard let hold = bySubscriber.removeValue(forKey: subscriberID) else { return }
        byEventID[hold.eventID]?.removeAll { $0 == subscriberID }
        if byEventID[hold.eventID]?.isEmpty == true { byEventID[hold.eventID] = nil }
    }

    /// Removes and returns the holds whose deadline passed at `now`.
    mutating func expire(now: ContinuousClock.Instant) -> [Subscriber] {
        let expired = bySubscriber.values.filter { $0.deadline <= now }
        for hold in expired { remove(hold.subscriber.id) }
        return expired.map(\.subscriber)
    }
}
