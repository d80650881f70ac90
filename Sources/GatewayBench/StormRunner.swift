import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs a reconnect storm: N streams open on a first server receive a history of events,
/// then each closes and reconnects to a fresh server with its `Last-Event-ID`, spread over
/// a window, while live events go on. Every stage is bounded in time; the run always ends
/// and always closes what it opened.
package struct StormRunner: Sendable {
    private let configuration: BenchConfiguration
    private let storm: StormSettings

    /// A runner for `configuration` and its storm.
    package init(configuration: BenchConfiguration, storm: StormSettings) {
        self.configuration = configuration
        self.storm = storm
    }

    /// Runs the storm; `progress` gets one line per stage (for stderr).
    package func run(progress: @Sendable (String) -> Void) async throws -> StormReport {
        let configuration = self.configuration
        let storm = self.storm
        _ = try configuration.checkResources(otherSockets: 2)
        guard let publishURL = configuration.publishURL else {
            throw BenchError.invalidOption("a storm publishes events: give --publish-url or let it default")
        }
        let first = Template(configuration.subscribeURL)
        let fresh = Template(storm.url)
        let freshTarget = try TargetURL(fresh.render { _ in "0" })
        let publish = try configuration.publishRequest(url: publishURL)
        let freshPublish =
            try storm.feedHistory
            ? configuration.publishRequest(url: "http://\(freshTarget.hostHeader)/dapr/topics/{topic}") : nil

        var report = StormReport()
        report.firstURL = configuration.subscribeURL
        report.freshURL = storm.url
        report.streams = configuration.connections
        report.windowSeconds = Double(StormTiming.nanoseconds(storm.window)) / 1e9
        let freshProbe = storm.serverPIDs.isEmpty ? nil : ServerProbe(pids: storm.serverPIDs)
        let benchCPUStart = ProcessResources.cpuSeconds()
        let wallStart = MonotonicClock.now()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        let loops = Array(group.makeIterator())
        var clients: [NIOLoopBound<[StormClient]>] = []
        for (slot, loop) in loops.enumerated() {
            let indexes = Array(stride(from: slot, to: configuration.connections, by: loops.count))
            clients.append(
                try await loop.submit { NIOLoopBound(indexes.map { StormClient(index: $0) }, eventLoop: loop) }.get()
            )
        }
        let brokerLoop = loops[0]
        let broker = try await brokerLoop.submit { NIOLoopBound(StormBroker(request: publish), eventLoop: brokerLoop) }
            .get()

        // 1. Every stream opens on the first server.
        progress("opening \(configuration.connections) streams on \(configuration.subscribeURL)")
        report.openedFirst = try await openFirst(first, clients: clients, loops: loops)
        progress("\(report.openedFirst) streams open")

        // 2. The history: every stream receives it.
        try await attach(publish, to: broker, loop: brokerLoop, replayHistory: false)
        try await publishEvents(storm.historyEvents, rate: storm.historyRate, broker: broker, loop: brokerLoop)
        report.historyEvents = storm.historyEvents
        _ = try await waitUntilDelivered(broker: broker, brokerLoop: brokerLoop, clients: clients, loops: loops)
        progress("history of \(storm.historyEvents) events delivered")

        // 3. The fresh server: a new consumer group that first receives the whole history.
        let attachedAt = MonotonicClock.now()
        if let freshPublish {
            let subscribe = await Self.get("http://\(freshTarget.hostHeader)/dapr/subscribe")
            guard subscribe?.status == 200 else {
                throw BenchError.invalidOption(
                    "GET /dapr/subscribe on the fresh server answered \(subscribe?.status ?? 0)"
                )
            }
            try await attach(freshPublish, to: broker, loop: brokerLoop, replayHistory: true)
        }
        if let readyURL = storm.readyURL {
            progress("waiting for \(readyURL)")
            let deadline = MonotonicClock.now() + 180_000_000_000
            while await Self.get(readyURL)?.status != 200 {
                guard MonotonicClock.now() < deadline else {
                    throw BenchError.invalidOption("\(readyURL) never answered 200")
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            report.catchUpSeconds = Double(MonotonicClock.now() - attachedAt) / 1e9
        }
        report.server.rssBefore = freshProbe?.residentBytes()
        let freshCPUStart = freshProbe?.cpuSeconds()

        // 4. The storm, with live events throughout.
        progress("storm: \(configuration.connections) reconnects over \(storm.window) to \(storm.url)")
        let stormStart = MonotonicClock.now()
        let liveStart = try await brokerLoop.submit { broker.value.published }.get()
        let live = try await brokerLoop.submit { () -> RepeatedTask? in
            guard storm.liveRate > 0 else { return nil }
            let interval = TimeAmount.nanoseconds(Int64(1e9 / storm.liveRate))
            return brokerLoop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { _ in
                broker.value.publish(allocator: ByteBufferAllocator())
            }
        }.get()
        var generator = SystemRandomNumberGenerator()
        let offsets = StormTiming.offsets(count: configuration.connections, window: storm.window, using: &generator)
        for (slot, loop) in loops.enumerated() {
            let bound = clients[slot]
            try await loop.submit {
                for client in bound.value {
                    let delay = TimeAmount.nanoseconds(Int64(offsets[client.index]))
                    loop.assumeIsolated().scheduleTask(in: delay) {
                        self.reconnect(client, to: fresh, loop: loop)
                    }
                }
            }.get()
        }
        let settleDeadline = stormStart + StormTiming.nanoseconds(storm.window) + 120_000_000_000
        while try await countSettled(clients, loops: loops) < configuration.connections,
            MonotonicClock.now() < settleDeadline
        {
            try? await Task.sleep(for: .milliseconds(100))
        }
        progress("storm over; live events for another \(storm.tail)")
        try? await Task.sleep(for: storm.tail)
        try await brokerLoop.submit { live?.cancel() }.get()
        let delivered = try await waitUntilDelivered(
            broker: broker,
            brokerLoop: brokerLoop,
            clients: clients,
            loops: loops
        )
        report.server.cpuSeconds = freshCPUStart.flatMap { start in freshProbe?.cpuSeconds().map { $0 - start } }
        report.server.peakRSS = freshProbe?.peakResidentBytes()
        report.server.rssEnd = freshProbe?.residentBytes()

        // 5. The tally.
        let (published, accepted, refused, historyRefused) = try await brokerLoop.submit {
            (broker.value.published, broker.value.accepted, broker.value.refused, broker.value.historyRefused)
        }.get()
        report.liveEvents = published - liveStart
        report.acceptedEvents = accepted.count
        report.refusedDeliveries = Dictionary(uniqueKeysWithValues: refused.map { (String($0.key), $0.value) })
        report.historyRefused = historyRefused
        report.record(delivered, stormStart: stormStart)
        report.benchCPUSeconds = ProcessResources.cpuSeconds() - benchCPUStart
        report.wallSeconds = Double(MonotonicClock.now() - wallStart) / 1e9

        try await brokerLoop.submit { broker.value.close() }.get()
        for (loop, bound) in zip(loops, clients) {
            try? await loop.submit {
                for client in bound.value {
                    client.moving = true
                    client.firstChannel?.close(promise: nil)
                }
            }.get()
        }
        try? await group.shutdownGracefully()
        return report
    }

    /// Opens every client's first stream, at most `connectConcurrency` handshakes at once
    /// (shared by the loops); returns how many opened.
    private func openFirst(
        _ target: Template,
        clients: [NIOLoopBound<[StormClient]>],
        loops: [any EventLoop]
    ) async throws -> Int {
        let batch = max(1, configuration.connectConcurrency / loops.count)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for (loop, bound) in zip(loops, clients) {
                group.addTask {
                    let count = try await loop.submit { bound.value.count }.get()
                    var opened = 0
                    for start in stride(from: 0, to: count, by: batch) {
                        let range = start..<min(count, start + batch)
                        let futures = try await loop.submit {
                            bound.value[range].map {
                                self.open($0, leg: .first, target: target, lastEventID: nil, loop: loop)
                            }
                        }.get()
                        for future in futures where (try? await future.get()) == true { opened += 1 }
                    }
                    return opened
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// Moves a client: closes its first stream, reconnects to the fresh server with its `Last-Event-ID`.
    private func reconnect(_ client: StormClient, to target: Template, loop: any EventLoop) {
        client.moving = true
        client.firstChannel?.close(promise: nil)
        client.firstChannel = nil
        _ = open(client, leg: .second, target: target, lastEventID: client.lastEventIDHeader, loop: loop)
    }

    /// Connects one leg of a client; the future says whether its stream opened.
    private func open(
        _ client: StormClient,
        leg: StormClient.Leg,
        target: Template,
        lastEventID: String?,
        loop: any EventLoop
    ) -> EventLoopFuture<Bool> {
        let opened = loop.makePromise(of: Bool.self)
        // The bootstrap's closures are Sendable; they run on `loop`, the client's loop.
        let bound = NIOLoopBound(client, eventLoop: loop)
        let index = client.index
        let user = configuration.user(index)
        guard let url = try? TargetURL(target.render { $0 == "user" ? user : $0 == "i" ? String(index) : nil }),
            let source = try? LoopbackAddresses.source(forConnection: leg == .first ? index : index + 31_250)
        else {
            if leg == .second { client.reconnectFailed = true }
            opened.succeed(false)
            return opened.futureResult
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "Accept", value: "text/event-stream")
        if let tokens = configuration.tokens { headers.add(name: "Authorization", value: "Bearer " + tokens[index]) }
        if let lastEventID { headers.add(name: "Last-Event-ID", value: lastEventID) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathAndQuery, headers: headers)
        let connect = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(to: source)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        StormStreamHandler(client: bound.value, leg: leg, request: head, opened: opened)
                    )
                }
            }
            .connect(host: url.host, port: url.port)
        connect.whenComplete { result in
            switch result {
            case .success(let channel):
                if leg == .first { bound.value.firstChannel = channel }
            case .failure:
                if leg == .second { bound.value.reconnectFailed = true }
                opened.succeed(false)
            }
        }
        // A stream that never opens still settles, at the connect timeout plus a margin.
        let timeout = loop.scheduleTask(in: .seconds(30)) { opened.succeed(false) }
        opened.futureResult.whenComplete { _ in timeout.cancel() }
        return opened.futureResult
    }

    /// Opens a delivery connection for the broker to one server.
    private func attach(
        _ request: PublishRequest,
        to broker: NIOLoopBound<StormBroker>,
        loop: any EventLoop,
        replayHistory: Bool
    ) async throws {
        let delivery = try await loop.submit { NIOLoopBound(StormDelivery(request: request), eventLoop: loop) }.get()
        _ = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(delivery.value)
                }
            }
            .connect(host: request.host, port: request.port).get()
        try await loop.submit {
            delivery.value.broker = broker.value
            broker.value.attach(delivery.value, replayHistory: replayHistory)
        }.get()
    }

    /// Publishes `count` events at `rate` per second (0: all at once; the deliveries still
    /// go one at a time per server).
    private func publishEvents(
        _ count: Int,
        rate: Double,
        broker: NIOLoopBound<StormBroker>,
        loop: any EventLoop
    )
        async throws
    {
        guard count > 0 else { return }
        if rate <= 0 {
            try await loop.submit { for _ in 0..<count { broker.value.publish(allocator: ByteBufferAllocator()) } }
                .get()
            return
        }
        let done = loop.makePromise(of: Void.self)
        let interval = TimeAmount.nanoseconds(Int64(1e9 / rate))
        try await loop.submit {
            let last = broker.value.published + count
            loop.scheduleRepeatedTask(initialDelay: .zero, delay: interval) { task in
                broker.value.publish(allocator: ByteBufferAllocator())
                if broker.value.published >= last {
                    task.cancel()
                    done.succeed()
                }
            }
        }.get()
        try await done.futureResult.get()
    }

    /// Waits (bounded by the drain timeout) until every server answered every delivery and
    /// every stream received every accepted event; returns what the streams got.
    private func waitUntilDelivered(
        broker: NIOLoopBound<StormBroker>,
        brokerLoop: any EventLoop,
        clients: [NIOLoopBound<[StormClient]>],
        loops: [any EventLoop]
    ) async throws -> StormTally {
        let deadline = MonotonicClock.now() + StormTiming.nanoseconds(configuration.drainTimeout)
        while true {
            let (idle, accepted) = try await brokerLoop.submit { (broker.value.isIdle, broker.value.accepted) }.get()
            let tally = try await collect(clients, loops: loops, accepted: accepted)
            if (idle && tally.lost == 0) || MonotonicClock.now() >= deadline { return tally }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func countSettled(_ clients: [NIOLoopBound<[StormClient]>], loops: [any EventLoop]) async throws -> Int {
        var settled = 0
        for (loop, bound) in zip(loops, clients) {
            settled += try await loop.submit {
                bound.value.reduce(0) { $0 + ($1.reopenedAt > 0 || $1.reconnectFailed ? 1 : 0) }
            }.get()
        }
        return settled
    }

    private func collect(
        _ clients: [NIOLoopBound<[StormClient]>],
        loops: [any EventLoop],
        accepted: SequenceSet
    ) async throws -> StormTally {
        var total = StormTally()
        for (loop, bound) in zip(loops, clients) {
            total.merge(try await loop.submit { StormTally(bound.value, accepted: accepted) }.get())
        }
        return total
    }

    /// A `GET` for the control requests (`/dapr/subscribe`, `/readyz`); nil without an answer.
    private static func get(_ url: String) async -> (status: Int, body: String)? {
        guard let url = URL(string: url) else { return nil }
        let request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: 5)
        guard let (data, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
