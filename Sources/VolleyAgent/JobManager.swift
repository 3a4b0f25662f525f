import Foundation
import Logging
import MicroHTTP
import Synchronization
import VolleyEngine
import VolleyModel

/// Admits, schedules, runs and remembers jobs. Every job lives in memory and in the data folder
/// (its record is on disk before the API answers); running jobs also hold their `JobRun`.
public final class JobManager: Sendable {
    struct Entry {
        var job: Job {
            didSet { answer = nil }
        }
        /// The API's answer for the job (its JSON, built into libmicrohttpd), kept while the job does
        /// not change (a finished job never does), so repeated GETs of it cost no encoding and no copy.
        var answer: HTTPResponse?
        /// Its sockets, from admission (a job that starts now) or from its start (a scheduled job).
        var run: JobRun?
        /// A scheduled job's sockets have been opened (or tried) ahead of its start.
        var prepared = false
        /// What it holds against the agent's budget while it is active.
        var footprint = JobFootprint(memoryBytes: 0, sockets: 0)
        /// Submission order, for listings (client ids do not sort by time).
        var order: UInt64
        /// Counters last reported to the metrics, to add only what is new.
        var reported = JobProgress()
        var cancelRequested = false
        /// Admitted but its record is not on disk yet: invisible to readers, started by no one.
        var admitting = false
        /// Its files are being removed: gone for readers.
        var deleting = false
        /// Why its sockets could not be opened ahead of its start (a scheduled job), for `begin`.
        var openError: APIError?

        /// Whether readers (GET, list, cancel, delete) see this job.
        var visible: Bool { !admitting && !deleting }

        /// The kept answer of a visible job. `mutating` only so that `entries.values[index].keptAnswer()`
        /// reaches the entry in place: reading it through the getter copied the whole entry (a job and
        /// its spec, a dozen references retained and released), which cost more than the lookup.
        mutating func keptAnswer() -> HTTPResponse? { visible ? answer : nil }
    }

    struct State {
        var entries: [JobID: Entry] = [:]
        var nextOrder: UInt64 = 0
        /// Every job ever added, oldest first, by listing position: listings walk it backwards
        /// instead of sorting every job under the lock. Items whose job is gone are skipped, and
        /// dropped when they outnumber the jobs.
        var listing: [(order: UInt64, id: JobID)] = []
        /// Queued jobs, oldest first.
        var queue: [JobID] = []
        var accepting = true
        var quarantined: [String] = []
        /// Listing positions of the most recently deleted jobs, so that a page cursor naming one of
        /// them still works (bounded: the oldest are forgotten first).
        var deletedOrders: [JobID: UInt64] = [:]
        var deletedOldestFirst: [JobID] = []
        static let rememberedDeletions = 4096
        /// The scheduler thread is running / has been asked to end.
        var schedulerRunning = false
        var schedulerStopping = false

        /// A job readers may see.
        func visible(_ id: JobID) -> Entry? {
            guard let entry = entries[id], entry.visible else { return nil }
            return entry
        }

        /// Adds a job at the end of the listing order.
        mutating func add(_ entry: Entry) {
            var entry = entry
            entry.order = nextOrder
            nextOrder += 1
            entries[entry.job.id] = entry
            listing.append((entry.order, entry.job.id))
        }

        /// The visible jobs newest first, from just before listing position `before`.
        func newestFirst(before: UInt64?) -> some Sequence<Entry> {
            var end = listing.count
            if let before {  // the first item at or after `before`, by binary search
                var low = 0
                while low < end {
                    let mid = (low + end) / 2
                    if listing[mid].order < before { low = mid + 1 } else { end = mid }
                }
            }
            return listing[..<end].reversed().lazy.compactMap { item in
                entries[item.id].flatMap { $0.order == item.order && $0.visible ? $0 : nil }
            }
        }

        /// Forgets a job, remembering where it stood in listings.
        mutating func remove(_ id: JobID) {
            guard let entry = entries.removeValue(forKey: id) else { return }
            if listing.count > 2 * entries.count + 64 {
                listing.removeAll { entries[$0.id]?.order != $0.order }
            }
            deletedOrders[id] = entry.order
            deletedOldestFirst.append(id)
            if deletedOldestFirst.count > Self.rememberedDeletions {
                deletedOrders[deletedOldestFirst.removeFirst()] = nil
            }
        }
    }

    /// The one lock of the job manager: every field of every job, the queue and the scheduler's
    /// wake-ups. Held only to decide and to record; socket opening, file writes and deletions are
    /// done outside it (see docs/architecture.md).
    let state = Monitor(State())
    /// Jobs whose traffic runs now (from `begin` to `finish`), read without the lock by every API
    /// request: the API threads step aside for traffic workers only while there are some.
    let runningTraffic = Atomic<Int>(0)
    let store: any RecordStore
    let persister: Persister
    let config: AgentConfig
    let agent: JobResult.Agent
    let capabilities: Capabilities
    let engineOptions: EngineOptions
    let metrics: AgentMetrics
    let logger: Logger
    let budget: ResourceBudget

    /// Reads the data folder; starts no thread (`start()` does), so tests can drive it in-process.
    init(store: any RecordStore, config: AgentConfig, agent: JobResult.Agent, capabilities: Capabilities, metrics: AgentMetrics,
         engineOptions: EngineOptions = EngineOptions(), logger: Logger) {
        self.store = store
        persister = Persister(store: store, logger: logger)
        self.config = config
        self.agent = agent
        self.capabilities = capabilities
        self.metrics = metrics
        self.logger = logger
        var options = engineOptions
        options.peerAllowlist = config.allowlist
        options.maxRatePPS = config.limits.maxRatePPS
        self.engineOptions = options
        budget = config.limits.budget
        recover()
    }

    /// Starts the data folder's writer and the scheduler thread.
    func start() {
        persister.start()
        let fresh = state.withLock { s -> Bool in
            guard !s.schedulerRunning else { return false }
            s.schedulerRunning = true
            s.schedulerStopping = false
            return true
        }
        if fresh { Thread { [self] in scheduleLoop() }.start() }
    }

    /// Ends the scheduler thread and writes what is pending; call after `stopAll()`.
    func stop() {
        state.withLock { $0.schedulerStopping = true }
        state.wait { s in s.schedulerRunning ? .wait(until: Date().addingTimeInterval(0.1)) : .done(()) }
        persister.stop()
    }

    var quarantined: [String] { state.withLockQuietly { $0.quarantined } }

    /// The data folder's health for `GET /v1/agent`.
    func storeInfo() -> StoreInfo {
        let writer = persister.status()
        return StoreInfo(quarantined: quarantined, pendingWrites: writer.pendingWrites, failedWrites: writer.failedWrites,
                         lastWriteError: writer.lastError)
    }

    /// Checks and admits a spec. Returns the job and whether it is new (201) or an idempotent
    /// resubmission of an existing one (200).
    public func submit(_ spec: JobSpec) throws(APIError) -> (job: Job, created: Bool) {
        // A resubmission is answered before any check that time can change (a start_at now past).
        if let existing = try state.withLock({ (s) throws(APIError) in try resubmission(spec, s) }) {
            return (existing, false)
        }
        try admissible(spec)
        let footprint = JobFootprint(spec: spec)
        try budget.checkJob(spec, footprint)
        // Decide under the lock, open sockets outside it, then decide again and reserve the job;
        // write its record outside the lock; only then let it start.
        _ = try state.withLock { (s) throws(APIError) in try admitting(spec, footprint, &s) }
        let run: JobRun?
        let field = spec.mode.originates ? "target" : "listen"
        do throws(EngineError) {
            // A job that may start now gets its sockets at once; a scheduled one only shortly before
            // it starts (until then it holds none), after a probe that its address works.
            if spec.startAt == nil {
                run = try JobRun(spec: spec, options: engineOptions)
            } else {
                try JobRun.probe(spec, options: engineOptions)
                run = nil
            }
        } catch {
            throw APIError(engine: error, field: field)
        }
        let reserved = try state.withLock { (s) throws(APIError) -> (job: Job, created: Bool) in
            if let existing = try resubmission(spec, s) { return (existing, false) }
            try admitting(spec, footprint, &s)
            var fresh = spec.id ?? JobID.generate()
            while spec.id == nil && s.entries[fresh] != nil { fresh = JobID.generate() }
            let job = Job(id: fresh, state: spec.startAt != nil ? .scheduled : .queued, spec: spec, createdAt: Timestamp())
            s.add(Entry(job: job, run: run, footprint: footprint, order: 0, admitting: true))
            return (job, true)
        }
        guard reserved.created else { return reserved }
        let job = reserved.job
        do throws(StoreError) {
            try persister.writeNow(job)
        } catch {
            state.withLock { s in s.entries[job.id] = nil }
            throw APIError(.storageError, "the job could not be recorded: \(error.message)")
        }
        return state.withLock { s in
            s.entries[job.id]?.admitting = false
            logTransition(job)
            if job.state == .queued { s.queue.append(job.id) }
            startQueued(&s)
            return (s.entries[job.id]?.job ?? job, true)
        }
    }

    /// An existing job with the spec's id: the same spec is an idempotent resubmission (its job),
    /// another spec a conflict.
    func resubmission(_ spec: JobSpec, _ s: State) throws(APIError) -> Job? {
        guard let id = spec.id, let existing = s.entries[id] else { return nil }
        guard existing.job.spec == spec else {
            throw APIError(.idConflict, "job '\(id)' exists with a different spec; choose another id", field: "id")
        }
        guard existing.visible else {
            throw APIError(.idConflict, "job '\(id)' is being \(existing.admitting ? "recorded" : "deleted") right now; try again", field: "id")
        }
        return existing.job
    }

    /// The checks that depend on the other jobs: accepting, listen conflicts, queue room and budget.
    /// Returns whether the job would start at once (for `preview`); changes nothing itself.
    @discardableResult
    func admitting(_ spec: JobSpec, _ footprint: JobFootprint, _ s: inout State) throws(APIError) -> Bool {
        guard s.accepting else { throw APIError(.shuttingDown, "the agent is stopping") }
        let field = spec.mode.originates ? "target" : "listen"
        let active = s.entries.values.filter { $0.job.state.isActive }
        if !spec.mode.originates, let busy = active.first(where: { $0.job.spec.listens(like: spec) }) {
            throw APIError(.addressInUse, "\(spec.endpoint!) is already used by job \(busy.job.id)", field: field)
        }
        let running = active.filter { $0.job.state == .running }.count
        let waiting = active.count - running
        let startsNow = spec.startAt == nil && running < config.limits.maxJobs && s.queue.isEmpty
        if !startsNow && waiting >= config.limits.maxQueued {
            throw APIError(.queueFull, "\(waiting) jobs are already waiting (--max-queued \(config.limits.maxQueued)); try again later")
        }
        let inUse = active.reduce(JobFootprint(memoryBytes: 0, sockets: 0)) {
            JobFootprint(memoryBytes: $0.memoryBytes + $1.footprint.memoryBytes, sockets: $0.sockets + $1.footprint.sockets)
        }
        try budget.checkAgent(spec, footprint, inUse: inUse, jobs: active.count)
        return startsNow
    }

    /// Memory and sockets held by active jobs, against the budget (`GET /v1/agent`).
    func budgetInfo() -> BudgetInfo {
        let (memory, sockets, count) = state.withLockQuietly { s in
            s.entries.values.filter { $0.job.state.isActive }.reduce((0, 0, 0)) {
                ($0.0 + $1.footprint.memoryBytes, $0.1 + $1.footprint.sockets, $0.2 + 1)
            }
        }
        return BudgetInfo(jobMemoryBytes: budget.jobMemoryBytes, memoryBytes: budget.memoryBytes, memoryInUseBytes: memory,
                          sockets: budget.sockets, socketsInUse: sockets, activeJobs: count,
                          maxStartAheadSeconds: config.limits.maxStartAheadSeconds)
    }

    /// Checks that need no lock: limits, allowlist, kernel features, start time.
    func admissible(_ spec: JobSpec) throws(APIError) {
        try config.limits.check(spec)
        guard let endpoint = spec.endpoint else { throw APIError(SpecError(field: nil, "the spec has no address")) }
        let field = spec.mode.originates ? "target" : "listen"
        guard config.allowlist.contains(where: { $0.contains(endpoint.address) }) else {
            let allowed = config.allowlist.map(\.description).joined(separator: ", ")
            throw APIError(.targetNotAllowed, "\(endpoint.address) is outside this agent's allowlist (\(allowed)); start the agent with --allow CIDR to permit it",
                           field: field)
        }
        if spec.gso && !capabilities.udpGSO {
            throw APIError(.invalidSpec, "'gso' needs UDP_SEGMENT, which this agent's kernel does not offer (see GET /v1/agent)", field: "gso")
        }
        if spec.gro && !capabilities.udpGRO {
            throw APIError(.invalidSpec, "'gro' needs UDP_GRO, which this agent's kernel does not offer (see GET /v1/agent)", field: "gro")
        }
        if spec.cpuLatencyMicroseconds != nil && !capabilities.cpuLatency { throw APIError(cpuLatencyUnavailable: capabilities) }
        if let startAt = spec.startAt, startAt.date < Date().addingTimeInterval(-1) {
            throw APIError(.invalidSpec, "'start_at' \(startAt) is more than 1 s in the past", field: "start_at")
        }
        let ahead = config.limits.maxStartAheadSeconds
        if let startAt = spec.startAt, startAt.date > Date().addingTimeInterval(ahead) {
            throw APIError(.limitExceeded, "'start_at' \(startAt) is more than \(Self.describe(seconds: ahead)) ahead; this agent schedules at most that far (--max-start-ahead-s)",
                           field: "start_at")
        }
    }

    static func describe(seconds: Double) -> String {
        seconds >= 86_400 && seconds.truncatingRemainder(dividingBy: 86_400) == 0 ? "\(Int(seconds / 86_400)) days" : "\(seconds) s"
    }

    /// Counts by state, for metrics.
    func countsByState() -> [JobState: Int] {
        state.withLockQuietly { s in s.entries.values.filter(\.visible).reduce(into: [:]) { $0[$1.job.state, default: 0] += 1 } }
    }

    func logTransition(_ job: Job) {
        logger.info("job \(job.state.rawValue)", metadata: ["job.id": "\(job.id)", "job.mode": "\(job.spec.mode.rawValue)",
                                                             "job.state": "\(job.state.rawValue)"])
    }
}

extension JobSpec {
    /// True when two receiving specs (sink, reflect) would receive on the same port of overlapping addresses.
    func listens(like other: JobSpec) -> Bool {
        guard !mode.originates, !other.mode.originates, let a = listen, let b = other.listen, a.port == b.port,
              a.address.isIPv6 == b.address.isIPv6 else { return false }  // IPv6 sockets are V6ONLY
        let wildcard = { (e: Endpoint) in e.address.bytes.allSatisfy { $0 == 0 } }
        return a.address == b.address || wildcard(a) || wildcard(b)
    }
}

extension APIError {
    init(engine error: EngineError, field: String) {
        switch error {
        case .addressInUse:
            self.init(.portInUse, error.description, field: field)
        case .addressNotAvailable:
            self.init(.invalidSpec, error.description, field: field)
        case .permissionDenied, .sendNotPermitted:
            self.init(.permissionDenied, error.description, field: field)
        case .segmentExceedsPath:
            self.init(.invalidSpec, error.description, field: error.field ?? field)
        case .socket:
            self.init(.socketError, error.description, field: field)
        case .cpuLatencyUnavailable(_, let code):
            self.init(code == EACCES || code == EPERM ? .permissionDenied : .invalidSpec, error.description,
                      field: error.field ?? field)
        }
    }

    /// A job with `cpu_latency_us` where the request cannot be held: the probe's own reason (403 for
    /// missing access, 400 for a missing device), or, when none was kept, a 403 saying so.
    init(cpuLatencyUnavailable capabilities: Capabilities) {
        if let problem = capabilities.cpuLatencyProblem {
            self.init(engine: problem, field: "cpu_latency_us")
        } else {
            self.init(.permissionDenied, "'cpu_latency_us' needs a CPU latency request at \(CPULatencyRequest.devicePath), which cannot be held here (see GET /v1/agent); leave 'cpu_latency_us' out",
                      field: "cpu_latency_us")
        }
    }
}
