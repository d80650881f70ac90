/// What the gateway needs to know of an event to decide who sees it, extracted once at ingest.
package struct EventFacts: Sendable, Equatable {
    /// The topic the event arrived on.
    package var topic: String
    /// The CloudEvent type, for the `types` filter.
    package var type: String
    /// Values of the topic rule's scope fields, by field name; absent fields are absent.
    package var scopeValues: [String: String]
    /// `data.studentId` and `data.courseId`, for the client filters.
    package var studentID: String?
    /// See `studentID`.
    package var courseID: String?
    /// Roles the event is meant for; empty means everyone.
    package var audience: [String]
    /// `data.priority`; missing or unknown is `normal`.
    package var priority: EventPriority

    /// Facts with no routing fields (no scope value, no audience, `normal` priority).
    package init(topic: String, type: String) {
        self.topic = topic
        self.type = type
        self.scopeValues = [:]
        self.studentID = nil
        self.courseID = nil
        self.audience = []
        self.priority = .normal
    }

    /// Extracts the facts of an event built in code (tests, benchmarks) on the topic `rule`
    /// governs, the way ingest reads them from a delivery body.
    package init(event: CloudEvent, rule: TopicRule) {
        var data = JSONText.encode(event.data)
        self = data.withUTF8 { RoutingFields(rule: rule).facts(type: event.type, data: UnsafeRawBufferPointer($0)) }
    }
}
