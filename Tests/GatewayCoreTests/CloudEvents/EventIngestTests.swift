import Foundation
import GatewayCore
import NIOCore
import Testing

/// Every way an event reaches the ingest step (structured, Dapr's envelope and bulk body,
/// binary mode, `data_base64`, string data, CloudEvents batches), with exactly the bodies
/// and headers daprd and the CloudEvents SDKs send.
@Suite struct EventIngestTests {
    private let harness = IngestHarness()

    private func header(_ pairs: [String: String]) -> CloudEventHeaders {
        CloudEventHeaders { pairs[$0] }
    }

    @Test func aFrameIsTheEnvelopeOnOneDataLineWithDataAsWrittenLessItsWhitespace() throws {
        let body = """
            {
              "specversion": "1.0", "id": "e-1", "source": "lms", "type": "progress",
              "data": { "studentId" : "s-1", "note" : "two  spaces\\nand an escaped line break",
                        "score" : 1.50, "big" : 1E3, "list" : [ 1 , { } ] }
            }
            """
        let frame = try harness.event(body).frame
        #expect(
            String(buffer: frame.body)
                == #"event: student.progress"# + "\n"
                + #"data: {"id":"e-1","topic":"student.progress","type":"progress","source":"lms","data":{"studentId":"s-1","note":"two  spaces\nand an escaped line break","score":1.50,"big":1E3,"list":[1,{}]}}"#
                + "\n\n"
        )
        #expect(frame.envelopeBytes.readableBytes == frame.envelope.utf8.count)
        #expect(frame.facts.studentID == "s-1")
    }

    @Test func stringDataHoldingAnObjectAfterWhitespaceIsMatchedAndForwardedAsTheObject() throws {
        // What daprd delivers for `curl -d` or a text/plain publish of a JSON object.
        let frame = try harness.event(
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"\n  {\"studentId\": \"s-1\",\n \"score\": 3}\n"}"#
        ).frame
        #expect(frame.facts.studentID == "s-1")
        #expect(frame.envelope.hasSuffix(#","data":{"studentId":"s-1","score":3}}"#))
    }

    @Test(arguments: [#""[1,2]""#, #""{not json""#, #""{\"a\":1,}""#, #""""#, #""42""#])
    func otherStringDataIsForwardedAsTheString(data: String) throws {
        let frame = try harness.event(#"{"specversion":"1.0","id":"1","source":"s","type":"t","data":"# + data + "}")
            .frame
        #expect(frame.envelope.hasSuffix(#","data":"# + data + "}"))
        #expect(frame.facts.scopeValues.isEmpty)
    }

    @Test func dataBase64HoldingAJSONObjectIsMatchedAndForwardedAsData() throws {
        let object = Data(#" {"studentId":"s-7","courseId":"c-1"} "#.utf8).base64EncodedString()
        let frame = try harness.event(
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/json","data_base64":""#
                + object + #""}"#
        ).frame
        #expect(frame.facts.studentID == "s-7")
        #expect(frame.envelope.hasSuffix(#","data":{"studentId":"s-7","courseId":"c-1"}}"#))
    }

    @Test func otherDataBase64IsForwardedAsIs() throws {
        for payload in [
            Data([0, 1, 2, 0xFF]).base64EncodedString(), Data("[1]".utf8).base64EncodedString(), "not base64!",
        ] {
            let frame = try harness.event(
                #"{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":""# + payload + #""}"#
            ).frame
            #expect(frame.envelope.hasSuffix(#","data":null,"data_base64":""# + payload + #""}"#))
            #expect(frame.facts.scopeValues.isEmpty)
        }
    }

    @Test func binaryModeTakesTheAttributesFromCeHeaders() throws {
        // The CloudEvents SDKs' and Knative's default: attributes in percent-encoded `ce-*`
        // headers, the data as the body with its own content type.
        let headers = header([
            "ce-specversion": "1.0", "ce-id": "b-1", "ce-source": "https%3A%2F%2Fexample.com%2Fsvc%20a",
            "ce-type": "com.example.progress", "ce-time": "2026-12-02T08:00:00Z",
        ])
        let json = try harness.event(
            #"{ "studentId": "s-1", "score": 3 }"#,
            contentType: "application/json",
            headers: headers
        )
        #expect(json.frame.eventID == "b-1")
        #expect(json.frame.facts.studentID == "s-1")
        #expect(json.frame.time == "2026-12-02T08:00:00Z")
        #expect(
            json.frame.envelope
                == #"{"id":"b-1","topic":"student.progress","type":"com.example.progress","source":"https://example.com/svc a","time":"2026-12-02T08:00:00Z","data":{"studentId":"s-1","score":3}}"#
        )
        let text = try harness.event("plain words", contentType: "text/plain; charset=utf-8", headers: headers)
        #expect(text.frame.envelope.hasSuffix(#","data":"plain words"}"#))
        let objectAsText = try harness.event(#"{"studentId":"s-2"}"#, contentType: "text/plain", headers: headers)
        #expect(objectAsText.frame.facts.studentID == "s-2")
        let binary = try harness.event("\u{0}\u{1}", contentType: "application/octet-stream", headers: headers)
        #expect(binary.frame.envelope.hasSuffix(#","data":null,"data_base64":"AAE="}"#))
        let empty = try harness.event("", contentType: nil, headers: headers)
        #expect(empty.frame.envelope.hasSuffix(#","data":null}"#))
    }

    @Test func binaryModeRefusesWhatStructuredModeRefuses() {
        var missingID = header(["ce-specversion": "1.0", "ce-source": "s", "ce-type": "t"])
        #expect(throws: IngestRefusal.poison(.missingAttribute("id"))) {
            try harness.event("{}", contentType: "application/json", headers: missingID)
        }
        missingID.id = "a%0Ab"
        #expect(throws: IngestRefusal.poison(.controlCharacter("id"))) {
            try harness.event("{}", contentType: "application/json", headers: missingID)
        }
        missingID.id = "a%zz"
        #expect(throws: IngestRefusal.poison(.invalidHeaderEncoding("ce-id"))) {
            try harness.event("{}", contentType: "application/json", headers: missingID)
        }
        missingID.id = "%C0%AF"
        #expect(throws: IngestRefusal.poison(.invalidHeaderEncoding("ce-id"))) {
            try harness.event("{}", contentType: "application/json", headers: missingID)
        }
    }

    @Test func aStructuredContentTypeWinsOverStrayCeHeaders() throws {
        // daprd turns publisher metadata into plain headers; a `ce-specversion` among them
        // does not make its structured delivery binary.
        let event = try harness.event(
            #"{"specversion":"1.0","id":"s-1","source":"s","type":"t","data":{"studentId":"s-3"}}"#,
            contentType: "application/cloudevents+json",
            headers: header(["ce-specversion": "1.0", "ce-id": "other"])
        )
        #expect(event.frame.eventID == "s-1")
        #expect(event.frame.facts.studentID == "s-3")
    }

    @Test func aBulkBodyIsReadOnceAndEachEntryMeasuredByItsOwnBytes() throws {
        let harness = IngestHarness(maxEventBytes: 120, bulk: true)
        // The second entry's event is 82 bytes compact but 122 as written: entries are
        // measured as they came, not re-encoded.
        let body = """
            {"id":"b1","pubsubname":"pubsub","topic":"student.progress","type":"com.dapr.event.sent.bulk","metadata":{},"entries":[
             {"entryId":"0","event":{"specversion":"1.0","id":"e1","source":"s","type":"t","traceparent":"00-aa-bb-01","data":{"studentId":"s-1"}},"contentType":"application/cloudevents+json","metadata":{}},
             {"entryId":"1","event":{\(String(repeating: " ", count: 40))"specversion":"1.0","id":"e2","source":"s","type":"t","data":{"studentId":"s-2"}},"contentType":"application/cloudevents+json","metadata":{}},
             {"entryId":"2","event":"not an object","contentType":"application/cloudevents+json","metadata":{}},
             {"entryId":"3","event":{"specversion":"1.0","source":"s","type":"t"},"metadata":{}}
            ]}
            """
        guard case .bulk(let entries) = harness.result(body, contentType: "application/json") else {
            Issue.record("not read as a bulk body")
            return
        }
        #expect(entries.map(\.entryID) == ["0", "1", "2", "3"])
        let first = try entries[0].result.get()
        #expect(first.frame.facts.studentID == "s-1")
        #expect(first.traceparent == "00-aa-bb-01")
        #expect(throws: CloudEventError.tooLarge(limit: 120)) { try entries[1].result.get() }
        #expect(throws: CloudEventError.notJSONObject) { try entries[2].result.get() }
        #expect(throws: CloudEventError.missingAttribute("id")) { try entries[3].result.get() }
    }

    @Test func aBulkBodyOverTheEntryBoundIsRefusedWhole() {
        let harness = IngestHarness(bulk: true, bulkMaxEntries: 3)
        let entry = #"{"entryId":"x","event":{"specversion":"1.0","id":"e","source":"s","type":"t"}}"#
        let four = #"{"entries":["# + Array(repeating: entry, count: 4).joined(separator: ",") + "]}"
        guard case .refused(.tooManyEntries(limit: 3)) = harness.result(four, contentType: "application/json") else {
            Issue.record("four entries were taken")
            return
        }
        let three = #"{"entries":["# + Array(repeating: entry, count: 3).joined(separator: ",") + "]}"
        guard case .bulk(let entries) = harness.result(three, contentType: "application/json") else {
            Issue.record("three entries were refused")
            return
        }
        #expect(entries.count == 3)
        #expect(
            harness.ingest.bodyBound(mode: .structured, contentType: "application/json").refusal
                == .bodyTooLarge(limit: 1 << 20)
        )
        #expect(
            harness.ingest.bodyBound(mode: .structured, contentType: "application/cloudevents+json").refusal
                == .poison(.tooLarge(limit: 65536))
        )
    }

    @Test func withoutBulkSubscribeAnEntriesMemberIsJustAMember() throws {
        let event = try harness.event(
            #"{"specversion":"1.0","id":"1","source":"s","type":"t","entries":[1],"data":{"studentId":"s-1"}}"#,
            contentType: "application/json"
        )
        #expect(event.frame.facts.studentID == "s-1")
    }

    @Test func aCloudEventsBatchIsReadAsOneEventPerElement() throws {
        let body =
            #"[{"specversion":"1.0","id":"a","source":"s","type":"t","data":{"studentId":"s-1"}},7,{"specversion":"1.0","id":"b"}]"#
        guard case .batch(let entries) = harness.result(body, contentType: "application/cloudevents-batch+json") else {
            Issue.record("not read as a batch")
            return
        }
        #expect(try entries[0].result.get().frame.facts.studentID == "s-1")
        #expect(throws: CloudEventError.notJSONObject) { try entries[1].result.get() }
        #expect(throws: CloudEventError.missingAttribute("source")) { try entries[2].result.get() }
    }

    @Test func theRoutingFieldsAreTheRulesFieldsAtTheTopOfData() throws {
        let notifications = try harness.event(
            #"{"specversion":"1.0","id":"n","source":"s","type":"t","data":{"audience":["instructor",7,true,null,["x"]],"priority":"critical","nested":{"audience":["admin"]}}}"#,
            topic: 2
        )
        #expect(notifications.frame.facts.audience == ["instructor", "7", "true"])
        #expect(notifications.frame.facts.priority == .critical)
        let learning = try harness.event(
            #"{"specversion":"1.0","id":"l","source":"s","type":"t","data":{"courseId":12.0,"studentId":"s-1","studentId":"s-2"}}"#,
            topic: 1
        )
        // Numbers are keys as JSONValue.scalarText renders them; the last duplicate wins.
        #expect(learning.frame.facts.scopeValues == ["courseId": "12", "studentId": "s-2"])
        #expect(learning.frame.facts.priority == .normal)
    }
}
