import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends CloudEvents over HTTP with `URLSession` (libcurl on Linux) and turns every
/// failure into a message that says what to check.
struct EventPublisher {
    let timeout: Double

    /// What a gateway answered to a direct delivery.
    struct DirectReply {
        var url: String
        var status: String
    }

    /// A failure, worded for the person at the terminal.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `POST {endpoint}/v1.0/publish/{pubsub}/{topic}`; Dapr answers 204 when the broker took it.
    func publishThroughDapr(
        _ event: String,
        topic: String,
        pubsub: String,
        endpoint: String,
        apiToken: String?
    ) async throws {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        guard let url = URL(string: "\(base)/v1.0/publish/\(Self.pathSegment(pubsub))/\(Self.pathSegment(topic))"),
            url.scheme == "http" || url.scheme == "https"
        else {
            throw Failure(description: "DAPR_HTTP_ENDPOINT '\(endpoint)' is not an http(s) URL")
        }
        var headers: [String: String] = [:]
        if let apiToken { headers["dapr-api-token"] = apiToken }
        let (status, body) = try await post(event, to: url, headers: headers, peer: "the Dapr sidecar at \(base)")
        let dapr = Self.daprError(body)
        switch status {
        case 200..<300:
            return
        case 401, 403:
            throw Failure(
                description: "the Dapr sidecar refused the request (\(status)\(dapr)): "
                    + (apiToken == nil
                        ? "it requires an API token; set DAPR_API_TOKEN"
                        : "DAPR_API_TOKEN does not match the sidecar's token")
            )
        case 404:
            throw Failure(
                description: "the Dapr sidecar does not know the pub/sub component '\(pubsub)' (404\(dapr)); "
                    + "pass --pubsub or set GATEWAY_PUBSUB_NAME to the component's name"
            )
        case 400:
            throw Failure(description: "the Dapr sidecar rejected the event (400\(dapr))")
        default:
            throw Failure(description: "Dapr could not publish the event (\(status)\(dapr)); is the broker reachable?")
        }
    }

    /// `POST {gateway}/dapr/topics/{topic}`, the way daprd delivers; the gateway's `status`.
    func deliverDirect(
        _ event: String,
        topic: String,
        gateway: String,
        appAPIToken: String?
    ) async throws
        -> DirectReply
    {
        guard var components = URLComponents(string: gateway),
            components.scheme == "http" || components.scheme == "https",
            components.host != nil
        else {
            throw Failure(description: "--direct '\(gateway)' is not an http(s) URL like http://localhost:3000")
        }
        if components.path.isEmpty || components.path == "/" {
            components.path = "/dapr/topics/\(topic)"
        }
        guard let url = components.url else {
            throw Failure(description: "--direct '\(gateway)' with topic '\(topic)' does not form a URL")
        }
        var headers: [String: String] = [:]
        if let appAPIToken, !appAPIToken.isEmpty { headers["dapr-api-token"] = appAPIToken }
        let (status, body) = try await post(event, to: url, headers: headers, peer: "the gateway at \(gateway)")
        let text = String(decoding: body, as: UTF8.self)
        switch status {
        case 200:
            let reply = (try? JSONDecoder().decode([String: String].self, from: body))?["status"] ?? ""
            switch reply {
            case "SUCCESS":
                return DirectReply(url: url.absoluteString, status: reply)
            case "DROP":
                throw Failure(
                    description: "the gateway dropped the event (DROP): it is not a CloudEvent it accepts "
                        + "(see the gateway's 'dropping poison event' log line)"
                )
            case "RETRY":
                throw Failure(description: "the gateway is draining (RETRY): publish again to another replica")
            default:
                throw Failure(description: "the gateway answered 200 without a Dapr status: \(text.prefix(200))")
            }
        case 401:
            throw Failure(
                description: "the gateway refused the delivery (401): set APP_API_TOKEN to the gateway's APP_API_TOKEN"
            )
        default:
            throw Failure(
                description: "the gateway answered \(status): \(Self.problemDetail(body) ?? String(text.prefix(200)))"
            )
        }
    }

    private func post(
        _ event: String,
        to url: URL,
        headers: [String: String],
        peer: String
    ) async throws -> (
        Int, Data
    ) {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        // A full CloudEvent: Dapr forwards it as is instead of wrapping it in another envelope.
        request.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(event.utf8)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch let error as URLError {
            switch error.code {
            case .cannotConnectToHost, .cannotFindHost, .networkConnectionLost, .dnsLookupFailed,
                .notConnectedToInternet:
                throw Failure(
                    description: "could not reach \(peer) (\(error.localizedDescription)); "
                        + (peer.hasPrefix("the Dapr")
                            ? "is daprd running beside this process? Set DAPR_HTTP_ENDPOINT, or use --direct URL without Dapr"
                            : "is the gateway running there?")
                )
            case .timedOut:
                throw Failure(description: "\(peer) did not answer within \(timeout) s")
            default:
                throw Failure(description: "the request to \(peer) failed: \(error.localizedDescription)")
            }
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// `: ERR_… message` from Dapr's error body `{"errorCode":…,"message":…}`, or nothing.
    private static func daprError(_ body: Data) -> String {
        guard let fields = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return "" }
        let code = fields["errorCode"] as? String ?? ""
        let message = fields["message"] as? String ?? ""
        let text = [code, message].filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? "" : ": " + String(text.prefix(300))
    }

    /// The `detail` of a JSON problem body.
    private static func problemDetail(_ body: Data) -> String? {
        (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["detail"] as? String
    }

    private static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }
}
