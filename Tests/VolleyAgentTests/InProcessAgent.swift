import Foundation
import Logging
import MicroHTTP
import VolleyEngine
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// A job manager and its routes without an HTTP server: requests go straight to the router, as
/// hummingbird's `app.test(.router)` does, so these tests run in milliseconds and can interleave
/// requests with a store that is held or failing at chosen moments.
final class InProcessAgent: @unchecked Sendable {  // fields are set once in init
    let jobs: JobManager
    let router: Router
    let store: FaultyStore
    let dataDirectory: URL

    init(dataDirectory: URL = AgentProcess.temporaryDirectory(), start: Bool = true,
         capabilities: Capabilities = Capabilities.probe(), engineOptions: EngineOptions = EngineOptions(),
         configure: (inout AgentConfig) -> Void = { _ in }) throws {
        self.dataDirectory = dataDirectory
        var logger = Logger(label: "volley-test")
        logger.logLevel = .critical
        var config = AgentConfig(host: "127.0.0.1", port: 0, dataDirectory: dataDirectory, allowlist: CIDR.loopback)
        configure(&config)
        store = FaultyStore(try JobStore(dataDirectory: dataDirectory))
        let metrics = AgentMetrics(version: Volley.version)
        jobs = JobManager(store: store, config: config, agent: .init(hostname: "test", version: Volley.version),
                          capabilities: capabilities, metrics: metrics, engineOptions: engineOptions, logger: logger)
        router = Routes.make(jobs: jobs, hostname: "test", capabilities: capabilities, metrics: metrics)
        if start { jobs.start() }
    }

    /// Cancels what runs, writes what is pending, ends the threads.
    func shutdown() {
        jobs.stopAll()
        jobs.stop()
    }

    struct Reply {
        var status: Int
        var body: [UInt8]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    }

    func request(_ method: String, _ path: String, json: String? = nil) -> Reply {
        let parts = path.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        for pair in parts.count > 1 ? parts[1].split(separator: "&") : [] {
            let kv = pair.split(separator: "=", maxSplits: 1)
            query[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
        }
        let request = HTTPRequest(method: method, path: String(parts[0]), query: query,
                                  headers: json == nil ? [:] : ["content-type": "application/json"],
                                  body: Array((json ?? "").utf8))
        let response = router.respond(to: request).response
        return Reply(status: response.status, body: response.body)
    }

    /// POSTs a spec that must be accepted; returns its id.
    func start(_ json: String) throws -> JobID {
        let reply = request("POST", "/v1/jobs", json: json)
        guard reply.status == 201, let id = reply.json["id"] as? String else {
            throw HarnessError("job refused: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return JobID(id)!
    }

    /// Waits (polling the manager, not the clock) until `condition` holds or `timeout` passes.
    func wait(timeout: Double = 20, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(TestTiming.limit(timeout))
        while !condition() {
            if Date() > deadline { return false }
            usleep(2_000)
        }
        return true
    }
}

/// The real data folder with faults injected on demand: writes or deletions that fail (a full or
/// read-only disk), or writes held until the test lets them go (a disk busy flushing).
final class FaultyStore: RecordStore, @unchecked Sendable {  // `faults` is locked; semaphores are thread-safe
    struct Faults {
        var failRecords = false
        var failResults = false
        var failDeletes = false
        var holdRecords = false
        var recordWrites = 0
    }

    let real: JobStore
    let faults = Locked(Faults())
    /// Signalled when a held record write has begun; `release()` lets every held write go on.
    let entered = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)

    init(_ real: JobStore) { self.real = real }

    func release() {
        faults.withLock { $0.holdRecords = false }
        released.signal()
    }

    private static let full = StoreError(message: "No space left on device (injected)")

    func write(_ job: Job, durable: Bool) throws(StoreError) {
        let (fail, hold) = faults.withLock { f in
            f.recordWrites += 1
            return (f.failRecords, f.holdRecords)
        }
        if hold {
            entered.signal()
            released.wait()
            released.signal()  // let any other held write through too
        }
        if fail { throw Self.full }
        try real.write(job, durable: durable)
    }

    func write(_ result: JobResult) throws(StoreError) -> [UInt8] {
        if faults.withLock({ $0.failResults }) { throw Self.full }
        return try real.write(result)
    }

    func resultBytes(_ id: JobID) throws(StoreError) -> [UInt8]? { try real.resultBytes(id) }

    func delete(_ id: JobID) throws(StoreError) {
        if faults.withLock({ $0.failDeletes }) { throw StoreError(message: "Read-only file system (injected)") }
        try real.delete(id)
    }

    func load() -> (jobs: [Job], results: [JobID: JobResult], quarantined: [String], reasons: [String: String]) { real.load() }
}
