/// Why a token is not accepted (401 with `WWW-Authenticate: Bearer error="invalid_token"`).
///
/// Descriptions say what was wrong without echoing the token.
package enum AuthenticationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No token in the header, the cookie or (when enabled) the query.
    case missingToken
    /// Not three base64url parts with a JSON header and payload.
    case malformedToken
    /// The header's `alg` is not allowed (`none` never is).
    case algorithmNotAllowed(String)
    /// The `kid` names no known key, even after a refresh.
    case unknownKey(String)
    /// The key found does not sign with the header's `alg` (algorithm confusion).
    case algorithmMismatch(String)
    /// The signature does not verify.
    case badSignature
    /// `exp` is absent.
    case missingExpiry
    /// `exp` has passed.
    case expired
    /// `nbf` is in the future.
    case notYetValid
    /// `iat` is in the future.
    case issuedInFuture
    /// `iss` is not the configured issuer.
    case wrongIssuer
    /// `aud` does not contain the configured audience.
    case wrongAudience
    /// The subject claim is missing or empty.
    case missingSubject

    package var description: String {
        switch self {
        case .missingToken: "no bearer token, session cookie or allowed query token was presented"
        case .malformedToken: "the token is malformed"
        case .algorithmNotAllowed(let alg): "the signing algorithm '\(alg.prefix(16))' is not allowed"
        case .unknownKey: "the token's key id is not known"
        case .algorithmMismatch(let alg): "the key does not sign with the algorithm '\(alg.prefix(16))'"
        case .badSignature: "the token's signature does not verify"
        case .missingExpiry: "the token has no expiry (exp)"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not yet valid (nbf)"
        case .issuedInFuture: "the token was issued in the future (iat)"
        case .wrongIssuer: "the token's issuer is not accepted"
        case .wrongAudience: "the token's audience is not accepted"
        case .missingSubject: "the token has no subject"
        }
    }

    /// A stable label for metrics and logs.
    package var reason: String {
        switch self {
        case .missingToken: "missing"
        case .malformedToken: "malformed"
        case .algorithmNotAllowed: "algorithm_not_allowed"
        case .unknownKey: "unknown_key"
        case .algorithmMismatch: "algorithm_mismatch"
        case .badSignature: "bad_signature"
        case .missingExpiry: "missing_exp"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .issuedInFuture: "issued_in_future"
        case .wrongIssuer: "wrong_issuer"
        case .wrongAudience: "wrong_audience"
        case .missingSubject: "missing_subject"
        }
    }
}
