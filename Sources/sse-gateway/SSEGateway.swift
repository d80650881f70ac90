import ArgumentParser
import GatewayCore

/// The `sse-gateway` command: serve (default), token, publish, config.
@main
struct SSEGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sse-gateway",
        abstract: "A Server-Sent Events gateway for Dapr pub/sub, with per-user JWT scopes.",
        discussion: """
            Examples:
              sse-gateway serve --dev                       run on embedded defaults with a generated secret
              sse-gateway serve --config gateway.yaml       run with settings from a file (and the environment)
              sse-gateway token --sub s-1 --roles student   mint a development token
              sse-gateway publish --topic student.progress --data '{"studentId":"s-1","score":92}'
                                                            publish an event through the Dapr sidecar
              sse-gateway publish --direct http://localhost:3000 --topic student.progress --data '{…}'
                                                            deliver an event straight to a gateway (no Dapr)
              sse-gateway config --json                     print the effective settings (secrets redacted)
            """,
        version: GatewayVersion.current,
        subcommands: [
            ServeCommand.self, TokenCommand.self, PublishCommand.self, ConfigCommand.self, BenchCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}

/// Options every subcommand that reads settings shares.
struct SettingsOptions: ParsableArguments {
    @Option(name: .long, help: "A YAML or JSON settings file (also GATEWAY_CONFIG_FILE).")
    var config: String?

    @Option(name: .long, help: "Port to listen on (also GATEWAY_PORT; default 3000).")
    var port: Int?

    @Option(name: .long, help: "Address to bind (also GATEWAY_HOST; default 0.0.0.0, with --dev 127.0.0.1).")
    var host: String?

    @Flag(
        name: .long,
        help:
            "Development mode: generated HS256 secret, sample tokens and curl commands, relaxed cookie; listens on 127.0.0.1 unless --host says otherwise."
    )
    var dev = false
}
