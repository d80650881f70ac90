import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's HTTP/1 connection: Hummingbird's `HTTP1Channel` pipeline, with a detour
/// for `GET /events/stream` so that an established stream holds no task.
///
/// Hummingbird runs `setup` for every accepted connection on its event loop, then
/// `handle` in a task of its own for as long as that returns. `HTTP1Channel` loops over
/// the connection's requests in that task for the connection's life, which for a stream is
/// hours. Here the pipeline is the same (NIO's HTTP/1 codec, the HTTP-types codec, the
/// configured extra handlers, Hummingbird's connection state handler), with the
/// connection guards around NIO's codec (`ConnectionGuards`: idle, head and body
/// deadlines, the write timeout) and a `ConnectionRouter` last. Requests other than the
/// stream go to Hummingbird's `handleHTTP` exactly as before (routes, middleware,
/// keep-alive, `HummingbirdTesting`'s live server). A stream request, first on its
/// connection or after others on a kept-alive one, is authenticated and admitted in
/// `handle`; then a `StreamHandler` takes the channel over, the guards leave with the
/// HTTP handlers, and `handle` returns.
struct GatewayChildChannel: HTTPChannelHandler {
    typealias Value = GatewayConnection

    /// Hummingbird's responder: the router and its middleware.
    let responder: HTTPChannelHandler.Responder
    /// The same configuration `HTTP1Channel` takes (extra handlers, idle timeout, decoder limits).
    let configuration: HTTP1Channel.Configuration
    /// The stream path.
    let streams: StreamRoutes
    /// Every connection's deadlines (idle, request head and body) and write timeout.
    let guards: ConnectionGuards

    /// The receive buffer every connection starts with. NIO keeps one per connection for
    /// its whole life and never shrinks it, and a stream reads nothing after its request,
    /// so it should be no larger than a typical stream request (NIO's default is 2 KiB);
    /// it doubles, per connection, for connections that send more (Dapr deliveries).
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<GatewayConnection> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.receiveAllocator)
            let pipeline = channel.pipeline.syncOperations
            // As `HTTP1Channel.setup` does, with the version tap after NIO's decoder.
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            decoderLimits.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            decoderLimits.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            // In place of NIO's `configureHTTPServerPipeline`: the same encoder and decoder,
            // with the connection's deadlines and write timeout around them.
            let guardHandlers = try guards.addHTTP1ServerHandlers(to: pipeline, decoderLimits: decoderLimits)
            let versionTap = RequestVersionTap()
            let codec = HTTP1ToHTTPServerCodec(secure: false)
            let extraHandlers = configuration.additionalChannelHandlers()
            let connectionState = HTTPConnectionStateHandler(
                idleTimeout: configuration.idleTimeout.map { .init($0) },
                logger: logger
            )
            try pipeline.addHandler(versionTap)
            try pipeline.addHandler(codec)
            try pipeline.addHandlers(extraHandlers)
            try pipeline.addHandler(connectionState)
            let first = channel.eventLoop.makePromise(of: ConnectionUse.self)
            try pipeline.addHandler(
                ConnectionRouter(
                    first: first,
                    versionTap: versionTap,
                    httpHandlers: [connectionState] + extraHandlers.reversed() + [codec, versionTap] + guardHandlers
                )
            )
            return GatewayConnection(channel: channel, first: first.futureResult)
        }
    }

    func handle(value connection: GatewayConnection, logger: Logger) async {
        let channel = connection.channel
        var next = connection.first
        while true {
            let use = await withTaskCancellationHandler {
                try? await next.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            switch use {
            case .http(let asyncChannel, let then):
                // Returns when the connection ends, or when the router took it back for a stream.
                await handleHTTP(asyncChannel: asyncChannel, logger: logger)
                next = then
            case .stream(let request):
                await streams.serve(request, logger: logger)
                return
            case .closed, nil:
                return
            }
        }
    }
}

/// An accepted connection: the channel, and who serves it first.
struct GatewayConnection: ServerChildChannelValue {
    /// The connection.
    let channel: any Channel
    /// Completed on the event loop once the first request head arrived (or the connection ended).
    let first: EventLoopFuture<ConnectionUse>
}
