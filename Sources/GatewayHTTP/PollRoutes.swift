import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /events/poll`: the stream's events as JSON, for clients that cannot hold an SSE
/// stream (design section 2; the polling fallback).
///
/// Same authentication, scope, filters and resume positions as `GET /events/stream`: a
/// client may switch between the two with the same `lastEventId`. `wait=N` (0 to 30 s)
/// makes it a long poll that answers as soon as one event matches. While it waits, a
/// poll counts as one of the user's streams.
struct PollRoutes: Sendable {
    let hub: Hub
    let authenticator: Authenticator
    let metrics: GatewayMetrics

    func register(on router: Router<GatewayRequestContext>) {
        router.get("events/poll") { request, context in try await self.poll(request, context: context) }
    }

    func poll(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let browser = try await BrowserRequest(request, context: context, authenticator: authenticator, hub: hub)
        let wait = Duration.seconds(browser.query.waitSeconds ?? 0)
        let channel = context.channel
        let metrics = self.metrics
        let resume = browser.resume
        let result: PollResult
        do {
            result = try await hub.withSubscription(scope: browser.scope, resumeFrom: browser.resume) { subscription in
                metrics.resumed(resume, historyGap: subscription.historyGap, held: !subscription.heldTopics.isEmpty)
                let subscriber = subscription.subscriber
                channel.closeFuture.whenComplete { _ in subscriber.close(.clientGone) }
                return await subscription.collect(wait: wait)
            }
        } catch let error as SubscriptionError {
            throw Problem(error)
        }
        for frame in result.frames { metrics.delivered(topicIndex: frame.topicIndex) }
        if !result.resetTopics.isEmpty { metrics.resumeHoldsExpired(result.resetTopics.count) }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: result.json))
        )
    }
}
