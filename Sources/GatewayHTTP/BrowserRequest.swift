import GatewayCore
import Hummingbird

/// A browser's stream or poll request, authenticated, scoped and admitted: the one path
/// both `GET /events/stream` and `GET /events/poll` take before they subscribe, so the
/// two can never differ in who sees what.
struct BrowserRequest: Sendable {
    /// The validated query.
    let query: StreamQuery
    /// What the request may see: the token's scope narrowed by the query's filters.
    let scope: StreamScope
    /// Where to resume: `Last-Event-ID`, else the `lastEventId` query parameter.
    let resume: ResumeRequest

    /// Parses, authenticates, scopes and admits `request`; throws a `Problem` otherwise.
    /// `refusals` counts an admission refusal as a refused stream (streams only, not polls).
    init(
        _ request: Request,
        context: GatewayRequestContext,
        authenticator: Authenticator,
        hub: Hub,
        refusals: GatewayMetrics? = nil
    ) async throws {
        let query: StreamQuery
        do {
            let parameters = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
            query = try StreamQuery(parameters: parameters)
        } catch {
            throw Problem(error)
        }
        let principal = try await authenticator.principal(of: request, query: query, context: context)
        do {
            self.scope = try StreamScope(
                principal: principal,
                rules: hub.topics,
                requestedTopics: query.topics,
                filters: query.filters
            )
        } catch {
            if let reason = error.refusalReason { authenticator.metrics.authenticationFailed(reason: reason) }
            throw Problem(error)
        }
        do {
            try hub.admissionCheck(subject: principal.subject)
        } catch {
            refusals?.streamRefused(error)
            throw Problem(error)
        }
        self.query = query
        self.resume = ResumeRequest(lastEventID: request.headers[.lastEventID] ?? query.lastEventID)
    }
}
