import GatewayBench
import Testing

/// `--phase RATE@SECONDS` is parsed into a publishing phase; a value that cannot be used
/// is refused before anything connects, with a message that names it.
@Suite struct PublishPhaseTests {
    @Test func parsesARateAndADuration() throws {
        let phase = try PublishPhase(parsing: "10@30", maximumEvents: 500)
        #expect(phase == PublishPhase(rate: 10, duration: .seconds(30), maximumEvents: 500))
    }

    @Test func parsesMaxAsFlatOut() throws {
        // Rate 0 is what the schedule reads as "as fast as the server answers".
        #expect(try PublishPhase(parsing: "max@5", maximumEvents: 1).rate == 0)
        #expect(try PublishPhase(parsing: "0@5", maximumEvents: 1).rate == 0)
    }

    @Test func parsesFractionalRatesAndDurations() throws {
        let phase = try PublishPhase(parsing: "2.5@0.5", maximumEvents: 7)
        #expect(phase == PublishPhase(rate: 2.5, duration: .milliseconds(500), maximumEvents: 7))
    }

    @Test func acceptsAnHourButNoMore() throws {
        #expect(try PublishPhase(parsing: "1@3600", maximumEvents: 1).duration == .seconds(3_600))
        let message = try Self.refusal("1@3600.5")
        #expect(message.contains("RATE@SECONDS"))
    }

    @Test(arguments: ["10", "", "@5", "10@", "10@0", "10@-1", "10@3601", "10@abc", "10@30@1", "10@nan", "10@inf"])
    func refusesWhatIsNotRateAtSeconds(text: String) throws {
        let message = try Self.refusal(text)
        #expect(message.contains("'\(text)'"))
        #expect(message.contains("RATE@SECONDS"))
    }

    @Test(arguments: ["fast@5", "-1@5", "nan@5", "ten@5"])
    func refusesARateThatIsNeitherANumberNorMax(text: String) throws {
        let message = try Self.refusal(text)
        #expect(message.contains("'\(text)'"))
        #expect(message.contains("'max'"))
    }

    /// The message of the `invalidOption` error that parsing `text` throws.
    private static func refusal(_ text: String) throws -> String {
        let error = try #require(throws: BenchError.self) {
            try PublishPhase(parsing: text, maximumEvents: 1)
        }
        guard case .invalidOption(let message) = error else {
            Issue.record("expected invalidOption, got \(error)")
            return ""
        }
        return message
    }
}
