import NIOCore
import NIOHTTP1

/// One browser of a reconnect storm: the same user on its first connection and on its
/// reconnection, with what it received over both. Only its event loop touches it.
final class StormClient {
    /// Which of its two connections a stream is.
    enum Leg: Sendable {
        /// To the first server.
        case first
        /// To the fresh server, with `Last-Event-ID`.
        case second
    }

    /// The connection's index (its user is `userPrefix` + index).
    let index: Int
    /// Event sequence numbers received over both connections.
    private(set) var received = SequenceSet()
    /// Events received again.
    private(set) var duplicates = 0
    /// `event: reset` frames (the server could not resume the position).
    private(set) var resets = 0
    /// `event: error` frames.
    private(set) var errorFrames = 0
    /// The `id:` of the last dispatched event: what the browser sends as `Last-Event-ID`.
    private(set) var lastEventID: [UInt8]?
    /// Whether the first connection's stream opened (its first body bytes arrived).
    var openedFirst = false
    /// The first connection, closed by the bench when the client moves.
    var firstChannel: (any Channel)?
    /// Set before the bench closes the first connection, so that close is not counted.
    var moving = false
    /// When the reconnect request was sent, and when its stream opened (monotonic ns; 0: not yet).
    var reconnectSentAt: UInt64 = 0
    /// See `reconnectSentAt`.
    var reopenedAt: UInt64 = 0
    /// When the fresh server answered the reconnect with 200 (its token verified).
    var admittedAt: UInt64 = 0
    /// The fresh server's status for the reconnect, 0 before an answer.
    var reconnectStatus = 0
    /// Whether the reconnect failed (refused, no connection, closed before opening).
    var reconnectFailed = false
    /// Streams the server ended while the bench still held them.
    var closedByServer = 0

    private var pendingID: [UInt8]?
    private var inErrorEvent = false

    init(index: Int) {
        self.index = index
    }

    /// Handles one SSE line of either connection.
    func handle(_ line: UnsafeRawBufferPointer) {
        if line.isEmpty {
            // Dispatch: the event's id becomes the stream's last event id.
            if let pendingID { lastEventID = pendingID }
            pendingID = nil
            inErrorEvent = false
        } else if SSEFields.hasPrefix(line, "id:") {
            var value = UnsafeRawBufferPointer(rebasing: line.dropFirst(3))
            if value.first == UInt8(ascii: " ") { value = UnsafeRawBufferPointer(rebasing: value.dropFirst()) }
            pendingID = Array(value)
        } else if SSEFields.hasPrefix(line, "data:") {
            guard !inErrorEvent, let sequence = SSEFields.integer(after: SSEFields.sequenceKey, in: line),
                let value = Int(exactly: sequence)
            else { return }
            if !received.insert(value) { duplicates += 1 }
        } else if SSEFields.hasPrefix(line, "event: reset") || SSEFields.hasPrefix(line, "event:reset") {
            resets += 1
        } else if SSEFields.hasPrefix(line, "event: error") || SSEFields.hasPrefix(line, "event:error") {
            inErrorEvent = true
            errorFrames += 1
        }
    }

    /// The `Last-Event-ID` header value, when the client has one.
    var lastEventIDHeader: String? {
        lastEventID.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Reads one storm connection: sends the GET, counts the answer, feeds the lines to its client.
final class StormStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let client: StormClient
    private let leg: StormClient.Leg
    private let request: HTTPRequestHead
    private let opened: EventLoopPromise<Bool>
    private var scanner = SSELineScanner()
    private var isOpen = false
    private var settled = false

    init(client: StormClient, leg: StormClient.Leg, request: HTTPRequestHead, opened: EventLoopPromise<Bool>) {
        self.client = client
        self.leg = leg
        self.request = request
        self.opened = opened
    }

    func channelActive(context: ChannelHandlerContext) {
        if leg == .second { client.reconnectSentAt = MonotonicClock.now() }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if leg == .second {
                client.reconnectStatus = Int(head.status.code)
                if head.status == .ok { client.admittedAt = MonotonicClock.now() }
            }
            if head.status != .ok {
                settle(false)
                context.close(promise: nil)
            }
        case .body(let buffer):
            if !isOpen {
                isOpen = true
                switch leg {
                case .first: client.openedFirst = true
                case .second: client.reopenedAt = MonotonicClock.now()
                }
                settle(true)
            }
            scanner.scan(buffer) { line in client.handle(line) }
        case .end:
            settle(false)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isOpen, !(leg == .first && client.moving) { client.closedByServer += 1 }
        settle(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settle(false)
        context.close(promise: nil)
    }

    /// Tells the connecting task once whether the stream opened.
    private func settle(_ success: Bool) {
        guard !settled else { return }
        settled = true
        if leg == .second, !success { client.reconnectFailed = true }
        opened.succeed(success)
    }
}
