import Foundation
import GatewayCore
import Hummingbird

/// `POST /events/session` turns a bearer token into an HttpOnly cookie `EventSource`
/// sends by itself; `DELETE` clears it.
struct SessionRoutes: Sendable {
    let settings: GatewaySettings
    let authenticator: Authenticator

    func register(on router: Router<GatewayRequestContext>) {
        router.post("events/session") { request, context in
            guard let token = authenticator.bearerToken(of: request) else {
                throw Problem(AuthenticationError.missingToken)
            }
            let principal = try await authenticator.verify(token, context: context)
            let maxAge = max(0, Int(principal.expiresAt - Date().timeIntervalSince1970))
            return Response(
                status: .noContent,
                headers: [.setCookie: cookie(value: token, maxAge: maxAge), .cacheControl: "no-store"]
            )
        }
        router.delete("events/session") { _, _ in
            Response(status: .noContent, headers: [.setCookie: cookie(value: "", maxAge: 0)])
        }
    }

    /// The `Set-Cookie` value: `HttpOnly` so page scripts never read the token, `Path=/events`
    /// so it only goes to the browser routes, and `SameSite`, `Domain`, `Secure` as configured
    /// (`Secure` is off only in dev mode over plain HTTP, never with `SameSite=None`).
    private func cookie(value: String, maxAge: Int) -> String {
        let auth = settings.authentication
        var cookie = "\(auth.sessionCookieName)=\(value); Max-Age=\(maxAge); Path=/events"
        if let domain = auth.sessionCookieDomain { cookie += "; Domain=\(domain)" }
        cookie += "; HttpOnly"
        if auth.sessionCookieSecure { cookie += "; Secure" }
        return cookie + "; SameSite=\(auth.sessionCookieSameSite.rawValue)"
    }
}
