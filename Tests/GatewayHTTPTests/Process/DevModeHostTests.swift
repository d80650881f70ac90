import Foundation
import GatewayCore
import Testing

/// `serve --dev` mints admin tokens and takes publishes without authentication, so it
/// listens on loopback only unless told otherwise (issue 15, item 7).
@Suite struct DevModeHostTests {
    @Test func devModeListensOnLoopbackOnlyAndSaysSo() async throws {
        let gateway = try await GatewayProcess.start(arguments: ["serve", "--dev"])
        #expect(gateway.output.text.contains("listening on 127.0.0.1:"))
        #expect(gateway.output.text.contains("on 127.0.0.1 only"), "the banner says who can reach it")
        #expect(await gateway.status(of: "/healthz") == 200)
        // 127.0.0.2 is this machine too, but not the address the socket is bound to.
        await #expect(throws: (any Error).self) { try await RawConnection.open(host: "127.0.0.2", port: gateway.port) }
        await gateway.stop()
    }

    @Test func devModeListensWhereTheHostOptionSays() async throws {
        let gateway = try await GatewayProcess.start(arguments: ["serve", "--dev", "--host", "0.0.0.0"])
        do {
            #expect(gateway.output.text.contains("on ALL interfaces"))
            let other = try await RawConnection.open(host: "127.0.0.2", port: gateway.port)
            await other.close()
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    @Test func theConfigurationShowsTheDevAndProductionDefaults() async throws {
        let dev = try await CommandRun.sseGateway(["config", "--json", "--dev"])
        #expect(jsonObject(dev.output)?["host"] as? String == "127.0.0.1")
        let devEverywhere = try await CommandRun.sseGateway(
            ["config", "--json", "--dev"],
            environment: ["GATEWAY_HOST": "0.0.0.0"]
        )
        #expect(jsonObject(devEverywhere.output)?["host"] as? String == "0.0.0.0")
        let production = try await CommandRun.sseGateway(["config", "--json"])
        let settings = try #require(jsonObject(production.output))
        #expect(settings["host"] as? String == "0.0.0.0")
        #expect(settings["idleTimeoutSeconds"] as? Int == 75)
        #expect(settings["headerTimeoutSeconds"] as? Int == 10)
        #expect(settings["bodyTimeoutSeconds"] as? Int == 30)
        #expect(settings["writeTimeoutSeconds"] as? Int == 30, "one write timeout for streams and answers")
        #expect(settings["descriptorReserve"] as? Int == 128)
        #expect(settings["pollMaxBytes"] as? Int == 1_048_576)
    }
}
