import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The browser side: `GET /events/stream`, one multiplexed SSE stream per request
/// (design section 3).
struct StreamRoutes: Sendable {
    let settings: GatewaySettings
    let hub: Hub
    let authenticator: Authenticator
    let metrics: GatewayMetrics

    func register(on router: Router<GatewayRequestContext>) {
        router.get("events/stream") { request, context in try await self.stream(request, context: context) }
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
        let logger = context.logger
        let settings = self.settings
        let hub = self.hub
        let metrics = self.metrics
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
                            writer: &writer,
                            settings: settings,
                            scope: scope,
                            channel: channel,
                            metrics: metrics,
                            logger: logger
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

    private static func run(
        _ subscription: Subscription,
        writer: inout any ResponseBodyWriter,
        settings: GatewaySettings,
        scope: StreamScope,
        channel: any Channel,
        metrics: GatewayMetrics,
        logger: Logger
    ) async throws {
        let subscriber = subscription.subscriber
        channel.closeFuture.whenComplete { _ in subscriber.close(.clientGone) }
        var encoder = StreamEncoder(start: subscription.start)
        var buffer = ByteBuffer()
        encoder.writeOpening(
            retryMilliseconds: settings.retryHint.milliseconds,
            readyData: readyData(scope: scope, settings: settings),
            historyGap: subscription.historyGap,
            into: &buffer
        )
        try await writer.write(buffer)
        var pending = subscription.replay[...]
        while !pending.isEmpty {
            buffer.clear()
            for frame in pending.prefix(256) { encoder.write(frame, into: &buffer) }
            try await writer.write(buffer)
            for frame in pending.prefix(256) { metrics.delivered(topicIndex: frame.topicIndex) }
            pending = pending.dropFirst(256)
        }
        while let batch = await subscriber.nextBatch() {
            buffer.clear()
            for frame in batch.frames { encoder.write(frame, into: &buffer) }
            if batch.heartbeat { encoder.writeHeartbeat(into: &buffer) }
            if let reason = batch.closeReason {
                encoder.writeClose(reason, retryMilliseconds: closeRetry(reason, settings: settings), into: &buffer)
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
            if !batch.frames.isEmpty {
                // The write returned: the bytes are with the socket (flushed, not buffered).
                let flushedAt = ContinuousClock.now
                for frame in batch.frames {
                    metrics.delivered(topicIndex: frame.topicIndex)
                    metrics.flushed(topicIndex: frame.topicIndex, receivedAt: frame.receivedAt, flushedAt: flushedAt)
                }
            }
            if let reason = batch.closeReason {
                logger.debug("stream closed", metadata: ["stream.close_reason": "\(reason.rawValue)"])
                break
            }
        }
    }

    /// The `retry:` before an `event: error`: jittered over the configured window when
    /// draining, so reconnects spread over the remaining pods.
    private static func closeRetry(_ reason: CloseReason, settings: GatewaySettings) -> Int64? {
        switch reason {
        case .shuttingDown:
            let window = max(0, settings.reconnectJitterWindow.milliseconds)
            return settings.retryHint.milliseconds + Int64.random(in: 0...window)
        case .clientGone, .tokenExpired, .slowConsumer, .limit:
            return nil
        }
    }

    private static func readyData(scope: StreamScope, settings: GatewaySettings) -> String {
        let filters = scope.filters
        var filterMembers: [(String, String)] = []
        if let student = filters.studentID { filterMembers.append(("studentId", JSONText.quoted(student))) }
        if let course = filters.courseID { filterMembers.append(("courseId", JSONText.quoted(course))) }
        if let priority = filters.minimumPriority {
            filterMembers.append(("minPriority", JSONText.quoted(priority.name)))
        }
        if let types = filters.types { filterMembers.append(("types", JSONText.array(types.sorted()))) }
        let filterJSON = JSONText.object(filterMembers)
        return JSONText.object([
            "topics": JSONText.array(scope.topics.map(\.rule.topic)),
            "filters": filterJSON,
            "heartbeatSeconds": String(settings.heartbeatInterval.components.seconds),
        ])
    }
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
