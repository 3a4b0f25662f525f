import Foundation
import VolleyEngine
import VolleyModel

extension JobManager {
    /// What the scheduler thread does next.
    enum ScheduleAction: Equatable {
        /// Open a scheduled job's sockets (outside the lock), shortly before its start.
        case prepare(JobID)
        /// Start a scheduled job at this time (spinning the last ≤ 2 ms for precision).
        case start(JobID, at: Date)
        case checkpoint
        case stop
    }

    /// How long before its `start_at` a scheduled job opens its sockets.
    static let prepareAhead = 0.25
    /// How long before its `start_at` the scheduler stops sleeping and spins.
    static let spinAhead = 0.002

    /// The scheduler's decision, made under the lock from the state and the time alone (tests call it
    /// with chosen times): act now, or sleep until a time. Any change under the lock wakes the sleeper,
    /// which then decides again, so a job submitted while it sleeps is never missed.
    static func nextAction(_ s: inout State, now: Date, nextCheckpoint: Date) -> Monitor<State>.Step<ScheduleAction> {
        if s.schedulerStopping { return .done(.stop) }
        let next = s.entries.values.filter { $0.job.state == .scheduled && !$0.admitting }
            .compactMap { entry in entry.job.spec.startAt.map { (id: entry.job.id, at: $0.date, prepared: entry.prepared) } }
            .min { $0.at < $1.at }
        if let next, !next.prepared, next.at.timeIntervalSince(now) < prepareAhead {
            s.entries[next.id]?.prepared = true  // taken: nobody else prepares it
            return .done(.prepare(next.id))
        }
        if let next, next.at.timeIntervalSince(now) < spinAhead { return .done(.start(next.id, at: next.at)) }
        if now >= nextCheckpoint { return .done(.checkpoint) }
        let wake = next.map { $0.at.addingTimeInterval($0.prepared ? -spinAhead : -prepareAhead) } ?? nextCheckpoint
        return .wait(until: min(wake, nextCheckpoint))
    }

    /// The agent's clock thread: starts scheduled jobs on time (it sleeps until 2 ms before, then
    /// spins) and checkpoints running jobs' counters about once a second. Ends on `stop()`.
    func scheduleLoop() {
        ThreadPriority.lower(to: 10)  // checkpoints must not take the CPU from a pacing worker
        var nextCheckpoint = Date().addingTimeInterval(1)
        defer { state.withLock { $0.schedulerRunning = false } }
        while true {
            let checkpointAt = nextCheckpoint
            switch state.wait({ s in Self.nextAction(&s, now: Date(), nextCheckpoint: checkpointAt) }) {
            case .stop:
                return
            case .prepare(let id):
                openSockets(id)
            case .start(let id, let at):
                // A job whose sockets could not be opened ahead gets one more try, still outside the lock.
                if state.withLock({ $0.entries[id]?.run == nil }) { openSockets(id) }
                while Date() < at {}  // the last ≤ 2 ms: spin for a precise start
                state.withLock { s in
                    guard s.entries[id]?.job.state == .scheduled else { return }
                    let running = s.entries.values.filter { $0.job.state == .running }.count
                    if running < config.limits.maxJobs {
                        begin(id, &s)
                    } else {
                        s.entries[id]?.job.move(to: .queued)
                        s.queue.append(id)
                        if let job = s.entries[id]?.job { logTransition(job) }
                    }
                }
            case .checkpoint:
                checkpoint()
                nextCheckpoint = Date().addingTimeInterval(1)
            }
        }
    }

    /// Opens a scheduled job's sockets outside the lock and hands them to the job; when that fails,
    /// the reason is kept for `begin`, which fails the job with it at its time.
    func openSockets(_ id: JobID) {
        guard let spec = state.withLock({ s in s.entries[id].flatMap { $0.job.state == .scheduled ? $0.job.spec : nil } }) else { return }
        let field = spec.mode.originates ? "target" : "listen"
        let opened: Result<JobRun, APIError>
        do throws(EngineError) {
            opened = .success(try JobRun(spec: spec, options: engineOptions))
        } catch {
            opened = .failure(APIError(engine: error, field: field))
        }
        state.withLock { s in
            guard s.entries[id]?.job.state == .scheduled, s.entries[id]?.run == nil else { return }
            switch opened {
            case .success(let run):
                s.entries[id]?.run = run
                s.entries[id]?.openError = nil
            case .failure(let error):
                s.entries[id]?.openError = error
            }
        }
    }

    /// Saves running jobs' counters, so a job interrupted by a crash still shows what it did. The
    /// persister writes them (coalesced, not fsynced: they survive a killed agent, as the page cache
    /// does, which is what they are for, and cost no disk flush per second).
    func checkpoint() {
        state.withLock { s in
            for (id, entry) in s.entries where entry.job.state == .running {
                guard let run = entry.run else { continue }
                var updated = entry
                updated.job.progress = run.progress()
                metrics.addTraffic(entry.job.spec.mode, from: entry.reported, to: updated.job.progress)
                updated.reported = updated.job.progress
                s.entries[id] = updated
                persister.save(updated.job, durable: false)
            }
        }
    }

    /// Start-up: loads the data folder; jobs that were active when the agent died become `interrupted`
    /// with the counters of their last checkpoint; finished results are left untouched. What must be
    /// rewritten waits in the persister until `start()`.
    func recover() {
        let loaded = store.load()
        state.withLock { s in
            s.quarantined = loaded.quarantined
            for var job in loaded.jobs.sorted(by: { $0.createdAt < $1.createdAt }) {
                if let result = loaded.results[job.id], job.state.isActive || job.state != result.state {
                    job.apply(result)  // the result was stored, the record not yet updated
                    persister.save(job, durable: true)
                }
                s.add(Entry(job: job, order: 0, reported: job.progress))
                if job.state.isActive {
                    let was = job.state.rawValue
                    withdraw(job.id, &s, as: .interrupted,
                             error: JobError(code: "interrupted", message: "the agent stopped while this job was \(was)"))
                }
            }
            prune(&s)
        }
        for (name, reason) in loaded.reasons.sorted(by: { $0.key < $1.key }) {
            logger.warning("unreadable file moved to quarantine", metadata: ["file": "\(name)", "reason": "\(reason)"])
        }
    }
}
