import Foundation
import Logging
import Synchronization
import VolleyEngine
import VolleyModel

/// Admits, runs and remembers jobs. Every job is in memory (finished ones are reloaded from the
/// result store at start-up); running ones also hold their `JobRun` for live progress and stopping.
public final class JobManager: Sendable {
    private struct Entry {
        var job: Job
        var run: JobRun?
    }

    private let entries = Mutex<[JobID: Entry]>([:])
    private let finished = Condition()
    private let store: ResultStore
    private let allowlist: [CIDR]
    private let agent: JobResult.Agent
    private let engineOptions: EngineOptions
    private let capabilities: Capabilities
    private let logger: Logger

    public init(store: ResultStore, allowlist: [CIDR], agent: JobResult.Agent, capabilities: Capabilities,
                engineOptions: EngineOptions = EngineOptions(), logger: Logger) {
        self.capabilities = capabilities
        self.store = store
        self.allowlist = allowlist
        self.agent = agent
        self.engineOptions = engineOptions
        self.logger = logger
        let (results, unreadable) = store.loadAll()
        for name in unreadable {
            logger.warning("skipping unreadable result file", metadata: ["file": "\(name)"])
        }
        entries.withLock { entries in
            for result in results { entries[result.id] = Entry(job: Job(restoredFrom: result)) }
        }
        if !results.isEmpty { logger.info("loaded stored results", metadata: ["count": "\(results.count)"]) }
    }

    /// Checks the spec against the allowlist and the addresses in use, opens its sockets, starts it.
    public func submit(_ spec: JobSpec) throws(APIError) -> Job {
        guard let endpoint = spec.endpoint else { throw APIError(SpecError(field: nil, "the spec has no address")) }
        let field = spec.mode.originates ? "target" : "listen"
        if spec.gso && !capabilities.udpGSO {
            throw APIError(status: 400, code: "invalid_spec", "'gso' needs UDP_SEGMENT, which this agent's kernel does not offer (see GET /v1/agent)", field: "gso")
        }
        if spec.gro && !capabilities.udpGRO {
            throw APIError(status: 400, code: "invalid_spec", "'gro' needs UDP_GRO, which this agent's kernel does not offer (see GET /v1/agent)", field: "gro")
        }
        guard allowlist.contains(where: { $0.contains(endpoint.address) }) else {
            let allowed = allowlist.map(\.description).joined(separator: ", ")
            throw APIError(status: 403, code: "target_not_allowed",
                           "\(endpoint.address) is outside this agent's allowlist (\(allowed)); start the agent with --allow CIDR to permit it",
                           field: field)
        }
        return try entries.withLock { (entries) throws(APIError) -> Job in
            if !spec.mode.originates, let busy = entries.values.first(where: { $0.run != nil && $0.job.spec.listens(like: spec) }) {
                throw APIError(status: 409, code: "address_in_use",
                               "\(endpoint) is already used by job \(busy.job.id)", field: field)
            }
            let run: JobRun
            do throws(EngineError) {
                run = try JobRun(spec: spec, options: engineOptions)
            } catch {
                throw APIError(engine: error, field: field)
            }
            var fresh = JobID.generate()
            while entries[fresh] != nil { fresh = JobID.generate() }
            let id = fresh
            let now = Timestamp()
            let job = Job(id: id, state: .running, spec: spec, createdAt: now, startedAt: now)
            entries[id] = Entry(job: job, run: run)
            logger.info("job started", metadata: ["job.id": "\(id)", "job.mode": "\(spec.mode.rawValue)",
                                                  "job.endpoint": "\(endpoint)"])
            run.start { [self] report in finish(id, report) }
            return job
        }
    }

    /// The job with its live progress, if it exists.
    public func job(_ id: JobID) -> Job? {
        entries.withLock { entries in
            guard var entry = entries[id] else { return nil }
            if let run = entry.run { entry.job.progress = run.progress() }
            return entry.job
        }
    }

    /// The stored result file's bytes; 409 while the job runs, 404 for an unknown job.
    public func resultBytes(_ id: JobID) throws(APIError) -> [UInt8] {
        guard let job = job(id) else { throw .notFound("no job with id '\(id)'") }
        guard job.state.isFinished else {
            throw APIError(status: 409, code: "not_finished", "job '\(id)' is \(job.state.rawValue); its result is written when it finishes")
        }
        let bytes: [UInt8]?
        do {
            bytes = try store.bytes(for: id)
        } catch {
            throw APIError(status: 500, code: "storage_error", error.message)
        }
        guard let bytes else {
            throw APIError(status: 500, code: "storage_error", job.error?.message ?? "the result of job '\(id)' is missing from the data folder")
        }
        return bytes
    }

    /// Stops every running job (each still writes its partial result as `cancelled`) and waits for them.
    public func stopAll() {
        let runs = entries.withLock { $0.values.compactMap(\.run) }
        runs.forEach { $0.stop() }
        finished.wait { self.entries.withLock { !$0.values.contains { $0.run != nil } } }
    }

    private func finish(_ id: JobID, _ report: EngineReport) {
        guard let spec = entries.withLock({ $0[id]?.job.spec }) else { return }
        var result = JobResult(id: id, report: report, spec: spec, agent: agent)
        var storeError: JobError?
        do {
            try store.write(result)
        } catch {
            storeError = JobError(code: "storage_error", message: "could not store the result: \(error.message)")
            result.state = .failed
            logger.error("could not store result", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
        }
        entries.withLock { entries in
            entries[id]?.job.apply(result)
            if let storeError { entries[id]?.job.error = storeError }
            entries[id]?.run = nil
        }
        finished.signal()
        logger.info("job finished", metadata: ["job.id": "\(id)", "job.state": "\(result.state.rawValue)",
                                               "sent": "\(result.sent.packets)", "received": "\(result.received.packets)"])
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
            self.init(status: 409, code: "address_in_use", error.description, field: field)
        case .addressNotAvailable:
            self.init(status: 400, code: "invalid_spec", error.description, field: field)
        case .permissionDenied:
            self.init(status: 403, code: "permission_denied", error.description, field: field)
        case .socket:
            self.init(status: 500, code: "socket_error", error.description, field: field)
        }
    }
}
