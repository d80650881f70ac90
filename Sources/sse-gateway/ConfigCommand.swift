import ArgumentParser
import GatewayCore

/// `sse-gateway config`: print the effective settings, secrets redacted.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective settings (secrets redacted), as the serve command would use them.",
        discussion: """
            Examples:
              sse-gateway config --json
              GATEWAY_PORT=8080 sse-gateway config --json --config gateway.yaml
            """
    )

    @Flag(help: "Print one JSON object (the default and only format).")
    var json = false

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let settings = try await SettingsLoader.load(options)
        print(EffectiveSettings(settings).json)
    }
}

/// The settings as one JSON object, for operators and the deployment tests.
struct EffectiveSettings {
    let settings: GatewaySettings

    init(_ settings: GatewaySettings) {
        self.settings = settings
    }

    var json: String {
        func q(_ text: String) -> String { JSONText.quoted(text) }
        func optional(_ text: String?) -> String { text.map(q) ?? "null" }
        func redacted(_ text: String?) -> String { text == nil ? "null" : q("<redacted>") }
        func seconds(_ duration: Duration) -> String {
            let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return value == value.rounded() ? String(Int64(value)) : String(value)
        }
        let auth = settings.authentication
        let rules = settings.topics.map { rule in
            JSONText.object([
                "topic": q(rule.topic),
                "scope": "["
                    + rule.scope.map {
                        JSONText.object(["field": q($0.field), "grantedBy": JSONText.array($0.grantedBy)])
                    }.joined(separator: ",") + "]",
                "seeAllRoles": JSONText.array(rule.seeAllRoles),
                "audienceField": optional(rule.audienceField),
            ])
        }
        return JSONText.object([
            "port": String(settings.port),
            "host": q(settings.host),
            "pubsubName": q(settings.pubsubName),
            "deadLetterTopic": optional(settings.deadLetterTopic),
            "topics": JSONText.array(settings.topics.map(\.topic)),
            "topicRules": "[" + rules.joined(separator: ",") + "]",
            "heartbeatSeconds": seconds(settings.heartbeatInterval),
            "retryMilliseconds": String(settings.retryHint.components.seconds * 1000),
            "drainSeconds": seconds(settings.drainTimeout),
            "reconnectJitterSeconds": seconds(settings.reconnectJitterWindow),
            "writeTimeoutSeconds": seconds(settings.writeTimeout),
            "replayChunkBytes": String(settings.replayChunkBytes),
            "maxEventBytes": String(settings.maxEventBytes),
            "subscriberBuffer": String(settings.subscriberBufferFrames),
            "dedupWindow": String(settings.deduplicationWindow),
            "appApiToken": redacted(settings.appAPIToken),
            "maxStreamsPerUser": String(settings.limits.streamsPerUser),
            "maxConnections": String(settings.limits.totalStreams),
            "replayEvents": String(settings.replay.eventsPerTopic),
            "replaySeconds": seconds(settings.replay.maximumAge),
            "daprBulk": String(settings.bulk.enabled),
            "pollMaxBytes": String(settings.pollMaxBytes),
            "idleTimeoutSeconds": seconds(settings.connections.idleTimeout),
            "headerTimeoutSeconds": seconds(settings.connections.headerTimeout),
            "bodyTimeoutSeconds": seconds(settings.connections.bodyTimeout),
            "descriptorReserve": String(settings.connections.descriptorReserve),
            "tracing": JSONText.object([
                "enabled": String(settings.tracing.isEnabled),
                "otlpEndpoint": optional(settings.tracing.otlpEndpoint),
                "otlpTracesEndpoint": optional(settings.tracing.otlpTracesEndpoint),
                "tracesURL": optional(settings.tracing.isEnabled ? settings.tracing.tracesURL : nil),
            ]),
            "resumeHoldSeconds": seconds(settings.resumeHold),
            "ready": JSONText.object([
                "quietSeconds": seconds(settings.readiness.quietPeriod),
                "eventAgeSeconds": seconds(settings.readiness.currentEventAge),
                "timeoutSeconds": seconds(settings.readiness.timeout),
            ]),
            "daprBulkMaxMessages": String(settings.bulk.maxMessagesCount),
            "daprBulkMaxBytes": String(settings.bulk.maxBodyBytes),
            "jwt": JSONText.object([
                "hs256Secret": redacted(auth.hmacSecret),
                "publicKeyFiles": JSONText.array(auth.publicKeyFiles),
                "jwksFile": optional(auth.jwksFile),
                "jwksUrl": optional(auth.jwksURL),
                "algorithms": JSONText.array(auth.algorithms),
                "issuer": optional(auth.issuer),
                "audience": optional(auth.audience),
                "leewaySeconds": seconds(auth.leeway),
                "allowQueryToken": String(auth.allowQueryToken),
                "sessionCookie": q(auth.sessionCookieName),
                "sessionCookieSameSite": q(auth.sessionCookieSameSite.rawValue),
                "sessionCookieDomain": optional(auth.sessionCookieDomain),
                "sessionCookieSecure": String(auth.sessionCookieSecure),
                "claims": JSONText.object([
                    "subject": q(auth.claims.subject.text),
                    "roles": JSONText.array(auth.claims.roles.map(\.text)),
                    "studentIds": q(auth.claims.studentIDs.text),
                    "courseIds": q(auth.claims.courseIDs.text),
                    // null: roles are taken as they are; else only the provider roles listed count.
                    "roleMap": auth.roleMap.isIdentity
                        ? "null"
                        : JSONText.object(
                            auth.roleMap.gatewayRoles.sorted { $0.key < $1.key }.map {
                                ($0.key, JSONText.array($0.value.sorted()))
                            }
                        ),
                ]),
            ]),
            "corsOrigins": JSONText.array(settings.corsOrigins),
            "paths": JSONText.object([
                "subscribe": q("/dapr/subscribe"),
                "deliveryPrefix": q("/dapr/topics/"),
                "stream": q("/events/stream"),
                "poll": q("/events/poll"),
                "session": q("/events/session"),
                "client": q("/client/sse-gateway-client.js"),
                "health": q("/healthz"),
                "ready": q("/readyz"),
                "metrics": q("/metrics"),
            ]),
        ])
    }
}
