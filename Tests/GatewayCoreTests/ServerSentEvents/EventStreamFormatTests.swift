import GatewayCore
import NIOCore
import Testing

@Suite struct EventStreamFormatTests {
    @Test func dataIsSplitOnEveryKindOfLineBreak() {
        var buffer = ByteBuffer()
        EventStreamFormat.writeData("a\nb\r\nc\rd", into: &buffer)
        #expect(String(buffer: buffer) == "data: a\ndata: b\ndata: c\ndata: d\n")
    }

    @Test func aFieldWithALineBreakIsRefused() {
        var buffer = ByteBuffer()
        #expect(throws: EventStreamFormat.FieldError.self) {
            try EventStreamFormat.writeField("id", "x\nevent: evil", into: &buffer)
        }
        #expect(buffer.readableBytes == 0)
    }

    @Test func aFrameCarriesTheStreamsPositionOnEveryTopic() {
        let rule = TopicRule.learningPlatformDefaults()[0]
        let event = CloudEvent(id: "e;1", source: "s", type: "t", data: .object(["studentId": .string("s-1")]))
        let frame = EventFrame(
            event: event,
            topicIndex: 0,
            facts: EventFacts(event: event, rule: rule),
            receivedAt: .now
        )
        var encoder = StreamEncoder(start: ResumeToken(positions: [0: "", 2: "n9"]))
        var buffer = ByteBuffer()
        encoder.write(frame, into: &buffer)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("id: 0:e%3B1;2:n9\nevent: student.progress\ndata: {\"id\":\"e;1\""))
        #expect(text.hasSuffix("}\n\n"))
        #expect(ResumeToken(parsing: encoder.token)?.positions == [0: "e;1", 2: "n9"])
    }
}
