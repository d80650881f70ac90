import GatewayBench
import NIOCore
import Testing

/// The target must be on 127.0.0.0/8, and each connection binds its own source address
/// there, so tens of thousands of connections do not run out of ephemeral ports.
@Suite struct LoopbackAddressesTests {
    @Test(arguments: ["127.0.0.1", "127.0.0.0", "127.255.255.255", "127.1.2.3", "localhost"])
    func acceptsTheLoopbackNetwork(host: String) {
        #expect(LoopbackAddresses.isLoopback(host))
    }

    @Test(arguments: [
        "128.0.0.1", "10.0.0.1", "126.255.255.255", "127.0.0", "127.0.0.1.5", "127.0.0.256", "127..0.1",
        "127.0.0.", "127.0.0.-1", "127.0.0.x", "::1", "example.com", "",
    ])
    func refusesEverythingElse(host: String) {
        #expect(!LoopbackAddresses.isLoopback(host))
    }

    @Test func numbersSourceAddressesFromOneAndSkipsZero() throws {
        // 127.0.y.x with x, y in 1…250: index 0 is the first address, 250 starts the next y.
        let expected: [(index: Int, host: String)] = [
            (0, "127.0.1.1"),
            (1, "127.0.1.2"),
            (249, "127.0.1.250"),
            (250, "127.0.2.1"),
            (62_499, "127.0.250.250"),
        ]
        for (index, host) in expected {
            let address = try LoopbackAddresses.source(forConnection: index)
            #expect(address.ipAddress == host)
            // Port 0: the kernel picks the ephemeral port.
            #expect(address.port == 0)
        }
    }

    @Test func reusesSourceAddressesAfterSixtyTwoThousandFiveHundredConnections() throws {
        #expect(try LoopbackAddresses.source(forConnection: 62_500).ipAddress == "127.0.1.1")
        #expect(try LoopbackAddresses.source(forConnection: 62_751).ipAddress == "127.0.2.2")
    }

    @Test func givesEachOfTheFirstSixtyTwoThousandFiveHundredConnectionsItsOwnAddress() throws {
        var hosts = Set<String>()
        for index in 0..<62_500 {
            hosts.insert(try #require(try LoopbackAddresses.source(forConnection: index).ipAddress))
        }
        #expect(hosts.count == 62_500)
        // And every one of them is on the loopback network.
        #expect(hosts.filter { !LoopbackAddresses.isLoopback($0) }.isEmpty)
    }
}
