/// A topic on which a stream's resume position could not be honoured after all: the
/// position moves to the newest event the log holds and the client is told with
/// `event: reset` (design section 6).
///
/// Queued by the hub under the lock that orders the topic's frames, so every frame of the
/// topic the stream receives afterwards follows `eventID`.
package struct PositionReset: Sendable, Equatable {
    /// Position of the topic in the gateway's topic list.
    package let topicIndex: Int
    /// The topic's name (for the `reset` frame's data).
    package let topic: String
    /// The newest event id the log held when the position moved; empty when it held none.
    package let eventID: String

    /// A reset of `topic` to `eventID`.
    package init(topicIndex: Int, topic: String, eventID: String) {
        self.topicIndex = topicIndex
        self.topic = topic
        self.eventID = eventID
    }
}
