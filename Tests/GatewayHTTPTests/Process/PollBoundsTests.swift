import Foundation
import GatewayCore
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The attack of issue 15 on the real binary: large events in the replay log of the topic
/// everyone sees, and one student opening 30 long polls from its start without reading.
@Suite struct PollBoundsTests {
    static let eventCount = 100
    /// About 200 KB per event: 20 MB of log, more than loopback's socket buffers take.
    static let padding = String(repeating: "p", count: 200_000)
    static let maxBytes = 8 * 1024 * 1024
    static let environment = [
        "GATEWAY_POLL_MAX_BYTES": "\(maxBytes)",
        "GATEWAY_WRITE_TIMEOUT_SECONDS": "10",
    ]

    @Test func unreadPollsHoldTheirSlotsUntilTheWriteTimeoutEndsThemAndMemoryStaysFlat() async throws {
        let gateway = try await GatewayProcess.start(environment: Self.environment)
        do {
            try await run(gateway)
        } catch {
            await gateway.stop()
            throw error
        }
        await gateway.stop()
    }

    private func run(_ gateway: GatewayProcess) async throws {
        for index in 0..<Self.eventCount {
            try await gateway.deliver(
                topic: "system.notifications",
                id: "big-\(index)",
                data: #"{"n":\#(index),"pad":"\#(Self.padding)"}"#
            )
        }
        let minter = await TokenMinter(secret: gateway.secret)
        let token = try await minter.token(subject: "s-1", roles: ["student"], lifetime: .seconds(900))
        let residentBefore = gateway.residentBytes ?? 0

        let request =
            "GET /events/poll?topics=system.notifications&lastEventId=2:&wait=25 HTTP/1.1\r\n"
            + "Host: gateway\r\nAuthorization: Bearer \(token)\r\n\r\n"
        var stalled: [RawConnection] = []
        for _ in 0..<30 {
            let connection = try await RawConnection.open(port: gateway.port, reading: false)
            try await connection.send(request)
            stalled.append(connection)
        }

        // Ten answers cannot be written (nobody reads them), so the student's ten slots stay
        // taken: a poll of theirs is refused until the write timeout ends those connections.
        var refused = false
        let refusalDeadline = ContinuousClock.now + .seconds(15)
        while !refused, ContinuousClock.now < refusalDeadline {
            refused = try await poll(gateway, token: token, query: "topics=system.notifications").status == 429
            if !refused { try await Task.sleep(for: .milliseconds(50)) }  // probe interval, bounded above
        }
        #expect(refused, "unwritten answers keep their slots in the user's stream limit")
        let residentDuring = gateway.residentBytes ?? 0
        let growth = residentDuring - residentBefore
        // Before the fix each of the 30 answers was built whole (two copies of 20 MB) and kept:
        // 529 MB more by this point in the debug build. Now ten 8 MiB answers written in pieces.
        #expect(growth < 300_000_000, "RSS grew \(growth / 1_000_000) MB with 30 unread polls")

        var admitted = false
        let recoveryDeadline = ContinuousClock.now + .seconds(45)
        while !admitted, ContinuousClock.now < recoveryDeadline {
            admitted = try await poll(gateway, token: token, query: "topics=system.notifications").status == 200
            if !admitted { try await Task.sleep(for: .milliseconds(200)) }  // probe interval, bounded above
        }
        #expect(admitted, "the stalled answers' connections were closed and their slots freed")
        for connection in stalled { await connection.close() }

        // A client that reads gets everything, in answers of at most the byte cap (plus one event).
        var position = "2:"
        var numbers: [Int] = []
        var answers = 0
        while numbers.count < Self.eventCount, answers < 20 {
            let answer = try await poll(
                gateway,
                token: token,
                query: "topics=system.notifications&lastEventId=" + position.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics
                )!
            )
            #expect(answer.status == 200)
            #expect(answer.body.count <= Self.maxBytes + 250_000)
            let document = try #require(jsonObject(answer.body))
            let events = try #require(document["events"] as? [[String: Any]])
            numbers += events.compactMap { ($0["data"] as? [String: Any])?["n"] as? Int }
            position = try #require(document["lastEventId"] as? String)
            answers += 1
        }
        #expect(numbers == Array(0..<Self.eventCount), "every event once, in order")
        #expect(answers >= 3, "20 MB of events took several answers of at most 8 MiB")
    }

    private func poll(
        _ gateway: GatewayProcess,
        token: String,
        query: String
    ) async throws -> (status: Int, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(gateway.port)/events/poll?" + query))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
