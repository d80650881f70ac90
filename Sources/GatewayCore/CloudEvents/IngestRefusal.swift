/// Why a whole delivery is refused. Each route maps these to its answer in one exhaustive
/// switch (Dapr: `DROP`, `404` or `413`; the demo route: problem statuses).
package enum IngestRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// A poison event: Dapr must dead-letter it, not retry it.
    case poison(CloudEventError)
    /// The route's topic is not carried by this gateway.
    case unknownTopic(String)
    /// A bulk or batch body with more entries than `maxMessagesCount` (daprd never sends one).
    case tooManyEntries(limit: Int)
    /// A bulk or batch body larger than its byte bound.
    case bodyTooLarge(limit: Int)

    package var description: String {
        switch self {
        case .poison(let error): error.description
        case .unknownTopic(let topic): "the topic '\(topic)' is not carried by this gateway"
        case .tooManyEntries(let limit): "the body holds more than \(limit) entries"
        case .bodyTooLarge(let limit): "the body is larger than \(limit) bytes"
        }
    }
}
