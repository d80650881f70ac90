import NIOCore

/// The SSE wire format (design section 3): fields, comments and frames, validated so that
/// nothing a publisher sends can start a field of its own.
package enum EventStreamFormat {
    /// The heartbeat comment.
    package static let heartbeat = ": heartbeat\n\n"

    /// Appends one `name: value` field; a value holding CR, LF or NUL is refused.
    package static func writeField(_ name: String, _ value: String, into buffer: inout ByteBuffer) throws(FieldError) {
        guard !value.containsLineBreakOrNUL else { throw FieldError(name: name) }
        buffer.writeString(name)
        buffer.writeString(": ")
        buffer.writeString(value)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// Appends `data:` lines, one per line of `text` (CRLF, CR and LF all split), so that no
    /// line break in the payload ends the field early.
    package static func writeData(_ text: some StringProtocol, into buffer: inout ByteBuffer) {
        // Compact JSON, what every event frame carries, has no raw line break: one line.
        if !text.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) {
            buffer.writeStaticString("data: ")
            buffer.writeString(String(text))
            buffer.writeInteger(UInt8(ascii: "\n"))
            return
        }
        var line: [UInt8] = []
        var previousWasCR = false
        func flush(_ line: inout [UInt8], _ buffer: inout ByteBuffer) {
            buffer.writeStaticString("data: ")
            buffer.writeBytes(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
            line.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            switch byte {
            case 0x0D:
                flush(&line, &buffer)
                previousWasCR = true
            case 0x0A:
                if !previousWasCR { flush(&line, &buffer) }
                previousWasCR = false
            case 0x00:
                previousWasCR = false  // NUL never reaches the wire
            default:
                line.append(byte)
                previousWasCR = false
            }
        }
        if !previousWasCR || !line.isEmpty { flush(&line, &buffer) }
    }

    /// A complete named event: optional `id`, `event`, `data` lines and the blank line.
    package static func writeEvent(
        id: String?,
        name: String,
        data: some StringProtocol,
        into buffer: inout ByteBuffer
    ) throws(FieldError) {
        if let id { try writeField("id", id, into: &buffer) }
        try writeField("event", name, into: &buffer)
        writeData(data, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// A `retry:` field in its own block (sets the client's reconnect delay, dispatches nothing).
    package static func writeRetry(milliseconds: Int64, into buffer: inout ByteBuffer) {
        buffer.writeString("retry: \(max(0, milliseconds))\n\n")
    }

    /// A field value would have ended its line early.
    package struct FieldError: Error, Sendable, CustomStringConvertible {
        /// The SSE field.
        package var name: String
        package var description: String { "the SSE field '\(name)' would contain CR, LF or NUL" }
    }
}
