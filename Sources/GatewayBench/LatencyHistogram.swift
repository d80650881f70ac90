/// A log-linear histogram of nanosecond latencies: 64 powers of two, each split into
/// 32 linear sub-buckets, so a recorded value is reported within about 3 % of itself.
///
/// Recording is an array increment, cheap enough for millions of deliveries a second on
/// the receiving event loop; histograms of different loops are merged at the end.
package struct LatencyHistogram: Sendable {
    private static let subBucketBits = 5
    private static let subBuckets = 1 << subBucketBits

    private var counts: [UInt64]
    /// How many values were recorded.
    package private(set) var count: UInt64 = 0
    /// The largest recorded value, exactly.
    package private(set) var maximum: UInt64 = 0

    /// An empty histogram.
    package init() {
        counts = Array(repeating: 0, count: 64 * Self.subBuckets)
    }

    /// Adds one value.
    package mutating func record(_ nanoseconds: UInt64) {
        counts[Self.bucket(of: nanoseconds)] &+= 1
        count &+= 1
        if nanoseconds > maximum { maximum = nanoseconds }
    }

    /// Adds every value of `other`.
    package mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        count &+= other.count
        maximum = max(maximum, other.maximum)
    }

    /// The value at quantile `q` (0...1): the upper edge of the bucket that holds it,
    /// capped by the exact maximum; 0 when empty.
    package func value(atQuantile q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((Double(count) * min(max(q, 0), 1)).rounded(.up)))
        var seen: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return min(Self.upperEdge(of: index), maximum) }
        }
        return maximum
    }

    /// Values below 32 get a bucket each; above, the top five significant bits pick the
    /// sub-bucket inside the value's power of two.
    private static func bucket(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount
        let shift = exponent - subBucketBits
        let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return (shift + 1) * subBuckets + sub
    }

    private static func upperEdge(of index: Int) -> UInt64 {
        let group = index / subBuckets
        let sub = UInt64(index % subBuckets)
        if group == 0 { return sub }
        let shift = UInt64(group - 1)
        return ((UInt64(subBuckets) + sub + 1) << shift) &- 1
    }
}
