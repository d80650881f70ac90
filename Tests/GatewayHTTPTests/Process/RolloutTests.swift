import Foundation
import GatewayCore
import Testing

/// A rolling update with real processes (design section 6): gateway B is a new pod, a new
/// consumer group that first receives the broker's whole retained history, oldest first,
/// while live events keep coming; the browsers of gateway A move to B in the middle of
/// that catch-up with their `Last-Event-ID`.
@Suite struct RolloutTests {
    private static let topics = ["student.progress", "learning.events", "system.notifications"]
    private static let query = "topics=" + topics.joined(separator: ",")

    /// Who a client is, and which events its scope lets through (the default rules).
    private struct Viewer: Sendable {
        var subject: String
        var roles: [String]
        var students: [String] = []
        var courses: [String] = []

        func sees(topic: String, student: String, course: String) -> Bool {
            if roles.contains("admin") { return true }
            let followed = student == subject || students.contains(student)
            switch topic {
            case "student.progress": return followed
            case "learning.events": return followed || courses.contains(course)
            default: return true
            }
        }
    }

    /// One browser: what it saw on A, then on B.
    private struct Client {
        var viewer: Viewer
        var token: String
        var stream: SSEClient
        var received: [ReceivedEvent] = []
    }

    /// The facts the scope rules look at, per published event id.
    private actor Ledger {
        var facts: [String: (topic: String, student: String, course: String)] = [:]
        var order: [String] = []
        func record(id: String, topic: String, student: String, course: String) {
            facts[id] = (topic, student, course)
            order.append(id)
        }
        /// The ids `viewer` may see, per topic, in publish order.
        func expected(for viewer: Viewer) -> [String: [String]] {
            var result: [String: [String]] = [:]
            for id in order {
                guard let fact = facts[id], viewer.sees(topic: fact.topic, student: fact.student, course: fact.course)
                else { continue }
                result[fact.topic, default: []].append(id)
            }
            return result
        }
    }

    @Test func clientsMovedToANewPodInTheMiddleOfItsCatchUpMissNothingAndGetNoReset() async throws {
        let first = try await GatewayProcess.start()
        // A long quiet period, so only what B receives decides when it has caught up; a long
        // hold, so a slow (ThreadSanitizer) run cannot turn a wait into a reset.
        let second = try await GatewayProcess.start(environment: [
            "GATEWAY_READY_QUIET_SECONDS": "60", "GATEWAY_READY_TIMEOUT_SECONDS": "300",
            "GATEWAY_RESUME_HOLD_SECONDS": "60",
        ])
        let broker = Broker()
        do {
            try await roll(from: first, to: second, broker: broker)
        } catch {
            await broker.stop()
            await first.stop()
            await second.stop()
            throw error
        }
        await broker.stop()
        await first.stop()
        await second.stop()
    }

    private func roll(from first: GatewayProcess, to second: GatewayProcess, broker: Broker) async throws {
        let ledger = Ledger()
        let minter = await TokenMinter(secret: first.secret)
        // Events carry the times a publisher would give them: the retained history spans the
        // last ten minutes, the events published during the rollout are stamped now.
        var historyClock = Date().addingTimeInterval(-600)
        var sequence = 0
        func publish(_ perTopic: Int, current: Bool) async {
            for _ in 0..<perTopic {
                sequence += 1
                let student = "s-\(sequence % 3 + 1)"
                let course = sequence.isMultiple(of: 2) ? "c-1" : "c-2"
                for (topic, prefix) in zip(Self.topics, ["p", "l", "n"]) {
                    let id = "\(prefix)-\(String(format: "%03d", sequence))"
                    let data = #"{"studentId":"\#(student)","courseId":"\#(course)","seq":\#(sequence)}"#
                    await ledger.record(id: id, topic: topic, student: student, course: course)
                    await broker.publish(topic: topic, id: id, data: data, time: current ? Date() : historyClock)
                }
                historyClock += 2
            }
        }

        // Gateway A: subscribed and live, four browsers and one that will leave early.
        let tasksA = try await broker.attach(group: "a", to: first, topics: Self.topics)
        let viewers = [
            Viewer(subject: "s-1", roles: ["student"]),
            Viewer(subject: "s-2", roles: ["student"], courses: ["c-1"]),
            Viewer(subject: "i-1", roles: ["instructor"], students: ["s-1", "s-3"]),
            Viewer(subject: "a-1", roles: ["admin"]),
        ]
        var clients: [Client] = []
        for viewer in viewers + [Viewer(subject: "a-2", roles: ["admin"])] {
            let token = try await minter.token(
                subject: viewer.subject,
                roles: viewer.roles,
                studentIDs: viewer.students,
                courseIDs: viewer.courses,
                lifetime: .seconds(600)
            )
            let stream = try await first.readyStream(token: token, query: Self.query)
            clients.append(Client(viewer: viewer, token: token, stream: stream))
        }

        // History, part one: the early leaver sees it and disconnects.
        await publish(10, current: false)
        try await receiveEverything(&clients, ledger: ledger)
        let early = clients.removeLast()
        early.stream.close()

        // History, part two.
        await publish(20, current: false)
        try await receiveEverything(&clients, ledger: ledger)

        // Gateway B starts: not ready before daprd fetched its subscriptions.
        try await expectReadiness(second, code: "not_subscribed")
        #expect(try await first.get("/healthz").status == 200)
        #expect(try await second.get("/healthz").status == 200)
        // Its consumer group receives the retained history oldest first; hold it at half.
        await broker.limit(group: "b", to: 15)
        let tasksB = try await broker.attach(group: "b", to: second, topics: Self.topics)
        #expect(await broker.waitUntilDelivered(group: "b", count: 15, of: Self.topics, within: .seconds(30)))
        try await expectReadiness(second, code: "catching_up")

        // Live events keep coming: A delivers them at once, B's backlog grows.
        await publish(10, current: true)
        try await receiveEverything(&clients, ledger: ledger)
        try await expectReadiness(second, code: "catching_up")

        // The rollout moves every browser to B with its Last-Event-ID, mid catch-up: their
        // positions are ahead of B (held), the early leaver's is within what B has.
        var moved: [Client] = []
        for client in clients + [early] {
            client.stream.close()
            let lastID = try #require(client.received.last?.id, "\(client.viewer.subject) saw nothing")
            var resumed = client
            resumed.stream = try await second.readyStream(token: client.token, query: Self.query, lastEventID: lastID)
            moved.append(resumed)
        }
        try await expectReadiness(second, code: "catching_up")

        // B catches up while more live events come.
        await broker.limit(group: "b", to: nil)
        await publish(10, current: true)
        try await receiveEverything(&moved, ledger: ledger)
        #expect(await broker.waitUntilDelivered(group: "b", count: 50, of: Self.topics, within: .seconds(30)))
        #expect(await broker.waitUntilDelivered(group: "a", count: 50, of: Self.topics, within: .seconds(30)))
        #expect(await broker.deliveryFailures() == [])

        for client in moved {
            let name = client.viewer.subject
            #expect(!client.received.contains { $0.event == "reset" }, "\(name) got a reset")
            #expect(!client.received.contains { $0.event == "error" }, "\(name) got an error")
            let seen = client.received.compactMap { jsonObject($0.data)?["id"] as? String }
            #expect(Set(seen).count == seen.count, "\(name) got a duplicate")
            let expected = await ledger.expected(for: client.viewer)
            for topic in Self.topics {
                let got = client.received.filter { $0.event == topic }.compactMap {
                    jsonObject($0.data)?["id"] as? String
                }
                #expect(got == expected[topic] ?? [], "\(name) on \(topic): every event once, in order")
            }
        }
        // Nothing beyond: one more look at each stream finds no stray frame.
        for client in moved {
            #expect(await client.stream.nextEvent(timeout: .milliseconds(300)) == nil)
            client.stream.close()
        }

        // B has received events stamped now on every topic: caught up.
        let ready = try await second.get("/readyz")
        #expect(ready.status == 200, "\(ready.body)")
        let metrics = try await second.get("/metrics").body
        #expect(metrics.contains(#"sse_gateway_replay_requests_total{outcome="held"} 4"#), "\(metrics)")
        #expect(metrics.contains(#"sse_gateway_replay_requests_total{outcome="hit"} 1"#))
        #expect(metrics.contains(#"sse_gateway_replay_requests_total{outcome="gap"} 0"#))
        #expect(metrics.contains("sse_gateway_resume_holds_expired_total 0"))
        #expect(metrics.contains(#"sse_gateway_readiness{state="ready"} 1"#))
        for task in tasksA + tasksB { task.cancel() }
    }

    /// Reads from every client until it holds every event its scope allows so far.
    private func receiveEverything(_ clients: inout [Client], ledger: Ledger) async throws {
        for index in clients.indices {
            let expected = await ledger.expected(for: clients[index].viewer).values.reduce(0) { $0 + $1.count }
            let missing = expected - clients[index].received.filter { $0.event != "ready" }.count
            if missing > 0 {
                let more = await clients[index].stream.events(count: missing, timeout: .seconds(60))
                clients[index].received += more
            }
            let got = clients[index].received.count
            #expect(got >= expected, "\(clients[index].viewer.subject): \(got) of \(expected) events")
        }
    }

    /// `/readyz` answers 503 with this problem code.
    private func expectReadiness(_ gateway: GatewayProcess, code: String) async throws {
        let answer = try await gateway.get("/readyz")
        #expect(answer.status == 503, "\(answer.body)")
        #expect(jsonObject(answer.body)?["code"] as? String == code, "\(answer.body)")
    }
}
