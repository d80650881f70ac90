import GatewayCore
import Testing

@Suite struct JSONValueParsingTests {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONValue(parsing: Array(text.utf8))
    }

    @Test func keepsEveryKindOfValueApart() throws {
        let value = try parse(
            #"{"n":null,"t":true,"f":false,"one":1,"neg":-7,"big":9007199254740993,"half":0.5,"exp":1e3,"s":"x","a":[1,"1",true],"o":{"k":"v"}}"#
        )
        #expect(value["n"] == .null)
        // Booleans are not the numbers 1 and 0, and numbers are not booleans.
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["one"] == .integer(1))
        #expect(value["neg"] == .integer(-7))
        // Integers beyond a double's 53 bits keep every digit.
        #expect(value["big"] == .integer(9_007_199_254_740_993))
        #expect(value["half"] == .number(0.5))
        #expect(value["exp"]?.scalarText == "1000")
        #expect(value["s"] == .string("x"))
        #expect(value["a"] == .array([.integer(1), .string("1"), .bool(true)]))
        #expect(value["o"] == .object(["k": .string("v")]))
    }

    @Test func decodesEscapesAndNonASCIIText() throws {
        let value = try parse(#"{"s":"a\"b\\c\nd\u00e9\ud83d\ude00/"}"#)
        #expect(value["s"] == .string("a\"b\\c\nd\u{e9}\u{1F600}/"))
    }

    @Test func refusesTextThatIsNotJSON() {
        for text in [#"{a:1}"#, #"{"a":"#, "", #"{"a":1}x"#, "[1 2]"] {
            #expect(throws: (any Error).self, "\(text)") { try parse(text) }
        }
    }

    @Test func encodedTextParsesBackToTheSameValue() throws {
        let original = try parse(
            #"{"text":"quote \" backslash \\ tab \t nl \n bell \u0007 line-sep \u2028 slash / é","list":[null,true,false,0,-12,3.25,{"deep":[[]]}],"empty":{}}"#
        )
        let encoded = JSONText.encode(original)
        #expect(try parse(encoded) == original)
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
