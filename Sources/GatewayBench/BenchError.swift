/// Why a benchmark run could not start or finish.
package enum BenchError: Error, CustomStringConvertible, Equatable {
    /// The URL is not `http://host:port/path`.
    case malformedURL(String)
    /// The target host is not on 127.0.0.0/8.
    case notLoopback(String)
    /// The process cannot hold that many sockets.
    case fileDescriptorLimit(needed: Int, hardLimit: Int)
    /// The token file has fewer lines than connections.
    case notEnoughTokens(needed: Int, found: Int)
    /// Neither a secret, a token file nor `--no-auth`.
    case noCredentials
    /// A flag value that cannot be used.
    case invalidOption(String)

    /// The sentence for the command line.
    package var description: String {
        switch self {
        case .malformedURL(let url):
            return "'\(url)' is not an http://host:port/path URL"
        case .notLoopback(let host):
            return "'\(host)' is not a loopback address: the bench only targets 127.0.0.0/8"
        case .fileDescriptorLimit(let needed, let hardLimit):
            return "\(needed) sockets need more file descriptors than the hard limit \(hardLimit) of this process"
        case .notEnoughTokens(let needed, let found):
            return "the token file has \(found) tokens, \(needed) connections need one each"
        case .noCredentials:
            return "give --secret (or GATEWAY_JWT_HS256_SECRET), --token-file, or --no-auth"
        case .invalidOption(let text):
            return text
        }
    }
}
