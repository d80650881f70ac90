import GatewayCore
import NIOConcurrencyHelpers
import Testing

/// Builders shared by the core tests.
enum Fixtures {
    static let rules = TopicRule.learningPlatformDefaults()

    static func principal(
        _ subject: String,
        roles: [String] = ["student"],
        students: [String] = [],
        courses: [String] = [],
        expiresAt: Double = 4_102_444_800
    ) -> Principal {
        Principal(
            subject: subject,
            roles: Set(roles),
            grants: ["sub": [subject], "student_ids": Set(students), "course_ids": Set(courses)],
            expiresAt: expiresAt
        )
    }

    static func scope(
        _ principal: Principal,
        topics: [String]? = nil,
        filters: StreamFilters = .init()
    ) throws
        -> StreamScope
    {
        try StreamScope(principal: principal, rules: rules, requestedTopics: topics, filters: filters)
    }

    static func event(_ id: String, data: JSONValue, type: String = "test") -> CloudEvent {
        CloudEvent(id: id, source: "test", type: type, data: data)
    }

    static func progress(_ id: String, student: String) -> CloudEvent {
        event(id, data: .object(["studentId": .string(student)]))
    }
}

extension Subscriber {
    /// Everything queued right now, without waiting.
    func drainQueued() async -> [String] {
        var ids: [String] = []
        heartbeatIfIdle()  // guarantees the batch below does not wait
        heartbeatIfIdle()
        if let batch = await nextBatch() { ids = batch.frames.map(\.eventID) }
        return ids
    }
}

@Suite struct HubTests {
    @Test func anEventReachesOnlyTheSubscribersItsRuleAllows() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let own = try Fixtures.scope(Fixtures.principal("s-1"))
        let other = try Fixtures.scope(Fixtures.principal("s-2"))
        let instructor = try Fixtures.scope(Fixtures.principal("i-1", roles: ["instructor"], students: ["s-1"]))
        let admin = try Fixtures.scope(Fixtures.principal("a-1", roles: ["admin"]))
        try await hub.withSubscription(scope: own, resumeFrom: .none) { mine in
            try await hub.withSubscription(scope: other, resumeFrom: .none) { theirs in
                try await hub.withSubscription(scope: instructor, resumeFrom: .none) { teacher in
                    try await hub.withSubscription(scope: admin, resumeFrom: .none) { root in
                        _ = hub.publish(Fixtures.progress("e1", student: "s-1"), topicIndex: 0)
                        #expect(await mine.subscriber.drainQueued() == ["e1"])
                        #expect(await theirs.subscriber.drainQueued() == [])
                        #expect(await teacher.subscriber.drainQueued() == ["e1"])
                        #expect(await root.subscriber.drainQueued() == ["e1"])
                    }
                }
            }
        }
        #expect(hub.subscriberCount == 0)
    }

    @Test func theCandidatesOfAnEventDoNotGrowWithUnrelatedSubscribers() async throws {
        let hub = Hub(topics: Fixtures.rules)
        func candidates(afterAdding count: Int) async throws -> Int {
            try await withUnrelated(count, hub: hub) {
                guard
                    case .accepted(let candidates, let recipients) = hub.publish(
                        Fixtures.progress("probe-\(count)", student: "s-target"),
                        topicIndex: 0
                    )
                else { return -1 }
                #expect(recipients == 1)
                return candidates
            }
        }
        let target = try Fixtures.scope(Fixtures.principal("s-target"), topics: ["student.progress"])
        try await hub.withSubscription(scope: target, resumeFrom: .none) { _ in
            let few = try await candidates(afterAdding: 10)
            let many = try await candidates(afterAdding: 2000)
            #expect(few == 1)
            #expect(many == 1)
        }
    }

    /// Runs `body` while `count` students other than the target hold streams.
    private func withUnrelated<Result: Sendable>(
        _ count: Int,
        hub: Hub,
        _ body: @Sendable () async throws -> Result
    ) async throws -> Result {
        if count == 0 { return try await body() }
        let scope = try Fixtures.scope(Fixtures.principal("s-other-\(count)"), topics: ["student.progress"])
        return try await hub.withSubscription(scope: scope, resumeFrom: .none) { _ in
            try await withUnrelated(count - 1, hub: hub, body)
        }
    }

    @Test func aRedeliveredIDIsReportedAsADuplicate() {
        let hub = Hub(topics: Fixtures.rules)
        #expect(
            hub.publish(Fixtures.progress("x", student: "s"), topicIndex: 0) == .accepted(candidates: 0, recipients: 0)
        )
        #expect(hub.publish(Fixtures.progress("x", student: "s"), topicIndex: 0) == .duplicate)
        // The same id on another topic is another event.
        #expect(
            hub.publish(Fixtures.progress("x", student: "s"), topicIndex: 1) == .accepted(candidates: 0, recipients: 0)
        )
    }

    @Test func evictsASubscriberWhoseBufferIsFull() async throws {
        var configuration = Hub.Configuration()
        configuration.subscriberCapacity = 4
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        let evictions = Counter()
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        let onEviction: @Sendable () -> Void = { evictions.increment() }
        try await hub.withSubscription(scope: scope, resumeFrom: .none, onEviction: onEviction) { subscription in
            for index in 0..<10 { _ = hub.publish(Fixtures.progress("e\(index)", student: "s-1"), topicIndex: 0) }
            #expect(subscription.subscriber.closeReason == .slowConsumer)
            let batch = try #require(await subscription.subscriber.nextBatch())
            #expect(batch.frames.isEmpty)
            #expect(batch.closeReason == .slowConsumer)
            #expect(await subscription.subscriber.nextBatch() == nil)
        }
        #expect(evictions.value == 1)
        // Everything it missed is still in the log.
        #expect(hub.replayCount(topicIndex: 0) == 10)
    }

    @Test func everyStreamGetsATopicsEventsInTheOrderOfTheReplayLogWhilePublishersRace() async throws {
        // Dapr delivers several events of one topic at once. A stream that received them
        // in another order than the log holds them would resume past an event it never
        // got (or get one twice), so live order must be log order for every stream.
        var configuration = Hub.Configuration()
        configuration.subscriberCapacity = 4096
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        let admins = try (0..<40).map {
            try Fixtures.scope(Fixtures.principal("a-\($0)", roles: ["admin"]), topics: ["student.progress"])
        }
        _ = hub.publish(Fixtures.progress("seed", student: "s-0"), topicIndex: 0)
        let received = try await withStreams(admins, hub: hub) { subscribers in
            await withTaskGroup(of: Void.self) { group in
                for publisher in 0..<8 {
                    group.addTask {
                        for index in 0..<250 {
                            _ = hub.publish(Fixtures.progress("p\(publisher)-\(index)", student: "s-1"), topicIndex: 0)
                        }
                    }
                }
            }
            var received: [[String]] = []
            for subscriber in subscribers { received.append(await subscriber.drainQueued()) }
            return received
        }
        let logOrder = try await hub.withSubscription(
            scope: admins[0],
            resumeFrom: .token(ResumeToken(positions: [0: "seed"]))
        ) { $0.replay.map(\.eventID) }
        #expect(logOrder.count == 2000)
        #expect(received.count == 40)
        for stream in received { #expect(stream == logOrder) }
    }

    /// Runs `body` with one open stream per scope.
    private func withStreams<Result: Sendable>(
        _ scopes: [StreamScope],
        hub: Hub,
        opened: [Subscriber] = [],
        _ body: @Sendable ([Subscriber]) async throws -> Result
    ) async throws -> Result {
        guard let scope = scopes.first else { return try await body(opened) }
        return try await hub.withSubscription(scope: scope, resumeFrom: .none) { subscription in
            try await withStreams(Array(scopes.dropFirst()), hub: hub, opened: opened + [subscription.subscriber], body)
        }
    }

    @Test func resumingReplaysWhatTheStreamMissedAndThenGoesLiveWithoutAGap() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress", "learning.events"])
        for index in 0..<3 { _ = hub.publish(Fixtures.progress("p\(index)", student: "s-1"), topicIndex: 0) }
        _ = hub.publish(Fixtures.progress("l0", student: "s-1"), topicIndex: 1)
        let token = ResumeToken(positions: [0: "p0", 1: "l0"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(token)) { subscription in
            #expect(subscription.replay.map(\.eventID) == ["p1", "p2"])
            #expect(!subscription.historyGap)
            _ = hub.publish(Fixtures.progress("p3", student: "s-1"), topicIndex: 0)
            #expect(await subscription.subscriber.drainQueued() == ["p3"])
        }
    }

    @Test func aPositionTheLogNoLongerHoldsIsAHistoryGap() async throws {
        var configuration = Hub.Configuration()
        configuration.replay.eventsPerTopic = 2
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        for index in 0..<5 { _ = hub.publish(Fixtures.progress("p\(index)", student: "s-1"), topicIndex: 0) }
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: "p0"]))) {
            subscription in
            #expect(subscription.historyGap)
            #expect(subscription.replay.isEmpty)
            #expect(subscription.start.positions == [0: "p4"])
        }
        try await hub.withSubscription(scope: scope, resumeFrom: .malformed) { subscription in
            #expect(subscription.historyGap)
        }
    }

    @Test func replayIsCheckedAgainstTheCurrentScope() async throws {
        let hub = Hub(topics: Fixtures.rules)
        _ = hub.publish(Fixtures.progress("mine", student: "s-1"), topicIndex: 0)
        _ = hub.publish(Fixtures.progress("theirs", student: "s-2"), topicIndex: 0)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"), topics: ["student.progress"])
        try await hub.withSubscription(scope: scope, resumeFrom: .token(ResumeToken(positions: [0: ""]))) {
            subscription in
            #expect(subscription.replay.map(\.eventID) == ["mine"])
        }
    }

    @Test func drainingClosesEveryStreamAndRefusesNewOnes() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let scope = try Fixtures.scope(Fixtures.principal("s-1"))
        try await hub.withSubscription(scope: scope, resumeFrom: .none) { subscription in
            hub.beginDrain()
            let batch = try #require(await subscription.subscriber.nextBatch())
            #expect(batch.closeReason == .shuttingDown)
            #expect(throws: SubscriptionError.shuttingDown) { try hub.admissionCheck(subject: "s-2") }
            #expect(hub.publish(Fixtures.progress("late", student: "s-1"), topicIndex: 0) == .draining)
        }
        await hub.waitUntilEmpty()
    }

    @Test func aStreamWhoseTokenExpiredIsClosed() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let scope = try Fixtures.scope(Fixtures.principal("s-1", expiresAt: 1000))
        try await hub.withSubscription(scope: scope, resumeFrom: .none) { subscription in
            hub.expire(now: 999)
            #expect(subscription.subscriber.closeReason == nil)
            hub.expire(now: 1000)
            #expect(subscription.subscriber.closeReason == .tokenExpired)
        }
    }

    @Test func perUserAndGlobalLimitsAreEnforced() async throws {
        var configuration = Hub.Configuration()
        configuration.limits.streamsPerUser = 1
        configuration.limits.totalStreams = 2
        let hub = Hub(topics: Fixtures.rules, configuration: configuration)
        let one = try Fixtures.scope(Fixtures.principal("s-1"))
        let two = try Fixtures.scope(Fixtures.principal("s-2"))
        try await hub.withSubscription(scope: one, resumeFrom: .none) { _ in
            #expect(throws: SubscriptionError.tooManyStreams(limit: 1)) { try hub.admissionCheck(subject: "s-1") }
            try await hub.withSubscription(scope: two, resumeFrom: .none) { _ in
                #expect(throws: SubscriptionError.gatewayFull(limit: 2)) { try hub.admissionCheck(subject: "s-3") }
            }
        }
        try hub.admissionCheck(subject: "s-1")
    }

    /// Many subscribers come and go while several publishers publish; run under
    /// ThreadSanitizer by the test command. Every subscriber that stays sees its
    /// student's events in publish order, each once.
    @Test func subscribersComingAndGoingWhileEventsPublishIsSafe() async throws {
        let hub = Hub(topics: Fixtures.rules)
        let students = (0..<8).map { "s-\($0)" }
        let eventsPerPublisher = 400
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (publisherIndex, student) in students.enumerated() {
                group.addTask {
                    for index in 0..<eventsPerPublisher {
                        _ = hub.publish(Fixtures.progress("\(student)-\(index)", student: student), topicIndex: 0)
                        if index % 50 == publisherIndex { await Task.yield() }
                    }
                }
            }
            for churn in 0..<64 {
                group.addTask {
                    let student = students[churn % students.count]
                    let scope = try Fixtures.scope(Fixtures.principal(student), topics: ["student.progress"])
                    for _ in 0..<5 {
                        try await hub.withSubscription(scope: scope, resumeFrom: .none) { subscription in
                            var seen: [Int] = []
                            for _ in 0..<3 {
                                subscription.subscriber.heartbeatIfIdle()
                                guard let batch = await subscription.subscriber.nextBatch() else { break }
                                seen += batch.frames.compactMap { Int($0.eventID.split(separator: "-").last ?? "") }
                                #expect(batch.frames.allSatisfy { $0.facts.studentID == student })
                            }
                            #expect(seen == seen.sorted())
                            #expect(Set(seen).count == seen.count)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(hub.subscriberCount == 0)
        #expect(hub.replayCount(topicIndex: 0) == min(10_000, students.count * eventsPerPublisher))
    }
}

/// A thread-safe counter for callbacks.
final class Counter: Sendable {
    private let box = NIOLockedValueBox(0)
    func increment() { box.withLockedValue { $0 += 1 } }
    var value: Int { box.withLockedValue { $0 } }
}
