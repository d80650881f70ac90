import Foundation
import GatewayCore
import HTTPTypes
import Logging
import Tracing
import W3CTraceContext

/// Continues daprd's trace on each delivery: one span per delivery request, a child of the
/// `traceparent` daprd sends, named `ingest <topic>`, with the topic, the event, the
/// recipients and the reply (docs/observability.md "Traces").
///
/// Without a tracer (no OTLP endpoint) no span is made; the log lines of a delivery still
/// carry `trace_id` and `span_id`, then of daprd's span, so they join the publisher's trace.
struct DeliveryTracer: Sendable {
    private let tracer: (any Tracer)?

    /// Traces with `tracer`, or, with `nil`, only tags log lines.
    init(tracer: (any Tracer)?) {
        self.tracer = tracer
    }

    /// Runs `ingest` for one delivery of `topic` inside its span; `ingest` gets the span to
    /// record what happened and a logger whose lines carry `trace_id` and `span_id`.
    func trace<Result>(
        topic: String,
        headers: HTTPFields,
        logger: Logger,
        _ ingest: (inout DeliverySpan, Logger) async throws -> Result
    ) async rethrows -> Result {
        var logger = logger
        guard let tracer else {
            let parent = headers[.traceparent].flatMap { try? TraceContext(traceParentHeaderValue: $0) }
            if let parent { Self.tag(&logger, with: parent) }
            var span = DeliverySpan(span: nil)
            return try await ingest(&span, logger)
        }
        var context = InstrumentationContext.topLevel
        tracer.extract(headers, into: &context, using: HeaderExtractor())
        let span = tracer.startSpan("ingest \(topic)", context: context, ofKind: .consumer)
        var delivery = DeliverySpan(span: span)
        defer { delivery.end(topic: topic) }
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: HeaderInjector())
        if let own = carrier["traceparent"].flatMap({ try? TraceContext(traceParentHeaderValue: $0) }) {
            Self.tag(&logger, with: own)
        }
        return try await ingest(&delivery, logger)
    }

    private static func tag(_ logger: inout Logger, with context: TraceContext) {
        // Rendered to hex only when a line is written, not for every delivery.
        logger[metadataKey: "trace_id"] = .stringConvertible(context.traceID)
        logger[metadataKey: "span_id"] = .stringConvertible(context.spanID)
    }

    /// Reads `traceparent` / `tracestate` from a delivery's headers (names match in any case).
    private struct HeaderExtractor: Extractor {
        func extract(key: String, from carrier: HTTPFields) -> String? {
            HTTPField.Name(key).flatMap { carrier[$0] }
        }
    }

    /// Writes the span's own context, to read its ids for the log lines.
    private struct HeaderInjector: Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
            carrier[key.lowercased()] = value
        }
    }
}

/// What one delivery request did, gathered while it runs and put on its span at the end
/// (a bulk request records one reply per entry). Free when tracing is off.
struct DeliverySpan {
    fileprivate let span: (any Span)?
    private var replies: [GatewayMetrics.DaprReply: Int] = [:]
    private var recipients = 0
    private var event: EventFrame?
    private var failure: String?

    fileprivate init(span: (any Span)?) {
        self.span = span
    }

    /// The delivery's event was read (for a bulk request: each entry's).
    mutating func record(_ event: EventFrame) {
        guard span != nil else { return }
        self.event = event
    }

    /// The gateway answered `reply`; an accepted event reached `recipients` streams.
    mutating func record(_ reply: GatewayMetrics.DaprReply, recipients: Int = 0) {
        guard span != nil else { return }
        replies[reply, default: 0] += 1
        self.recipients += recipients
    }

    /// The request was refused before any event (an unknown topic): `reason` says why.
    mutating func fail(_ reason: String) {
        guard span != nil else { return }
        failure = reason
    }

    /// The delivery (or one bulk entry) was answered `DROP`: `reason` says why, never the payload.
    mutating func dropped(because reason: String) {
        record(.drop)
        fail(reason)
    }

    fileprivate func end(topic: String) {
        guard let span else { return }
        let count = replies.values.reduce(0, +)
        var attributes = span.attributes
        attributes["messaging.system"] = "dapr"
        attributes["messaging.operation.type"] = "process"
        attributes["messaging.operation.name"] = "ingest"
        attributes["messaging.destination.name"] = topic
        if count > 1 {
            attributes["messaging.batch.message_count"] = count
        } else if let event {
            attributes["messaging.message.id"] = event.eventID
            attributes["cloudevents.event_id"] = event.eventID
            attributes["cloudevents.event_type"] = event.facts.type
            // The frame keeps the source only inside its envelope: read back for the span alone.
            if let source = Self.source(in: event) { attributes["cloudevents.event_source"] = source }
        }
        attributes["sse_gateway.recipients"] = recipients
        // One reply for all (the usual case), "mixed" for a bulk request with several, and
        // "none" when the request never got to an event (an unknown topic: 404).
        if replies.count == 1, let only = replies.keys.first {
            attributes["sse_gateway.outcome"] = only.rawValue
        } else {
            attributes["sse_gateway.outcome"] = replies.isEmpty ? "none" : "mixed"
        }
        span.attributes = attributes
        if let failure { span.setStatus(SpanStatus(code: .error, message: failure)) }
        span.end()
    }

    private struct EnvelopeSource: Decodable {
        var source: String
    }

    private static func source(in frame: EventFrame) -> String? {
        try? JSONDecoder().decode(EnvelopeSource.self, from: Data(frame.envelopeBytes.readableBytesView)).source
    }
}
