import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into SSE lines without copying, keeping only an unfinished last
/// line between reads. The bench reads hundreds of thousands of frames a second on two
/// cores, so it scans raw bytes instead of building events.
package struct SSELineScanner: Sendable {
    /// A line longer than this is dropped (counted by the caller), so a broken peer
    /// cannot make the scanner buffer without bound.
    package static let maximumLineBytes = 1 << 20

    private var partial: [UInt8] = []
    /// Inside a line already dropped as oversized: everything up to its LF is skipped.
    private var skippingOversizedLine = false
    /// Lines dropped because they exceeded `maximumLineBytes`.
    package private(set) var oversizedLines = 0

    /// An empty scanner.
    package init() {}

    /// Calls `body` with every complete line in `buffer` (without the LF and a CR before
    /// it), prefixing the unfinished line left from the previous call.
    package mutating func scan(_ buffer: ByteBuffer, _ body: (UnsafeRawBufferPointer) -> Void) {
        buffer.withUnsafeReadableBytes { bytes in
            var start = 0
            while start < bytes.count {
                guard let newline = Self.index(of: 0x0A, in: bytes, from: start) else {
                    if skippingOversizedLine { return }
                    if partial.count + bytes.count - start > Self.maximumLineBytes {
                        partial.removeAll(keepingCapacity: false)
                        oversizedLines += 1
                        skippingOversizedLine = true
                    } else {
                        partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                    }
                    return
                }
                if skippingOversizedLine {
                    // The dropped line's end: neither its tail nor its LF is a line.
                    skippingOversizedLine = false
                } else if partial.isEmpty {
                    body(Self.trimmed(UnsafeRawBufferPointer(rebasing: bytes[start..<newline])))
                } else {
                    partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]))
                    partial.withUnsafeBytes { body(Self.trimmed($0)) }
                    partial.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
        }
    }

    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    private static func trimmed(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        if let last = line.last, last == 0x0D { return UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        return line
    }
}

/// Reads the few JSON members the bench stamps into event data, straight from an SSE
/// `data:` line: `"seq":<n>`, `"t":<ns>`, `"studentId":"<id>"`. Whatever envelope the
/// server wraps around the data (the gateway's, Nchan's none), the keys are found.
package enum SSEFields {
    /// `"seq":`
    package static let sequenceKey: [UInt8] = Array(#""seq":"#.utf8)
    /// `"t":`
    package static let timestampKey: [UInt8] = Array(#""t":"#.utf8)
    /// `"studentId":"`
    package static let studentKey: [UInt8] = Array(#""studentId":""#.utf8)

    /// Whether `line` starts with `prefix`.
    package static func hasPrefix(_ line: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard line.count >= count, let base = line.baseAddress else { return false }
        return memcmp(base, prefix.utf8Start, count) == 0
    }

    /// The unsigned integer right after `key`, if `key` occurs.
    package static func integer(after key: [UInt8], in line: UnsafeRawBufferPointer) -> UInt64? {
        guard var index = end(of: key, in: line) else { return nil }
        var value: UInt64 = 0
        var digits = 0
        while index < line.count, digits < 20 {
            let byte = line[index]
            guard byte >= 0x30, byte <= 0x39 else { break }
            value = value &* 10 &+ UInt64(byte - 0x30)
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// The bytes of the JSON string right after `key` (which ends with the opening quote),
    /// up to the closing quote; escapes are not decoded (the bench's ids have none).
    package static func string(after key: [UInt8], in line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard let start = end(of: key, in: line) else { return nil }
        var index = start
        while index < line.count, line[index] != 0x22 { index += 1 }
        guard index < line.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: line[start..<index])
    }

    /// The index just past the first occurrence of `key` in `line`.
    private static func end(of key: [UInt8], in line: UnsafeRawBufferPointer) -> Int? {
        guard let first = key.first, key.count <= line.count, let base = line.baseAddress else { return nil }
        var start = 0
        let lastStart = line.count - key.count
        return key.withUnsafeBytes { keyBytes in
            guard let keyBase = keyBytes.baseAddress else { return nil }
            while start <= lastStart {
                guard let found = memchr(base + start, Int32(first), lastStart - start + 1) else { return nil }
                let offset = base.distance(to: UnsafeRawPointer(found))
                if memcmp(base + offset, keyBase, key.count) == 0 { return offset + key.count }
                start = offset + 1
            }
            return nil
        }
    }
}
