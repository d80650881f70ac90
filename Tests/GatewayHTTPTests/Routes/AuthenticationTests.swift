import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing

@testable import GatewayHTTP

@Suite struct AuthenticationTests {
    @Test func aStreamWithoutATokenIsUnauthorizedWithAProblemBody() async throws {
        try await TestGateway.run { gateway in
            let stream = try await gateway.stream(token: nil)
            #expect(stream.status == 401)
            #expect(stream.header("WWW-Authenticate")?.hasPrefix(#"Bearer error="invalid_token""#) == true)
            #expect(stream.header("Content-Type") == "application/problem+json")
            #expect(jsonObject(stream.body)?["status"] as? Int == 401)
        }
    }

    @Test func rejectedTokensSayWhatWasWrongWithoutEchoingTheToken() async throws {
        try await TestGateway.run(
            settings: TestGateway.settings {
                $0.authentication.issuer = "https://idp.test"
                $0.authentication.leeway = .zero
            }
        ) { gateway in
            let secret = try #require(gateway.settings.authentication.hmacSecret)
            let minter = await TokenMinter(secret: secret)
            let cases: [(String, String)] = [
                (
                    try await minter.token(
                        subject: "s",
                        roles: [],
                        lifetime: .seconds(60),
                        issuer: "https://idp.test",
                        now: Date().addingTimeInterval(-3600)
                    ), "expired"
                ),
                (
                    try await minter.token(
                        subject: "s",
                        roles: [],
                        lifetime: .seconds(60),
                        issuer: "https://evil.test"
                    ), "wrong_issuer"
                ),
                (
                    try await TokenMinter(secret: String(repeating: "another-secret-", count: 4)).token(
                        subject: "s",
                        roles: [],
                        lifetime: .seconds(60),
                        issuer: "https://idp.test"
                    ), "bad_signature"
                ),
                ("not.a.token", "malformed"),
                (
                    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJzLTEiLCJleHAiOjQxMDI0NDQ4MDB9.",
                    "algorithm_not_allowed"
                ),
            ]
            for (token, reason) in cases {
                let stream = try await gateway.stream(token: token)
                #expect(stream.status == 401, "\(reason)")
                #expect(jsonObject(stream.body)?["code"] as? String == reason)
                #expect(!stream.body.contains(token))
                #expect(stream.header("WWW-Authenticate")?.contains("error_description=") == true)
            }
        }
    }

    @Test func requestsOutsideTheScopeAreForbiddenAndMalformedOnesBad() async throws {
        try await TestGateway.run { gateway in
            let student = try await gateway.token("s-1", roles: ["student"])
            let cases: [(String, Int, String)] = [
                ("studentId=s-2", 403, "student_not_granted"),
                ("courseId=c-9", 403, "course_not_granted"),
                ("topics=billing", 400, "unknown_topic"),
                ("minPriority=urgent", 400, "malformed_filter"),
                ("topics=", 400, "malformed_filter"),
            ]
            for (query, status, code) in cases {
                let stream = try await gateway.stream(token: student, query: query)
                #expect(stream.status == status, "\(query)")
                #expect(jsonObject(stream.body)?["code"] as? String == code, "\(query)")
            }
        }
    }

    @Test func theElevenththStreamOfOneUserIsTooManyRequests() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            var open: [SSEClient] = []
            for _ in 0..<10 { open.append(try await gateway.readyStream(token: token)) }
            let refused = try await gateway.stream(token: token)
            #expect(refused.status == 429)
            #expect(refused.header("Retry-After") != nil)
            let other = try await gateway.readyStream(token: try await gateway.token("s-2", roles: ["student"]))
            other.close()
            for stream in open { stream.close() }
        }
    }

    @Test func theGlobalConnectionCapRefusesWith503() async throws {
        try await TestGateway.run(settings: TestGateway.settings { $0.limits.totalStreams = 2 }) { gateway in
            let first = try await gateway.readyStream(token: try await gateway.token("a", roles: ["student"]))
            let second = try await gateway.readyStream(token: try await gateway.token("b", roles: ["student"]))
            let third = try await gateway.stream(token: try await gateway.token("c", roles: ["student"]))
            #expect(third.status == 503)
            #expect(jsonObject(third.body)?["code"] as? String == "gateway_full")
            first.close()
            second.close()
        }
    }

    @Test func aSessionCookieAuthenticatesAnEventSourceAndCanBeCleared() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let response = try await gateway.client.execute(
                uri: "/events/session",
                method: .post,
                headers: [.authorization: "Bearer \(token)"]
            )
            #expect(response.status == .noContent)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("sse_session=\(token);"))
            for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/events"] {
                #expect(cookie.contains(attribute), "\(attribute)")
            }
            let maxAge = try #require(cookie.split(separator: ";").first { $0.contains("Max-Age=") })
            let seconds = try #require(Int(maxAge.split(separator: "=")[1]))
            #expect(seconds > 3500 && seconds <= 3600 + 30)

            let stream = try await gateway.stream(token: nil, headers: [("Cookie", "sse_session=\(token)")])
            #expect(stream.status == 200)
            stream.close()

            let cleared = try await gateway.client.execute(uri: "/events/session", method: .delete)
            #expect(cleared.headers[.setCookie]?.contains("Max-Age=0") == true)

            let withoutBearer = try await gateway.client.execute(uri: "/events/session", method: .post)
            #expect(withoutBearer.status == .unauthorized)
        }
    }

    @Test func aQueryTokenIsAcceptedOnlyWhenEnabled() async throws {
        try await TestGateway.run { gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let refused = try await gateway.stream(token: nil, query: "access_token=\(token)")
            #expect(refused.status == 401)
        }
        try await TestGateway.run(settings: TestGateway.settings { $0.authentication.allowQueryToken = true }) {
            gateway in
            let token = try await gateway.token("s-1", roles: ["student"])
            let accepted = try await gateway.stream(token: nil, query: "access_token=\(token)")
            #expect(accepted.status == 200)
            accepted.close()
        }
    }
}
