import GatewayCore
import HTTPTypes
import Hummingbird

/// Lets only the sidecar call `/dapr/*`: when `APP_API_TOKEN` is set, the request must
/// carry it in `dapr-api-token` (compared in constant time), else 401.
package struct AppTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    private let token: String

    /// Creates the middleware for `token`.
    package init(token: String) {
        self.token = token
    }

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let presented = request.headers[HTTPField.Name.daprAPIToken], ConstantTime.equals(presented, token)
        else {
            context.logger.warning(
                "dapr request without a valid app token",
                metadata: ["http.path": "\(request.uri.path)"]
            )
            throw Problem(
                .unauthorized,
                code: "invalid_app_token",
                detail: "the dapr-api-token header is missing or wrong"
            )
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    /// Dapr's app token header.
    package static var daprAPIToken: Self { Self("dapr-api-token")! }
    /// The W3C trace context header daprd sets on every delivery.
    package static var traceparent: Self { Self("traceparent")! }
    /// The SSE resume header.
    package static var lastEventID: Self { Self("Last-Event-ID")! }
    /// nginx's buffering switch.
    package static var accelBuffering: Self { Self("X-Accel-Buffering")! }
}
