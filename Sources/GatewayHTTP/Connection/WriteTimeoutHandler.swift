import GatewayCore
import Logging
import NIOCore

/// Closes a connection whose answer makes no progress: bytes stay in NIO's buffer after a
/// flush and not one of them leaves it for `timeout` (`GATEWAY_WRITE_TIMEOUT_SECONDS`).
///
/// A client that stops reading an answer (a poll's, say) otherwise pins it, and the
/// buffers behind it, for as long as the TCP connection lives. The decision is
/// `WriteProgress`, the one a `StreamHandler` makes for a stream (which it ends as
/// `slow_consumer`): one setting, one meaning, so a slow but steady reader keeps its
/// connection and a stalled one loses it. It costs nothing while the kernel takes every
/// write at once: the check is scheduled only when bytes stay buffered. It sits at the head
/// of the pipeline, where every byte written passes, and leaves with the other guards when
/// a stream takes the connection over.
final class WriteTimeoutHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let timeout: TimeAmount
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var progress = WriteProgress()
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount, metrics: GatewayMetrics, logger: Logger) {
        self.timeout = timeout
        self.metrics = metrics
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        progress.wrote(unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        guard progress.startWatching(buffered: bufferedBytes(context)) else { return }
        scheduleCheck(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    private func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    private func scheduleCheck(context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.check = nil
            switch self.progress.check(buffered: self.bufferedBytes(context)) {
            case .drained:
                break
            case .moving:
                self.scheduleCheck(context: context)
            case .stalled:
                self.metrics.httpConnectionTimedOut(.write)
                self.logger.debug("connection timed out", metadata: ["connection.deadline": "write"])
                context.close(promise: nil)
            }
        }
    }
}

@available(*, unavailable)
extension WriteTimeoutHandler: Sendable {}
