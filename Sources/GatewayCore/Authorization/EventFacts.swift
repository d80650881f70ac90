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

    /// Extracts the facts of `event` on the topic `rule` governs.
    package init(event: CloudEvent, rule: TopicRule) {
        self.topic = rule.topic
        self.type = event.type
        var values: [String: String] = [:]
        for scope in rule.scope {
            if let value = event.data[scope.field]?.scalarText { values[scope.field] = value }
        }
        self.scopeValues = values
        self.studentID = event.data["studentId"]?.scalarText
        self.courseID = event.data["courseId"]?.scalarText
        self.audience = rule.audienceField.flatMap { event.data[$0]?.textList } ?? []
        self.priority = event.data["priority"]?.scalarText.flatMap(EventPriority.init(name:)) ?? .normal
    }
}
