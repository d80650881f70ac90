import DequeModule

/// The last N CloudEvent ids of a topic, to acknowledge Dapr's redeliveries without
/// delivering them twice (Dapr is at-least-once).
package struct RecentEventIDs: Sendable {
    private var order: Deque<String> = []
    private var members: Set<String> = []
    private let capacity: Int

    /// Creates an empty window of `capacity` ids.
    package init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Records `id`; `false` when it was already seen.
    package mutating func insert(_ id: String) -> Bool {
        guard members.insert(id).inserted else { return false }
        order.append(id)
        if order.count > capacity, let oldest = order.popFirst() {
            members.remove(oldest)
        }
        return true
    }
}
