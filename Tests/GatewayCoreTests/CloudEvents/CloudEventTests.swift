import GatewayCore
import Testing

@Suite struct CloudEventTests {
    private func decode(_ text: String, limit: Int = 65536) throws(CloudEventError) -> CloudEvent {
        try CloudEvent(decoding: Array(text.utf8), maximumBytes: limit)
    }

    @Test func decodesTheEnvelopeDaprWrites() throws {
        let event = try decode(
            #"{"specversion":"1.0","id":"5929aaac-a5e2-4ca1-859c-edfe73f11565","source":"backend","type":"com.dapr.event.sent","time":"2026-12-02T08:00:00Z","datacontenttype":"application/json","topic":"student.progress","pubsubname":"pubsub","traceparent":"00-abc-def-01","data":{"studentId":"s-1","score":92.5}}"#
        )
        #expect(event.id == "5929aaac-a5e2-4ca1-859c-edfe73f11565")
        #expect(event.source == "backend")
        #expect(event.type == "com.dapr.event.sent")
        #expect(event.time == "2026-12-02T08:00:00Z")
        #expect(event.traceparent == "00-abc-def-01")
        #expect(event.data["studentId"] == .string("s-1"))
        #expect(event.data["score"] == .number(92.5))
    }

    @Test func promotesStringDataHoldingAJSONObjectAndKeepsOtherStrings() throws {
        let promoted = try decode(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"{\"studentId\":7}"}"#)
        #expect(promoted.data["studentId"]?.scalarText == "7")
        let text = try decode(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"plain words"}"#)
        #expect(text.data == .string("plain words"))
    }

    @Test func refusesWhatIsNotAForwardableCloudEvent() {
        let cases: [(String, CloudEventError)] = [
            ("nope", .notJSONObject),
            (#"{"id":"1","source":"s","type":"t"}"#, .missingAttribute("specversion")),
            (#"{"specversion":"1.0","source":"s","type":"t"}"#, .missingAttribute("id")),
            (#"{"specversion":"1.0","id":"1","type":"t"}"#, .missingAttribute("source")),
            (#"{"specversion":"1.0","id":"1","source":"s"}"#, .missingAttribute("type")),
            (#"{"specversion":"1.0","id":1,"source":"s","type":"t"}"#, .attributeNotString("id")),
            (#"{"specversion":"2.0","id":"1","source":"s","type":"t"}"#, .unsupportedSpecVersion("2.0")),
            (#"{"specversion":"1.0","id":"1\n","source":"s","type":"t"}"#, .controlCharacter("id")),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"t\r"}"#, .controlCharacter("type")),
            (#"{"specversion":"1.0","id":"1","source":"s\u0000","type":"t"}"#, .controlCharacter("source")),
        ]
        for (body, expected) in cases {
            #expect(throws: expected, "\(body)") { try decode(body) }
        }
        #expect(throws: CloudEventError.tooLarge(limit: 10)) { try decode(#"{"specversion":"1.0"}"#, limit: 10) }
        let longID = String(repeating: "a", count: 201)
        #expect(throws: CloudEventError.attributeTooLong("id", limit: 200)) {
            try decode(#"{"specversion":"1.0","id":"\#(longID)","source":"s","type":"t"}"#)
        }
    }
}
