import Foundation

/// Translates the role names an identity provider puts in tokens into the roles the
/// topic rules name (`GATEWAY_JWT_ROLE_MAP`, e.g. `lms-admin=admin,lms-teacher=instructor`).
///
/// Empty (the default), a token's roles are taken as they are. Set, the map is the whole
/// translation: a provider role it does not list grants nothing, so a provider role that
/// merely happens to be called `admin` cannot make someone the gateway's `admin`; keep a
/// name as it is with `student=student`.
package struct RoleMap: Sendable, Equatable {
    /// Gateway roles per provider role.
    package private(set) var gatewayRoles: [String: Set<String>] = [:]

    /// The identity map (roles are taken as they are).
    package init() {}

    /// A map from `provider-role=gateway-role` entries; a provider role may appear more
    /// than once to grant several gateway roles.
    package init(entries: [String]) throws(MalformedEntry) {
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let provider = parts.first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
            let gateway = parts.count == 2 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
            guard !provider.isEmpty, !gateway.isEmpty, !gateway.contains("=") else {
                throw MalformedEntry(entry: entry)
            }
            gatewayRoles[provider, default: []].insert(gateway)
        }
    }

    /// Whether roles are taken as they are.
    package var isIdentity: Bool { gatewayRoles.isEmpty }

    /// The gateway roles a token's provider roles grant.
    package func roles(from providerRoles: some Sequence<String>) -> Set<String> {
        guard !isIdentity else { return Set(providerRoles) }
        var roles = Set<String>()
        for role in providerRoles { roles.formUnion(gatewayRoles[role] ?? []) }
        return roles
    }

    /// A provider role that grants `gatewayRole` (for minting tokens), or `gatewayRole`
    /// itself when the map is the identity or does not grant it.
    package func providerRole(for gatewayRole: String) -> String {
        gatewayRoles.filter { $0.value.contains(gatewayRole) }.keys.min() ?? gatewayRole
    }

    /// An entry that is not `provider-role=gateway-role`.
    package struct MalformedEntry: Error, Sendable, Equatable {
        /// The entry as written.
        package var entry: String

        /// The refusal of `entry`.
        package init(entry: String) {
            self.entry = entry
        }
    }
}
