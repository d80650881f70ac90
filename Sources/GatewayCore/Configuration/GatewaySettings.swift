/// Every setting of the gateway, typed and with its default.
///
/// Built once by the executable from the command line, the environment and an optional
/// file (`GATEWAY_CONFIG_FILE`); the README's configuration table mirrors this type.
package struct GatewaySettings: Sendable {
    /// Address to bind (`GATEWAY_HOST`, default `0.0.0.0`).
    package var host = "0.0.0.0"
    /// Port for Dapr, browsers and probes (`GATEWAY_PORT`, default 3000, Dapr's usual app port).
    package var port = 3000
    /// Dapr pub/sub component the subscriptions name (`GATEWAY_PUBSUB_NAME`, default `pubsub`).
    package var pubsubName = "pubsub"
    /// Where Dapr sends events the gateway answers `DROP` (`GATEWAY_DEAD_LETTER_TOPIC`,
    /// default `sse-gateway.deadletter`; empty disables).
    package var deadLetterTopic: String? = "sse-gateway.deadletter"
    /// Topics and who may see them (`GATEWAY_TOPICS` selects; the file's `scope.topics` defines).
    package var topics: [TopicRule] = TopicRule.learningPlatformDefaults()
    /// Comment heartbeat interval (`GATEWAY_HEARTBEAT_SECONDS`, default 30).
    package var heartbeatInterval: Duration = .seconds(30)
    /// The `retry:` hint sent first on every stream (`GATEWAY_RETRY_MILLISECONDS`, default 3000).
    package var retryHint: Duration = .milliseconds(3000)
    /// Largest accepted CloudEvent body (`GATEWAY_MAX_EVENT_BYTES`, default 256 KiB).
    package var maxEventBytes = 256 * 1024
    /// Frames a subscriber may have queued before it is evicted (`GATEWAY_SUBSCRIBER_BUFFER`, default 1024).
    package var subscriberBufferFrames = 1024
    /// CloudEvent ids remembered per topic to drop Dapr redeliveries (`GATEWAY_DEDUP_WINDOW`, default 100000).
    package var deduplicationWindow = 100_000
    /// Time streams get to end after SIGTERM before the process exits (`GATEWAY_DRAIN_SECONDS`, default 10).
    package var drainTimeout: Duration = .seconds(10)
    /// Window over which `retry:` hints are spread on shutdown (`GATEWAY_RECONNECT_JITTER_SECONDS`, default 10).
    package var reconnectJitterWindow: Duration = .seconds(10)
    /// How long a connection's buffered writes may make no progress (the client reads
    /// nothing) before it is closed: an SSE stream is ended as `slow_consumer`, any other
    /// answer (a poll's, say) loses its connection (`GATEWAY_WRITE_TIMEOUT_SECONDS`, default 30).
    package var writeTimeout: Duration = .seconds(30)
    /// Most bytes of replayed frames a resuming stream writes at once; the next chunk waits
    /// until the connection takes more (`GATEWAY_REPLAY_CHUNK_BYTES`, default 65536).
    package var replayChunkBytes = 64 * 1024
    /// Dapr's app token (`APP_API_TOKEN`); when set, every `/dapr/*` request must carry it.
    package var appAPIToken: String?
    /// Development mode (`--dev`): generated HMAC secret, relaxed cookie `Secure`, sample commands.
    package var devMode = false
    /// How browser tokens are verified.
    package var authentication = AuthenticationSettings()
    /// Connection limits.
    package var limits = ConnectionLimits()
    /// How much history is kept for resuming streams.
    package var replay = ReplaySettings()
    /// Dapr bulk subscribe.
    package var bulk = BulkSubscribeSettings()
    /// Trace export (OpenTelemetry's own variable names).
    package var tracing = TracingSettings()
    /// Origins whose pages may call the browser routes with credentials
    /// (`GATEWAY_CORS_ORIGINS`, exact `scheme://host[:port]`; empty, the default: same origin only).
    package var corsOrigins: [String] = []
    /// When a new pod reports ready (`GET /readyz`).
    package var readiness = ReadinessSettings()
    /// How long a resume naming an event this replica has not received yet waits for it
    /// before `event: reset` (`GATEWAY_RESUME_HOLD_SECONDS`, default 10; 0 resets at once).
    package var resumeHold: Duration = .seconds(10)
    /// Largest `GET /events/poll` answer in bytes of event JSON; at least one event is
    /// always answered (`GATEWAY_POLL_MAX_BYTES`, default 1 MiB).
    package var pollMaxBytes = 1024 * 1024
    /// Deadlines and caps of every HTTP connection.
    package var connections = ConnectionGuardSettings()

    /// The defaults.
    package init() {}

    /// The rule of a configured topic.
    package func rule(for topic: String) -> TopicRule? {
        topics.first { $0.topic == topic }
    }
}

/// How browser JWTs are verified (design section 5).
package struct AuthenticationSettings: Sendable {
    /// HMAC secret for HS256/384/512 (`GATEWAY_JWT_HS256_SECRET`).
    package var hmacSecret: String?
    /// PEM files of public keys (RSA, EC or Ed25519) (`GATEWAY_JWT_PUBLIC_KEY_FILES`, comma separated).
    package var publicKeyFiles: [String] = []
    /// A JWKS document on disk (`GATEWAY_JWKS_FILE`).
    package var jwksFile: String?
    /// A JWKS URL, `https://`, `http://` or `file://` (`GATEWAY_JWKS_URL`).
    package var jwksURL: String?
    /// How often the JWKS URL is fetched again (`GATEWAY_JWKS_REFRESH_SECONDS`, default 300).
    package var jwksRefreshInterval: Duration = .seconds(300)
    /// Least time between refreshes caused by an unknown `kid` (`GATEWAY_JWKS_MIN_REFRESH_SECONDS`, default 30).
    package var jwksMinimumRefreshInterval: Duration = .seconds(30)
    /// Accepted algorithms (`GATEWAY_JWT_ALGORITHMS`); `none` is never accepted.
    package var algorithms: [String] = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
        "EdDSA",
    ]
    /// Required `iss` (`GATEWAY_JWT_ISSUER`).
    package var issuer: String?
    /// Required `aud` (`GATEWAY_JWT_AUDIENCE`).
    package var audience: String?
    /// Clock leeway for `exp`, `nbf`, `iat` (`GATEWAY_JWT_LEEWAY_SECONDS`, default 30).
    package var leeway: Duration = .seconds(30)
    /// Where the claims are read (paths).
    package var claims = ClaimNames()
    /// Provider role names to gateway roles (`GATEWAY_JWT_ROLE_MAP`; empty: roles as they are).
    package var roleMap = RoleMap()
    /// Whether `?access_token=` is accepted (`GATEWAY_ALLOW_QUERY_TOKEN`, default false).
    package var allowQueryToken = false
    /// Name of the session cookie (`GATEWAY_SESSION_COOKIE`, default `sse_session`).
    package var sessionCookieName = "sse_session"
    /// The session cookie's `SameSite` (`GATEWAY_SESSION_COOKIE_SAMESITE`, default `Strict`).
    package var sessionCookieSameSite = CookieSameSite.strict
    /// The session cookie's `Domain` (`GATEWAY_SESSION_COOKIE_DOMAIN`; unset: the gateway's host only).
    package var sessionCookieDomain: String?
    /// Whether the session cookie is `Secure` (`GATEWAY_SESSION_COOKIE_SECURE`, default true;
    /// with `--dev` false unless `SameSite=None`, which browsers only accept with `Secure`).
    package var sessionCookieSecure = true

    /// The defaults.
    package init() {}

    /// Whether any key source is configured.
    package var hasKeySource: Bool {
        hmacSecret != nil || !publicKeyFiles.isEmpty || jwksFile != nil || jwksURL != nil
    }
}

/// The session cookie's `SameSite` attribute.
package enum CookieSameSite: String, Sendable, CaseIterable {
    /// Sent only to requests from the same site (the default).
    case strict = "Strict"
    /// Also sent on top-level navigations from other sites.
    case lax = "Lax"
    /// Sent to requests from every site; needs `Secure`.
    case none = "None"
}

/// Bounds on connections (denial-of-service limits).
package struct ConnectionLimits: Sendable {
    /// Concurrent streams one user (`sub`) may hold (`GATEWAY_MAX_STREAMS_PER_USER`, default 10).
    package var streamsPerUser = 10
    /// Concurrent streams the process holds (`GATEWAY_MAX_CONNECTIONS`, default 50000).
    package var totalStreams = 50_000

    /// The defaults.
    package init() {}
}

/// Deadlines and caps every HTTP connection works within (docs/threat-model.md); the
/// write timeout, which streams share, is `GatewaySettings.writeTimeout`.
package struct ConnectionGuardSettings: Sendable {
    /// Longest a connection may wait for a request's first byte, before its first request
    /// and between keep-alive requests (`GATEWAY_IDLE_TIMEOUT_SECONDS`, default 75: above
    /// the 60 s upstream keep-alive of ingress-nginx and Kong, so the proxy closes first).
    package var idleTimeout: Duration = .seconds(75)
    /// Longest from a request's first byte to the end of its head (`GATEWAY_HEADER_TIMEOUT_SECONDS`, default 10).
    package var headerTimeout: Duration = .seconds(10)
    /// Longest from the end of a request's head to the end of its body (`GATEWAY_BODY_TIMEOUT_SECONDS`, default 30).
    package var bodyTimeout: Duration = .seconds(30)
    /// File descriptors kept free for everything but client connections (listener, event
    /// loops, logs, JWKS fetches); connections are capped at the descriptor limit minus
    /// this (`GATEWAY_DESCRIPTOR_RESERVE`, default 128).
    package var descriptorReserve = 128

    /// The defaults.
    package init() {}
}

/// Bounds of the replay log.
package struct ReplaySettings: Sendable {
    /// Events kept per topic (`GATEWAY_REPLAY_EVENTS`, default 10000).
    package var eventsPerTopic = 10_000
    /// Oldest event kept (`GATEWAY_REPLAY_SECONDS`, default 600).
    package var maximumAge: Duration = .seconds(600)

    /// The defaults.
    package init() {}
}

/// Dapr bulk subscribe (design section 4).
package struct BulkSubscribeSettings: Sendable {
    /// Whether `/dapr/subscribe` announces bulk delivery (`GATEWAY_DAPR_BULK`, default false).
    package var enabled = false
    /// `maxMessagesCount` (`GATEWAY_DAPR_BULK_MAX_MESSAGES`, default 100).
    package var maxMessagesCount = 100
    /// `maxAwaitDurationMs` (`GATEWAY_DAPR_BULK_MAX_AWAIT_MS`, default 40).
    package var maxAwaitDurationMilliseconds = 40
    /// Largest bulk body (and CloudEvents batch body); a larger one is refused whole with 413
    /// (`GATEWAY_DAPR_BULK_MAX_BYTES`, default 32 MiB, so that `maxMessagesCount` events of
    /// the default `GATEWAY_MAX_EVENT_BYTES` fit: daprd retries a batch it cannot deliver).
    package var maxBodyBytes = 32 * 1024 * 1024

    /// The defaults.
    package init() {}
}

/// Where delivery spans go (docs/observability.md "Traces"). The names are OpenTelemetry's
/// standard variables, so an operator's usual OTel set-up applies unchanged; the other
/// `OTEL_*` variables (service name, sampler, headers, batch sizes) are read by swift-otel.
package struct TracingSettings: Sendable {
    /// OTLP/HTTP base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`); spans go to `<base>/v1/traces`.
    package var otlpEndpoint: String?
    /// OTLP/HTTP URL for spans, used as is (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    package var otlpTracesEndpoint: String?
    /// OpenTelemetry's kill switch (`OTEL_SDK_DISABLED`, default false).
    package var sdkDisabled = false

    /// The defaults: no endpoint, so no span is made and nothing is exported.
    package init() {}

    /// Whether spans are made and exported: an endpoint is set and the SDK is not disabled.
    package var isEnabled: Bool {
        !sdkDisabled && (otlpEndpoint != nil || otlpTracesEndpoint != nil)
    }

    /// The URL spans are POSTed to (OTLP/HTTP rules: the signal's own URL as is, else the
    /// base URL with `v1/traces` appended).
    package var tracesURL: String? {
        if let otlpTracesEndpoint { return otlpTracesEndpoint }
        guard let otlpEndpoint else { return nil }
        return otlpEndpoint.hasSuffix("/") ? otlpEndpoint + "v1/traces" : otlpEndpoint + "/v1/traces"
    }
}

/// When a new pod counts as caught up with the broker's backlog (design section 6; the rule
/// is `CatchUpRule`).
package struct ReadinessSettings: Sendable {
    /// A topic is caught up once no delivery on it came for this long, after the
    /// subscription or its last delivery (`GATEWAY_READY_QUIET_SECONDS`, default 3).
    package var quietPeriod: Duration = .seconds(3)
    /// ...or once a delivery's CloudEvent `time` is at most this old
    /// (`GATEWAY_READY_EVENT_AGE_SECONDS`, default 5).
    package var currentEventAge: Duration = .seconds(5)
    /// Ready anyway, with a warning, this long after the start (`GATEWAY_READY_TIMEOUT_SECONDS`, default 60).
    package var timeout: Duration = .seconds(60)

    /// The defaults.
    package init() {}
}
