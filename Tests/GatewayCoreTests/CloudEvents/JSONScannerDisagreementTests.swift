import Foundation
import GatewayCore
import Testing

/// Every way the strict scanner reads JSON differently from Foundation's `JSONSerialization`
/// on Linux (which the gateway used before), as the differential fuzzer (`scripts/fuzz`)
/// allows them. Each test states both readings, so a change on either side shows here.
@Suite struct JSONScannerDisagreementTests {
    private func scanner(_ bytes: [UInt8]) -> Result<JSONScanner.ValueKind, JSONSyntaxError> {
        bytes.withUnsafeBytes { buffer in Result { () throws(JSONSyntaxError) in try JSONScanner.validate(buffer) } }
    }

    private func foundation(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    @Test func trailingCommasAreRefusedThoughFoundationTakesThem() {
        // RFC 8259 has no trailing comma; Foundation on Linux accepts one (issue 16).
        for text in [#"{"a":1,}"#, "[1,]", #"{"a":[1,],}"#] {
            #expect(scanner(Array(text.utf8)).refusalReason == (.trailingComma))
            #expect(foundation(Array(text.utf8)) != nil)
        }
    }

    @Test func aByteOrderMarkOrUTF16IsRefusedThoughFoundationDetectsThem() {
        // RFC 8259 section 8.1: JSON between systems is UTF-8 without a byte order mark.
        // daprd and the CloudEvents SDKs send exactly that.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("[1]".utf8)
        let utf16 = Array("[1]".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        for bytes in [bom, utf16, [0xFF, 0xFE] + utf16] {
            #expect(throws: JSONSyntaxError.self) { try scanner(bytes).get() }
            #expect(foundation(bytes) != nil)
        }
    }

    @Test func nestingIsBoundedBelowFoundationsLimit() {
        // The scanner recurses per level; its bound (128) keeps the stack small. Foundation
        // allows 512. Events nest a few levels.
        for depth in [JSONScanner.maximumDepth + 1, 512] {
            let text = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
            #expect(scanner(text).refusalReason == (.tooDeep))
            #expect(foundation(text) != nil)
        }
        let beyondBoth = Array((String(repeating: "[", count: 513) + String(repeating: "]", count: 513)).utf8)
        #expect(foundation(beyondBoth) == nil)
    }

    @Test func numbersBeyondADoubleAreValidJSONThoughFoundationRefusesThem() {
        // RFC 8259 lets a parser limit the range; the gateway forwards numbers as written, so
        // it has no reason to. A browser's JSON.parse reads 1e400 as Infinity.
        for text in ["[1e400]", "[-1e400]", "[" + String(repeating: "9", count: 400) + ".5]"] {
            #expect(scanner(Array(text.utf8)) == .success(.array))
            #expect(foundation(Array(text.utf8)) == nil)
        }
    }

    @Test func aByteOrderMarkStartingAStringIsKeptThoughFoundationDropsIt() throws {
        // U+FEFF inside a string is a character like any other; Foundation drops it when it
        // starts a string value, or a run of plain characters after an escape sequence
        // (each run goes through String(bytes:encoding:), which strips a leading BOM).
        let text: [UInt8] = Array(#"{"studentId":""#.utf8) + [0xEF, 0xBB, 0xBF] + Array(#"s-1"}"#.utf8)
        let rule = TopicRule.learningPlatformDefaults()[0]
        let facts = text.withUnsafeBytes { RoutingFields(rule: rule).facts(type: "t", data: $0) }
        #expect(facts.studentID == "\u{FEFF}s-1")
        let parsed = try #require(foundation(text) as? [String: Any])
        #expect(parsed["studentId"] as? String == "s-1")

        let afterEscape: [UInt8] = Array(#"{"studentId":"s\/"#.utf8) + [0xEF, 0xBB, 0xBF] + Array(#"1"}"#.utf8)
        let escapedFacts = afterEscape.withUnsafeBytes { RoutingFields(rule: rule).facts(type: "t", data: $0) }
        #expect(escapedFacts.studentID == "s/\u{FEFF}1")
        let escapedParsed = try #require(foundation(afterEscape) as? [String: Any])
        #expect(escapedParsed["studentId"] as? String == "s/1")
    }

    @Test func longDecimalRoutingKeysAreReadCorrectlyRounded() throws {
        // Foundation on Linux reads some long decimals a few units in the last place off;
        // Swift's Double(String), which the routing fields use, rounds correctly. Only a
        // routing key made of such a number (never an id in practice) could differ.
        let text = Array(#"{"studentId":14468744072709551.19}"#.utf8)
        let rule = TopicRule.learningPlatformDefaults()[0]
        let facts = text.withUnsafeBytes { RoutingFields(rule: rule).facts(type: "t", data: $0) }
        #expect(facts.studentID == "1.4468744072709552e+16")
        let parsed = try #require(foundation(text) as? [String: Any])
        #expect((parsed["studentId"] as? NSNumber)?.doubleValue == 1.4468744072709548e16)
    }
}
