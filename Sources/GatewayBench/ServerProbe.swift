#if canImport(Glibc)
import Glibc
#endif

/// Reads other processes' resident memory and CPU time from `/proc` (Linux only), to
/// report what the connections cost the server, not the client. Several pids are summed:
/// Nginx serves from a master and one worker per core.
package struct ServerProbe: Sendable {
    /// The server's process ids.
    package let pids: [Int32]

    /// A probe for `pids`.
    package init(pids: [Int32]) {
        self.pids = pids
    }

    /// The sum of `VmRSS` in bytes; nil when a process is gone.
    package func residentBytes() -> Int? {
        sum { Self.residentBytes(pid: $0) }
    }

    /// The sum of each process's peak resident memory (`VmHWM`) in bytes.
    package func peakResidentBytes() -> Int? {
        sum { Self.statusBytes(pid: $0, field: "VmHWM:") }
    }

    /// The sum of user plus system CPU seconds.
    package func cpuSeconds() -> Double? {
        sum { Self.cpuSeconds(pid: $0) }
    }

    /// The smallest soft "Max open files" limit.
    package func openFileLimit() -> Int? {
        let limits = pids.compactMap { Self.openFileLimit(pid: $0) }
        return limits.count == pids.count ? limits.min() : nil
    }

    private func sum<Value: AdditiveArithmetic>(_ value: (Int32) -> Value?) -> Value? {
        var total = Value.zero
        for pid in pids {
            guard let one = value(pid) else { return nil }
            total += one
        }
        return pids.isEmpty ? nil : total
    }

    static func residentBytes(pid: Int32) -> Int? {
        statusBytes(pid: pid, field: "VmRSS:")
    }

    /// A kilobyte field of `/proc/PID/status` (`VmRSS:`, `VmHWM:`) in bytes.
    static func statusBytes(pid: Int32, field: String) -> Int? {
        guard let status = Self.readFile("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            let digits = line.dropFirst(field.count).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    /// User plus system CPU seconds from `/proc/PID/stat` (fields 14 and 15, in clock ticks).
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = Self.readFile("/proc/\(pid)/stat"), let end = stat.lastIndex(of: ")") else { return nil }
        // The command name (field 2) may hold spaces; count fields after its closing paren.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The soft "Max open files" limit from `/proc/PID/limits`.
    static func openFileLimit(pid: Int32) -> Int? {
        guard let limits = Self.readFile("/proc/\(pid)/limits") else { return nil }
        for line in limits.split(separator: "\n") where line.hasPrefix("Max open files") {
            let columns = line.dropFirst("Max open files".count).split(separator: " ")
            return columns.first.flatMap { Int($0) }
        }
        return nil
    }

    /// A small `/proc` file, whole; these files report size 0, so read until EOF.
    static func readFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<64 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
