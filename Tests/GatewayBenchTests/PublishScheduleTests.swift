import Testing

@testable import GatewayBench

/// The schedule hands out sequence numbers paced to the phase's rate, bounds each phase in
/// time and events, and tallies what the server answered. Time is passed in, so the pacing
/// is checked on made-up instants.
@Suite struct PublishScheduleTests {
    /// `PublishSchedule.Step`, comparable.
    private enum Step: Equatable {
        case send(Int)
        case wait(until: UInt64)
        case done

        init(_ step: PublishSchedule.Step) {
            switch step {
            case .send(let sequence): self = .send(sequence)
            case .wait(let instant): self = .wait(until: instant)
            case .done: self = .done
            }
        }
    }

    /// Counts how often the schedule reports a phase's end.
    private final class EndCounter {
        var ends = 0
    }

    /// An arbitrary monotonic instant for a phase to start at.
    private static let start: UInt64 = 5_000_000_000

    /// Plays one publishing connection that sends as soon as allowed and waits exactly as
    /// long as told, starting at `start`; returns each sequence sent with its instant.
    private static func drive(_ schedule: PublishSchedule, from start: UInt64) -> [(sequence: Int, at: UInt64)] {
        var now = start
        var sent: [(sequence: Int, at: UInt64)] = []
        // Bounded, so a schedule that never ends fails the test instead of hanging it.
        for _ in 0..<10_000 {
            switch schedule.next(now: now) {
            case .send(let sequence): sent.append((sequence, now))
            case .wait(let instant):
                // Waiting must move time forward, or the connection would spin.
                guard instant > now else { return sent }
                now = instant
            case .done: return sent
            }
        }
        return sent
    }

    /// Begins a phase whose end nobody waits for.
    private static func begin(_ schedule: PublishSchedule, _ phase: PublishPhase, index: Int, now: UInt64) {
        schedule.begin(phase, index: index, now: now) {}
    }

    @Test func hasNothingToSendBeforeAPhaseBegins() {
        let schedule = PublishSchedule()
        #expect(Step(schedule.next(now: Self.start)) == .done)
        #expect(schedule.nextSequence == 0)
        #expect(schedule.inFlight == 0)
    }

    @Test func pacesAPhaseToItsRate() {
        // 10 events/s for 1 s: one every 100 ms, the first at once, the last at 900 ms;
        // the eleventh would be due at 1 s, when the phase ends.
        let schedule = PublishSchedule()
        Self.begin(
            schedule,
            PublishPhase(rate: 10, duration: .seconds(1), maximumEvents: 1_000),
            index: 0,
            now: Self.start
        )
        let sent = Self.drive(schedule, from: Self.start)
        #expect(sent.map { $0.sequence } == Array(0..<10))
        #expect(sent.map { $0.at } == (0..<10).map { Self.start + UInt64($0) * 100_000_000 })
        #expect(schedule.sentPerPhase == [10])
    }

    @Test func waitsUntilTheNextEventIsDue() {
        let schedule = PublishSchedule()
        Self.begin(
            schedule,
            PublishPhase(rate: 10, duration: .seconds(1), maximumEvents: 1_000),
            index: 0,
            now: Self.start
        )
        #expect(Step(schedule.next(now: Self.start)) == .send(0))
        // Asking again too early, even a little after, is answered with the due instant.
        #expect(Step(schedule.next(now: Self.start)) == .wait(until: Self.start + 100_000_000))
        #expect(Step(schedule.next(now: Self.start + 99_999_999)) == .wait(until: Self.start + 100_000_000))
        #expect(Step(schedule.next(now: Self.start + 100_000_000)) == .send(1))
    }

    @Test func catchesUpAfterFallingBehind() {
        // A connection that comes back late gets every overdue event at once.
        let schedule = PublishSchedule()
        Self.begin(
            schedule,
            PublishPhase(rate: 10, duration: .seconds(1), maximumEvents: 1_000),
            index: 0,
            now: Self.start
        )
        let late = Self.start + 350_000_000
        // Due at 0, 100, 200 and 300 ms.
        #expect(Step(schedule.next(now: late)) == .send(0))
        #expect(Step(schedule.next(now: late)) == .send(1))
        #expect(Step(schedule.next(now: late)) == .send(2))
        #expect(Step(schedule.next(now: late)) == .send(3))
        #expect(Step(schedule.next(now: late)) == .wait(until: Self.start + 400_000_000))
    }

    @Test func neverWaitsPastThePhasesEnd() {
        // 1 event/s for 500 ms: the second event would be due at 1 s; the wait stops at
        // the phase's end, where the phase is over.
        let schedule = PublishSchedule()
        Self.begin(
            schedule,
            PublishPhase(rate: 1, duration: .milliseconds(500), maximumEvents: 1_000),
            index: 0,
            now: Self.start
        )
        #expect(Step(schedule.next(now: Self.start)) == .send(0))
        #expect(Step(schedule.next(now: Self.start)) == .wait(until: Self.start + 500_000_000))
        #expect(Step(schedule.next(now: Self.start + 500_000_000)) == .done)
    }

    @Test func sendsFlatOutUpToThePhasesEventLimit() {
        // Rate 0 is "as fast as the server answers": no waits, only the limit.
        let schedule = PublishSchedule()
        Self.begin(schedule, PublishPhase(rate: 0, duration: .seconds(5), maximumEvents: 3), index: 0, now: Self.start)
        let sent = Self.drive(schedule, from: Self.start)
        #expect(sent.map { $0.sequence } == [0, 1, 2])
        #expect(sent.allSatisfy { $0.at == Self.start })
        #expect(schedule.inFlight == 3)
    }

    @Test func endsAFlatOutPhaseAtItsDuration() {
        let schedule = PublishSchedule()
        Self.begin(
            schedule,
            PublishPhase(rate: 0, duration: .seconds(2), maximumEvents: 1_000),
            index: 0,
            now: Self.start
        )
        #expect(Step(schedule.next(now: Self.start + 1_999_999_999)) == .send(0))
        #expect(Step(schedule.next(now: Self.start + 2_000_000_000)) == .done)
    }

    @Test func continuesTheSequenceNumbersAcrossPhases() {
        // Numbers are unique over the run, so the sets of received events can be compared
        // across phases; each phase counts its own sends.
        let schedule = PublishSchedule()
        Self.begin(schedule, PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 2), index: 0, now: Self.start)
        let first = Self.drive(schedule, from: Self.start)
        let later = Self.start + 10_000_000_000
        Self.begin(schedule, PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 3), index: 1, now: later)
        let second = Self.drive(schedule, from: later)
        #expect(first.map { $0.sequence } == [0, 1])
        #expect(second.map { $0.sequence } == [2, 3, 4])
        #expect(schedule.sentPerPhase == [2, 3])
    }

    @Test func reportsThePhasesEndOnceNothingIsInFlight() {
        let schedule = PublishSchedule()
        let counter = EndCounter()
        schedule.begin(PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 2), index: 0, now: Self.start) {
            counter.ends += 1
        }
        _ = Self.drive(schedule, from: Self.start)
        // Over, but two answers are outstanding.
        schedule.idle()
        #expect(counter.ends == 0)
        schedule.answered(0, status: 200, acknowledged: true, latency: 1_000)
        schedule.idle()
        #expect(counter.ends == 0)
        schedule.answered(1, status: 200, acknowledged: true, latency: 1_000)
        schedule.idle()
        #expect(counter.ends == 1)
        // Every publishing connection calls idle when it finds the phase over: once only.
        schedule.idle()
        #expect(counter.ends == 1)
    }

    @Test func doesNotReportTheEndOfAPhaseStillRunning() {
        let schedule = PublishSchedule()
        let counter = EndCounter()
        schedule.begin(PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 5), index: 0, now: Self.start) {
            counter.ends += 1
        }
        // Nothing in flight yet, but the phase has events left to send.
        schedule.idle()
        #expect(counter.ends == 0)
    }

    @Test func talliesAcknowledgedAndRefusedAnswers() {
        let schedule = PublishSchedule()
        Self.begin(schedule, PublishPhase(rate: 0, duration: .seconds(1), maximumEvents: 4), index: 0, now: Self.start)
        _ = Self.drive(schedule, from: Self.start)
        schedule.answered(0, status: 200, acknowledged: true, latency: 1_000)
        schedule.answered(1, status: 503, acknowledged: false, latency: 2_000)
        schedule.answered(2, status: 0, acknowledged: false, latency: 3_000)
        schedule.answered(3, status: 204, acknowledged: true, latency: 4_000)

        #expect(schedule.inFlight == 0)
        #expect(schedule.accepted.count == 2)
        #expect(schedule.accepted.contains(0))
        #expect(schedule.accepted.contains(3))
        #expect(!schedule.accepted.contains(1))
        #expect(!schedule.accepted.contains(2))
        #expect(schedule.acceptedPerPhase == [2])
        // Status 0 is a lost connection.
        #expect(schedule.refused == [503: 1, 0: 1])
        // Every answer's latency counts, refusals too.
        #expect(schedule.answerLatency.count == 4)
        #expect(schedule.answerLatency.maximum == 4_000)
    }
}
