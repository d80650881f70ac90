import GatewayBench
import Testing

/// The bench connects a raw HTTP/1.1 client to what `TargetURL` parses: host and port to
/// connect to, the request target, and a refusal for anything that is not plain HTTP on
/// loopback.
@Suite struct TargetURLTests {
    @Test func splitsHostPortAndPathWithQuery() throws {
        let url = try TargetURL("http://127.0.0.1:8080/streams/progress?user=s-1&i=0")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 8080)
        #expect(url.pathAndQuery == "/streams/progress?user=s-1&i=0")
        #expect(url.hostHeader == "127.0.0.1:8080")
    }

    @Test func defaultsToPortEightyAndTheRootPath() throws {
        let url = try TargetURL("http://127.0.0.2")
        #expect(url.port == 80)
        #expect(url.pathAndQuery == "/")
        #expect(url.hostHeader == "127.0.0.2:80")
    }

    @Test func connectsToLocalhostAsTheIPv4LoopbackAddress() throws {
        // The client connects over IPv4 from 127.0.x.y sources, so `localhost` must not
        // resolve to ::1.
        let url = try TargetURL("http://localhost:9000/x")
        #expect(url.host == "127.0.0.1")
        let literal = try TargetURL("http://127.0.0.1:9000/x")
        #expect(url == literal)
    }

    @Test func acceptsEveryAddressOfTheLoopbackNetwork() throws {
        #expect(try TargetURL("http://127.255.255.254:1/").host == "127.255.255.254")
        #expect(try TargetURL("http://127.0.0.1:65535/").port == 65_535)
    }

    @Test(arguments: [
        "https://127.0.0.1:8443/x",
        "127.0.0.1:8080/x",
        "http://127.0.0.1:0/x",
        "http://127.0.0.1:65536/x",
        "http://127.0.0.1:port/x",
        "http://127.0.0.1:/x",
        "http:///x",
        "http://:8080/x",
        "",
    ])
    func refusesWhatIsNotAPlainHTTPURL(text: String) {
        #expect(throws: BenchError.malformedURL(text)) { try TargetURL(text) }
    }

    @Test(arguments: [
        ("http://example.com/x", "example.com"),
        ("http://10.0.0.1:8080/x", "10.0.0.1"),
        ("http://128.0.0.1/x", "128.0.0.1"),
        ("http://0.0.0.0:80/", "0.0.0.0"),
    ])
    func refusesAHostOffTheLoopbackNetwork(text: String, host: String) {
        // The bench is a local load generator: it must never be aimed at another machine.
        #expect(throws: BenchError.notLoopback(host)) { try TargetURL(text) }
    }
}
