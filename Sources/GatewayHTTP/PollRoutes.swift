import GatewayCore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /events/poll`: the stream's events as JSON, for clients that cannot hold an SSE
/// stream (design section 2; the polling fallback).
///
/// Same authentication, scope, filters and resume positions as `GET /events/stream`: a
/// client may switch between the two with the same `lastEventId`. `wait=N` (0 to 30 s)
/// makes it a long poll that answers as soon as one event matches. From admission until
/// its answer has been written, a poll counts as one of the user's streams, so one user
/// holds at most `GATEWAY_MAX_STREAMS_PER_USER` answers that a client does not read; each
/// answer is at most `GATEWAY_POLL_MAX_BYTES` of events, written in pieces.
struct PollRoutes: Sendable {
    let hub: Hub
    let authenticator: Authenticator
    let metrics: GatewayMetrics
    /// `GATEWAY_POLL_MAX_BYTES`.
    let maxBytes: Int

    func register(on router: Router<GatewayRequestContext>) {
        router.get("events/poll") { request, context in try await self.poll(request, context: context) }
    }

    func poll(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let browser = try await BrowserRequest(request, context: context, authenticator: authenticator, hub: hub)
        let lease: SubscriptionLease
        do throws(SubscriptionError) {
            lease = try SubscriptionLease(hub: hub, scope: browser.scope, resumeFrom: browser.resume)
        } catch {
            throw Problem(error)
        }
        let subscription = lease.subscription
        metrics.resumed(
            browser.resume,
            historyGap: subscription.historyGap,
            held: !subscription.heldTopics.isEmpty
        )
        // Weak: a keep-alive connection that polls for hours collects one of these per poll.
        context.channel.closeFuture.whenComplete { [weak subscriber = subscription.subscriber] _ in
            subscriber?.close(.clientGone)
        }
        let result = await subscription.collect(
            byteLimit: maxBytes,
            wait: .seconds(browser.query.waitSeconds ?? 0)
        )
        // The answer is decided: stop queueing live frames for it, keep its slot until written.
        subscription.subscriber.close(.clientGone)
        let metrics = self.metrics
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(contentLength: result.bodyLength) { writer in
                defer { lease.end() }
                for chunk in result.body() { try await writer.write(chunk) }
                try await writer.finish(nil)
                metrics.delivered(result.frames)
                if !result.resetTopics.isEmpty { metrics.resumeHoldsExpired(result.resetTopics.count) }
            }
        )
    }
}
