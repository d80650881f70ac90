import Configuration
import Foundation
import GatewayCore
import SystemPackage

/// Builds the typed settings tree once, from the command line, then the environment, then
/// the optional settings file. Each key below is documented in the README's table.
enum SettingsLoader {
    /// Keys whose values are never printed.
    static let secretVariables: Set<String> = ["GATEWAY_JWT_HS256_SECRET", "APP_API_TOKEN"]

    static func load(_ options: SettingsOptions) async throws -> GatewaySettings {
        var arguments: [AbsoluteConfigKey: ConfigValue] = [:]
        if let port = options.port { arguments["gateway.port"] = .init(.int(port), isSecret: false) }
        if let host = options.host { arguments["gateway.host"] = .init(.string(host), isSecret: false) }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "arguments", values: arguments),
            EnvironmentVariablesProvider(secretsSpecifier: .specific(secretVariables)),
        ]
        let environment = ProcessInfo.processInfo.environment
        if let path = options.config ?? environment["GATEWAY_CONFIG_FILE"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else { throw SettingsError.missingFile(path) }
            do {
                if path.hasSuffix(".json") {
                    providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(path)))
                } else {
                    providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(path)))
                }
            } catch {
                throw SettingsError.unreadableFile(path, "\(error)")
            }
        }
        return try settings(from: ConfigReader(providers: providers), dev: options.dev)
    }

    static func settings(from config: ConfigReader, dev: Bool) throws -> GatewaySettings {
        var settings = GatewaySettings()
        settings.devMode = dev
        // Dev mode mints admin tokens and publishes without authentication: loopback only,
        // unless --host, GATEWAY_HOST or the file names an address.
        settings.host = config.string(forKey: "gateway.host", default: dev ? "127.0.0.1" : settings.host)
        settings.port = config.int(forKey: "gateway.port", default: settings.port)
        settings.pubsubName = config.string(forKey: "gateway.pubsubName", default: settings.pubsubName)
        let deadLetter = config.string(forKey: "gateway.deadLetterTopic", default: settings.deadLetterTopic ?? "")
        settings.deadLetterTopic = deadLetter.isEmpty ? nil : deadLetter
        settings.heartbeatInterval = .seconds(config.double(forKey: "gateway.heartbeatSeconds", default: 30))
        settings.retryHint = .milliseconds(config.int(forKey: "gateway.retryMilliseconds", default: 3000))
        settings.maxEventBytes = config.int(forKey: "gateway.maxEventBytes", default: settings.maxEventBytes)
        settings.subscriberBufferFrames = config.int(
            forKey: "gateway.subscriberBuffer",
            default: settings.subscriberBufferFrames
        )
        settings.deduplicationWindow = config.int(forKey: "gateway.dedupWindow", default: settings.deduplicationWindow)
        settings.drainTimeout = .seconds(config.double(forKey: "gateway.drainSeconds", default: 10))
        settings.reconnectJitterWindow = .seconds(config.double(forKey: "gateway.reconnectJitterSeconds", default: 10))
        settings.writeTimeout = .seconds(config.double(forKey: "gateway.writeTimeoutSeconds", default: 30))
        settings.replayChunkBytes = config.int(forKey: "gateway.replayChunkBytes", default: settings.replayChunkBytes)
        settings.appAPIToken = config.string(forKey: "app.apiToken", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }

        var auth = settings.authentication
        auth.hmacSecret = config.string(forKey: "gateway.jwt.hs256.secret", isSecret: true).flatMap {
            $0.isEmpty ? nil : $0
        }
        auth.publicKeyFiles = config.stringArray(forKey: "gateway.jwt.publicKeyFiles", default: [])
        auth.jwksFile = config.string(forKey: "gateway.jwksFile")
        auth.jwksURL = config.string(forKey: "gateway.jwksUrl")
        auth.jwksRefreshInterval = .seconds(config.double(forKey: "gateway.jwksRefreshSeconds", default: 300))
        auth.jwksMinimumRefreshInterval = .seconds(config.double(forKey: "gateway.jwksMinRefreshSeconds", default: 30))
        auth.algorithms = config.stringArray(forKey: "gateway.jwt.algorithms", default: auth.algorithms)
        auth.issuer = config.string(forKey: "gateway.jwt.issuer")
        auth.audience = config.string(forKey: "gateway.jwt.audience")
        auth.leeway = .seconds(config.int(forKey: "gateway.jwt.leewaySeconds", default: 30))
        auth.claims = try claimNames(from: config)
        do {
            auth.roleMap = try RoleMap(entries: list(config, "gateway.jwt.roleMap") ?? [])
        } catch {
            throw SettingsError.invalid(
                "gateway.jwt.roleMap (GATEWAY_JWT_ROLE_MAP)",
                "comma-separated provider-role=gateway-role entries such as lms-admin=admin, not '\(error.entry)'"
            )
        }
        auth.allowQueryToken = config.bool(forKey: "gateway.allowQueryToken", default: false)
        auth.sessionCookieName = config.string(forKey: "gateway.sessionCookie", default: auth.sessionCookieName)
        try readSessionCookie(from: config, dev: dev, into: &auth)
        settings.authentication = auth
        do {
            settings.corsOrigins = try (list(config, "gateway.corsOrigins") ?? []).map { try AllowedOrigin($0).text }
        } catch {
            throw SettingsError.invalid("gateway.corsOrigins (GATEWAY_CORS_ORIGINS)", "exact origins: \(error)")
        }

        settings.limits.streamsPerUser = config.int(
            forKey: "gateway.maxStreamsPerUser",
            default: settings.limits.streamsPerUser
        )
        settings.limits.totalStreams = config.int(
            forKey: "gateway.maxConnections",
            default: settings.limits.totalStreams
        )
        settings.replay.eventsPerTopic = config.int(
            forKey: "gateway.replayEvents",
            default: settings.replay.eventsPerTopic
        )
        settings.replay.maximumAge = .seconds(config.double(forKey: "gateway.replaySeconds", default: 600))
        settings.bulk.enabled = config.bool(forKey: "gateway.dapr.bulk", default: false)
        settings.bulk.maxMessagesCount = config.int(
            forKey: "gateway.dapr.bulkMaxMessages",
            default: settings.bulk.maxMessagesCount
        )
        settings.bulk.maxAwaitDurationMilliseconds = config.int(
            forKey: "gateway.dapr.bulkMaxAwaitMs",
            default: settings.bulk.maxAwaitDurationMilliseconds
        )
        settings.pollMaxBytes = config.int(forKey: "gateway.pollMaxBytes", default: settings.pollMaxBytes)
        settings.connections = connectionGuards(from: config)
        // OpenTelemetry's own variable names (the file keys map to them the same way).
        settings.tracing.otlpEndpoint = config.string(forKey: "otel.exporter.otlp.endpoint").flatMap {
            $0.isEmpty ? nil : $0
        }
        settings.tracing.otlpTracesEndpoint = config.string(forKey: "otel.exporter.otlp.traces.endpoint").flatMap {
            $0.isEmpty ? nil : $0
        }
        settings.tracing.sdkDisabled = config.bool(forKey: "otel.sdk.disabled", default: false)
        settings.readiness.quietPeriod = .seconds(config.double(forKey: "gateway.ready.quietSeconds", default: 3))
        settings.readiness.currentEventAge = .seconds(
            config.double(forKey: "gateway.ready.eventAgeSeconds", default: 5)
        )
        settings.readiness.timeout = .seconds(config.double(forKey: "gateway.ready.timeoutSeconds", default: 60))
        settings.resumeHold = .seconds(config.double(forKey: "gateway.resumeHoldSeconds", default: 10))
        settings.bulk.maxBodyBytes = config.int(
            forKey: "gateway.dapr.bulkMaxBytes",
            default: settings.bulk.maxBodyBytes
        )
        settings.topics = try topicRules(from: config, claims: auth.claims)
        try validate(settings)
        return settings
    }

    /// A list setting: comma-separated in the environment (or as one string in the file),
    /// or a list in the file. `nil` when not set.
    static func list(_ config: ConfigReader, _ key: ConfigKey) -> [String]? {
        if let text = config.string(forKey: key) {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return config.stringArray(forKey: key)
    }

    /// Where the claims are read: each setting is a claim path (`realm_access.roles`).
    static func claimNames(from config: ConfigReader) throws -> ClaimNames {
        var claims = ClaimNames()
        func path(_ key: ConfigKey, _ variable: String, _ fallback: ClaimPath) throws -> ClaimPath {
            let text = config.string(forKey: key, default: fallback.text).trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { throw SettingsError.invalid("\(key) (\(variable))", "a claim name or path") }
            return ClaimPath(text)
        }
        claims.subject = try path("gateway.jwt.claimSubject", "GATEWAY_JWT_CLAIM_SUBJECT", claims.subject)
        claims.studentIDs = try path("gateway.jwt.claimStudentIds", "GATEWAY_JWT_CLAIM_STUDENT_IDS", claims.studentIDs)
        claims.courseIDs = try path("gateway.jwt.claimCourseIds", "GATEWAY_JWT_CLAIM_COURSE_IDS", claims.courseIDs)
        if let roles = list(config, "gateway.jwt.claimRoles") {
            guard !roles.isEmpty else {
                throw SettingsError.invalid("gateway.jwt.claimRoles (GATEWAY_JWT_CLAIM_ROLES)", "claim names or paths")
            }
            claims.roles = roles.map { ClaimPath($0) }
        }
        return claims
    }

    /// The session cookie's `SameSite`, `Domain` and `Secure`.
    static func readSessionCookie(from config: ConfigReader, dev: Bool, into auth: inout AuthenticationSettings) throws
    {
        if let text = config.string(forKey: "gateway.sessionCookieSamesite") {
            guard let sameSite = CookieSameSite.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
            else {
                throw SettingsError.invalid(
                    "gateway.sessionCookieSamesite (GATEWAY_SESSION_COOKIE_SAMESITE)",
                    "Strict, Lax or None"
                )
            }
            auth.sessionCookieSameSite = sameSite
        }
        if let domain = config.string(forKey: "gateway.sessionCookieDomain"), !domain.isEmpty {
            let labels = domain.lowercased().split(separator: ".", omittingEmptySubsequences: false)
            let valid =
                labels.count >= 1
                && labels.allSatisfy { label in
                    !label.isEmpty && label.first != "-" && label.last != "-"
                        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                }
            guard valid else {
                throw SettingsError.invalid(
                    "gateway.sessionCookieDomain (GATEWAY_SESSION_COOKIE_DOMAIN)",
                    "a host name such as example.com, without scheme, port, path or leading dot"
                )
            }
            auth.sessionCookieDomain = domain.lowercased()
        }
        // Plain HTTP in dev mode drops Secure, except for SameSite=None: browsers refuse a
        // SameSite=None cookie without Secure, and accept Secure from http://localhost.
        let secureByDefault = !dev || auth.sessionCookieSameSite == .none
        auth.sessionCookieSecure = config.bool(forKey: "gateway.sessionCookieSecure", default: secureByDefault)
        if auth.sessionCookieSameSite == .none && !auth.sessionCookieSecure {
            throw SettingsError.invalid(
                "gateway.sessionCookieSecure (GATEWAY_SESSION_COOKIE_SECURE)",
                "true with SameSite=None: browsers drop a SameSite=None cookie that is not Secure (they accept Secure cookies from http://localhost)"
            )
        }
    }

    /// Connection deadlines and the descriptor reserve (README configuration table).
    static func connectionGuards(from config: ConfigReader) -> ConnectionGuardSettings {
        var guards = ConnectionGuardSettings()
        func seconds(_ key: ConfigKey, _ duration: Duration) -> Duration {
            .seconds(config.double(forKey: key, default: Double(duration.components.seconds)))
        }
        guards.idleTimeout = seconds("gateway.idleTimeoutSeconds", guards.idleTimeout)
        guards.headerTimeout = seconds("gateway.headerTimeoutSeconds", guards.headerTimeout)
        guards.bodyTimeout = seconds("gateway.bodyTimeoutSeconds", guards.bodyTimeout)
        guards.descriptorReserve = config.int(forKey: "gateway.descriptorReserve", default: guards.descriptorReserve)
        return guards
    }

    /// The carried topics (`gateway.topics`) and their rules: built-in defaults for the
    /// learning platform's topics, overridden or added by `topicRules.<topic>.*` in the file.
    static func topicRules(from config: ConfigReader, claims: ClaimNames) throws -> [TopicRule] {
        let defaults = TopicRule.learningPlatformDefaults(claims: claims)
        let names = config.stringArray(forKey: "gateway.topics", default: defaults.map(\.topic))
        return try names.map { name in
            let prefix = ["topicRules", name]
            let configured = config.stringArray(forKey: ConfigKey(prefix + ["scope"]))
            var rule: TopicRule
            if let fields = configured {
                rule = TopicRule(
                    topic: name,
                    scope: fields.map { field in
                        ScopeField(
                            field: field,
                            grantedBy: config.stringArray(
                                forKey: ConfigKey(prefix + ["grantedBy", field]),
                                default: []
                            )
                        )
                    }
                )
            } else if let builtIn = defaults.first(where: { $0.topic == name }) {
                rule = builtIn
            } else if config.bool(forKey: ConfigKey(prefix + ["everyone"]), default: false) {
                rule = TopicRule(topic: name)
            } else {
                throw SettingsError.topicWithoutRule(name)
            }
            if let roles = config.stringArray(forKey: ConfigKey(prefix + ["seeAllRoles"])) { rule.seeAllRoles = roles }
            if let field = config.string(forKey: ConfigKey(prefix + ["audienceField"])) { rule.audienceField = field }
            return rule
        }
    }

    static func validate(_ settings: GatewaySettings) throws {
        guard (0...65535).contains(settings.port) else { throw SettingsError.invalid("gateway.port", "0...65535") }
        guard settings.heartbeatInterval > .zero else { throw SettingsError.invalid("gateway.heartbeatSeconds", "> 0") }
        guard settings.maxEventBytes > 0 else { throw SettingsError.invalid("gateway.maxEventBytes", "> 0") }
        guard settings.bulk.maxMessagesCount > 0 else {
            throw SettingsError.invalid("gateway.dapr.bulkMaxMessages", "> 0")
        }
        guard settings.bulk.maxBodyBytes >= settings.maxEventBytes else {
            // A bulk body must at least fit one event.
            throw SettingsError.invalid("gateway.dapr.bulkMaxBytes", ">= gateway.maxEventBytes")
        }
        guard settings.subscriberBufferFrames > 0 else {
            throw SettingsError.invalid("gateway.subscriberBuffer", "> 0")
        }
        guard settings.writeTimeout > .zero else {
            throw SettingsError.invalid("gateway.writeTimeoutSeconds (GATEWAY_WRITE_TIMEOUT_SECONDS)", "> 0")
        }
        guard settings.replayChunkBytes >= 1024 else {
            throw SettingsError.invalid("gateway.replayChunkBytes (GATEWAY_REPLAY_CHUNK_BYTES)", ">= 1024")
        }
        guard settings.limits.streamsPerUser > 0, settings.limits.totalStreams > 0 else {
            throw SettingsError.invalid("gateway.maxStreamsPerUser / gateway.maxConnections", "> 0")
        }
        let readiness = settings.readiness
        guard readiness.quietPeriod > .zero, readiness.currentEventAge > .zero, readiness.timeout > .zero else {
            throw SettingsError.invalid(
                "gateway.ready.quietSeconds / gateway.ready.eventAgeSeconds / gateway.ready.timeoutSeconds",
                "> 0"
            )
        }
        // A held poll waits this long whatever its `wait`: keep it under common proxy read timeouts.
        guard settings.resumeHold >= .zero, settings.resumeHold <= .seconds(60) else {
            throw SettingsError.invalid("gateway.resumeHoldSeconds (GATEWAY_RESUME_HOLD_SECONDS)", "0...60")
        }
        guard settings.pollMaxBytes > 0 else {
            throw SettingsError.invalid("gateway.pollMaxBytes (GATEWAY_POLL_MAX_BYTES)", "> 0")
        }
        let deadlines: [(String, Duration)] = [
            ("gateway.idleTimeoutSeconds (GATEWAY_IDLE_TIMEOUT_SECONDS)", settings.connections.idleTimeout),
            ("gateway.headerTimeoutSeconds (GATEWAY_HEADER_TIMEOUT_SECONDS)", settings.connections.headerTimeout),
            ("gateway.bodyTimeoutSeconds (GATEWAY_BODY_TIMEOUT_SECONDS)", settings.connections.bodyTimeout),
        ]
        for (key, deadline) in deadlines where deadline <= .zero {
            throw SettingsError.invalid(key, "> 0 seconds")
        }
        guard settings.connections.descriptorReserve >= 16 else {
            // The listener, the event loops' own descriptors and standard streams need a few.
            throw SettingsError.invalid("gateway.descriptorReserve (GATEWAY_DESCRIPTOR_RESERVE)", ">= 16")
        }
        guard !settings.topics.isEmpty else { throw SettingsError.invalid("gateway.topics", "at least one topic") }
        for rule in settings.topics {
            let allowed = rule.topic.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)
            }
            guard !rule.topic.isEmpty, allowed, rule.topic.unicodeScalars.allSatisfy(\.isASCII) else {
                throw SettingsError.invalid("gateway.topics", "names of ASCII letters, digits, '.', '_' or '-'")
            }
        }
        if Set(settings.topics.map(\.topic)).count != settings.topics.count {
            throw SettingsError.invalid("gateway.topics", "no topic twice")
        }
        if let secret = settings.authentication.hmacSecret, secret.utf8.count < 32 {
            // Shorter HMAC keys are guessable; jwt-kit also refuses them in debug builds.
            throw SettingsError.invalid("gateway.jwt.hs256.secret (GATEWAY_JWT_HS256_SECRET)", "at least 32 bytes")
        }
        for algorithm in settings.authentication.algorithms where algorithm.lowercased() == "none" {
            throw SettingsError.invalid("gateway.jwt.algorithms", "never 'none'")
        }
        for algorithm in settings.authentication.algorithms
        where !VerificationKey.supportedAlgorithms.contains(algorithm) {
            throw SettingsError.invalid(
                "gateway.jwt.algorithms (GATEWAY_JWT_ALGORITHMS)",
                "names from \(VerificationKey.supportedAlgorithms.sorted().joined(separator: ", ")), not '\(algorithm)'"
            )
        }
        for (key, url) in [
            ("otel.exporter.otlp.endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)", settings.tracing.otlpEndpoint),
            (
                "otel.exporter.otlp.traces.endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)",
                settings.tracing.otlpTracesEndpoint
            ),
        ] {
            guard let url else { continue }
            // A typo here would otherwise only show as spans that never arrive.
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
                parsed.host?.isEmpty == false
            else { throw SettingsError.invalid(key, "an http:// or https:// URL with a host") }
        }
    }
}

/// Why the settings cannot be used; the process exits with this message.
enum SettingsError: Error, CustomStringConvertible {
    case missingFile(String)
    case unreadableFile(String, String)
    case topicWithoutRule(String)
    case invalid(String, String)
    case noKeySource

    var description: String {
        switch self {
        case .missingFile(let path): "the settings file '\(path)' does not exist"
        case .unreadableFile(let path, let reason): "the settings file '\(path)' cannot be read: \(reason)"
        case .topicWithoutRule(let topic):
            "the topic '\(topic)' has no scope rule: set topicRules.\(topic).scope (and grantedBy) in the settings file, or topicRules.\(topic).everyone: true"
        case .invalid(let key, let expected): "the setting \(key) is invalid: expected \(expected)"
        case .noKeySource:
            "no token key is configured: set GATEWAY_JWT_HS256_SECRET, GATEWAY_JWT_PUBLIC_KEY_FILES, GATEWAY_JWKS_FILE or GATEWAY_JWKS_URL (or run with --dev)"
        }
    }
}
