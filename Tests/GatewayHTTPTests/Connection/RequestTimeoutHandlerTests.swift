import GatewayCore
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayHTTP

/// The handler on an embedded channel whose clock the test moves: each deadline closes
/// the connection exactly when it passes, never earlier.
@Suite struct RequestTimeoutHandlerTests {
    static let limits = RequestReadDeadline.Limits(idle: .seconds(75), header: .seconds(10), body: .seconds(30))

    static func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        let handler = RequestTimeoutHandler(
            limits: limits,
            metrics: .discarding(topics: []),
            logger: Logger(label: "test")
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    static let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/healthz")

    @Test func anIdleConnectionIsClosedWhenTheIdleTimeoutPasses() throws {
        let channel = try Self.connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(74))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aHeadSentAByteAtATimeIsAnsweredWith408AndClosedAtTheHeaderDeadline() throws {
        let channel = try Self.connection()
        for _ in 0..<9 {
            channel.pipeline.fireUserInboundEventTriggered(RequestBytesObserver.BytesArrived())
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        #expect(channel.isActive, "9 s into the head: still within 10 s, although each byte came a second apart")
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let head = try channel.readOutbound(as: HTTPServerResponsePart.self)
        guard case .head(let response) = head else {
            Issue.record("expected a response head, got \(String(describing: head))")
            return
        }
        #expect(response.status == .requestTimeout)
        #expect(response.headers["connection"] == ["close"])
        #expect(!channel.isActive)
    }

    @Test func aBodyThatStopsComingIsClosedAtTheBodyDeadline() throws {
        let channel = try Self.connection()
        channel.pipeline.fireUserInboundEventTriggered(RequestBytesObserver.BytesArrived())
        try channel.writeInbound(HTTPServerRequestPart.head(Self.head))
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "part")))
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aLongResponseSuchAsAStreamIsNeverTimedOut() throws {
        let channel = try Self.connection()
        channel.pipeline.fireUserInboundEventTriggered(RequestBytesObserver.BytesArrived())
        try channel.writeInbound(HTTPServerRequestPart.head(Self.head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        let response = HTTPResponseHead(version: .http1_1, status: .ok)
        try channel.writeOutbound(HTTPServerResponsePart.head(response))
        channel.embeddedEventLoop.advanceTime(by: .hours(2))
        #expect(channel.isActive)
        // Once the response ends, the connection is idle again, from that moment.
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(74))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aRequestInTimeKeepsTheConnectionOpen() throws {
        let channel = try Self.connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(70))
        channel.pipeline.fireUserInboundEventTriggered(RequestBytesObserver.BytesArrived())
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try channel.writeInbound(HTTPServerRequestPart.head(Self.head))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(try channel.readInbound(as: HTTPServerRequestPart.self) != nil, "parts are passed on")
    }
}

@Suite struct ConnectionCapTests {
    @Test func stopsAcceptingAtTheLimitAndStartsAgainWhenOneCloses() {
        var cap = ConnectionCap(limit: 3, metrics: .discarding(topics: []), logger: Logger(label: "test"))
        for _ in 0..<3 {
            #expect(cap.isAcceptingNewConnections())
            cap.connectionOpened()
        }
        #expect(!cap.isAcceptingNewConnections())
        cap.connectionClosed()
        #expect(cap.isAcceptingNewConnections())
    }

    @Test func theCapSitsTheReserveBelowTheDescriptorLimit() {
        let limit = DescriptorLimit(current: 256, maximum: 256)
        #expect(limit.connectionCap(reserve: 128) == 128)
        #expect(limit.connectionCap(reserve: 250) == nil, "fewer than 16 connections left")
    }
}
