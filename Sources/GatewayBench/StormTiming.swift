/// The pure arithmetic of a storm: when each stream reconnects, and how fast the fresh
/// server admitted them.
package enum StormTiming {
    /// One reconnect offset per stream, uniform over `window`, in nanoseconds.
    package static func offsets(
        count: Int,
        window: Duration,
        using generator: inout some RandomNumberGenerator
    ) -> [UInt64] {
        let span = nanoseconds(window)
        guard span > 0 else { return Array(repeating: 0, count: count) }
        return (0..<count).map { _ in UInt64.random(in: 0...span, using: &generator) }
    }

    /// The most instants (monotonic ns) that fall into any one second, counted in the
    /// whole seconds after the first instant.
    package static func peakPerSecond(_ instants: [UInt64]) -> Int {
        guard let first = instants.min() else { return 0 }
        var buckets: [UInt64: Int] = [:]
        for instant in instants { buckets[(instant - first) / 1_000_000_000, default: 0] += 1 }
        return buckets.values.max() ?? 0
    }

    /// Instants per second between `start` and the last instant.
    package static func meanPerSecond(_ instants: [UInt64], since start: UInt64) -> Double {
        guard let last = instants.max(), last > start else { return 0 }
        return Double(instants.count) / (Double(last - start) / 1e9)
    }

    /// `duration` in whole nanoseconds.
    package static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
    }
}
