import Prometheus
import VolleyModel

/// The agent's Prometheus metrics (`GET /metrics`), through swift-prometheus.
/// Traffic and outcome counters carry a `mode` label (four values) but no job id: a label per job
/// would make a new series for every job the agent ever ran (unbounded cardinality), and Prometheus
/// keeps every series it has seen. Per-job numbers are in the job's result, not here. Every series
/// exists from start-up at 0, so `increase()` and alerts see the first job too.
final class AgentMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let traffic: [JobSpec.Mode: Traffic]
    private let finished: [JobState: [JobSpec.Mode: Counter]]
    /// CPU seconds the finished jobs' worker threads used (`io.workers.cpu_s`), by mode.
    private let workerCPU: [JobSpec.Mode: Counter]
    private let verdicts: [Bool: [JobSpec.Mode: Counter]]
    private let jobsByState: [JobState: Gauge]
    private let running: Gauge
    private let errors = Locked<[String: Counter]>([:])
    private let requests = Locked(Requests())
    private let requestCounters = Locked<[String: Counter]>([:])

    /// The request tallies, and per route and status how much of its tally the Prometheus counter
    /// holds already.
    private struct Requests {
        var tallies: [RequestTally] = []
        var carried: [RequestKey: Int] = [:]
    }

    private struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    /// One mode's traffic counters.
    private struct Traffic: Sendable {
        var packetsSent, packetsReceived, bytesSent, bytesReceived, kernelDrops: Counter
    }

    init(version: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var traffic: [JobSpec.Mode: Traffic] = [:]
        for mode in JobSpec.Mode.allCases {
            let labels = [("mode", mode.rawValue)]
            func make(_ name: String, _ help: String) -> Counter {
                registry.makeCounter(descriptor: Self.name(name, "total", help), labels: labels)
            }
            traffic[mode] = Traffic(
                packetsSent: make("packets_sent", "Datagrams sent by jobs, by job mode"),
                packetsReceived: make("packets_received", "Datagrams received by jobs, by job mode"),
                bytesSent: make("bytes_sent", "UDP payload bytes sent by jobs, by job mode"),
                bytesReceived: make("bytes_received", "UDP payload bytes received by jobs, by job mode"),
                kernelDrops: make("kernel_drops", "Datagrams the kernel dropped at jobs' full receive queues, by job mode"))
        }
        self.traffic = traffic
        var finished: [JobState: [JobSpec.Mode: Counter]] = [:]
        for state in JobState.allCases where state.isFinished {
            finished[state] = Dictionary(uniqueKeysWithValues: JobSpec.Mode.allCases.map { mode in
                (mode, registry.makeCounter(descriptor: Self.name("jobs_finished", "total", "Jobs that ended, by final state and mode"),
                                            labels: [("state", state.rawValue), ("mode", mode.rawValue)]))
            })
        }
        self.finished = finished
        workerCPU = Dictionary(uniqueKeysWithValues: JobSpec.Mode.allCases.map { mode in
            (mode, registry.makeCounter(descriptor: Self.name("worker_cpu_seconds", "total",
                                                              "CPU time the worker threads of finished jobs used, by mode"),
                                        labels: [("mode", mode.rawValue)]))
        })
        var verdicts: [Bool: [JobSpec.Mode: Counter]] = [:]
        for passed in [true, false] {
            verdicts[passed] = Dictionary(uniqueKeysWithValues: JobSpec.Mode.allCases.map { mode in
                (mode, registry.makeCounter(descriptor: Self.name("verdicts", "total",
                                                                  "Verdicts of finished jobs with thresholds, passed or failed, by mode"),
                                            labels: [("verdict", passed ? "passed" : "failed"), ("mode", mode.rawValue)]))
            })
        }
        self.verdicts = verdicts
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
    func addTraffic(_ mode: JobSpec.Mode, from old: JobProgress, to new: JobProgress) {
        guard let counters = traffic[mode] else { return }
        // A counter never goes down: a smaller value (none expected) adds nothing.
        func delta(_ a: UInt64?, _ b: UInt64?) -> Int64 {
            let (a, b) = (a ?? 0, b ?? 0)
            return b > a ? Int64(clamping: b - a) : 0
        }
        counters.packetsSent.increment(by: delta(old.packetsSent, new.packetsSent))
        counters.packetsReceived.increment(by: delta(old.packetsReceived, new.packetsReceived))
        counters.bytesSent.increment(by: delta(old.bytesSent, new.bytesSent))
        counters.bytesReceived.increment(by: delta(old.bytesReceived, new.bytesReceived))
        counters.kernelDrops.increment(by: delta(old.kernelDrops, new.kernelDrops))
    }

    /// Counts a job that ended (`state` is final), and its verdict when it has thresholds: a verdict
    /// without any threshold check is not counted (it always passes, and would hide the ratio).
    func countFinished(_ mode: JobSpec.Mode, state: JobState, verdict: Verdict?) {
        finished[state]?[mode]?.increment()
        if let verdict, verdict.checks.contains(where: { $0.severity == .threshold }) {
            verdicts[verdict.passed]?[mode]?.increment()
        }
    }

    /// Adds a finished job's worker CPU time; anything but a finite positive figure adds nothing.
    func addWorkerCPU(_ mode: JobSpec.Mode, seconds: Double) {
        guard seconds.isFinite, seconds > 0 else { return }
        workerCPU[mode]?.increment(by: seconds)
    }

    func addErrors(_ totals: DirectionTotals, direction: String) {
        for (category, count) in totals.errors {
            counter(errors, Self.name("errors", "total", "Failed send/receive calls by category"),
                    [("direction", direction), ("category", category)]).increment(by: Int64(count))
        }
    }

    /// A tally for the HTTP routes `routes` (the router's and the agent's own), counted without a
    /// lock per request and carried into `volley_http_requests_total` whenever the metrics are read.
    func requestTally(routes: [String]) -> RequestTally {
        let tally = RequestTally(routes: routes)
        requests.withLock { $0.tallies.append(tally) }
        return tally
    }

    /// Adds what the tallies counted since the last call to the Prometheus counters.
    private func carryRequests() {
        requests.withLock { state in
            for tally in state.tallies {
                for (route, status, total) in tally.totals() {
                    let key = RequestKey(route: route, status: status), carried = state.carried[key] ?? 0
                    guard total > carried else { continue }
                    counter(requestCounters, Self.name("http_requests", "total", "HTTP requests by route and status"),
                            [("route", route), ("status", "\(status)")]).increment(by: Int64(total - carried))
                    state.carried[key] = total
                }
            }
        }
    }

    func setJobs(_ counts: [JobState: Int]) {
        for (state, gauge) in jobsByState { gauge.set(to: Double(counts[state] ?? 0)) }
        running.set(to: Double(counts[.running] ?? 0))
    }

    func exposition() -> [UInt8] {
        carryRequests()
        return registry.emitToBuffer()
    }

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
