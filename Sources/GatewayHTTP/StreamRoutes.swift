import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// The browser side: `GET /events/stream`, one multiplexed SSE stream per request
/// (design section 3), served without a task per stream.
///
/// Not a route on Hummingbird's router: `GatewayChildChannel` sends the request here from
/// the connection's `ConnectionRouter`. The request phase (token verification with key
/// refresh, scope, admission) runs in the connection's task, as any request does; then,
/// on the connection's event loop, the stream subscribes and a `StreamHandler` takes the
/// channel over, and the task ends. A refusal is answered here, with the same
/// problem+json bodies and headers as everywhere, and ends the connection.
final class StreamRoutes: Sendable {
    let settings: GatewaySettings
    let hub: Hub
    let authenticator: Authenticator
    let metrics: GatewayMetrics
    private let serverName: String?
    private let cors: CORSPolicy
    private let output: StreamOutput.Settings
    private let date = HTTPDate()

    init(
        settings: GatewaySettings,
        hub: Hub,
        authenticator: Authenticator,
        metrics: GatewayMetrics,
        serverName: String?,
        cors: CORSPolicy,
        logger: Logger
    ) {
        self.settings = settings
        self.hub = hub
        self.authenticator = authenticator
        self.metrics = metrics
        self.serverName = serverName
        self.cors = cors
        self.output = StreamOutput.Settings(settings: settings, metrics: metrics, logger: logger)
    }

    /// Whether a request head asks for the stream; every other request goes to the router.
    static func isStreamRequest(_ head: HTTPRequest) -> Bool {
        guard head.method == .get, let path = head.path else { return false }
        let route = path.firstIndex(of: "?").map { path[..<$0] } ?? path[...]
        return route == "/events/stream"
    }

    /// Serves a stream request its connection's router holds: authenticates and admits it,
    /// then starts the stream, or refuses it and ends the connection.
    func serve(_ request: StreamRequest, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        let context = GatewayRequestContext(source: .init(channel: request.channel, logger: logger))
        do {
            let browser = try await BrowserRequest(
                Request(head: request.head, body: RequestBody(buffer: ByteBuffer())),
                context: context,
                authenticator: authenticator,
                hub: hub,
                refusals: metrics
            )
            request.channel.eventLoop.execute { self.open(request, for: browser) }
        } catch {
            let problem =
                error as? Problem
                ?? Problem(.internalServerError, code: "internal_error", detail: "the stream could not be opened")
            request.channel.eventLoop.execute { self.refuse(request, with: problem) }
        }
    }

    /// On the event loop: subscribes and hands the connection to a `StreamHandler`.
    private func open(_ request: StreamRequest, for browser: BrowserRequest) {
        let router = request.router.value
        // The client left while its token was checked: nothing to open.
        guard request.channel.isActive, !router.clientGone else { return router.close() }
        let subscription: Subscription
        do {
            subscription = try hub.subscribe(
                scope: browser.scope,
                resumeFrom: browser.resume,
                wake: StreamHandler.wakeUp(request.channel)
            )
        } catch {
            // Admitted a moment ago, refused now (a race with another stream or a drain).
            metrics.streamRefused(error)
            return refuse(request, with: Problem(error))
        }
        metrics.resumed(browser.resume, historyGap: subscription.historyGap, held: !subscription.heldTopics.isEmpty)
        let framing: BodyFraming = request.version.minor >= 1 ? .chunked : .closeDelimited
        let handler = StreamHandler(
            subscription: subscription,
            hub: hub,
            output: StreamOutput(start: subscription.start, framing: framing, settings: output),
            writeTimeout: settings.writeTimeout
        )
        do {
            try router.startStream(head: responseHead(for: request, framing: framing), handler: handler)
        } catch {
            // The handler never joined the pipeline, so the subscription is still ours to end.
            hub.unsubscribe(subscription.subscriber)
            request.channel.close(promise: nil)
        }
    }

    /// On the event loop: answers the held request with `problem` and ends the connection.
    private func refuse(_ request: StreamRequest, with problem: Problem) {
        let body = problem.body
        var fields = answerHeaders(for: request.head)
        fields.append(contentsOf: problem.responseHeaders)
        fields[.contentLength] = String(body.readableBytes)
        request.router.value.refuse(HTTPResponse(status: problem.status, headerFields: fields), body: body)
    }

    /// The head of a stream's `200`: the SSE headers of design section 3. HTTP/1.1 streams
    /// are chunked and keep-alive (unless the client asked to close); HTTP/1.0 streams end
    /// by closing the connection.
    private func responseHead(for request: StreamRequest, framing: BodyFraming) -> HTTPResponseHead {
        var fields: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            .accelBuffering: "no",
        ]
        switch framing {
        case .chunked:
            let closes = request.head.headerFields[.connection]?.lowercased().contains("close") == true
            fields[.connection] = closes ? "close" : "keep-alive"
            fields[.transferEncoding] = "chunked"
        case .closeDelimited:
            fields[.connection] = "close"
        }
        fields.append(contentsOf: answerHeaders(for: request.head))
        var headers = HTTPHeaders()
        for field in fields { headers.add(name: field.name.canonicalName, value: field.value) }
        return HTTPResponseHead(version: request.version, status: .ok, headers: headers)
    }

    /// Headers every answer on the stream path carries, the `200` and the refusals alike:
    /// `Date`, `Server` (as Hummingbird adds them to the answers it writes), and the CORS
    /// headers for the request's `Origin` (as `CORSMiddleware` adds them on the router; the
    /// stream's preflight, an `OPTIONS`, goes to the router).
    private func answerHeaders(for request: HTTPRequest) -> HTTPFields {
        var fields: HTTPFields = [.date: date.now]
        if let serverName { fields[.server] = serverName }
        fields.append(contentsOf: cors.headers(forOrigin: request.headerFields[.origin]))
        return fields
    }
}
