import Foundation

extension Data {
    /// Decodes base64url text without padding (RFC 7515 section 2), as JWTs and JWKs carry it.
    package init?(base64URLEncoded text: some StringProtocol) {
        var base64 = String(text).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }

    /// The base64url text of these bytes, without padding.
    package func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
