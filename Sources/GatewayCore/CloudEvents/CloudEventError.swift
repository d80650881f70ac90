/// Why a delivery is not a CloudEvent the gateway can forward.
///
/// Every case is a poison event: Dapr gets `DROP` so it dead-letters the event
/// instead of retrying it forever.
package enum CloudEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is larger than the configured limit.
    case tooLarge(limit: Int)
    /// The body is not RFC 8259 JSON.
    case invalidJSON(JSONSyntaxError)
    /// The body (or a bulk entry's `event`) is JSON, but not an object.
    case notJSONObject
    /// A required attribute (`specversion`, `id`, `source`, `type`) is absent or empty.
    case missingAttribute(String)
    /// An attribute is present but not a string.
    case attributeNotString(String)
    /// `specversion` is not a 1.x version.
    case unsupportedSpecVersion(String)
    /// An attribute that reaches the SSE wire holds a CR, LF or NUL.
    case controlCharacter(String)
    /// An attribute is longer than the gateway accepts for it.
    case attributeTooLong(String, limit: Int)
    /// Both `data` and `data_base64` are present (the JSON format makes them exclusive).
    case dataAndDataBase64
    /// A binary-mode `ce-*` header is not percent-encoded UTF-8.
    case invalidHeaderEncoding(String)

    package var description: String {
        switch self {
        case .tooLarge(let limit): "the event is larger than \(limit) bytes"
        case .invalidJSON(let error): "the body is not JSON: \(error)"
        case .notJSONObject: "the event is not a JSON object"
        case .missingAttribute(let name): "the required CloudEvent attribute '\(name)' is missing or empty"
        case .attributeNotString(let name): "the CloudEvent attribute '\(name)' is not a string"
        case .unsupportedSpecVersion(let version): "specversion '\(version)' is not supported (expected 1.0)"
        case .controlCharacter(let name): "the CloudEvent attribute '\(name)' contains CR, LF or NUL"
        case .attributeTooLong(let name, let limit): "the CloudEvent attribute '\(name)' is longer than \(limit) bytes"
        case .dataAndDataBase64: "the event has both 'data' and 'data_base64'"
        case .invalidHeaderEncoding(let name): "the header '\(name)' is not percent-encoded UTF-8"
        }
    }
}
