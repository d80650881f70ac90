/// An `http://host:port/path?query` URL on loopback, split into what a raw HTTP/1.1 client
/// needs. Only plain HTTP: TLS would measure the cipher, not the gateway.
package struct TargetURL: Sendable, Equatable {
    /// Host as written (checked to be loopback).
    package let host: String
    /// TCP port.
    package let port: Int
    /// Path and query, starting with `/`.
    package let pathAndQuery: String

    /// Parses and checks `text`.
    package init(_ text: String) throws {
        guard text.hasPrefix("http://") else { throw BenchError.malformedURL(text) }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        let hostPart: Substring
        let port: Int
        if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let parsed = Int(authority[authority.index(after: colon)...]), (1...65535).contains(parsed) else {
                throw BenchError.malformedURL(text)
            }
            port = parsed
        } else {
            hostPart = authority
            port = 80
        }
        guard !hostPart.isEmpty else { throw BenchError.malformedURL(text) }
        guard LoopbackAddresses.isLoopback(String(hostPart)) else { throw BenchError.notLoopback(String(hostPart)) }
        self.host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        self.port = port
        self.pathAndQuery = path.isEmpty ? "/" : String(path)
    }

    /// The `Host` header value.
    package var hostHeader: String { "\(host):\(port)" }
}
