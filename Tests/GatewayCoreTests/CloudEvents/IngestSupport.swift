import Foundation
import GatewayCore
import NIOCore

/// Runs bodies through the ingest step as the delivery route does, for the core tests.
struct IngestHarness {
    var ingest: EventIngest

    init(maxEventBytes: Int = 65536, bulk: Bool = false, bulkMaxEntries: Int = 100, bulkMaxBytes: Int = 1 << 20) {
        var limits = EventIngest.Limits()
        limits.maxEventBytes = maxEventBytes
        limits.bulkMaxEntries = bulkMaxEntries
        limits.bulkMaxBytes = bulkMaxBytes
        ingest = EventIngest(topics: TopicRule.learningPlatformDefaults(), limits: limits, acceptsBulk: bulk)
    }

    /// Ingests `body` for `topic` (`student.progress` unless said).
    func result(
        _ body: String,
        topic: Int = 0,
        contentType: String? = "application/cloudevents+json",
        headers: CloudEventHeaders = CloudEventHeaders(),
        traceparents: Bool = false
    ) -> IngestResult {
        result(Array(body.utf8), topic: topic, contentType: contentType, headers: headers, traceparents: traceparents)
    }

    func result(
        _ body: [UInt8],
        topic: Int = 0,
        contentType: String? = "application/cloudevents+json",
        headers: CloudEventHeaders = CloudEventHeaders(),
        traceparents: Bool = false
    ) -> IngestResult {
        ingest.ingest(
            ByteBuffer(bytes: body),
            mode: DeliveryMode(contentType: contentType, headers: headers),
            contentType: contentType,
            topicIndex: topic,
            receivedAt: .now,
            traceparents: traceparents
        )
    }

    /// The one event `body` holds, or the refusal.
    func event(
        _ body: String,
        topic: Int = 0,
        contentType: String? = "application/cloudevents+json",
        headers: CloudEventHeaders = CloudEventHeaders()
    ) throws(IngestRefusal) -> IngestedEvent {
        switch result(body, topic: topic, contentType: contentType, headers: headers, traceparents: true) {
        case .event(let event): return event
        case .refused(let refusal): throw refusal
        case .bulk, .batch: throw .poison(.notJSONObject)
        }
    }
}

extension EventFrame {
    /// The envelope as Foundation reads it.
    var envelopeObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(envelope.utf8))) as? [String: Any] ?? [:]
    }
}
