/// Filters a client asks for in the query; each can only narrow what its scope allows.
package struct StreamFilters: Sendable, Equatable {
    /// Only events whose `data.studentId` is this.
    package var studentID: String?
    /// Only events whose `data.courseId` is this.
    package var courseID: String?
    /// Only events at or above this priority.
    package var minimumPriority: EventPriority?
    /// Only events of these CloudEvent types.
    package var types: Set<String>?

    /// No filter.
    package init(
        studentID: String? = nil,
        courseID: String? = nil,
        minimumPriority: EventPriority? = nil,
        types: Set<String>? = nil
    ) {
        self.studentID = studentID
        self.courseID = courseID
        self.minimumPriority = minimumPriority
        self.types = types
    }

    /// Whether an event passes every filter.
    package func accepts(_ facts: EventFacts) -> Bool {
        if let studentID, facts.studentID != studentID { return false }
        if let courseID, facts.courseID != courseID { return false }
        if let minimumPriority, facts.priority < minimumPriority { return false }
        if let types, !types.contains(facts.type) { return false }
        return true
    }
}
