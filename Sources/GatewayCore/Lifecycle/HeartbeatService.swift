import Foundation
import ServiceLifecycle

/// The one ticker for all streams: heartbeats every `interval`, and once a second ends
/// streams whose token expired, resets held resumes whose wait is over, trims the replay
/// logs by age, and checks readiness (so becoming ready is noticed and logged even when
/// nothing probes it).
package struct HeartbeatService: Service {
    private let hub: Hub
    private let interval: Duration
    private let readiness: Readiness?

    /// Creates the ticker.
    package init(hub: Hub, interval: Duration, readiness: Readiness? = nil) {
        self.hub = hub
        self.interval = interval
        self.readiness = readiness
    }

    package func run() async throws {
        let tick = min(interval, .seconds(1))
        let clock = ContinuousClock()
        let interval = self.interval
        let readiness = self.readiness
        await cancelWhenGracefulShutdown {
            var nextHeartbeat = clock.now + interval
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard !Task.isCancelled else { return }
                hub.expire(now: Date().timeIntervalSince1970)
                _ = readiness?.state(draining: hub.isDraining)
                if clock.now >= nextHeartbeat {
                    hub.heartbeat()
                    nextHeartbeat = clock.now + interval
                }
            }
        }
    }
}
