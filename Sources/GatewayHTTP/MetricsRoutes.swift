import GatewayCore
import Hummingbird
import NIOCore
import Prometheus

/// `GET /metrics`: the gateway's metrics in the Prometheus text format (docs/observability.md).
struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let process: ProcessMetrics

    func register(on router: Router<GatewayRequestContext>) {
        router.get("metrics") { _, _ in self.scrape() }
    }

    func scrape() -> Response {
        // /proc figures are only right at the moment they are read.
        process.refresh()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        registry.emit(into: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
