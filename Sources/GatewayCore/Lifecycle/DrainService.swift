import Logging
import ServiceLifecycle

/// Drains the gateway on SIGTERM, before the HTTP server stops (design section 6).
///
/// It is the last service of the group, so it is told to shut down first: readiness
/// fails and new streams and deliveries are refused at once, open streams are ended with
/// `shutting_down`, and it returns when they are gone or `timeout` passed. Only then
/// does the group stop the server.
package struct DrainService: Service {
    private let hub: Hub
    private let timeout: Duration
    private let logger: Logger

    /// Creates the service.
    package init(hub: Hub, timeout: Duration, logger: Logger) {
        self.hub = hub
        self.timeout = timeout
        self.logger = logger
    }

    package func run() async throws {
        // Returns when graceful shutdown starts; throws only when the group is cancelled.
        try await gracefulShutdown()
        let open = hub.subscriberCount
        logger.notice("draining", metadata: ["streams.open": "\(open)", "drain.timeout": "\(timeout)"])
        hub.beginDrain()
        let drained = await hub.waitUntilEmpty(timeout: timeout)
        logger.notice(
            drained ? "drained" : "drain timed out",
            metadata: ["streams.open": "\(hub.subscriberCount)"]
        )
    }
}
