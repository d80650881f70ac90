/// What the ingest step made of one delivery.
package enum IngestResult: Sendable {
    /// One event, ready to publish.
    case event(IngestedEvent)
    /// A Dapr bulk delivery: one result per entry, in order, each answered by its `entryId`.
    case bulk([IngestEntry])
    /// A CloudEvents batch (`application/cloudevents-batch+json`): one result per element.
    case batch([IngestEntry])
    /// The whole delivery is refused.
    case refused(IngestRefusal)
}

/// One validated event: its encoded frame, with its routing facts and id.
package struct IngestedEvent: Sendable {
    /// The frame every stream writes and the replay log keeps.
    package var frame: EventFrame
    /// The event's `traceparent` attribute, when the route asked for it (bulk entries carry
    /// no trace header of their own).
    package var traceparent: String?
}

/// One entry of a bulk or batch delivery.
package struct IngestEntry: Sendable {
    /// Dapr's `entryId` (the element's index in a batch); empty when the entry had none.
    package var entryID: String
    /// The event, or why it is poison.
    package var result: Result<IngestedEvent, CloudEventError>
}
