/// The `# HELP` text of every metric family the gateway exports, by name: the one place
/// the exporter reads them from (docs/observability.md explains each at length).
///
/// A family missing here is exported without a `# HELP` line, which `promtool check
/// metrics` reports; `MetricsRoutesTests` and `checks/deploy/test_monitoring.py` fail on it.
package enum MetricHelp {
    /// The help text for the family `name`, if it is one of the gateway's.
    package static func text(for name: String) -> String? {
        texts[name]
    }

    private static let texts: [String: String] = [
        GatewayMetrics.Name.buildInfo:
            "Always 1; the labels name the gateway's version and the Swift compiler that built it.",
        GatewayMetrics.Name.activeConnections: "SSE streams open now (polls are not counted).",
        GatewayMetrics.Name.connectionLimit:
            "Streams this process accepts before it answers 503 (GATEWAY_MAX_CONNECTIONS).",
        GatewayMetrics.Name.openedConnections:
            "Authenticated stream requests that reached admission (accepted or refused by a limit or the drain).",
        GatewayMetrics.Name.closedConnections: "Streams ended or refused at admission, by reason.",
        GatewayMetrics.Name.eventsReceived:
            "Dapr deliveries (one per bulk entry) by topic and by the reply daprd got.",
        GatewayMetrics.Name.deliveries: "Event frames written to browsers (streams and poll answers), by topic.",
        GatewayMetrics.Name.replays: "Streams and polls that asked to resume, by what the replay log held.",
        GatewayMetrics.Name.authenticationFailures: "Refused browser requests, by token or scope reason.",
        GatewayMetrics.Name.ingestToFlush:
            "Seconds from accepting a Dapr delivery to flushing its frame to one stream's socket, per live frame.",
        GatewayMetrics.Name.lastDelivery:
            "Unix time of the last Dapr delivery of any topic; the process start until the first.",
        GatewayMetrics.Name.resumeHoldsExpired:
            "Held resume topics whose event did not arrive within GATEWAY_RESUME_HOLD_SECONDS (answered with reset).",
        GatewayMetrics.Name.readiness:
            "1 for the current /readyz state (not_subscribed, catching_up, ready, draining), 0 for the others.",
        GatewayMetrics.Name.catchUpSeconds:
            "Seconds from process start until the pod became ready (received the broker's backlog); 0 until then.",
        GatewayMetrics.Name.httpConnections:
            "Client TCP connections open now, of every kind (streams, polls, daprd, probes, scrapes, idle).",
        GatewayMetrics.Name.httpConnectionLimit:
            "Client TCP connections accepted at once: the open-file limit less GATEWAY_DESCRIPTOR_RESERVE.",
        GatewayMetrics.Name.httpConnectionLimitReached:
            "Times the client TCP connection limit was reached and accepting paused (new ones wait in the backlog).",
        GatewayMetrics.Name.httpConnectionTimeouts:
            "Client TCP connections closed by a deadline: idle, header, body or write (streams count as slow_consumer).",
        ProcessMetrics.Name.cpuSeconds: "Total user and system CPU time spent in seconds.",
        ProcessMetrics.Name.residentMemory: "Resident memory size in bytes.",
        ProcessMetrics.Name.virtualMemory: "Virtual memory size in bytes.",
        ProcessMetrics.Name.openFileDescriptors: "Number of open file descriptors.",
        ProcessMetrics.Name.maxFileDescriptors: "Maximum number of open file descriptors.",
        ProcessMetrics.Name.startTime: "Start time of the process since unix epoch in seconds.",
    ]
}
