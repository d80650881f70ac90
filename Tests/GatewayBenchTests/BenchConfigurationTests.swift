import Foundation
import GatewayBench
import Testing

/// The configuration names each connection's user and supplies the default publish
/// body, whose fields the subscribers read back to count deliveries and latency.
@Suite struct BenchConfigurationTests {
    private static func configuration(userPrefix: String = "s-", routing: Routing = .broadcast) -> BenchConfiguration {
        BenchConfiguration(
            subscribeURL: "http://127.0.0.1:8080/streams/progress?user={user}",
            connections: 2,
            connectConcurrency: 1,
            connectTimeout: .seconds(1),
            userPrefix: userPrefix,
            tokens: nil,
            publishURL: nil,
            publishBody: BenchConfiguration.cloudEventBody(routing: routing),
            publishContentType: "application/cloudevents+json",
            publishHeaders: [],
            topic: "progress",
            publishConnections: 1,
            phases: [],
            routing: routing,
            drainTimeout: .seconds(1),
            hold: .zero,
            serverPIDs: [],
            threads: 1,
            runID: "r1"
        )
    }

    /// The body of event 7 sent at 99 ns by `s-3` in run `r1`, as the publisher renders it.
    private static func renderedBody(routing: Routing) -> String {
        Template(BenchConfiguration.cloudEventBody(routing: routing)).render { name in
            switch name {
            case "seq": "7"
            case "t": "99"
            case "user": "s-3"
            case "topic": "progress"
            case "run": "r1"
            default: nil
            }
        }
    }

    @Test func namesEachConnectionsUserByPrefixAndIndex() {
        let configuration = Self.configuration(userPrefix: "s-")
        #expect(configuration.user(0) == "s-0")
        #expect(configuration.user(12) == "s-12")
        #expect(Self.configuration(userPrefix: "").user(3) == "3")
    }

    @Test func theBroadcastBodyIsACloudEventWithTheSequenceAndSendTime() {
        // The run id is in the event id, so a server's de-duplication of an earlier run's
        // ids never hides this run's events.
        #expect(
            Self.renderedBody(routing: .broadcast)
                == #"{"specversion":"1.0","id":"bench-r1-7","source":"sse-gateway-bench","type":"bench.event","#
                + #""datacontenttype":"application/json","data":{"seq":7,"t":99}}"#
        )
    }

    @Test func thePerUserBodyAlsoNamesTheStudent() {
        #expect(
            Self.renderedBody(routing: .perUser)
                == #"{"specversion":"1.0","id":"bench-r1-7","source":"sse-gateway-bench","type":"bench.event","#
                + #""datacontenttype":"application/json","data":{"seq":7,"t":99,"studentId":"s-3"}}"#
        )
    }

    @Test(arguments: Routing.allCases)
    func theRenderedBodyIsValidJSON(routing: Routing) throws {
        let data = Data(Self.renderedBody(routing: routing).utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let eventData = try #require(object["data"] as? [String: Any])
        #expect(eventData["seq"] as? Int == 7)
        #expect(eventData["t"] as? Int == 99)
        #expect((eventData["studentId"] as? String) == (routing == .perUser ? "s-3" : nil))
    }

    @Test func subscribersReadBackWhatThePublisherStamped() {
        // The whole point of the body: a `data:` line carrying it yields the sequence
        // number, the send time and the student.
        let line = Array(("data: " + Self.renderedBody(routing: .perUser)).utf8)
        line.withUnsafeBytes { bytes in
            #expect(SSEFields.integer(after: SSEFields.sequenceKey, in: bytes) == 7)
            #expect(SSEFields.integer(after: SSEFields.timestampKey, in: bytes) == 99)
            let student = SSEFields.string(after: SSEFields.studentKey, in: bytes)
            #expect(student.map { String(decoding: $0, as: UTF8.self) } == "s-3")
        }
    }

    @Test func routingIsSpelledAsOnTheCommandLine() {
        #expect(Routing(rawValue: "broadcast") == .broadcast)
        #expect(Routing(rawValue: "per-user") == .perUser)
        #expect(Routing(rawValue: "perUser") == nil)
    }
}
