/// The verified identity behind a stream: who the user is and what their claims grant.
package struct Principal: Sendable, Equatable {
    /// The subject claim (the user id; for a student, the student id).
    package var subject: String
    /// Roles from the roles claim.
    package var roles: Set<String>
    /// String-list claims by name, including the subject claim, for scope rules to read.
    package var grants: [String: Set<String>]
    /// When the token expires, in seconds since 1970.
    package var expiresAt: Double

    /// Creates a principal.
    package init(subject: String, roles: Set<String>, grants: [String: Set<String>], expiresAt: Double) {
        self.subject = subject
        self.roles = roles
        self.grants = grants
        self.expiresAt = expiresAt
    }

    /// The keys the named claims grant together.
    package func keys(grantedBy claims: [String]) -> Set<String> {
        var keys = Set<String>()
        for claim in claims { keys.formUnion(grants[claim] ?? []) }
        return keys
    }
}
