import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Dapr pub/sub as a gateway pod sees it (dapr-contract.md): one retained, ordered stream
/// per topic (a Redis stream), and one consumer group per pod (`consumerID: "{podName}"`).
///
/// A group starts at the beginning of every stream, as a new Redis group does at ID 0,
/// and delivers each topic in order, one event at a time (`concurrency: "1"`), the topics
/// in parallel, each delivery shaped as daprd sends it. A group may be given a limit: it
/// then stops after that many events per topic until the limit is lifted, which lets a
/// test hold a new pod in the middle of its catch-up.
actor Broker {
    /// One published event, its CloudEvent exactly as the publishing sidecar wrote it.
    struct Event: Sendable, Hashable {
        var topic: String
        var id: String
        var body: String
    }

    private var streams: [String: [Event]] = [:]
    private var limits: [String: Int] = [:]
    private var delivered: [String: [String: Int]] = [:]
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var stopped = false
    private var failures: [String] = []

    /// The events of `topic` retained so far, oldest first.
    func retained(_ topic: String) -> [Event] { streams[topic] ?? [] }

    /// Appends an event to its topic's stream; every group that reached the end of the
    /// stream delivers it next. `time` is the CloudEvent `time` (to the second, as daprd writes it).
    @discardableResult
    func publish(topic: String, id: String, data: String, time: Date) -> Event {
        let stamp = Date.ISO8601FormatStyle().format(time)
        let body =
            #"{"specversion":"1.0","id":"\#(id)","source":"backend","type":"com.dapr.event.sent","time":"\#(stamp)","#
            + #""datacontenttype":"application/json","topic":"\#(topic)","pubsubname":"pubsub","#
            + #""traceid":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","#
            + #""traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","tracestate":"","#
            + #""data":\#(data)}"#
        let event = Event(topic: topic, id: id, body: body)
        streams[topic, default: []].append(event)
        wakeAll()
        return event
    }

    /// Starts `group`'s delivery to `gateway`: first `GET /dapr/subscribe` (as daprd does
    /// once per sidecar start), then one task per topic. The tasks end at `stop()`.
    func attach(group: String, to gateway: GatewayProcess, topics: [String]) async throws -> [Task<Void, Never>] {
        let subscriptions = try await gateway.get("/dapr/subscribe")
        guard subscriptions.status == 200 else { throw TestFailure("GET /dapr/subscribe: \(subscriptions)") }
        for topic in topics where !subscriptions.body.contains(#""topic":"\#(topic)""#) {
            throw TestFailure("GET /dapr/subscribe does not name \(topic): \(subscriptions.body)")
        }
        let port = gateway.port
        return topics.map { topic in
            Task {
                var position = 0
                while let event = await self.next(group: group, topic: topic, at: position) {
                    do {
                        let answer = try await GatewayProcess.deliverAsDaprd(event, port: port)
                        if answer.status != 200 || !answer.body.contains("SUCCESS") {
                            self.fail("\(group) \(event.id): \(answer)")
                        }
                    } catch {
                        self.fail("\(group) \(event.id): \(error)")
                    }
                    position += 1
                    self.acknowledge(group: group, topic: topic, count: position)
                }
            }
        }
    }

    /// Lets `group` deliver at most `count` events per topic (`nil`: no limit).
    func limit(group: String, to count: Int?) {
        limits[group] = count
        wakeAll()
    }

    /// Waits until `group` has delivered `count` events of each of `topics`, bounded.
    func waitUntilDelivered(group: String, count: Int, of topics: [String], within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while topics.contains(where: { (delivered[group]?[$0] ?? 0) < count }) {
            guard ContinuousClock.now < deadline, !stopped else { return false }
            await waitForChange(until: deadline)
        }
        return true
    }

    /// Delivery problems so far (a gateway that did not answer `SUCCESS`).
    func deliveryFailures() -> [String] { failures }

    /// Ends every group's delivery tasks.
    func stop() {
        stopped = true
        wakeAll()
    }

    private func next(group: String, topic: String, at position: Int) async -> Event? {
        while !stopped {
            let events = streams[topic] ?? []
            if position < events.count, position < (limits[group] ?? Int.max) { return events[position] }
            await withCheckedContinuation { waiters.append($0) }
        }
        return nil
    }

    private func acknowledge(group: String, topic: String, count: Int) {
        delivered[group, default: [:]][topic] = count
        wakeAll()
    }

    private func fail(_ failure: String) {
        failures.append(failure)
    }

    /// Returns at the next publish, delivery or limit change, or at `deadline`.
    private func waitForChange(until deadline: ContinuousClock.Instant) async {
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline)
            await self?.wakeAll()
        }
        await withCheckedContinuation { waiters.append($0) }
        timer.cancel()
    }

    private func wakeAll() {
        let woken = waiters
        waiters.removeAll()
        for waiter in woken { waiter.resume() }
    }
}

extension GatewayProcess {
    /// A `GET` on the gateway's port; status and body.
    func get(_ path: String) async throws -> (status: Int, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)\(path)"))
        let request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 30)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// One delivery as daprd makes it: `POST /dapr/topics/{topic}`, the CloudEvent as
    /// `application/cloudevents+json`, with the `Pubsubname` and `Traceparent` headers.
    static func deliverAsDaprd(_ event: Broker.Event, port: Int) async throws -> (status: Int, body: String) {
        let url = try #require(URL(string: "http://127.0.0.1:\(port)/dapr/topics/\(event.topic)"))
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 60)
        request.httpMethod = "POST"
        request.setValue("application/cloudevents+json", forHTTPHeaderField: "Content-Type")
        request.setValue("pubsub", forHTTPHeaderField: "Pubsubname")
        request.setValue("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forHTTPHeaderField: "Traceparent")
        request.httpBody = Data(event.body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
