/// Why a stream request is refused after its token was verified.
package enum AuthorizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request names a topic the gateway does not carry (400).
    case unknownTopic(String)
    /// A query filter is malformed (400).
    case malformedFilter(name: String, reason: String)
    /// The token grants nothing on the topic (403).
    case topicNotGranted(String)
    /// The `studentId` filter names a student outside the scope (403).
    case studentNotGranted(String)
    /// The `courseId` filter names a course outside the scope (403).
    case courseNotGranted(String)

    package var description: String {
        switch self {
        case .unknownTopic(let topic): "the topic '\(topic)' is not carried by this gateway"
        case .malformedFilter(let name, let reason): "the filter '\(name)' is malformed: \(reason)"
        case .topicNotGranted(let topic): "the token does not grant the topic '\(topic)'"
        case .studentNotGranted(let student): "the token does not grant the student '\(student)'"
        case .courseNotGranted(let course): "the token does not grant the course '\(course)'"
        }
    }

    /// A fixed code for metrics; `nil` for a malformed request, which is not an access refusal.
    package var refusalReason: String? {
        switch self {
        case .unknownTopic, .malformedFilter: nil
        case .topicNotGranted: "topic_not_granted"
        case .studentNotGranted: "student_not_granted"
        case .courseNotGranted: "course_not_granted"
        }
    }
}
