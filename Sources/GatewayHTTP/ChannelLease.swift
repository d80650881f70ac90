import NIOConcurrencyHelpers
import NIOCore

/// A connection as Hummingbird sees it while it serves requests on it: the channel itself,
/// except that the gateway can take it back for a stream without closing it.
///
/// Hummingbird's request loop (`handleHTTP`) owns its channel for good: it ends by closing
/// it and waiting for the close. A stream request on a kept-alive connection (a browser
/// reuses its idle connections, an ingress keeps its upstream connections alive) must end
/// that loop and its task but keep the socket. Once `giveBack()` was called, this channel's
/// `closeFuture` has completed, so the loop's wait ends; its close calls still go to the
/// pipeline, where `ConnectionRouter` drops them. Everything else is forwarded.
final class ChannelLease: Channel {
    private let base: any Channel
    private let ended: EventLoopPromise<Void>
    private let isEnded = NIOLockedValueBox(false)

    /// Lends `base`; on its event loop.
    init(_ base: any Channel) {
        self.base = base
        self.ended = base.eventLoop.makePromise()
        base.closeFuture.whenComplete { [self] _ in end() }
    }

    /// Takes the connection back from Hummingbird: its `closeFuture` completes now.
    func giveBack() {
        end()
    }

    private func end() {
        let first = isEnded.withLockedValue { isEnded -> Bool in
            defer { isEnded = true }
            return !isEnded
        }
        if first { ended.succeed() }
    }

    var closeFuture: EventLoopFuture<Void> { ended.futureResult }

    var eventLoop: any EventLoop { base.eventLoop }
    var allocator: ByteBufferAllocator { base.allocator }
    var pipeline: ChannelPipeline { base.pipeline }
    var localAddress: SocketAddress? { base.localAddress }
    var remoteAddress: SocketAddress? { base.remoteAddress }
    var parent: (any Channel)? { base.parent }
    var isWritable: Bool { base.isWritable }
    var isActive: Bool { base.isActive }
    var _channelCore: any ChannelCore { base._channelCore }
    var syncOptions: (any NIOSynchronousChannelOptions)? { base.syncOptions }

    func setOption<Option: ChannelOption>(_ option: Option, value: Option.Value) -> EventLoopFuture<Void> {
        base.setOption(option, value: value)
    }

    func getOption<Option: ChannelOption>(_ option: Option) -> EventLoopFuture<Option.Value> {
        base.getOption(option)
    }
}
