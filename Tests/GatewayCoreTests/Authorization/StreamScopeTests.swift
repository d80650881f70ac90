import GatewayCore
import Testing

@Suite struct StreamScopeTests {
    private func facts(_ topic: Int, _ data: [String: JSONValue], type: String = "t") -> EventFacts {
        let rule = Fixtures.rules[topic]
        return EventFacts(event: CloudEvent(id: "x", source: "s", type: type, data: .object(data)), rule: rule)
    }

    @Test func anInstructorSeesGrantedStudentsAndCourses() throws {
        let scope = try Fixtures.scope(
            Fixtures.principal("i-1", roles: ["instructor"], students: ["s-1"], courses: ["c-1"])
        )
        let progress = try #require(scope.access(topicIndex: 0))
        #expect(progress.matches(facts(0, ["studentId": "s-1"])))
        #expect(!progress.matches(facts(0, ["studentId": "s-2"])))
        let learning = try #require(scope.access(topicIndex: 1))
        #expect(learning.matches(facts(1, ["courseId": "c-1"])))
        #expect(learning.matches(facts(1, ["studentId": "s-1"])))
        #expect(!learning.matches(facts(1, ["courseId": "c-2", "studentId": "s-2"])))
        #expect(!learning.matches(facts(1, ["other": "x"])))
    }

    @Test func anEventWithoutItsScopeFieldReachesOnlyTheSeeEverythingRoles() throws {
        let student = try #require(try Fixtures.scope(Fixtures.principal("s-1")).access(topicIndex: 1))
        let admin = try #require(try Fixtures.scope(Fixtures.principal("a", roles: ["admin"])).access(topicIndex: 1))
        #expect(!student.matches(facts(1, [:])))
        #expect(admin.matches(facts(1, [:])))
    }

    @Test func notificationsWithAnAudienceReachOnlyThoseRolesAndAdmins() throws {
        let student = try #require(try Fixtures.scope(Fixtures.principal("s-1")).access(topicIndex: 2))
        let teacher = try #require(
            try Fixtures.scope(Fixtures.principal("i", roles: ["instructor"])).access(topicIndex: 2)
        )
        let admin = try #require(try Fixtures.scope(Fixtures.principal("a", roles: ["admin"])).access(topicIndex: 2))
        let forTeachers = facts(2, ["audience": .array(["instructor"])])
        #expect(!student.matches(forTeachers))
        #expect(teacher.matches(forTeachers))
        #expect(admin.matches(forTeachers))
        #expect(student.matches(facts(2, ["audience": .array([])])))
        #expect(student.matches(facts(2, [:])))
    }

    @Test func clientFiltersOnlyNarrow() throws {
        let filters = StreamFilters(minimumPriority: .high, types: ["grade.posted"])
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"], filters: filters)
        let access = try #require(scope.access(topicIndex: 0))
        #expect(access.matches(facts(0, ["studentId": "s-1", "priority": "critical"], type: "grade.posted")))
        #expect(!access.matches(facts(0, ["studentId": "s-1"], type: "grade.posted")))
        #expect(!access.matches(facts(0, ["studentId": "s-1", "priority": "high"], type: "other")))
        #expect(!access.matches(facts(0, ["studentId": "s-2", "priority": "high"], type: "grade.posted")))
    }

    @Test func requestsOutsideTheScopeAreRefused() {
        let student = Fixtures.principal("s-1")
        #expect(throws: AuthorizationError.unknownTopic("billing")) { try Fixtures.scope(student, topics: ["billing"]) }
        #expect(throws: AuthorizationError.studentNotGranted("s-2")) {
            try Fixtures.scope(student, filters: StreamFilters(studentID: "s-2"))
        }
        #expect(throws: AuthorizationError.courseNotGranted("c-1")) {
            try Fixtures.scope(student, filters: StreamFilters(courseID: "c-1"))
        }
        let billing = TopicRule(topic: "billing", scope: [ScopeField(field: "accountId", grantedBy: ["account_ids"])])
        #expect(throws: AuthorizationError.topicNotGranted("billing")) {
            try StreamScope(principal: student, rules: [billing], requestedTopics: ["billing"], filters: .init())
        }
        let admin = Fixtures.principal("a", roles: ["admin"])
        #expect(throws: Never.self) { try Fixtures.scope(admin, filters: StreamFilters(studentID: "anyone")) }
    }

    @Test func queryParametersAreValidatedAsUntrustedInput() throws {
        let parsed = try StreamQuery(parameters: [
            ("topics", "student.progress,system.notifications"), ("minPriority", "high"), ("types", "a,b"),
        ])
        #expect(parsed.topics == ["student.progress", "system.notifications"])
        #expect(parsed.filters.minimumPriority == .high)
        #expect(parsed.filters.types == ["a", "b"])
        for bad in [("minPriority", "urgent"), ("studentId", ""), ("courseId", "a\u{0}b"), ("topics", "a,,b")] {
            #expect(throws: AuthorizationError.self) { try StreamQuery(parameters: [bad]) }
        }
        #expect(throws: AuthorizationError.self) {
            try StreamQuery(parameters: [("studentId", "a"), ("studentId", "b")])
        }
    }
}
