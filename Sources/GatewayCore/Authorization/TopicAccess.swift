/// What one stream may see of one topic: the rule, the keys the token grants, the filters.
///
/// `matches` is the single authority on delivery; the hub's index only narrows which
/// subscribers are asked.
package struct TopicAccess: Sendable {
    /// The topic's rule.
    package let rule: TopicRule
    /// Position of the topic in the gateway's topic list (used in resume tokens).
    package let topicIndex: Int
    /// Whether the user holds one of the rule's see-all roles.
    package let seesEverything: Bool
    /// Keys granted per scope field.
    package let keys: [String: Set<String>]
    /// The user's roles, for the audience check.
    package let roles: Set<String>
    /// The client's narrowing filters.
    package let filters: StreamFilters

    /// Derives the access `principal` has on `rule`'s topic.
    package init(rule: TopicRule, topicIndex: Int, principal: Principal, filters: StreamFilters) {
        self.rule = rule
        self.topicIndex = topicIndex
        self.seesEverything = !principal.roles.isDisjoint(with: rule.seeAllRoles)
        var keys: [String: Set<String>] = [:]
        for scope in rule.scope {
            keys[scope.field, default: []].formUnion(principal.keys(grantedBy: scope.grantedBy))
        }
        self.keys = keys
        self.roles = principal.roles
        self.filters = filters
    }

    /// Whether the token grants anything at all on the topic.
    package var grantsAnything: Bool {
        seesEverything || rule.scope.isEmpty || keys.values.contains { !$0.isEmpty }
    }

    /// Whether this stream may see, and asked for, an event with these facts.
    package func matches(_ facts: EventFacts) -> Bool {
        guard filters.accepts(facts) else { return false }
        if seesEverything { return true }
        if !facts.audience.isEmpty && roles.isDisjoint(with: facts.audience) { return false }
        if rule.scope.isEmpty { return true }
        for (field, granted) in keys {
            if let value = facts.scopeValues[field], granted.contains(value) { return true }
        }
        return false
    }

    /// Where the hub files this subscriber so that an event only meets subscribers that can match it.
    package var placement: IndexPlacement {
        // A filter on a scope field pins the subscriber to that one key: every event it
        // can match carries it.
        for (field, value) in [("studentId", filters.studentID), ("courseId", filters.courseID)] {
            if let value, rule.scope.contains(where: { $0.field == field }) {
                return .keys([ScopeKey(field: field, value: value)])
            }
        }
        if seesEverything || rule.scope.isEmpty { return .everyone }
        var scopeKeys: [ScopeKey] = []
        for (field, granted) in keys {
            for value in granted { scopeKeys.append(ScopeKey(field: field, value: value)) }
        }
        return .keys(scopeKeys)
    }
}

/// One key of a topic's scope: a field and a value, e.g. `studentId` = `s-17`.
package struct ScopeKey: Sendable, Hashable {
    /// The event data field.
    package var field: String
    /// The value.
    package var value: String

    /// Creates a key.
    package init(field: String, value: String) {
        self.field = field
        self.value = value
    }
}

/// Where a subscriber is filed in a topic's index.
package enum IndexPlacement: Sendable, Equatable {
    /// Asked about every event of the topic.
    case everyone
    /// Asked only about events carrying one of these keys.
    case keys([ScopeKey])
}
