import GatewayCore
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import GatewayHTTP

/// A `StreamHandler` on an `EmbeddedChannel`: a real hub and subscription, no socket, the
/// event loop run by hand (`run()`), and the bytes the handler flushed read back
/// (`written()`). Only the flushed bytes reach the embedded channel's outbound buffer.
final class EmbeddedStream {
    let hub: Hub
    let channel: EmbeddedChannel
    let subscriber: Subscriber
    let registry = PrometheusCollectorRegistry()
    let framing: BodyFraming
    private var bytes: [UInt8] = []

    static let rules = TopicRule.learningPlatformDefaults()

    /// Opens a stream of student `subject` on `student.progress` (and the broadcast topic),
    /// resuming from `resume`. `prepare` runs on the hub first (to fill the replay log).
    init(
        subject: String = "s-1",
        expiresAt: Double = 4_102_444_800,
        resume: ResumeRequest = .none,
        framing: BodyFraming = .chunked,
        writable: Bool = true,
        adjust: (inout GatewaySettings) -> Void = { _ in },
        prepare: (Hub) -> Void = { _ in }
    ) throws {
        var settings = GatewaySettings()
        adjust(&settings)
        var configuration = Hub.Configuration()
        configuration.subscriberCapacity = settings.subscriberBufferFrames
        configuration.replay = settings.replay
        hub = Hub(topics: Self.rules, configuration: configuration)
        prepare(hub)
        channel = EmbeddedChannel()
        channel.isWritable = writable
        self.framing = framing
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        let principal = Principal(
            subject: subject,
            roles: ["student"],
            grants: ["sub": [subject]],
            expiresAt: expiresAt
        )
        let scope = try StreamScope(
            principal: principal,
            rules: Self.rules,
            requestedTopics: ["student.progress", "system.notifications"],
            filters: StreamFilters()
        )
        let subscription = try hub.subscribe(scope: scope, resumeFrom: resume, wake: StreamHandler.wakeUp(channel))
        subscriber = subscription.subscriber
        let metrics = GatewayMetrics(
            topics: Self.rules.map(\.topic),
            connectionLimit: 0,
            factory: PrometheusMetricsFactory(registry: registry)
        )
        let output = StreamOutput(
            start: subscription.start,
            framing: framing,
            settings: StreamOutput.Settings(settings: settings, metrics: metrics, logger: .init(label: "test"))
        )
        let handler = StreamHandler(
            subscription: subscription,
            hub: hub,
            output: output,
            writeTimeout: settings.writeTimeout
        )
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// Publishes a `student.progress` event for `student` with `padding` bytes of data.
    @discardableResult
    func publish(_ id: String, student: String = "s-1", padding: Int = 0) -> PublishOutcome {
        hub.publish(Self.event(id, student: student, padding: padding), topicIndex: 0)
    }

    static func event(_ id: String, student: String = "s-1", padding: Int = 0) -> CloudEvent {
        var data: [String: JSONValue] = ["studentId": .string(student)]
        if padding > 0 { data["pad"] = .string(String(repeating: "x", count: padding)) }
        return CloudEvent(id: id, source: "test", type: "test", data: .object(data))
    }

    /// Runs what was queued on the event loop (the subscriber's wake-ups).
    func run() {
        channel.embeddedEventLoop.run()
    }

    /// The buffers flushed since the last call, in order.
    func flushedBuffers() throws -> [ByteBuffer] {
        var buffers: [ByteBuffer] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { buffers.append(buffer) }
        return buffers
    }

    /// The body text flushed since the last call, with the chunked framing checked and removed.
    func written() throws -> String {
        try text(of: flushedBuffers())
    }

    /// The body text of `buffers`, with the chunked framing checked and removed.
    func text(of buffers: [ByteBuffer]) throws -> String {
        var text = ""
        for buffer in buffers {
            bytes += Array(buffer.readableBytesView)
        }
        switch framing {
        case .closeDelimited:
            text = String(decoding: bytes, as: UTF8.self)
            bytes = []
        case .chunked:
            while let (chunk, rest) = try Self.chunk(in: bytes) {
                text += chunk
                bytes = rest
            }
        }
        return text
    }

    /// The first chunk of `bytes` and what follows it; `nil` when it is incomplete.
    private static func chunk(in bytes: [UInt8]) throws -> (String, [UInt8])? {
        guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")), lineEnd + 1 < bytes.count else { return nil }
        let sizeText = String(decoding: bytes[..<lineEnd], as: UTF8.self)
        let size = try #require(Int(sizeText, radix: 16), "chunk size line '\(sizeText)'")
        #expect(bytes[lineEnd + 1] == UInt8(ascii: "\n"))
        let start = lineEnd + 2
        guard bytes.count >= start + size + 2 else { return nil }
        #expect(bytes[start + size] == UInt8(ascii: "\r") && bytes[start + size + 1] == UInt8(ascii: "\n"))
        if size == 0 { return ("\u{0}END", Array(bytes[(start + 2)...])) }
        return (String(decoding: bytes[start..<(start + size)], as: UTF8.self), Array(bytes[(start + size + 2)...]))
    }

    /// The metrics as Prometheus would scrape them.
    var scrape: MetricsRoutesTests.Scrape {
        var text: [UInt8] = []
        registry.emit(into: &text)
        return MetricsRoutesTests.Scrape(String(decoding: text, as: UTF8.self))
    }

    /// Makes the channel writable or not, as NIO does when its buffer crosses the watermarks.
    func setWritable(_ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }
}

/// The last chunk of a chunked body, as `EmbeddedStream.written()` shows it.
let endOfBody = "\u{0}END"
