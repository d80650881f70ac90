import Foundation
import GatewayCore
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore

/// A loopback OTLP/HTTP trace receiver, like an OpenTelemetry Collector's `otlp` receiver:
/// `POST /v1/traces` with an `ExportTraceServiceRequest` in protobuf, answered 200 with an
/// empty `ExportTraceServiceResponse`. It decodes every span it is sent.
struct OTLPReceiver: Sendable {
    /// What arrived, and the tests waiting for more.
    private struct State {
        var spans: [OTLPSpan] = []
        var contentTypes: [String] = []
        var waiters: [UUID: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    let port: Int
    private let state: NIOLockedValueBox<State>

    /// The `Content-Type` of every export request so far.
    var contentTypes: [String] { state.withLockedValue { $0.contentTypes } }

    /// Runs `body` with a receiver listening on a free loopback port.
    static func run<Result: Sendable>(_ body: @Sendable (OTLPReceiver) async throws -> Result) async throws -> Result {
        let state = NIOLockedValueBox(State())
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4 << 20)
            guard let spans = try? OTLPSpan.decode(exportTraceServiceRequest: Array(buffer: body)) else {
                return Response(status: .badRequest)
            }
            let ready = state.withLockedValue { state in
                state.contentTypes.append(request.headers[.contentType] ?? "")
                state.spans.append(contentsOf: spans)
                let satisfied = state.waiters.filter { $0.value.count <= state.spans.count }
                for id in satisfied.keys { state.waiters[id] = nil }
                return satisfied.values.map(\.continuation)
            }
            for continuation in ready { continuation.resume() }
            return Response(
                status: .ok,
                headers: [.contentType: "application/x-protobuf"],
                body: ResponseBody(byteBuffer: ByteBuffer())
            )
        }
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await application.test(.live) { client in
            try await body(OTLPReceiver(port: client.port ?? 0, state: state))
        }
    }

    /// The spans received, as soon as at least `count` arrived, or all so far after `timeout`.
    func spans(atLeast count: Int, within timeout: Duration) async -> [OTLPSpan] {
        let state = self.state
        _ = await withTimeout(timeout) {
            let id = UUID()
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let now = state.withLockedValue { state in
                        // Cancelled before the waiter is filed: the handler below found nothing to resume.
                        guard state.spans.count < count, !Task.isCancelled else { return true }
                        state.waiters[id] = (count, continuation)
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
            }
        }
        return state.withLockedValue { $0.spans }
    }
}

/// One span as decoded from OTLP protobuf (opentelemetry/proto/trace/v1/trace.proto).
struct OTLPSpan: Sendable {
    enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case other
    }

    var traceID = ""
    var spanID = ""
    var parentSpanID = ""
    var name = ""
    /// `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    var kind = 0
    var attributes: [String: Value] = [:]
    /// `Status.code`: 0 unset, 1 ok, 2 error.
    var statusCode = 0
    var statusMessage = ""
    /// The attributes of the resource that sent the span (`service.name`, …).
    var resource: [String: Value] = [:]

    /// Every span of an `ExportTraceServiceRequest`.
    static func decode(exportTraceServiceRequest bytes: [UInt8]) throws -> [OTLPSpan] {
        var spans: [OTLPSpan] = []
        for (field, resourceSpans) in try ProtobufFields(bytes) where field.number == 1 {
            var resource: [String: Value] = [:]
            for (inner, value) in try ProtobufFields(resourceSpans.bytes) {
                if inner.number == 1 {  // Resource
                    for (attribute, keyValue) in try ProtobufFields(value.bytes) where attribute.number == 1 {
                        let (key, decoded) = try Self.keyValue(keyValue.bytes)
                        resource[key] = decoded
                    }
                } else if inner.number == 2 {  // ScopeSpans
                    for (scopeField, span) in try ProtobufFields(value.bytes) where scopeField.number == 2 {
                        var decoded = try Self.span(span.bytes)
                        decoded.resource = resource
                        spans.append(decoded)
                    }
                }
            }
        }
        return spans
    }

    private static func span(_ bytes: [UInt8]) throws -> OTLPSpan {
        var span = OTLPSpan()
        for (field, value) in try ProtobufFields(bytes) {
            switch field.number {
            case 1: span.traceID = value.hex
            case 2: span.spanID = value.hex
            case 4: span.parentSpanID = value.hex
            case 5: span.name = value.text
            case 6: span.kind = Int(value.varint)
            case 9:
                let (key, decoded) = try keyValue(value.bytes)
                span.attributes[key] = decoded
            case 15:
                for (statusField, statusValue) in try ProtobufFields(value.bytes) {
                    if statusField.number == 2 { span.statusMessage = statusValue.text }
                    if statusField.number == 3 { span.statusCode = Int(statusValue.varint) }
                }
            default: break
            }
        }
        return span
    }

    private static func keyValue(_ bytes: [UInt8]) throws -> (String, Value) {
        var key = ""
        var value = Value.other
        for (field, content) in try ProtobufFields(bytes) {
            if field.number == 1 { key = content.text }
            if field.number == 2 {  // AnyValue
                for (kind, any) in try ProtobufFields(content.bytes) {
                    switch kind.number {
                    case 1: value = .string(any.text)
                    case 2: value = .bool(any.varint != 0)
                    case 3: value = .int(Int64(bitPattern: any.varint))
                    case 4: value = .double(Double(bitPattern: any.varint))
                    default: value = .other
                    }
                }
            }
        }
        return (key, value)
    }
}

/// The fields of one protobuf message, in order (the wire format: a varint key of field
/// number and wire type, then a varint, 8 bytes, a length-prefixed run, or 4 bytes).
struct ProtobufFields: Sequence {
    struct Field {
        var number: Int
    }

    struct Content {
        /// A varint or fixed-width value.
        var varint: UInt64 = 0
        /// A length-delimited value.
        var bytes: [UInt8] = []

        var text: String { String(decoding: bytes, as: UTF8.self) }
        var hex: String { bytes.map { String(format: "%02x", $0) }.joined() }
    }

    struct Malformed: Error {}

    private var fields: [(Field, Content)] = []

    init(_ bytes: [UInt8]) throws {
        var index = 0
        func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.count, shift < 64 else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        func fixed(_ width: Int) throws -> UInt64 {
            guard index + width <= bytes.count else { throw Malformed() }
            var result: UInt64 = 0
            for offset in 0..<width { result |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
            index += width
            return result
        }
        while index < bytes.count {
            let key = try varint()
            var content = Content()
            switch key & 7 {
            case 0: content.varint = try varint()
            case 1: content.varint = try fixed(8)
            case 2:
                let length = Int(try varint())
                guard length >= 0, index + length <= bytes.count else { throw Malformed() }
                content.bytes = Array(bytes[index..<index + length])
                index += length
            case 5: content.varint = try fixed(4)
            default: throw Malformed()
            }
            fields.append((Field(number: Int(key >> 3)), content))
        }
    }

    func makeIterator() -> IndexingIterator<[(Field, Content)]> {
        fields.makeIterator()
    }
}
