/// Why a stream ended; the gateway tells the client in an `event: error` frame when it ends
/// the stream on purpose (design section 3).
package enum CloseReason: String, Sendable, CaseIterable {
    /// The client went away.
    case clientGone = "client_gone"
    /// The token reached its `exp`; reconnect with a fresh token.
    case tokenExpired = "token_expired"
    /// The subscriber's buffer overflowed; reconnect to resume from the log.
    case slowConsumer = "slow_consumer"
    /// The gateway is draining; reconnect (to another pod) after the `retry:` delay.
    case shuttingDown = "shutting_down"
    /// A connection limit refused the stream.
    case limit = "limit"

    /// Whether the client is told with an `event: error` frame.
    package var isAnnounced: Bool { self != .clientGone }

    /// The human-readable message of the `event: error` frame.
    package var message: String {
        switch self {
        case .clientGone: "the client went away"
        case .tokenExpired: "the token expired; reconnect with a fresh token to resume"
        case .slowConsumer: "the stream fell too far behind; reconnect to resume from the replay log"
        case .shuttingDown: "the gateway is shutting down; reconnect to resume"
        case .limit: "a connection limit was reached"
        }
    }
}
