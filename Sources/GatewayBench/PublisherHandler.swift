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
    private var generator = SystemRandomNumberGenerator()
    private var context: ChannelHandlerContext?
    private var current: (sequence: Int, sentAt: UInt64)?
    private var answer = PublishAnswer()
    private var waiting = false

    init(schedule: PublishSchedule, request: PublishRequest, users: [String]) {
        self.schedule = schedule
        self.request = request
        self.users = users
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
        switch schedule.next(now: now) {
        case .done:
            schedule.idle()
        case .wait(let until):
            waiting = true
            let delay = TimeAmount.nanoseconds(Int64(until - now))
            context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.waiting = false
                self.sendNext()
            }
        case .send(let sequence):
            let user = users.isEmpty ? "" : users[Int.random(in: 0..<users.count, using: &generator)]
            let sentAt = MonotonicClock.now()
            current = (sequence, sentAt)
            let (head, body) = request.render(
                sequence: sequence,
                sentAt: sentAt,
                user: user,
                allocator: context.channel.allocator
            )
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
        guard let (status, acknowledged) = answer.read(unwrapInboundIn(data)), let current else { return }
        self.current = nil
        schedule.answered(
            current.sequence,
            status: status,
            acknowledged: acknowledged,
            latency: MonotonicClock.now() - current.sentAt
        )
        sendNext()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let current {
            self.current = nil
            schedule.answered(current.sequence, status: 0, acknowledged: false, latency: 0)
        }
        schedule.idle()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
