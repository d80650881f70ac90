import GatewayCore
import Hummingbird

/// An error answered with an `application/problem+json` body (RFC 9457).
package struct Problem: HTTPResponseError {
    /// The HTTP status.
    package let status: HTTPResponse.Status
    /// A stable, machine-readable code.
    package let code: String
    /// What went wrong, for a person.
    package let detail: String
    /// Extra headers (`WWW-Authenticate`, `Retry-After`).
    package let headers: HTTPFields

    /// Creates a problem.
    package init(_ status: HTTPResponse.Status, code: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: responseHeaders, body: .init(byteBuffer: body))
    }

    /// The extra headers and the problem body's `Content-Type`.
    package var responseHeaders: HTTPFields {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return fields
    }

    /// The `application/problem+json` body.
    package var body: ByteBuffer {
        ByteBuffer(string: json)
    }

    /// The `application/problem+json` body as text.
    package var json: String {
        JSONText.object([
            "type": JSONText.quoted("about:blank"),
            "title": JSONText.quoted(status.reasonPhrase),
            "status": String(status.code),
            "code": JSONText.quoted(code),
            "detail": JSONText.quoted(detail),
        ])
    }
}

extension Problem {
    /// The one mapping of authentication failures to HTTP.
    package init(_ error: AuthenticationError) {
        let description = error.description.replacingOccurrences(of: "\"", with: "'")
        self.init(
            .unauthorized,
            code: error.reason,
            detail: error.description,
            headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\", error_description=\"\(description)\""]
        )
    }

    /// The one mapping of authorization failures to HTTP.
    package init(_ error: AuthorizationError) {
        switch error {
        case .unknownTopic: self.init(.badRequest, code: "unknown_topic", detail: error.description)
        case .malformedFilter: self.init(.badRequest, code: "malformed_filter", detail: error.description)
        case .topicNotGranted: self.init(.forbidden, code: "topic_not_granted", detail: error.description)
        case .studentNotGranted: self.init(.forbidden, code: "student_not_granted", detail: error.description)
        case .courseNotGranted: self.init(.forbidden, code: "course_not_granted", detail: error.description)
        }
    }

    /// The one mapping of admission failures to HTTP.
    package init(_ error: SubscriptionError) {
        switch error {
        case .shuttingDown:
            self.init(
                .serviceUnavailable,
                code: "shutting_down",
                detail: error.description,
                headers: [.retryAfter: "1"]
            )
        case .gatewayFull:
            self.init(.serviceUnavailable, code: "gateway_full", detail: error.description, headers: [.retryAfter: "5"])
        case .tooManyStreams:
            self.init(
                .tooManyRequests,
                code: "too_many_streams",
                detail: error.description,
                headers: [.retryAfter: "10"]
            )
        }
    }
}

extension Problem {
    /// The one mapping of a pod that should not receive traffic to HTTP (`GET /readyz`).
    package init(notReady state: Readiness.State) {
        let detail: String
        switch state {
        case .notSubscribed: detail = "daprd has not fetched GET /dapr/subscribe yet"
        case .catchingUp: detail = "the broker may still be delivering its retained history to this new pod"
        case .draining: detail = "the gateway is shutting down"
        case .ready: detail = "ready"
        }
        self.init(.serviceUnavailable, code: state.rawValue, detail: detail)
    }
}
