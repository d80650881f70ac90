import Foundation
import ServiceLifecycle

/// The one ticker for all streams: heartbeats every `interval`, and once a second ends
/// streams whose token expired and trims the replay logs by age.
package struct HeartbeatService: Service {
    private let hub: Hub
    private let interval: Duration

    /// Creates the ticker.
    package init(hub: Hub, interval: Duration) {
        self.hub = hub
        self.interval = interval
    }

    package func run() async throws {
        let tick = min(interval, .seconds(1))
        let clock = ContinuousClock()
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            var nextHeartbeat = clock.now + interval
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard !Task.isCancelled else { return }
                hub.expire(now: Date().timeIntervalSince1970)
                if clock.now >= nextHeartbeat {
                    hub.heartbeat()
                    nextHeartbeat = clock.now + interval
                }
            }
        }
    }
}
