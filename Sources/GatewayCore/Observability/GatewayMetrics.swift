import Foundation
import Metrics

/// Every metric the gateway exports (docs/observability.md lists them with their meaning).
///
/// The handles are created once, per topic and per reason, from an explicit factory rather
/// than the process-wide `MetricsSystem`, so each gateway (and each test) owns its own
/// registry and nothing global is mutated. Labels are topics and fixed reason codes only:
/// never a user id.
package final class GatewayMetrics: Sendable {
    /// How the gateway answered one Dapr delivery; the raw value is the `reply` label.
    package enum DaprReply: String, Sendable, CaseIterable {
        case success
        case drop
        case retry
        /// `SUCCESS` for an id already accepted: acknowledged, not delivered again.
        case duplicate

        /// The `status` daprd reads in the answer (dapr-contract.md "The answer").
        package var daprStatus: String {
            switch self {
            case .success, .duplicate: "SUCCESS"
            case .drop: "DROP"
            case .retry: "RETRY"
            }
        }
    }

    /// What a resume request found in the replay log.
    package enum ReplayOutcome: String, Sendable, CaseIterable {
        /// The log still held every requested position; what followed was replayed.
        case hit
        /// The `Last-Event-ID` was not a resume token of this gateway (answered with `reset`).
        case miss
        /// The log no longer reached back to a position (answered with `reset`).
        case gap
        /// A position named an event this replica had not received yet: the stream or poll
        /// waited for it (see `resumeHoldsExpired` for the waits that ended in `reset`).
        case held
    }

    /// Which connection deadline ended a connection.
    package enum ConnectionTimeout: String, Sendable, CaseIterable {
        /// No request began within the idle timeout (before the first or between keep-alive requests).
        case idle
        /// A request's head did not arrive whole within the header timeout.
        case header
        /// A request's body did not arrive whole within the body timeout.
        case body
        /// An answer's buffered bytes made no progress within the write timeout.
        case write
    }

    /// The stable metric names (their `# HELP` texts are in `MetricHelp`).
    package enum Name {
        package static let buildInfo = "sse_gateway_build_info"
        package static let activeConnections = "sse_gateway_connections_active"
        package static let connectionLimit = "sse_gateway_connections_limit"
        package static let openedConnections = "sse_gateway_connections_opened_total"
        package static let closedConnections = "sse_gateway_connections_closed_total"
        package static let eventsReceived = "sse_gateway_events_received_total"
        package static let deliveries = "sse_gateway_deliveries_total"
        package static let replays = "sse_gateway_replay_requests_total"
        package static let authenticationFailures = "sse_gateway_auth_failures_total"
        package static let ingestToFlush = "sse_gateway_ingest_to_flush_seconds"
        package static let lastDelivery = "sse_gateway_last_dapr_delivery_timestamp_seconds"
        package static let resumeHoldsExpired = "sse_gateway_resume_holds_expired_total"
        package static let readiness = "sse_gateway_readiness"
        package static let catchUpSeconds = "sse_gateway_catch_up_seconds"
        package static let httpConnections = "sse_gateway_http_connections_active"
        package static let httpConnectionLimit = "sse_gateway_http_connections_limit"
        package static let httpConnectionLimitReached = "sse_gateway_http_connections_limit_reached_total"
        package static let httpConnectionTimeouts = "sse_gateway_http_connections_timed_out_total"
    }

    private let factory: any MetricsFactory
    private let active: Meter
    private let opened: Counter
    private let closed: [CloseReason: Counter]
    private let received: [[DaprReply: Counter]]
    private let delivered: [Counter]
    private let latency: [Timer]
    private let replay: [ReplayOutcome: Counter]
    private let lastDelivery: Gauge
    private let holdsExpired: Counter
    private let readiness: [Readiness.State: Gauge]
    private let catchUp: Gauge
    private let httpConnections: Meter
    private let httpConnectionLimit: Gauge
    private let httpConnectionLimitReached: Counter
    private let httpConnectionTimeouts: [ConnectionTimeout: Counter]

    /// Creates the handles for `topics` (in hub order) from `factory`; `connectionLimit` is
    /// `GATEWAY_MAX_CONNECTIONS`, exported so an alert can compare the open streams with it.
    package init(topics: [String], connectionLimit: Int, factory: any MetricsFactory) {
        self.factory = factory
        // The usual build_info idiom: the labels carry the facts, the value is always 1.
        let build = [("version", GatewayVersion.current), ("swift_version", GatewayVersion.swift)]
        Gauge(label: Name.buildInfo, dimensions: build, factory: factory).record(1)
        Gauge(label: Name.connectionLimit, factory: factory).record(connectionLimit)
        active = Meter(label: Name.activeConnections, factory: factory)
        opened = Counter(label: Name.openedConnections, factory: factory)
        closed = Self.counters(Name.closedConnections, by: "reason", factory: factory)
        received = topics.map { topic in
            Self.counters(Name.eventsReceived, by: "reply", also: [("topic", topic)], factory: factory)
        }
        delivered = topics.map { Counter(label: Name.deliveries, dimensions: [("topic", $0)], factory: factory) }
        latency = topics.map { Timer(label: Name.ingestToFlush, dimensions: [("topic", $0)], factory: factory) }
        replay = Self.counters(Name.replays, by: "outcome", factory: factory)
        lastDelivery = Gauge(label: Name.lastDelivery, factory: factory)
        // Until the first delivery, the start: "time() - this" then reads "nothing since start"
        // instead of 56 years, so a quiet pod that just started does not alert.
        lastDelivery.record(Date().timeIntervalSince1970)
        holdsExpired = Counter(label: Name.resumeHoldsExpired, factory: factory)
        var readiness: [Readiness.State: Gauge] = [:]
        for state in Readiness.State.allCases {
            readiness[state] = Gauge(label: Name.readiness, dimensions: [("state", state.rawValue)], factory: factory)
        }
        self.readiness = readiness
        catchUp = Gauge(label: Name.catchUpSeconds, factory: factory)
        httpConnections = Meter(label: Name.httpConnections, factory: factory)
        httpConnectionLimit = Gauge(label: Name.httpConnectionLimit, factory: factory)
        httpConnectionLimitReached = Counter(label: Name.httpConnectionLimitReached, factory: factory)
        httpConnectionTimeouts = Self.counters(Name.httpConnectionTimeouts, by: "deadline", factory: factory)
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
        GatewayMetrics(topics: topics, connectionLimit: 0, factory: NOOPMetricsHandler.instance)
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

    // MARK: HTTP connections (every client connection, not only streams)

    /// The most client connections the process accepts at once (the descriptor limit less the reserve).
    package func httpConnectionLimit(_ limit: Int) {
        httpConnectionLimit.record(limit)
    }

    /// A client connection was accepted.
    package func httpConnectionOpened() {
        httpConnections.increment()
    }

    /// A client connection counted by `httpConnectionOpened()` closed.
    package func httpConnectionClosed() {
        httpConnections.decrement()
    }

    /// The connection cap was reached: new connections wait in the listen backlog.
    package func httpConnectionLimitWasReached() {
        httpConnectionLimitReached.increment()
    }

    /// A connection was closed because `deadline` passed.
    package func httpConnectionTimedOut(_ deadline: ConnectionTimeout) {
        httpConnectionTimeouts[deadline]?.increment()
    }

    // MARK: Ingest

    /// One Dapr delivery (one bulk entry counts as one) for the topic at `topicIndex`.
    package func received(topicIndex: Int, reply: DaprReply) {
        guard received.indices.contains(topicIndex) else { return }
        received[topicIndex][reply]?.increment()
        // Wall-clock time (one vDSO call and one atomic store): a Prometheus timestamp.
        lastDelivery.record(Date().timeIntervalSince1970)
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

    /// A stream or poll subscribed with `request`; `historyGap` says whether it got `reset`,
    /// `held` whether it waits for an event this replica has not received yet.
    package func resumed(_ request: ResumeRequest, historyGap: Bool, held: Bool = false) {
        switch request {
        case .none: return
        case .malformed: replay[.miss]?.increment()
        case .token: replay[historyGap ? .gap : held ? .held : .hit]?.increment()
        }
    }

    /// `count` held topics of a stream or poll were reset: their event did not arrive in time.
    package func resumeHoldsExpired(_ count: Int) {
        holdsExpired.increment(by: Int64(count))
    }

    // MARK: Readiness

    /// Sets the readiness gauges (1 for `state`, 0 for the others) and the seconds the
    /// pod needed to become ready (0 until it is); `Readiness` calls it whenever it answers
    /// (each probe, and the ticker once a second).
    package func recordReadiness(_ state: Readiness.State, readyAfterSeconds: Double?) {
        for (candidate, gauge) in readiness { gauge.record(candidate == state ? 1 : 0) }
        catchUp.record(readyAfterSeconds ?? 0)
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
