import Foundation
import Logging
import VolleyModel

/// The data folder's writer: job records, withdrawn jobs' results and pruned jobs' deletions are
/// handed to it under the job manager's lock and written on its own thread, so no request and no
/// scheduled start waits for an fsync or an unlink.
///
/// - Writes for one job coalesce: only its newest record is written (a checkpoint a second later
///   replaces the one not yet written), after its result if it has one.
/// - A failed write (a full disk) is kept and tried again with a growing pause (up to 5 s), the
///   newest record winning, until it lands; failures are logged and counted in `status()`. So a
///   job that failed for lack of space is recorded `failed` with its reason once space returns.
/// - `stop()` makes one last attempt at everything pending, then joins the thread.
final class Persister: Sendable {
    struct Pending {
        var result: JobResult?
        var record: Job?
        var durable = false
        var delete = false
        var failures = 0
        var notBefore = Date.distantPast
    }

    struct Queue {
        var pending: [JobID: Pending] = [:]
        /// Jobs with pending work, in the order it was first asked for.
        var order: [JobID] = []
        /// The job being written now (its files are not touched by anyone else meanwhile), and what.
        var busy: JobID?
        var inFlight: Pending?
        /// Jobs whose files a caller is writing or deleting itself (`writeNow`, `deleteNow`).
        var claimed: Set<JobID> = []
        var stopping = false
        var exited = true
        var lastError: String?
        var failedWrites: UInt64 = 0
    }

    /// What `GET /v1/agent` shows of the writer.
    struct Status: Sendable {
        var pendingWrites: Int
        var failedWrites: UInt64
        var lastError: String?
    }

    private let queue = Monitor(Queue())
    private let store: any RecordStore
    private let logger: Logger

    init(store: any RecordStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func start() {
        let fresh = queue.withLock { q -> Bool in
            guard q.exited else { return false }
            q.exited = false
            q.stopping = false
            return true
        }
        if fresh { Thread { [self] in loop() }.start() }
    }

    /// Writes what is pending (one last try for writes that failed), then ends the thread.
    func stop() {
        queue.withLock { $0.stopping = true }
        queue.wait { q in q.exited ? .done(()) : .wait(until: Date().addingTimeInterval(0.1)) }
    }

    /// Waits until nothing is pending (or `timeout` has passed); true when everything was written.
    @discardableResult
    func flush(timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return queue.wait { q in
            if q.order.isEmpty && q.busy == nil { return .done(true) }
            if q.exited { return .done(false) }  // no thread to write it (never started, or stopped)
            return Date() >= deadline ? .done(false) : .wait(until: min(deadline, Date().addingTimeInterval(0.1)))
        }
    }

    func save(_ job: Job, durable: Bool) {
        enqueue(job.id) { p in
            p.record = job
            p.durable = p.durable || durable
            p.delete = false
        }
    }

    func save(_ result: JobResult) {
        enqueue(result.id) { p in
            p.result = result
            p.delete = false
        }
    }

    /// Removes a job's files, later (pruning); pending writes for it are dropped.
    func delete(_ id: JobID) {
        enqueue(id) { p in p = Pending(delete: true) }
    }

    /// Removes a job's files now, for a client waiting on the answer. Pending writes for it are
    /// dropped (the caller has already stopped anything new being saved for this job).
    func deleteNow(_ id: JobID) throws(StoreError) {
        let earlier = claim(id)
        defer { release(id) }
        do throws(StoreError) {
            try store.delete(id)
        } catch {
            putBack(id, earlier)  // the job stays: what it still had to write is written
            throw error
        }
    }

    /// Writes a new job's first record now (durably), for a client waiting on the answer. A pruned
    /// job of the same id whose files are still to be removed is removed first, so that deletion
    /// cannot later remove the new record.
    func writeNow(_ job: Job) throws(StoreError) {
        let earlier = claim(job.id)
        defer { release(job.id) }
        if earlier?.delete == true {
            do throws(StoreError) {
                try store.delete(job.id)
            } catch {
                putBack(job.id, earlier)  // the pruning is still owed
                throw error
            }
        }
        try store.write(job, durable: true)
    }

    /// Returns claimed work to the queue, behind anything asked for meanwhile.
    private func putBack(_ id: JobID, _ work: Pending?) {
        guard let work else { return }
        queue.withLock { q in
            if q.pending[id] == nil {
                q.order.append(id)
                q.pending[id] = work
            }
        }
    }

    /// Takes a job's files for the caller: waits for a write in progress, takes what is pending.
    private func claim(_ id: JobID) -> Pending? {
        queue.wait { q -> Monitor<Queue>.Step<Pending?> in
            guard q.busy != id, !q.claimed.contains(id) else { return .wait(until: Date().addingTimeInterval(0.05)) }
            q.claimed.insert(id)
            q.order.removeAll { $0 == id }
            return .done(q.pending.removeValue(forKey: id))
        }
    }

    private func release(_ id: JobID) {
        queue.withLock { _ = $0.claimed.remove(id) }
    }

    /// A result handed over but not yet in the data folder (a withdrawn job's), for readers who
    /// ask before it lands.
    func unwrittenResult(_ id: JobID) -> JobResult? {
        queue.withLock { q in q.pending[id]?.result ?? (q.busy == id ? q.inFlight?.result : nil) }
    }

    func status() -> Status {
        queue.withLock { Status(pendingWrites: $0.order.count + ($0.busy == nil ? 0 : 1), failedWrites: $0.failedWrites,
                                lastError: $0.lastError) }
    }

    private func enqueue(_ id: JobID, _ change: (inout Pending) -> Void) {
        queue.withLock { q in
            if q.pending[id] == nil { q.order.append(id) }
            change(&q.pending[id, default: Pending()])
        }
    }

    private func loop() {
        while true {
            let next = queue.wait { q -> Monitor<Queue>.Step<(JobID, Pending)?> in
                let now = Date()
                if let index = q.order.firstIndex(where: { !q.claimed.contains($0) && (q.stopping || q.pending[$0]!.notBefore <= now) }) {
                    let id = q.order.remove(at: index)
                    q.busy = id
                    q.inFlight = q.pending.removeValue(forKey: id)!
                    return .done((id, q.inFlight!))
                }
                if q.stopping && q.order.allSatisfy({ q.claimed.contains($0) }) {
                    q.exited = true
                    return .done(nil)
                }
                let retry = q.order.filter { !q.claimed.contains($0) }.compactMap { q.pending[$0]?.notBefore }.min() ?? now.addingTimeInterval(3600)
                return .wait(until: retry)
            }
            guard let (id, work) = next else { return }
            let (left, error) = perform(id, work)
            queue.withLock { q in
                q.busy = nil
                q.inFlight = nil
                guard var left, let error else { return }
                q.failedWrites += 1
                q.lastError = "\(id): \(error.message)"
                if q.stopping && work.failures > 0 {
                    logger.error("gave up writing to the data folder at shutdown", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
                    return
                }
                // Something newer may have been asked for meanwhile: it wins, the rest is kept.
                if let newer = q.pending[id] {
                    if newer.delete { return }
                    left.record = newer.record ?? left.record
                    left.durable = left.durable || newer.durable
                    left.result = newer.result ?? left.result
                } else {
                    q.order.insert(id, at: 0)
                }
                left.failures = work.failures + 1
                left.notBefore = Date().addingTimeInterval(min(5, 0.1 * pow(2, Double(min(left.failures, 10)))))
                q.pending[id] = left
                if left.failures == 1 || left.failures % 20 == 0 {
                    logger.error("could not write to the data folder; will try again",
                                 metadata: ["job.id": "\(id)", "error": "\(error.message)", "attempts": "\(left.failures)"])
                }
            }
        }
    }

    /// Does the work; returns what is left and why, when a step failed.
    private func perform(_ id: JobID, _ work: Pending) -> (Pending?, StoreError?) {
        var left = work
        do throws(StoreError) {
            if work.delete {
                try store.delete(id)
                return (nil, nil)
            }
            if let result = work.result {
                try store.write(result)
                left.result = nil
            }
            if let record = work.record {
                try store.write(record, durable: work.durable)
            }
            return (nil, nil)
        } catch {
            return (left, error)
        }
    }
}
