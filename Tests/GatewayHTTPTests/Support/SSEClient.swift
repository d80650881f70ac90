import DequeModule
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// One parsed SSE event, or a comment line (heartbeats) as seen by a real client.
struct ReceivedEvent: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String
    var retry: Int?
    var comment: String?
    /// When the event was parsed off the socket (seconds since 1970), for latency checks.
    var receivedAt: Double = 0

    var isComment: Bool { comment != nil }
}

/// A small, real SSE client on SwiftNIO: one HTTP/1.1 GET, the response parsed as the
/// EventSource specification says (lines, fields, blank-line dispatch).
final class SSEClient: Sendable {
    let status: Int
    let headers: [(String, String)]
    private let channel: any Channel
    private let inbox: Inbox

    static func connect(
        port: Int,
        path: String,
        headers: [(String, String)] = [],
        timeout: Duration = .seconds(5)
    ) async throws -> SSEClient {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        head.headers.add(name: "Accept", value: "text/event-stream")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        guard let (status, responseHeaders) = await inbox.head(timeout: timeout) else {
            channel.close(promise: nil)
            throw ClientError.noResponse
        }
        // An error answer is a whole body; read all of it before anyone looks.
        if status != 200 { _ = await inbox.waitUntilFinished(timeout: timeout) }
        return SSEClient(status: status, headers: responseHeaders, channel: channel, inbox: inbox)
    }

    private init(status: Int, headers: [(String, String)], channel: any Channel, inbox: Inbox) {
        self.status = status
        self.headers = headers
        self.channel = channel
        self.inbox = inbox
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The next event or comment; `nil` when the stream ended or `timeout` passed.
    func next(timeout: Duration = .seconds(5)) async -> ReceivedEvent? {
        await inbox.next(timeout: timeout)
    }

    /// The next event that is not a comment.
    func nextEvent(timeout: Duration = .seconds(5)) async -> ReceivedEvent? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - .now
            guard remaining > .zero, let event = await next(timeout: remaining) else { return nil }
            if !event.isComment { return event }
        }
    }

    /// Events (not comments) until `count` arrived or `timeout` passed.
    func events(count: Int, timeout: Duration = .seconds(10)) async -> [ReceivedEvent] {
        let deadline = ContinuousClock.now + timeout
        var result: [ReceivedEvent] = []
        while result.count < count {
            let remaining = deadline - .now
            guard remaining > .zero, let event = await nextEvent(timeout: remaining) else { break }
            result.append(event)
        }
        return result
    }

    /// The whole body when the server answered without a stream (errors).
    var body: String { inbox.rawBody }

    /// Whether the server closed the connection.
    func waitUntilClosed(timeout: Duration = .seconds(5)) async -> Bool {
        await inbox.waitUntilFinished(timeout: timeout)
    }

    func close() {
        channel.close(promise: nil)
    }

    /// Aborts the connection with a reset (`SO_LINGER` zero) instead of a FIN.
    func reset() {
        let channel = self.channel
        guard let options = channel as? any SocketOptionProvider else { return close() }
        options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Stops reading the socket, like a client on a stalled network: the kernel's buffers
    /// fill and then the server's writes to this connection stop completing.
    func stopReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Reads the socket again, starting with whatever the kernel buffered meanwhile.
    func resumeReading() async throws {
        try await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
    }

    enum ClientError: Error { case noResponse }
}

/// Parsed events and their waiters, shared by the channel handler and the test task.
private final class Inbox: Sendable {
    private struct State {
        var head: (Int, [(String, String)])?
        var events: Deque<ReceivedEvent> = []
        var finished = false
        var raw: [UInt8] = []
        var pendingLine: [UInt8] = []
        var current = ReceivedEvent(id: nil, event: nil, data: "", retry: nil, comment: nil)
        var hasData = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var version: UInt64 = 0
    }
    private let state = NIOLockedValueBox(State())
    private static let rawLimit = 1 << 20

    func receive(head: Int, headers: [(String, String)]) {
        wake { $0.head = (head, headers) }
    }

    func receive(bytes: ByteBufferView) {
        wake { state in
            // Only error bodies are read whole; a long stream keeps just its start.
            if state.raw.count < Self.rawLimit {
                state.raw.append(contentsOf: bytes.prefix(Self.rawLimit - state.raw.count))
            }
            var rest = bytes[...]
            while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
                state.pendingLine.append(contentsOf: rest[..<newline])
                if state.pendingLine.last == UInt8(ascii: "\r") { state.pendingLine.removeLast() }
                Self.process(line: state.pendingLine, into: &state)
                state.pendingLine.removeAll(keepingCapacity: true)
                rest = rest[rest.index(after: newline)...]
            }
            state.pendingLine.append(contentsOf: rest)
        }
    }

    func finish() {
        wake { $0.finished = true }
    }

    private static func process(line bytes: [UInt8], into state: inout State) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.isEmpty {
            // As EventSource does: a block without data dispatches nothing; a `retry:` in it
            // still applies, so it is carried to the next event for the tests to see.
            if state.hasData {
                var event = state.current
                event.receivedAt = Date().timeIntervalSince1970
                state.events.append(event)
                state.current = ReceivedEvent(id: nil, event: nil, data: "", retry: nil, comment: nil)
            } else {
                state.current = ReceivedEvent(id: nil, event: nil, data: "", retry: state.current.retry, comment: nil)
            }
            state.hasData = false
            return
        }
        if line.hasPrefix(":") {
            let text = line.dropFirst().drop { $0 == " " }
            state.events.append(ReceivedEvent(id: nil, event: nil, data: "", retry: nil, comment: String(text)))
            return
        }
        let name: Substring
        var value: Substring
        if let colon = line.firstIndex(of: ":") {
            name = line[..<colon]
            value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            name = Substring(line)
            value = ""
        }
        switch name {
        case "id": state.current.id = String(value)
        case "event": state.current.event = String(value)
        case "retry": state.current.retry = Int(value)
        case "data":
            state.current.data += state.hasData ? "\n" + value : String(value)
            state.hasData = true
        default: break
        }
    }

    private func wake(_ update: (inout State) -> Void) {
        let waiters = state.withLockedValue { state in
            update(&state)
            state.version += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var rawBody: String { state.withLockedValue { String(decoding: $0.raw, as: UTF8.self) } }

    func head(timeout: Duration) async -> (Int, [(String, String)])? {
        await waitFor(timeout: timeout) { state in state.head.map { .some($0) } ?? (state.finished ? .some(nil) : nil) }
            ?? nil
    }

    func next(timeout: Duration) async -> ReceivedEvent? {
        await waitFor(timeout: timeout) { state in
            if let event = state.events.popFirst() { return .some(event) }
            return state.finished ? .some(nil) : nil
        } ?? nil
    }

    func waitUntilFinished(timeout: Duration) async -> Bool {
        await waitFor(timeout: timeout) { $0.finished ? true : nil } ?? false
    }

    /// Polls `take` whenever the state changes, until it yields a value or time runs out.
    private func waitFor<Value: Sendable>(
        timeout: Duration,
        _ take: (inout State) -> Value?
    ) async
        -> Value?
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (value, seen, id) = state.withLockedValue { state -> (Value?, UInt64, UInt64) in
                state.nextWaiter += 1
                return (take(&state), state.version, state.nextWaiter)
            }
            if let value { return value }
            let remaining = deadline - .now
            guard remaining > .zero else { return nil }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let ready = self.state.withLockedValue { state -> Bool in
                            if state.version != seen || state.finished { return true }
                            state.waiters[id] = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: remaining)
                    let waiter = self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                    waiter?.resume()
                }
                await group.next()
                group.cancelAll()
                let waiter = self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }
                waiter?.resume()
            }
        }
    }
}

private final class ResponseHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    private let inbox: Inbox

    init(inbox: Inbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            inbox.receive(head: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) })
        case .body(let buffer):
            inbox.receive(bytes: buffer.readableBytesView)
        case .end:
            inbox.finish()
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.finish()
    }
}
