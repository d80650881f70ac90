/// The query of a stream or poll request, parsed and validated as untrusted input.
package struct StreamQuery: Sendable, Equatable {
    /// Longest accepted filter value.
    package static let maximumValueLength = 200
    /// Most topics or types one request may name.
    package static let maximumListLength = 32

    /// Topics named by `topics=a,b`; `nil` when absent (every granted topic).
    package var topics: [String]?
    /// The narrowing filters.
    package var filters: StreamFilters
    /// `lastEventId`, for clients that cannot set `Last-Event-ID`.
    package var lastEventID: String?
    /// `access_token`, used only when the gateway allows query tokens.
    package var accessToken: String?
    /// `wait` of a poll: whole seconds to wait for a first event (0 to `maximumWaitSeconds`).
    package var waitSeconds: Int?

    /// Longest long poll, in seconds.
    package static let maximumWaitSeconds = 30

    /// Parses query parameters (already percent-decoded).
    package init(parameters: [(name: String, value: String)]) throws(AuthorizationError) {
        var values: [String: String] = [:]
        for (name, value) in parameters {
            guard values[name] == nil else { throw .malformedFilter(name: name, reason: "given more than once") }
            values[name] = value
        }
        self.topics = try values["topics"].map { text throws(AuthorizationError) in
            try Self.list(text, name: "topics")
        }
        self.filters = StreamFilters(
            studentID: try values["studentId"].map { text throws(AuthorizationError) in
                try Self.value(text, name: "studentId")
            },
            courseID: try values["courseId"].map { text throws(AuthorizationError) in
                try Self.value(text, name: "courseId")
            },
            minimumPriority: try values["minPriority"].map { text throws(AuthorizationError) in
                guard let priority = EventPriority(name: text) else {
                    throw .malformedFilter(name: "minPriority", reason: "expected low, normal, high or critical")
                }
                return priority
            },
            types: try values["types"].map { text throws(AuthorizationError) in Set(try Self.list(text, name: "types"))
            }
        )
        self.lastEventID = values["lastEventId"]
        self.accessToken = values["access_token"]
        self.waitSeconds = try values["wait"].map { text throws(AuthorizationError) in
            guard let seconds = Int(text), (0...Self.maximumWaitSeconds).contains(seconds) else {
                throw .malformedFilter(
                    name: "wait",
                    reason: "expected whole seconds from 0 to \(Self.maximumWaitSeconds)"
                )
            }
            return seconds
        }
    }

    private static func value(_ text: String, name: String) throws(AuthorizationError) -> String {
        guard !text.isEmpty else { throw .malformedFilter(name: name, reason: "empty") }
        guard text.utf8.count <= maximumValueLength else {
            throw .malformedFilter(name: name, reason: "longer than \(maximumValueLength) bytes")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .malformedFilter(name: name, reason: "contains control characters")
        }
        return text
    }

    private static func list(_ text: String, name: String) throws(AuthorizationError) -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard items.count <= maximumListLength else {
            throw .malformedFilter(name: name, reason: "more than \(maximumListLength) entries")
        }
        var result: [String] = []
        for item in items { result.append(try value(item, name: name)) }
        return result
    }
}
