import GatewayCore
import NIOCore
import Testing

@testable import GatewayHTTP

@Suite struct RequestReadDeadlineTests {
    static let limits = RequestReadDeadline.Limits(idle: .seconds(75), header: .seconds(10), body: .seconds(30))
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ seconds: Int64) -> NIODeadline { start + .seconds(seconds) }

    @Test func aNewConnectionIsUnderTheIdleDeadline() {
        let state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        #expect(state.deadline?.kind == .idle)
        #expect(state.deadline?.at == Self.at(75))
    }

    @Test func theFirstByteStartsTheHeaderDeadlineAndLaterBytesDoNotMoveIt() {
        var state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        state.bytesArrived(at: Self.at(5))
        state.bytesArrived(at: Self.at(9))
        state.bytesArrived(at: Self.at(14))
        #expect(state.deadline?.kind == .header)
        #expect(state.deadline?.at == Self.at(15))
    }

    @Test func aWholeHeadStartsTheBodyDeadline() {
        var state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        state.bytesArrived(at: Self.at(1))
        state.headArrived(at: Self.at(2))
        state.bytesArrived(at: Self.at(3))
        #expect(state.deadline?.kind == .body)
        #expect(state.deadline?.at == Self.at(32))
    }

    @Test func noDeadlineWhileOnlyAResponseIsUnderWaySoAStreamIsExempt() {
        var state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        state.bytesArrived(at: Self.at(1))
        state.headArrived(at: Self.at(1))
        state.requestEnded(at: Self.at(1))
        #expect(state.deadline == nil)
        #expect(state.isResponding)
    }

    @Test func idleTimeCountsFromTheEndOfTheResponse() {
        var state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        state.bytesArrived(at: Self.at(1))
        state.headArrived(at: Self.at(1))
        state.requestEnded(at: Self.at(1))
        state.responseEnded(at: Self.at(40))
        #expect(state.deadline?.kind == .idle)
        #expect(state.deadline?.at == Self.at(115))
        #expect(!state.isResponding)
    }

    @Test func aNextRequestStartedDuringAResponseIsUnderTheHeaderDeadline() {
        var state = RequestReadDeadline(limits: Self.limits, openedAt: Self.start)
        state.bytesArrived(at: Self.at(1))
        state.headArrived(at: Self.at(1))
        state.requestEnded(at: Self.at(1))
        state.bytesArrived(at: Self.at(100))
        #expect(state.deadline?.kind == .header)
        #expect(state.deadline?.at == Self.at(110))
        // The response ending does not reset the half-read head's deadline.
        state.responseEnded(at: Self.at(105))
        #expect(state.deadline?.at == Self.at(110))
    }
}
