/// A subscription held beyond one scope: registered, and counted against the stream
/// limits, until `end()` is called or the lease is released, whichever comes first.
///
/// `Hub.withSubscription` is the rule, and a `StreamHandler`'s life in its pipeline is the
/// scope of a stream's subscription; this is the same `Hub.subscribe`/`unsubscribe` pair
/// for a poll, whose answer is written by the HTTP server after the route has returned.
/// The route hands the lease to the response body, which ends it after the last byte; if
/// the body never runs (the client left before the answer started), releasing the
/// response releases the lease, so no path can leak the slot.
package final class SubscriptionLease: Sendable {
    /// The leased subscription.
    package let subscription: Subscription
    private let hub: Hub

    /// Subscribes on `hub` (replay and registration atomic, as `Hub.subscribe` does).
    package init(hub: Hub, scope: StreamScope, resumeFrom request: ResumeRequest) throws(SubscriptionError) {
        self.subscription = try hub.subscribe(scope: scope, resumeFrom: request)
        self.hub = hub
    }

    /// Unregisters the subscription and frees its slot; later calls do nothing
    /// (`Hub.unsubscribe` ignores a subscriber it no longer holds).
    package func end() {
        hub.unsubscribe(subscription.subscriber)
    }

    deinit {
        end()
    }
}
