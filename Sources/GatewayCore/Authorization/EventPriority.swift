/// `data.priority` of an event, ordered `low` < `normal` < `high` < `critical`.
package enum EventPriority: Int, Sendable, Comparable, CaseIterable {
    case low
    case normal
    case high
    case critical

    /// Parses a priority name; `nil` for anything else.
    package init?(name: String) {
        switch name {
        case "low": self = .low
        case "normal": self = .normal
        case "high": self = .high
        case "critical": self = .critical
        default: return nil
        }
    }

    /// The priority name.
    package var name: String {
        switch self {
        case .low: "low"
        case .normal: "normal"
        case .high: "high"
        case .critical: "critical"
        }
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
