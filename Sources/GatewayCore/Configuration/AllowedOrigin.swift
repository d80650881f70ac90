import Foundation

/// One entry of `GATEWAY_CORS_ORIGINS`: an exact origin, written the way a browser sends
/// it in the `Origin` header (`https://app.example.com`, `http://localhost:5173`).
///
/// Browsers serialize an origin as lowercase `scheme://host`, with the port only when it
/// is not the scheme's default, and nothing after it. Entries are brought to that form
/// (case, a trailing `/`, a default port), so comparing with the header is plain string
/// equality; anything that can never equal an `Origin` header (a path, a wildcard,
/// `null`, another scheme) is refused with the reason.
package struct AllowedOrigin: Sendable, Hashable, CustomStringConvertible {
    /// The origin as browsers send it.
    package let text: String

    package var description: String { text }

    /// Parses and normalizes one configured origin.
    package init(_ configured: String) throws(Invalid) {
        let trimmed = configured.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("*") {
            throw .wildcard(configured)
        }
        let lowered = trimmed.lowercased()
        let scheme: String
        if lowered.hasPrefix("https://") {
            scheme = "https"
        } else if lowered.hasPrefix("http://") {
            scheme = "http"
        } else {
            throw .notAnOrigin(configured, "it must start with https:// or http://")
        }
        var authority = Substring(lowered.dropFirst(scheme.count + 3))
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        guard !authority.isEmpty else { throw .notAnOrigin(configured, "it has no host") }
        if authority.contains(where: { "/?#@ ".contains($0) }) {
            throw .notAnOrigin(configured, "an origin is scheme://host[:port] only, without a path, query or user")
        }
        var host = authority
        var port: Substring?
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw .notAnOrigin(configured, "it has no host") }
        let hostCharacters = host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.[]:".contains($0)) }
        guard hostCharacters else { throw .notAnOrigin(configured, "the host has characters a host name cannot have") }
        if let port {
            guard let number = Int(port), (1...65535).contains(number), port.allSatisfy(\.isNumber) else {
                throw .notAnOrigin(configured, "the port is not a number from 1 to 65535")
            }
            let isDefault = (scheme == "https" && number == 443) || (scheme == "http" && number == 80)
            text = "\(scheme)://\(host)" + (isDefault ? "" : ":\(number)")
        } else {
            text = "\(scheme)://\(host)"
        }
    }

    /// Why a configured origin is refused.
    package enum Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        /// `*` or a pattern: never allowed, because the browser routes answer with credentials.
        case wildcard(String)
        /// Not `scheme://host[:port]`.
        case notAnOrigin(String, String)

        package var description: String {
            switch self {
            case .wildcard(let origin):
                "'\(origin)' is a wildcard: the browser routes send credentials (cookie, Authorization), which CORS never allows with a wildcard; list each origin exactly"
            case .notAnOrigin(let origin, let reason):
                "'\(origin)' is not an origin: \(reason) (e.g. https://app.example.com)"
            }
        }
    }
}
