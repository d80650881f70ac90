import GatewayBench
import Testing

/// The subscribers read `"seq"`, `"t"` and `"studentId"` straight from a `data:` line,
/// whatever envelope the server put around the bench's event data.
@Suite struct SSEFieldsTests {
    /// Runs `body` on the UTF-8 bytes of `line`, as the scanner hands them over.
    private static func with<Value>(_ line: String, _ body: (UnsafeRawBufferPointer) -> Value) -> Value {
        Array(line.utf8).withUnsafeBytes(body)
    }

    private static func integer(_ key: [UInt8], in line: String) -> UInt64? {
        with(line) { SSEFields.integer(after: key, in: $0) }
    }

    private static func string(_ key: [UInt8], in line: String) -> String? {
        with(line) { bytes in
            SSEFields.string(after: key, in: bytes).map { String(decoding: $0, as: UTF8.self) }
        }
    }

    @Test func readsTheSequenceNumberAndSendTime() {
        let line = #"data: {"seq":42,"t":1700000000123}"#
        #expect(Self.integer(SSEFields.sequenceKey, in: line) == 42)
        #expect(Self.integer(SSEFields.timestampKey, in: line) == 1_700_000_000_123)
    }

    @Test func findsTheFieldsInsideTheGatewaysEnvelope() {
        // The gateway wraps the CloudEvent data; other members come first.
        let line = #"data: {"id":"bench-r1-3","type":"bench.event","data":{"seq":3,"t":5,"studentId":"s-12"}}"#
        #expect(Self.integer(SSEFields.sequenceKey, in: line) == 3)
        #expect(Self.integer(SSEFields.timestampKey, in: line) == 5)
        #expect(Self.string(SSEFields.studentKey, in: line) == "s-12")
    }

    @Test func skipsQuotesThatDoNotStartTheKey() {
        // Every `"` is a candidate start; the search must go on after a near miss.
        let line = #"data: {"s":"q","se":1,"seqq":2,"seq":9}"#
        #expect(Self.integer(SSEFields.sequenceKey, in: line) == 9)
    }

    @Test func usesTheFirstOccurrenceOfAKey() {
        #expect(Self.integer(SSEFields.sequenceKey, in: #"data: {"seq":1,"seq":2}"#) == 1)
    }

    @Test func findsNoNumberWhereThereIsNone() {
        #expect(Self.integer(SSEFields.sequenceKey, in: #"data: {"t":1}"#) == nil)
        #expect(Self.integer(SSEFields.sequenceKey, in: #"data: {"seq":"x"}"#) == nil)
        #expect(Self.integer(SSEFields.sequenceKey, in: #"data: {"seq":"#) == nil)
        #expect(Self.integer(SSEFields.sequenceKey, in: #""se"#) == nil)
        #expect(Self.integer(SSEFields.sequenceKey, in: "") == nil)
    }

    @Test func readsTheLargestUnsignedNumber() {
        #expect(Self.integer(SSEFields.timestampKey, in: #"data: {"t":18446744073709551615}"#) == UInt64.max)
    }

    @Test func readsAnEmptyStudentAsEmpty() {
        // An empty id is an id that matches no user: it must not read as "absent".
        #expect(Self.string(SSEFields.studentKey, in: #"data: {"studentId":""}"#) == "")
    }

    @Test func findsNoStudentWithoutAClosingQuote() {
        #expect(Self.string(SSEFields.studentKey, in: #"data: {"studentId":"s-1"#) == nil)
        #expect(Self.string(SSEFields.studentKey, in: #"data: {"seq":1}"#) == nil)
    }

    @Test func matchesALinePrefix() {
        #expect(Self.with("data: x") { SSEFields.hasPrefix($0, "data:") })
        #expect(Self.with(": heartbeat 5") { SSEFields.hasPrefix($0, ": heartbeat") })
        #expect(!Self.with("dat") { SSEFields.hasPrefix($0, "data:") })
        #expect(!Self.with("id: data:") { SSEFields.hasPrefix($0, "data:") })
        #expect(!Self.with("") { SSEFields.hasPrefix($0, "data:") })
    }
}
