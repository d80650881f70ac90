import Foundation
import GatewayCore
import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle

/// The whole gateway, wired from settings: the hub, the routes, the HTTP server and its
/// services.
package struct Gateway: Sendable {
    /// The fan-out hub.
    package let hub: Hub
    /// What `GET /readyz` answers.
    package let readiness: Readiness
    /// The HTTP application (runs the heartbeat and key refresh services with the server).
    package let application: Application<RouterResponder<GatewayRequestContext>>
    /// The drain, run after the application in the outer service group.
    package let drain: DrainService
    /// What `GET /metrics` exports.
    package let metrics: GatewayMetrics
    /// Exports delivery spans when an OTLP endpoint is set; runs before and stops after the server.
    private let traceExport: TraceExport?
    private let logger: Logger

    /// Builds the gateway; throws when keys cannot be loaded.
    package init(settings: GatewaySettings, logger: Logger) async throws {
        var hubConfiguration = Hub.Configuration()
        hubConfiguration.subscriberCapacity = settings.subscriberBufferFrames
        hubConfiguration.replay = settings.replay
        hubConfiguration.deduplicationWindow = settings.deduplicationWindow
        hubConfiguration.limits = settings.limits
        hubConfiguration.resumeHold = settings.resumeHold
        let hub = Hub(topics: settings.topics, configuration: hubConfiguration)
        let keyRing = KeyRing(
            fixedKeys: try await KeyRing.fixedKeys(from: settings.authentication),
            jwksURL: settings.authentication.jwksURL.flatMap(URL.init(string:)),
            minimumRefreshInterval: settings.authentication.jwksMinimumRefreshInterval,
            logger: logger
        )
        // One registry per gateway, not the process-wide default: no global state, and
        // tests running several gateways in one process each see their own figures.
        let registry = PrometheusCollectorRegistry()
        var factory = DocumentedMetricsFactory(registry: registry)
        factory.durationBuckets[GatewayMetrics.Name.ingestToFlush] = Self.latencyBuckets
        let metrics = GatewayMetrics(
            topics: settings.topics.map(\.topic),
            connectionLimit: settings.limits.totalStreams,
            factory: factory
        )
        let verifier = TokenVerifier(settings: settings.authentication, keyRing: keyRing, rules: settings.topics)
        let authenticator = Authenticator(settings: settings.authentication, verifier: verifier, metrics: metrics)
        let readiness = Readiness(
            topics: settings.topics.map(\.topic),
            settings: settings.readiness,
            logger: logger,
            metrics: metrics
        )

        let traceExport = try TraceExport.make(settings: settings.tracing, logger: logger)
        let tracer = DeliveryTracer(tracer: traceExport?.tracer)

        let router = Router(context: GatewayRequestContext.self)
        // One policy for the router's routes and the stream path beside it. The middleware
        // goes before any route: a route's middleware chain is fixed when it is registered.
        let cors = CORSPolicy(allowedOrigins: settings.corsOrigins)
        router.add(middleware: CORSMiddleware(policy: cors))
        DaprRoutes(settings: settings, hub: hub, metrics: metrics, tracer: tracer, readiness: readiness).register(
            on: router
        )
        let streams = StreamRoutes(
            settings: settings,
            hub: hub,
            authenticator: authenticator,
            metrics: metrics,
            serverName: Self.serverName,
            cors: cors,
            logger: logger
        )
        PollRoutes(hub: hub, authenticator: authenticator, metrics: metrics, maxBytes: settings.pollMaxBytes)
            .register(on: router)
        SessionRoutes(settings: settings, authenticator: authenticator).register(on: router)
        HealthRoutes(hub: hub, readiness: readiness).register(on: router)
        ClientRoutes().register(on: router)
        if settings.devMode { DemoRoutes(settings: settings, hub: hub).register(on: router) }
        MetricsRoutes(registry: registry, process: ProcessMetrics(factory: factory)).register(on: router)

        let guards = ConnectionGuards(settings: settings, metrics: metrics, logger: logger)
        var application = Application(
            router: router,
            // Hummingbird's HTTP/1 server, except that a stream leaves it once admitted
            // (GatewayChildChannel; docs/architecture.md), with every connection's guards.
            server: HTTPServerBuilder { responder in
                GatewayChildChannel(responder: responder, configuration: .init(), streams: streams, guards: guards)
            },
            configuration: .init(
                address: .hostname(settings.host, port: settings.port),
                serverName: Self.serverName,
                availableConnectionsDelegate: try Self.connectionCap(
                    settings: settings,
                    metrics: metrics,
                    logger: logger
                )
            ),
            logger: logger
        )
        application.addServices(
            HeartbeatService(hub: hub, interval: settings.heartbeatInterval, readiness: readiness),
            KeyRefreshService(keyRing: keyRing, interval: settings.authentication.jwksRefreshInterval),
            MemoryReturnService(hub: hub)
        )
        self.hub = hub
        self.readiness = readiness
        self.application = application
        self.drain = DrainService(hub: hub, timeout: settings.drainTimeout, logger: logger)
        self.metrics = metrics
        self.traceExport = traceExport
        self.logger = logger
    }

    /// The `Server` header of every answer.
    private static let serverName = "sse-gateway"

    /// The cap on client connections: the descriptor limit less the reserve, so the
    /// process never runs out of descriptors (at which point accept fails over and over).
    private static func connectionCap(
        settings: GatewaySettings,
        metrics: GatewayMetrics,
        logger: Logger
    ) throws -> ConnectionCap {
        let reserve = settings.connections.descriptorReserve
        guard let limit = DescriptorLimit.read() else {
            throw GatewayStartError.descriptorLimitUnknown
        }
        guard let cap = limit.connectionCap(reserve: reserve) else {
            throw GatewayStartError.descriptorLimitTooLow(limit: limit.current, reserve: reserve)
        }
        logger.info(
            "connection limit",
            metadata: [
                "connections.limit": "\(cap)", "descriptors.limit": "\(limit.current)",
                "descriptors.reserve": "\(reserve)", "streams.limit": "\(settings.limits.totalStreams)",
            ]
        )
        if settings.limits.totalStreams >= cap, !settings.devMode {
            // Streams would fill every connection: probes, Dapr deliveries and polls would
            // then wait for a stream to end (docs/threat-model.md, "The descriptor limit").
            logger.warning(
                "GATEWAY_MAX_CONNECTIONS is not below the connection limit; set it lower, or raise the descriptor limit",
                metadata: ["connections.limit": "\(cap)", "streams.limit": "\(settings.limits.totalStreams)"]
            )
        }
        return ConnectionCap(limit: cap, metrics: metrics, logger: logger)
    }

    /// Ingest-to-flush buckets: the fan-out is sub-millisecond when healthy, so the low end is fine.
    private static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// Runs until SIGTERM or SIGINT, then drains and exits within the drain time.
    package func run(drainTimeout: Duration) async throws {
        // Services shut down in reverse order: the drain first, then the server, then the
        // span exporter, which flushes what the drain's last deliveries recorded.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: application), .init(service: drain),
        ]
        if let traceExport { services.insert(.init(service: traceExport.service), at: 0) }
        var configuration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        // A hard bound: whatever still runs after the drain window is cancelled.
        configuration.maximumGracefulShutdownDuration = drainTimeout + .seconds(5)
        try await ServiceGroup(configuration: configuration).run()
    }
}
