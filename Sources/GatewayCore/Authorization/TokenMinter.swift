import Foundation
import JWTKit

/// Signs HS256 tokens with the configured secret, for development and tests
/// (`sse-gateway token`, `--dev`).
package struct TokenMinter: Sendable {
    private let keys: JWTKeyCollection

    /// Creates a minter for `secret`.
    package init(secret: String) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// A token for `subject` with the given claims, valid for `lifetime`.
    package func token(
        subject: String,
        roles: [String],
        studentIDs: [String] = [],
        courseIDs: [String] = [],
        lifetime: Duration,
        claimNames: ClaimNames = ClaimNames(),
        issuer: String? = nil,
        audience: String? = nil,
        now: Date = Date()
    ) async throws -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        // Each claim goes in at its setting's exact text, as a top-level name: the
        // verifier reads an exact top-level name first, whatever dots it holds.
        var claims: [String: JSONValue] = [
            claimNames.subject.text: .string(subject),
            (claimNames.roles.first ?? "roles").text: .array(roles.map(JSONValue.string)),
            "iat": .integer(issuedAt),
            "exp": .integer(issuedAt + lifetime.components.seconds),
        ]
        if !studentIDs.isEmpty { claims[claimNames.studentIDs.text] = .array(studentIDs.map(JSONValue.string)) }
        if !courseIDs.isEmpty { claims[claimNames.courseIDs.text] = .array(courseIDs.map(JSONValue.string)) }
        if let issuer { claims["iss"] = .string(issuer) }
        if let audience { claims["aud"] = .string(audience) }
        return try await keys.sign(ClaimsPayload(claims: claims))
    }
}
