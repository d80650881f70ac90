import DequeModule
import NIOConcurrencyHelpers

/// One open stream as the hub sees it: its scope and a bounded queue of frames.
///
/// Publishers only ever append (never wait); the stream's own task takes whatever is
/// queued in one batch and writes it. A full queue evicts the subscriber: it is closed
/// with `slow_consumer` and resumes from the replay log when it reconnects.
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
    private let state: NIOLockedValueBox<State>

    private struct State {
        var pending: Deque<EventFrame> = []
        var heartbeatDue = false
        var enqueuedSinceTick = false
        var closeReason: CloseReason?
        var closeTaken = false
        // Unsafe rather than checked: the checked one allocates a guard object per wait,
        // once per frame per stream; resuming exactly once is kept by `waiter = nil`.
        var waiter: UnsafeContinuation<Void, Never>?

        var hasWork: Bool { !pending.isEmpty || heartbeatDue || (closeReason != nil && !closeTaken) }
    }

    init(
        id: UInt64,
        scope: StreamScope,
        topicCount: Int,
        capacity: Int,
        onEviction: @escaping @Sendable () -> Void
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
        case .queued: return true
        case .closed: return false
        case .evicted:
            reportEviction()
            return false
        }
    }

    /// What became of an offered frame.
    package enum Offer: Sendable {
        /// Queued; the stream's task was woken if it waited.
        case queued
        /// The queue was full: the subscriber is now closed with `slow_consumer`, and
        /// `reportEviction()` must be called once no lock is held.
        case evicted
        /// The subscriber was already closed.
        case closed
    }

    /// Queues a frame, or evicts the subscriber when its queue is full, without calling
    /// out: safe under the hub's lock.
    package func offer(_ frame: EventFrame) -> Offer {
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
                offer = .queued
            }
            defer { state.waiter = nil }
            return (offer, state.waiter)
        }
        waiter?.resume()
        return offer
    }

    /// Tells the stream's owner it was evicted (it cuts the connection soon after).
    package func reportEviction() {
        onEviction()
    }

    /// Asks for a heartbeat unless a frame was queued since the last tick.
    package func heartbeatIfIdle() {
        let waiter = state.withLockedValue { state -> UnsafeContinuation<Void, Never>? in
            defer { state.enqueuedSinceTick = false }
            guard !state.enqueuedSinceTick, state.closeReason == nil else { return nil }
            state.heartbeatDue = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Ends the stream; the first reason wins. Queued frames are still written first.
    package func close(_ reason: CloseReason) {
        let waiter = state.withLockedValue { state -> UnsafeContinuation<Void, Never>? in
            if state.closeReason == nil { state.closeReason = reason }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Why the stream was closed, once it was.
    package var closeReason: CloseReason? {
        state.withLockedValue { $0.closeReason }
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
                    frames: state.pending.copiedToArray,
                    heartbeat: state.heartbeatDue && state.pending.isEmpty,
                    closeReason: state.closeReason
                )
                state.pending.removeAll(keepingCapacity: false)
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
    /// Frames, oldest first.
    package var frames: [EventFrame]
    /// Whether a heartbeat comment is due (only when there are no frames).
    package var heartbeat: Bool
    /// Set when this is the last batch.
    package var closeReason: CloseReason?
}
