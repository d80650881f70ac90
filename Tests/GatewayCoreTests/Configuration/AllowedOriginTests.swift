import GatewayCore
import Testing

@Suite struct AllowedOriginTests {
    @Test func originsAreWrittenAsBrowsersSendThem() throws {
        let cases = [
            ("https://app.example.com", "https://app.example.com"),
            ("https://App.Example.com/", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://localhost:80", "http://localhost"),
            ("http://localhost:5173", "http://localhost:5173"),
            (" http://127.0.0.1:8080 ", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ]
        for (configured, expected) in cases {
            #expect(try AllowedOrigin(configured).text == expected, "\(configured)")
        }
    }

    @Test func wildcardsAreRefusedBecauseCredentialsAreSent() {
        for configured in ["*", "https://*.example.com"] {
            #expect(throws: AllowedOrigin.Invalid.wildcard(configured)) { try AllowedOrigin(configured) }
        }
    }

    @Test func whatCanNeverEqualAnOriginHeaderIsRefused() {
        for configured in [
            "app.example.com", "https://app.example.com/path", "https://app.example.com?x", "null",
            "ftp://app.example.com", "https://", "https://user@app.example.com", "https://app.example.com:99999",
            "https://app.example.com:x", "https://app_ex ample.com",
        ] {
            #expect(throws: AllowedOrigin.Invalid.self, "\(configured)") { try AllowedOrigin(configured) }
        }
    }
}
