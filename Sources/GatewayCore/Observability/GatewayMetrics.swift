import Metrics
import Synchronization

/// Every metric the gateway exports (docs/observability.md lists them with their meaning).
///
/// The handles are created once, per topic and per reason, from an explicit factory rather
/// than the process-wide `MetricsSystem`, so each gateway (and each test) owns its own
/// registry and nothing global is mutated. Labels are topics and fixed reason codes only:
/// never a user id.
package final class GatewayMetrics: Sendable {
    /// How the gateway answered one Dapr delivery.
    package enum DaprReply: String, Sendable, CaseIterable {
        case success = "SUCCESS"
        case drop = "DROP"
        case retry = "RETRY"
        /// `SUCCESS` for an id already accepted: acknowledged, not delivered again.
        case duplicate
    }

    /// What a resume request found in the replay log.
    package enum ReplayOutcome: String, Sendable, CaseIterable {
        /// The log still held every requested position; what followed was replayed.
        case hit
        /// The `Last-Event-ID` was not a resume token of this gateway (answered with `reset`).
        case miss
        /// The log no longer reached back to a position (answered with `reset`).
        case gap
    }

    /// The stable metric names.
    package enum Name {
        package static let activeConnections = "sse_gateway_connections_active"
        package static let openedConnections = "sse_gateway_connections_opened_total"
        package static let closedConnections = "sse_gateway_connections_closed_total"
        package static let eventsReceived = "sse_gateway_events_received_total"
        package static let deliveries = "sse_gateway_deliveries_total"
        package static let replays = "sse_gateway_replay_requests_total"
        package static let authenticationFailures = "sse_gateway_auth_failures_total"
        package static let ingestToFlush = "sse_gateway_ingest_to_flush_seconds"
        package static let sinceLastDelivery = "sse_gateway_seconds_since_last_dapr_delivery"
    }

    private let factory: any MetricsFactory
    private let active: Meter
    private let opened: Counter
    private let closed: [CloseReason: Counter]
    private let received: [[DaprReply: Counter]]
    private let delivered: [Counter]
    private let latency: [Timer]
    private let replay: [ReplayOutcome: Counter]
    private let sinceLastDelivery: Gauge
    /// Nanoseconds from `origin` to the last Dapr delivery; the process start until the first.
    private let lastDelivery = Atomic<Int64>(0)
    private let origin = ContinuousClock.now

    /// Creates the handles for `topics` (in hub order) from `factory`.
    package init(topics: [String], factory: any MetricsFactory) {
        self.factory = factory
        active = Meter(label: Name.activeConnections, factory: factory)
        opened = Counter(label: Name.openedConnections, factory: factory)
        closed = Self.counters(Name.closedConnections, by: "reason", factory: factory)
        received = topics.map { topic in
            Self.counters(Name.eventsReceived, by: "reply", also: [("topic", topic)], factory: factory)
        }
        delivered = topics.map { Counter(label: Name.deliveries, dimensions: [("topic", $0)], factory: factory) }
        latency = topics.map { Timer(label: Name.ingestToFlush, dimensions: [("topic", $0)], factory: factory) }
        replay = Self.counters(Name.replays, by: "outcome", factory: factory)
        sinceLastDelivery = Gauge(label: Name.sinceLastDelivery, factory: factory)
    }

    /// One counter per case of `Key`, labelled `dimension` = the case's raw value.
    private static func counters<Key: CaseIterable & Hashable & RawRepresentable<String>>(
        _ label: String,
        by dimension: String,
        also fixed: [(String, String)] = [],
        factory: any MetricsFactory
    ) -> [Key: Counter] {
        var counters: [Key: Counter] = [:]
        for key in Key.allCases {
            counters[key] = Counter(label: label, dimensions: fixed + [(dimension, key.rawValue)], factory: factory)
        }
        return counters
    }

    /// Metrics that go nowhere (tests and tools that do not scrape).
    package static func discarding(topics: [String]) -> GatewayMetrics {
        GatewayMetrics(topics: topics, factory: NOOPMetricsHandler.instance)
    }

    // MARK: Connections

    /// An authenticated stream request reached admission.
    package func streamOpened() {
        opened.increment()
        active.increment()
    }

    /// A stream counted by `streamOpened()` ended (or was refused at admission: `limit`, `shutting_down`).
    package func streamClosed(_ reason: CloseReason) {
        closed[reason]?.increment()
        active.decrement()
    }

    /// An authenticated stream request refused at admission: counted as opened and closed at once,
    /// so `opened - closed` stays the number of open streams.
    package func streamRefused(_ error: SubscriptionError) {
        opened.increment()
        closed[error == .shuttingDown ? .shuttingDown : .limit]?.increment()
    }

    // MARK: Ingest

    /// One Dapr delivery (one bulk entry counts as one) for the topic at `topicIndex`.
    package func received(topicIndex: Int, reply: DaprReply) {
        guard received.indices.contains(topicIndex) else { return }
        received[topicIndex][reply]?.increment()
        let elapsed = ContinuousClock.now - origin
        lastDelivery.store(Self.nanoseconds(elapsed), ordering: .relaxed)
    }

    /// Refreshes the time-since-last-delivery gauge; called right before each scrape.
    package func refreshSinceLastDelivery() {
        let now = Self.nanoseconds(ContinuousClock.now - origin)
        let last = lastDelivery.load(ordering: .relaxed)
        sinceLastDelivery.record(Double(now - last) / 1e9)
    }

    // MARK: Delivery

    /// `count` frames of the topic at `topicIndex` were written to a stream.
    package func delivered(topicIndex: Int, count: Int = 1) {
        guard delivered.indices.contains(topicIndex) else { return }
        delivered[topicIndex].increment(by: Int64(count))
    }

    /// `frames` were written to a stream in one write: one increment per run of a topic,
    /// not one per frame, since a broadcast counts 10,000 of these per event.
    package func delivered(_ frames: some Collection<EventFrame>) {
        var topicIndex = -1
        var count = 0
        for frame in frames {
            if frame.topicIndex != topicIndex {
                if count > 0 { delivered(topicIndex: topicIndex, count: count) }
                topicIndex = frame.topicIndex
                count = 0
            }
            count += 1
        }
        if count > 0 { delivered(topicIndex: topicIndex, count: count) }
    }

    /// Live `frames` were written to a stream's socket at `flushedAt`.
    package func flushed(_ frames: some Collection<EventFrame>, at flushedAt: ContinuousClock.Instant) {
        for frame in frames {
            flushed(topicIndex: frame.topicIndex, receivedAt: frame.receivedAt, flushedAt: flushedAt)
        }
    }

    /// A live frame accepted at `receivedAt` was written to a stream's socket at `flushedAt`.
    package func flushed(topicIndex: Int, receivedAt: ContinuousClock.Instant, flushedAt: ContinuousClock.Instant) {
        guard latency.indices.contains(topicIndex) else { return }
        latency[topicIndex].recordNanoseconds(Self.nanoseconds(flushedAt - receivedAt))
    }

    /// A stream or poll subscribed with `request`; `historyGap` says whether it got `reset`.
    package func resumed(_ request: ResumeRequest, historyGap: Bool) {
        switch request {
        case .none: return
        case .malformed: replay[.miss]?.increment()
        case .token: replay[historyGap ? .gap : .hit]?.increment()
        }
    }

    // MARK: Authentication

    /// A request whose token or scope was refused; `reason` is a fixed error code.
    package func authenticationFailed(reason: String) {
        // The registry caches handles by name and labels, and the codes are a fixed set,
        // so creating the handle here stays bounded.
        Counter(label: Name.authenticationFailures, dimensions: [("reason", reason)], factory: factory).increment()
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
