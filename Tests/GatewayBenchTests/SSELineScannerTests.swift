import GatewayBench
import NIOCore
import Testing

/// The scanner turns socket reads into SSE lines: a line is delivered once its LF has
/// arrived, whichever reads its bytes came in, without the LF and without a CR before it.
@Suite struct SSELineScannerTests {
    /// Feeds `chunks` in order, as successive socket reads, and collects the lines.
    private static func lines(
        _ chunks: [String],
        into scanner: inout SSELineScanner
    ) -> [String] {
        var lines: [String] = []
        for chunk in chunks {
            // The line's bytes are only valid inside the callback: copy them out.
            scanner.scan(ByteBuffer(string: chunk)) { lines.append(String(decoding: $0, as: UTF8.self)) }
        }
        return lines
    }

    private static func lines(_ chunks: [String]) -> [String] {
        var scanner = SSELineScanner()
        return lines(chunks, into: &scanner)
    }

    @Test func splitsAReadIntoLinesAtEachLineFeed() {
        #expect(Self.lines(["data: a\ndata: b\n\n"]) == ["data: a", "data: b", ""])
    }

    @Test func dropsTheCarriageReturnOfCRLFLineEndings() {
        #expect(Self.lines(["id: 1\r\ndata: a\r\n\r\n"]) == ["id: 1", "data: a", ""])
    }

    @Test func dropsOnlyTheCarriageReturnRightBeforeTheLineFeed() {
        // A CR elsewhere is part of the line's text as far as this scanner goes.
        #expect(Self.lines(["a\r\r\nb\rc\n"]) == ["a\r", "b\rc"])
    }

    @Test func joinsALineSplitAcrossReads() {
        #expect(Self.lines(["data: hel", "lo\nda", "ta: x\n"]) == ["data: hello", "data: x"])
    }

    @Test func joinsACRLFSplitBetweenItsTwoBytes() {
        // The CR ends one read and the LF starts the next: the CR still goes.
        #expect(Self.lines(["data: a\r", "\ndata: b\r\n"]) == ["data: a", "data: b"])
    }

    @Test func holdsAnUnfinishedLineUntilItsLineFeedArrives() {
        var scanner = SSELineScanner()
        #expect(Self.lines(["data: {\"seq\":1"], into: &scanner).isEmpty)
        #expect(Self.lines(["}"], into: &scanner).isEmpty)
        #expect(Self.lines(["\n"], into: &scanner) == [#"data: {"seq":1}"#])
    }

    @Test func givesTheSameLinesWhenEveryByteArrivesInItsOwnRead() {
        let stream = ": heartbeat\r\n\r\nid: 0:e1\r\nevent: student.progress\r\ndata: {\"seq\":3,\"t\":17}\r\n\r\n"
        let whole = Self.lines([stream])
        // Bytes, not Characters: "\r\n" is one Character and would stay in one read.
        let byteByByte = Self.lines(stream.utf8.map { String(decoding: [$0], as: UTF8.self) })
        #expect(whole == [": heartbeat", "", "id: 0:e1", "event: student.progress", #"data: {"seq":3,"t":17}"#, ""])
        #expect(byteByByte == whole)
    }

    @Test func readsOnlyTheReadableBytesOfABuffer() {
        // Channel reads hand over slices: bytes before the reader index are not data.
        var buffer = ByteBuffer(string: "junk\ndata: a\n")
        buffer.moveReaderIndex(forwardBy: 5)
        var scanner = SSELineScanner()
        var lines: [String] = []
        scanner.scan(buffer) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["data: a"])
    }

    @Test func anEmptyReadDeliversNothing() {
        #expect(Self.lines(["", "data: a", "", "\n", ""]) == ["data: a"])
    }

    @Test func dropsALineTooLongToBufferAndKeepsScanning() {
        // No LF within the limit: the scanner gives up on the line instead of growing.
        var scanner = SSELineScanner()
        let tooLong = String(repeating: "a", count: SSELineScanner.maximumLineBytes + 1)
        #expect(Self.lines([tooLong], into: &scanner).isEmpty)
        #expect(scanner.oversizedLines == 1)
        let after = Self.lines(["tail\ndata: ok\n"], into: &scanner)
        // The rest of the dropped line, up to its LF, is not a line of its own.
        #expect(after == ["data: ok"])
    }

    @Test func countsALongLineOnceHoweverManyReadsItSpans() {
        // One line of three times the limit, then its LF: one oversized line, no line
        // delivered (an empty line would end an SSE event that never started).
        var scanner = SSELineScanner()
        let chunk = String(repeating: "a", count: SSELineScanner.maximumLineBytes + 1)
        let delivered = Self.lines([chunk, chunk, chunk, "\n"], into: &scanner)
        #expect(scanner.oversizedLines == 1)
        #expect(delivered.isEmpty)
    }

    @Test func keepsALineJustWithinTheLimit() {
        // Exactly the limit, split over two reads, is still a line.
        let half = SSELineScanner.maximumLineBytes / 2
        let first = String(repeating: "a", count: half)
        let second = String(repeating: "b", count: SSELineScanner.maximumLineBytes - half)
        var scanner = SSELineScanner()
        let delivered = Self.lines([first, second, "\n"], into: &scanner)
        #expect(scanner.oversizedLines == 0)
        #expect(delivered.count == 1)
        #expect(delivered.first?.utf8.count == SSELineScanner.maximumLineBytes)
    }
}
