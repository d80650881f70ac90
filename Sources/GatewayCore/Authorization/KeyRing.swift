import Foundation
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The keys tokens are verified with: fixed keys from configuration, plus a JWKS URL's
/// keys, refreshed on a schedule and on an unknown `kid` (rate-limited), keeping the last
/// good set when a refresh fails.
package actor KeyRing {
    private let fixedKeys: [VerificationKey]
    private var fetchedKeys: [VerificationKey] = []
    private let jwksURL: URL?
    private let minimumRefreshInterval: Duration
    private var lastRefreshAttempt: ContinuousClock.Instant?
    private var inFlight: Task<Bool, Never>?
    private let logger: Logger

    /// Creates a ring from fixed keys and an optional JWKS URL.
    package init(
        fixedKeys: [VerificationKey],
        jwksURL: URL?,
        minimumRefreshInterval: Duration,
        logger: Logger
    ) {
        self.fixedKeys = fixedKeys
        self.jwksURL = jwksURL
        self.minimumRefreshInterval = minimumRefreshInterval
        self.logger = logger
    }

    /// Loads the fixed keys that configuration names.
    package static func fixedKeys(
        from settings: AuthenticationSettings
    ) async throws(KeyLoadingError)
        -> [VerificationKey]
    {
        var keys: [VerificationKey] = []
        if let secret = settings.hmacSecret { keys += await VerificationKey.hmac(secret: secret) }
        for path in settings.publicKeyFiles {
            guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadableFile(path) }
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            keys += try await VerificationKey.pem(pem, keyID: name)
        }
        if let path = settings.jwksFile {
            guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
            keys += try await VerificationKey.jwks(Array(data)).keys
        }
        return keys
    }

    /// Whether a JWKS URL is configured.
    package var refreshes: Bool { jwksURL != nil }

    /// Every key the ring holds now: the fixed keys, then the JWKS URL's.
    package var keys: [VerificationKey] { fixedKeys + fetchedKeys }

    /// Fetches the JWKS URL again because a token names a `kid` no key has: it may be a
    /// key the identity provider just rotated in. Rate-limited; returns whether a new key
    /// set was loaded.
    @discardableResult
    package func refreshForUnknownKey() async -> Bool {
        guard jwksURL != nil else { return false }
        return await refresh(force: false)
    }

    /// Fetches the JWKS URL; `force` ignores the rate limit. Returns whether a new key set
    /// was loaded.
    ///
    /// A call while a fetch is in flight joins it: tokens arriving during start-up wait for
    /// the first key set instead of being refused by the rate limit.
    @discardableResult
    package func refresh(force: Bool) async -> Bool {
        guard let jwksURL else { return false }
        if let inFlight { return await inFlight.value }
        let now = ContinuousClock.now
        if !force, let last = lastRefreshAttempt, now - last < minimumRefreshInterval { return false }
        lastRefreshAttempt = now
        // A task (not a plain await) so that callers arriving meanwhile can join it.
        let fetch = Task { await self.load(from: jwksURL) }
        inFlight = fetch
        let loaded = await fetch.value
        inFlight = nil
        return loaded
    }

    private func load(from url: URL) async -> Bool {
        do {
            let body = try await Self.fetch(url)
            let loaded = try await VerificationKey.jwks(body)
            fetchedKeys = loaded.keys
            for skipped in loaded.skipped {
                logger.debug("jwks entry skipped", metadata: ["jwks.entry": "\(skipped)"])
            }
            logger.info(
                "jwks refreshed",
                metadata: ["jwks.keys": "\(loaded.keys.count)", "jwks.skipped": "\(loaded.skipped.count)"]
            )
            return true
        } catch {
            logger.error(
                "jwks refresh failed; keeping the last good key set",
                metadata: ["error": "\(error)", "jwks.keys": "\(fetchedKeys.count)"]
            )
            return false
        }
    }

    /// Larger than any provider's key set; a bigger answer is refused, not parsed.
    private static let maximumDocumentBytes = 1024 * 1024

    private static func fetch(_ url: URL) async throws -> [UInt8] {
        switch url.scheme {
        case "file":
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw KeyLoadingError.unreadableFile(url.path)
            }
            return Array(data)
        case "http", "https":
            var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 10)
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            let (data, response) = try await URLSession.shared.data(for: request)
            guard data.count <= maximumDocumentBytes else {
                throw KeyLoadingError.fetchFailed(url: url.absoluteString, reason: "the document exceeds 1 MiB")
            }
            guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 else {
                let code = (response as? HTTPURLResponse)?.statusCode ?? 0
                throw KeyLoadingError.fetchFailed(url: url.absoluteString, reason: "HTTP status \(code)")
            }
            return Array(data)
        default:
            throw KeyLoadingError.unsupportedURL(url.absoluteString)
        }
    }
}
