import GatewayCore
import Hummingbird

/// Probes: liveness (also Dapr's app health path; it never fails, while catching up or
/// draining, or daprd would stop delivering) and readiness (200 only once the backlog
/// arrived and until the drain; design section 6).
struct HealthRoutes: Sendable {
    let hub: Hub
    let readiness: Readiness

    func register(on router: Router<GatewayRequestContext>) {
        router.get("healthz") { _, _ in DaprRoutes.json(#"{"status":"ok"}"#) }
        router.get("readyz") { _, _ in
            let state = readiness.state(draining: hub.isDraining)
            guard state == .ready else { throw Problem(notReady: state) }
            return DaprRoutes.json(#"{"status":"ready"}"#)
        }
    }
}
