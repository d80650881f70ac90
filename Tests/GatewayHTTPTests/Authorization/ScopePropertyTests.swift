import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatewayHTTP

/// Randomized, seeded: many users with different claims, thousands of events, real SSE
/// connections on a real port. Every user receives exactly the events the design's table
/// allows, computed here independently of the gateway's own rule code.
@Suite struct ScopePropertyTests {
    struct User: Sendable {
        var subject: String
        var roles: [String]
        var students: [String]
        var courses: [String]
    }

    struct Event: Sendable {
        var id: String
        var topic: String
        var studentID: String?
        var courseID: String?
        var audience: [String]
    }

    /// The design's table (section 5), written out again on purpose.
    static func sees(_ user: User, _ event: Event) -> Bool {
        if user.roles.contains("admin") { return true }
        func followsStudent(_ id: String?) -> Bool {
            guard let id else { return false }
            return id == user.subject || user.students.contains(id)
        }
        switch event.topic {
        case "student.progress": return followsStudent(event.studentID)
        case "learning.events":
            if let course = event.courseID, user.courses.contains(course) { return true }
            return followsStudent(event.studentID)
        default:
            return event.audience.isEmpty || !Set(event.audience).isDisjoint(with: user.roles)
        }
    }

    @Test func everyUserReceivesExactlyTheEventsTheRulesAllow() async throws {
        var random = SeededGenerator(seed: 20_261_202)
        let students = (0..<40).map { "s-\($0)" }
        let courses = (0..<8).map { "c-\($0)" }
        var users: [User] = []
        for index in 0..<90 {
            switch index % 6 {
            case 0, 1, 2:
                users.append(
                    User(
                        subject: students[index % students.count] + "-\(index / 40)",
                        roles: ["student"],
                        students: [],
                        courses: []
                    )
                )
            case 3:
                users.append(
                    User(
                        subject: "i-\(index)",
                        roles: ["instructor"],
                        students: (0..<Int.random(in: 0...5, using: &random)).map { _ in
                            students.randomElement(using: &random)!
                        },
                        courses: (0..<Int.random(in: 0...2, using: &random)).map { _ in
                            courses.randomElement(using: &random)!
                        }
                    )
                )
            case 4: users.append(User(subject: "a-\(index)", roles: ["admin"], students: [], courses: []))
            default: users.append(User(subject: "u-\(index)", roles: [], students: [], courses: []))
            }
        }
        // Students whose subject is a real student id, so their own events exist.
        for index in 0..<10 {
            users.append(User(subject: students[index], roles: ["student"], students: [], courses: []))
        }
        let topics = ["student.progress", "learning.events", "system.notifications"]
        var events: [Event] = []
        for index in 0..<600 {
            let topic = topics[index % 3]
            let student =
                Bool.random(using: &random) || topic == "student.progress"
                ? students.randomElement(using: &random) : nil
            let course =
                topic == "learning.events" && Bool.random(using: &random) ? courses.randomElement(using: &random) : nil
            let roleChoices = [[], [], ["instructor"], ["student"], ["admin"], ["student", "instructor"]]
            let audience = topic == "system.notifications" ? roleChoices.randomElement(using: &random)! : []
            events.append(
                Event(id: "ev-\(index)", topic: topic, studentID: student, courseID: course, audience: audience)
            )
        }
        let finalUsers = users
        let finalEvents = events
        try await TestGateway.run { gateway in
            var streams: [SSEClient] = []
            for user in finalUsers {
                let token = try await gateway.token(
                    user.subject,
                    roles: user.roles,
                    studentIDs: user.students,
                    courseIDs: user.courses
                )
                streams.append(try await gateway.readyStream(token: token))
            }
            for event in finalEvents {
                var data: [String] = []
                if let student = event.studentID { data.append(#""studentId":"\#(student)""#) }
                if let course = event.courseID { data.append(#""courseId":"\#(course)""#) }
                if !event.audience.isEmpty { data.append(#""audience":\#(JSONText.array(event.audience))"#) }
                let reply = try await gateway.deliver(
                    topic: event.topic,
                    id: event.id,
                    data: "{" + data.joined(separator: ",") + "}"
                )
                #expect(reply.body == #"{"status":"SUCCESS"}"#)
            }
            // A notification for everyone marks the end of each stream's share.
            try await gateway.deliver(topic: "system.notifications", id: "end", data: "{}")
            for (user, stream) in zip(finalUsers, streams) {
                var received: [String] = []
                while let event = await stream.nextEvent(timeout: .seconds(10)) {
                    let id = jsonObject(event.data)?["id"] as? String ?? "?"
                    if id == "end" { break }
                    received.append(id)
                }
                let expected = finalEvents.filter { Self.sees(user, $0) }.map(\.id)
                #expect(Set(received) == Set(expected), "\(user.subject) \(user.roles)")
                #expect(received.count == expected.count, "\(user.subject): duplicates")
                stream.close()
            }
        }
    }
}

/// A small deterministic generator (SplitMix64) so a failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
