import Crypto
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOConcurrencyHelpers
import Testing

/// A JWKS served over HTTP on loopback, as an identity provider would, with keys that
/// rotate while the gateway runs.
@Suite struct JWKSRotationTests {
    /// An Ed25519 key generated for this run, with the JWK the provider publishes for it.
    struct SigningKey: Sendable {
        let keyID: String
        let signer: JWTKeyCollection
        let jwk: String

        init(keyID: String) async {
            let backing = Curve25519.Signing.PrivateKey()
            let signer = JWTKeyCollection()
            await signer.add(eddsa: EdDSA.PrivateKey(backing: backing), kid: JWKIdentifier(string: keyID))
            self.keyID = keyID
            self.signer = signer
            let x = backing.publicKey.rawRepresentation.base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            self.jwk = #"{"kty":"OKP","crv":"Ed25519","use":"sig","kid":"\#(keyID)","x":"\#(x)"}"#
        }

        func token(subject: String) async throws -> String {
            let now = Int64(Date().timeIntervalSince1970)
            let claims = ClaimsPayload(claims: [
                "sub": .string(subject), "roles": .array(["student"]), "iat": .integer(now),
                "exp": .integer(now + 600),
            ])
            return try await signer.sign(claims, kid: JWKIdentifier(string: keyID))
        }
    }

    /// The identity provider's JWKS endpoint: what it serves, and how often it was asked.
    final class Provider: Sendable {
        private struct State {
            var keys: [SigningKey] = []
            var status: HTTPResponse.Status = .ok
            var fetches = 0
            var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        }
        private let state = NIOLockedValueBox(State())

        func publish(_ keys: [SigningKey]) { state.withLockedValue { $0.keys = keys } }
        func fail(with status: HTTPResponse.Status) { state.withLockedValue { $0.status = status } }
        var fetches: Int { state.withLockedValue { $0.fetches } }

        /// Returns once the endpoint was fetched at least `count` times.
        func fetched(atLeast count: Int) async {
            await withCheckedContinuation { continuation in
                let done = state.withLockedValue { state -> Bool in
                    if state.fetches >= count { return true }
                    state.waiters.append((count, continuation))
                    return false
                }
                if done { continuation.resume() }
            }
        }

        func respond() -> Response {
            let (status, body, ready) = state.withLockedValue {
                state -> (HTTPResponse.Status, String, [CheckedContinuation<Void, Never>]) in
                state.fetches += 1
                let fetches = state.fetches
                let ready = state.waiters.filter { $0.count <= fetches }.map(\.continuation)
                state.waiters.removeAll { $0.count <= fetches }
                let body = #"{"keys":[\#(state.keys.map(\.jwk).joined(separator: ","))]}"#
                return (state.status, state.status == .ok ? body : #"{"error":"unavailable"}"#, ready)
            }
            for waiter in ready { waiter.resume() }
            return Response(
                status: status,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: body))
            )
        }

        /// Serves `/jwks` on a loopback port for the duration of `body`.
        func serve<Result: Sendable>(_ body: @Sendable (_ url: String) async throws -> Result) async throws -> Result {
            let router = Router()
            router.get("jwks") { _, _ in self.respond() }
            let application = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0))
            )
            return try await application.test(.live) { client in
                try await body("http://127.0.0.1:\(client.port ?? 0)/jwks")
            }
        }
    }

    private func settings(jwksURL: String, minimumRefresh: Duration) -> GatewaySettings {
        TestGateway.settings {
            $0.authentication.jwksURL = jwksURL
            $0.authentication.jwksRefreshInterval = .seconds(3600)
            $0.authentication.jwksMinimumRefreshInterval = minimumRefresh
        }
    }

    private func status(_ gateway: TestGateway, _ token: String) async throws -> (Int, String?) {
        let stream = try await gateway.stream(token: token)
        defer { stream.close() }
        if stream.status == 200 { return (200, nil) }
        return (stream.status, jsonObject(stream.body)?["code"] as? String)
    }

    @Test func aRotatedInKeyIsFetchedOnItsFirstTokenAndARotatedOutKeyStopsVerifying() async throws {
        let provider = Provider()
        let old = await SigningKey(keyID: "2026-11")
        let new = await SigningKey(keyID: "2026-12")
        provider.publish([old])
        try await provider.serve { url in
            try await TestGateway.run(settings: settings(jwksURL: url, minimumRefresh: .zero)) { gateway in
                await provider.fetched(atLeast: 1)
                #expect(try await status(gateway, try await old.token(subject: "s-1")).0 == 200)

                // The provider rotates: the new key appears, the old one disappears.
                provider.publish([new])
                let before = provider.fetches
                #expect(try await status(gateway, try await new.token(subject: "s-1")).0 == 200)
                #expect(provider.fetches == before + 1, "an unknown kid makes the gateway fetch the JWKS again")
                let retired = try await status(gateway, try await old.token(subject: "s-1"))
                #expect(retired.0 == 401)
                #expect(retired.1 == "unknown_key")
            }
        }
    }

    @Test func aFailingProviderKeepsTheLastGoodKeys() async throws {
        let provider = Provider()
        let key = await SigningKey(keyID: "current")
        provider.publish([key])
        try await provider.serve { url in
            try await TestGateway.run(settings: settings(jwksURL: url, minimumRefresh: .zero)) { gateway in
                await provider.fetched(atLeast: 1)
                #expect(try await status(gateway, try await key.token(subject: "s-1")).0 == 200)
                provider.fail(with: .internalServerError)
                let before = provider.fetches
                // An unknown kid forces a fetch, which fails...
                let stranger = await SigningKey(keyID: "stranger")
                let refused = try await status(gateway, try await stranger.token(subject: "s-1"))
                #expect(refused.0 == 401)
                #expect(refused.1 == "unknown_key")
                #expect(provider.fetches == before + 1)
                // ...and the keys fetched before it still verify.
                #expect(try await status(gateway, try await key.token(subject: "s-1")).0 == 200)
            }
        }
    }

    @Test func aFloodOfUnknownKeyIDsCannotHammerTheProvider() async throws {
        let provider = Provider()
        let key = await SigningKey(keyID: "current")
        provider.publish([key])
        try await provider.serve { url in
            try await TestGateway.run(settings: settings(jwksURL: url, minimumRefresh: .seconds(3600))) { gateway in
                await provider.fetched(atLeast: 1)
                #expect(try await status(gateway, try await key.token(subject: "s-1")).0 == 200)
                let before = provider.fetches
                for index in 0..<25 {
                    let bogus = await SigningKey(keyID: "bogus-\(index)")
                    let refused = try await status(gateway, try await bogus.token(subject: "s-\(index)"))
                    #expect(refused.0 == 401)
                    #expect(refused.1 == "unknown_key")
                }
                #expect(provider.fetches == before, "refreshes caused by unknown kids are rate-limited")
                #expect(try await status(gateway, try await key.token(subject: "s-1")).0 == 200)
            }
        }
    }
}
