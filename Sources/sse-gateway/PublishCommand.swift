import ArgumentParser
import Foundation
import GatewayCore

/// `sse-gateway publish`: send one CloudEvent through a Dapr sidecar, or straight to a
/// gateway's delivery route the way daprd delivers it.
struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one CloudEvent through Dapr pub/sub, or straight to a gateway (--direct).",
        discussion: """
            By default the event goes to the Dapr sidecar's publish API,
            POST {DAPR_HTTP_ENDPOINT or http://localhost:3500}/v1.0/publish/{pubsub}/{topic},
            with the header dapr-api-token from DAPR_API_TOKEN when it is set. With --direct the
            event is POSTed to the gateway's delivery route, /dapr/topics/{topic}, as daprd
            would (with dapr-api-token from APP_API_TOKEN when it is set): for local
            development without Dapr.

            Examples:
              sse-gateway publish --topic student.progress --data '{"studentId":"s-1","score":92}'
              sse-gateway publish --topic system.notifications --type notice.posted \\
                  --data '{"audience":"all","message":"Maintenance at 18:00"}'
              sse-gateway publish --direct http://localhost:3000 --topic learning.events \\
                  --id evt-42 --data '{"courseId":"c-1","kind":"lesson.published"}'
              DAPR_HTTP_ENDPOINT=http://127.0.0.1:3501 sse-gateway publish --pubsub events --topic ...
            """
    )

    @Option(help: "The topic (one of the gateway's topics, e.g. student.progress).")
    var topic: String

    @Option(help: "The event's data: a JSON value, e.g. '{\"studentId\":\"s-1\",\"score\":92}'.")
    var data: String

    @Option(help: "The CloudEvent type.")
    var type: String = "sse-gateway.cli.event"

    @Option(help: "The CloudEvent id (default: a new UUID). The gateway ignores an id it has seen.")
    var id: String?

    @Option(help: "The CloudEvent source.")
    var source: String = "sse-gateway-cli"

    @Option(help: "The Dapr pub/sub component (default: GATEWAY_PUBSUB_NAME, else 'pubsub').")
    var pubsub: String?

    @Option(help: "Post to this gateway (base URL, e.g. http://localhost:3000) instead of through Dapr.")
    var direct: String?

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 10

    func validate() throws {
        guard !topic.isEmpty, topic.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "/") }) else {
            throw ValidationError("--topic '\(topic)' is not a topic name (no spaces, slashes or control characters)")
        }
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be between 0 and 300 seconds") }
        _ = try parsedData()
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let eventID = id ?? UUID().uuidString
        let event = cloudEvent(id: eventID, data: try parsedData())
        let publisher = EventPublisher(timeout: timeout)
        if let direct {
            let reply = try await publisher.deliverDirect(
                event,
                topic: topic,
                gateway: direct,
                appAPIToken: environment["APP_API_TOKEN"]
            )
            print("delivered \(eventID) to \(reply.url): \(reply.status)")
        } else {
            let endpoint =
                environment["DAPR_HTTP_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://localhost:3500"
            let component = pubsub ?? environment["GATEWAY_PUBSUB_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "pubsub"
            try await publisher.publishThroughDapr(
                event,
                topic: topic,
                pubsub: component,
                endpoint: endpoint,
                apiToken: environment["DAPR_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            )
            print("published \(eventID) to '\(topic)' through Dapr pub/sub '\(component)' at \(endpoint)")
        }
    }

    /// `--data` as JSON, or a usage error that says what is wrong with it.
    private func parsedData() throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
        } catch {
            let detail =
                (error as? DecodingError).map { error -> String in
                    if case .dataCorrupted(let context) = error {
                        return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
                    }
                    return "\(error)"
                } ?? "\(error)"
            throw ValidationError("--data is not valid JSON (\(detail)): \(data.prefix(80))")
        }
    }

    private func cloudEvent(id: String, data: JSONValue) -> String {
        JSONText.object([
            "specversion": JSONText.quoted("1.0"),
            "id": JSONText.quoted(id),
            "source": JSONText.quoted(source),
            "type": JSONText.quoted(type),
            "time": JSONText.quoted(Date().formatted(.iso8601)),
            "datacontenttype": JSONText.quoted("application/json"),
            "data": JSONText.encode(data),
        ])
    }
}
