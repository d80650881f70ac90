import GatewayBench
import Testing

/// The histogram promises that a reported quantile is the upper edge of the bucket that
/// holds it (so never below the true value), within about 3 % above it (a bucket spans
/// 1/32 of its power of two), and never above the exact maximum.
@Suite struct LatencyHistogramTests {
    private static let millisecond: UInt64 = 1_000_000

    /// 1 ms, 2 ms, …, 1000 ms: the k-th smallest sample is k ms, which makes every
    /// quantile's true value easy to state.
    private static func uniformMilliseconds() -> LatencyHistogram {
        var histogram = LatencyHistogram()
        for value in 1...1000 { histogram.record(UInt64(value) * millisecond) }
        return histogram
    }

    /// `reported` is the true value `exact` rounded up to its bucket: at least `exact`
    /// and at most 1/32 of it above.
    private static func isWithinPrecision(_ reported: UInt64, of exact: UInt64) -> Bool {
        reported >= exact && reported - exact <= exact / 32
    }

    @Test func anEmptyHistogramReportsZeroEverywhere() {
        let histogram = LatencyHistogram()
        #expect(histogram.count == 0)
        #expect(histogram.maximum == 0)
        for quantile in [0, 0.5, 0.99, 1] {
            #expect(histogram.value(atQuantile: quantile) == 0)
        }
    }

    @Test func reportsTheMedianOfUniformSamples() {
        // 1000 samples: rank ⌈1000 × 0.5⌉ = 500, so the median is the 500 ms sample.
        let median = Self.uniformMilliseconds().value(atQuantile: 0.5)
        #expect(Self.isWithinPrecision(median, of: 500 * Self.millisecond))
    }

    @Test func reportsTheTailQuantilesOfUniformSamples() {
        let histogram = Self.uniformMilliseconds()
        #expect(Self.isWithinPrecision(histogram.value(atQuantile: 0.9), of: 900 * Self.millisecond))
        #expect(Self.isWithinPrecision(histogram.value(atQuantile: 0.99), of: 990 * Self.millisecond))
        // The 999 ms sample shares its bucket's upper edge with 1000 ms and beyond, but the
        // exact maximum caps the report, so p99.9 lands between the two samples.
        let p999 = histogram.value(atQuantile: 0.999)
        #expect(p999 >= 999 * Self.millisecond)
        #expect(p999 <= 1000 * Self.millisecond)
    }

    @Test func countsEverySampleAndKeepsTheExactMaximum() {
        let histogram = Self.uniformMilliseconds()
        #expect(histogram.count == 1000)
        #expect(histogram.maximum == 1000 * Self.millisecond)
        // The top quantile is the maximum itself, not its bucket's (larger) upper edge.
        #expect(histogram.value(atQuantile: 1) == 1000 * Self.millisecond)
    }

    @Test func valuesBelowThirtyTwoNanosecondsAreExact() {
        // Each value below 32 has a bucket of its own.
        var histogram = LatencyHistogram()
        for value in UInt64(1)...31 { histogram.record(value) }
        // 31 samples: rank ⌈15.5⌉ = 16.
        #expect(histogram.value(atQuantile: 0.5) == 16)
        #expect(histogram.value(atQuantile: 0) == 1)
    }

    @Test func aSingleSampleIsReportedExactlyAtEveryQuantile() {
        // Its bucket's upper edge is above it, but the exact maximum caps every quantile.
        var histogram = LatencyHistogram()
        histogram.record(1_234_567)
        for quantile in [0, 0.5, 0.9, 0.99, 0.999, 1] {
            #expect(histogram.value(atQuantile: quantile) == 1_234_567)
        }
    }

    @Test(
        arguments: [
            32, 33, 63, 64, 1_000, 123_457, 999_999_999, (1 << 40) + 12_345, (1 << 62) + 1,
        ] as [UInt64]
    )
    func keepsItsPrecisionAtEveryMagnitude(value: UInt64) {
        // A larger second sample keeps the maximum from capping the reported median, so
        // the median shows the bucket edge of `value` itself.
        var histogram = LatencyHistogram()
        histogram.record(value)
        histogram.record(UInt64.max)
        #expect(Self.isWithinPrecision(histogram.value(atQuantile: 0.5), of: value))
    }

    @Test func recordsTheLargestRepresentableValue() {
        // The top bucket's edge computation shifts up to the 64th bit: it must not trap.
        var histogram = LatencyHistogram()
        histogram.record(UInt64.max)
        #expect(histogram.count == 1)
        #expect(histogram.maximum == UInt64.max)
        #expect(histogram.value(atQuantile: 0.5) == UInt64.max)
    }

    @Test func clampsQuantilesOutsideZeroToOne() {
        let histogram = Self.uniformMilliseconds()
        // Below 0 is the smallest sample's bucket, above 1 the maximum.
        #expect(Self.isWithinPrecision(histogram.value(atQuantile: -1), of: Self.millisecond))
        #expect(histogram.value(atQuantile: 2) == 1000 * Self.millisecond)
    }

    @Test func mergingEqualsRecordingEverythingInOneHistogram() {
        // Each event loop keeps its own histogram; the report merges them.
        var lower = LatencyHistogram()
        var upper = LatencyHistogram()
        for value in 1...500 { lower.record(UInt64(value) * Self.millisecond) }
        for value in 501...1000 { upper.record(UInt64(value) * Self.millisecond) }
        var merged = LatencyHistogram()
        merged.merge(upper)
        merged.merge(lower)

        #expect(merged.count == 1000)
        #expect(merged.maximum == 1000 * Self.millisecond)
        let whole = Self.uniformMilliseconds()
        for quantile in [0, 0.5, 0.9, 0.99, 0.999, 1] {
            #expect(merged.value(atQuantile: quantile) == whole.value(atQuantile: quantile))
        }
        // The merged median comes from the lower half's samples.
        #expect(Self.isWithinPrecision(merged.value(atQuantile: 0.5), of: 500 * Self.millisecond))
    }

    @Test func mergingAnEmptyHistogramChangesNothing() {
        var histogram = LatencyHistogram()
        histogram.record(7_000)
        histogram.merge(LatencyHistogram())
        #expect(histogram.count == 1)
        #expect(histogram.maximum == 7_000)
        #expect(histogram.value(atQuantile: 0.5) == 7_000)
    }
}
