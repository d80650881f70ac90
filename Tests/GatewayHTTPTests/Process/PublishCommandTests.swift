import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `sse-gateway publish`, the real binary, through a sidecar that answers like daprd's
/// publish API, and straight to a real gateway with `--direct`.
@Suite struct PublishCommandTests {
    /// A loopback HTTP server with the shape of daprd's publish API: it checks
    /// `dapr-api-token`, answers 404 for an unknown component and 500 for a failing broker,
    /// and hands accepted events to the gateway the way the broker and daprd would.
    struct Sidecar: Sendable {
        let apiToken: String
        let gatewayPort: Int
        let seen = NIOLockedValueBox<[(contentType: String, token: String?)]>([])

        func serve<Result: Sendable>(
            _ body: @Sendable (_ endpoint: String) async throws -> Result
        ) async throws
            -> Result
        {
            let router = Router()
            router.post("v1.0/publish/{pubsub}/{topic}") { request, context in
                try await self.publish(request, context: context)
            }
            let application = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0))
            )
            return try await application.test(.live) { client in
                try await body("http://127.0.0.1:\(client.port ?? 0)")
            }
        }

        private func publish(_ request: Request, context: BasicRequestContext) async throws -> Response {
            let token = request.headers[HTTPField.Name("dapr-api-token")!]
            seen.withLockedValue { $0.append((request.headers[.contentType] ?? "", token)) }
            guard token == apiToken else {
                return Self.error(.forbidden, "ERR_DAPR_API_TOKEN", "invalid api token")
            }
            switch context.parameters.get("pubsub") {
            case "pubsub": break
            case "broken":
                return Self.error(.internalServerError, "ERR_PUBSUB_PUBLISH_MESSAGE", "redis: connection refused")
            default: return Self.error(.notFound, "ERR_PUBSUB_NOT_FOUND", "pubsub not found")
            }
            let topic = context.parameters.get("topic") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let url = try #require(URL(string: "http://127.0.0.1:\(gatewayPort)/dapr/topics/\(topic)"))
            var delivery = URLRequest(url: url)
            delivery.httpMethod = "POST"
            delivery.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
            delivery.httpBody = Data(buffer: body)
            let (_, response) = try await URLSession.shared.data(for: delivery)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            return Response(status: .noContent)
        }

        private static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
            Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"errorCode":"\#(code)","message":"\#(message)"}"#))
            )
        }
    }

    @Test func anEventPublishedThroughTheSidecarReachesTheStudentsStream() async throws {
        try await TestGateway.run { gateway in
            let sidecar = Sidecar(apiToken: "sidecar-token", gatewayPort: gateway.port)
            try await sidecar.serve { endpoint in
                let stream = try await gateway.readyStream(
                    token: try await gateway.token("s-1", roles: ["student"]),
                    query: "topics=student.progress"
                )
                let run = try await CommandRun.sseGateway(
                    [
                        "publish", "--topic", "student.progress", "--id", "cli-1", "--type", "progress.updated",
                        "--data", #"{"studentId":"s-1","score":92}"#,
                    ],
                    environment: ["DAPR_HTTP_ENDPOINT": endpoint, "DAPR_API_TOKEN": "sidecar-token"]
                )
                #expect(run.status == 0, "\(run.output)")
                #expect(run.output.contains("published cli-1 to 'student.progress' through Dapr pub/sub 'pubsub'"))
                let event = try #require(await stream.nextEvent(timeout: .seconds(10)))
                let envelope = try #require(jsonObject(event.data))
                #expect(envelope["id"] as? String == "cli-1")
                #expect(envelope["type"] as? String == "progress.updated")
                #expect((envelope["data"] as? [String: Any])?["score"] as? Int == 92)
                let seen = sidecar.seen.withLockedValue { $0 }
                #expect(seen.count == 1)
                #expect(seen.first?.contentType == "application/cloudevents+json")
                #expect(seen.first?.token == "sidecar-token")
                stream.close()
            }
        }
    }

    @Test func sidecarRefusalsAndBadInputGetMessagesThatSayWhatToCheck() async throws {
        try await TestGateway.run { gateway in
            let sidecar = Sidecar(apiToken: "sidecar-token", gatewayPort: gateway.port)
            try await sidecar.serve { endpoint in
                let publish = ["publish", "--topic", "student.progress", "--data", #"{"studentId":"s-1"}"#]
                let cases: [(arguments: [String], environment: [String: String], message: String)] = [
                    (
                        publish, ["DAPR_HTTP_ENDPOINT": endpoint, "DAPR_API_TOKEN": "wrong"],
                        "the Dapr sidecar refused the request (403: ERR_DAPR_API_TOKEN invalid api token): DAPR_API_TOKEN does not match"
                    ),
                    (publish, ["DAPR_HTTP_ENDPOINT": endpoint], "it requires an API token; set DAPR_API_TOKEN"),
                    (
                        publish + ["--pubsub", "events"],
                        ["DAPR_HTTP_ENDPOINT": endpoint, "DAPR_API_TOKEN": "sidecar-token"],
                        "does not know the pub/sub component 'events' (404: ERR_PUBSUB_NOT_FOUND"
                    ),
                    (
                        publish + ["--pubsub", "broken"],
                        ["DAPR_HTTP_ENDPOINT": endpoint, "DAPR_API_TOKEN": "sidecar-token"],
                        "Dapr could not publish the event (500: ERR_PUBSUB_PUBLISH_MESSAGE redis: connection refused)"
                    ),
                    (
                        publish, ["DAPR_HTTP_ENDPOINT": "http://127.0.0.1:9"],
                        "could not reach the Dapr sidecar at http://127.0.0.1:9"
                    ),
                    (
                        ["publish", "--topic", "student.progress", "--data", #"{"studentId":"#],
                        ["DAPR_HTTP_ENDPOINT": endpoint], "--data is not valid JSON"
                    ),
                ]
                for (arguments, environment, message) in cases {
                    let run = try await CommandRun.sseGateway(arguments, environment: environment)
                    #expect(run.status != 0, "\(arguments): \(run.output)")
                    #expect(run.output.contains(message), "\(arguments): \(run.output)")
                }
                // Nothing got through to a subscriber.
                let replayed = gateway.hub.replayCount(
                    topicIndex: try #require(gateway.hub.topicIndex(of: "student.progress"))
                )
                #expect(replayed == 0)
            }
        }
    }

    @Test func directDeliveryTalksToTheGatewayAsDaprdWould() async throws {
        let settings = TestGateway.settings { $0.appAPIToken = "app-token" }
        try await TestGateway.run(settings: settings) { gateway in
            let stream = try await gateway.readyStream(
                token: try await gateway.token("s-1", roles: ["student"]),
                query: "topics=student.progress"
            )
            let base = "http://127.0.0.1:\(gateway.port)"
            let data = #"{"studentId":"s-1","score":71}"#
            let delivered = try await CommandRun.sseGateway(
                ["publish", "--direct", base, "--topic", "student.progress", "--id", "direct-1", "--data", data],
                environment: ["APP_API_TOKEN": "app-token"]
            )
            #expect(delivered.status == 0, "\(delivered.output)")
            #expect(delivered.output.contains("delivered direct-1 to \(base)/dapr/topics/student.progress: SUCCESS"))
            let event = try #require(await stream.nextEvent(timeout: .seconds(10)))
            #expect(jsonObject(event.data)?["id"] as? String == "direct-1")

            let unknown = try await CommandRun.sseGateway(
                ["publish", "--direct", base, "--topic", "no.such.topic", "--data", data],
                environment: ["APP_API_TOKEN": "app-token"]
            )
            #expect(unknown.status != 0)
            #expect(unknown.output.contains("the gateway answered 404: the topic 'no.such.topic' is not carried"))
            let unauthorised = try await CommandRun.sseGateway(
                ["publish", "--direct", base, "--topic", "student.progress", "--data", data],
                environment: ["APP_API_TOKEN": "not-the-token"]
            )
            #expect(unauthorised.status != 0)
            #expect(unauthorised.output.contains("the gateway refused the delivery (401)"))
            stream.close()
        }
    }
}
