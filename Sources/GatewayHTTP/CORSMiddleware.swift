import GatewayCore
import HTTPTypes
import Hummingbird

/// Applies `CORSPolicy` to the browser routes on the router: answers their preflights,
/// and adds the CORS headers to their answers, errors (problem bodies) included, so a
/// page on an allowed origin can read why it was refused.
///
/// Added to the router before any route: Hummingbird builds a route's middleware chain
/// when the route is registered.
struct CORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: CORSPolicy

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard CORSPolicy.answersCORS(path: path) else { return try await next(request, context) }
        let origin = request.headers[.origin]
        if request.method == .options, let origin, let method = request.headers[.accessControlRequestMethod] {
            switch policy.preflight(
                path: path,
                origin: origin,
                requestMethod: method,
                requestHeaders: request.headers[.accessControlRequestHeaders]
            ) {
            case .allowed(let headers):
                return Response(status: .noContent, headers: headers)
            case .refused(let problem):
                var response = try problem.response(from: request, context: context)
                response.headers[.vary] = CORSPolicy.preflightVary
                return response
            }
        }
        guard policy.isEnabled else { return try await next(request, context) }
        let headers = policy.headers(forOrigin: origin)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers.append(contentsOf: headers)
        return response
    }
}
