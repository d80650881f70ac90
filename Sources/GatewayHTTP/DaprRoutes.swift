import GatewayCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The sidecar's side of the gateway: subscription discovery and event delivery
/// (design sections 2 and 4, dapr-contract.md).
struct DaprRoutes: Sendable {
    let settings: GatewaySettings
    let delivery: DaprDelivery
    let tracer: DeliveryTracer
    let readiness: Readiness

    init(settings: GatewaySettings, hub: Hub, metrics: GatewayMetrics, tracer: DeliveryTracer, readiness: Readiness) {
        self.settings = settings
        self.delivery = DaprDelivery(
            ingest: EventIngest(settings: settings),
            hub: hub,
            metrics: metrics,
            readiness: readiness
        )
        self.tracer = tracer
        self.readiness = readiness
    }

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

    /// `POST /dapr/topics/{topic}`: reads the body (bounded), hands it to the ingest step
    /// and answers daprd.
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
        let outcome: DaprDelivery.Outcome
        switch delivery.ingest.topicIndex(of: topic) {
        case .failure(let refusal):
            delivery.refused(refusal, topicIndex: nil, span: &span, logger: logger)
            outcome = .refused(refusal)
        case .success(let topicIndex):
            let contentType = request.headers[.contentType]
            let mode = DeliveryMode(
                contentType: contentType,
                headers: CloudEventHeaders { name in HTTPField.Name(name).flatMap { request.headers[$0] } }
            )
            let bound = delivery.ingest.bodyBound(mode: mode, contentType: contentType)
            do {
                let body = try await request.body.collect(upTo: bound.limit)
                outcome = delivery.handle(
                    body,
                    mode: mode,
                    contentType: contentType,
                    topicIndex: topicIndex,
                    receivedAt: receivedAt,
                    span: &span,
                    logger: logger
                )
            } catch is NIOTooManyBytesError {
                delivery.refused(bound.refusal, topicIndex: topicIndex, span: &span, logger: logger)
                outcome = .refused(bound.refusal)
            }
        }
        return Self.response(DaprDelivery.answer(outcome))
    }

    static func response(_ answer: DaprDelivery.Answer) -> Response {
        Response(
            status: answer.status,
            headers: [.contentType: answer.contentType],
            body: .init(byteBuffer: ByteBuffer(string: answer.body))
        )
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
