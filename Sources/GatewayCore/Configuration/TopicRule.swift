/// Who may see the events of one topic, as configuration (design section 5).
///
/// A user sees an event when they hold one of `seeAllRoles`, or the topic has no scope
/// fields (everyone), or for one of `scope` the event's field value is a key the user's
/// claims grant. An `audienceField` further restricts an event to the roles it lists.
package struct TopicRule: Sendable, Codable, Equatable {
    /// The Dapr topic name, also the SSE `event:` name.
    package var topic: String
    /// Event data fields that carry the topic's scope keys; empty means every authenticated user.
    package var scope: [ScopeField]
    /// Roles that see every event of the topic.
    package var seeAllRoles: [String]
    /// A data field listing the roles an event is meant for; an empty or absent list means everyone.
    package var audienceField: String?

    /// Creates a rule.
    package init(topic: String, scope: [ScopeField] = [], seeAllRoles: [String] = [], audienceField: String? = nil) {
        self.topic = topic
        self.scope = scope
        self.seeAllRoles = seeAllRoles
        self.audienceField = audienceField
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.topic = try container.decode(String.self, forKey: .topic)
        self.scope = try container.decodeIfPresent([ScopeField].self, forKey: .scope) ?? []
        self.seeAllRoles = try container.decodeIfPresent([String].self, forKey: .seeAllRoles) ?? []
        self.audienceField = try container.decodeIfPresent(String.self, forKey: .audienceField)
    }

    /// The learning platform's three topics, with claim names from `claims`.
    package static func learningPlatformDefaults(claims: ClaimNames = ClaimNames()) -> [TopicRule] {
        let student = ScopeField(field: "studentId", grantedBy: [claims.subject.text, claims.studentIDs.text])
        let course = ScopeField(field: "courseId", grantedBy: [claims.courseIDs.text])
        return [
            TopicRule(topic: "student.progress", scope: [student], seeAllRoles: ["admin"]),
            TopicRule(topic: "learning.events", scope: [course, student], seeAllRoles: ["admin"]),
            TopicRule(topic: "system.notifications", seeAllRoles: ["admin"], audienceField: "audience"),
        ]
    }
}

/// One event field that scopes a topic, and the claims whose values grant its keys.
package struct ScopeField: Sendable, Codable, Equatable {
    /// The field of the event's `data` object, e.g. `studentId`.
    package var field: String
    /// Claims (each a `ClaimPath`) whose values (a string or an array) are the keys the user may see.
    package var grantedBy: [String]

    /// Creates a scope field.
    package init(field: String, grantedBy: [String]) {
        self.field = field
        self.grantedBy = grantedBy
    }
}

/// Where the gateway reads each claim (configurable for identity providers that differ).
///
/// Each is a `ClaimPath`: an exact top-level claim name, else a dot-separated path into
/// nested objects (`realm_access.roles`).
package struct ClaimNames: Sendable, Equatable {
    /// The user id; for a student, the student id. Default `sub`.
    package var subject: ClaimPath = "sub"
    /// Roles, each an array or a single string; several paths are read together (Keycloak's
    /// realm and client roles). Default `roles`.
    package var roles: [ClaimPath] = ["roles"]
    /// Students the user may follow. Default `student_ids`.
    package var studentIDs: ClaimPath = "student_ids"
    /// Courses the user may follow. Default `course_ids`.
    package var courseIDs: ClaimPath = "course_ids"

    /// The defaults.
    package init() {}
}
