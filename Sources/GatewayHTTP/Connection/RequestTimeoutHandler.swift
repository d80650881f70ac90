import GatewayCore
import Logging
import NIOCore
import NIOHTTP1

/// Closes a connection that is idle, or sends a request's head or body too slowly
/// (`RequestReadDeadline` decides which deadline applies). Sits right behind the HTTP/1
/// decoder; `RequestBytesObserver` in front of the decoder marks each request's first byte.
///
/// One timer per connection at most. A later deadline does not move the timer: when it
/// fires early it finds the new deadline and waits again, so the common transitions
/// (a request read whole, a response ended) cost no timer cancellation.
final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: RequestReadDeadline.Limits
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var state: RequestReadDeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(limits: RequestReadDeadline.Limits, metrics: GatewayMetrics, logger: Logger) {
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        state = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = context.eventLoop.now
        switch unwrapInboundIn(data) {
        case .head: state?.headArrived(at: now)
        case .body: break
        case .end: state?.requestEnded(at: now)
        }
        armTimer(context: context)
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is RequestBytesObserver.BytesArrived else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        state?.bytesArrived(at: context.eventLoop.now)
        armTimer(context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            state?.responseEnded(at: context.eventLoop.now)
            armTimer(context: context)
        }
        context.write(data, promise: promise)
    }

    private func start(context: ChannelHandlerContext) {
        guard state == nil else { return }
        state = RequestReadDeadline(limits: limits, openedAt: context.eventLoop.now)
        armTimer(context: context)
    }

    /// Makes sure the timer fires no later than the deadline in force.
    private func armTimer(context: ChannelHandlerContext) {
        guard let deadline = state?.deadline?.at else { return }
        if let timerDeadline, timerDeadline <= deadline { return }
        cancelTimer()
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timerFired(context: context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        timerDeadline = nil
        guard let state, let (kind, deadline) = state.deadline else { return }
        guard deadline <= context.eventLoop.now else {
            armTimer(context: context)
            return
        }
        metrics.httpConnectionTimedOut(kind)
        logger.debug("connection timed out", metadata: ["connection.deadline": "\(kind.rawValue)"])
        self.state = nil
        if kind == .header, !state.isResponding {
            // Nothing else is being written: tell a slow but honest client why it is cut off.
            let headers: HTTPHeaders = ["Connection": "close", "Content-Length": "0"]
            let head = HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RequestTimeoutHandler: Sendable {}
