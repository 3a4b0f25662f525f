import Foundation
import MicroHTTP
import VolleyModel

/// The read side of the job manager: single jobs (with live progress while they run), pages of the
/// list, and stored results. Nothing here changes a job.
extension JobManager {
    /// The job with its live progress, if it exists.
    public func job(_ id: JobID) -> Job? {
        state.withLockQuietly { s in
            guard var entry = s.visible(id) else { return nil }
            if entry.job.state == .running, let run = entry.run { entry.job.progress = run.progress() }
            return entry.job
        }
    }

    /// Whether any job's traffic runs now (read without the lock).
    var trafficRuns: Bool { runningTraffic.load(ordering: .relaxed) > 0 }

    /// The API's answer for a job: its JSON with live progress while it runs; for any other, one
    /// encoding built into libmicrohttpd once and kept until the job changes.
    public func jobResponse(_ id: JobID) throws(APIError) -> HTTPResponse? {
        let (job, kept) = state.withLockQuietly { s -> (Job?, HTTPResponse?) in
            // The common case first, with one hash and the entry read in place.
            guard let index = s.entries.index(forKey: id) else { return (nil, nil) }
            if let kept = s.entries.values[index].keptAnswer() { return (nil, kept) }
            guard let entry = s.visible(id) else { return (nil, nil) }
            if entry.job.state == .running, let run = entry.run {
                var live = entry.job
                live.progress = run.progress()
                return (live, nil)
            }
            return (entry.job, nil)
        }
        if let kept { return kept }
        guard let job else { return nil }
        let body: [UInt8]
        do {
            body = Array(try VolleyJSON.encode(job)) + [0x0a]
        } catch {
            throw APIError(.internalError, "job '\(id)' could not be encoded as JSON: \(error)")
        }
        let response = HTTPResponse(status: 200, contentType: "application/json", body: body)
        guard job.state != .running else { return response }
        let prepared = response.prepared()
        state.withLockQuietly { s in
            if s.entries[id]?.job == job { s.entries[id]?.answer = prepared }
        }
        return prepared
    }

    /// Jobs newest first, optionally of one state, after the job `after` (the previous page's last).
    public func list(state filter: JobState?, limit: Int, after: JobID?) throws(APIError) -> (jobs: [Job], next: JobID?) {
        try state.withLockQuietly { (s) throws(APIError) -> ([Job], JobID?) in
            var cursor: UInt64?
            if let after {
                guard let order = s.entries[after]?.order ?? s.deletedOrders[after] else {
                    throw APIError(.invalidQuery, "'after' names no job: \(after)", field: "after")
                }
                cursor = order
            }
            var page: [Job] = []
            var more = false
            for entry in s.newestFirst(before: cursor) where filter == nil || entry.job.state == filter {
                guard page.count < limit else {
                    more = true
                    break
                }
                var job = entry.job
                if job.state == .running, let run = entry.run { job.progress = run.progress() }
                page.append(job)
            }
            return (page, more ? page.last?.id : nil)
        }
    }

    /// The stored result file's bytes; 409 while the job is active, 404 for an unknown job.
    public func resultBytes(_ id: JobID) throws(APIError) -> [UInt8] {
        guard let job = job(id) else { throw .notFound("no job with id '\(id)'") }
        guard job.state.isFinished else {
            throw APIError(.notFinished, "job '\(id)' is \(job.state.rawValue); its result is written when it finishes")
        }
        do throws(StoreError) {
            // The persister first: once it no longer holds the result, the file is there.
            if let unwritten = persister.unwrittenResult(id) { return try JobStore.bytes(of: unwritten) }
            if let bytes = try store.resultBytes(id) { return bytes }
        } catch {
            throw APIError(.storageError, error.message)
        }
        throw APIError(.storageError, job.error?.message ?? "the result of job '\(id)' is missing from the data folder")
    }
}
