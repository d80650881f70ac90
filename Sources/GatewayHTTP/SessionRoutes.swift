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

    private func cookie(value: String, maxAge: Int) -> String {
        // `Secure` is dropped only in dev mode, where the gateway is reached over plain HTTP.
        let secure = settings.devMode ? "" : "; Secure"
        return
            "\(settings.authentication.sessionCookieName)=\(value); Max-Age=\(maxAge); Path=/events; HttpOnly\(secure); SameSite=Strict"
    }
}
