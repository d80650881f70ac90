/// A reconnect storm (`sse-gateway bench --storm-url`): the streams, open on a first server
/// and up to date, all reconnect to a fresh server within a window, each with its
/// `Last-Event-ID`, as the browsers of a replaced pod do during a rolling update.
package struct StormSettings: Sendable {
    /// Subscribe URL template on the fresh server (`{user}`, `{i}`); the first server's
    /// own URL when the server keeps its history across the storm (Nchan).
    package var url: String
    /// The reconnects are spread uniformly at random over this window (the gateway's
    /// jittered `retry:` on shutdown spreads them the same way).
    package var window: Duration = .seconds(10)
    /// Events every stream receives before the storm: the history the fresh server must
    /// resume from.
    package var historyEvents = 200
    /// Events per second while the history is published (0: as fast as the server answers).
    package var historyRate = 0.0
    /// Live events per second from the storm's start until the end of `tail`.
    package var liveRate = 20.0
    /// How long live events go on after the last stream is back.
    package var tail: Duration = .seconds(5)
    /// Whether the bench plays the broker for the fresh server: it fetches
    /// `GET /dapr/subscribe` there and delivers the whole history, oldest first, then the
    /// live events (a new pod's new consumer group), on the Dapr route `/dapr/topics/{topic}`.
    package var feedHistory = false
    /// Polled until it answers 200 before the storm starts (the fresh pod's `/readyz`).
    package var readyURL: String?
    /// The fresh server's processes, for its peak RSS and CPU.
    package var serverPIDs: [Int32] = []

    /// A storm towards `url` with the defaults.
    package init(url: String) {
        self.url = url
    }
}
