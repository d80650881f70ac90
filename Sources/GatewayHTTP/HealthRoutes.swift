import GatewayCore
import Hummingbird

/// Probes: liveness (also Dapr's app health path; it never fails while draining, or
/// daprd would unsubscribe the pod early) and readiness (503 while draining).
struct HealthRoutes: Sendable {
    let hub: Hub

    func register(on router: Router<GatewayRequestContext>) {
        router.get("healthz") { _, _ in DaprRoutes.json(#"{"status":"ok"}"#) }
        router.get("readyz") { _, _ in
            guard !hub.isDraining else {
                return Response(
                    status: .serviceUnavailable,
                    headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"status":"draining"}"#))
                )
            }
            return DaprRoutes.json(#"{"status":"ready"}"#)
        }
    }
}
