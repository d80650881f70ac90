import GatewayCore
import HTTPTypes

/// Which other origins' pages may call the browser routes, and the headers that say so
/// (design section 5, `GATEWAY_CORS_ORIGINS`).
///
/// The one place CORS headers are built, whatever serves the route: `CORSMiddleware` for
/// the routes on Hummingbird's router, and any other code path serving `/events/stream`
/// calls `headers(forOrigin:)` for its response and `preflight(…)` for `OPTIONS`.
///
/// Exact origins only, always with credentials (the routes read the session cookie and
/// `Authorization`), so never `*`. An origin not on the list gets no CORS headers (the
/// browser then withholds the answer from the page) and its preflight a 403. `/dapr/*`,
/// `/metrics` and the probes are not CORS paths: their callers are not browsers.
package struct CORSPolicy: Sendable {
    /// The allowed origins, as browsers send them (`AllowedOrigin` normalizes the setting).
    package let allowedOrigins: Set<String>

    /// The paths that answer CORS, with the methods a preflight may ask for on each.
    package static let paths: [String: [HTTPRequest.Method]] = [
        "/events/stream": [.get],
        "/events/poll": [.get],
        "/events/session": [.post, .delete],
    ]
    /// Request headers a page may send (beyond the CORS-safelisted ones).
    package static let allowedHeaders = ["Authorization", "Content-Type", "Last-Event-ID"]
    /// Response headers a page may read (beyond the CORS-safelisted ones).
    package static let exposedHeaders = ["Retry-After", "WWW-Authenticate"]
    /// How long a browser may cache a preflight answer, in seconds.
    package static let preflightMaxAge = 600

    /// Creates the policy for normalized origins (`GatewaySettings.corsOrigins`).
    package init(allowedOrigins: [String]) {
        self.allowedOrigins = Set(allowedOrigins)
    }

    /// Whether any origin besides the gateway's own is allowed.
    package var isEnabled: Bool { !allowedOrigins.isEmpty }

    /// Whether `path` answers CORS.
    package static func answersCORS(path: String) -> Bool {
        paths[normalized(path)] != nil
    }

    /// The headers for a response on a CORS path to a request with this `Origin` header.
    ///
    /// Nothing when CORS is off. Otherwise `Vary: Origin` always (the answer depends on
    /// the header, so a cache must not hand one origin's answer to another), and
    /// `Access-Control-Allow-Origin: <origin>` with `Access-Control-Allow-Credentials: true`
    /// (and the exposed headers) only for an allowed origin.
    package func headers(forOrigin origin: String?) -> HTTPFields {
        guard isEnabled else { return [:] }
        var fields: HTTPFields = [.vary: "Origin"]
        if let origin, allowedOrigins.contains(origin) {
            fields[.accessControlAllowOrigin] = origin
            fields[.accessControlAllowCredentials] = "true"
            fields[.accessControlExposeHeaders] = Self.exposedHeaders.joined(separator: ", ")
        }
        return fields
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`) on `path`.
    package func preflight(
        path: String,
        origin: String,
        requestMethod: String,
        requestHeaders: String?
    ) -> Preflight {
        let methods = Self.paths[Self.normalized(path)] ?? []
        guard allowedOrigins.contains(origin) else {
            return .refused(
                Problem(
                    .forbidden,
                    code: "origin_not_allowed",
                    detail: "the origin '\(origin.prefix(100))' is not in GATEWAY_CORS_ORIGINS"
                )
            )
        }
        guard methods.contains(where: { $0.rawValue == requestMethod }) else {
            return .refused(
                Problem(
                    .forbidden,
                    code: "method_not_allowed",
                    detail:
                        "\(path.prefix(40)) allows \(methods.map(\.rawValue).joined(separator: ", ")) from other origins"
                )
            )
        }
        let allowed = Set(Self.allowedHeaders.map { $0.lowercased() })
        let asked = (requestHeaders ?? "").split(separator: ",").map { String($0).trimmingWhitespace().lowercased() }
        if let refused = asked.first(where: { !$0.isEmpty && !allowed.contains($0) }) {
            return .refused(
                Problem(
                    .forbidden,
                    code: "header_not_allowed",
                    detail:
                        "the request header '\(refused.prefix(40))' is not allowed from other origins (allowed: \(Self.allowedHeaders.joined(separator: ", ")))"
                )
            )
        }
        return .allowed([
            .accessControlAllowOrigin: origin,
            .accessControlAllowCredentials: "true",
            .accessControlAllowMethods: methods.map(\.rawValue).joined(separator: ", "),
            .accessControlAllowHeaders: Self.allowedHeaders.joined(separator: ", "),
            .accessControlMaxAge: String(Self.preflightMaxAge),
            .vary: Self.preflightVary,
            .cacheControl: "no-store",
        ])
    }

    /// A preflight's answer.
    package enum Preflight: Sendable {
        /// 204 with these headers.
        case allowed(HTTPFields)
        /// 403 with this problem (and `Vary`, see `preflightVary`).
        case refused(Problem)
    }

    /// `Vary` of every preflight answer, allowed or refused.
    package static let preflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

    private static func normalized(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }
}
