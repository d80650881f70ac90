import NIOCore

/// Sits in front of the HTTP/1 decoder and tells the handlers behind it that bytes arrived,
/// which the decoder does not: a request whose head is still incomplete produces no part,
/// and `RequestTimeoutHandler` needs its first byte to start the header deadline.
final class RequestBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// The user event fired ahead of each read passed on.
    struct BytesArrived: Sendable {}

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Fired first, so the handlers behind the decoder see it before any part decoded from these bytes.
        context.fireUserInboundEventTriggered(BytesArrived())
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension RequestBytesObserver: Sendable {}
