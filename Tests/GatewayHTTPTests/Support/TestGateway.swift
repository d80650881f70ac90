import Foundation
import GatewayCore
import GatewayHTTP
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A gateway on a real port with a per-run HMAC secret, and helpers that act like
/// daprd (deliveries) and browsers (streams).
struct TestGateway {
    let client: any TestClientProtocol
    let port: Int
    let hub: Hub
    let minter: TokenMinter
    let settings: GatewaySettings

    static func settings(_ adjust: (inout GatewaySettings) -> Void = { _ in }) -> GatewaySettings {
        var settings = GatewaySettings()
        settings.host = "127.0.0.1"
        settings.port = 0
        settings.heartbeatInterval = .seconds(1)
        settings.authentication.hmacSecret = UUID().uuidString + UUID().uuidString
        adjust(&settings)
        return settings
    }

    static func run<Result: Sendable>(
        settings: GatewaySettings = settings(),
        _ test: @Sendable (TestGateway) async throws -> Result
    ) async throws -> Result {
        var logger = Logger(label: "test-gateway")
        logger.logLevel = .warning
        let gateway = try await Gateway(settings: settings, logger: logger)
        let minter = await TokenMinter(secret: settings.authentication.hmacSecret ?? "")
        let hub = gateway.hub
        return try await gateway.application.test(.live) { client in
            try await test(
                TestGateway(client: client, port: client.port ?? 0, hub: hub, minter: minter, settings: settings)
            )
        }
    }

    func token(
        _ subject: String,
        roles: [String],
        studentIDs: [String] = [],
        courseIDs: [String] = [],
        lifetime: Duration = .seconds(3600)
    ) async throws -> String {
        try await minter.token(
            subject: subject,
            roles: roles,
            studentIDs: studentIDs,
            courseIDs: courseIDs,
            lifetime: lifetime
        )
    }

    func stream(
        token: String?,
        query: String = "",
        headers: [(String, String)] = []
    ) async throws -> SSEClient {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        return try await SSEClient.connect(
            port: port,
            path: "/events/stream" + (query.isEmpty ? "" : "?" + query),
            headers: all
        )
    }

    /// Opens a stream and reads its `ready` frame.
    func readyStream(token: String, query: String = "", headers: [(String, String)] = []) async throws -> SSEClient {
        let stream = try await stream(token: token, query: query, headers: headers)
        guard stream.status == 200, let ready = await stream.nextEvent(), ready.event == "ready" else {
            throw TestFailure("stream did not open: \(stream.status) \(stream.body)")
        }
        return stream
    }

    /// POSTs a body to a delivery route the way daprd does; returns status and body.
    @discardableResult
    func deliver(
        topic: String,
        body: String,
        contentType: String = "application/cloudevents+json",
        headers: [(String, String)] = []
    ) async throws -> (status: Int, body: String) {
        var fields: HTTPFields = [
            .contentType: contentType,
            HTTPField.Name("traceparent")!: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ]
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let response = try await client.execute(
            uri: "/dapr/topics/\(topic)",
            method: .post,
            headers: fields,
            body: ByteBuffer(string: body)
        )
        return (Int(response.status.code), String(buffer: response.body))
    }

    /// Delivers a CloudEvent with `data`.
    @discardableResult
    func deliver(
        topic: String,
        id: String,
        type: String = "test.event",
        data: String
    ) async throws -> (status: Int, body: String) {
        try await deliver(
            topic: topic,
            body:
                #"{"specversion":"1.0","id":"\#(id)","source":"test","type":"\#(type)","time":"2026-12-02T08:00:00Z","datacontenttype":"application/json","data":\#(data)}"#
        )
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: headers)
    }

    /// `GET /events/poll` over a connection of its own (URLSession), so a long poll does
    /// not hold up the deliveries the test makes meanwhile.
    func poll(
        token: String?,
        query: String,
        headers: [(String, String)] = []
    ) async throws -> (
        status: Int, body: String
    ) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/events/poll?\(query)"))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 60)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Waits for the hub's signal that no stream is open; `false` after `timeout`.
    func noStreamsRemain(within timeout: Duration = .seconds(5)) async -> Bool {
        await hub.waitUntilEmpty(timeout: timeout)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Decodes an SSE `data` payload as a JSON object.
func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}
