import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs one benchmark: connect the subscribers, hold, publish the phases, drain, measure.
/// Every stage is bounded in time; the run always ends and always closes what it opened.
package struct BenchRunner: Sendable {
    private let configuration: BenchConfiguration

    /// A runner for `configuration`.
    package init(configuration: BenchConfiguration) {
        self.configuration = configuration
    }

    /// Runs the benchmark; `progress` gets one line per stage (for stderr).
    package func run(progress: @Sendable (String) -> Void) async throws -> BenchReport {
        let configuration = self.configuration
        let limits = try configuration.checkResources(otherSockets: configuration.publishConnections)
        let subscribe = Template(configuration.subscribeURL)
        let sampleTarget = try TargetURL(subscribe.render { _ in "0" })
        let publish = try configuration.publishURL.map(configuration.publishRequest(url:))

        var report = BenchReport(configuration: configuration, limits: limits)
        let probe = configuration.serverPIDs.isEmpty ? nil : ServerProbe(pids: configuration.serverPIDs)
        report.server.openFileLimit = probe?.openFileLimit()
        report.server.rssBefore = probe?.residentBytes()
        let serverCPUStart = probe?.cpuSeconds()
        let benchCPUStart = ProcessResources.cpuSeconds()
        let wallStart = MonotonicClock.now()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        let loops = Array(group.makeIterator())
        var tallies: [NIOLoopBound<SubscriberTally>] = []
        for loop in loops {
            tallies.append(try await loop.submit { NIOLoopBound(SubscriberTally(), eventLoop: loop) }.get())
        }

        // Connect, at most `connectConcurrency` handshakes at once.
        progress("connecting \(configuration.connections) streams to \(sampleTarget.hostHeader)")
        let connectStart = MonotonicClock.now()
        let connectDeadline = NIODeadline.now() + TimeAmount(configuration.connectTimeout)
        var failures: [String: Int] = [:]
        await withTaskGroup(of: String?.self) { tasks in
            var next = 0
            var active = 0
            while next < configuration.connections || active > 0 {
                if next < configuration.connections, active < configuration.connectConcurrency,
                    NIODeadline.now() < connectDeadline
                {
                    let index = next
                    next += 1
                    active += 1
                    let loop = loops[index % loops.count]
                    let tally = tallies[index % loops.count]
                    tasks.addTask {
                        await Self.openStream(
                            index,
                            target: subscribe,
                            configuration: configuration,
                            loop: loop,
                            tally: tally,
                            deadline: connectDeadline
                        )
                    }
                    continue
                }
                if next < configuration.connections, NIODeadline.now() >= connectDeadline {
                    failures["not attempted (connect timeout)", default: 0] += configuration.connections - next
                    next = configuration.connections
                }
                guard let outcome = await tasks.next() else { break }
                active -= 1
                if let failure = outcome { failures[failure, default: 0] += 1 }
            }
        }
        let connectEnd = MonotonicClock.now()
        report.connect.seconds = Double(connectEnd - connectStart) / 1e9
        report.connect.failures = failures
        var counts = try await Self.collect(tallies, loops: loops, accepted: nil)
        report.connect.established = counts.established
        report.connect.ready = counts.ready
        report.connect.rejected = Dictionary(uniqueKeysWithValues: counts.rejected.map { (String($0.key), $0.value) })
        report.connect.ratePerSecond = report.connect.seconds > 0 ? Double(counts.ready) / report.connect.seconds : 0
        progress("\(counts.ready) streams ready in \(format(report.connect.seconds)) s")

        // Let the server settle (its allocator, the first heartbeat tick) before reading RSS.
        try? await Task.sleep(for: .seconds(1))
        report.server.rssAfterConnect = probe?.residentBytes()
        if configuration.hold > .zero {
            progress("holding for \(configuration.hold)")
            try? await Task.sleep(for: configuration.hold)
            report.server.rssAfterHold = probe?.residentBytes()
        }

        var accepted = SequenceSet()
        if let publish, !configuration.phases.isEmpty {
            accepted = try await runPhases(
                publish,
                loops: loops,
                tallies: tallies,
                report: &report,
                progress: progress
            )
        }

        report.server.rssEnd = probe?.residentBytes()
        if let start = serverCPUStart, let end = probe?.cpuSeconds() { report.server.cpuSeconds = end - start }
        report.bench.cpuSeconds = ProcessResources.cpuSeconds() - benchCPUStart
        counts = try await Self.collect(tallies, loops: loops, accepted: accepted)
        report.record(counts, accepted: accepted, routing: configuration.routing)
        report.bench.wallSeconds = Double(MonotonicClock.now() - wallStart) / 1e9

        for (loop, tally) in zip(loops, tallies) {
            try? await loop.submit {
                tally.value.closing = true
                for handler in tally.value.handlers { handler.context?.close(promise: nil) }
                tally.value.handlers.removeAll()
            }.get()
        }
        try? await group.shutdownGracefully()
        // Whether the server gives the memory of the streams back once their clients left.
        if let probe, configuration.afterLeave > .zero {
            progress("clients left; waiting \(configuration.afterLeave) for the server to settle")
            try? await Task.sleep(for: configuration.afterLeave)
            report.server.rssAfterLeave = probe.residentBytes()
        }
        return report
    }

    /// Publishes every phase, then waits (bounded) for its deliveries to arrive.
    private func runPhases(
        _ publish: PublishRequest,
        loops: [any EventLoop],
        tallies: [NIOLoopBound<SubscriberTally>],
        report: inout BenchReport,
        progress: @Sendable (String) -> Void
    ) async throws -> SequenceSet {
        let configuration = self.configuration
        // Mark who is subscribed now: those streams should receive what follows.
        var users: [String] = []
        for (loop, tally) in zip(loops, tallies) {
            users += try await loop.submit { () -> [String] in
                var ready: [String] = []
                for handler in tally.value.handlers where handler.isReady {
                    handler.expecting = true
                    ready.append(handler.userName)
                }
                return ready
            }.get()
        }
        let expecting = users.count
        let publishLoop = loops[0]
        let schedule = try await publishLoop.submit { NIOLoopBound(PublishSchedule(), eventLoop: publishLoop) }.get()
        let chosenUsers = configuration.routing == .perUser ? users : []
        let publishers = try await Self.openPublishers(
            publish,
            count: configuration.publishConnections,
            loop: publishLoop,
            schedule: schedule,
            users: chosenUsers,
            bulkSize: configuration.bulkSize
        )
        report.publish.connections = publishers.count

        for (index, phase) in configuration.phases.enumerated() {
            for (loop, tally) in zip(loops, tallies) {
                try await loop.submit { tally.value.begin(phase: index) }.get()
            }
            progress(
                "phase \(index + 1): \(phase.rate > 0 ? "\(phase.rate) events/s" : "as fast as possible") for \(phase.duration)"
            )
            let done = publishLoop.makePromise(of: Void.self)
            let start = MonotonicClock.now()
            publishLoop.execute {
                schedule.value.begin(phase, index: index, now: MonotonicClock.now()) { done.succeed() }
                for publisher in publishers { publisher.value.kick() }
                schedule.value.idle()
            }
            // A bound in case answers stop coming: the phase plus the drain allowance.
            publishLoop.scheduleTask(in: TimeAmount(phase.duration + configuration.drainTimeout)) { done.succeed() }
            try await done.futureResult.get()
            let publishEnd = MonotonicClock.now()
            let (sent, acknowledged) = try await publishLoop.submit {
                (schedule.value.sentPerPhase[index], schedule.value.acceptedPerPhase[index])
            }.get()
            let expected = configuration.routing == .broadcast ? acknowledged * expecting : acknowledged
            // Wait for the deliveries still on their way, polling the loops' counters.
            let drainDeadline = NIODeadline.now() + TimeAmount(configuration.drainTimeout)
            var delivered = 0
            while true {
                delivered = 0
                for (loop, tally) in zip(loops, tallies) {
                    delivered += try await loop.submit {
                        index < tally.value.phases.count ? tally.value.phases[index].deliveries : 0
                    }.get()
                }
                if delivered >= expected || NIODeadline.now() >= drainDeadline { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            report.phases.append(
                PhaseReport(
                    phase: phase,
                    sent: sent,
                    accepted: acknowledged,
                    expectedDeliveries: expected,
                    publishSeconds: Double(publishEnd - start) / 1e9,
                    startedAt: start
                )
            )
            progress(
                "phase \(index + 1): sent \(sent), accepted \(acknowledged), delivered \(delivered) of \(expected)"
            )
        }
        let (accepted, refused, answerLatency) = try await publishLoop.submit {
            for publisher in publishers { publisher.value.close() }
            return (schedule.value.accepted, schedule.value.refused, schedule.value.answerLatency)
        }.get()
        report.publish.refused = Dictionary(uniqueKeysWithValues: refused.map { (String($0.key), $0.value) })
        report.publish.answerLatency = LatencySummary(answerLatency)
        return accepted
    }

    /// Opens stream `index`; nil when it became ready, else why not.
    private static func openStream(
        _ index: Int,
        target: Template,
        configuration: BenchConfiguration,
        loop: any EventLoop,
        tally: NIOLoopBound<SubscriberTally>,
        deadline: NIODeadline
    ) async -> String? {
        let user = configuration.user(index)
        let url: TargetURL
        do {
            url = try TargetURL(target.render { name in name == "user" ? user : name == "i" ? String(index) : nil })
        } catch {
            return "bad URL"
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.hostHeader)
        headers.add(name: "Accept", value: "text/event-stream")
        if let tokens = configuration.tokens { headers.add(name: "Authorization", value: "Bearer " + tokens[index]) }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathAndQuery, headers: headers)
        let handshake = loop.makePromise(of: Bool.self)
        let routing = configuration.routing
        let readyOnHead = configuration.readyOnHead
        let source: SocketAddress
        do {
            source = try LoopbackAddresses.source(forConnection: index)
        } catch {
            return "bad source address"
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(to: source)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SubscriberHandler(
                        request: head,
                        tally: tally.value,
                        routing: routing,
                        user: user,
                        handshake: handshake,
                        readyOnHead: readyOnHead
                    )
                    tally.value.handlers.append(handler)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        do {
            _ = try await bootstrap.connect(host: url.host, port: url.port).get()
        } catch {
            handshake.succeed(false)
            return Self.reason(error)
        }
        let timeout = loop.scheduleTask(deadline: deadline) { handshake.succeed(false) }
        let ready = (try? await handshake.futureResult.get()) ?? false
        timeout.cancel()
        return ready ? nil : "no stream (refused, closed or timed out)"
    }

    private static func openPublishers(
        _ publish: PublishRequest,
        count: Int,
        loop: any EventLoop,
        schedule: NIOLoopBound<PublishSchedule>,
        users: [String],
        bulkSize: Int
    ) async throws -> [NIOLoopBound<PublisherHandler>] {
        var publishers: [NIOLoopBound<PublisherHandler>] = []
        for _ in 0..<max(1, count) {
            let box = try await loop.submit { () -> NIOLoopBound<PublisherHandler> in
                NIOLoopBound(
                    PublisherHandler(schedule: schedule.value, request: publish, users: users, bulkSize: bulkSize),
                    eventLoop: loop
                )
            }.get()
            let bootstrap = ClientBootstrap(group: loop)
                .connectTimeout(.seconds(10))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(box.value)
                    }
                }
            _ = try await bootstrap.connect(host: publish.host, port: publish.port).get()
            publishers.append(box)
        }
        return publishers
    }

    private static func collect(
        _ tallies: [NIOLoopBound<SubscriberTally>],
        loops: [any EventLoop],
        accepted: SequenceSet?
    ) async throws -> SubscriberCounts {
        var total = SubscriberCounts()
        for (loop, tally) in zip(loops, tallies) {
            total.merge(try await loop.submit { tally.value.counts(accepted: accepted) }.get())
        }
        return total
    }

    /// A short, stable reason for a failed connect (grouped in the report).
    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return "connect: \(error.description)" }
        return "connect: \(String(describing: type(of: error)))"
    }
}

func format(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    return String(scaled)
}

extension TimeAmount {
    init(_ duration: Duration) {
        let parts = duration.components
        self = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }
}
