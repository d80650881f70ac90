import GatewayCore
import Logging
import NIOCore

/// Closes a connection whose writes stop draining: the channel turned unwritable (more
/// than NIO's high watermark, 64 KiB, waits beyond what the kernel took) and did not drain
/// below the low watermark within `limit`.
///
/// A client that stops reading an answer otherwise pins it, and the buffers behind it,
/// for as long as the TCP connection lives. The check costs nothing while a connection
/// keeps up: the timer exists only while the channel is unwritable.
final class WriteStallHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limit: TimeAmount
    private let metrics: GatewayMetrics
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount, metrics: GatewayMetrics, logger: Logger) {
        self.limit = limit
        self.metrics = metrics
        self.logger = logger
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            cancelTimer()
        } else if timer == nil {
            timer = context.eventLoop.assumeIsolated().scheduleTask(in: limit) {
                self.timer = nil
                self.metrics.httpConnectionTimedOut(.writeStall)
                self.logger.debug("connection timed out", metadata: ["connection.deadline": "write_stall"])
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension WriteStallHandler: Sendable {}
