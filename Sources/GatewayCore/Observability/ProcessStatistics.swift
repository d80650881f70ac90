#if canImport(Glibc)
import Glibc
#endif

/// The process's own resource use, as the Go and JVM Prometheus clients read it from
/// `/proc` (Linux only: elsewhere `current()` is `nil` and no `process_*` metric moves).
package struct ProcessStatistics: Sendable, Equatable {
    /// User plus system CPU time, in seconds.
    package var cpuSeconds: Double
    /// Resident set size, in bytes.
    package var residentBytes: Double
    /// Virtual memory size, in bytes.
    package var virtualBytes: Double
    /// When the process started, in seconds since the Unix epoch.
    package var startTime: Double
    /// Open file descriptors (entries of `/proc/self/fd`).
    package var openFileDescriptors: Int
    /// The soft `RLIMIT_NOFILE`: what accept() runs into.
    package var maximumFileDescriptors: Int

    /// Builds the statistics from the text of `/proc/self/stat` and `/proc/stat`, clock ticks
    /// per second and the page size; `nil` when either text is not what Linux writes.
    package init?(
        stat: String,
        systemStat: String,
        ticksPerSecond: Double,
        pageSize: Double,
        openFileDescriptors: Int,
        maximumFileDescriptors: Int
    ) {
        // The command name (field 2) is in parentheses and may itself hold spaces or
        // parentheses: the fields that follow start after the LAST ')'.
        guard ticksPerSecond > 0, let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // fields[0] is field 3 (state): field n of proc(5) is fields[n - 3].
        func field(_ number: Int) -> Double? {
            fields.indices.contains(number - 3) ? Double(fields[number - 3]) : nil
        }
        guard let userTicks = field(14), let systemTicks = field(15), let startTicks = field(22),
            let virtualBytes = field(23), let residentPages = field(24),
            let bootLine = systemStat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let bootTime = Double(bootLine.dropFirst("btime ".count).trimmingSpaces)
        else { return nil }
        cpuSeconds = (userTicks + systemTicks) / ticksPerSecond
        residentBytes = residentPages * pageSize
        self.virtualBytes = virtualBytes
        startTime = bootTime + startTicks / ticksPerSecond
        self.openFileDescriptors = openFileDescriptors
        self.maximumFileDescriptors = maximumFileDescriptors
    }

    /// This process now, read from `/proc`; `nil` where there is no `/proc` (macOS).
    package static func current() -> ProcessStatistics? {
        #if os(Linux)
        guard let stat = read("/proc/self/stat"), let systemStat = read("/proc/stat") else { return nil }
        var limit = rlimit()
        let maximum = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 0
        return ProcessStatistics(
            stat: stat,
            systemStat: systemStat,
            ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Double(sysconf(Int32(_SC_PAGESIZE))),
            openFileDescriptors: countOpenFileDescriptors(),
            maximumFileDescriptors: maximum
        )
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// A whole `/proc` file: they report size 0, so read until end of file (bounded: 64 KiB).
    private static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 64 * 1024 {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Entries of `/proc/self/fd`, without `.`, `..` and the descriptor that reads the folder.
    private static func countOpenFileDescriptors() -> Int {
        guard let folder = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(folder) }
        var count = 0
        while let entry = readdir(folder) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { name in
                name[0] == UInt8(ascii: ".") && (name[1] == 0 || (name[1] == UInt8(ascii: ".") && name[2] == 0))
            }
            if !isDot { count += 1 }
        }
        return max(0, count - 1)
    }
    #endif
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " || text.last == "\r" { text.removeLast() }
        return text
    }
}
