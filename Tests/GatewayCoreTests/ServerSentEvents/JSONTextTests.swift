import Foundation
import GatewayCore
import Testing

@Suite struct JSONTextTests {
    @Test func encodedTextIsStrictJSONOfTheSameValue() throws {
        let text = "quote \" backslash \\ tab \t nl \n bell \u{7} line-sep \u{2028} slash / é 😀"
        let value: JSONValue = .object([
            "text": .string(text),
            "list": .array([.null, .bool(true), .bool(false), .integer(0), .integer(-12), .number(3.25)]),
            "empty": .object([:]),
        ])
        let encoded = JSONText.encode(value)
        let kind = try Array(encoded.utf8).withUnsafeBytes { bytes throws(JSONSyntaxError) in
            try JSONScanner.validate(bytes)
        }
        #expect(kind == .object)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(encoded.utf8)) as? [String: Any])
        #expect(parsed["text"] as? String == text)
        #expect((parsed["list"] as? [Any])?.count == 6)
        // What a browser's JavaScript must not see raw inside an SSE data line.
        #expect(!encoded.contains("\n"))
        #expect(!encoded.contains("\u{2028}"))
        #expect(encoded.contains(#"\u0007"#))
        #expect(encoded.contains(#"\u2028"#))
        // Slashes are left alone, as the frames always had them.
        #expect(encoded.contains("slash / "))
    }

    @Test func encodesScalarsAsCompactJSON() {
        #expect(JSONText.encode(.null) == "null")
        #expect(JSONText.encode(.bool(true)) == "true")
        #expect(JSONText.encode(.integer(-42)) == "-42")
        #expect(JSONText.encode(.number(87.5)) == "87.5")
        #expect(JSONText.encode(.string("a\"b")) == #""a\"b""#)
        #expect(JSONText.encode(.array([.integer(1), .string("x")])) == #"[1,"x"]"#)
        #expect(JSONText.encode(.object(["k": .array([])])) == #"{"k":[]}"#)
    }
}
