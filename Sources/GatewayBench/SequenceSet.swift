/// A growable bit set of event sequence numbers: which events one connection received
/// (to tell duplicates from first deliveries) or which events the server accepted.
package struct SequenceSet: Sendable {
    private var words: [UInt64] = []
    /// How many distinct numbers are in the set.
    package private(set) var count = 0

    /// An empty set.
    package init() {}

    /// The largest number the set holds; above it a run would need more than 8 MiB of
    /// bits per connection, so a stray number from a peer must not grow the set.
    package static let maximumValue = (1 << 26) - 1

    /// Inserts `value`; false when it was already there or is outside `0...maximumValue`.
    @discardableResult
    package mutating func insert(_ value: Int) -> Bool {
        guard value >= 0, value <= Self.maximumValue else { return false }
        let word = value >> 6
        if word >= words.count {
            words.append(contentsOf: repeatElement(0, count: max(word + 1 - words.count, words.count)))
        }
        let mask = UInt64(1) << UInt64(value & 63)
        if words[word] & mask != 0 { return false }
        words[word] |= mask
        count += 1
        return true
    }

    /// Whether `value` is in the set.
    package func contains(_ value: Int) -> Bool {
        let word = value >> 6
        guard value >= 0, word < words.count else { return false }
        return words[word] & (UInt64(1) << UInt64(value & 63)) != 0
    }

    /// How many numbers are in both sets.
    package func intersectionCount(_ other: SequenceSet) -> Int {
        var total = 0
        for index in 0..<min(words.count, other.words.count) {
            total += (words[index] & other.words[index]).nonzeroBitCount
        }
        return total
    }
}
