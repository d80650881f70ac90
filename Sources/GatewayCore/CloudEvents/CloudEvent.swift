/// A CloudEvent built in code (tests, benchmarks), reduced to what the gateway forwards.
///
/// Deliveries never become one of these: `EventIngest` reads a delivery body straight
/// into an `EventFrame`.
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

    /// Creates an event from its parts.
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
}

extension StringProtocol {
    /// Whether the text holds a character that would end or split an SSE field.
    package var containsLineBreakOrNUL: Bool {
        utf8.contains { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }
    }
}
