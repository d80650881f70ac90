import Crypto
import CryptoExtras
import Foundation
import GatewayCore
import Logging
import Testing

/// JWKS documents shaped as identity providers publish them, and tokens signed here with
/// keys generated per run, byte for byte as a provider signs them (header chosen freely,
/// so `kid`, `alg` and `typ` are exactly what each case needs).
@Suite struct ProviderKeyTests {
    private let now = Date().timeIntervalSince1970

    private func claims(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "sub": "s-1", "roles": .array(["student"]), "exp": .integer(Int64(now + 600)), "iat": .integer(Int64(now)),
        ]
        for (key, value) in extra { claims[key] = value }
        return claims
    }

    /// A compact JWS: `header` and `claims` as JSON, signed over `header.payload`.
    private func token(
        _ header: [String: JSONValue],
        _ claims: [String: JSONValue],
        sign: (Data) throws -> Data
    ) rethrows -> String {
        let input =
            Data(JSONText.encode(.object(header)).utf8).base64URLEncoded() + "."
            + Data(JSONText.encode(.object(claims)).utf8).base64URLEncoded()
        return input + "." + (try sign(Data(input.utf8))).base64URLEncoded()
    }

    /// Three RSA keys generated once per run and shared by the tests: generating 2048-bit
    /// keys is slow under ThreadSanitizer, and no test needs more than three.
    private static let rsaKeys = Result { try (0..<3).map { _ in try RSAKey() } }

    private func rsaKey(_ index: Int) throws -> RSAKey {
        try Self.rsaKeys.get()[index]
    }

    /// An RSA key, and its public JWK members.
    private struct RSAKey {
        let key: _RSA.Signing.PrivateKey
        let jwkMembers: String

        init() throws {
            key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let primitives = try key.publicKey.getKeyPrimitives()
            jwkMembers =
                #""kty":"RSA","n":"\#(primitives.modulus.base64URLEncoded())","e":"\#(primitives.publicExponent.base64URLEncoded())""#
        }

        func sign(_ algorithm: String, _ input: Data) throws -> Data {
            let padding: _RSA.Signing.Padding = algorithm.hasPrefix("PS") ? .PSS : .insecurePKCS1v1_5
            let signature: _RSA.Signing.RSASignature =
                switch algorithm.suffix(3) {
                case "256": try key.signature(for: SHA256.hash(data: input), padding: padding)
                case "384": try key.signature(for: SHA384.hash(data: input), padding: padding)
                default: try key.signature(for: SHA512.hash(data: input), padding: padding)
                }
            return signature.rawRepresentation
        }
    }

    private func verifier(
        jwks: String,
        configure: (inout AuthenticationSettings) throws -> Void = { _ in }
    ) async throws -> TokenVerifier {
        var settings = AuthenticationSettings()
        try configure(&settings)
        let loaded = try await VerificationKey.jwks(Array(jwks.utf8))
        let ring = KeyRing(
            fixedKeys: loaded.keys,
            jwksURL: nil,
            minimumRefreshInterval: .seconds(30),
            logger: Logger(label: "t")
        )
        return TokenVerifier(
            settings: settings,
            keyRing: ring,
            rules: TopicRule.learningPlatformDefaults(claims: settings.claims)
        )
    }

    private func rejection(_ verifier: TokenVerifier, _ token: String) async -> AuthenticationError? {
        do {
            _ = try await verifier.principal(for: token, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func anRSAKeyWithoutAlgVerifiesEveryRSAAlgorithm() async throws {
        // Entra ID's shape: kid, use and x5t, but no alg.
        let rsa = try rsaKey(0)
        let verifier = try await verifier(
            jwks: #"{"keys":[{\#(rsa.jwkMembers),"use":"sig","kid":"entra-1","x5t":"entra-1"}]}"#
        )
        for algorithm in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"] {
            let signed = try token(["typ": "JWT", "alg": .string(algorithm), "kid": "entra-1"], claims()) {
                try rsa.sign(algorithm, $0)
            }
            #expect(try await verifier.principal(for: signed, now: now).subject == "s-1", "\(algorithm)")
        }
    }

    @Test func anRSAKeyWithAlgVerifiesThatAlgorithmOnly() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"alg":"RS256","kid":"okta-1"}]}"#)
        let rs256 = try token(["alg": "RS256", "kid": "okta-1"], claims()) { try rsa.sign("RS256", $0) }
        #expect(try await verifier.principal(for: rs256, now: now).subject == "s-1")
        let ps256 = try token(["alg": "PS256", "kid": "okta-1"], claims()) { try rsa.sign("PS256", $0) }
        #expect(await rejection(verifier, ps256) == .algorithmMismatch("PS256"))
    }

    @Test func theAllowListStillDecidesForKeysWithoutAlg() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"kid":"k"}]}"#) {
            $0.algorithms = ["RS256"]
        }
        let ps512 = try token(["alg": "PS512", "kid": "k"], claims()) { try rsa.sign("PS512", $0) }
        #expect(await rejection(verifier, ps512) == .algorithmNotAllowed("PS512"))
    }

    @Test func aKeyWithoutKidVerifiesATokenWithoutKid() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"alg":"RS256","use":"sig"}]}"#)
        let signed = try token(["alg": "RS256", "typ": "JWT"], claims()) { try rsa.sign("RS256", $0) }
        #expect(try await verifier.principal(for: signed, now: now).subject == "s-1")
        // Another key, no kid: the only key fits the alg, so it is a bad signature.
        let other = try rsaKey(1)
        let forged = try token(["alg": "RS256"], claims()) { try other.sign("RS256", $0) }
        #expect(await rejection(verifier, forged) == .badSignature)
    }

    @Test func aTokenWithoutKidIsTriedAgainstEveryKeyOfItsType() async throws {
        let first = try rsaKey(0)
        let second = try rsaKey(1)
        let ec = P256.Signing.PrivateKey()
        let x963 = ec.publicKey.x963Representation
        let ecMembers =
            #""kty":"EC","crv":"P-256","x":"\#(x963[1..<33].base64URLEncoded())","y":"\#(x963[33...].base64URLEncoded())""#
        let verifier = try await verifier(
            jwks:
                #"{"keys":[{\#(first.jwkMembers),"kid":"a"},{\#(ecMembers),"kid":"b"},{\#(second.jwkMembers),"kid":"c"}]}"#
        )
        let bySecond = try token(["alg": "RS384"], claims()) { try second.sign("RS384", $0) }
        #expect(try await verifier.principal(for: bySecond, now: now).subject == "s-1")
        let byEC = try token(["alg": "ES256"], claims()) { try ec.signature(for: $0).rawRepresentation }
        #expect(try await verifier.principal(for: byEC, now: now).subject == "s-1")
        let ed = Curve25519.Signing.PrivateKey()
        let noKeyOfItsType = try token(["alg": "EdDSA"], claims()) { try ed.signature(for: $0) }
        #expect(await rejection(verifier, noKeyOfItsType) == .unknownKey(""))
    }

    @Test func aKidNoKeyHasIsUnknownKeyNeverBadSignature() async throws {
        let rsa = try rsaKey(0)
        let stranger = try rsaKey(1)
        // One key with a kid, one without (the kid-less one is tried for unknown kids).
        let spare = try rsaKey(2).jwkMembers
        let verifier = try await verifier(
            jwks: #"{"keys":[{\#(rsa.jwkMembers),"kid":"known","alg":"RS256"},{\#(spare),"alg":"RS256"}]}"#
        )
        let unknown = try token(["alg": "RS256", "kid": "rotated-out"], claims()) { try stranger.sign("RS256", $0) }
        #expect(await rejection(verifier, unknown) == .unknownKey("rotated-out"))
        let wrongKey = try token(["alg": "RS256", "kid": "known"], claims()) { try stranger.sign("RS256", $0) }
        #expect(await rejection(verifier, wrongKey) == .badSignature)
    }

    @Test func aKidlessKeyStillVerifiesTokensThatCarryAKid() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"alg":"RS256"}]}"#)
        let signed = try token(["alg": "RS256", "kid": "whatever-the-idp-calls-it"], claims()) {
            try rsa.sign("RS256", $0)
        }
        #expect(try await verifier.principal(for: signed, now: now).subject == "s-1")
    }

    @Test func encryptionKeysAndOddEntriesAreSkippedWithoutCostingTheOthers() async throws {
        // Keycloak's shape: a signing key and an encryption key (RSA-OAEP), here beside
        // entries jwt-kit's own JWKS type cannot decode at all.
        let rsa = try rsaKey(0)
        let (enc1, enc2, ops) = (try rsaKey(1).jwkMembers, try rsaKey(2).jwkMembers, try rsaKey(1).jwkMembers)
        let jwks = #"""
            {"keys":[
              {\#(enc1),"kid":"enc-1","use":"enc","alg":"RSA-OAEP"},
              {\#(enc2),"kid":"enc-2","use":"enc","alg":"RSA-OAEP-256"},
              {\#(ops),"kid":"ops","key_ops":["encrypt"]},
              {"kty":"oct","kid":"hmac","k":"c2VjcmV0"},
              {"kty":"OKP","crv":"X25519","kid":"x","x":"AAAA"},
              {"kty":"EC","crv":"secp256k1","kid":"k1","x":"AAAA","y":"AAAA"},
              {"kty":"RSA","kid":"broken","n":"!!","e":"AQAB"},
              {\#(rsa.jwkMembers),"kid":"sig-1","use":"sig","alg":"RS256","x5c":["MIIC"]}
            ]}
            """#
        let loaded = try await VerificationKey.jwks(Array(jwks.utf8))
        #expect(Set(loaded.keys.compactMap(\.keyID)) == ["sig-1"])
        #expect(loaded.skipped.compactMap(\.keyID) == ["enc-1", "enc-2", "ops", "hmac", "x", "k1", "broken"])
        let verifier = try await verifier(jwks: jwks)
        let signed = try token(["alg": "RS256", "kid": "sig-1", "typ": "JWT"], claims()) { try rsa.sign("RS256", $0) }
        #expect(try await verifier.principal(for: signed, now: now).subject == "s-1")
        // A token naming the encryption key's kid finds no signing key.
        let enc = try token(["alg": "RS256", "kid": "enc-1"], claims()) { try rsa.sign("RS256", $0) }
        #expect(await rejection(verifier, enc) == .unknownKey("enc-1"))
    }

    @Test func ed25519IsTheEdDSAAlgorithmInKeysAndTokens() async throws {
        let ed = Curve25519.Signing.PrivateKey()
        let x = ed.publicKey.rawRepresentation.base64URLEncoded()
        for keyAlg in [#","alg":"Ed25519""#, #","alg":"EdDSA""#, ""] {
            let verifier = try await verifier(
                jwks: #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"\#(x)"\#(keyAlg)}]}"#
            )
            for tokenAlg in ["Ed25519", "EdDSA"] {
                let signed = try token(["alg": .string(tokenAlg), "kid": "ed"], claims()) { try ed.signature(for: $0) }
                #expect(try await verifier.principal(for: signed, now: now).subject == "s-1", "\(keyAlg) \(tokenAlg)")
            }
        }
        // Allowed by name: EdDSA allows Ed25519, and the other way round.
        let onlyEd25519 = try await verifier(
            jwks: #"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"\#(x)"}]}"#
        ) { $0.algorithms = ["Ed25519"] }
        let signed = try token(["alg": "EdDSA", "kid": "ed"], claims()) { try ed.signature(for: $0) }
        #expect(try await onlyEd25519.principal(for: signed, now: now).subject == "s-1")
    }

    @Test func anECKeyWithoutAlgVerifiesTheAlgorithmOfItsCurve() async throws {
        let p384 = P384.Signing.PrivateKey()
        let p521 = P521.Signing.PrivateKey()
        func members(_ x963: Data, _ curve: String, _ size: Int) -> String {
            #""kty":"EC","crv":"\#(curve)","x":"\#(x963[1..<(1 + size)].base64URLEncoded())","y":"\#(x963[(1 + size)...].base64URLEncoded())""#
        }
        let verifier = try await verifier(
            jwks:
                #"{"keys":[{\#(members(p384.publicKey.x963Representation, "P-384", 48)),"kid":"p384"},{\#(members(p521.publicKey.x963Representation, "P-521", 66)),"kid":"p521"}]}"#
        )
        let es384 = try token(["alg": "ES384", "kid": "p384"], claims()) {
            try p384.signature(for: $0).rawRepresentation
        }
        #expect(try await verifier.principal(for: es384, now: now).subject == "s-1")
        let es512 = try token(["alg": "ES512", "kid": "p521"], claims()) {
            try p521.signature(for: $0).rawRepresentation
        }
        #expect(try await verifier.principal(for: es512, now: now).subject == "s-1")
        // Some libraries (authlib) drop a coordinate's leading zero byte, against RFC 7518:
        // a P-521 coordinate of 65 bytes is padded back, not refused.
        var short = P521.Signing.PrivateKey()
        while short.publicKey.x963Representation[1] != 0 { short = P521.Signing.PrivateKey() }
        let point = short.publicKey.x963Representation
        let trimmed =
            #"{"keys":[{"kty":"EC","crv":"P-521","kid":"short","x":"\#(point[2..<67].base64URLEncoded())","y":"\#(point[67...].base64URLEncoded())"}]}"#
        let lenient = try await self.verifier(jwks: trimmed)
        let byShort = try token(["alg": "ES512", "kid": "short"], claims()) {
            try short.signature(for: $0).rawRepresentation
        }
        #expect(try await lenient.principal(for: byShort, now: now).subject == "s-1")
        let mismatch = try token(["alg": "ES256", "kid": "p384"], claims()) {
            try p384.signature(for: $0).rawRepresentation
        }
        #expect(await rejection(verifier, mismatch) == .algorithmMismatch("ES256"))
    }

    @Test func accessTokensTypedAtJWTKeepWorking() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"kid":"okta","alg":"RS256"}]}"#)
        for typ in ["at+jwt", "application/at+jwt", "application/okta-internal-at+jwt"] {
            let signed = try token(["alg": "RS256", "kid": "okta", "typ": .string(typ)], claims()) {
                try rsa.sign("RS256", $0)
            }
            #expect(try await verifier.principal(for: signed, now: now).subject == "s-1", "\(typ)")
        }
    }

    @Test func claimPathsAndTheRoleMapShapeThePrincipal() async throws {
        let rsa = try rsaKey(0)
        let verifier = try await verifier(jwks: #"{"keys":[{\#(rsa.jwkMembers),"kid":"kc","alg":"RS256"}]}"#) {
            $0.claims.subject = "preferred_username"
            $0.claims.roles = ["realm_access.roles", "resource_access.sse-gateway.roles"]
            $0.claims.studentIDs = "lms.student_ids"
            $0.claims.courseIDs = "https://lms.example.com/course_ids"
            $0.roleMap = try RoleMap(entries: ["lms-instructor=instructor", "lms-admin=admin"])
        }
        let keycloak = claims([
            "sub": "8b7c1f9e-0000-4000-8000-000000000001",
            "preferred_username": "i-1",
            "realm_access": .object(["roles": .array(["lms-instructor", "offline_access", "admin"])]),
            "resource_access": .object(["sse-gateway": .object(["roles": .array(["lms-admin"])])]),
            "lms": .object(["student_ids": .array(["s-1", "s-2"])]),
            "https://lms.example.com/course_ids": .array(["c-1"]),
        ])
        let signed = try token(["alg": "RS256", "kid": "kc", "typ": "JWT"], keycloak) { try rsa.sign("RS256", $0) }
        let principal = try await verifier.principal(for: signed, now: now)
        #expect(principal.subject == "i-1")
        #expect(principal.roles == ["instructor", "admin"])
        #expect(principal.grants["lms.student_ids"] == ["s-1", "s-2"])
        #expect(principal.grants["https://lms.example.com/course_ids"] == ["c-1"])
        #expect(principal.grants["preferred_username"] == ["i-1"])
    }
}
