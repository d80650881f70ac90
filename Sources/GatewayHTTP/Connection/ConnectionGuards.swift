import GatewayCore
import Logging
import NIOCore
import NIOHTTP1

/// The bounds every client connection works within, installed by one call when
/// `GatewayChildChannel` sets up a connection, whatever serves it afterwards
/// (Hummingbird's router, or a `StreamHandler`).
///
/// Per connection, in pipeline order (head to tail):
/// 1. `WriteTimeoutHandler`: closes a connection whose buffered writes make no progress.
/// 2. `RequestBytesObserver`: marks the first byte of each request.
/// 3. NIO's HTTP/1 response encoder and request decoder.
/// 4. `RequestTimeoutHandler`: idle, header and body deadlines.
///
/// The connection cap is not here: it belongs to the listening socket
/// (`ConnectionCap`, through `ServerConfiguration.availableConnectionsDelegate`).
package struct ConnectionGuards: Sendable {
    let settings: ConnectionGuardSettings
    /// `GATEWAY_WRITE_TIMEOUT_SECONDS`, the bound a stream's handler applies too.
    let writeTimeout: Duration
    let metrics: GatewayMetrics
    let logger: Logger

    /// Guards with the connection settings and write timeout of `settings`, counting into `metrics`.
    package init(settings: GatewaySettings, metrics: GatewayMetrics, logger: Logger) {
        self.settings = settings.connections
        self.writeTimeout = settings.writeTimeout
        self.metrics = metrics
        self.logger = logger
    }

    /// Adds the HTTP/1 server codec and the guards around it to a new connection's
    /// pipeline, in place of NIO's `configureHTTPServerPipeline`. Whatever reads the decoded
    /// parts goes after (`GatewayChildChannel`: the HTTP-types codec, Hummingbird's handlers
    /// and the `ConnectionRouter`).
    ///
    /// Returns the three guards, for a connection that stops being an HTTP exchange (an SSE
    /// stream served by its own handler, with its own write timeout): `ConnectionRouter`
    /// removes them with the HTTP handlers, as `RequestTimeoutHandler` reads and writes NIO's
    /// HTTP/1 parts only and an established stream is exempt from the read deadlines.
    package func addHTTP1ServerHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        decoderLimits: NIOHTTPDecoderLimitConfiguration
    ) throws -> [any RemovableChannelHandler] {
        let writeTimeout = WriteTimeoutHandler(timeout: .init(writeTimeout), metrics: metrics, logger: logger)
        let bytesObserver = RequestBytesObserver()
        try pipeline.addHandler(writeTimeout)
        try pipeline.addHandler(bytesObserver)
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits
        )
        let limits = RequestReadDeadline.Limits(
            idle: .init(settings.idleTimeout),
            header: .init(settings.headerTimeout),
            body: .init(settings.bodyTimeout)
        )
        let requestTimeout = RequestTimeoutHandler(limits: limits, metrics: metrics, logger: logger)
        try pipeline.addHandler(requestTimeout)
        return [requestTimeout, bytesObserver, writeTimeout]
    }
}
