/// Percentiles of a latency histogram, in milliseconds, as reported.
package struct LatencySummary: Sendable, Encodable, Equatable {
    /// How many values.
    package var count: UInt64 = 0
    package var p50 = 0.0
    package var p90 = 0.0
    package var p99 = 0.0
    package var p999 = 0.0
    package var max = 0.0

    /// Nothing recorded.
    package init() {}

    /// The summary of `histogram`.
    package init(_ histogram: LatencyHistogram) {
        func milliseconds(_ nanoseconds: UInt64) -> Double { (Double(nanoseconds) / 1_000).rounded() / 1_000 }
        count = histogram.count
        p50 = milliseconds(histogram.value(atQuantile: 0.5))
        p90 = milliseconds(histogram.value(atQuantile: 0.9))
        p99 = milliseconds(histogram.value(atQuantile: 0.99))
        p999 = milliseconds(histogram.value(atQuantile: 0.999))
        max = milliseconds(histogram.maximum)
    }

    /// `p50 1.2 / p90 … / max … ms`.
    package var text: String {
        "p50 \(p50) / p90 \(p90) / p99 \(p99) / p99.9 \(p999) / max \(max) ms (\(count) samples)"
    }
}
