/// Everything one stream may receive: per topic access, derived from a verified token and
/// the client's request. A client can only narrow, never widen (design section 5).
package struct StreamScope: Sendable {
    /// The user.
    package let principal: Principal
    /// Access per topic, in the order of the gateway's topic list.
    package let topics: [TopicAccess]
    /// The filters the client asked for.
    package let filters: StreamFilters

    /// Derives the scope, or says why the request is refused.
    ///
    /// - Parameters:
    ///   - requestedTopics: topics the client named; `nil` means every topic the token grants.
    package init(
        principal: Principal,
        rules: [TopicRule],
        requestedTopics: [String]?,
        filters: StreamFilters
    ) throws(AuthorizationError) {
        var accesses: [TopicAccess] = []
        if let requestedTopics {
            for topic in requestedTopics {
                guard let index = rules.firstIndex(where: { $0.topic == topic }) else { throw .unknownTopic(topic) }
                if accesses.contains(where: { $0.topicIndex == index }) { continue }
                let access = TopicAccess(rule: rules[index], topicIndex: index, principal: principal, filters: filters)
                guard access.grantsAnything else { throw .topicNotGranted(topic) }
                accesses.append(access)
            }
        } else {
            for (index, rule) in rules.enumerated() {
                let access = TopicAccess(rule: rule, topicIndex: index, principal: principal, filters: filters)
                if access.grantsAnything { accesses.append(access) }
            }
            guard !accesses.isEmpty else { throw .topicNotGranted(rules.first?.topic ?? "") }
        }
        accesses.sort { $0.topicIndex < $1.topicIndex }
        try Self.check(filters.studentID, field: "studentId", in: accesses, else: AuthorizationError.studentNotGranted)
        try Self.check(filters.courseID, field: "courseId", in: accesses, else: AuthorizationError.courseNotGranted)
        self.principal = principal
        self.topics = accesses
        self.filters = filters
    }

    /// A filter on a scope key must name a key the token grants on some requested topic
    /// that is scoped by that field (or the user sees everything there).
    private static func check(
        _ value: String?,
        field: String,
        in accesses: [TopicAccess],
        else refusal: (String) -> AuthorizationError
    ) throws(AuthorizationError) {
        guard let value else { return }
        let scoped = accesses.filter { access in access.rule.scope.contains { $0.field == field } }
        guard !scoped.isEmpty else { return }
        let granted = scoped.contains { $0.seesEverything || $0.keys[field]?.contains(value) == true }
        guard granted else { throw refusal(value) }
    }

    /// The access for the topic at `topicIndex`, if the stream carries it.
    package func access(topicIndex: Int) -> TopicAccess? {
        topics.first { $0.topicIndex == topicIndex }
    }
}
