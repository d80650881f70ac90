import NIOCore
import NIOHTTP1

/// One SSE connection: sends the GET, then reads the stream's lines and records each
/// bench event (`"seq"`, `"t"`, `"studentId"`) in its loop's tally.
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let tally: SubscriberTally
    private let routing: Routing
    private let user: [UInt8]
    /// The connection's user (`s-<i>`).
    let userName: String
    private let handshake: EventLoopPromise<Bool>
    private let readyOnHead: Bool
    private var scanner = SSELineScanner()
    private var handshakeDone = false
    /// Whether the stream's first body bytes arrived.
    private(set) var isReady = false
    private var inErrorEvent = false
    /// Sequence numbers this stream received (broadcast only).
    private(set) var received = SequenceSet()
    /// Whether this stream was ready when publishing began, so it should get every event.
    var expecting = false
    private(set) var context: ChannelHandlerContext?

    var oversizedLines: Int { scanner.oversizedLines }

    init(
        request: HTTPRequestHead,
        tally: SubscriberTally,
        routing: Routing,
        user: String,
        handshake: EventLoopPromise<Bool>,
        readyOnHead: Bool
    ) {
        self.readyOnHead = readyOnHead
        self.request = request
        self.tally = tally
        self.routing = routing
        self.user = Array(user.utf8)
        self.userName = user
        self.handshake = handshake
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status == .ok {
                tally.established += 1
                if readyOnHead { markReady() }
            } else {
                tally.rejected[Int(head.status.code), default: 0] += 1
                finishHandshake(false)
                context.close(promise: nil)
            }
        case .body(let buffer):
            markReady()
            // One clock read per read, not per line: the lines of one read arrived together.
            let now = MonotonicClock.now()
            scanner.scan(buffer) { line in handle(line, now: now) }
        case .end:
            // Counted once, in channelInactive.
            finishHandshake(false)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isReady, !tally.closing { tally.closedByServer += 1 }
        finishHandshake(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !tally.closing { tally.errors[String(describing: error), default: 0] += 1 }
        finishHandshake(false)
        context.close(promise: nil)
    }

    private func markReady() {
        guard !isReady else { return }
        isReady = true
        tally.ready += 1
        finishHandshake(true)
    }

    /// Tells the connecting task how the handshake ended (first body bytes, or not).
    func finishHandshake(_ ready: Bool) {
        guard !handshakeDone else { return }
        handshakeDone = true
        handshake.succeed(ready)
    }

    private func handle(_ line: UnsafeRawBufferPointer, now: UInt64) {
        if line.isEmpty {
            inErrorEvent = false
            return
        }
        if SSEFields.hasPrefix(line, "data:") {
            if inErrorEvent { return }
            guard let sequence = SSEFields.integer(after: SSEFields.sequenceKey, in: line),
                let index = Int(exactly: sequence)
            else { return }
            let sentAt = SSEFields.integer(after: SSEFields.timestampKey, in: line)
            switch routing {
            case .broadcast:
                let first = received.insert(index)
                tally.record(sequence: index, sentAt: sentAt, now: now, duplicate: !first)
            case .perUser:
                if let student = SSEFields.string(after: SSEFields.studentKey, in: line),
                    !student.elementsEqual(user)
                {
                    tally.misrouted += 1
                }
                _ = tally.countArrival(index)
                tally.record(sequence: index, sentAt: sentAt, now: now, duplicate: false)
            }
        } else if line.first == UInt8(ascii: ":") {
            if SSEFields.hasPrefix(line, ": heartbeat") { tally.heartbeats += 1 }
        } else if SSEFields.hasPrefix(line, "event: error") || SSEFields.hasPrefix(line, "event:error") {
            inErrorEvent = true
            tally.errorFrames += 1
        }
    }
}
