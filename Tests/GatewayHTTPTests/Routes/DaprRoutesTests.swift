import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import GatewayHTTP

@Suite struct DaprRoutesTests {
    @Test func subscribeAnnouncesOneSubscriptionPerTopicWithItsDeliveryRoute() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.get("/dapr/subscribe")
            #expect(response.status == .ok)
            let list = try #require(
                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]]
            )
            #expect(list.count == 3)
            #expect(
                list.map { $0["topic"] as? String } == ["student.progress", "learning.events", "system.notifications"]
            )
            for entry in list {
                #expect(entry["pubsubname"] as? String == "pubsub")
                #expect(entry["route"] as? String == "/dapr/topics/" + (entry["topic"] as? String ?? ""))
                #expect(entry["bulkSubscribe"] == nil)
                #expect(entry["deadLetterTopic"] as? String == "sse-gateway.deadletter")
            }
        }
    }

    @Test func subscribeAnnouncesBulkSettingsAsNumbersWhenEnabled() async throws {
        try await TestGateway.run(
            settings: TestGateway.settings {
                $0.bulk.enabled = true
                $0.bulk.maxMessagesCount = 50
                $0.bulk.maxAwaitDurationMilliseconds = 25
            }
        ) { gateway in
            let response = try await gateway.get("/dapr/subscribe")
            let text = String(buffer: response.body)
            #expect(text.contains(#""bulkSubscribe":{"enabled":true,"maxMessagesCount":50,"maxAwaitDurationMs":25}"#))
        }
    }

    @Test func aDeliveredEventIsPushedToAConnectedStream() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let reply = try await gateway.deliver(
                topic: "student.progress",
                id: "evt-1",
                type: "progress.updated",
                data: #"{"studentId":"s-1","score":92}"#
            )
            #expect(reply.status == 200)
            #expect(reply.body == #"{"status":"SUCCESS"}"#)
            // Pushed as it arrives (latency figures belong to the benchmarks, not to this test).
            let event = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(event.event == "student.progress")
            #expect(event.id == "0:evt-1")
            let envelope = try #require(jsonObject(event.data))
            #expect(envelope["id"] as? String == "evt-1")
            #expect(envelope["topic"] as? String == "student.progress")
            #expect(envelope["type"] as? String == "progress.updated")
            #expect(envelope["source"] as? String == "test")
            #expect(envelope["time"] as? String == "2026-12-02T08:00:00Z")
            let data = try #require(envelope["data"] as? [String: Any])
            #expect(data["studentId"] as? String == "s-1")
            #expect(data["score"] as? Int == 92)
            #expect(!event.data.contains("\n"))
            stream.close()
        }
    }

    @Test func aPlainJSONEnvelopeAndAStringDataObjectAreAccepted() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let body =
                #"{"specversion":"1.0","id":"evt-s","source":"curl","type":"com.dapr.event.sent","data":"{\"studentId\":\"s-1\",\"score\":3}"}"#
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: body,
                contentType: "application/json"
            )
            #expect(reply.body == #"{"status":"SUCCESS"}"#)
            let event = try #require(await stream.nextEvent(timeout: .seconds(2)))
            let data = try #require(jsonObject(event.data)?["data"] as? [String: Any])
            #expect(data["score"] as? Int == 3)
            stream.close()
        }
    }

    @Test(arguments: [
        "not json at all",
        "[1,2,3]",
        #"{"id":"x","source":"s","type":"t","data":{}}"#,
        #"{"specversion":"1.0","source":"s","type":"t","data":{}}"#,
        #"{"specversion":"1.0","id":"x","type":"t","data":{}}"#,
        #"{"specversion":"1.0","id":"x","source":"s","data":{}}"#,
        #"{"specversion":"1.0","id":"","source":"s","type":"t","data":{}}"#,
        #"{"specversion":"1.0","id":7,"source":"s","type":"t","data":{}}"#,
        #"{"specversion":"1.0","id":"a\r\nevent: injected","source":"s","type":"t","data":{}}"#,
        #"{"specversion":"1.0","id":"x","source":"s","type":"t\ndata: injected","data":{}}"#,
        #"{"specversion":"0.3","id":"x","source":"s","type":"t","data":{}}"#,
    ])
    func aPoisonEventIsDropped(body: String) async throws {
        try await TestGateway.run { gateway in
            let reply = try await gateway.deliver(topic: "student.progress", body: body)
            #expect(reply.status == 200)
            #expect(reply.body == #"{"status":"DROP"}"#)
            #expect(gateway.hub.replayCount(topicIndex: 0) == 0)
        }
    }

    @Test func anEventOverTheSizeLimitIsDropped() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.maxEventBytes = 1024 }) { gateway in
            let padding = String(repeating: "x", count: 2000)
            let reply = try await gateway.deliver(topic: "student.progress", id: "big", data: #"{"pad":"\#(padding)"}"#)
            #expect(reply.body == #"{"status":"DROP"}"#)
            let small = try await gateway.deliver(topic: "student.progress", id: "small", data: #"{"pad":"x"}"#)
            #expect(small.body == #"{"status":"SUCCESS"}"#)
        }
    }

    @Test func anUnknownTopicIsNotFound() async throws {
        try await TestGateway.run { gateway in
            let reply = try await gateway.deliver(topic: "billing.invoices", id: "x", data: "{}")
            #expect(reply.status == 404)
        }
    }

    @Test func aRedeliveredEventIsAcknowledgedButDeliveredOnce() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            for _ in 0..<3 {
                let reply = try await gateway.deliver(
                    topic: "student.progress",
                    id: "same",
                    data: #"{"studentId":"s-1"}"#
                )
                #expect(reply.body == #"{"status":"SUCCESS"}"#)
            }
            try await gateway.deliver(topic: "student.progress", id: "next", data: #"{"studentId":"s-1"}"#)
            let events = await stream.events(count: 3, timeout: .seconds(2))
            #expect(events.compactMap { jsonObject($0.data)?["id"] as? String } == ["same", "next"])
            stream.close()
        }
    }

    @Test func withAnAppTokenEveryDaprRouteRequiresIt() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.appAPIToken = "sidecar-secret" }) { gateway in
            let event = #"{"specversion":"1.0","id":"a","source":"s","type":"t","data":{}}"#
            let missing = try await gateway.deliver(topic: "student.progress", body: event)
            #expect(missing.status == 401)
            let wrong = try await gateway.deliver(
                topic: "student.progress",
                body: event,
                headers: [("dapr-api-token", "sidecar-secreT")]
            )
            #expect(wrong.status == 401)
            let right = try await gateway.deliver(
                topic: "student.progress",
                body: event,
                headers: [("dapr-api-token", "sidecar-secret")]
            )
            #expect(right.status == 200)
            #expect(right.body == #"{"status":"SUCCESS"}"#)
            let subscribe = try await gateway.get("/dapr/subscribe")
            #expect(subscribe.status == .unauthorized)
            let allowed = try await gateway.get(
                "/dapr/subscribe",
                headers: [.init("dapr-api-token")!: "sidecar-secret"]
            )
            #expect(allowed.status == .ok)
            // Health probes from daprd carry no token and must still pass.
            #expect(try await gateway.get("/healthz").status == .ok)
        }
    }

    @Test func aBulkDeliveryGetsOneStatusPerEntry() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.bulk.enabled = true }) { gateway in
            let token = try await gateway.token("admin", roles: ["admin"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let body = """
                {"id":"b1","pubsubname":"pubsub","topic":"student.progress","type":"com.dapr.event.sent.bulk","metadata":{},
                 "entries":[
                  {"entryId":"0","event":{"specversion":"1.0","id":"e1","source":"s","type":"t","data":{"studentId":"s-1"}},"contentType":"application/cloudevents+json","metadata":{}},
                  {"entryId":"1","event":{"specversion":"1.0","source":"s","type":"t","data":{}},"contentType":"application/cloudevents+json","metadata":{}},
                  {"entryId":"2","event":{"specversion":"1.0","id":"e2","source":"s","type":"t","data":{"studentId":"s-2"}},"contentType":"application/cloudevents+json","metadata":{}}
                 ]}
                """
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: body,
                contentType: "application/json"
            )
            #expect(reply.status == 200)
            let statuses = try #require(jsonObject(reply.body)?["statuses"] as? [[String: String]])
            #expect(
                statuses == [
                    ["entryId": "0", "status": "SUCCESS"],
                    ["entryId": "1", "status": "DROP"],
                    ["entryId": "2", "status": "SUCCESS"],
                ]
            )
            let events = await stream.events(count: 2, timeout: .seconds(2))
            #expect(events.compactMap { jsonObject($0.data)?["id"] as? String } == ["e1", "e2"])
            stream.close()
        }
    }

    @Test func aBinaryModeEventAsCloudEventsSDKsSendItIsDelivered() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            // The Go and JavaScript SDKs' and Knative's default HTTP mode.
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: #"{"studentId":"s-1","score":7}"#,
                contentType: "application/json",
                headers: [
                    ("ce-specversion", "1.0"), ("ce-id", "bin-1"), ("ce-source", "%2Fcourses%2Fc-1"),
                    ("ce-type", "com.example.progress"), ("ce-time", "2026-12-02T08:00:00Z"),
                ]
            )
            #expect(reply.body == #"{"status":"SUCCESS"}"#)
            let event = try #require(await stream.nextEvent(timeout: .seconds(10)))
            let envelope = try #require(jsonObject(event.data))
            #expect(envelope["id"] as? String == "bin-1")
            #expect(envelope["source"] as? String == "/courses/c-1")
            #expect(envelope["type"] as? String == "com.example.progress")
            #expect((envelope["data"] as? [String: Any])?["score"] as? Int == 7)
            let incomplete = try await gateway.deliver(
                topic: "student.progress",
                body: "{}",
                contentType: "application/json",
                headers: [("ce-specversion", "1.0"), ("ce-source", "s"), ("ce-type", "t")]
            )
            #expect(incomplete.body == #"{"status":"DROP"}"#)
            stream.close()
        }
    }

    @Test func dataBase64AndStringDataHoldingAnObjectReachOnlyTheirStudent() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, query: "topics=student.progress")
            let forOther = Data(#"{"studentId":"s-2"}"#.utf8).base64EncodedString()
            let forMe = Data(#"{"studentId":"s-1","n":1}"#.utf8).base64EncodedString()
            for (id, payload) in [("b64-other", forOther), ("b64-me", forMe)] {
                let reply = try await gateway.deliver(
                    topic: "student.progress",
                    body: #"{"specversion":"1.0","id":"\#(id)","source":"s","type":"t","data_base64":"\#(payload)"}"#
                )
                #expect(reply.body == #"{"status":"SUCCESS"}"#)
            }
            // Leading whitespace in a string `data` (it used to reach admins only).
            try await gateway.deliver(
                topic: "student.progress",
                body:
                    #"{"specversion":"1.0","id":"str-me","source":"s","type":"t","data":"\n {\"studentId\":\"s-1\",\"n\":2}"}"#
            )
            let events = await stream.events(count: 2, timeout: .seconds(10))
            #expect(events.compactMap { jsonObject($0.data)?["id"] as? String } == ["b64-me", "str-me"])
            #expect(events.compactMap { (jsonObject($0.data)?["data"] as? [String: Any])?["n"] as? Int } == [1, 2])
            stream.close()
        }
    }

    @Test func aBulkBodyOverMaxMessagesCountIsRefusedWhole() async throws {
        let settings = TestGateway.settings {
            $0.bulk.enabled = true
            $0.bulk.maxMessagesCount = 3
        }
        try await TestGateway.run(settings: settings) { gateway in
            let entries = (0..<4).map { index in
                #"{"entryId":"\#(index)","event":{"specversion":"1.0","id":"m\#(index)","source":"s","type":"t","data":{}},"contentType":"application/cloudevents+json","metadata":{}}"#
            }
            let body =
                #"{"id":"b","pubsubname":"pubsub","topic":"student.progress","type":"com.dapr.event.sent.bulk","metadata":{},"entries":["#
                + entries.joined(separator: ",") + "]}"
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: body,
                contentType: "application/json"
            )
            #expect(reply.status == 413)
            #expect(jsonObject(reply.body)?["code"] as? String == "too_many_entries")
            #expect(gateway.hub.replayCount(topicIndex: 0) == 0)
            let three = #"{"entries":["# + entries.prefix(3).joined(separator: ",") + "]}"
            let accepted = try await gateway.deliver(
                topic: "student.progress",
                body: three,
                contentType: "application/json"
            )
            #expect((jsonObject(accepted.body)?["statuses"] as? [[String: String]])?.count == 3)
            #expect(gateway.hub.replayCount(topicIndex: 0) == 3)
        }
    }

    @Test func aBulkBodyOverItsByteBoundIsRefusedWhole() async throws {
        let settings = TestGateway.settings {
            $0.bulk.enabled = true
            $0.maxEventBytes = 2048
            $0.bulk.maxBodyBytes = 4096
        }
        try await TestGateway.run(settings: settings) { gateway in
            let padding = String(repeating: "x", count: 1500)
            let entries = (0..<3).map { index in
                #"{"entryId":"\#(index)","event":{"specversion":"1.0","id":"p\#(index)","source":"s","type":"t","data":{"pad":"\#(padding)"}}}"#
            }
            let body = #"{"entries":["# + entries.joined(separator: ",") + "]}"
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: body,
                contentType: "application/json"
            )
            #expect(reply.status == 413)
            #expect(jsonObject(reply.body)?["code"] as? String == "bulk_too_large")
            #expect(gateway.hub.replayCount(topicIndex: 0) == 0)
            // A single event keeps its own bound and is dropped as poison, not refused.
            let single =
                #"{"specversion":"1.0","id":"big","source":"s","type":"t","data":{"pad":"\#(padding + padding)"}}"#
            let dropped = try await gateway.deliver(topic: "student.progress", body: single)
            #expect(dropped.status == 200)
            #expect(dropped.body == #"{"status":"DROP"}"#)
        }
    }

    @Test func aCloudEventsBatchGetsOneStatus() async throws {
        try await TestGateway.run { gateway in
            let batch =
                #"[{"specversion":"1.0","id":"c1","source":"s","type":"t","data":{}},{"specversion":"1.0","id":"c2","source":"s","type":"t","data":{}}]"#
            let reply = try await gateway.deliver(
                topic: "student.progress",
                body: batch,
                contentType: "application/cloudevents-batch+json"
            )
            #expect(reply.body == #"{"status":"SUCCESS"}"#)
            #expect(gateway.hub.replayCount(topicIndex: 0) == 2)
            let poison = try await gateway.deliver(
                topic: "student.progress",
                body: #"[{"specversion":"1.0"}]"#,
                contentType: "application/cloudevents-batch+json"
            )
            #expect(poison.body == #"{"status":"DROP"}"#)
        }
    }

    @Test func deliveriesAreRetriedWhileDraining() async throws {
        try await TestGateway.run { gateway in
            gateway.hub.beginDrain()
            let reply = try await gateway.deliver(topic: "student.progress", id: "late", data: "{}")
            #expect(reply.status == 200)
            #expect(reply.body == #"{"status":"RETRY"}"#)
            #expect(try await gateway.get("/readyz").status == .serviceUnavailable)
            #expect(try await gateway.get("/healthz").status == .ok)
        }
    }
}
