import Foundation
import JWTKit

/// Verifies browser JWTs and turns them into principals (design section 5).
///
/// The header is read first, so the algorithm policy and key choice are ours: the
/// allow-list is checked (never `none`), the key is chosen by `kid`, and a key only
/// verifies with the algorithms it was loaded for. Signatures are jwt-kit's.
package struct TokenVerifier: Sendable {
    /// Longest token accepted.
    package static let maximumTokenLength = 16 * 1024

    private let settings: AuthenticationSettings
    private let keyRing: KeyRing
    private let grantClaims: Set<String>

    /// Creates a verifier; `rules` names the claims scopes read.
    package init(settings: AuthenticationSettings, keyRing: KeyRing, rules: [TopicRule]) {
        self.settings = settings
        self.keyRing = keyRing
        var claims = Set(rules.flatMap { $0.scope.flatMap(\.grantedBy) })
        claims.insert(settings.claims.subject)
        self.grantClaims = claims
    }

    /// Verifies `token` at `now` (seconds since 1970).
    package func principal(
        for token: String,
        now: Double = Date().timeIntervalSince1970
    ) async throws(AuthenticationError) -> Principal {
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformedToken }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URLDecode(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: headerBytes)
        else { throw .malformedToken }
        guard header.alg != "none", settings.algorithms.contains(header.alg) else {
            throw .algorithmNotAllowed(header.alg)
        }
        let keys = await keyRing.candidates(keyID: header.kid, algorithm: header.alg)
        guard !keys.isEmpty else { throw .unknownKey(header.kid ?? "") }
        let usable = keys.filter { $0.algorithms.contains(header.alg) }
        guard !usable.isEmpty else { throw .algorithmMismatch(header.alg) }
        var payload: ClaimsPayload?
        var failure = AuthenticationError.badSignature
        for key in usable {
            do {
                payload = try await key.collection.verify(token, as: ClaimsPayload.self)
                break
            } catch let error as JWTError where error.errorType == .malformedToken {
                failure = .malformedToken
            } catch {
                continue
            }
        }
        guard let claims = payload?.claims else { throw failure }
        return try principal(from: claims, now: now)
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
        guard let subject = claims[settings.claims.subject]?.scalarText, !subject.isEmpty else {
            throw .missingSubject
        }
        var grants: [String: Set<String>] = [:]
        for name in grantClaims { grants[name] = Set(claims[name]?.textList ?? []) }
        return Principal(
            subject: subject,
            roles: Set(claims[settings.claims.roles]?.textList ?? []),
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

    private static func base64URLDecode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
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
