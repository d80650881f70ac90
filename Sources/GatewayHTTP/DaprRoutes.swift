import Foundation
import GatewayCore
import Hummingbird
import Logging

/// The sidecar's side of the gateway: subscription discovery and event delivery
/// (design sections 2 and 4, dapr-contract.md).
struct DaprRoutes: Sendable {
    let settings: GatewaySettings
    let hub: Hub
    let metrics: GatewayMetrics
    let tracer: DeliveryTracer
    let readiness: Readiness

    func register(on router: Router<GatewayRequestContext>) {
        let dapr = router.group("dapr")
        if let token = settings.appAPIToken {
            dapr.add(middleware: AppTokenMiddleware(token: token))
        }
        dapr.get("subscribe") { _, _ in
            readiness.subscriptionServed()
            return self.subscriptions()
        }
        dapr.post("topics/{topic}") { request, context in try await self.deliver(request, context: context) }
    }

    /// One subscription per topic; types exactly as daprd parses them (numbers are numbers).
    func subscriptions() -> Response {
        let entries = settings.topics.map { rule in
            var members: [(String, String)] = [
                ("pubsubname", JSONText.quoted(settings.pubsubName)),
                ("topic", JSONText.quoted(rule.topic)),
                ("route", JSONText.quoted("/dapr/topics/" + rule.topic)),
            ]
            if let deadLetter = settings.deadLetterTopic {
                members.append(("deadLetterTopic", JSONText.quoted(deadLetter)))
            }
            if settings.bulk.enabled {
                members.append(
                    (
                        "bulkSubscribe",
                        "{\"enabled\":true,\"maxMessagesCount\":\(settings.bulk.maxMessagesCount),"
                            + "\"maxAwaitDurationMs\":\(settings.bulk.maxAwaitDurationMilliseconds)}"
                    )
                )
            }
            return "{" + members.map { JSONText.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
        }
        return Self.json("[" + entries.joined(separator: ",") + "]")
    }

    func deliver(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let topic = context.parameters.get("topic") ?? ""
        var logger = context.logger
        logger[metadataKey: "event.topic"] = "\(topic)"
        if let traceparent = request.headers[.traceparent] { logger[metadataKey: "trace.parent"] = "\(traceparent)" }
        return try await tracer.trace(topic: topic, headers: request.headers, logger: logger) { span, logger in
            try await deliver(request, topic: topic, span: &span, logger: logger)
        }
    }

    private func deliver(
        _ request: Request,
        topic: String,
        span: inout DeliverySpan,
        logger: Logger
    ) async throws -> Response {
        let receivedAt = ContinuousClock.now
        guard let topicIndex = hub.topicIndex(of: topic) else {
            logger.warning("delivery for an unknown topic")
            span.fail("unknown topic")
            throw Problem(
                .notFound,
                code: "unknown_topic",
                detail: "the topic '\(topic)' is not carried by this gateway"
            )
        }
        let limit = settings.maxEventBytes * (settings.bulk.enabled ? max(1, settings.bulk.maxMessagesCount) : 1)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            let error = CloudEventError.tooLarge(limit: limit)
            logger.warning("dropping poison event", metadata: ["error": "\(error)"])
            metrics.received(topicIndex: topicIndex, reply: .drop)
            span.dropped(because: "\(error)")
            return Self.status("DROP")
        }
        let bytes = body.readableBytesView
        // Only a bulk subscription receives batches; the usual single event is parsed once.
        if settings.bulk.enabled, let bulk = try? JSONDecoder().decode(BulkDelivery.self, from: Data(bytes)),
            bulk.entries != nil
        {
            return deliverBulk(bulk, topicIndex: topicIndex, receivedAt: receivedAt, span: &span, logger: logger)
        }
        let event: CloudEvent
        do {
            event = try CloudEvent(decoding: bytes, maximumBytes: settings.maxEventBytes)
        } catch {
            logger.warning("dropping poison event", metadata: ["error": "\(error)"])
            metrics.received(topicIndex: topicIndex, reply: .drop)
            span.dropped(because: "\(error)")
            return Self.status("DROP")
        }
        return Self.status(publish(event, topicIndex: topicIndex, receivedAt: receivedAt, span: &span, logger: logger))
    }

    private func publish(
        _ event: CloudEvent,
        topicIndex: Int,
        receivedAt: ContinuousClock.Instant,
        span: inout DeliverySpan,
        logger: Logger
    ) -> String {
        var logger = logger
        // daprd sends the trace context as a header and inside the CloudEvent; bulk entries
        // carry only the latter.
        if logger[metadataKey: "trace.parent"] == nil, let traceparent = event.traceparent {
            logger[metadataKey: "trace.parent"] = "\(traceparent)"
        }
        span.record(event)
        let reply: GatewayMetrics.DaprReply
        var reached = 0
        switch hub.publish(event, topicIndex: topicIndex, receivedAt: receivedAt) {
        case .accepted(_, let recipients):
            logger.debug("event delivered", metadata: ["event.id": "\(event.id)", "event.recipients": "\(recipients)"])
            reply = .success
            reached = recipients
        case .duplicate:
            logger.debug("duplicate event acknowledged", metadata: ["event.id": "\(event.id)"])
            reply = .duplicate
        case .draining:
            logger.info("event refused while draining", metadata: ["event.id": "\(event.id)"])
            reply = .retry
        case .unknownTopic:
            reply = .drop
        }
        if reply != .retry { readiness.delivered(topicIndex: topicIndex, time: event.time) }
        metrics.received(topicIndex: topicIndex, reply: reply)
        span.record(reply, recipients: reached)
        return reply.daprStatus
    }

    private func deliverBulk(
        _ bulk: BulkDelivery,
        topicIndex: Int,
        receivedAt: ContinuousClock.Instant,
        span: inout DeliverySpan,
        logger: Logger
    ) -> Response {
        var statuses: [String] = []
        for entry in bulk.entries ?? [] {
            let status: String
            if let event = entry.event {
                do {
                    let parsed = try CloudEvent(envelope: event)
                    let size = JSONText.encode(event).utf8.count
                    if size > settings.maxEventBytes { throw CloudEventError.tooLarge(limit: settings.maxEventBytes) }
                    status = publish(
                        parsed,
                        topicIndex: topicIndex,
                        receivedAt: receivedAt,
                        span: &span,
                        logger: logger
                    )
                } catch {
                    logger.warning(
                        "dropping poison event",
                        metadata: ["error": "\(error)", "bulk.entry": "\(entry.entryId ?? "")"]
                    )
                    metrics.received(topicIndex: topicIndex, reply: .drop)
                    span.dropped(because: "\(error)")
                    status = "DROP"
                }
            } else {
                logger.warning("dropping poison event", metadata: ["error": "bulk entry without event"])
                metrics.received(topicIndex: topicIndex, reply: .drop)
                span.dropped(because: "bulk entry without event")
                status = "DROP"
            }
            statuses.append(
                JSONText.object(["entryId": JSONText.quoted(entry.entryId ?? ""), "status": JSONText.quoted(status)])
            )
        }
        return Self.json("{\"statuses\":[" + statuses.joined(separator: ",") + "]}")
    }

    private struct BulkDelivery: Decodable {
        struct Entry: Decodable {
            var entryId: String?
            var event: JSONValue?
        }
        var entries: [Entry]?
    }

    static func status(_ status: String) -> Response {
        json("{\"status\":\"\(status)\"}")
    }

    static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
