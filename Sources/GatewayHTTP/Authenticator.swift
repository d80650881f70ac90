import GatewayCore
import Hummingbird

/// Finds and verifies the token of a browser request: `Authorization: Bearer`, then the
/// session cookie, then (only when enabled) `access_token` in the query.
struct Authenticator: Sendable {
    let settings: AuthenticationSettings
    let verifier: TokenVerifier
    let metrics: GatewayMetrics

    func token(of request: Request, query: StreamQuery?) -> String? {
        if let bearer = bearerToken(of: request) { return bearer }
        if let cookie = request.cookies[settings.sessionCookieName]?.value, !cookie.isEmpty {
            return cookie
        }
        if settings.allowQueryToken, let token = query?.accessToken, !token.isEmpty {
            return token
        }
        return nil
    }

    func bearerToken(of request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingWhitespace()
    }

    func principal(of request: Request, query: StreamQuery?, context: GatewayRequestContext) async throws -> Principal {
        guard let token = token(of: request, query: query) else {
            metrics.authenticationFailed(reason: AuthenticationError.missingToken.reason)
            throw Problem(AuthenticationError.missingToken)
        }
        return try await verify(token, context: context)
    }

    func verify(_ token: String, context: GatewayRequestContext) async throws -> Principal {
        do {
            return try await verifier.principal(for: token)
        } catch {
            context.logger.info("token rejected", metadata: ["auth.reason": "\(error.reason)"])
            metrics.authenticationFailed(reason: error.reason)
            throw Problem(error)
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
