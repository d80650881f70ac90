/// The CloudEvent attributes of a binary-mode request, from its `ce-*` headers, as sent
/// (percent-encoded, as the CloudEvents HTTP binding requires).
package struct CloudEventHeaders: Sendable, Equatable {
    /// `ce-specversion`; its presence makes a non-CloudEvents content type binary mode.
    package var specversion: String?
    /// `ce-id`.
    package var id: String?
    /// `ce-source`.
    package var source: String?
    /// `ce-type`.
    package var type: String?
    /// `ce-time`.
    package var time: String?

    /// No headers.
    package init() {}

    /// Reads the headers through `header` (a case-insensitive lookup by name).
    package init(header: (String) -> String?) {
        self.specversion = header("ce-specversion")
        // Without specversion the request is not binary mode: nothing else is read.
        guard specversion != nil else { return }
        self.id = header("ce-id")
        self.source = header("ce-source")
        self.type = header("ce-type")
        self.time = header("ce-time")
    }

    /// Decodes a header value's percent-encoding; nil when it is not UTF-8 once decoded.
    package static func percentDecoded(_ value: String) -> String? {
        guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        var iterator = value.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(JSONScanner.hexValue),
                let low = iterator.next().flatMap(JSONScanner.hexValue)
            else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
