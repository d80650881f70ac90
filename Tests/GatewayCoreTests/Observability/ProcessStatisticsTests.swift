import Testing

@testable import GatewayCore

/// Reading the `process_*` figures from `/proc` texts as Linux writes them.
@Suite struct ProcessStatisticsTests {
    /// proc(5): pid (comm) state ppid … utime(14) stime(15) … starttime(22) vsize(23) rss(24) …
    static func stat(comm: String, utime: Int, stime: Int, starttime: Int, vsize: Int, rss: Int) -> String {
        let middle = (5...13).map { _ in "0" }.joined(separator: " ")
        let between = (16...21).map { _ in "0" }.joined(separator: " ")
        return
            "4242 (\(comm)) S 1 \(middle) \(utime) \(stime) \(between) \(starttime) \(vsize) \(rss) 18446744073709551615 1 1 0 0 0\n"
    }

    static let systemStat = "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 1\nctxt 9\nbtime 1700000000\nprocesses 7\n"

    /// Parsed with 100 ticks per second, 4 KiB pages, 12 of 1,048,576 descriptors open.
    static func parse(_ stat: String, systemStat: String = systemStat) -> ProcessStatistics? {
        ProcessStatistics(
            stat: stat,
            systemStat: systemStat,
            ticksPerSecond: 100,
            pageSize: 4096,
            openFileDescriptors: 12,
            maximumFileDescriptors: 1_048_576
        )
    }

    @Test func readsCPUMemoryAndStartTimeFromTheStatFields() throws {
        let text = Self.stat(comm: "sse-gateway", utime: 250, stime: 50, starttime: 12_345, vsize: 1 << 30, rss: 2_560)
        let statistics = try #require(Self.parse(text))
        #expect(statistics.cpuSeconds == 3)
        #expect(statistics.residentBytes == 2_560 * 4096)
        #expect(statistics.virtualBytes == Double(1 << 30))
        #expect(statistics.startTime == 1_700_000_000 + 123.45)
        #expect(statistics.openFileDescriptors == 12)
        #expect(statistics.maximumFileDescriptors == 1_048_576)
    }

    @Test func aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() throws {
        let text = Self.stat(comm: "a) (b c", utime: 100, stime: 100, starttime: 0, vsize: 0, rss: 1)
        let statistics = try #require(Self.parse(text))
        #expect(statistics.cpuSeconds == 2)
        #expect(statistics.residentBytes == 4096)
    }

    @Test func textThatIsNotProcStatGivesNothing() {
        let valid = Self.stat(comm: "x", utime: 1, stime: 1, starttime: 1, vsize: 1, rss: 1)
        for (stat, systemStat) in [
            ("", Self.systemStat), ("4242 (x) S 1 2 3", Self.systemStat), (valid, "cpu 1 2 3\n"),
            (valid, "btime soon\n"),
        ] {
            #expect(Self.parse(stat, systemStat: systemStat) == nil)
        }
    }

    #if os(Linux)
    @Test func thisProcessIsReadFromProc() throws {
        let statistics = try #require(ProcessStatistics.current())
        #expect(statistics.residentBytes > 1_000_000)
        #expect(statistics.openFileDescriptors >= 3)
        #expect(statistics.maximumFileDescriptors >= statistics.openFileDescriptors)
    }
    #endif
}
