import NIOCore
import NIOHTTP1

/// One keep-alive publishing connection: one request in flight; when the answer arrives
/// it takes the next sequence number from the shared schedule.
final class PublisherHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let schedule: PublishSchedule
    private let request: PublishRequest
    private let users: [String]
    /// Events per request: 1 sends single deliveries, more a Dapr bulk body each.
    private let bulkSize: Int
    private var generator = SystemRandomNumberGenerator()
    private var context: ChannelHandlerContext?
    private var current: (sequences: Range<Int>, sentAt: UInt64)?
    private var status = 0
    private var answer = ByteBuffer()
    private var waiting = false

    init(schedule: PublishSchedule, request: PublishRequest, users: [String], bulkSize: Int = 1) {
        self.schedule = schedule
        self.request = request
        self.users = users
        self.bulkSize = max(1, bulkSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Starts (or resumes) sending; called by the runner at the start of each phase.
    func kick() {
        guard current == nil, !waiting else { return }
        sendNext()
    }

    private func sendNext() {
        guard let context, context.channel.isActive else {
            schedule.idle()
            return
        }
        let now = MonotonicClock.now()
        var count = 0
        switch schedule.nextBatch(now: now, maximum: bulkSize, count: &count) {
        case .done:
            schedule.idle()
        case .wait(let until):
            waiting = true
            let delay = TimeAmount.nanoseconds(Int64(until - now))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.waiting = false
                self.sendNext()
            }
        case .send(let first):
            let sentAt = MonotonicClock.now()
            let sequences = first..<first + count
            current = (sequences, sentAt)
            status = 0
            answer.clear()
            let chosen = sequences.map { _ in
                users.isEmpty ? "" : users[Int.random(in: 0..<users.count, using: &generator)]
            }
            let (head, body) =
                bulkSize > 1
                ? request.renderBulk(
                    sequences: sequences,
                    sentAt: sentAt,
                    users: chosen,
                    allocator: context.channel.allocator
                )
                : request.render(sequence: first, sentAt: sentAt, user: chosen[0], allocator: context.channel.allocator)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    /// Closes the connection at the end of the run.
    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var buffer):
            // Enough of the answer to see a Dapr status (a bulk answer has one per entry,
            // about 40 bytes each); the rest is not needed.
            if answer.readableBytes < 256 + 64 * bulkSize { answer.writeBuffer(&buffer) }
        case .end:
            guard let current else { return }
            self.current = nil
            let text = answer.getString(at: answer.readerIndex, length: answer.readableBytes) ?? ""
            let ok = (200..<300).contains(status)
            let acknowledged: [Bool] =
                bulkSize > 1
                ? BulkAnswer.acknowledged(text, entries: current.sequences.count).map { $0 && ok }
                : [ok && !text.contains("RETRY") && !text.contains("DROP")]
            let latency = MonotonicClock.now() - current.sentAt
            for (sequence, acknowledged) in zip(current.sequences, acknowledged) {
                schedule.answered(sequence, status: status, acknowledged: acknowledged, latency: latency)
            }
            sendNext()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let current {
            self.current = nil
            for sequence in current.sequences {
                schedule.answered(sequence, status: 0, acknowledged: false, latency: 0)
            }
        }
        schedule.idle()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Reads a Dapr bulk answer, `{"statuses":[{"entryId":"0","status":"SUCCESS"},…]}`.
enum BulkAnswer {
    /// Whether each of `entries` entries (entry ids `"0"`, `"1"`, … as the bench sends them)
    /// was answered `SUCCESS`; an entry missing from the answer was not (daprd retries it).
    static func acknowledged(_ text: String, entries: Int) -> [Bool] {
        var result = [Bool](repeating: false, count: entries)
        var rest = Substring(text)
        while let entry = rest.range(of: #""entryId":""#) {
            rest = rest[entry.upperBound...]
            guard let close = rest.firstIndex(of: "\""), let index = Int(rest[..<close]) else { continue }
            rest = rest[close...]
            guard let status = rest.range(of: #""status":""#) else { break }
            rest = rest[status.upperBound...]
            if index >= 0, index < entries, rest.hasPrefix("SUCCESS\"") { result[index] = true }
        }
        return result
    }
}
