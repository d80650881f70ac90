import Foundation
import GatewayCore
import Hummingbird
import Logging

/// Dev mode only: `GET /demo`, a page to watch the stream in a browser, and
/// `POST /demo/publish`, which puts a sample event into the hub the way a Dapr delivery does.
///
/// Registered only when `settings.devMode` is set: the page embeds signed tokens and the
/// publish path skips the sidecar, neither of which may exist in production.
struct DemoRoutes: Sendable {
    let settings: GatewaySettings
    let hub: Hub

    /// The sample identities the page offers; the instructor's grants show how
    /// `student_ids` and `course_ids` widen a scope.
    static let identities: [DemoIdentity] = [
        DemoIdentity(key: "s-1", label: "student s-1", subject: "s-1", roles: ["student"]),
        DemoIdentity(key: "s-2", label: "student s-2", subject: "s-2", roles: ["student"]),
        DemoIdentity(
            key: "i-1",
            label: "instructor i-1 (student s-1, course c-1)",
            subject: "i-1",
            roles: ["instructor"],
            studentIDs: ["s-1"],
            courseIDs: ["c-1"]
        ),
        DemoIdentity(key: "admin", label: "admin", subject: "admin-1", roles: ["admin"]),
    ]

    /// The source of every event the demo publishes, so logs and payloads tell them apart.
    static let eventSource = "sse-gateway/demo"

    func register(on router: Router<GatewayRequestContext>) {
        router.get("demo") { _, _ in try await self.page() }
        router.post("demo/publish") { request, context in try await self.publish(request, context: context) }
    }

    /// The page, with tokens minted now: a page left open longer than their lifetime
    /// needs a reload, as in `DevBanner`.
    func page() async throws -> Response {
        guard let secret = settings.authentication.hmacSecret else {
            throw Problem(
                .serviceUnavailable,
                code: "demo_unavailable",
                detail: "the demo page needs an HMAC secret (GATEWAY_JWT_HS256_SECRET or --dev)"
            )
        }
        let minter = await TokenMinter(secret: secret)
        var identities: [String] = []
        for identity in Self.identities {
            let token: String
            do {
                token = try await minter.token(
                    subject: identity.subject,
                    roles: identity.roles,
                    studentIDs: identity.studentIDs,
                    courseIDs: identity.courseIDs,
                    lifetime: .seconds(8 * 3600),
                    claimNames: settings.authentication.claims,
                    issuer: settings.authentication.issuer,
                    audience: settings.authentication.audience
                )
            } catch {
                throw Problem(.internalServerError, code: "token_signing_failed", detail: "could not sign a demo token")
            }
            identities.append(
                JSONText.object([
                    "key": JSONText.quoted(identity.key),
                    "label": JSONText.quoted(identity.label),
                    "token": JSONText.quoted(token),
                ])
            )
        }
        let html = DemoPage.html(
            identitiesJSON: "[" + identities.joined(separator: ",") + "]",
            topicsJSON: JSONText.array(settings.topics.map(\.topic))
        )
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }

    /// Builds a CloudEvent from `{"topic","type","data"}` and publishes it exactly like a
    /// single Dapr delivery: the envelope goes through the same ingest step and size limit.
    func publish(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let receivedAt = ContinuousClock.now
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: settings.maxEventBytes)
        } catch {
            throw Problem(
                .contentTooLarge,
                code: "event_too_large",
                detail: "the body is larger than \(settings.maxEventBytes) bytes"
            )
        }
        let sample: DemoPublishRequest
        do {
            sample = try JSONDecoder().decode(DemoPublishRequest.self, from: Data(body.readableBytesView))
        } catch {
            throw Problem(
                .badRequest,
                code: "malformed_body",
                detail: #"expected a JSON object {"topic":"…","type":"…","data":{…}}"#
            )
        }
        let ingest = EventIngest(settings: settings)
        let envelope = JSONText.object([
            "specversion": JSONText.quoted("1.0"),
            "id": JSONText.quoted(UUID().uuidString.lowercased()),
            "source": JSONText.quoted(Self.eventSource),
            "type": JSONText.quoted(sample.type),
            "time": JSONText.quoted(Date().formatted(.iso8601)),
            "datacontenttype": JSONText.quoted("application/json"),
            "data": JSONText.encode(sample.data ?? .null),
        ])
        let result: IngestResult
        switch ingest.topicIndex(of: sample.topic) {
        case .failure(let refusal):
            result = .refused(refusal)
        case .success(let topicIndex):
            result = ingest.ingest(
                ByteBuffer(string: envelope),
                mode: .structured,
                contentType: "application/cloudevents+json",
                topicIndex: topicIndex,
                receivedAt: receivedAt
            )
        }
        let frame: EventFrame
        switch result {
        case .event(let event):
            frame = event.frame
        case .refused(.poison(let error)):
            throw Problem(.badRequest, code: "invalid_event", detail: error.description)
        case .refused(.unknownTopic(let topic)):
            throw Problem(.notFound, code: "unknown_topic", detail: IngestRefusal.unknownTopic(topic).description)
        case .refused(let refusal):
            // The bounds of bulk bodies; a single event never meets them.
            throw Problem(.contentTooLarge, code: "event_too_large", detail: refusal.description)
        case .bulk, .batch:
            // A structured CloudEvent body is never read as a batch.
            throw Problem(.badRequest, code: "invalid_event", detail: "expected one event")
        }
        var logger = context.logger
        logger[metadataKey: "event.topic"] = "\(sample.topic)"
        logger[metadataKey: "event.id"] = "\(frame.eventID)"
        switch hub.publish(frame) {
        case .accepted(_, let recipients):
            logger.debug("demo event published", metadata: ["event.recipients": "\(recipients)"])
        case .duplicate:
            // A fresh UUID is never a duplicate; answered like Dapr's redelivery if it were.
            logger.debug("duplicate event acknowledged")
        case .draining:
            throw Problem(SubscriptionError.shuttingDown)
        case .unknownTopic:
            throw Problem(
                .notFound,
                code: "unknown_topic",
                detail: "the topic '\(sample.topic)' is not carried by this gateway"
            )
        }
        return DaprRoutes.json(
            JSONText.object(["status": JSONText.quoted("SUCCESS"), "id": JSONText.quoted(frame.eventID)])
        )
    }
}

/// One sample user of the demo page.
struct DemoIdentity: Sendable {
    /// Stable key, used in element ids (`#identity-s-1`).
    let key: String
    /// What the page shows.
    let label: String
    /// The token's subject.
    let subject: String
    /// The token's roles.
    let roles: [String]
    /// Students the user may follow.
    var studentIDs: [String] = []
    /// Courses the user may follow.
    var courseIDs: [String] = []
}

/// The body of `POST /demo/publish`.
private struct DemoPublishRequest: Decodable {
    var topic: String
    var type: String
    var data: JSONValue?
}
