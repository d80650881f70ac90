import ServiceLifecycle

/// Fetches the JWKS URL at start and then every `interval`, in the service group.
package struct KeyRefreshService: Service {
    private let keyRing: KeyRing
    private let interval: Duration

    /// Creates the service.
    package init(keyRing: KeyRing, interval: Duration) {
        self.keyRing = keyRing
        self.interval = interval
    }

    package func run() async throws {
        guard await keyRing.refreshes else {
            // Nothing to refresh; a service that returns early would end the whole group.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await keyRing.refresh(force: true)
                try? await Task.sleep(for: interval)
            }
        }
    }
}
