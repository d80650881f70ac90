import NIOCore

/// How a stream's body is delimited on the wire once the HTTP encoder has left its
/// pipeline: chunked on HTTP/1.1, by closing the connection on HTTP/1.0 (which has no
/// chunked coding, so a chunked stream would be garbage to it).
///
/// A piece of body is encoded into a buffer from `makeBuffer()`, which leaves room in
/// front for the chunk's size line, and `seal` writes that line in place: one buffer and
/// one write per piece, where NIO's encoder writes three (size line, data, line break).
enum BodyFraming: Sendable, Equatable {
    /// `Transfer-Encoding: chunked` (HTTP/1.1).
    case chunked
    /// Raw bytes; the end of the body is the end of the connection (HTTP/1.0).
    case closeDelimited

    /// Room in front of a chunk for its size: 8 hex digits (up to 4 GiB) and CRLF.
    private static let sizeLineRoom = 10

    /// An empty buffer for one piece of the body.
    func makeBuffer(capacity: Int = 256) -> ByteBuffer {
        var buffer = ByteBuffer()
        switch self {
        case .chunked:
            buffer.reserveCapacity(capacity + Self.sizeLineRoom + 2)
            buffer.moveWriterIndex(forwardBy: Self.sizeLineRoom)
            buffer.moveReaderIndex(forwardBy: Self.sizeLineRoom)
        case .closeDelimited:
            buffer.reserveCapacity(capacity)
        }
        return buffer
    }

    /// Frames a piece made by `makeBuffer()` for the wire. An empty piece stays empty and
    /// must not be written: an empty chunk would end the body.
    func seal(_ buffer: inout ByteBuffer) {
        guard self == .chunked, buffer.readableBytes > 0 else { return }
        let size = buffer.readableBytes
        var digits = 1
        while size >> (4 * digits) > 0 { digits += 1 }
        let start = buffer.readerIndex - digits - 2
        precondition(start >= 0, "a chunk must come from makeBuffer()")
        var index = start
        for shift in stride(from: 4 * (digits - 1), through: 0, by: -4) {
            buffer.setInteger(Self.hexDigits[(size >> shift) & 0xF], at: index)
            index += 1
        }
        buffer.setInteger(UInt8(ascii: "\r"), at: index)
        buffer.setInteger(UInt8(ascii: "\n"), at: index + 1)
        buffer.moveReaderIndex(to: start)
        buffer.writeStaticString("\r\n")
    }

    /// The bytes that end the body: the last chunk, or nothing (closing ends it).
    var end: ByteBuffer {
        switch self {
        case .chunked: ByteBuffer(staticString: "0\r\n\r\n")
        case .closeDelimited: ByteBuffer()
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
