/// Where a claim setting points in a token's payload (design section 5).
///
/// An exact top-level claim name wins, so Auth0's namespaced claims
/// (`https://example.com/roles`) and Entra ID's `extn.*` claims keep working; when no
/// top-level claim has that name, dots separate nested object keys, so Keycloak's
/// `realm_access.roles` and `resource_access.<client>.roles` can be named.
package struct ClaimPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The setting as written.
    package let text: String
    /// The nested keys, when `text` is read as a path.
    private let keys: [Substring]

    /// A claim path as a setting names it.
    package init(_ text: String) {
        self.text = text
        self.keys = text.split(separator: ".", omittingEmptySubsequences: false)
    }

    package init(stringLiteral value: String) {
        self.init(value)
    }

    package var description: String { text }

    /// The value this path names in `claims`, if any.
    package func value(in claims: [String: JSONValue]) -> JSONValue? {
        if let exact = claims[text] { return exact }
        guard keys.count > 1, var current = claims[String(keys[0])] else { return nil }
        for key in keys.dropFirst() {
            guard let next = current[String(key)] else { return nil }
            current = next
        }
        return current
    }
}
