import Foundation
import NIOCore
import Testing

@testable import GatewayBench

/// `--bulk N`: each publish request carries up to N events as a Dapr bulk body, and each
/// entry's status in the answer counts for its own event.
@Suite struct BulkPublishTests {
    @Test func aBulkRequestIsShapedAsDaprdPostsOne() throws {
        let request = try PublishRequest(
            url: "http://127.0.0.1:3000/dapr/topics/{topic}",
            body: BenchConfiguration.cloudEventBody(routing: .perUser),
            contentType: "application/cloudevents+json",
            headers: [("dapr-api-token", "x")],
            topic: "student.progress",
            runID: "r1"
        )
        let (head, body) = request.renderBulk(
            sequences: 7..<10,
            sentAt: 123,
            users: ["s-1", "s-2", "s-3"],
            allocator: ByteBufferAllocator()
        )
        #expect(head.uri == "/dapr/topics/student.progress")
        #expect(head.headers["Content-Type"] == ["application/json"])
        #expect(head.headers["Content-Length"] == [String(body.readableBytes)])
        #expect(head.headers["dapr-api-token"] == ["x"])
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        )
        #expect(object["type"] as? String == "com.dapr.event.sent.bulk")
        #expect(object["topic"] as? String == "student.progress")
        #expect(object["pubsubname"] as? String == "pubsub")
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.map { $0["entryId"] as? String } == ["0", "1", "2"])
        #expect(entries.allSatisfy { $0["contentType"] as? String == "application/cloudevents+json" })
        let events = entries.compactMap { $0["event"] as? [String: Any] }
        #expect(events.map { $0["id"] as? String } == ["bench-r1-7", "bench-r1-8", "bench-r1-9"])
        let data = events.compactMap { $0["data"] as? [String: Any] }
        #expect(data.map { $0["studentId"] as? String } == ["s-1", "s-2", "s-3"])
        #expect(data.map { $0["seq"] as? Int } == [7, 8, 9])
        #expect(data.allSatisfy { $0["t"] as? Int == 123 })
    }

    @Test func eachEntryIsAcknowledgedByItsOwnStatus() {
        let answer =
            #"{"statuses":[{"entryId":"0","status":"SUCCESS"},{"entryId":"2","status":"DROP"},{"entryId":"1","status":"SUCCESS"},{"entryId":"9","status":"SUCCESS"}]}"#
        // Entry 3 is missing: daprd retries what the answer leaves out.
        #expect(BulkAnswer.acknowledged(answer, entries: 4) == [true, true, false, false])
        #expect(BulkAnswer.acknowledged(#"{"status":"SUCCESS"}"#, entries: 2) == [false, false])
        #expect(BulkAnswer.acknowledged("", entries: 1) == [false])
    }

    @Test func aBatchTakesTheEventsDueUpToItsSize() {
        let schedule = PublishSchedule()
        schedule.begin(PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 250), index: 0, now: 0) {}
        var count = 0
        var firsts: [Int] = []
        var counts: [Int] = []
        while case .send(let first) = schedule.nextBatch(now: 1, maximum: 100, count: &count) {
            firsts.append(first)
            counts.append(count)
        }
        #expect(firsts == [0, 100, 200])
        #expect(counts == [100, 100, 50])
        #expect(schedule.inFlight == 250)
        // Paced at 10 events/s: at 250 ms three events are due (0, 100 and 200 ms).
        let paced = PublishSchedule()
        paced.begin(PublishPhase(rate: 10, duration: .seconds(1), maximumEvents: 100), index: 0, now: 0) {}
        #expect(paced.nextBatch(now: 250_000_000, maximum: 100, count: &count).isSend)
        #expect(count == 3)
    }
}

extension PublishSchedule.Step {
    fileprivate var isSend: Bool {
        if case .send = self { return true }
        return false
    }
}
