import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser side: `GET /events/stream`, one multiplexed SSE stream per request
/// (design section 3).
///
/// A class, not a struct: the route closure's async frame holds `self` for as long as
/// the connection lives, and a struct would put a whole `GatewaySettings` in every
/// stream's frame instead of one reference.
final class StreamRoutes: Sendable {
    let settings: GatewaySettings
    let hub: Hub
    let authenticator: Authenticator
    let metrics: GatewayMetrics

    init(settings: GatewaySettings, hub: Hub, authenticator: Authenticator, metrics: GatewayMetrics) {
        self.settings = settings
        self.hub = hub
        self.authenticator = authenticator
        self.metrics = metrics
    }

    func register(on router: Router<GatewayRequestContext>) {
        router.get("events/stream") { request, context in
            // The response's body runs on the connection's task later, for as long as the
            // stream is open; see `inChildTask` for why the request phase does not.
            try await inChildTask { try await self.stream(request, context: context) }
        }
    }

    func stream(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let browser = try await BrowserRequest(
            request,
            context: context,
            authenticator: authenticator,
            hub: hub,
            refusals: metrics
        )
        let scope = browser.scope
        let resume = browser.resume
        let channel = context.channel
        let hub = self.hub
        let metrics = self.metrics
        let output = StreamOutput(
            settings: settings,
            metrics: metrics,
            logger: context.logger
        )
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            .accelBuffering: "no",
            .connection: "keep-alive",
        ]
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                do {
                    try await hub.withSubscription(
                        scope: scope,
                        resumeFrom: resume,
                        onEviction: {
                            // The stream's task may be stuck in a write the client never reads;
                            // give it a moment to write `slow_consumer`, then cut the connection.
                            channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
                        }
                    ) { subscription in
                        metrics.streamOpened()
                        metrics.resumed(resume, historyGap: subscription.historyGap)
                        // Whatever ends the stream (a close, a failed write, cancellation),
                        // it is counted once, with the reason the subscriber recorded.
                        defer { metrics.streamClosed(subscription.subscriber.closeReason ?? .clientGone) }
                        try await Self.run(
                            subscription,
                            scope: scope,
                            output: output.starting(at: subscription.start),
                            writer: &writer,
                            channel: channel
                        )
                    }
                } catch let error as SubscriptionError {
                    metrics.streamRefused(error)
                    // Admitted a moment ago, refused now (a race with another stream or a drain).
                    var buffer = ByteBuffer()
                    let reason: CloseReason = error == .shuttingDown ? .shuttingDown : .limit
                    StreamEncoder(start: ResumeToken(positions: [:])).writeClose(
                        reason,
                        retryMilliseconds: nil,
                        into: &buffer
                    )
                    try await writer.write(buffer)
                }
                try await writer.finish(nil)
            }
        )
    }

    /// The stream's loop: write what the subscriber gets until it is closed.
    ///
    /// Only the subscriber, the output and the writer live across its awaits (see
    /// `StreamOutput` for why that matters).
    private static func run(
        _ subscription: Subscription,
        scope: StreamScope,
        output: StreamOutput,
        writer: inout any ResponseBodyWriter,
        channel: any Channel
    ) async throws {
        var output = output
        let subscriber = subscription.subscriber
        channel.closeFuture.whenComplete { _ in subscriber.close(.clientGone) }
        try await writer.write(output.opening(scope: scope, historyGap: subscription.historyGap))
        var pending = subscription.replay[...]
        while !pending.isEmpty {
            let chunk = pending.prefix(256)
            try await writer.write(output.replay(chunk))
            output.replayed(chunk)
            pending = pending.dropFirst(chunk.count)
        }
        while let batch = await subscriber.nextBatch() {
            let bytes = output.encode(batch)
            if bytes.readableBytes > 0 { try await writer.write(bytes) }
            output.written(batch)
            if batch.closeReason != nil { break }
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
