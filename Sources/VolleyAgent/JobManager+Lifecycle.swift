import Foundation
import VolleyEngine
import VolleyModel

extension JobManager {
    /// Starts queued jobs, oldest first, while slots are free.
    func startQueued(_ s: inout State) {
        var running = s.entries.values.filter { $0.job.state == .running }.count
        while running < config.limits.maxJobs, !s.queue.isEmpty {
            let id = s.queue.removeFirst()
            guard s.entries[id]?.job.state == .queued else { continue }
            if begin(id, &s) { running += 1 }  // a job that failed to start leaves its slot free
        }
    }

    /// Moves a job to `running` and starts its traffic. Its sockets were opened before (at admission,
    /// or by the scheduler outside the lock); a scheduled job whose sockets could not be opened (another
    /// process took the port) fails here with that reason. Returns whether it is running.
    @discardableResult
    func begin(_ id: JobID, _ s: inout State) -> Bool {
        guard var entry = s.entries[id] else { return false }
        guard let run = entry.run else {
            let reason = entry.openError ?? APIError(.socketError, "its sockets were not opened", field: nil)
            withdraw(id, &s, as: .failed, error: JobError(code: reason.code, message: "the job could not start: \(reason.message)"))
            return false
        }
        let clock = Date()
        entry.job.move(to: .running, at: Timestamp(clock))
        if let startAt = entry.job.spec.startAt {
            // To the microsecond: the scheduler's promise is a start within 1 ms of `start_at`.
            entry.job.startDelayMs = (clock.timeIntervalSince(startAt.date) * 1e6).rounded() / 1e3
        }
        s.entries[id] = entry
        persister.save(entry.job, durable: false)
        logTransition(entry.job)
        runningTraffic.add(1, ordering: .relaxed)
        run.start { [self] report in finish(id, report) }
        return true
    }

    /// Stores a finished run's result (on the run's own thread, outside the lock) and frees its slot.
    /// A result that cannot be stored makes the job `failed` with the reason, which its record keeps.
    func finish(_ id: JobID, _ report: EngineReport) {
        runningTraffic.subtract(1, ordering: .relaxed)  // its workers have ended
        guard let entry = state.withLock({ $0.entries[id] }) else { return }
        var result = JobResult(id: id, report: report, spec: entry.job.spec, agent: agent)
        result.startDelayMs = entry.job.startDelayMs
        var storeError: JobError?
        do {
            try store.write(result)
        } catch {
            storeError = JobError(code: APIErrorCode.storageError.rawValue, message: "could not store the result: \(error.message)")
            result.state = .failed
            logger.error("could not store result", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
        }
        state.withLock { s in
            guard var entry = s.entries[id] else { return }
            let final = JobProgress(packetsSent: result.sent.packets, packetsReceived: result.received.packets,
                                    bytesSent: result.sent.bytes, bytesReceived: result.received.bytes,
                                    elapsedSeconds: result.elapsedSeconds, kernelDrops: result.received.kernelDrops)
            metrics.addTraffic(entry.job.spec.mode, from: entry.reported, to: final)
            metrics.addErrors(result.sent, direction: "send")
            metrics.addErrors(result.received, direction: "receive")
            if let workers = result.io.workers { metrics.addWorkerCPU(entry.job.spec.mode, seconds: workers.cpuSeconds) }
            entry.reported = final
            entry.job.move(to: result.state, at: result.finishedAt)
            entry.job.progress = final
            entry.job.error = storeError
            // The verdict only when the result was stored: a job whose result is lost has none to show.
            entry.job.verdict = storeError == nil ? result.verdict : nil
            metrics.countFinished(entry.job.spec.mode, state: entry.job.state, verdict: entry.job.verdict)
            entry.run = nil
            s.entries[id] = entry
            persister.save(entry.job, durable: true)
            logTransition(entry.job)
            startQueued(&s)
            prune(&s)
        }
    }

    /// Stops a running job (its partial result is kept as `cancelled`) or withdraws a waiting one.
    public func cancel(_ id: JobID) throws(APIError) -> Job {
        try state.withLock { (s) throws(APIError) -> Job in
            guard var entry = s.visible(id) else { throw .notFound("no job with id '\(id)'") }
            switch entry.job.state {
            case .running:
                entry.cancelRequested = true
                entry.run?.stop()
                s.entries[id] = entry
            case .queued, .scheduled:
                withdraw(id, &s, as: .cancelled, error: nil)
            default:
                throw APIError(.notActive, "job '\(id)' is already \(entry.job.state.rawValue)")
            }
            return s.entries[id]!.job
        }
    }

    /// Ends a job that never ran: its result has zero counts. Both files are written by the persister.
    func withdraw(_ id: JobID, _ s: inout State, as final: JobState, error: JobError?) {
        guard var entry = s.entries[id] else { return }
        let now = Timestamp()
        s.queue.removeAll { $0 == id }
        entry.run = nil
        entry.job.move(to: final, at: now)
        entry.job.error = error
        s.entries[id] = entry
        metrics.countFinished(entry.job.spec.mode, state: final, verdict: nil)
        var result = JobResult(id: id, state: final, spec: entry.job.spec, agent: agent,
                               startedAt: entry.job.startedAt ?? now, finishedAt: now, elapsedSeconds: entry.job.progress.elapsedSeconds,
                               sent: DirectionTotals(packets: entry.job.progress.packetsSent, bytes: entry.job.progress.bytesSent),
                               received: DirectionTotals(packets: entry.job.progress.packetsReceived,
                                                         bytes: entry.job.progress.bytesReceived),
                               rate: .init(targetPPS: entry.job.spec.plannedAveragePPS, achievedPPS: 0, achievedBPS: 0),
                               io: .init(send: "none", receive: "none"), error: error)
        result.startDelayMs = entry.job.startDelayMs
        persister.save(result)
        persister.save(entry.job, durable: true)
        logTransition(entry.job)
    }

    /// Removes a finished job's record and result: decided under the lock, done outside it.
    public func delete(_ id: JobID) throws(APIError) {
        try state.withLock { (s) throws(APIError) in
            guard let entry = s.visible(id) else { throw .notFound("no job with id '\(id)'") }
            guard entry.job.state.isFinished else {
                throw APIError(.jobActive, "job '\(id)' is \(entry.job.state.rawValue): cancel it first")
            }
            s.entries[id]?.deleting = true
        }
        do throws(StoreError) {
            try persister.deleteNow(id)
        } catch {
            state.withLock { s in s.entries[id]?.deleting = false }
            throw APIError(.storageError, error.message)
        }
        state.withLock { s in s.remove(id) }
    }

    /// For shutdown: refuses new jobs, cancels every active one and waits (≤ 1.5 s) for their results,
    /// then (≤ 5 s) for the records to reach the data folder.
    public func stopAll() {
        let runs = state.withLock { s -> [JobRun] in
            s.accepting = false
            for (id, entry) in s.entries where entry.visible && (entry.job.state == .queued || entry.job.state == .scheduled) {
                withdraw(id, &s, as: .cancelled, error: JobError(code: "agent_stopped", message: "the agent stopped before the job started"))
            }
            return s.entries.values.compactMap { $0.job.state == .running ? $0.run : nil }
        }
        runs.forEach { $0.stop() }
        let deadline = Date().addingTimeInterval(1.5)
        state.wait { s in
            !s.entries.values.contains { $0.job.state == .running } || Date() > deadline ? .done(()) : .wait(until: deadline)
        }
        if !persister.flush(timeout: 5) {
            logger.error("records still unwritten at shutdown", metadata: ["pending": "\(persister.status().pendingWrites)"])
        }
    }

    /// Drops the oldest finished jobs beyond `--keep-results` or older than `--keep-days`; their files
    /// are removed by the persister.
    func prune(_ s: inout State) {
        let limits = config.limits
        guard limits.keepResults != nil || limits.keepDays != nil else { return }
        // Counting is cheap; sorting every finished job under the lock only when some must go.
        if limits.keepDays == nil, let keep = limits.keepResults,
           s.entries.values.lazy.filter({ $0.job.state.isFinished && $0.visible }).count <= keep { return }
        var finished = s.entries.values.filter { $0.job.state.isFinished && $0.visible }
            .sorted { ($0.job.finishedAt ?? $0.job.createdAt) < ($1.job.finishedAt ?? $1.job.createdAt) }
        var doomed: [JobID] = []
        if let days = limits.keepDays {
            let cutoff = Timestamp(Date().addingTimeInterval(-days * 86_400))
            doomed += finished.filter { ($0.job.finishedAt ?? $0.job.createdAt) < cutoff }.map(\.job.id)
            finished.removeAll { doomed.contains($0.job.id) }
        }
        if let keep = limits.keepResults, finished.count > keep {
            doomed += finished.prefix(finished.count - keep).map(\.job.id)
        }
        for id in doomed {
            s.remove(id)
            persister.delete(id)
            logger.info("pruned job", metadata: ["job.id": "\(id)"])
        }
    }
}
