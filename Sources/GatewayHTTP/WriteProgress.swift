/// Whether the bytes a stream left in its channel's buffer are moving: the decision behind
/// ending a stream whose writes make no progress (`GATEWAY_WRITE_TIMEOUT_SECONDS`), and
/// behind closing the connection of any other answer that makes none (`WriteTimeoutHandler`).
///
/// NIO buffers what the kernel does not take. A client that stops reading fills the
/// kernel's socket buffer first, then NIO's; from then on nothing leaves NIO's buffer. The
/// watch starts when bytes stay buffered after a flush and compares, one timeout later,
/// how many left the buffer since (handed over minus still buffered). None: stalled.
/// Costs nothing while the kernel takes every write at once, which is the normal case.
struct WriteProgress: Sendable {
    /// Bytes handed to the channel since the stream began.
    private(set) var handedOver = 0
    /// `handedOver` and the buffered bytes when the watch started; `nil` while not watching.
    private var mark: (handedOver: Int, buffered: Int)?

    /// What a check found.
    enum Verdict: Sendable, Equatable {
        /// Nothing is buffered: the watch ends.
        case drained
        /// Bytes left the buffer since the last check, and some remain: check again.
        case moving
        /// Not one byte left the buffer for a whole timeout.
        case stalled
    }

    /// `count` bytes were written to the channel.
    mutating func wrote(_ count: Int) {
        handedOver += count
    }

    /// After a flush: starts the watch when bytes stayed `buffered` and none is running.
    /// Returns whether a check must be scheduled.
    mutating func startWatching(buffered: Int) -> Bool {
        guard buffered > 0, mark == nil else { return false }
        mark = (handedOver, buffered)
        return true
    }

    /// A scheduled check, with the bytes buffered now.
    mutating func check(buffered: Int) -> Verdict {
        guard let mark else { return .drained }
        guard buffered > 0 else {
            self.mark = nil
            return .drained
        }
        let left = mark.buffered + (handedOver - mark.handedOver) - buffered
        guard left > 0 else { return .stalled }
        self.mark = (handedOver, buffered)
        return .moving
    }
}
