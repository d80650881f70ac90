import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A plain TCP connection to the gateway, for what an HTTP client would hide: the exact
/// bytes of an HTTP/1.0 exchange, pipelined requests, how the connection ends, and clients
/// that misbehave on purpose (a head a byte at a time, a body that never ends, a socket
/// that is never read).
final class RawConnection: Sendable {
    private let channel: any Channel
    private let inbox: Received

    /// Connects to `host:port`; `reading: false` leaves every answer unread, with a 4 KiB
    /// receive buffer (loopback's autotuning would otherwise take up to 32 MB of it), so
    /// the server's writes stop as they would to a client that stopped reading.
    static func open(host: String = "127.0.0.1", port: Int, reading: Bool = true) async throws -> RawConnection {
        let inbox = Received()
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: reading)
        if !reading { bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: 4096) }
        let channel =
            try await bootstrap
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: inbox))
                }
            }
            .connect(host: host, port: port).get()
        return RawConnection(channel: channel, inbox: inbox)
    }

    private init(channel: any Channel, inbox: Received) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Sends `text` as it is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Everything received so far once `condition` holds for it, or `nil` after `timeout`.
    func read(timeout: Duration = .seconds(5), until condition: @escaping @Sendable (String) -> Bool) async -> String? {
        await inbox.wait(timeout: timeout) { text, _ in condition(text) ? text : nil }
    }

    /// Everything received once the server closed the connection, or `nil` after `timeout`.
    func readToEnd(timeout: Duration = .seconds(5)) async -> String? {
        await inbox.wait(timeout: timeout) { text, ended in ended ? text : nil }
    }

    /// On a connection opened with `reading: false`: reads once, as soon as bytes arrive
    /// (a few KiB at most), and then stops again.
    func readOnce() {
        channel.read()
    }

    /// Everything received so far.
    var received: String {
        inbox.text
    }

    /// Whether the server closed the connection within `timeout` (it is then closed here too).
    func closedByServer(within timeout: Duration) async -> Bool {
        guard await readToEnd(timeout: timeout) != nil else { return false }
        await close()
        return true
    }

    /// Whether the received bytes contain `text` within `timeout`; `false` as soon as the
    /// server closed the connection without sending it.
    func receive(_ text: String, within timeout: Duration) async -> Bool {
        let found = await inbox.wait(timeout: timeout) { received, ended in
            received.contains(text) ? true : (ended ? false : nil)
        }
        return found == true
    }

    /// Closes the connection the way a browser does when a tab goes away: a FIN.
    func close() async {
        try? await channel.close()
    }

    /// Aborts the connection with a reset (`SO_LINGER` zero), as a crashed client or a
    /// middlebox does.
    func reset() async {
        try? await (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        try? await channel.close()
    }

    /// The bytes seen so far, and their waiters.
    private final class Received: Sendable {
        private struct State {
            var bytes: [UInt8] = []
            var ended = false
            var version = 0
            var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
            var nextWaiter = 0
        }
        private let state = NIOLockedValueBox(State())

        var text: String { state.withLockedValue { String(decoding: $0.bytes, as: UTF8.self) } }

        func append(_ buffer: ByteBuffer) { update { $0.bytes += buffer.readableBytesView } }
        func end() { update { $0.ended = true } }

        private func update(_ change: (inout State) -> Void) {
            let waiters = state.withLockedValue { state in
                change(&state)
                state.version += 1
                defer { state.waiters.removeAll() }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        func wait<Value: Sendable>(
            timeout: Duration,
            _ take: @escaping @Sendable (String, Bool) -> Value?
        ) async -> Value? {
            let deadline = ContinuousClock.now + timeout
            while true {
                let (value, seen) = state.withLockedValue { state in
                    (take(String(decoding: state.bytes, as: UTF8.self), state.ended), state.version)
                }
                if let value { return value }
                let remaining = deadline - .now
                guard remaining > .zero else { return nil }
                let waiter = state.withLockedValue { state -> Int in
                    state.nextWaiter += 1
                    return state.nextWaiter
                }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                            let ready = self.state.withLockedValue { state -> Bool in
                                if state.version != seen { return true }
                                state.waiters[waiter] = continuation
                                return false
                            }
                            if ready { continuation.resume() }
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: remaining)
                        self.state.withLockedValue { $0.waiters.removeValue(forKey: waiter) }?.resume()
                    }
                    await group.next()
                    group.cancelAll()
                    self.state.withLockedValue { $0.waiters.removeValue(forKey: waiter) }?.resume()
                }
            }
        }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        private let received: Received

        init(received: Received) { self.received = received }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(unwrapInboundIn(data))
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed { received.end() }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.end()
        }
    }
}
