import Crypto
import Foundation
import HTTPTypes
import Testing

@testable import GatewayHTTP

/// `GET /client/sse-gateway-client.js`: the browser client, served from the binary.
@Suite struct ClientRoutesTests {
    /// `clients/js/sse-gateway-client.js` in this checkout.
    private static let clientFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Routes
        .deletingLastPathComponent()  // GatewayHTTPTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("clients/js/sse-gateway-client.js")

    @Test func theEmbeddedModuleIsTheFileInClientsJS() throws {
        let file = try Data(contentsOf: Self.clientFile)
        #expect(
            Data(ClientScript.source.utf8) == file,
            "Sources/GatewayHTTP/ClientScript.swift is stale: run scripts/embed-js-client"
        )
        let digest = SHA256.hash(data: file).map { String(format: "%02x", $0) }.joined()
        #expect(ClientScript.sha256 == digest, "run scripts/embed-js-client")
    }

    @Test func theModuleIsServedAsJavaScriptWithAnEntityTagAndRevalidates() async throws {
        try await TestGateway.run { gateway in
            let response = try await gateway.get("/client/sse-gateway-client.js")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(response.headers[.cacheControl] == "no-cache")
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.headers[.xContentTypeOptions] == "nosniff")
            let entityTag = try #require(response.headers[.eTag])
            #expect(entityTag == "\"\(ClientScript.sha256.prefix(16))\"")
            #expect(Data(response.body.readableBytesView) == (try Data(contentsOf: Self.clientFile)))

            for condition in [entityTag, "\"other\", W/\(entityTag)", "*"] {
                let revalidated = try await gateway.get(
                    "/client/sse-gateway-client.js",
                    headers: [.ifNoneMatch: condition]
                )
                #expect(revalidated.status == .notModified, "If-None-Match: \(condition)")
                #expect(revalidated.body.readableBytes == 0)
                #expect(revalidated.headers[.eTag] == entityTag)
            }
            let changed = try await gateway.get("/client/sse-gateway-client.js", headers: [.ifNoneMatch: "\"other\""])
            #expect(changed.status == .ok)
        }
    }

    @Test func aPinnedVersionIsImmutableAndAnyOtherVersionIsServedUncached() async throws {
        try await TestGateway.run { gateway in
            let pinned = try await gateway.get("/client/sse-gateway-client.js?v=\(ClientRoutes.version)")
            #expect(pinned.status == .ok)
            #expect(pinned.headers[.cacheControl] == "public, max-age=31536000, immutable")
            let old = try await gateway.get("/client/sse-gateway-client.js?v=0123456789abcdef")
            #expect(old.status == .ok)
            #expect(old.headers[.cacheControl] == "no-cache")
            #expect(old.body.readableBytes == ClientScript.source.utf8.count)
        }
    }
}
