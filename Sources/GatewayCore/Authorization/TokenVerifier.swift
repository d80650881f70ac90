import Foundation
import JWTKit

/// Verifies browser JWTs and turns them into principals (design section 5).
///
/// The header is read first, so the algorithm policy and key choice are ours: the
/// allow-list is checked (never `none`), the key is chosen by `kid`, and a key only
/// verifies with the algorithms it was loaded for. Signatures are jwt-kit's.
///
/// Key choice, as identity providers use `kid` (RFC 7515 section 4.1.4, RFC 7517):
/// - a `kid` some key has: only the keys with that `kid`; a failure is `bad_signature`;
/// - a `kid` no key has: the keys without a `kid` whose type fits the `alg` (an HMAC
///   secret, a single-key JWKS), then, after a JWKS refresh (the provider may have
///   rotated a key in), the keys with that `kid`; a failure is `unknown_key`, never
///   `bad_signature`;
/// - no `kid`: every key whose type fits the `alg`; a failure is `bad_signature`.
package struct TokenVerifier: Sendable {
    /// Longest token accepted.
    package static let maximumTokenLength = 16 * 1024

    private let settings: AuthenticationSettings
    private let keyRing: KeyRing
    private let allowedAlgorithms: Set<String>
    private let grantClaims: [ClaimPath]

    /// Creates a verifier; `rules` names the claims scopes read.
    package init(settings: AuthenticationSettings, keyRing: KeyRing, rules: [TopicRule]) {
        self.settings = settings
        self.keyRing = keyRing
        self.allowedAlgorithms = Set(settings.algorithms.map(VerificationKey.canonicalName))
        var claims: [ClaimPath] = [settings.claims.subject]
        for name in rules.flatMap({ $0.scope.flatMap(\.grantedBy) }) where !claims.contains(ClaimPath(name)) {
            claims.append(ClaimPath(name))
        }
        self.grantClaims = claims
    }

    /// Verifies `token` at `now` (seconds since 1970).
    package func principal(
        for token: String,
        now: Double = Date().timeIntervalSince1970
    ) async throws(AuthenticationError) -> Principal {
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformedToken }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Data(base64URLEncoded: parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: headerBytes)
        else { throw .malformedToken }
        let algorithm = VerificationKey.canonicalName(header.alg)
        guard algorithm != "none", allowedAlgorithms.contains(algorithm) else {
            throw .algorithmNotAllowed(header.alg)
        }
        if let claims = try await verify(token, keyID: header.kid, algorithm: algorithm, keys: await keyRing.keys) {
            return try principal(from: claims, now: now)
        }
        // No key could be chosen: the provider may have rotated one in, or the first key
        // set is still being fetched (the refresh joins that fetch). A refresh refused by
        // the rate limit may still have been made by another token meanwhile, so the
        // current keys are asked again either way.
        guard await keyRing.refreshes else { throw .unknownKey(header.kid ?? "") }
        await keyRing.refreshForUnknownKey()
        guard let claims = try await verify(token, keyID: header.kid, algorithm: algorithm, keys: await keyRing.keys)
        else { throw .unknownKey(header.kid ?? "") }
        return try principal(from: claims, now: now)
    }

    /// The token's claims if a key verifies it, `nil` if no key could be chosen; throws
    /// when the chosen keys refuse it.
    private func verify(
        _ token: String,
        keyID: String?,
        algorithm: String,
        keys: [VerificationKey]
    ) async throws(AuthenticationError) -> [String: JSONValue]? {
        if let keyID {
            let named = keys.filter { $0.keyID == keyID }
            if !named.isEmpty {
                let usable = named.filter { $0.algorithms.contains(algorithm) }
                guard !usable.isEmpty else { throw .algorithmMismatch(algorithm) }
                return try await Self.verify(token, with: usable)
            }
            // A kid no key has: keys that have no kid of their own may still be meant.
            let unnamed = keys.filter { $0.keyID == nil && $0.algorithms.contains(algorithm) }
            return try? await Self.verify(token, with: unnamed)
        }
        let fitting = keys.filter { $0.algorithms.contains(algorithm) }
        guard !fitting.isEmpty else { return nil }
        return try await Self.verify(token, with: fitting)
    }

    private static func verify(
        _ token: String,
        with keys: [VerificationKey]
    ) async throws(AuthenticationError) -> [String: JSONValue] {
        var failure = AuthenticationError.badSignature
        for key in keys {
            do {
                return try await key.collection.verify(token, as: ClaimsPayload.self).claims
            } catch let error as JWTError where error.errorType == .malformedToken {
                failure = .malformedToken
            } catch {
                continue
            }
        }
        throw failure
    }

    private func principal(from claims: [String: JSONValue], now: Double) throws(AuthenticationError) -> Principal {
        let leeway = Double(settings.leeway.components.seconds)
        guard let expiry = claims["exp"].flatMap(Self.number) else { throw .missingExpiry }
        guard now <= expiry + leeway else { throw .expired }
        if let notBefore = claims["nbf"].flatMap(Self.number), now + leeway < notBefore { throw .notYetValid }
        if let issuedAt = claims["iat"].flatMap(Self.number), issuedAt > now + leeway { throw .issuedInFuture }
        if let issuer = settings.issuer, claims["iss"]?.scalarText != issuer { throw .wrongIssuer }
        if let audience = settings.audience, !(claims["aud"]?.textList.contains(audience) ?? false) {
            throw .wrongAudience
        }
        guard let subject = settings.claims.subject.value(in: claims)?.scalarText, !subject.isEmpty else {
            throw .missingSubject
        }
        var grants: [String: Set<String>] = [:]
        for path in grantClaims { grants[path.text] = Set(path.value(in: claims)?.textList ?? []) }
        let providerRoles = settings.claims.roles.flatMap { $0.value(in: claims)?.textList ?? [] }
        return Principal(
            subject: subject,
            roles: settings.roleMap.roles(from: providerRoles),
            grants: grants,
            expiresAt: expiry + leeway
        )
    }

    private static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .integer(let number): Double(number)
        case .number(let number): number
        default: nil
        }
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }
}

/// Any JWT payload, kept as JSON; claims are checked by `TokenVerifier`, not here.
package struct ClaimsPayload: JWTPayload {
    /// Every claim.
    package var claims: [String: JSONValue]

    /// Wraps claims.
    package init(claims: [String: JSONValue]) {
        self.claims = claims
    }

    package init(from decoder: any Decoder) throws {
        self.claims = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(claims)
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}
