import Foundation
import GatewayBench
import Testing

/// The summary is what the report prints and writes as JSON: histogram values converted
/// from nanoseconds to milliseconds, rounded to the microsecond.
@Suite struct LatencySummaryTests {
    @Test func anEmptyHistogramSummarisesToZeros() {
        let summary = LatencySummary(LatencyHistogram())
        #expect(summary == LatencySummary())
        #expect(summary.count == 0)
        #expect(summary.p50 == 0)
        #expect(summary.max == 0)
    }

    @Test func convertsNanosecondsToMillisecondsRoundedToTheMicrosecond() {
        // A single sample is reported exactly at every quantile (the maximum caps the
        // bucket edge), so each field is that sample: 1,234,567 ns = 1,234.567 µs,
        // rounded to 1,235 µs = 1.235 ms.
        var histogram = LatencyHistogram()
        histogram.record(1_234_567)
        let summary = LatencySummary(histogram)
        #expect(summary.count == 1)
        #expect(summary.p50 == 1.235)
        #expect(summary.p90 == 1.235)
        #expect(summary.p99 == 1.235)
        #expect(summary.p999 == 1.235)
        #expect(summary.max == 1.235)
    }

    @Test func roundsDownBelowHalfAMicrosecond() {
        var histogram = LatencyHistogram()
        histogram.record(2_000_400)
        #expect(LatencySummary(histogram).max == 2.0)
    }

    @Test func summarisesUniformSamplesWithinTheHistogramsPrecision() {
        // 1 … 1000 ms: the true p50, p90 and p99 are 500, 900 and 990 ms; reports are at
        // most 1/32 above (bucket edges), p99.9 and max are capped by the exact 1000 ms.
        var histogram = LatencyHistogram()
        for value in 1...1000 { histogram.record(UInt64(value) * 1_000_000) }
        let summary = LatencySummary(histogram)
        #expect(summary.count == 1000)
        #expect(summary.p50 >= 500 && summary.p50 <= 500 * (1 + 1.0 / 32))
        #expect(summary.p90 >= 900 && summary.p90 <= 900 * (1 + 1.0 / 32))
        #expect(summary.p99 >= 990 && summary.p99 <= 990 * (1 + 1.0 / 32))
        #expect(summary.p999 >= 999 && summary.p999 <= 1000)
        #expect(summary.max == 1000)
        // Quantiles are ordered: the report's reader compares them.
        #expect(summary.p50 <= summary.p90)
        #expect(summary.p90 <= summary.p99)
        #expect(summary.p99 <= summary.p999)
        #expect(summary.p999 <= summary.max)
    }

    @Test func theTextNamesEveryPercentileAndTheSampleCount() {
        var histogram = LatencyHistogram()
        histogram.record(1_234_567)
        #expect(
            LatencySummary(histogram).text
                == "p50 1.235 / p90 1.235 / p99 1.235 / p99.9 1.235 / max 1.235 ms (1 samples)"
        )
    }

    @Test func encodesItsFieldsUnderTheirOwnNames() throws {
        // The JSON line is read by scripts (scripts/bench, BENCHMARKS.md): the keys matter.
        var histogram = LatencyHistogram()
        histogram.record(1_234_567)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(LatencySummary(histogram)), as: UTF8.self)
        #expect(json == #"{"count":1,"max":1.235,"p50":1.235,"p90":1.235,"p99":1.235,"p999":1.235}"#)
    }
}
