import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import GatewayHTTP

/// CORS on a real port (design section 5): exactly the allowed origins, with credentials,
/// on the browser routes only; and the session cookie's cross-site attributes.
@Suite struct CrossOriginTests {
    private static let app = "https://app.example.com"
    private static let stranger = "https://evil.example.net"

    private static func settings(_ adjust: (inout GatewaySettings) -> Void = { _ in }) -> GatewaySettings {
        TestGateway.settings {
            $0.corsOrigins = [app, "http://localhost:5173"]
            adjust(&$0)
        }
    }

    private func preflight(
        _ gateway: TestGateway,
        _ path: String,
        origin: String,
        method: String,
        headers: String? = nil
    ) async throws -> TestResponse {
        var fields: HTTPFields = [.origin: origin, .accessControlRequestMethod: method]
        if let headers { fields[.accessControlRequestHeaders] = headers }
        return try await gateway.client.execute(uri: path, method: .options, headers: fields)
    }

    @Test func anAllowedOriginGetsItsPreflightForTheSessionRoute() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            for method in ["POST", "DELETE"] {
                let answer = try await preflight(
                    gateway,
                    "/events/session",
                    origin: Self.app,
                    method: method,
                    headers: "authorization, content-type"
                )
                #expect(answer.status == .noContent)
                #expect(answer.headers[.accessControlAllowOrigin] == Self.app)
                #expect(answer.headers[.accessControlAllowCredentials] == "true")
                #expect(answer.headers[.accessControlAllowMethods] == "POST, DELETE")
                #expect(answer.headers[.accessControlAllowHeaders] == "Authorization, Content-Type, Last-Event-ID")
                #expect(answer.headers[.vary]?.contains("Origin") == true)
            }
            let poll = try await preflight(
                gateway,
                "/events/poll",
                origin: "http://localhost:5173",
                method: "GET",
                headers: "Authorization,Last-Event-ID"
            )
            #expect(poll.status == .noContent)
            #expect(poll.headers[.accessControlAllowMethods] == "GET")
        }
    }

    @Test func aPreflightFromAnotherOriginOrForMoreIsForbiddenWithAProblem() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            let cases: [(String, String, String, String?, String)] = [
                ("/events/session", Self.stranger, "POST", nil, "origin_not_allowed"),
                ("/events/session", "null", "POST", nil, "origin_not_allowed"),
                ("/events/session", Self.app + "/", "POST", nil, "origin_not_allowed"),
                ("/events/session", Self.app, "PUT", nil, "method_not_allowed"),
                ("/events/stream", Self.app, "POST", nil, "method_not_allowed"),
                ("/events/session", Self.app, "POST", "authorization, x-debug", "header_not_allowed"),
            ]
            for (path, origin, method, headers, code) in cases {
                let answer = try await preflight(gateway, path, origin: origin, method: method, headers: headers)
                #expect(answer.status == .forbidden, "\(origin) \(method) \(path)")
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(jsonObject(String(buffer: answer.body))?["code"] as? String == code, "\(origin) \(method)")
                #expect(answer.headers[.accessControlAllowOrigin] == nil)
                #expect(answer.headers[.accessControlAllowCredentials] == nil)
            }
        }
    }

    @Test func withoutConfiguredOriginsEveryPreflightIsForbiddenAndNoAnswerCarriesCORS() async throws {
        try await TestGateway.run { gateway in
            let answer = try await preflight(gateway, "/events/session", origin: Self.app, method: "POST")
            #expect(answer.status == .forbidden)
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, headers: [("Origin", Self.app)])
            #expect(stream.header("Access-Control-Allow-Origin") == nil)
            #expect(stream.header("Vary") == nil)
            stream.close()
        }
    }

    @Test func theBrowserRoutesAnswerAnAllowedOriginWithCredentials() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, headers: [("Origin", Self.app)])
            #expect(stream.header("Access-Control-Allow-Origin") == Self.app)
            #expect(stream.header("Access-Control-Allow-Credentials") == "true")
            #expect(stream.header("Vary") == "Origin")
            #expect(stream.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            stream.close()

            let poll = try await gateway.get(
                "/events/poll?topics=student.progress",
                headers: [.authorization: "Bearer \(token)", .origin: Self.app]
            )
            #expect(poll.status == .ok)
            #expect(poll.headers[.accessControlAllowOrigin] == Self.app)
            #expect(poll.headers[.accessControlAllowCredentials] == "true")

            let session = try await gateway.client.execute(
                uri: "/events/session",
                method: .post,
                headers: [.authorization: "Bearer \(token)", .origin: Self.app]
            )
            #expect(session.status == .noContent)
            #expect(session.headers[.accessControlAllowOrigin] == Self.app)
            #expect(session.headers[.setCookie] != nil)
        }
    }

    @Test func refusalsCarryCORSSoAnAllowedPageCanReadThem() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            let refused = try await gateway.stream(token: nil, headers: [("Origin", Self.app)])
            #expect(refused.status == 401)
            #expect(refused.header("Access-Control-Allow-Origin") == Self.app)
            #expect(refused.header("Access-Control-Expose-Headers")?.contains("WWW-Authenticate") == true)
            let session = try await gateway.client.execute(
                uri: "/events/session",
                method: .post,
                headers: [.origin: Self.app]
            )
            #expect(session.status == .unauthorized)
            #expect(session.headers[.accessControlAllowOrigin] == Self.app)
        }
    }

    @Test func anOriginNotAllowedGetsNoCORSHeaders() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let stream = try await gateway.readyStream(token: token, headers: [("Origin", Self.stranger)])
            #expect(stream.header("Access-Control-Allow-Origin") == nil)
            #expect(stream.header("Access-Control-Allow-Credentials") == nil)
            #expect(stream.header("Vary") == "Origin")
            stream.close()
            let session = try await gateway.client.execute(
                uri: "/events/session",
                method: .post,
                headers: [.authorization: "Bearer \(token)", .origin: Self.stranger]
            )
            #expect(session.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func daprMetricsAndProbesNeverAnswerCORS() async throws {
        try await TestGateway.run(settings: Self.settings()) { gateway in
            for path in ["/dapr/subscribe", "/metrics", "/healthz", "/readyz"] {
                // (Status aside: /readyz may be 503 until the gateway is ready.)
                let answer = try await gateway.get(path, headers: [.origin: Self.app])
                #expect(answer.headers[.accessControlAllowOrigin] == nil, "\(path)")
                #expect(answer.headers[.vary] == nil, "\(path)")
                let preflight = try await preflight(gateway, path, origin: Self.app, method: "GET")
                #expect(preflight.status != .noContent, "\(path)")
                #expect(preflight.headers[.accessControlAllowOrigin] == nil, "\(path)")
            }
            let delivery = try await gateway.client.execute(
                uri: "/dapr/topics/student.progress",
                method: .post,
                headers: [.origin: Self.app, .contentType: "application/cloudevents+json"],
                body: ByteBuffer(
                    string: #"{"specversion":"1.0","id":"x","source":"s","type":"t","data":{"studentId":"s-1"}}"#
                )
            )
            #expect(delivery.status == .ok)
            #expect(delivery.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func theSessionCookieCarriesTheConfiguredSameSiteAndDomain() async throws {
        let settings = Self.settings {
            $0.authentication.sessionCookieSameSite = .none
            $0.authentication.sessionCookieDomain = "example.com"
        }
        try await TestGateway.run(settings: settings) { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let response = try await gateway.client.execute(
                uri: "/events/session",
                method: .post,
                headers: [.authorization: "Bearer \(token)"]
            )
            let cookie = try #require(response.headers[.setCookie])
            let attributes = cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.contains("SameSite=None"))
            #expect(attributes.contains("Secure"))
            #expect(attributes.contains("Domain=example.com"))
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("Path=/events"))
            let cleared = try await gateway.client.execute(uri: "/events/session", method: .delete)
            // The clearing cookie must name the same Domain and Path, or the browser keeps the old one.
            #expect(cleared.headers[.setCookie]?.contains("Domain=example.com") == true)
            #expect(cleared.headers[.setCookie]?.contains("Max-Age=0") == true)
        }
    }
}
