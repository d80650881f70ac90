import GatewayCore
import HTTPTypes
import Logging
import NIOCore

/// One Dapr delivery from body to answer: the ingest step, the hub, the metrics and the log
/// lines (design section 4, dapr-contract.md). Synchronous: nothing here waits.
struct DaprDelivery: Sendable {
    let ingest: EventIngest
    let hub: Hub
    let metrics: GatewayMetrics
    /// Told of every delivery: a new pod is ready once it caught up (design section 6).
    let readiness: Readiness

    /// What became of one event.
    enum EventOutcome: Sendable, Equatable {
        /// Logged and handed to `recipients` streams.
        case accepted(recipients: Int)
        /// The id was accepted before: acknowledged, not delivered again.
        case duplicate
        /// The gateway is draining: daprd should retry (on another replica).
        case draining
        /// Not an event the gateway can forward: daprd should dead-letter it.
        case poison(CloudEventError)
        /// The hub does not carry the topic (the ingest step checked it first).
        case unknownTopic

        /// The Dapr reply it is counted as.
        var reply: GatewayMetrics.DaprReply {
            switch self {
            case .accepted: .success
            case .duplicate: .duplicate
            case .draining: .retry
            case .poison, .unknownTopic: .drop
            }
        }
    }

    /// What became of one delivery.
    enum Outcome: Sendable {
        /// A single event.
        case event(EventOutcome)
        /// A Dapr bulk delivery: each entry's `entryId` and outcome, in order.
        case bulk([(entryID: String, outcome: EventOutcome)])
        /// A CloudEvents batch: each element's outcome, in order.
        case batch([EventOutcome])
        /// The whole delivery was refused before any event.
        case refused(IngestRefusal)
    }

    /// An answer to daprd: status, content type and body.
    struct Answer: Sendable, Equatable {
        var status: HTTPResponse.Status
        var contentType: String
        var body: String

        static func json(_ body: String) -> Answer { Answer(status: .ok, contentType: "application/json", body: body) }
        static func status(_ reply: String) -> Answer { json(#"{"status":""# + reply + #""}"#) }
    }

    /// Ingests one delivery body for the topic at `topicIndex` and publishes what it holds.
    /// This is the one call of the ingest step on the delivery route.
    func handle(
        _ body: ByteBuffer,
        mode: DeliveryMode,
        contentType: String?,
        topicIndex: Int,
        receivedAt: ContinuousClock.Instant,
        span: inout DeliverySpan,
        logger: Logger
    ) -> Outcome {
        // daprd sends the trace context as a header too; the attribute is read without one.
        let result = ingest.ingest(
            body,
            mode: mode,
            contentType: contentType,
            topicIndex: topicIndex,
            receivedAt: receivedAt,
            traceparents: logger[metadataKey: "trace.parent"] == nil
        )
        switch result {
        case .event(let event):
            return .event(publish(event, topicIndex: topicIndex, span: &span, logger: logger))
        case .bulk(let entries):
            var outcomes: [(entryID: String, outcome: EventOutcome)] = []
            outcomes.reserveCapacity(entries.count)
            for entry in entries {
                outcomes.append(
                    (entry.entryID, outcome(of: entry, topicIndex: topicIndex, span: &span, logger: logger))
                )
            }
            return .bulk(outcomes)
        case .batch(let entries):
            var outcomes: [EventOutcome] = []
            outcomes.reserveCapacity(entries.count)
            for entry in entries {
                outcomes.append(outcome(of: entry, topicIndex: topicIndex, span: &span, logger: logger))
            }
            return .batch(outcomes)
        case .refused(let refusal):
            refused(refusal, topicIndex: topicIndex, span: &span, logger: logger)
            return .refused(refusal)
        }
    }

    /// Logs a refusal of a whole delivery (once, here) and counts it.
    func refused(_ refusal: IngestRefusal, topicIndex: Int?, span: inout DeliverySpan, logger: Logger) {
        switch refusal {
        case .poison(let error):
            logger.warning("dropping poison event", metadata: ["error": "\(error)"])
            if let topicIndex { metrics.received(topicIndex: topicIndex, reply: .drop) }
            span.dropped(because: "\(error)")
        case .unknownTopic:
            logger.warning("delivery for an unknown topic")
            span.fail("unknown topic")
        case .tooManyEntries, .bodyTooLarge:
            logger.warning("bulk delivery refused", metadata: ["error": "\(refusal)"])
            span.fail("\(refusal)")
        }
    }

    private func outcome(
        of entry: IngestEntry,
        topicIndex: Int,
        span: inout DeliverySpan,
        logger: Logger
    ) -> EventOutcome {
        switch entry.result {
        case .success(let event):
            return publish(event, topicIndex: topicIndex, span: &span, logger: logger)
        case .failure(let error):
            logger.warning("dropping poison event", metadata: ["error": "\(error)", "bulk.entry": "\(entry.entryID)"])
            metrics.received(topicIndex: topicIndex, reply: .drop)
            span.dropped(because: "\(error)")
            return .poison(error)
        }
    }

    /// Hands one event to the hub; a delivery arrived, with its CloudEvent `time`
    /// (`event.frame.time`).
    private func publish(
        _ event: IngestedEvent,
        topicIndex: Int,
        span: inout DeliverySpan,
        logger: Logger
    ) -> EventOutcome {
        var logger = logger
        // daprd sends the trace context as a header and inside the CloudEvent; bulk entries
        // carry only the latter.
        if logger[metadataKey: "trace.parent"] == nil, let traceparent = event.traceparent {
            logger[metadataKey: "trace.parent"] = "\(traceparent)"
        }
        let frame = event.frame
        span.record(frame)
        let outcome: EventOutcome
        switch hub.publish(frame) {
        case .accepted(_, let recipients):
            logger.debug(
                "event delivered",
                metadata: ["event.id": "\(frame.eventID)", "event.recipients": "\(recipients)"]
            )
            outcome = .accepted(recipients: recipients)
        case .duplicate:
            logger.debug("duplicate event acknowledged", metadata: ["event.id": "\(frame.eventID)"])
            outcome = .duplicate
        case .draining:
            logger.info("event refused while draining", metadata: ["event.id": "\(frame.eventID)"])
            outcome = .draining
        case .unknownTopic:
            outcome = .unknownTopic
        }
        if outcome != .draining { readiness.delivered(topicIndex: topicIndex, time: frame.time) }
        metrics.received(topicIndex: topicIndex, reply: outcome.reply)
        if case .accepted(let recipients) = outcome {
            span.record(outcome.reply, recipients: recipients)
        } else {
            span.record(outcome.reply)
        }
        return outcome
    }

    /// The one mapping of outcomes to what daprd reads (dapr-contract.md, "The answer").
    static func answer(_ outcome: Outcome) -> Answer {
        switch outcome {
        case .event(let event):
            return .status(status(of: event))
        case .bulk(let entries):
            let statuses = entries.map { entry in
                JSONText.object([
                    "entryId": JSONText.quoted(entry.entryID), "status": JSONText.quoted(status(of: entry.outcome)),
                ])
            }
            return .json(#"{"statuses":["# + statuses.joined(separator: ",") + "]}")
        case .batch(let events):
            // One status for the batch: RETRY if any event needs it (redelivering the
            // accepted ones is harmless, they are deduplicated), DROP if none could be taken.
            let statuses = events.map(status(of:))
            if statuses.contains("RETRY") { return .status("RETRY") }
            return .status(statuses.contains("SUCCESS") ? "SUCCESS" : "DROP")
        case .refused(let refusal):
            switch refusal {
            case .poison:
                return .status("DROP")
            case .unknownTopic:
                // daprd drops the event (a bulk: the whole batch) without retrying.
                return problem(Problem(.notFound, code: "unknown_topic", detail: refusal.description))
            case .tooManyEntries:
                return problem(Problem(.contentTooLarge, code: "too_many_entries", detail: refusal.description))
            case .bodyTooLarge:
                return problem(Problem(.contentTooLarge, code: "bulk_too_large", detail: refusal.description))
            }
        }
    }

    private static func status(of outcome: EventOutcome) -> String {
        switch outcome {
        case .accepted, .duplicate: "SUCCESS"
        case .draining: "RETRY"
        case .poison, .unknownTopic: "DROP"
        }
    }

    private static func problem(_ problem: Problem) -> Answer {
        Answer(status: problem.status, contentType: "application/problem+json", body: problem.json)
    }
}
