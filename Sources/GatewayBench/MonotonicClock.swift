#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system-wide monotonic clock in nanoseconds. The publisher stamps it into each event
/// (`"t"`) and a receiver subtracts it on arrival; CLOCK_MONOTONIC is the same clock in
/// every process of the machine, so a peer that only relays the body keeps it meaningful.
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot).
    package static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
