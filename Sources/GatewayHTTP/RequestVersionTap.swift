import NIOCore
import NIOHTTP1

/// Notes the HTTP version of each request head on its way from NIO's decoder to the
/// HTTP-types codec, which drops it (its requests have no version): the stream answers an
/// HTTP/1.0 client with a body delimited by closing the connection instead of chunks.
final class RequestVersionTap: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    /// The version of the last request head that passed.
    private(set) var version: HTTPVersion = .http1_1

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { version = head.version }
        context.fireChannelRead(data)
    }
}
