import GatewayCore
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// The OTLP/HTTP span exporter (swift-otel), built from `TracingSettings` when an endpoint
/// is set: a tracer for `DeliveryTracer` and the service that batches and sends its spans.
///
/// Nothing is bootstrapped globally (no `InstrumentationSystem`): the tracer is handed to
/// the routes that use it, like the metrics registry.
struct TraceExport {
    /// Makes the spans.
    let tracer: any Tracer
    /// Batches and exports them; runs in the gateway's service group and flushes on shutdown.
    let service: any Service

    /// The exporter for `settings`, or `nil` when tracing is off; throws when swift-otel
    /// refuses the configuration (for example `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, which this
    /// build does not include).
    static func make(settings: TracingSettings, logger: Logger) throws -> TraceExport? {
        guard settings.isEnabled, let url = settings.tracesURL else { return nil }
        var configuration = OTel.Configuration.default
        // swift-otel applies the OTEL_* environment over these, so OTEL_SERVICE_NAME,
        // OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS and the OTEL_BSP_* bounds work
        // as operators expect.
        configuration.serviceName = "sse-gateway"
        configuration.resourceAttributes["service.version"] = GatewayVersion.current
        configuration.diagnosticLogger = .custom(logger)
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = url
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return TraceExport(tracer: backend.factory, service: backend.service)
    }
}
