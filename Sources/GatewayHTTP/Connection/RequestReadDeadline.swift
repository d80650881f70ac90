import GatewayCore
import NIOCore

/// Which deadline a connection's reading is under, decided from what arrived on it: a
/// small state machine with no I/O, so every transition is tested without a socket.
///
/// - Waiting for a request (before the first, and after each response while no byte of
///   the next one came): the idle timeout, from the connection's start or the response's end.
/// - From a request's first byte to the end of its head: the header timeout. It is not
///   pushed back by later bytes, so a client sending a byte a second cannot hold it.
/// - From the end of the head to the end of the body: the body timeout.
/// - While a response is written and no next request is being read: none. An SSE stream
///   is such a response (the stream has its own bounds: heartbeats, the write timeout).
struct RequestReadDeadline: Sendable {
    /// How long each phase may last.
    struct Limits: Sendable {
        var idle: TimeAmount
        var header: TimeAmount
        var body: TimeAmount
    }

    private enum Reading: Equatable {
        /// No byte of a next request yet, since the instant given.
        case awaiting(since: NIODeadline)
        /// Bytes of a head arrived; the first at the instant given.
        case head(since: NIODeadline)
        /// The head arrived whole at the instant given; its body is being read.
        case body(since: NIODeadline)
    }

    let limits: Limits
    private var reading: Reading
    /// Requests whose head arrived and whose response has not ended yet.
    private var responsesOutstanding = 0

    /// A connection that opened at `now`.
    init(limits: Limits, openedAt now: NIODeadline) {
        self.limits = limits
        self.reading = .awaiting(since: now)
    }

    /// Bytes were read from the socket (they may start a next request).
    mutating func bytesArrived(at now: NIODeadline) {
        if case .awaiting = reading { reading = .head(since: now) }
    }

    /// A request's head was decoded.
    mutating func headArrived(at now: NIODeadline) {
        reading = .body(since: now)
        responsesOutstanding += 1
    }

    /// A request's end was decoded.
    mutating func requestEnded(at now: NIODeadline) {
        reading = .awaiting(since: now)
    }

    /// A response's end was written.
    mutating func responseEnded(at now: NIODeadline) {
        responsesOutstanding = max(0, responsesOutstanding - 1)
        // Idle time counts from the end of the last response, not from the request's end.
        if responsesOutstanding == 0, case .awaiting = reading { reading = .awaiting(since: now) }
    }

    /// Whether a response is being written (nothing may be written on the connection's behalf).
    var isResponding: Bool { responsesOutstanding > 0 }

    /// The deadline in force, and which one it is; `nil` while only a response is under way.
    var deadline: (kind: GatewayMetrics.ConnectionTimeout, at: NIODeadline)? {
        switch reading {
        case .awaiting(let since): responsesOutstanding > 0 ? nil : (.idle, since + limits.idle)
        case .head(let since): (.header, since + limits.header)
        case .body(let since): (.body, since + limits.body)
        }
    }
}
