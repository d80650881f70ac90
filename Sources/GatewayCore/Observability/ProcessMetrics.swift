import Metrics
import NIOConcurrencyHelpers

/// The standard `process_*` metrics (the names and meanings of the Go and JVM Prometheus
/// clients), refreshed from `ProcessStatistics` right before each scrape.
package final class ProcessMetrics: Sendable {
    /// The standard names (Prometheus client guidelines, "Process metrics").
    package enum Name {
        package static let cpuSeconds = "process_cpu_seconds_total"
        package static let residentMemory = "process_resident_memory_bytes"
        package static let virtualMemory = "process_virtual_memory_bytes"
        package static let openFileDescriptors = "process_open_fds"
        package static let maxFileDescriptors = "process_max_fds"
        package static let startTime = "process_start_time_seconds"
    }

    private let cpu: FloatingPointCounter
    private let resident: Gauge
    private let virtual: Gauge
    private let openDescriptors: Gauge
    private let maximumDescriptors: Gauge
    private let start: Gauge
    /// The CPU seconds already added to the counter: swift-metrics counters only go up by
    /// increments, /proc gives the total, so each refresh adds the difference.
    private let reportedCPUSeconds = NIOLockedValueBox<Double>(0)

    /// Creates the handles from `factory` and reads `/proc` once.
    package init(factory: any MetricsFactory) {
        cpu = FloatingPointCounter(label: Name.cpuSeconds, factory: factory)
        resident = Gauge(label: Name.residentMemory, factory: factory)
        virtual = Gauge(label: Name.virtualMemory, factory: factory)
        openDescriptors = Gauge(label: Name.openFileDescriptors, factory: factory)
        maximumDescriptors = Gauge(label: Name.maxFileDescriptors, factory: factory)
        start = Gauge(label: Name.startTime, factory: factory)
        refresh()
    }

    /// Reads `/proc` and updates every handle (a no-op where there is no `/proc`).
    package func refresh() {
        guard let statistics = ProcessStatistics.current() else { return }
        resident.record(statistics.residentBytes)
        virtual.record(statistics.virtualBytes)
        openDescriptors.record(statistics.openFileDescriptors)
        maximumDescriptors.record(statistics.maximumFileDescriptors)
        start.record(statistics.startTime)
        // Under the lock so two concurrent scrapes never add the same CPU time twice.
        let increment = reportedCPUSeconds.withLockedValue { reported in
            let increment = max(0, statistics.cpuSeconds - reported)
            reported += increment
            return increment
        }
        if increment > 0 { cpu.increment(by: increment) }
    }
}
