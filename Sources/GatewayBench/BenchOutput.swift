import Foundation

/// What every bench run prints: a summary for people, then one JSON line for scripts.
package protocol BenchOutput: Encodable, Sendable {
    /// A label copied into the report (`--label`).
    var label: String { get set }
    /// The human-readable summary.
    func text() -> String
}

extension BenchOutput {
    /// The single JSON line: sorted keys, so runs compare line by line.
    package func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `12.3 MiB`, or `n/a` when the figure is missing.
func mebibytes(_ bytes: Int?) -> String {
    bytes.map { String(format: "%.1f MiB", Double($0) / 1_048_576) } ?? "n/a"
}

extension BenchConfiguration {
    /// Raises this process's descriptor limit and checks the run fits: the streams, plus
    /// `otherSockets`, plus a margin; and a token per stream when tokens are given.
    package func checkResources(otherSockets: Int) throws -> (soft: Int, hard: Int) {
        let limits = ProcessResources.raiseOpenFileLimit()
        let needed = connections + otherSockets + 64
        guard needed <= limits.soft else {
            throw BenchError.fileDescriptorLimit(needed: needed, hardLimit: limits.hard)
        }
        if let tokens, tokens.count < connections {
            throw BenchError.notEnoughTokens(needed: connections, found: tokens.count)
        }
        return limits
    }
}
