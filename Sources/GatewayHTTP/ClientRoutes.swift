import Foundation
import Hummingbird
import NIOCore

/// `GET /client/sse-gateway-client.js`: the browser client (`clients/js/`), so a page
/// imports the module from the gateway it talks to, without a build step.
///
/// Caching: the unpinned URL is `no-cache` with a strong `ETag` (a prefix of the module's
/// SHA-256), so browsers revalidate with `If-None-Match` and get a `304` until the gateway
/// ships another client; the client always matches the gateway's frames and routes. A
/// page that pins the version, `?v=<ETag value>`, gets a year of `immutable`; any other
/// `v` gets the current module, uncached, rather than a 404 that would break the page.
///
/// `Access-Control-Allow-Origin: *`: a cross-origin `<script type="module">` is fetched
/// with CORS, and the module is public, without credentials or data.
struct ClientRoutes: Sendable {
    /// Where the module is served.
    static let path = "client/sse-gateway-client.js"
    /// The entity tag's opaque value: the first 16 hex digits of the SHA-256.
    static let version = String(ClientScript.sha256.prefix(16))
    /// The quoted entity tag.
    static let entityTag = "\"\(version)\""

    private static let body = ByteBuffer(string: ClientScript.source)

    func register(on router: Router<GatewayRequestContext>) {
        router.get(RouterPath(stringLiteral: Self.path)) { request, _ in Self.response(to: request, withBody: true) }
        router.head(RouterPath(stringLiteral: Self.path)) { request, _ in Self.response(to: request, withBody: false) }
    }

    static func response(to request: Request, withBody: Bool) -> Response {
        let pinned = request.uri.queryParameters["v"].map { String($0) == version } ?? false
        var headers: HTTPFields = [
            .contentType: "text/javascript; charset=utf-8",
            .eTag: entityTag,
            .cacheControl: pinned ? "public, max-age=31536000, immutable" : "no-cache",
            .accessControlAllowOrigin: "*",
            .xContentTypeOptions: "nosniff",
        ]
        if let condition = request.headers[.ifNoneMatch], matches(condition) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .ok, headers: headers, body: withBody ? ResponseBody(byteBuffer: body) : ResponseBody())
    }

    /// `If-None-Match` (RFC 9110 13.1.2): `*`, or a list of tags compared weakly.
    static func matches(_ condition: String) -> Bool {
        condition.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == entityTag || tag == "W/" + entityTag
        }
    }
}
