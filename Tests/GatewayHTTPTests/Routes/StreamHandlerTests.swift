import GatewayCore
import NIOCore
import NIOEmbedded
import Testing

@testable import GatewayHTTP

/// The stream handler's state machine, without a socket: what it writes and flushes for
/// each thing that can happen to a stream (issue 17 item 4).
@Suite struct StreamHandlerTests {
    /// The `id:` values of the event frames in `text`, in order.
    private func eventIDs(_ text: String, topic: String = "student.progress") -> [String] {
        text.components(separatedBy: "\n\n").compactMap { block in
            guard block.contains("event: \(topic)\n") else { return nil }
            return block.split(separator: "\n").first { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
        }
    }

    @Test func itOpensWithTheRetryHintAndReadyThenWritesEachBatchWithOneFlush() throws {
        let stream = try EmbeddedStream()
        let opening = try stream.written()
        #expect(opening.hasPrefix("retry: 3000\nid: 0:;2:\nevent: ready\ndata: {\"topics\":[\"student.progress\""))
        #expect(stream.scrape["sse_gateway_connections_active"] == 1)

        stream.publish("e1")
        stream.publish("e2")
        stream.publish("other", student: "s-2")
        stream.publish("e3")
        #expect(try stream.flushedBuffers().isEmpty, "nothing is written before the event loop runs")
        stream.run()
        let buffers = try stream.flushedBuffers()
        #expect(buffers.count == 1, "three frames, one write and one flush")
        #expect(eventIDs(try stream.text(of: buffers)) == ["0:e1;2:", "0:e2;2:", "0:e3;2:"])
        #expect(stream.scrape["sse_gateway_deliveries_total{topic=\"student.progress\"}"] == 3)
    }

    @Test func aHeartbeatIsWrittenWhenNothingElseWas() throws {
        let stream = try EmbeddedStream()
        _ = try stream.written()
        stream.hub.heartbeat()
        stream.run()
        #expect(try stream.written() == ": heartbeat\n\n")
        stream.publish("e1")
        stream.hub.heartbeat()
        stream.run()
        let text = try stream.written()
        #expect(eventIDs(text) == ["0:e1;2:"])
        #expect(!text.contains("heartbeat"), "a frame was written since the last tick")
    }

    @Test func framesWaitWhileTheChannelIsNotWritableAndFollowWhenItIs() throws {
        let stream = try EmbeddedStream()
        _ = try stream.written()
        stream.setWritable(false)
        stream.publish("e1")
        stream.publish("e2")
        stream.hub.heartbeat()
        stream.run()
        #expect(try stream.written().isEmpty)
        stream.setWritable(true)
        #expect(eventIDs(try stream.written()) == ["0:e1;2:", "0:e2;2:"])
    }

    @Test func aFullQueueEvictsWithSlowConsumerAndTheConnectionCloses() throws {
        let stream = try EmbeddedStream(adjust: { $0.subscriberBufferFrames = 4 })
        _ = try stream.written()
        stream.setWritable(false)
        for index in 0..<5 { stream.publish("e\(index)") }
        #expect(stream.subscriber.closeReason == .slowConsumer)
        stream.run()
        let text = try stream.written()
        #expect(eventIDs(text).isEmpty, "the queued frames are in the replay log, not written")
        #expect(text.contains("event: error\ndata: {\"code\":\"slow_consumer\""))
        #expect(text.hasSuffix(endOfBody))
        #expect(!stream.channel.isActive)
        #expect(stream.hub.subscriberCount == 0)
        #expect(stream.scrape["sse_gateway_connections_closed_total{reason=\"slow_consumer\"}"] == 1)
        #expect(stream.scrape["sse_gateway_connections_active"] == 0)
    }

    @Test func theEndOfInputEndsTheSubscriptionAtOnce() throws {
        let stream = try EmbeddedStream()
        _ = try stream.written()
        #expect(stream.hub.subscriberCount == 1)
        stream.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(stream.hub.subscriberCount == 0)
        #expect(stream.scrape["sse_gateway_connections_active"] == 0)
        #expect(stream.scrape["sse_gateway_connections_closed_total{reason=\"client_gone\"}"] == 1)
        #expect(!stream.channel.isActive)
        // A frame published now reaches nobody, and the late wake-up finds the stream over.
        #expect(stream.publish("late") == .accepted(candidates: 0, recipients: 0))
        stream.run()
        #expect(try stream.written().isEmpty)
    }

    @Test func aResetEndsTheSubscriptionAtOnce() throws {
        let stream = try EmbeddedStream()
        stream.channel.pipeline.fireErrorCaught(IOError(errnoCode: 104, reason: "connection reset (test)"))
        #expect(stream.hub.subscriberCount == 0)
        #expect(stream.scrape["sse_gateway_connections_active"] == 0)
        #expect(!stream.channel.isActive)
    }

    @Test func bytesAClientSendsAreDropped() throws {
        let stream = try EmbeddedStream()
        _ = try stream.written()
        try stream.channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(try stream.channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(stream.channel.isActive)
    }

    @Test func drainingWritesShuttingDownWithAJitteredRetryThenEndsTheBodyAndCloses() throws {
        let stream = try EmbeddedStream(adjust: { $0.reconnectJitterWindow = .seconds(30) })
        _ = try stream.written()
        stream.publish("e1")
        stream.hub.beginDrain()
        stream.run()
        let text = try stream.written()
        #expect(eventIDs(text) == ["0:e1;2:"], "queued frames are written before the end")
        let retry = try #require(
            text.split(separator: "\n").first { $0.hasPrefix("retry: ") }.flatMap { Int($0.dropFirst(7)) }
        )
        #expect((3000...33000).contains(retry))
        #expect(text.contains("event: error\ndata: {\"code\":\"shutting_down\""))
        #expect(text.hasSuffix(endOfBody))
        #expect(!stream.channel.isActive)
        #expect(stream.hub.subscriberCount == 0)
        #expect(stream.scrape["sse_gateway_connections_closed_total{reason=\"shutting_down\"}"] == 1)
    }

    @Test func theTokensExpiryEndsTheStreamWithTokenExpired() throws {
        let stream = try EmbeddedStream(expiresAt: 1_000)
        _ = try stream.written()
        stream.hub.expire(now: 1_001)
        stream.run()
        let text = try stream.written()
        #expect(text.contains("event: error\ndata: {\"code\":\"token_expired\""))
        #expect(!text.contains("retry:"))
        #expect(text.hasSuffix(endOfBody))
        #expect(!stream.channel.isActive)
        #expect(stream.scrape["sse_gateway_connections_closed_total{reason=\"token_expired\"}"] == 1)
    }

    @Test func theServersQuiesceEventClosesAStreamStillOpenAfterTheDrain() throws {
        let stream = try EmbeddedStream()
        stream.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!stream.channel.isActive)
        #expect(stream.hub.subscriberCount == 0)
        #expect(stream.scrape["sse_gateway_connections_closed_total{reason=\"shutting_down\"}"] == 1)
    }

    @Test func aResumeReplaysInByteCappedChunksOnlyWhileTheChannelIsWritableThenGoesLive() throws {
        let stream = try EmbeddedStream(
            resume: .token(ResumeToken(positions: [0: "r0"])),
            writable: false,
            adjust: { $0.replayChunkBytes = 4096 },
            prepare: { hub in
                for index in 0...20 { _ = hub.publish(EmbeddedStream.event("r\(index)", padding: 1000), topicIndex: 0) }
            }
        )
        let opening = try stream.written()
        #expect(opening.contains("event: ready"))
        #expect(eventIDs(opening).isEmpty, "no replay while the channel is not writable")
        stream.publish("live")
        stream.run()
        #expect(try stream.written().isEmpty, "live frames wait for the replay")

        stream.setWritable(true)
        let buffers = try stream.flushedBuffers()
        // 20 frames of about 1.2 KB: three to a chunk of at most 4 KiB, then the live batch.
        #expect(buffers.count == 8)
        #expect(buffers.dropLast().allSatisfy { $0.readableBytes <= 4096 + 16 })
        let ids = eventIDs(try stream.text(of: buffers))
        #expect(ids == (1...20).map { "0:r\($0);2:" } + ["0:live;2:"], "no gap, no duplicate at the switch to live")
    }

    @Test func anHTTP10StreamIsDelimitedByClosingTheConnection() throws {
        let stream = try EmbeddedStream(framing: .closeDelimited)
        let opening = try stream.written()
        #expect(opening.hasPrefix("retry: 3000\n"))
        stream.publish("e1")
        stream.run()
        #expect(eventIDs(try stream.written()) == ["0:e1;2:"])
        stream.hub.beginDrain()
        stream.run()
        let end = try stream.written()
        #expect(end.hasSuffix("\"}\n\n"), "no chunk framing, no last chunk")
        #expect(!stream.channel.isActive)
    }
}

@Suite struct WriteProgressTests {
    /// One step of a stream's writes, as the handler reports them.
    private enum Step {
        case wrote(Int)
        case flushed(buffered: Int)
        case checked(buffered: Int)
    }

    /// What each flush (a check scheduled or not) and each check answered, in order.
    private func run(_ steps: [Step]) -> [String] {
        var progress = WriteProgress()
        var answers: [String] = []
        for step in steps {
            switch step {
            case .wrote(let count): progress.wrote(count)
            case .flushed(let buffered): answers.append(progress.startWatching(buffered: buffered) ? "watch" : "-")
            case .checked(let buffered): answers.append("\(progress.check(buffered: buffered))")
            }
        }
        return answers
    }

    @Test func aWatchStartsOnlyWhenBytesStayBufferedAndOneAtATime() {
        #expect(
            run([.wrote(100), .flushed(buffered: 0), .wrote(100), .flushed(buffered: 60), .flushed(buffered: 80)])
                == ["-", "watch", "-"]
        )
    }

    @Test func bytesLeavingTheBufferAreProgressAndNoneLeavingIsAStall() {
        // 500 + 300 handed over and 700 still buffered: 100 left. Then 700 + 50 handed over, 750 buffered: none.
        #expect(
            run([
                .wrote(1000), .flushed(buffered: 500), .wrote(300), .checked(buffered: 700), .wrote(50),
                .checked(buffered: 750),
            ])
                == ["watch", "moving", "stalled"]
        )
    }

    @Test func anEmptyBufferEndsTheWatch() {
        #expect(
            run([
                .wrote(10), .flushed(buffered: 10), .checked(buffered: 0), .checked(buffered: 5), .flushed(buffered: 5),
            ])
                == ["watch", "drained", "drained", "watch"]
        )
    }
}

@Suite struct BodyFramingTests {
    @Test func aChunkCarriesItsSizeInHexAndEndsWithALineBreak() {
        var buffer = BodyFraming.chunked.makeBuffer()
        buffer.writeString(String(repeating: "a", count: 300))
        BodyFraming.chunked.seal(&buffer)
        let text = String(buffer: buffer)
        #expect(text == "12c\r\n" + String(repeating: "a", count: 300) + "\r\n")
    }

    @Test func anEmptyPieceStaysEmptyBecauseAnEmptyChunkWouldEndTheBody() {
        var buffer = BodyFraming.chunked.makeBuffer()
        BodyFraming.chunked.seal(&buffer)
        #expect(buffer.readableBytes == 0)
        #expect(String(buffer: BodyFraming.chunked.end) == "0\r\n\r\n")
    }

    @Test func closeDelimitedBytesAreWrittenAsTheyAre() {
        var buffer = BodyFraming.closeDelimited.makeBuffer()
        buffer.writeString("data: x\n\n")
        BodyFraming.closeDelimited.seal(&buffer)
        #expect(String(buffer: buffer) == "data: x\n\n")
        #expect(BodyFraming.closeDelimited.end.readableBytes == 0)
    }
}
