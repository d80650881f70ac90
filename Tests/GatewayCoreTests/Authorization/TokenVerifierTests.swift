import Crypto
import CryptoExtras
import Foundation
import GatewayCore
import JWTKit
import Logging
import Testing

/// Real keys, generated per run, and real tokens signed with them.
@Suite struct TokenVerifierTests {
    private let now = Date().timeIntervalSince1970

    private func claims(_ extra: [String: JSONValue] = [:], lifetime: Double = 600) -> ClaimsPayload {
        var claims: [String: JSONValue] = [
            "sub": "s-1", "roles": .array(["student"]), "exp": .integer(Int64(now + lifetime)),
            "iat": .integer(Int64(now)),
        ]
        for (key, value) in extra { claims[key] = value }
        return ClaimsPayload(claims: claims)
    }

    private func verifier(
        _ keys: [VerificationKey],
        configure: (inout AuthenticationSettings) -> Void = { _ in }
    ) -> TokenVerifier {
        var settings = AuthenticationSettings()
        configure(&settings)
        let ring = KeyRing(
            fixedKeys: keys,
            jwksURL: nil,
            minimumRefreshInterval: .seconds(30),
            logger: Logger(label: "t")
        )
        return TokenVerifier(settings: settings, keyRing: ring, rules: TopicRule.learningPlatformDefaults())
    }

    private func expectRejection(
        _ verifier: TokenVerifier,
        _ token: String,
        _ expected: AuthenticationError,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            _ = try await verifier.principal(for: token, now: now)
            Issue.record("accepted a token that should be rejected with \(expected)", sourceLocation: sourceLocation)
        } catch {
            #expect(error == expected, sourceLocation: sourceLocation)
        }
    }

    private static let secret = String(repeating: "0123456789abcdef", count: 4)

    private func hmacToken(
        _ payload: ClaimsPayload,
        secret: String = secret,
        digest: DigestAlgorithm = .sha256
    ) async throws
        -> String
    {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
        return try await keys.sign(payload)
    }

    @Test func acceptsHMACTokensAndReadsTheClaims() async throws {
        let verifier = verifier(await VerificationKey.hmac(secret: Self.secret))
        for digest in [DigestAlgorithm.sha256, .sha384, .sha512] {
            let token = try await hmacToken(
                claims(["student_ids": .array(["s-9"]), "roles": "instructor"]),
                digest: digest
            )
            let principal = try await verifier.principal(for: token, now: now)
            #expect(principal.subject == "s-1")
            #expect(principal.roles == ["instructor"])
            #expect(principal.grants["student_ids"] == ["s-9"])
            #expect(principal.grants["sub"] == ["s-1"])
        }
    }

    @Test func aShortSecretVerifiesOnlyTheAlgorithmsItIsLongEnoughFor() async {
        let keys = await VerificationKey.hmac(secret: String(repeating: "k", count: 40))
        #expect(keys.flatMap(\.algorithms) == ["HS256"])
    }

    @Test func checksExpiryNotBeforeIssuedAtIssuerAndAudience() async throws {
        let verifier = verifier(await VerificationKey.hmac(secret: Self.secret)) {
            $0.issuer = "https://idp"
            $0.audience = "gateway"
            $0.leeway = .seconds(30)
        }
        let good: [String: JSONValue] = ["iss": "https://idp", "aud": .array(["other", "gateway"])]
        _ = try await verifier.principal(for: try await hmacToken(claims(good)), now: now)
        // Within the leeway an expired token still passes; beyond it, not.
        _ = try await verifier.principal(for: try await hmacToken(claims(good, lifetime: -20)), now: now)
        await expectRejection(verifier, try await hmacToken(claims(good, lifetime: -60)), .expired)
        var withoutExpiry = claims(good)
        withoutExpiry.claims["exp"] = nil
        await expectRejection(verifier, try await hmacToken(withoutExpiry), .missingExpiry)
        var early = good
        early["nbf"] = .integer(Int64(now + 120))
        await expectRejection(verifier, try await hmacToken(claims(early)), .notYetValid)
        var future = good
        future["iat"] = .integer(Int64(now + 120))
        await expectRejection(verifier, try await hmacToken(claims(future)), .issuedInFuture)
        await expectRejection(
            verifier,
            try await hmacToken(claims(["iss": "https://evil", "aud": "gateway"])),
            .wrongIssuer
        )
        await expectRejection(
            verifier,
            try await hmacToken(claims(["iss": "https://idp", "aud": "other"])),
            .wrongAudience
        )
        var anonymous = claims(good)
        anonymous.claims["sub"] = nil
        await expectRejection(verifier, try await hmacToken(anonymous), .missingSubject)
    }

    @Test func rejectsBadSignaturesMalformedTokensAndAlgNone() async throws {
        let verifier = verifier(await VerificationKey.hmac(secret: Self.secret))
        let other = String(repeating: "fedcba9876543210", count: 4)
        await expectRejection(verifier, try await hmacToken(claims(), secret: other), .badSignature)
        await expectRejection(verifier, "abc", .malformedToken)
        await expectRejection(verifier, "a.b.c", .malformedToken)
        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLEncoded()
        let body = Data(#"{"sub":"s-1","exp":4102444800}"#.utf8).base64URLEncoded()
        await expectRejection(verifier, "\(header).\(body).", .algorithmNotAllowed("none"))
        let restricted = self.verifier(await VerificationKey.hmac(secret: Self.secret)) { $0.algorithms = ["RS256"] }
        await expectRejection(restricted, try await hmacToken(claims()), .algorithmNotAllowed("HS256"))
    }

    @Test func verifiesRSAAndECKeysFromPEMAndRejectsAlgorithmConfusion() async throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let ec = P256.Signing.PrivateKey()
        var keys = try await VerificationKey.pem(rsa.publicKey.pemRepresentation, keyID: "rsa-1")
        keys += try await VerificationKey.pem(ec.publicKey.pemRepresentation, keyID: "ec-1")
        let verifier = verifier(keys)

        let rsaSigner = JWTKeyCollection()
        await rsaSigner.add(rsa: try Insecure.RSA.PrivateKey(backing: rsa), digestAlgorithm: .sha256, kid: "rsa-1")
        let rsaToken = try await rsaSigner.sign(claims(), kid: "rsa-1")
        #expect(try await verifier.principal(for: rsaToken, now: now).subject == "s-1")

        let pss = JWTKeyCollection()
        await pss.add(pss: try Insecure.RSA.PrivateKey(backing: rsa), digestAlgorithm: .sha256, kid: "rsa-1")
        #expect(
            try await verifier.principal(for: try await pss.sign(claims(), kid: "rsa-1"), now: now).subject == "s-1"
        )

        let ecSigner = JWTKeyCollection()
        await ecSigner.add(ecdsa: try ES256PrivateKey(backing: ec), kid: "ec-1")
        #expect(
            try await verifier.principal(for: try await ecSigner.sign(claims(), kid: "ec-1"), now: now).subject == "s-1"
        )

        // The classic confusion: HS256 "signed" with the RSA public key as the HMAC secret.
        let confused = JWTKeyCollection()
        await confused.add(hmac: HMACKey(from: rsa.publicKey.pemRepresentation), digestAlgorithm: .sha256, kid: "rsa-1")
        await expectRejection(verifier, try await confused.sign(claims(), kid: "rsa-1"), .algorithmMismatch("HS256"))
        let confusedWithoutKid = JWTKeyCollection()
        await confusedWithoutKid.add(hmac: HMACKey(from: rsa.publicKey.pemRepresentation), digestAlgorithm: .sha256)
        await expectRejection(verifier, try await confusedWithoutKid.sign(claims()), .unknownKey(""))

        // A key id nobody configured.
        let stranger = JWTKeyCollection()
        await stranger.add(ecdsa: ES256PrivateKey(), kid: "ec-unknown")
        await expectRejection(verifier, try await stranger.sign(claims(), kid: "ec-unknown"), .unknownKey("ec-unknown"))
        // The right kid, another key: the signature does not verify.
        let impostor = JWTKeyCollection()
        await impostor.add(ecdsa: ES256PrivateKey(), kid: "ec-1")
        await expectRejection(verifier, try await impostor.sign(claims(), kid: "ec-1"), .badSignature)
    }

    @Test func verifiesEdDSAKeysFromAJWKS() async throws {
        let backing = Curve25519.Signing.PrivateKey()
        let key = EdDSA.PrivateKey(backing: backing)
        let x = backing.publicKey.rawRepresentation.base64URLEncoded()
        let jwks = #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed-1","x":"\#(x)"}]}"#
        let verifier = verifier(try await VerificationKey.jwks(Array(jwks.utf8)).keys)
        let signer = JWTKeyCollection()
        await signer.add(eddsa: key, kid: "ed-1")
        #expect(
            try await verifier.principal(for: try await signer.sign(claims(), kid: "ed-1"), now: now).subject == "s-1"
        )
    }
}
