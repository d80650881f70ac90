import GatewayCore
import Testing

@Suite struct ResumeTokenTests {
    @Test func roundTripsIdsWithAnyCharacters() throws {
        let token = ResumeToken(positions: [0: "5929aaac-a5e2", 1: "a;b%c d:é", 2: ""])
        let parsed = try #require(ResumeToken(parsing: token.text))
        #expect(parsed == token)
        #expect(!token.text.contains(" "))
    }

    @Test(arguments: [
        "", "x", "0", "a:b", "-1:x", "0:a;0:b", "0:%zz", "0:%4", "0:a b", String(repeating: "0:a;", count: 2000),
    ])
    func untrustedTextThatIsNotATokenIsRefused(text: String) {
        #expect(ResumeToken(parsing: text) == nil)
        #expect(ResumeRequest(lastEventID: text) == (text.isEmpty ? .none : .malformed))
    }
}
