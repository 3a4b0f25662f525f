import Prometheus
import VolleyModel

/// The agent's Prometheus metrics (`GET /metrics`), through swift-prometheus.
final class AgentMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let packetsSent: Counter
    private let packetsReceived: Counter
    private let bytesSent: Counter
    private let bytesReceived: Counter
    private let jobsByState: [JobState: Gauge]
    private let running: Gauge
    private let errors = Locked<[String: Counter]>([:])
    private let requests = Locked<[RequestKey: Counter]>([:])

    private struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    init(version: String) {
        packetsSent = registry.makeCounter(descriptor: Self.name("packets_sent", "total", "Datagrams sent by all jobs"))
        packetsReceived = registry.makeCounter(descriptor: Self.name("packets_received", "total", "Datagrams received by all jobs"))
        bytesSent = registry.makeCounter(descriptor: Self.name("bytes_sent", "total", "UDP payload bytes sent by all jobs"))
        bytesReceived = registry.makeCounter(descriptor: Self.name("bytes_received", "total", "UDP payload bytes received by all jobs"))
        var gauges: [JobState: Gauge] = [:]
        for state in JobState.allCases {
            gauges[state] = registry.makeGauge(descriptor: Self.name("jobs", "", "Jobs known to the agent, by state"),
                                               labels: [("state", state.rawValue)])
        }
        jobsByState = gauges
        running = registry.makeGauge(descriptor: Self.name("jobs_running", "", "Jobs sending or receiving now"))
        registry.makeGauge(descriptor: Self.name("build_info", "", "Volley's version"), labels: [("version", version)]).set(to: 1.0)
    }

    /// Adds traffic since the last call for a job (deltas of its progress counters).
    func addTraffic(from old: JobProgress, to new: JobProgress) {
        packetsSent.increment(by: Int64(new.packetsSent &- old.packetsSent))
        packetsReceived.increment(by: Int64(new.packetsReceived &- old.packetsReceived))
        bytesSent.increment(by: Int64(new.bytesSent &- old.bytesSent))
        bytesReceived.increment(by: Int64(new.bytesReceived &- old.bytesReceived))
    }

    func addErrors(_ totals: DirectionTotals, direction: String) {
        for (category, count) in totals.errors {
            counter(errors, Self.name("errors", "total", "Failed send/receive calls by category"),
                    [("direction", direction), ("category", category)]).increment(by: Int64(count))
        }
    }

    func countRequest(route: String, status: Int) {
        let key = RequestKey(route: route, status: status)
        let counter = requests.withLock { cache in
            if let existing = cache[key] { return existing }
            let made = registry.makeCounter(descriptor: Self.name("http_requests", "total", "HTTP requests by route and status"),
                                            labels: [("route", route), ("status", "\(status)")])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    func setJobs(_ counts: [JobState: Int]) {
        for (state, gauge) in jobsByState { gauge.set(to: Double(counts[state] ?? 0)) }
        running.set(to: Double(counts[.running] ?? 0))
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "volley", metricName: metric, unitName: unit, helpText: help)
    }

    private func counter(_ cache: Locked<[String: Counter]>, _ descriptor: MetricNameDescriptor,
                         _ labels: [(String, String)]) -> Counter {
        let key = labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        return cache.withLock { cache in
            if let existing = cache[key] { return existing }
            let made = registry.makeCounter(descriptor: descriptor, labels: labels)
            cache[key] = made
            return made
        }
    }
}
