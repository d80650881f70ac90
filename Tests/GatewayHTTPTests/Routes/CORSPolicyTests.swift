import HTTPTypes
import Testing

@testable import GatewayHTTP

/// The policy itself, as any code path serving a browser route calls it (the router's
/// middleware, or a stream handler of its own).
@Suite struct CORSPolicyTests {
    private let policy = CORSPolicy(allowedOrigins: ["https://app.example.com"])

    @Test func anAllowedOriginGetsItsOwnOriginBackWithCredentials() {
        let headers = policy.headers(forOrigin: "https://app.example.com")
        #expect(headers[.accessControlAllowOrigin] == "https://app.example.com")
        #expect(headers[.accessControlAllowCredentials] == "true")
        #expect(headers[.vary] == "Origin")
    }

    @Test func anyOtherOriginOrNoneGetsOnlyVary() {
        for origin in ["https://evil.example.net", "https://app.example.com.evil.net", "null", nil] as [String?] {
            let headers = policy.headers(forOrigin: origin)
            #expect(headers[.accessControlAllowOrigin] == nil, "\(origin ?? "none")")
            #expect(headers[.accessControlAllowCredentials] == nil)
            #expect(headers[.vary] == "Origin")
        }
    }

    @Test func withoutOriginsThereIsNothingToAdd() {
        #expect(CORSPolicy(allowedOrigins: []).headers(forOrigin: "https://app.example.com").isEmpty)
    }

    @Test func onlyTheBrowserRoutesAnswerCORS() {
        for path in ["/events/stream", "/events/poll", "/events/session", "/events/session/"] {
            #expect(CORSPolicy.answersCORS(path: path), "\(path)")
        }
        for path in ["/dapr/subscribe", "/dapr/topics/student.progress", "/metrics", "/healthz", "/readyz", "/demo"] {
            #expect(!CORSPolicy.answersCORS(path: path), "\(path)")
        }
    }

    @Test func aStreamPreflightAllowsGETWithTheResumeHeader() {
        guard
            case .allowed(let headers) = policy.preflight(
                path: "/events/stream",
                origin: "https://app.example.com",
                requestMethod: "GET",
                requestHeaders: "last-event-id"
            )
        else {
            Issue.record("refused")
            return
        }
        #expect(headers[.accessControlAllowMethods] == "GET")
        #expect(headers[.accessControlMaxAge] == "600")
        #expect(headers[.accessControlAllowOrigin] == "https://app.example.com")
    }
}
