import GatewayCore
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayHTTP

/// The pipeline `GatewayChildChannel` builds, on an embedded channel whose clock the test
/// moves: the connection guards are on every connection, and leave with the HTTP handlers
/// when a stream takes the connection over.
@Suite struct GatewayChildChannelTests {
    static let rules = TopicRule.learningPlatformDefaults()
    let settings: GatewaySettings
    let hub = Hub(topics: Self.rules)
    let metrics = GatewayMetrics.discarding(topics: Self.rules.map(\.topic))
    let logger = Logger(label: "test")

    init() {
        var settings = GatewaySettings()
        settings.connections.idleTimeout = .seconds(75)
        self.settings = settings
    }

    /// A connection as Hummingbird hands it over: accepted, then set up.
    private func connection() throws -> (EmbeddedChannel, GatewayConnection) {
        let keyRing = KeyRing(fixedKeys: [], jwksURL: nil, minimumRefreshInterval: .seconds(30), logger: logger)
        let verifier = TokenVerifier(settings: settings.authentication, keyRing: keyRing, rules: Self.rules)
        let streams = StreamRoutes(
            settings: settings,
            hub: hub,
            authenticator: Authenticator(settings: settings.authentication, verifier: verifier, metrics: metrics),
            metrics: metrics,
            serverName: nil,
            cors: CORSPolicy(allowedOrigins: []),
            logger: logger
        )
        let childChannel = GatewayChildChannel(
            responder: { _, _, _ in },
            configuration: .init(),
            streams: streams,
            guards: ConnectionGuards(settings: settings, metrics: metrics, logger: logger)
        )
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let connection = try childChannel.setup(channel: channel, logger: logger).wait()
        return (channel, connection)
    }

    @Test func aConnectionThatSendsNothingIsClosedAtTheIdleTimeout() throws {
        let (channel, _) = try connection()
        channel.embeddedEventLoop.advanceTime(by: .seconds(74))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func aConnectionThatBecomesAStreamKeepsOnlyTheStreamHandlerAndNoReadDeadline() throws {
        let (channel, connection) = try connection()
        try channel.writeInbound(
            ByteBuffer(string: "GET /events/stream?topics=student.progress HTTP/1.1\r\nHost: gateway\r\n\r\n")
        )
        guard case .stream(let request) = try connection.first.wait() else {
            Issue.record("the stream request was not held for the stream path")
            return
        }
        let principal = Principal(
            subject: "s-1",
            roles: ["student"],
            grants: ["sub": ["s-1"]],
            expiresAt: 4_102_444_800
        )
        let scope = try StreamScope(
            principal: principal,
            rules: Self.rules,
            requestedTopics: ["student.progress"],
            filters: StreamFilters()
        )
        let subscription = try hub.subscribe(scope: scope, resumeFrom: .none, wake: StreamHandler.wakeUp(channel))
        let handler = StreamHandler(
            subscription: subscription,
            hub: hub,
            output: StreamOutput(
                start: subscription.start,
                framing: .chunked,
                settings: StreamOutput.Settings(settings: settings, metrics: metrics, logger: logger)
            ),
            writeTimeout: settings.writeTimeout
        )
        try request.router.value.startStream(head: HTTPResponseHead(version: .http1_1, status: .ok), handler: handler)
        // NIO's decoder leaves the pipeline on the next turn of the event loop.
        channel.embeddedEventLoop.run()

        let pipeline = channel.pipeline.syncOperations
        #expect(try pipeline.handler(type: StreamHandler.self) === handler)
        // The guards, NIO's codec and the HTTP handlers are gone: an idle stream costs one handler.
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: WriteTimeoutHandler.self) }
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: RequestBytesObserver.self) }
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: RequestTimeoutHandler.self) }
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: HTTPResponseEncoder.self) }
        #expect(throws: ChannelPipelineError.notFound) {
            try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        }
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: RequestVersionTap.self) }
        #expect(throws: ChannelPipelineError.notFound) { try pipeline.handler(type: ConnectionRouter.self) }

        // Far past every read deadline (idle 75 s, head 10 s, body 30 s): the stream is still open.
        channel.embeddedEventLoop.advanceTime(by: .seconds(3600))
        #expect(channel.isActive)
        #expect(hub.subscriberCount == 1)
        _ = try channel.finish()
        #expect(hub.subscriberCount == 0)
    }
}
