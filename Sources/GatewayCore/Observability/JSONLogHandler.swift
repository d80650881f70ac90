import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard output, the shape
/// log collectors (Loki, Cloud Logging, Elasticsearch) parse without a custom pattern.
///
/// Fields: `time` (RFC 3339, UTC, milliseconds), `level`, `logger`, `message`, `source`
/// (the module), `error` when one is attached, then every
/// metadata key as a string (`event.topic`, `trace.parent`, …). Messages are constant
/// strings and metadata never holds a token or a payload (docs/observability.md), so the
/// handler escapes but does not filter.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    /// A handler for `label` writing to standard output.
    package init(label: String, level: Logger.Level) {
        self.init(label: label, level: level) { line in
            // One write(2) per line: lines from concurrent tasks never interleave.
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }

    /// A handler that hands each finished line (with its newline) to `write`.
    package init(label: String, level: Logger.Level, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        var members: [(String, String)] = [
            ("time", JSONText.quoted(Date().formatted(Self.timeFormat))),
            ("level", JSONText.quoted(event.level.rawValue)),
            ("logger", JSONText.quoted(label)),
            ("message", JSONText.quoted(event.message.description)),
            ("source", JSONText.quoted(event.source)),
        ]
        if let error = event.error { members.append(("error", JSONText.quoted(String(describing: error)))) }
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() {
            if let value = merged[key] { members.append((key, JSONText.quoted(Self.text(value)))) }
        }
        write(JSONText.object(members) + "\n")
    }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }
}
