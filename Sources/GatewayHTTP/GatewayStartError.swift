/// Why the gateway cannot start; the process exits with this message.
package enum GatewayStartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `getrlimit(RLIMIT_NOFILE)` failed.
    case descriptorLimitUnknown
    /// The descriptor limit leaves fewer than 16 connections after the reserve.
    case descriptorLimitTooLow(limit: Int, reserve: Int)

    package var description: String {
        switch self {
        case .descriptorLimitUnknown:
            "the open-file limit (RLIMIT_NOFILE) cannot be read"
        case .descriptorLimitTooLow(let limit, let reserve):
            "the open-file limit (\(limit)) leaves too few connections after the reserve of \(reserve) descriptors: raise `ulimit -n` or lower GATEWAY_DESCRIPTOR_RESERVE"
        }
    }
}
