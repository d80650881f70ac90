import DequeModule
import NIOConcurrencyHelpers

/// One open stream as the hub sees it: its scope and a bounded queue of frames.
///
/// Publishers only ever append (never wait); the consumer takes whatever is queued in one
/// batch and writes it. A full queue evicts the subscriber: it is closed with
/// `slow_consumer` and resumes from the replay log when it reconnects.
///
/// Two kinds of consumer: a task that waits in `nextBatch()` (a long poll), or a stream's
/// channel handler that is told through `wake` and takes batches with `takeBatch` on its
/// event loop. `wake` is called at most once until the consumer takes a batch, so a burst
/// of frames costs one wake-up, not one per frame.
package final class Subscriber: Sendable {
    /// Unique within the process.
    package let id: UInt64
    /// What the stream may see.
    package let scope: StreamScope
    /// The position in `scope.topics` per topic index, for constant-time matching; -1
    /// where the stream has no access. Positions rather than copies of the accesses: an
    /// idle stream should hold as little as it can.
    private let slotByTopic: [Int32]
    /// When the stream's token expires, seconds since 1970.
    package let expiresAt: Double
    private let capacity: Int
    private let onEviction: @Sendable () -> Void
    private let wake: (@Sendable () -> Void)?
    private let state: NIOLockedValueBox<State>

    private struct State {
        var pending: Deque<EventFrame> = []
        /// Held topics whose wait ended without their event; written before `pending`.
        var resets: [PositionReset] = []
        var heartbeatDue = false
        var enqueuedSinceTick = false
        var closeReason: CloseReason?
        var closeTaken = false
        /// `wake` was called and the consumer has not taken a batch since.
        var wakeRequested = false
        // Unsafe rather than checked: the checked one allocates a guard object per wait,
        // once per frame per stream; resuming exactly once is kept by `waiter = nil`.
        var waiter: UnsafeContinuation<Void, Never>?

        var hasWork: Bool {
            !pending.isEmpty || !resets.isEmpty || heartbeatDue || (closeReason != nil && !closeTaken)
        }
    }

    init(
        id: UInt64,
        scope: StreamScope,
        topicCount: Int,
        capacity: Int,
        onEviction: @escaping @Sendable () -> Void,
        wake: (@Sendable () -> Void)? = nil
    ) {
        self.id = id
        self.scope = scope
        var slots = [Int32](repeating: -1, count: topicCount)
        for (slot, access) in scope.topics.enumerated() where access.topicIndex < topicCount {
            slots[access.topicIndex] = Int32(slot)
        }
        self.slotByTopic = slots
        self.expiresAt = scope.principal.expiresAt
        self.capacity = max(1, capacity)
        self.onEviction = onEviction
        self.wake = wake
        self.state = NIOLockedValueBox(State())
    }

    /// Whether the stream may see the event.
    package func matches(_ frame: EventFrame) -> Bool {
        guard frame.topicIndex < slotByTopic.count else { return false }
        let slot = Int(slotByTopic[frame.topicIndex])
        guard slot >= 0 else { return false }
        // Called in place through the array's addressor: binding the access to a local
        // would copy it, one retain per member, per subscriber, per event.
        return scope.topics[slot].matches(frame.facts)
    }

    /// Queues a frame; evicts the subscriber when its queue is full. Never waits.
    @discardableResult
    package func enqueue(_ frame: EventFrame) -> Bool {
        switch offer(frame) {
        case .queued(let wake):
            if wake { wakeConsumer() }
            return true
        case .closed: return false
        case .evicted:
            reportEviction()
            return false
        }
    }

    /// What became of an offered frame.
    package enum Offer: Sendable {
        /// Queued; a task waiting in `nextBatch()` was resumed. With `wake`, the consumer
        /// must be told with `wakeConsumer()` once no lock is held.
        case queued(wake: Bool)
        /// The queue was full: the subscriber is now closed with `slow_consumer`, and
        /// `reportEviction()` must be called once no lock is held.
        case evicted
        /// The subscriber was already closed.
        case closed
    }

    /// Queues a frame, or evicts the subscriber when its queue is full, without calling
    /// out: safe under the hub's lock.
    package func offer(_ frame: EventFrame) -> Offer {
        let pushed = wake != nil
        let (offer, waiter) = state.withLockedValue { state -> (Offer, UnsafeContinuation<Void, Never>?) in
            guard state.closeReason == nil else { return (.closed, nil) }
            let offer: Offer
            if state.pending.count >= capacity {
                // Everything dropped here is in the replay log; the client resumes from it.
                state.pending.removeAll()
                state.closeReason = .slowConsumer
                offer = .evicted
            } else {
                state.pending.append(frame)
                state.enqueuedSinceTick = true
                offer = .queued(wake: pushed && !state.wakeRequested)
                if pushed { state.wakeRequested = true }
            }
            defer { state.waiter = nil }
            return (offer, state.waiter)
        }
        waiter?.resume()
        return offer
    }

    /// Queues a position reset of a held topic, without calling out: safe under the hub's
    /// lock. It takes no room in the frame queue: a stream holds at most one per topic.
    /// Returns whether the consumer must be told with `wakeConsumer()` once no lock is held.
    package func offer(_ reset: PositionReset) -> Bool {
        let pushed = wake != nil
        let (waiter, wakes) = state.withLockedValue { state -> (UnsafeContinuation<Void, Never>?, Bool) in
            guard state.closeReason == nil else { return (nil, false) }
            state.resets.append(reset)
            state.enqueuedSinceTick = true
            let wakes = pushed && !state.wakeRequested
            if pushed { state.wakeRequested = true }
            defer { state.waiter = nil }
            return (state.waiter, wakes)
        }
        waiter?.resume()
        return wakes
    }

    /// Tells the stream's owner it was evicted, and wakes its consumer to write `slow_consumer` and end.
    package func reportEviction() {
        onEviction()
        wakeConsumer()
    }

    /// Calls `wake`; for an `Offer.queued(wake: true)`, once no lock is held.
    package func wakeConsumer() {
        wake?()
    }

    /// Asks for a heartbeat unless a frame was queued since the last tick.
    package func heartbeatIfIdle() {
        let pushed = wake != nil
        let (waiter, wakes) = state.withLockedValue { state -> (UnsafeContinuation<Void, Never>?, Bool) in
            defer { state.enqueuedSinceTick = false }
            guard !state.enqueuedSinceTick, state.closeReason == nil else { return (nil, false) }
            state.heartbeatDue = true
            let wakes = pushed && !state.wakeRequested
            if pushed { state.wakeRequested = true }
            defer { state.waiter = nil }
            return (state.waiter, wakes)
        }
        waiter?.resume()
        if wakes { wakeConsumer() }
    }

    /// Ends the stream; the first reason wins. Queued frames are still written first.
    package func close(_ reason: CloseReason) {
        let (waiter, first) = state.withLockedValue { state -> (UnsafeContinuation<Void, Never>?, Bool) in
            let first = state.closeReason == nil
            if first { state.closeReason = reason }
            // A close always wakes the consumer, even one that is not taking frames now
            // (its connection stalled): it must still write the end and let go.
            if first { state.wakeRequested = true }
            defer { state.waiter = nil }
            return (state.waiter, first)
        }
        waiter?.resume()
        if first { wakeConsumer() }
    }

    /// Why the stream was closed, once it was.
    package var closeReason: CloseReason? {
        state.withLockedValue { $0.closeReason }
    }

    /// Takes whatever is waiting, without waiting; `nil` when there is nothing (or the close
    /// was taken already).
    ///
    /// For a consumer told through `wake`, on its own thread. With `includingFrames: false`
    /// (its connection cannot take more bytes now) frames stay queued and only the close is
    /// taken; the queued frames are dropped then, as on eviction: they are in the replay log.
    /// No further `wake` comes until the consumer takes a batch with frames included (or a
    /// close arrives), so a stalled consumer is not woken for every frame.
    package func takeBatch(includingFrames: Bool = true) -> SubscriberBatch? {
        state.withLockedValue { state -> SubscriberBatch? in
            if state.closeTaken { return nil }
            if includingFrames { state.wakeRequested = false }
            guard state.closeReason != nil || (includingFrames && state.hasWork) else { return nil }
            let batch = SubscriberBatch(
                resets: includingFrames ? state.resets : [],
                frames: includingFrames ? state.pending.copiedToArray : [],
                heartbeat: includingFrames && state.heartbeatDue && state.pending.isEmpty && state.resets.isEmpty,
                closeReason: state.closeReason
            )
            state.pending.removeAll(keepingCapacity: false)
            state.resets.removeAll()
            state.heartbeatDue = false
            if state.closeReason != nil { state.closeTaken = true }
            return batch
        }
    }

    /// Waits for work and takes all of it; `nil` once the close was taken.
    ///
    /// Only the stream's own task calls this. Cancelling that task closes the stream.
    package func nextBatch() async -> SubscriberBatch? {
        while true {
            let taken = state.withLockedValue { state -> SubscriberBatch?? in
                if state.closeTaken { return .some(nil) }
                guard state.hasWork else { return nil }
                let batch = SubscriberBatch(
                    resets: state.resets,
                    frames: state.pending.copiedToArray,
                    heartbeat: state.heartbeatDue && state.pending.isEmpty && state.resets.isEmpty,
                    closeReason: state.closeReason
                )
                state.pending.removeAll(keepingCapacity: false)
                state.resets.removeAll()
                state.heartbeatDue = false
                if state.closeReason != nil { state.closeTaken = true }
                return .some(batch)
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    let ready = state.withLockedValue { state -> Bool in
                        if state.hasWork || state.closeTaken || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.close(.clientGone)
            }
        }
    }
}

/// What a stream's task writes in one go.
package struct SubscriberBatch: Sendable {
    /// Held topics whose positions moved to the log's head: one `event: reset`, written
    /// before `frames` (no frame of such a topic was queued before its reset).
    package var resets: [PositionReset] = []
    /// Frames, oldest first.
    package var frames: [EventFrame]
    /// Whether a heartbeat comment is due (only when there are no frames).
    package var heartbeat: Bool
    /// Set when this is the last batch.
    package var closeReason: CloseReason?
}
