import GatewayCore
import HummingbirdCore
import Logging

/// Stops accepting connections at `limit` and starts again when one closes.
///
/// Hummingbird's server channel asks it before each accept: at the cap it stops reading
/// the listening socket, so new connections wait in the kernel's listen backlog (256)
/// instead of failing `accept` with `EMFILE` over and over. The cap sits a reserve below
/// the descriptor limit, and that reserve also absorbs the few extra connections one
/// read of the listener may accept past it (NIO accepts up to 4 per read).
struct ConnectionCap: AvailableConnectionsDelegate {
    /// The most client connections open at once.
    let limit: Int
    let metrics: GatewayMetrics
    let logger: Logger
    private var open = 0
    /// Whether the cap was reached and not yet left: the warning is logged once per episode.
    private var reached = false

    init(limit: Int, metrics: GatewayMetrics, logger: Logger) {
        self.limit = limit
        self.metrics = metrics
        self.logger = logger
        metrics.httpConnectionLimit(limit)
    }

    mutating func connectionOpened() {
        open += 1
        metrics.httpConnectionOpened()
        guard open >= limit, !reached else { return }
        reached = true
        metrics.httpConnectionLimitWasReached()
        logger.warning(
            "connection limit reached; new connections wait in the listen backlog",
            metadata: ["connections.open": "\(open)", "connections.limit": "\(limit)"]
        )
    }

    mutating func connectionClosed() {
        open -= 1
        metrics.httpConnectionClosed()
        // A tenth below the cap before "reached" is armed again: a client hovering at the
        // cap, one close and one accept at a time, does not write a line per connection.
        guard reached, open <= limit - max(1, limit / 10) else { return }
        reached = false
        logger.info("accepting connections again", metadata: ["connections.open": "\(open)"])
    }

    func isAcceptingNewConnections() -> Bool {
        open < limit
    }
}
