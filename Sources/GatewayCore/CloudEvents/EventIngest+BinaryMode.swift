import Foundation

extension EventIngest {
    /// A binary-mode delivery (attributes in `ce-*` headers, the body is the data), as
    /// Knative and the CloudEvents SDKs send it: rewritten into the structured event the
    /// JSON format would give, then ingested like one.
    ///
    /// The data becomes `data` when it is JSON (and the content type is JSON or absent), a
    /// string when it is text (or declared JSON but invalid, as Dapr does), else
    /// `data_base64`. A string or base64 payload holding a JSON object is then promoted
    /// like any other.
    func binary(
        _ bytes: UnsafeRawBufferPointer,
        headers: CloudEventHeaders,
        contentType: String?,
        context: Context
    ) -> IngestResult {
        guard bytes.count <= limits.maxEventBytes else {
            return .refused(.poison(.tooLarge(limit: limits.maxEventBytes)))
        }
        var members: [(String, String)] = []
        let attributes = [
            ("specversion", "ce-specversion", headers.specversion), ("id", "ce-id", headers.id),
            ("source", "ce-source", headers.source), ("type", "ce-type", headers.type),
            ("time", "ce-time", headers.time),
        ]
        for (name, header, value) in attributes {
            guard let value else { continue }
            guard let decoded = CloudEventHeaders.percentDecoded(value) else {
                return .refused(.poison(.invalidHeaderEncoding(header)))
            }
            members.append((name, JSONText.quoted(decoded)))
        }
        if !bytes.isEmpty { members.append(Self.dataMember(bytes, mediaType: MediaType(contentType))) }
        var event = JSONText.object(members)
        return event.withUTF8 { single(UnsafeRawBufferPointer($0), context: context) }
    }

    /// The JSON format's member for a binary-mode body: name and JSON text.
    private static func dataMember(_ bytes: UnsafeRawBufferPointer, mediaType: MediaType) -> (String, String) {
        switch mediaType {
        case .json, .none, .cloudEvents, .cloudEventsBatch:
            if (try? JSONScanner.validate(bytes)) != nil { return ("data", String(decoding: bytes, as: UTF8.self)) }
            if let text = String(validating: bytes, as: UTF8.self) { return ("data", JSONText.quoted(text)) }
        case .text:
            if let text = String(validating: bytes, as: UTF8.self) { return ("data", JSONText.quoted(text)) }
        case .other:
            break
        }
        return ("data_base64", JSONText.quoted(Data(bytes).base64EncodedString()))
    }

    /// Runs `body` with the decoded bytes of a `data_base64` value when they are a JSON
    /// object after optional whitespace; nil otherwise (not base64, or not an object).
    static func withObject<Value>(inBase64 text: String, _ body: (UnsafeRawBufferPointer) -> Value) -> Value? {
        guard let decoded = Data(base64Encoded: text) else { return nil }
        return decoded.withUnsafeBytes { withObject(in: $0, body) }
    }
}
