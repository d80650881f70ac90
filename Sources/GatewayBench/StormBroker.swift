import NIOCore
import NIOHTTP1

/// The pub/sub broker of a storm, as the servers see it: one retained, ordered stream of
/// events, delivered to each server in order over one keep-alive connection with one
/// request in flight (Redis `concurrency: "1"`). A server attached later (a new pod, a new
/// consumer group) first receives the whole history, oldest first, then the live events.
///
/// Lives on one event loop (in a `NIOLoopBound`); nothing here locks.
final class StormBroker {
    /// The bodies published so far; index = sequence number. Bounded by the run's event count.
    private var history: [ByteBuffer] = []
    private var targets: [StormDelivery] = []
    /// Per sequence: deliveries still unanswered that decide whether it counts as accepted.
    private var outstanding: [Int] = []
    private var failedSequences = SequenceSet()
    private let request: PublishRequest
    /// Events every server that got them acknowledged.
    private(set) var accepted = SequenceSet()
    /// Deliveries that were not acknowledged, by status (0: connection lost).
    private(set) var refused: [Int: Int] = [:]
    /// History deliveries to a server attached later that were not acknowledged.
    private(set) var historyRefused = 0

    /// A broker whose bodies are rendered by `request` (its `{seq}`, `{t}`, `{time}`, `{run}`).
    init(request: PublishRequest) {
        self.request = request
    }

    /// Events published so far.
    var published: Int { history.count }

    /// Whether every delivery was answered.
    var isIdle: Bool { targets.allSatisfy(\.isIdle) }

    /// Adds a server; a late one (`replayHistory`) first gets every event published so far.
    func attach(_ target: StormDelivery, replayHistory: Bool) {
        targets.append(target)
        guard replayHistory else { return }
        for (sequence, body) in history.enumerated() { target.enqueue(sequence, body: body, counted: false) }
    }

    /// Publishes the next event to every server.
    func publish(allocator: ByteBufferAllocator) {
        let sequence = history.count
        let text = request.body(sequence: sequence, sentAt: MonotonicClock.now(), user: "")
        var body = allocator.buffer(capacity: text.utf8.count)
        body.writeString(text)
        history.append(body)
        outstanding.append(targets.count)
        for target in targets { target.enqueue(sequence, body: body, counted: true) }
    }

    /// A server answered the delivery of `sequence`.
    func answered(_ sequence: Int, status: Int, acknowledged: Bool, counted: Bool) {
        guard counted else {
            if !acknowledged { historyRefused += 1 }
            return
        }
        if !acknowledged {
            refused[status, default: 0] += 1
            failedSequences.insert(sequence)
        }
        guard outstanding.indices.contains(sequence) else { return }
        outstanding[sequence] -= 1
        if outstanding[sequence] == 0, !failedSequences.contains(sequence) { accepted.insert(sequence) }
    }

    /// Closes the delivery connections.
    func close() {
        for target in targets { target.close() }
    }
}

/// One server's delivery connection: a FIFO of events, one POST in flight.
final class StormDelivery: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: PublishRequest
    private var queue = CircularBuffer<(sequence: Int, body: ByteBuffer, counted: Bool)>()
    private var current: (sequence: Int, counted: Bool)?
    private var answer = PublishAnswer()
    private var context: ChannelHandlerContext?
    /// Who learns the answers; set once attached.
    var broker: StormBroker?

    /// A delivery connection that POSTs as `request` says (its URL, content type, headers).
    init(request: PublishRequest) {
        self.request = request
    }

    /// Whether nothing is queued or in flight.
    var isIdle: Bool { queue.isEmpty && current == nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Queues one event; sends it at once when the connection is free.
    func enqueue(_ sequence: Int, body: ByteBuffer, counted: Bool) {
        queue.append((sequence, body, counted))
        sendNext()
    }

    /// Closes the connection at the end of the run.
    func close() {
        context?.close(promise: nil)
    }

    private func sendNext() {
        guard current == nil, !queue.isEmpty else { return }
        let next = queue.removeFirst()
        guard let context, context.channel.isActive else {
            broker?.answered(next.sequence, status: 0, acknowledged: false, counted: next.counted)
            sendNext()
            return
        }
        current = (next.sequence, next.counted)
        let head = request.head(sequence: next.sequence, user: "", contentLength: next.body.readableBytes)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(next.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let (status, acknowledged) = answer.read(unwrapInboundIn(data)), let current else { return }
        self.current = nil
        broker?.answered(current.sequence, status: status, acknowledged: acknowledged, counted: current.counted)
        sendNext()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let current {
            self.current = nil
            broker?.answered(current.sequence, status: 0, acknowledged: false, counted: current.counted)
        }
        while !queue.isEmpty {
            let next = queue.removeFirst()
            broker?.answered(next.sequence, status: 0, acknowledged: false, counted: next.counted)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
