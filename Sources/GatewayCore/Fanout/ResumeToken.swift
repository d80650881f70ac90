/// The `id:` of every frame: the last event id seen on each topic of the stream.
///
/// Every replica receives every event, in the same order per topic, but topics interleave
/// differently on each; a position per topic (not a replica-local counter) therefore means
/// the same on every replica. Text form: `<topicIndex>:<eventId>` entries joined by `;`,
/// the id percent-escaped; an empty id means "before the first event the log holds".
package struct ResumeToken: Sendable, Equatable {
    /// Longest accepted token; anything longer is malformed.
    package static let maximumLength = 4096

    /// Last event id per topic index.
    package var positions: [Int: String]

    /// Creates a token.
    package init(positions: [Int: String]) {
        self.positions = positions
    }

    /// Parses untrusted text; `nil` when it is not a token this gateway wrote.
    package init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.count <= Self.maximumLength else { return nil }
        var positions: [Int: String] = [:]
        for entry in text.split(separator: ";", omittingEmptySubsequences: false) {
            guard let colon = entry.firstIndex(of: ":"),
                let index = Int(entry[entry.startIndex..<colon]), index >= 0, index < 1024,
                positions[index] == nil,
                let id = Self.unescape(entry[entry.index(after: colon)...])
            else { return nil }
            positions[index] = id
        }
        self.positions = positions
    }

    /// The token's text, entries in topic order.
    package var text: String {
        positions.sorted { $0.key < $1.key }.map { Self.entry(topicIndex: $0.key, eventID: $0.value) }
            .joined(separator: ";")
    }

    /// One entry of the text form.
    package static func entry(topicIndex: Int, eventID: String) -> String {
        "\(topicIndex):" + escape(eventID)
    }

    private static func escape(_ id: String) -> String {
        var result = ""
        for byte in id.utf8 {
            if byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "%") && byte != UInt8(ascii: ";") {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    private static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            } else {
                guard byte > 0x20 && byte < 0x7F else { return nil }
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
