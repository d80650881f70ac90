#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`): every client connection is one
/// descriptor, so it bounds how many connections the gateway can hold.
package struct DescriptorLimit: Sendable, Equatable {
    /// The limit in force (the soft limit).
    package var current: Int
    /// The most the process may raise it to (the hard limit).
    package var maximum: Int

    /// The limit in force now; `nil` where the system does not say.
    package static func read() -> DescriptorLimit? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        return DescriptorLimit(current: clamped(limit.rlim_cur), maximum: clamped(limit.rlim_max))
    }

    /// Raises the soft limit to the hard one, as Go programs do at start: container
    /// runtimes and systemd often give a soft limit of 1024 under a hard limit of 500,000
    /// or more, which would cap a gateway meant for tens of thousands of streams at a
    /// thousand. Returns the limit in force afterwards.
    @discardableResult
    package static func raiseToMaximum() -> DescriptorLimit? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            // An unlimited hard limit cannot be the soft one for descriptors (the kernel's
            // nr_open is the real ceiling); settle for nr_open's usual default.
            raised.rlim_cur = limit.rlim_max == rlim_t.max ? max(limit.rlim_cur, 1_048_576) : limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return DescriptorLimit(current: clamped(limit.rlim_cur), maximum: clamped(limit.rlim_max))
    }

    /// The most client connections to accept with `reserve` descriptors kept for
    /// everything else; `nil` when the limit leaves fewer than 16.
    package func connectionCap(reserve: Int) -> Int? {
        let cap = current - reserve
        return cap >= 16 ? cap : nil
    }

    #if os(Linux)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif

    private static func clamped(_ value: rlim_t) -> Int {
        value >= rlim_t(Int.max) ? Int.max : Int(value)
    }
}
