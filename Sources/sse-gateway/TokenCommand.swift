import ArgumentParser
import Foundation
import GatewayCore

/// `sse-gateway token`: mint an HS256 token with the configured secret.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Mint an HS256 token with GATEWAY_JWT_HS256_SECRET (for development and tests).",
        discussion: """
            Examples:
              sse-gateway token --sub s-1 --roles student
              sse-gateway token --sub i-1 --roles instructor --student-ids s-1,s-2 --course-ids c-1 --ttl 2h
              sse-gateway token --sub admin-1 --roles admin --ttl 15m
            """
    )

    @Option(help: "The subject (user id; for a student, the student id).")
    var sub: String

    @Option(help: "Roles, comma separated (student, instructor, admin; written as mapped by GATEWAY_JWT_ROLE_MAP).")
    var roles: String = ""

    @Option(name: .customLong("student-ids"), help: "Students this user may follow, comma separated.")
    var studentIDs: String = ""

    @Option(name: .customLong("course-ids"), help: "Courses this user may follow, comma separated.")
    var courseIDs: String = ""

    @Option(help: "Lifetime: seconds, or with a unit: 90s, 15m, 1h, 1d.")
    var ttl: String = "1h"

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let settings = try await SettingsLoader.load(options)
        guard let secret = settings.authentication.hmacSecret else {
            throw ValidationError("GATEWAY_JWT_HS256_SECRET is not set: the token command signs with that secret")
        }
        guard let lifetime = Self.duration(ttl) else {
            throw ValidationError("--ttl '\(ttl)' is not a duration like 90s, 15m, 1h or 1d")
        }
        func list(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }
        let minter = await TokenMinter(secret: secret)
        let token = try await minter.token(
            subject: sub,
            // Roles are the gateway's; with a role map they go in as a provider role that maps to them.
            roles: list(roles).map(settings.authentication.roleMap.providerRole(for:)),
            studentIDs: list(studentIDs),
            courseIDs: list(courseIDs),
            lifetime: lifetime,
            claimNames: settings.authentication.claims,
            issuer: settings.authentication.issuer,
            audience: settings.authentication.audience
        )
        print(token)
    }

    static func duration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let seconds = Int64(text), seconds > 0 { return .seconds(seconds) }
        guard let unit = text.last, let factor = units[unit], let value = Int64(text.dropLast()), value > 0 else {
            return nil
        }
        return .seconds(value * factor)
    }
}
