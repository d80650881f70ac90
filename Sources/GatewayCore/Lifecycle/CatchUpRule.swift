/// Whether a new replica has received the broker's backlog (design section 6): the pure
/// rule behind `GET /readyz`, fed with what the gateway observes.
///
/// A new pod is a new consumer group: daprd first fetches `GET /dapr/subscribe`, then the
/// broker replays what its streams retain, oldest first, topic by topic in parallel. The
/// gateway cannot ask the broker how far behind it is, so a topic counts as caught up once
/// either
/// - a delivery on it carries a CloudEvent `time` at most `currentEventAge` before now (the
///   backlog is oldest first, so what follows is newer still), or
/// - no delivery on it came for `quietPeriod` (after the subscription, or after its last
///   delivery): a backlog arrives back to back, so a pause means it is over, or was empty.
///
/// The replica is caught up when every topic is. `timeout` after the start it counts as
/// ready anyway (a broker clock far behind, events without `time`, a backlog larger than
/// the wait, or no sidecar at all), and the caller warns.
package struct CatchUpRule: Sendable {
    /// What the rule says at one instant.
    package enum Verdict: Sendable, Equatable {
        /// daprd has not fetched the subscriptions (and no delivery came).
        case notSubscribed
        /// Subscribed; these topic indexes may still be receiving their backlog.
        case catchingUp(behind: [Int])
        /// Every topic is caught up.
        case caughtUp
        /// The timeout passed first; `behind` as in `catchingUp`, or `nil` when still not subscribed.
        case timedOut(behind: [Int]?)
    }

    private let settings: ReadinessSettings
    private let startedAt: ContinuousClock.Instant
    private var subscribedAt: ContinuousClock.Instant?
    private var lastDelivery: [ContinuousClock.Instant?]
    private var current: [Bool]

    /// A rule for `topicCount` topics, for a process started at `startedAt`.
    package init(topicCount: Int, settings: ReadinessSettings, startedAt: ContinuousClock.Instant) {
        self.settings = settings
        self.startedAt = startedAt
        self.lastDelivery = Array(repeating: nil, count: topicCount)
        self.current = Array(repeating: false, count: topicCount)
    }

    /// Whether daprd fetched the subscriptions or delivered something.
    package var isSubscribed: Bool { subscribedAt != nil }

    /// daprd fetched `GET /dapr/subscribe` at `now` (only the first time counts).
    package mutating func subscriptionServed(at now: ContinuousClock.Instant) {
        if subscribedAt == nil { subscribedAt = now }
    }

    /// A delivery on the topic at `topicIndex` arrived at `now`; `eventTime` is its
    /// CloudEvent `time` and `wallClock` the time now, both in seconds since 1970.
    ///
    /// A delivery proves a subscription: daprd asks `GET /dapr/subscribe` once per sidecar
    /// start, so a gateway container restarted in a running pod is never asked again.
    package mutating func delivered(
        topicIndex: Int,
        eventTime: Double?,
        wallClock: Double,
        at now: ContinuousClock.Instant
    ) {
        guard lastDelivery.indices.contains(topicIndex) else { return }
        subscriptionServed(at: now)
        lastDelivery[topicIndex] = now
        let maximumAge =
            Double(settings.currentEventAge.components.seconds)
            + Double(settings.currentEventAge.components.attoseconds) / 1e18
        if let eventTime, eventTime >= wallClock - maximumAge { current[topicIndex] = true }
    }

    /// The verdict at `now`.
    package func verdict(at now: ContinuousClock.Instant) -> Verdict {
        let timedOut = now - startedAt >= settings.timeout
        guard let subscribedAt else { return timedOut ? .timedOut(behind: nil) : .notSubscribed }
        let behind = current.indices.filter { index in
            !current[index] && now - max(subscribedAt, lastDelivery[index] ?? subscribedAt) < settings.quietPeriod
        }
        if behind.isEmpty { return .caughtUp }
        return timedOut ? .timedOut(behind: behind) : .catchingUp(behind: behind)
    }
}
