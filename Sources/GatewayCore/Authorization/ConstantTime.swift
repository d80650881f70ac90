/// Comparisons of secrets that take the same time wherever the inputs differ.
package enum ConstantTime {
    /// Whether `presented` equals `expected`, without an early exit on the first difference.
    package static func equals(_ presented: some StringProtocol, _ expected: some StringProtocol) -> Bool {
        let lhs = Array(presented.utf8)
        let rhs = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        if lhs.count != rhs.count { difference |= 1 }
        for index in 0..<rhs.count {
            let left = index < lhs.count ? lhs[index] : 0
            difference |= left ^ rhs[index]
        }
        return difference == 0
    }
}
