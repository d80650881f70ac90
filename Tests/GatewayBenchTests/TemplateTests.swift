import GatewayBench
import Testing

/// The publisher renders one URL and one body per event from templates: `{name}`
/// placeholders are substituted, JSON braces and unknown names are left alone.
@Suite struct TemplateTests {
    /// The values the publisher passes for event 7 of user `s-1`.
    private static func eventValues(_ name: String) -> String? {
        switch name {
        case "seq": "7"
        case "t": "99"
        case "user": "s-1"
        case "topic": "progress"
        default: nil
        }
    }

    @Test func substitutesEveryPlaceholderInAURL() {
        let template = Template("/streams/{topic}?user={user}&i={seq}")
        #expect(template.render(Self.eventValues) == "/streams/progress?user=s-1&i=7")
    }

    @Test func leavesJSONBracesAroundPlaceholdersIntact() {
        // `{"seq":{seq}…}`: the outer brace opens a JSON object, not a placeholder named
        // `"seq":{seq`, so only the inner names are substituted.
        let template = Template(#"{"seq":{seq},"t":{t}}"#)
        #expect(template.render(Self.eventValues) == #"{"seq":7,"t":99}"#)
    }

    @Test func keepsAPlaceholderWithoutAValueAsWritten() {
        // The render closure answers nil for names it does not know.
        let template = Template("a{unknown}b{seq}")
        #expect(template.render(Self.eventValues) == "a{unknown}b7")
    }

    @Test func substitutesARepeatedPlaceholderEachTime() {
        #expect(Template("{seq}-{seq}").render(Self.eventValues) == "7-7")
    }

    @Test func keepsAnUnclosedBraceLiteral() {
        #expect(Template("x{seq}z{w").render(Self.eventValues) == "x7z{w")
        #expect(Template("{").render(Self.eventValues) == "{")
    }

    @Test func keepsBracesAroundANonNameLiteral() {
        // Empty names and names with spaces or punctuation are not placeholders.
        #expect(Template("{}").render(Self.eventValues) == "{}")
        #expect(Template("{a b}{seq}").render(Self.eventValues) == "{a b}7")
        #expect(Template("{{seq}}").render(Self.eventValues) == "{7}")
        #expect(Template("}{seq}{").render(Self.eventValues) == "}7{")
    }

    @Test func rendersTextWithoutPlaceholdersUnchanged() {
        var asked: [String] = []
        let rendered = Template("/publish/plain").render { name in
            asked.append(name)
            return "X"
        }
        #expect(rendered == "/publish/plain")
        #expect(asked.isEmpty)
        #expect(Template("").render { _ in "X" } == "")
    }

    @Test func asksForEachPlaceholderByItsName() {
        var asked: [String] = []
        _ = Template("{user_1}/{t}/{run}").render { name in
            asked.append(name)
            return nil
        }
        #expect(asked == ["user_1", "t", "run"])
    }

    @Test func tellsWhichPlaceholdersItUses() {
        let template = Template(#"{"seq":{seq},"studentId":"{user}"}"#)
        #expect(template.uses("seq"))
        #expect(template.uses("user"))
        #expect(!template.uses("t"))
        // A JSON key spelled like a placeholder name is not a placeholder.
        #expect(!Template(#"{"seq":1}"#).uses("seq"))
    }
}
