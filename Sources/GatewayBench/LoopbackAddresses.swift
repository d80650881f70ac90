import NIOCore

/// Loopback-only addressing: the target must be on 127.0.0.0/8 (the tool is a local load
/// generator, never a tool to aim at someone else's server), and each client socket binds
/// its own source address on 127.0.0.0/8 before connecting. One source address has about
/// 28k ephemeral ports; spreading sources lifts that ceiling far above the fd limit.
package enum LoopbackAddresses {
    /// Whether `host` is a literal IPv4 loopback address (or `localhost`).
    package static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// The source address of connection `index`: 127.0.y.x with x, y in 1...250, so
    /// 62,500 connections each get their own source address before any is reused.
    package static func source(forConnection index: Int) throws -> SocketAddress {
        let slot = index % 62_500
        let host = "127.0.\(1 + slot / 250).\(1 + slot % 250)"
        return try SocketAddress(ipAddress: host, port: 0)
    }
}
