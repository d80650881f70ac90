import Benchmark
import GatewayCore
import NIOConcurrencyHelpers
import NIOCore

// The gateway's hot path, without a server (issues 7 and 16):
// 1. one Dapr delivery body through the ingest step into the SSE frame a stream writes (and
//    the scan alone, a bulk body of 100, and a frame from an event built in code);
// 2. one `student.progress` event routed among 100,000 per-student streams (the topic index
//    must touch only that student's stream, not scan 100,000);
// 3. one `system.notifications` event published to 10,000 subscribers.
//
// Benchmarks 2 and 3 measure the publishing side only: the subscriptions are registered and
// parked (nobody drains them), and their queues are large enough that nothing is evicted
// within the iteration bound, so each iteration is exactly "lock, dedup, log, copy out the
// candidates, unlock, match and enqueue each".

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: 10,
        maxDuration: .seconds(5)
    )

    Benchmark(
        "CloudEvent decode + SSE frame encode (1 event)",
        configuration: .init(maxIterations: 200_000)
    ) { benchmark in
        // The whole ingest step of one delivery (scan, validate, routing fields, frame),
        // then one stream's write of the frame. The frame's own allocations are the floor.
        let ingest = EventIngest(topics: TopicRule.learningPlatformDefaults())
        let body = ByteBuffer(string: Sample.deliveryBody)
        var encoder = StreamEncoder(start: ResumeToken(positions: [0: ""]))
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard case .event(let event) = Sample.ingest(body, with: ingest) else { fatalError("refused") }
            buffer.clear()
            encoder.write(event.frame, into: &buffer)
            blackHole(buffer.readableBytes)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("CloudEvent scan only (1 event)", configuration: .init(maxIterations: 200_000)) { benchmark in
        // Validation and location of the attributes and data, nothing decoded or copied.
        let body = Array(Sample.deliveryBody.utf8)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            body.withUnsafeBytes { bytes in blackHole(try? JSONScanner.scanDelivery(bytes, bulkEntryLimit: nil)) }
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Dapr bulk body of 100 events to frames", configuration: .init(maxIterations: 20_000)) { benchmark in
        var limits = EventIngest.Limits()
        limits.bulkMaxEntries = 100
        let ingest = EventIngest(topics: TopicRule.learningPlatformDefaults(), limits: limits, acceptsBulk: true)
        let body = ByteBuffer(string: Sample.bulkBody(count: 100))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard case .bulk(let entries) = Sample.ingest(body, with: ingest, contentType: "application/json") else {
                fatalError("refused")
            }
            blackHole(entries.count)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("EventFrame encode only (1 event built in code)", configuration: .init(maxIterations: 200_000)) {
        benchmark in
        let rules = TopicRule.learningPlatformDefaults()
        let event = Sample.progress(id: "8c1f7f2e-4c1e-4f0b-9d55-0a9f1d2e3b4c", student: 42)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let facts = EventFacts(event: event, rule: rules[0])
            blackHole(EventFrame(event: event, topicIndex: 0, facts: facts, receivedAt: .now))
        }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "Hub.publish: 1 student.progress event among 100k per-student streams",
        configuration: .init(maxIterations: 100_000)
    ) { benchmark, population in
        // The events are built before the clock starts; publishing extracts the facts,
        // encodes the frame, logs it and routes it.
        let events = benchmark.scaledIterations.map { _ in
            Sample.progress(id: population.nextID(), student: population.nextStudent(among: 100_000))
        }
        var outcome = PublishOutcome.unknownTopic
        benchmark.startMeasurement()
        for event in events {
            outcome = population.hub.publish(event, topicIndex: 0)
        }
        benchmark.stopMeasurement()
        precondition(outcome == .accepted(candidates: 1, recipients: 1), "unexpected outcome \(outcome)")
    } setup: {
        try await Population.start(
            topic: ["student.progress"],
            streams: 100_000,
            capacity: 1024
        )
    } teardown: {
        await Population.stop()
    }

    Benchmark(
        "Hub.publish: 1 system.notifications event to 10k streams",
        configuration: .init(maxIterations: 1_000)
    ) { benchmark, population in
        let events = benchmark.scaledIterations.map { _ in Sample.notification(id: population.nextID()) }
        var outcome = PublishOutcome.unknownTopic
        benchmark.startMeasurement()
        for event in events {
            outcome = population.hub.publish(event, topicIndex: 2)
        }
        benchmark.stopMeasurement()
        precondition(outcome == .accepted(candidates: 10_000, recipients: 10_000), "unexpected outcome \(outcome)")
    } setup: {
        try await Population.start(topic: ["system.notifications"], streams: 10_000, capacity: 200_000)
    } teardown: {
        await Population.stop()
    }
}

/// Events shaped like the load tool's (`seq`, `t`, `studentId`) in the envelope daprd delivers.
enum Sample {
    static func ingest(
        _ body: ByteBuffer,
        with ingest: EventIngest,
        contentType: String = "application/cloudevents+json"
    ) -> IngestResult {
        ingest.ingest(body, mode: .structured, contentType: contentType, topicIndex: 0, receivedAt: .now)
    }

    /// A bulk body as daprd posts it, with `count` entries of the delivery body's event.
    static func bulkBody(count: Int) -> String {
        let entries = (0..<count).map { index in
            #"{"entryId":"\#(index)","event":"#
                + deliveryBody(id: "bulk-\(index)-4c1e-4f0b-9d55-0a9f1d2e3b4c")
                + #","contentType":"application/cloudevents+json","metadata":{}}"#
        }
        return
            #"{"id":"b7c7a8e4","pubsubname":"pubsub","topic":"student.progress","type":"com.dapr.event.sent.bulk","metadata":{},"entries":["#
            + entries.joined(separator: ",") + "]}"
    }

    static let deliveryBody = deliveryBody(id: "8c1f7f2e-4c1e-4f0b-9d55-0a9f1d2e3b4c")

    static func deliveryBody(id: String) -> String {
        #"""
        {"specversion":"1.0","id":"\#(id)","source":"lms-progress",\#
        "type":"student.progress.updated","datacontenttype":"application/json",\#
        "time":"2026-12-02T16:00:00Z","topic":"student.progress","pubsubname":"pubsub",\#
        "traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",\#
        "data":{"studentId":"s-42","courseId":"c-7","seq":1234,"t":1764691200000000000,\#
        "lesson":"fractions-3","progress":0.75}}
        """#
    }

    static func progress(id: String, student: Int) -> CloudEvent {
        CloudEvent(
            id: id,
            source: "bench",
            type: "student.progress.updated",
            data: .object([
                "studentId": .string("s-\(student)"),
                "seq": .integer(1234),
                "t": .integer(1_764_691_200_000_000_000),
            ])
        )
    }

    static func notification(id: String) -> CloudEvent {
        CloudEvent(
            id: id,
            source: "bench",
            type: "system.notification",
            data: .object(["seq": .integer(1234), "t": .integer(1_764_691_200_000_000_000), "text": .string("hello")])
        )
    }
}

/// A hub with `streams` registered, parked subscriptions (one student each), alive between
/// a benchmark's setup and teardown.
final class Population: Sendable {
    let hub: Hub
    private let holder: Task<Void, Never>
    private let counter = NIOLockedValueBox<UInt64>(0)

    private init(hub: Hub, holder: Task<Void, Never>) {
        self.hub = hub
        self.holder = holder
    }

    /// A fresh CloudEvent id (the hub drops repeats; the benchmark closure runs many times).
    func nextID() -> String { "e-\(counter.withLockedValue { $0 += 1
return $0 })"
    }

    /// A student picked by a cheap scramble of the counter, so consecutive events go to
    /// students far apart.
    func nextStudent(among count: Int) -> Int {
        let n = counter.withLockedValue { $0 }
        return Int((n &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407) >> 33) % count
    }

    private static let current = Current()

    static func start(topic: [String], streams: Int, capacity: Int) async throws -> Population {
        var configuration = Hub.Configuration()
        configuration.subscriberCapacity = capacity
        configuration.limits.totalStreams = streams + 1
        configuration.limits.streamsPerUser = 1
        let rules = TopicRule.learningPlatformDefaults()
        let hub = Hub(topics: rules, configuration: configuration)
        var scopes: [StreamScope] = []
        scopes.reserveCapacity(streams)
        for index in 0..<streams {
            let subject = "s-\(index)"
            let principal = Principal(
                subject: subject,
                roles: ["student"],
                grants: ["sub": [subject], "student_ids": [], "course_ids": []],
                expiresAt: 4_102_444_800
            )
            scopes.append(try StreamScope(principal: principal, rules: rules, requestedTopics: topic, filters: .init()))
        }
        let parked = scopes
        let holder = Task {
            await withTaskGroup(of: Void.self) { group in
                for scope in parked {
                    group.addTask {
                        _ = try? await hub.withSubscription(scope: scope, resumeFrom: .none) { _ in
                            try? await Task.sleep(for: .seconds(3600))
                        }
                    }
                }
            }
        }
        // Bounded wait for the registrations (setup only; nothing is measured here).
        for _ in 0..<6000 where hub.subscriberCount < streams {
            try await Task.sleep(for: .milliseconds(10))
        }
        precondition(hub.subscriberCount == streams, "only \(hub.subscriberCount) of \(streams) streams registered")
        let population = Population(hub: hub, holder: holder)
        current.set(population)
        return population
    }

    static func stop() async {
        guard let population = current.take() else { return }
        population.holder.cancel()
        await population.holder.value
    }
}

/// The population of the running benchmark (setup and teardown are separate closures).
final class Current: Sendable {
    private let box = NIOLockedValueBox<Population?>(nil)
    func set(_ population: Population) { box.withLockedValue { $0 = population } }
    func take() -> Population? {
        box.withLockedValue { state in
            defer { state = nil }
            return state
        }
    }
}
