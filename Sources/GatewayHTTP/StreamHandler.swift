import GatewayCore
import NIOCore

/// An established SSE stream, served on its connection's event loop without a task of its
/// own: the subscriber wakes it, it writes what is queued with one flush, and it sleeps.
///
/// `StreamRoutes` adds it once the request is authenticated and admitted and the response
/// head is written. By then every HTTP handler has left the pipeline, so it writes body
/// bytes framed by itself (`BodyFraming`). The subscription's scope is this handler's life
/// in the pipeline: it opens in `handlerAdded` and ends in `handlerRemoved` (or earlier,
/// when the client is seen to go), which NIO calls once, whatever ends the channel.
///
/// What it reacts to, all on the event loop:
/// - being added: the opening frames, then the replay in byte-capped chunks while the
///   channel stays writable, then the live frames;
/// - `Wake`, sent through the pipeline by the subscriber: takes the queued batch and writes
///   it with one flush. While the channel is not writable it leaves frames queued (they
///   fill the bounded queue, and a full queue evicts) and takes only a close;
/// - writability coming back: resumes the replay or the live frames;
/// - the end of input (a FIN) or an error (a reset): the subscription ends at once, so
///   the user's stream count and the gauges are exact before the next request arrives;
/// - the server's quiesce event (after the drain): ends the stream now;
/// - a write-progress check: bytes that stay in the channel's buffer without one of them
///   leaving for `writeTimeout` end the stream as `slow_consumer` (`WriteProgress`).
final class StreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The event the subscriber sends through the pipeline when it has work waiting.
    struct Wake: Sendable {}

    /// The subscriber's `wake` for a stream on `channel`: called from whichever thread
    /// queued the frame, it costs one event-loop task per batch and never waits. The
    /// handler ignores it once the stream is over.
    static func wakeUp(_ channel: any Channel) -> @Sendable () -> Void {
        {
            channel.eventLoop.execute {
                channel.pipeline.syncOperations.fireUserInboundEventTriggered(Wake())
            }
        }
    }

    private enum Phase {
        /// Writing the replay; live frames wait in the subscriber's queue.
        case replaying
        /// Writing live batches as they are queued.
        case live
        /// The last batch is written; the connection closes once it is flushed out.
        case ending
        /// The subscription is over.
        case ended
    }

    private var phase = Phase.replaying
    private let hub: Hub
    private let subscriber: Subscriber
    private let historyGap: Bool
    private var replay: ArraySlice<EventFrame>
    private var output: StreamOutput
    private let writeTimeout: TimeAmount
    private var progress = WriteProgress()
    private var progressCheck: Scheduled<Void>?
    private var subscribed = true

    /// A handler for `subscription`, which `hub` made with a `wake` that fires `Wake` on
    /// this handler's pipeline. It owns the subscription from now on.
    init(subscription: Subscription, hub: Hub, output: StreamOutput, writeTimeout: Duration) {
        self.hub = hub
        self.subscriber = subscription.subscriber
        self.historyGap = subscription.historyGap
        self.replay = subscription.replay[...]
        self.output = output
        self.writeTimeout = TimeAmount(writeTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        output.settings.metrics.streamOpened()
        send(output.opening(scope: subscriber.scope, historyGap: historyGap), context: context)
        writeReplay(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        phase = .ended
        progressCheck?.cancel()
        progressCheck = nil
        endSubscription(.clientGone)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A stream reads nothing after its request; whatever a client sends is dropped.
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            switch phase {
            case .replaying: writeReplay(context: context)
            case .live: takeWaiting(context: context)
            case .ending, .ended: break
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is Wake:
            takeWaiting(context: context)
        case ChannelEvent.inputClosed:
            clientGone(context: context)
        case is ChannelShouldQuiesceEvent:
            // The server stops after the drain; a stream still open now cannot be written to.
            phase = .ended
            subscriber.close(.shuttingDown)
            context.close(promise: nil)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset, or a failed write: the client is gone either way.
        clientGone(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .ended
        endSubscription(.clientGone)
        context.fireChannelInactive()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // On a connection Hummingbird served before, its finished request loop may still
        // ask, from behind this handler, to half-close the output; a stream's output ends
        // only with the stream.
        guard mode != .output else {
            promise?.succeed()
            return
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: Writing

    /// Replay chunks while the channel is writable; live frames once the replay is out.
    private func writeReplay(context: ChannelHandlerContext) {
        while phase == .replaying {
            if replay.isEmpty {
                replay = []
                phase = .live
                break
            }
            guard context.channel.isWritable else { break }
            let chunk = output.replayChunk(&replay)
            send(chunk.bytes, context: context)
            output.replayed(chunk.frames)
        }
        flushAndWatch(context: context)
        if phase == .live { takeWaiting(context: context) }
    }

    /// Writes what the subscriber has queued, with one flush.
    private func takeWaiting(context: ChannelHandlerContext) {
        guard phase == .live else { return }
        guard let batch = subscriber.takeBatch(includingFrames: context.channel.isWritable) else { return }
        let bytes = output.encode(batch)
        if bytes.readableBytes > 0 { send(bytes, context: context) }
        output.written(batch)
        if batch.closeReason != nil {
            end(context: context)
        } else {
            flushAndWatch(context: context)
        }
    }

    /// The stream ends on purpose: the end of the body, then the connection closes once
    /// everything before it is flushed out (or the write-progress check gives up on it).
    private func end(context: ChannelHandlerContext) {
        phase = .ending
        let end = output.framing.end
        progress.wrote(end.readableBytes)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(end), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        watchProgress(context: context)
    }

    private func send(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        progress.wrote(bytes.readableBytes)
        context.write(wrapOutboundOut(bytes), promise: nil)
    }

    private func flushAndWatch(context: ChannelHandlerContext) {
        context.flush()
        watchProgress(context: context)
    }

    // MARK: Ending

    /// The client closed its side or the connection failed: the subscription ends now.
    private func clientGone(context: ChannelHandlerContext) {
        phase = .ended
        endSubscription(.clientGone)
        context.close(promise: nil)
    }

    /// Leaves the hub and counts the stream as closed, once. The first reason recorded
    /// by the subscriber wins (a stream ended on purpose stays `token_expired`, say).
    private func endSubscription(_ reason: CloseReason) {
        guard subscribed else { return }
        subscribed = false
        subscriber.close(reason)
        hub.unsubscribe(subscriber)
        output.settings.metrics.streamClosed(subscriber.closeReason ?? reason)
    }

    // MARK: Write progress

    private func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    private func watchProgress(context: ChannelHandlerContext) {
        guard progress.startWatching(buffered: bufferedBytes(context)) else { return }
        scheduleProgressCheck(context: context)
    }

    private func scheduleProgressCheck(context: ChannelHandlerContext) {
        progressCheck = context.eventLoop.assumeIsolated().scheduleTask(in: writeTimeout) {
            self.progressCheck = nil
            switch self.progress.check(buffered: self.bufferedBytes(context)) {
            case .drained:
                break
            case .moving:
                self.scheduleProgressCheck(context: context)
            case .stalled:
                self.phase = .ended
                self.endSubscription(.slowConsumer)
                context.close(promise: nil)
            }
        }
    }
}
