import Foundation

/// A CloudEvent as daprd delivers it, validated and reduced to what the gateway forwards.
package struct CloudEvent: Sendable, Equatable {
    /// The longest `id` accepted; ids travel inside resume tokens, so they must stay small.
    package static let maximumIDLength = 200

    /// The CloudEvent `id` (unique per source; Dapr deduplicates on it).
    package var id: String
    /// The CloudEvent `source` (the publisher's app id under Dapr).
    package var source: String
    /// The CloudEvent `type`.
    package var type: String
    /// The CloudEvent `time`, as the publisher wrote it.
    package var time: String?
    /// The payload. A string that parses as a JSON object is promoted to that object.
    package var data: JSONValue
    /// `data_base64` for binary payloads, forwarded as is.
    package var dataBase64: String?
    /// W3C trace context from Dapr, for log correlation only.
    package var traceparent: String?

    /// Creates an event from its parts (tests and the dev publish path).
    package init(
        id: String,
        source: String,
        type: String,
        time: String? = nil,
        data: JSONValue,
        dataBase64: String? = nil,
        traceparent: String? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.data = data
        self.dataBase64 = dataBase64
        self.traceparent = traceparent
    }

    /// Decodes one CloudEvent from a delivery body of at most `maximumBytes` bytes.
    package init(decoding body: some Collection<UInt8>, maximumBytes: Int) throws(CloudEventError) {
        guard body.count <= maximumBytes else { throw .tooLarge(limit: maximumBytes) }
        let decoded: JSONValue
        do {
            decoded = try JSONValue(parsing: body)
        } catch {
            throw .notJSONObject
        }
        try self.init(envelope: decoded)
    }

    /// Validates an already-decoded envelope (one entry of a bulk delivery).
    package init(envelope: JSONValue) throws(CloudEventError) {
        guard case .object(let members) = envelope else { throw .notJSONObject }
        func requiredString(_ name: String) throws(CloudEventError) -> String {
            guard let value = members[name], value != .null else { throw .missingAttribute(name) }
            guard case .string(let text) = value else { throw .attributeNotString(name) }
            guard !text.isEmpty else { throw .missingAttribute(name) }
            return text
        }
        func optionalString(_ name: String) throws(CloudEventError) -> String? {
            guard let value = members[name], value != .null else { return nil }
            guard case .string(let text) = value else { throw .attributeNotString(name) }
            return text
        }
        let specversion = try requiredString("specversion")
        guard specversion == "1.0" || specversion.hasPrefix("1.") else {
            throw .unsupportedSpecVersion(String(specversion.prefix(16)))
        }
        let id = try requiredString("id")
        let source = try requiredString("source")
        let type = try requiredString("type")
        for (name, value) in [("id", id), ("type", type), ("source", source)] where value.containsLineBreakOrNUL {
            throw .controlCharacter(name)
        }
        guard id.utf8.count <= Self.maximumIDLength else {
            throw .attributeTooLong("id", limit: Self.maximumIDLength)
        }
        var data = members["data"] ?? .null
        // Dapr wraps any non-`application/json` publish as a string; a string that is a
        // JSON object is matched and forwarded as that object (dapr-contract.md).
        if case .string(let text) = data, text.first == "{",
            let promoted = try? JSONValue(parsing: text.utf8),
            case .object = promoted
        {
            data = promoted
        }
        self.init(
            id: id,
            source: source,
            type: type,
            time: try optionalString("time"),
            data: data,
            dataBase64: try optionalString("data_base64"),
            traceparent: try optionalString("traceparent")
        )
    }
}

extension StringProtocol {
    /// Whether the text holds a character that would end or split an SSE field.
    package var containsLineBreakOrNUL: Bool {
        utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }
    }
}
