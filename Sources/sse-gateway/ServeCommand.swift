import ArgumentParser
import Foundation
import GatewayCore
import GatewayHTTP
import Logging

/// `sse-gateway serve`: run the gateway until SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (the default command).",
        discussion: """
            Examples:
              sse-gateway serve --dev
              GATEWAY_JWKS_URL=https://idp.example/jwks.json APP_API_TOKEN=… sse-gateway serve
              sse-gateway serve --config /etc/sse-gateway/gateway.yaml --port 3000
            """,
        // Also here: with serve as the default subcommand, `sse-gateway --version` reaches it.
        version: GatewayVersion.current
    )

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        var settings = try await SettingsLoader.load(options)
        if settings.devMode && settings.authentication.hmacSecret == nil {
            settings.authentication.hmacSecret = Self.generatedSecret()
        }
        let environment = ProcessInfo.processInfo.environment
        let logger = try Logging.bootstrapped(
            level: environment["GATEWAY_LOG_LEVEL"],
            format: LogFormat.from(environment: environment["GATEWAY_LOG_FORMAT"], devMode: settings.devMode)
        )
        guard settings.authentication.hasKeySource else {
            throw ValidationError(SettingsError.noKeySource.description)
        }
        // Every connection is a descriptor: use all the process may have (see DescriptorLimit).
        DescriptorLimit.raiseToMaximum()
        let gateway = try await Gateway(settings: settings, logger: logger)
        if settings.devMode { try await DevBanner(settings: settings).print() }
        try await gateway.run(drainTimeout: settings.drainTimeout)
    }

    /// A fresh random secret for one dev session.
    static func generatedSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// How the process writes its logs.
enum LogFormat: String, CaseIterable {
    /// One JSON object per line on standard output (production).
    case json
    /// swift-log's human-readable lines on standard error (dev mode).
    case text

    /// `GATEWAY_LOG_FORMAT`, else JSON in production and text in dev mode.
    static func from(environment value: String?, devMode: Bool) throws -> LogFormat {
        guard let value, !value.isEmpty else { return devMode ? .text : .json }
        guard let format = LogFormat(rawValue: value.lowercased()) else {
            throw ValidationError("GATEWAY_LOG_FORMAT must be 'json' or 'text', not '\(value.prefix(32))'")
        }
        return format
    }
}

enum Logging {
    static func bootstrapped(level: String?, format: LogFormat) throws -> Logger {
        let parsed: Logger.Level
        if let level, !level.isEmpty {
            guard let known = Logger.Level(rawValue: level.lowercased()) else {
                let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("GATEWAY_LOG_LEVEL must be one of \(levels), not '\(level.prefix(32))'")
            }
            parsed = known
        } else {
            parsed = .info
        }
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: parsed)
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = parsed
                return handler
            }
        }
        return Logger(label: "sse-gateway")
    }
}
