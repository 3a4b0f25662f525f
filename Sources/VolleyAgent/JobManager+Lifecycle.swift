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

    /// Moves a job to `running` and starts its traffic. A scheduled job opens its sockets now; if its
    /// address cannot be used any more (another process took the port), it fails with that reason.
    /// Returns whether it is running.
    @discardableResult
    func begin(_ id: JobID, _ s: inout State) -> Bool {
        guard var entry = s.entries[id] else { return false }
        let run: JobRun
        if let existing = entry.run {
            run = existing
        } else {
            let spec = entry.job.spec
            do throws(EngineError) {
                run = try JobRun(spec: spec, options: engineOptions)
            } catch {
                let refusal = APIError(engine: error, field: spec.mode.originates ? "target" : "listen")
                withdraw(id, &s, as: .failed, error: JobError(code: refusal.code, message: "the job could not start: \(refusal.message)"))
                return false
            }
            entry.run = run
        }
        let now = Timestamp()
        entry.job.move(to: .running, at: now)
        if let startAt = entry.job.spec.startAt {
            entry.job.startDelayMs = Double(now.millisecondsSince1970 - startAt.millisecondsSince1970)
        }
        s.entries[id] = entry
        try? store.write(entry.job, durable: false)
        logTransition(entry.job)
        run.start { [self] report in finish(id, report) }
        return true
    }

    /// Stores a finished run's result and frees its slot.
    func finish(_ id: JobID, _ report: EngineReport) {
        guard let entry = state.withLock({ $0.entries[id] }) else { return }
        var result = JobResult(id: id, report: report, spec: entry.job.spec, agent: agent)
        result.startDelayMs = entry.job.startDelayMs
        var storeError: JobError?
        do {
            try store.write(result)
        } catch {
            storeError = JobError(code: "storage_error", message: "could not store the result: \(error.message)")
            result.state = .failed
            logger.error("could not store result", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
        }
        state.withLock { s in
            guard var entry = s.entries[id] else { return }
            let final = JobProgress(packetsSent: result.sent.packets, packetsReceived: result.received.packets,
                                    bytesSent: result.sent.bytes, bytesReceived: result.received.bytes,
                                    elapsedSeconds: result.elapsedSeconds)
            metrics.addTraffic(from: entry.reported, to: final)
            metrics.addErrors(result.sent, direction: "send")
            metrics.addErrors(result.received, direction: "receive")
            entry.reported = final
            entry.job.move(to: result.state, at: result.finishedAt)
            entry.job.progress = final
            entry.job.error = storeError
            entry.run = nil
            s.entries[id] = entry
            try? store.write(entry.job)
            logTransition(entry.job)
            startQueued(&s)
            prune(&s)
        }
        changed.signal()
    }

    /// Stops a running job (its partial result is kept as `cancelled`) or withdraws a waiting one.
    public func cancel(_ id: JobID) throws(APIError) -> Job {
        let job = try state.withLock { (s) throws(APIError) -> Job in
            guard var entry = s.entries[id] else { throw .notFound("no job with id '\(id)'") }
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
        changed.signal()
        return job
    }

    /// Ends a job that never ran: its result has zero counts.
    func withdraw(_ id: JobID, _ s: inout State, as final: JobState, error: JobError?) {
        guard var entry = s.entries[id] else { return }
        let now = Timestamp()
        s.queue.removeAll { $0 == id }
        entry.run = nil
        entry.job.move(to: final, at: now)
        entry.job.error = error
        s.entries[id] = entry
        var result = JobResult(id: id, state: final, spec: entry.job.spec, agent: agent,
                               startedAt: entry.job.startedAt ?? now, finishedAt: now, elapsedSeconds: entry.job.progress.elapsedSeconds,
                               sent: DirectionTotals(packets: entry.job.progress.packetsSent, bytes: entry.job.progress.bytesSent),
                               received: DirectionTotals(packets: entry.job.progress.packetsReceived,
                                                         bytes: entry.job.progress.bytesReceived),
                               rate: .init(targetPPS: entry.job.spec.plannedAveragePPS, achievedPPS: 0, achievedBPS: 0),
                               io: .init(send: "none", receive: "none"), error: error)
        result.startDelayMs = entry.job.startDelayMs
        do {
            try store.write(result)
            try store.write(entry.job)
        } catch {
            logger.error("could not store withdrawn job", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
        }
        logTransition(entry.job)
    }

    /// Removes a finished job's record and result.
    public func delete(_ id: JobID) throws(APIError) {
        try state.withLock { (s) throws(APIError) in
            guard let entry = s.entries[id] else { throw .notFound("no job with id '\(id)'") }
            guard entry.job.state.isFinished else {
                throw APIError(.jobActive, "job '\(id)' is \(entry.job.state.rawValue): cancel it first")
            }
            do throws(StoreError) {
                try store.delete(id)
            } catch {
                throw APIError(.storageError, error.message)
            }
            s.remove(id)
        }
    }

    /// For shutdown: refuses new jobs, cancels every active one and waits (≤ 1.5 s) for their results.
    public func stopAll() {
        let runs = state.withLock { s -> [JobRun] in
            s.accepting = false
            for (id, entry) in s.entries where entry.job.state == .queued || entry.job.state == .scheduled {
                withdraw(id, &s, as: .cancelled, error: JobError(code: "agent_stopped", message: "the agent stopped before the job started"))
            }
            return s.entries.values.compactMap { $0.job.state == .running ? $0.run : nil }
        }
        runs.forEach { $0.stop() }
        changed.signal()
        let deadline = Date().addingTimeInterval(1.5)
        changed.wait(until: { self.state.withLock { !$0.entries.values.contains { $0.job.state == .running } } || Date() > deadline })
    }

    /// Drops the oldest finished jobs beyond `--keep-results` or older than `--keep-days`.
    func prune(_ s: inout State) {
        let limits = config.limits
        guard limits.keepResults != nil || limits.keepDays != nil else { return }
        var finished = s.entries.values.filter { $0.job.state.isFinished }
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
            do {
                try store.delete(id)
                s.remove(id)
                logger.info("pruned job", metadata: ["job.id": "\(id)"])
            } catch {
                logger.error("could not prune job", metadata: ["job.id": "\(id)", "error": "\(error.message)"])
            }
        }
    }
}
