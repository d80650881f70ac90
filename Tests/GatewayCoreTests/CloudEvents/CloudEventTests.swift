import GatewayCore
import Testing

/// The CloudEvent rules, through the ingest step every route uses.
@Suite struct CloudEventTests {
    private func decode(_ text: String, limit: Int = 65536) throws(CloudEventError) -> IngestedEvent {
        do {
            return try IngestHarness(maxEventBytes: limit).event(text)
        } catch {
            guard case .poison(let reason) = error else { throw .notJSONObject }
            throw reason
        }
    }

    @Test func decodesTheEnvelopeDaprWrites() throws {
        let event = try decode(
            #"{"specversion":"1.0","id":"5929aaac-a5e2-4ca1-859c-edfe73f11565","source":"backend","type":"com.dapr.event.sent","time":"2026-12-02T08:00:00Z","datacontenttype":"application/json","topic":"student.progress","pubsubname":"pubsub","traceparent":"00-abc-def-01","data":{"studentId":"s-1","score":92.5}}"#
        )
        let frame = event.frame
        #expect(frame.eventID == "5929aaac-a5e2-4ca1-859c-edfe73f11565")
        #expect(frame.time == "2026-12-02T08:00:00Z")
        #expect(event.traceparent == "00-abc-def-01")
        #expect(frame.facts.type == "com.dapr.event.sent")
        #expect(frame.facts.studentID == "s-1")
        #expect(frame.facts.scopeValues == ["studentId": "s-1"])
        #expect(
            frame.envelope
                == #"{"id":"5929aaac-a5e2-4ca1-859c-edfe73f11565","topic":"student.progress","type":"com.dapr.event.sent","source":"backend","time":"2026-12-02T08:00:00Z","data":{"studentId":"s-1","score":92.5}}"#
        )
    }

    @Test func promotesStringDataHoldingAJSONObjectAndKeepsOtherStrings() throws {
        let promoted = try decode(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"{\"studentId\":7}"}"#)
        #expect(promoted.frame.facts.scopeValues["studentId"] == "7")
        #expect(promoted.frame.envelopeObject["data"] as? [String: Int] == ["studentId": 7])
        let text = try decode(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"plain words"}"#)
        #expect(text.frame.envelopeObject["data"] as? String == "plain words")
        #expect(text.frame.facts.scopeValues.isEmpty)
    }

    @Test func refusesWhatIsNotAForwardableCloudEvent() {
        let cases: [(String, CloudEventError)] = [
            ("nope", .invalidJSON(JSONSyntaxError(.invalidLiteral, at: 0))),
            ("hello", .invalidJSON(JSONSyntaxError(.unexpectedByte, at: 0))),
            ("[1,2]", .notJSONObject),
            (#"{"id":"1","source":"s","type":"t"}"#, .missingAttribute("specversion")),
            (#"{"specversion":"1.0","source":"s","type":"t"}"#, .missingAttribute("id")),
            (#"{"specversion":"1.0","id":"1","type":"t"}"#, .missingAttribute("source")),
            (#"{"specversion":"1.0","id":"1","source":"s"}"#, .missingAttribute("type")),
            (#"{"specversion":"1.0","id":1,"source":"s","type":"t"}"#, .attributeNotString("id")),
            (#"{"specversion":"2.0","id":"1","source":"s","type":"t"}"#, .unsupportedSpecVersion("2.0")),
            (#"{"specversion":"1.0","id":"1\n","source":"s","type":"t"}"#, .controlCharacter("id")),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"t\r"}"#, .controlCharacter("type")),
            (#"{"specversion":"1.0","id":"1","source":"s\u0000","type":"t"}"#, .controlCharacter("source")),
            (#"{"specversion":"1.0","id":"1","source":"s","type":"t","time":5}"#, .attributeNotString("time")),
            (
                #"{"specversion":"1.0","id":"1","source":"s","type":"t","data":{},"data_base64":"e30="}"#,
                .dataAndDataBase64
            ),
            // What Foundation on Linux let through, and the strict scanner refuses again.
            (
                #"{"specversion":"1.0","id":"1","source":"s","type":"t",}"#,
                .invalidJSON(JSONSyntaxError(.trailingComma, at: 54))
            ),
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

    @Test func nullAttributesAreAbsentAndEscapedNamesAreTheirDecodedNames() throws {
        let event = try decode(
            #"{"specversion":"1.0","\u0069d":"e-1","source":"s","type":"t","time":null,"data":{"\u0073tudentId":"s-9"}}"#
        )
        #expect(event.frame.eventID == "e-1")
        #expect(event.frame.time == nil)
        // A browser's JSON.parse sees `studentId` too: the gateway routes on what it shows.
        #expect(event.frame.facts.studentID == "s-9")
    }
}
