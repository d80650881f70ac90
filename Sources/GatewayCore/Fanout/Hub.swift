import NIOConcurrencyHelpers

/// The fan-out hub: accepts events, keeps the replay logs, and hands each event's shared
/// frame to the subscribers that may see it.
///
/// One lock guards the index, the logs and the duplicate windows; it is held only to
/// update them and copy out candidates. Frames are handed over after it is released,
/// and handing over never waits on a subscriber.
package final class Hub: Sendable {
    /// The topics the hub carries, in the order resume tokens refer to.
    package let topics: [TopicRule]
    private let configuration: Configuration
    private let state: NIOLockedValueBox<State>

    /// The bounds the hub works within.
    package struct Configuration: Sendable {
        /// Frames a subscriber may have queued.
        package var subscriberCapacity = 1024
        /// Replay log bounds, per topic.
        package var replay = ReplaySettings()
        /// Bytes of frames kept per topic.
        package var replayBytesPerTopic = 64 * 1024 * 1024
        /// CloudEvent ids remembered per topic.
        package var deduplicationWindow = 100_000
        /// Connection limits.
        package var limits = ConnectionLimits()
        /// How long a resume naming an event this replica has not received yet waits for
        /// it before it is reset; zero resets at once.
        package var resumeHold: Duration = .seconds(10)

        /// The defaults.
        package init() {}
    }

    private struct State {
        var logs: [ReplayLog]
        var recentIDs: [RecentEventIDs]
        var indexes: [TopicIndex]
        var holds: [ResumeHolds]
        var subscribers: [UInt64: Subscriber] = [:]
        var streamsPerUser: [String: Int] = [:]
        var nextSubscriberID: UInt64 = 1
        var draining = false
        var emptyWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID: UInt64 = 1
    }

    /// Creates a hub for `topics`.
    package init(topics: [TopicRule], configuration: Configuration = Configuration()) {
        self.topics = topics
        self.configuration = configuration
        let log = ReplayLog(
            maximumEvents: configuration.replay.eventsPerTopic,
            maximumBytes: configuration.replayBytesPerTopic,
            maximumAge: configuration.replay.maximumAge
        )
        self.state = NIOLockedValueBox(
            State(
                logs: Array(repeating: log, count: topics.count),
                recentIDs: Array(
                    repeating: RecentEventIDs(capacity: configuration.deduplicationWindow),
                    count: topics.count
                ),
                indexes: Array(repeating: TopicIndex(), count: topics.count),
                holds: Array(repeating: ResumeHolds(), count: topics.count)
            )
        )
    }

    /// The index of a carried topic.
    package func topicIndex(of topic: String) -> Int? {
        topics.firstIndex { $0.topic == topic }
    }

    // MARK: Ingest

    /// Accepts one event on the topic at `topicIndex` and delivers it.
    package func publish(
        _ event: CloudEvent,
        topicIndex: Int,
        receivedAt: ContinuousClock.Instant = .now
    ) -> PublishOutcome {
        guard topicIndex >= 0, topicIndex < topics.count else { return .unknownTopic }
        let facts = EventFacts(event: event, rule: topics[topicIndex])
        let frame = EventFrame(event: event, topicIndex: topicIndex, facts: facts, receivedAt: receivedAt)
        return publish(frame)
    }

    /// Accepts one encoded frame and delivers it.
    package func publish(_ frame: EventFrame) -> PublishOutcome {
        enum Admission {
            case draining, duplicate
            case accepted(candidates: Int, recipients: Int, evicted: [Subscriber], woken: [Subscriber])
        }
        let admission = state.withLockedValue { state -> Admission in
            guard !state.draining else { return .draining }
            guard state.recentIDs[frame.topicIndex].insert(frame.eventID) else { return .duplicate }
            state.logs[frame.topicIndex].append(frame)
            // Queued while the lock that ordered the replay log is still held, so every
            // stream receives a topic's frames in log order even when Dapr delivers
            // several events of the topic at once. A stream that got B before A would
            // resume after A and skip B, or repeat it. Queueing never waits (an append
            // under the subscriber's own lock); waking the streams' event loops and the
            // eviction callbacks run after the lock is released.
            let candidates = state.indexes[frame.topicIndex].candidates(for: frame.facts)
            // Streams held on this topic skip its frames up to and including the event
            // their position names (they already have it), then take what follows.
            let holding = !state.holds[frame.topicIndex].isEmpty
            var recipients = 0
            var evicted: [Subscriber] = []
            var woken: [Subscriber] = []
            for subscriber in candidates where subscriber.matches(frame) {
                if holding, state.holds[frame.topicIndex].isHolding(subscriber.id) { continue }
                switch subscriber.offer(frame) {
                case .queued(let wake):
                    recipients += 1
                    if wake { woken.append(subscriber) }
                case .evicted: evicted.append(subscriber)
                case .closed: break
                }
            }
            if holding { state.holds[frame.topicIndex].release(after: frame.eventID) }
            return .accepted(candidates: candidates.count, recipients: recipients, evicted: evicted, woken: woken)
        }
        switch admission {
        case .draining: return .draining
        case .duplicate: return .duplicate
        case .accepted(let candidates, let recipients, let evicted, let woken):
            for subscriber in woken { subscriber.wakeConsumer() }
            for subscriber in evicted { subscriber.reportEviction() }
            return .accepted(candidates: candidates, recipients: recipients)
        }
    }

    // MARK: Streams

    /// Whether a stream for `subject` would be admitted now (for answering with a status
    /// before the response starts; `withSubscription` checks again).
    package func admissionCheck(subject: String) throws(SubscriptionError) {
        let verdict = state.withLockedValue { state in
            Result { () throws(SubscriptionError) in
                try Self.admit(subject: subject, state: state, limits: configuration.limits)
            }
        }
        try verdict.get()
    }

    private static func admit(subject: String, state: State, limits: ConnectionLimits) throws(SubscriptionError) {
        if state.draining { throw .shuttingDown }
        if state.subscribers.count >= limits.totalStreams { throw .gatewayFull(limit: limits.totalStreams) }
        if state.streamsPerUser[subject, default: 0] >= limits.streamsPerUser {
            throw .tooManyStreams(limit: limits.streamsPerUser)
        }
    }

    /// Runs `body` with a registered subscription; the subscription is removed when `body` returns.
    ///
    /// The replay from `resumeFrom` and the registration for live frames happen under one
    /// lock, so the switch from replay to live has no gap and no duplicate.
    package func withSubscription<Result: Sendable>(
        scope: StreamScope,
        resumeFrom token: ResumeRequest,
        onEviction: @escaping @Sendable () -> Void = {},
        _ body: (Subscription) async throws -> Result
    ) async throws -> Result {
        let subscription = try subscribe(scope: scope, resumeFrom: token, onEviction: onEviction)
        defer { unsubscribe(subscription.subscriber) }
        return try await body(subscription)
    }

    /// Registers a subscription whose consumer is told through `wake` (see `Subscriber`);
    /// the caller must `unsubscribe` it exactly once.
    ///
    /// For a stream served by a channel handler, whose lifetime in the pipeline is the
    /// subscription's scope (NIO removes every handler once, whatever ends the channel).
    /// Everything else uses `withSubscription`. Replay and registration are atomic, as there.
    package func subscribe(
        scope: StreamScope,
        resumeFrom request: ResumeRequest,
        onEviction: @escaping @Sendable () -> Void = {},
        wake: (@Sendable () -> Void)? = nil
    ) throws(SubscriptionError) -> Subscription {
        let registration = state.withLockedValue { state -> Result<Subscription, SubscriptionError> in
            do throws(SubscriptionError) {
                try Self.admit(subject: scope.principal.subject, state: state, limits: configuration.limits)
            } catch {
                return .failure(error)
            }
            let subscriber = Subscriber(
                id: state.nextSubscriberID,
                scope: scope,
                topicCount: topics.count,
                capacity: configuration.subscriberCapacity,
                onEviction: onEviction,
                wake: wake
            )
            state.nextSubscriberID += 1
            var replay: [EventFrame] = []
            var positions: [Int: String] = [:]
            var gap = false
            // Topics whose position names an event the log never held although it never
            // dropped one: this replica is behind (a new pod receiving its backlog).
            var ahead: [(topicIndex: Int, eventID: String)] = []
            let holding = configuration.resumeHold > .zero
            let token: ResumeToken?
            switch request {
            case .none: token = nil
            case .malformed:
                token = nil
                gap = true
            case .token(let parsed): token = parsed
            }
            for access in scope.topics {
                let log = state.logs[access.topicIndex]
                let head = log.lastEventID ?? ""
                positions[access.topicIndex] = head
                guard let token, let position = token.positions[access.topicIndex] else { continue }
                switch log.frames(after: position) {
                case .gap: gap = true
                case .notYetReceived:
                    if holding { ahead.append((access.topicIndex, position)) } else { gap = true }
                case .frames(let frames): replay.append(contentsOf: frames.filter(subscriber.matches))
                }
            }
            if gap {
                replay.removeAll()
                ahead.removeAll()
            }
            // The replay of several topics is ordered by arrival here; per-topic order holds.
            if scope.topics.count > 1 { replay.sort { $0.receivedAt < $1.receivedAt } }
            for access in scope.topics {
                state.indexes[access.topicIndex].insert(subscriber, at: access.placement)
            }
            let holdDeadline = ahead.isEmpty ? nil : ContinuousClock.now + configuration.resumeHold
            for (topicIndex, eventID) in ahead {
                state.holds[topicIndex].hold(subscriber, until: eventID, deadline: holdDeadline ?? .now)
            }
            state.subscribers[subscriber.id] = subscriber
            state.streamsPerUser[scope.principal.subject, default: 0] += 1
            let start: ResumeToken
            if gap || token == nil {
                start = ResumeToken(positions: positions)
            } else {
                // Topics the old token did not carry start at the head.
                var merged = positions
                for (index, position) in token?.positions ?? [:] where merged[index] != nil { merged[index] = position }
                start = ResumeToken(positions: merged)
            }
            return .success(
                Subscription(
                    subscriber: subscriber,
                    replay: replay,
                    historyGap: gap,
                    start: start,
                    heldTopics: ahead.map(\.topicIndex),
                    holdDeadline: holdDeadline
                )
            )
        }
        return try registration.get()
    }

    /// Removes a subscription made by `subscribe` (a second call does nothing).
    package func unsubscribe(_ subscriber: Subscriber) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard state.subscribers.removeValue(forKey: subscriber.id) != nil else { return [] }
            for access in subscriber.scope.topics {
                state.indexes[access.topicIndex].remove(subscriber.id, at: access.placement)
                state.holds[access.topicIndex].remove(subscriber.id)
            }
            let subject = subscriber.scope.principal.subject
            let remaining = state.streamsPerUser[subject, default: 1] - 1
            state.streamsPerUser[subject] = remaining > 0 ? remaining : nil
            guard state.subscribers.isEmpty else { return [] }
            defer { state.emptyWaiters.removeAll() }
            return state.emptyWaiters.values.copiedToArray
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Time and lifecycle

    /// Open streams.
    package var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    /// Events kept in the replay log of a topic.
    package func replayCount(topicIndex: Int) -> Int { state.withLockedValue { $0.logs[topicIndex].count } }

    /// Whether the hub stopped taking streams and events.
    package var isDraining: Bool { state.withLockedValue { $0.draining } }

    /// Queues a heartbeat for every stream that had nothing queued since the last call.
    package func heartbeat() {
        for subscriber in allSubscribers() { subscriber.heartbeatIfIdle() }
    }

    /// Ends streams whose token expired, resets held resumes whose wait is over, and trims
    /// the replay logs by age.
    package func expire(now: Double, monotonicNow: ContinuousClock.Instant = .now) {
        let (subscribers, woken) = state.withLockedValue { state -> ([Subscriber], [Subscriber]) in
            var woken: [Subscriber] = []
            for index in state.holds.indices where !state.holds[index].isEmpty {
                // Under the lock that orders the topic's frames: the stream's next frame of
                // the topic is the first after the head named here.
                let reset = PositionReset(
                    topicIndex: index,
                    topic: topics[index].topic,
                    eventID: state.logs[index].lastEventID ?? ""
                )
                for subscriber in state.holds[index].expire(now: monotonicNow) {
                    if subscriber.offer(reset) { woken.append(subscriber) }
                }
            }
            for index in state.logs.indices { state.logs[index].trim(now: monotonicNow) }
            return (state.subscribers.values.filter { $0.expiresAt <= now }, woken)
        }
        for subscriber in woken { subscriber.wakeConsumer() }
        for subscriber in subscribers { subscriber.close(.tokenExpired) }
    }

    /// Refuses new streams and events from now on and ends every open stream with `shutting_down`.
    package func beginDrain() {
        let subscribers = state.withLockedValue { state -> [Subscriber] in
            state.draining = true
            return state.subscribers.values.copiedToArray
        }
        for subscriber in subscribers { subscriber.close(.shuttingDown) }
    }

    /// Returns once no stream is open (or the calling task is cancelled).
    package func waitUntilEmpty() async {
        let waiterID = state.withLockedValue { state -> UInt64 in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    if state.subscribers.isEmpty || Task.isCancelled { return true }
                    state.emptyWaiters[waiterID] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.emptyWaiters.removeValue(forKey: waiterID) }
            waiter?.resume()
        }
    }

    /// Waits until no stream is open; `false` when `timeout` passed first.
    package func waitUntilEmpty(timeout: Duration) async -> Bool {
        let emptied = await withTimeout(timeout) {
            await self.waitUntilEmpty()
            return !Task.isCancelled
        }
        return emptied ?? false
    }

    private func allSubscribers() -> [Subscriber] {
        state.withLockedValue { $0.subscribers.values.copiedToArray }
    }
}

/// What became of a published event.
package enum PublishOutcome: Sendable, Equatable {
    /// Logged and handed to `recipients` of the `candidates` the index offered.
    case accepted(candidates: Int, recipients: Int)
    /// The id was seen recently on this topic; acknowledged, not delivered again.
    case duplicate
    /// The hub is draining; Dapr should retry (on another pod).
    case draining
    /// The hub does not carry the topic.
    case unknownTopic
}

/// Where a stream asks to resume.
package enum ResumeRequest: Sendable, Equatable {
    /// A fresh stream.
    case none
    /// A `Last-Event-ID` this gateway cannot read.
    case malformed
    /// A valid token.
    case token(ResumeToken)

    /// Parses an optional untrusted `Last-Event-ID`.
    package init(lastEventID: String?) {
        guard let lastEventID, !lastEventID.isEmpty else {
            self = .none
            return
        }
        self = ResumeToken(parsing: lastEventID).map(ResumeRequest.token) ?? .malformed
    }
}

/// A registered stream: its subscriber and what to write before live frames.
package struct Subscription: Sendable {
    /// The subscriber receiving live frames.
    package let subscriber: Subscriber
    /// Missed events to write first, oldest first, already checked against the scope.
    package let replay: [EventFrame]
    /// Whether the log no longer covered the resume position (write `event: reset`).
    package let historyGap: Bool
    /// The stream's position before the first frame it writes.
    package let start: ResumeToken
    /// Topics whose position names an event this replica has not received yet: the stream
    /// gets their frames from the one after that event on, or a `PositionReset` at
    /// `holdDeadline` (design section 6).
    package var heldTopics: [Int] = []
    /// When the held topics are reset if their events have not arrived.
    package var holdDeadline: ContinuousClock.Instant?
}

/// Why a stream is not admitted.
package enum SubscriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The gateway is draining (503).
    case shuttingDown
    /// The process holds its maximum of streams (503).
    case gatewayFull(limit: Int)
    /// The user holds their maximum of streams (429).
    case tooManyStreams(limit: Int)

    package var description: String {
        switch self {
        case .shuttingDown: "the gateway is shutting down; connect to another replica"
        case .gatewayFull(let limit): "the gateway holds its maximum of \(limit) streams"
        case .tooManyStreams(let limit): "this user already holds \(limit) streams"
        }
    }
}
