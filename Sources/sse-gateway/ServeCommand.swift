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
            """
    )

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        var settings = try await SettingsLoader.load(options)
        if settings.devMode && settings.authentication.hmacSecret == nil {
            settings.authentication.hmacSecret = Self.generatedSecret()
        }
        let logger = Logging.bootstrapped(level: ProcessInfo.processInfo.environment["GATEWAY_LOG_LEVEL"])
        guard settings.authentication.hasKeySource else {
            throw ValidationError(SettingsError.noKeySource.description)
        }
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

enum Logging {
    static func bootstrapped(level: String?) -> Logger {
        let parsed = level.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        return Logger(label: "sse-gateway")
    }
}
