import Foundation
import Logging
import NIOConcurrencyHelpers
import Synchronization

/// What `GET /readyz` answers (design section 6): a new pod is ready only once daprd
/// fetched the subscriptions and the broker's backlog arrived (`CatchUpRule`); it stays
/// ready until it drains. Liveness (`/healthz`) never depends on it.
///
/// Ingest reports every delivery here; once ready, that costs one atomic load.
package final class Readiness: Sendable {
    /// Why the pod is or is not ready; the raw value is the `code` of the 503 answer.
    package enum State: String, Sendable, CaseIterable {
        /// daprd has not fetched `GET /dapr/subscribe` yet (and nothing was delivered).
        case notSubscribed = "not_subscribed"
        /// The broker may still be replaying its retained history to this new consumer group.
        case catchingUp = "catching_up"
        /// Caught up (or the wait for it ran out): takes streams.
        case ready
        /// SIGTERM: the pod leaves the Service while its streams end.
        case draining
    }

    private let topics: [String]
    private let startedAt: ContinuousClock.Instant
    private let logger: Logger
    private let metrics: GatewayMetrics?
    private let isReady = Atomic<Bool>(false)
    private let progress: NIOLockedValueBox<Progress>

    private struct Progress {
        var rule: CatchUpRule
        /// Seconds from the start to readiness, once ready.
        var readyAfter: Double?
    }

    /// Starts waiting for the subscription and the backlog of `topics` (hub order).
    package init(
        topics: [String],
        settings: ReadinessSettings,
        logger: Logger,
        metrics: GatewayMetrics? = nil,
        startedAt: ContinuousClock.Instant = .now
    ) {
        self.topics = topics
        self.startedAt = startedAt
        self.logger = logger
        self.metrics = metrics
        self.progress = NIOLockedValueBox(
            Progress(rule: CatchUpRule(topicCount: topics.count, settings: settings, startedAt: startedAt))
        )
    }

    /// daprd fetched `GET /dapr/subscribe`.
    package func subscriptionServed(at now: ContinuousClock.Instant = .now) {
        progress.withLockedValue { $0.rule.subscriptionServed(at: now) }
        // Once per sidecar start; a second line means daprd restarted beside this process.
        logger.info("dapr fetched the subscriptions")
    }

    /// A Dapr delivery of the topic at `topicIndex` arrived; `time` is its CloudEvent `time`.
    package func delivered(topicIndex: Int, time: String?, at now: ContinuousClock.Instant = .now) {
        guard !isReady.load(ordering: .relaxed) else { return }
        let eventTime = time.flatMap(Self.secondsSince1970)
        let wallClock = Date().timeIntervalSince1970
        progress.withLockedValue { progress in
            progress.rule.delivered(topicIndex: topicIndex, eventTime: eventTime, wallClock: wallClock, at: now)
        }
    }

    /// The state now; `draining` is the hub's. Becoming ready is logged once, here; the
    /// readiness gauges follow every answer.
    package func state(draining: Bool, at now: ContinuousClock.Instant = .now) -> State {
        let state = evaluate(draining: draining, at: now)
        metrics?.recordReadiness(state, readyAfterSeconds: readyAfterSeconds)
        return state
    }

    private func evaluate(draining: Bool, at now: ContinuousClock.Instant) -> State {
        if draining { return .draining }
        if isReady.load(ordering: .relaxed) { return .ready }
        let (verdict, becameReady) = progress.withLockedValue { progress -> (CatchUpRule.Verdict, Bool) in
            let verdict = progress.rule.verdict(at: now)
            guard progress.readyAfter == nil else { return (verdict, false) }
            switch verdict {
            case .notSubscribed, .catchingUp: return (verdict, false)
            case .caughtUp, .timedOut:
                progress.readyAfter = Self.seconds(now - startedAt)
                isReady.store(true, ordering: .relaxed)
                return (verdict, true)
            }
        }
        if becameReady { log(verdict, at: now) }
        switch verdict {
        case .notSubscribed: return .notSubscribed
        case .catchingUp: return .catchingUp
        case .caughtUp, .timedOut: return .ready
        }
    }

    /// Seconds from the start to readiness; `nil` until ready.
    package var readyAfterSeconds: Double? { progress.withLockedValue { $0.readyAfter } }

    private func log(_ verdict: CatchUpRule.Verdict, at now: ContinuousClock.Instant) {
        let seconds = String(format: "%.1f", Self.seconds(now - startedAt))
        switch verdict {
        case .caughtUp:
            logger.notice("ready", metadata: ["readiness.seconds": "\(seconds)"])
        case .timedOut(let behind):
            let names = behind.map { $0.map { topics[$0] }.joined(separator: ",") }
            logger.warning(
                "ready before catching up",
                metadata: [
                    "readiness.seconds": "\(seconds)",
                    "readiness.state": "\(behind == nil ? State.notSubscribed.rawValue : State.catchingUp.rawValue)",
                    "readiness.topics_behind": "\(names ?? "")",
                ]
            )
        case .notSubscribed, .catchingUp:
            break
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// An RFC 3339 timestamp (CloudEvent `time`, with or without fractional seconds) in
    /// seconds since 1970; `nil` when it is not one.
    static func secondsSince1970(_ text: String) -> Double? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date.timeIntervalSince1970 }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return (try? Date(text, strategy: fractional))?.timeIntervalSince1970
    }
}
