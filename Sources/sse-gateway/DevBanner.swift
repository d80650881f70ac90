import Foundation
import GatewayCore

/// What dev mode prints: where the gateway is, a token, and commands to paste.
struct DevBanner {
    let settings: GatewaySettings

    func print() async throws {
        guard let secret = settings.authentication.hmacSecret else { return }
        let minter = await TokenMinter(secret: secret)
        let student = try await minter.token(
            subject: "s-1",
            roles: ["student"],
            lifetime: .seconds(8 * 3600),
            claimNames: settings.authentication.claims
        )
        let admin = try await minter.token(
            subject: "admin-1",
            roles: ["admin"],
            lifetime: .seconds(8 * 3600),
            claimNames: settings.authentication.claims
        )
        let everywhere = ["0.0.0.0", "::", "[::]"].contains(settings.host)
        let host = everywhere ? "localhost" : settings.host
        let base = "http://\(host):\(settings.port)"
        // Dev mode mints admin tokens and takes publishes without authentication: say who can reach it.
        let reach =
            everywhere
            ? "on ALL interfaces (\(settings.host)): anyone who can reach this machine can use these tokens and publish"
            : "on \(settings.host) only; pass --host 0.0.0.0 (or GATEWAY_HOST) to listen on other interfaces"
        let event =
            #"{"specversion":"1.0","id":"demo-1","source":"dev","type":"progress.updated","datacontenttype":"application/json","data":{"studentId":"s-1","score":92}}"#
        let text = """

            sse-gateway is running in dev mode at \(base)
            Listening \(reach).
            (HS256 secret for this session: set GATEWAY_JWT_HS256_SECRET to keep tokens across restarts)

            Student token (sub s-1):  \(student)
            Admin token:              \(admin)

            Live demo page (pick an identity, watch the events, publish from a form):
              \(base)/demo

            Open a stream as the student:
              curl -N -H 'Authorization: Bearer \(student)' '\(base)/events/stream?topics=student.progress,system.notifications'

            Publish a CloudEvent the way daprd delivers it:
              curl -X POST -H 'Content-Type: application/cloudevents+json' \\
                --data '\(event)' \(base)/dapr/topics/student.progress

            Or with the CLI (add --direct to skip Dapr):
              swift run sse-gateway publish --direct \(base) --topic student.progress --data '{"studentId":"s-1","score":92}'

            /readyz answers 503 until daprd fetched /dapr/subscribe (or a first delivery came) and the
            backlog arrived; streams work meanwhile.

            Mint more tokens:
              GATEWAY_JWT_HS256_SECRET=\(secret) swift run sse-gateway token --sub i-1 --roles instructor --student-ids s-1,s-2

            """
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
