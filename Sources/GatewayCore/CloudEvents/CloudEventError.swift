/// Why a delivery is not a CloudEvent the gateway can forward.
///
/// Every case is a poison event: Dapr gets `DROP` so it dead-letters the event
/// instead of retrying it forever.
package enum CloudEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is larger than the configured limit.
    case tooLarge(limit: Int)
    /// The body is not a JSON object.
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
    /// A bulk body is not shaped like Dapr's bulk delivery.
    case malformedBulkBody

    package var description: String {
        switch self {
        case .tooLarge(let limit): "the event is larger than \(limit) bytes"
        case .notJSONObject: "the body is not a JSON object"
        case .missingAttribute(let name): "the required CloudEvent attribute '\(name)' is missing or empty"
        case .attributeNotString(let name): "the CloudEvent attribute '\(name)' is not a string"
        case .unsupportedSpecVersion(let version): "specversion '\(version)' is not supported (expected 1.0)"
        case .controlCharacter(let name): "the CloudEvent attribute '\(name)' contains CR, LF or NUL"
        case .attributeTooLong(let name, let limit): "the CloudEvent attribute '\(name)' is longer than \(limit) bytes"
        case .malformedBulkBody: "the body is not a Dapr bulk delivery"
        }
    }
}
