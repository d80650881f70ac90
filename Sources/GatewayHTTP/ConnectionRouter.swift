import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Who serves a connection next.
enum ConnectionUse: Sendable {
    /// Hummingbird, until it returns the connection for a stream (`then`) or the connection ends.
    case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, then: EventLoopFuture<ConnectionUse>)
    /// `GET /events/stream`, held until `StreamRoutes` has authenticated and admitted it.
    case stream(StreamRequest)
    /// The connection ended.
    case closed
}

/// A stream request held by its connection's `ConnectionRouter`.
struct StreamRequest: Sendable {
    /// The request head.
    let head: HTTPRequest
    /// Its HTTP version (`HTTPRequest` has none).
    let version: HTTPVersion
    /// The connection.
    let channel: any Channel
    /// The router holding the request, for calls back on the event loop.
    let router: NIOLoopBound<ConnectionRouter>
}

/// Decides, request by request, who serves a connection: Hummingbird (every route but the
/// stream) or a `StreamHandler` (`GET /events/stream`).
///
/// The last handler of the pipeline `GatewayChildChannel` builds. A connection whose first
/// request is not a stream is lent to Hummingbird at once, on the event loop: the router
/// wraps it in the `NIOAsyncChannel` Hummingbird's request loop reads (over a
/// `ChannelLease`) and passes the request on. It stays in the pipeline, passing every
/// request and response through, until a stream request arrives on the kept-alive
/// connection: then it waits for Hummingbird's last answer to be written, gives the
/// lease back (Hummingbird's loop and task end without closing the socket) and holds the
/// request, as for a stream request that came first.
///
/// A held stream request stops reading while the connection's task authenticates it; the
/// task then calls back on the event loop to start the stream (`startStream`) or to refuse
/// it (`refuse`, which ends the connection).
final class ConnectionRouter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// No request yet.
        case waitingForHead
        /// Hummingbird serves the connection; `inFlight` requests are not answered yet.
        case lent(inFlight: Int)
        /// A stream request arrived while Hummingbird still answers earlier ones.
        case reclaiming(HTTPRequest, inFlight: Int)
        /// A stream request is being authenticated.
        case holding
        /// The stream handler took over; anything still arriving is dropped.
        case streaming
    }

    private var state = State.waitingForHead
    private var next: EventLoopPromise<ConnectionUse>?
    private var lease: ChannelLease?
    /// The connection was taken back from Hummingbird, whose request loop still closes
    /// "its" channel once as it ends.
    private var reclaimed = false
    private var context: ChannelHandlerContext?
    private let versionTap: RequestVersionTap
    private let httpHandlers: [any RemovableChannelHandler]
    /// The client closed its side, or the connection failed, while a stream request was held.
    private(set) var clientGone = false

    /// A router completing `first`. `httpHandlers` are the handlers between NIO's HTTP
    /// decoder and this router, and the connection guards around NIO's codec, which all
    /// leave the pipeline when a stream starts (the stream handler is then the only one).
    init(
        first: EventLoopPromise<ConnectionUse>,
        versionTap: RequestVersionTap,
        httpHandlers: [any RemovableChannelHandler]
    ) {
        self.next = first
        self.versionTap = versionTap
        self.httpHandlers = httpHandlers
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        complete(.closed)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .waitingForHead:
            let part = unwrapInboundIn(data)
            if case .head(let head) = part, StreamRoutes.isStreamRequest(head) {
                hold(head, context: context)
            } else {
                lend(context: context, first: part)
            }
        case .lent(let inFlight):
            let part = unwrapInboundIn(data)
            guard case .head(let head) = part else { return context.fireChannelRead(data) }
            if StreamRoutes.isStreamRequest(head) {
                state = .reclaiming(head, inFlight: inFlight)
                if inFlight == 0 { reclaim(context: context) }
            } else {
                state = .lent(inFlight: inFlight + 1)
                context.fireChannelRead(data)
            }
        case .reclaiming, .holding, .streaming:
            // Bounded: reading stopped at the stream request's head. The rest of that read
            // (its end, or a request pipelined after it) is not for anyone.
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch state {
            case .waitingForHead, .reclaiming:
                // No stream can start on a connection whose client stopped sending.
                complete(.closed)
                context.close(promise: nil)
                return
            case .holding, .streaming:
                clientGone = true
                return
            case .lent:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .waitingForHead:
            // Hummingbird answers a malformed request with 400, as without this router.
            lend(context: context, first: nil, error: error)
        case .lent:
            context.fireErrorCaught(error)
        case .reclaiming, .holding, .streaming:
            clientGone = true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientGone = true
        complete(.closed)
        context.fireChannelInactive()
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        switch state {
        case .waitingForHead, .lent: context.read()
        case .reclaiming, .holding, .streaming: break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        switch state {
        case .lent(let inFlight):
            if case .end = unwrapOutboundIn(data) { state = .lent(inFlight: max(0, inFlight - 1)) }
        case .reclaiming(let head, let inFlight):
            guard case .end = unwrapOutboundIn(data) else { return }
            state = .reclaiming(head, inFlight: inFlight - 1)
            if inFlight <= 1 { reclaim(context: context) }
        case .waitingForHead, .holding, .streaming:
            break
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch state {
        case .holding where reclaimed, .streaming where reclaimed:
            // Hummingbird's request loop, as it ends, half-closes its output and closes its
            // channel; once the lease was given back that is not its to do. (The gateway's
            // own closes of a held request go from this handler's context, not through it.)
            promise?.succeed()
        default:
            context.close(mode: mode, promise: promise)
        }
    }

    // MARK: Calls back from the connection's task, on the event loop

    /// Refuses the held stream request with `head` and `body`, then closes the connection.
    func refuse(_ head: HTTPResponse, body: ByteBuffer) {
        guard let context, case .holding = state else { return }
        var head = head
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Closes the connection (a stream that cannot start).
    func close() {
        context?.close(promise: nil)
    }

    /// Turns the connection into a stream: the HTTP handlers leave the pipeline, `head` is
    /// written through NIO's encoder before it leaves too, and `handler` takes over.
    /// Reading stays off: a FIN or a reset is still noticed (NIO watches for them without
    /// reading).
    func startStream(head: HTTPResponseHead, handler: StreamHandler) throws {
        guard let context, case .holding = state else { throw ChannelError.ioOnClosedChannel }
        state = .streaming
        let pipeline = context.pipeline.syncOperations
        for httpHandler in httpHandlers { pipeline.removeHandler(httpHandler, promise: nil) }
        let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        pipeline.removeHandler(context: decoder, promise: nil)
        pipeline.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        pipeline.removeHandler(try pipeline.handler(type: HTTPResponseEncoder.self), promise: nil)
        try context.channel.syncOptions?.setOption(.autoRead, value: false)
        pipeline.removeHandler(context: context, promise: nil)
        // First: after a lent connection, Hummingbird's finished async-channel handler stays
        // behind; the stream handler sees every event before it.
        try pipeline.addHandler(handler, position: .first)
    }

    // MARK: Private

    private func hold(_ head: HTTPRequest, context: ChannelHandlerContext) {
        state = .holding
        let request = StreamRequest(
            head: head,
            version: versionTap.version,
            channel: context.channel,
            router: NIOLoopBound(self, eventLoop: context.eventLoop)
        )
        complete(.stream(request))
    }

    /// Lends the connection to Hummingbird, with the request part (or error) that came first.
    private func lend(context: ChannelHandlerContext, first part: HTTPRequestPart?, error: (any Error)? = nil) {
        let lease = ChannelLease(context.channel)
        let asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
        do {
            // As Hummingbird's HTTP1Channel wraps its connections.
            asyncChannel = try NIOAsyncChannel(
                wrappingChannelSynchronously: lease,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        } catch {
            complete(.closed)
            context.close(promise: nil)
            return
        }
        self.lease = lease
        state = .lent(inFlight: part.map { if case .head = $0 { 1 } else { 0 } } ?? 0)
        let then = context.eventLoop.makePromise(of: ConnectionUse.self)
        complete(.http(asyncChannel, then: then.futureResult))
        next = then
        if let part { context.fireChannelRead(wrapInboundOut(part)) }
        if let error { context.fireErrorCaught(error) }
        // The async channel yields what it buffered at the end of a read.
        context.fireChannelReadComplete()
    }

    /// Takes a lent connection back for the stream request that arrived on it, once
    /// Hummingbird has answered everything before it.
    private func reclaim(context: ChannelHandlerContext) {
        guard case .reclaiming(let head, _) = state else { return }
        reclaimed = true
        lease?.giveBack()
        lease = nil
        hold(head, context: context)
        // Hummingbird's request loop sees the end of its requests and returns.
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    private func complete(_ use: ConnectionUse) {
        next?.succeed(use)
        next = nil
    }
}
