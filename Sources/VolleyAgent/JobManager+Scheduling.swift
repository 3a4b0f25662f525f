import Foundation
import VolleyEngine
import VolleyModel

extension JobManager {
    /// The agent's clock thread: starts scheduled jobs on time (to the millisecond: it sleeps until
    /// 2 ms before, then spins) and checkpoints running jobs' counters about once a second.
    func scheduleLoop() {
        ThreadPriority.lower(to: 10)  // checkpoints must not take the CPU from a pacing worker
        var nextCheckpoint = Date().addingTimeInterval(1)
        while true {
            let next = state.withLock { s in
                s.entries.values.filter { $0.job.state == .scheduled }.compactMap { entry in
                    entry.job.spec.startAt.map { (entry.job.id, $0.date) }
                }.min { $0.1 < $1.1 }
            }
            // A scheduled job opens its sockets a little before its time, not while it waits for days,
            // and not at the moment it should start (that would make it late).
            if let (id, at) = next, at.timeIntervalSinceNow < Self.prepareAhead, prepare(id) { continue }
            if let (id, at) = next, at.timeIntervalSinceNow < 0.002 {
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
                continue
            }
            if Date() >= nextCheckpoint {
                checkpoint()
                nextCheckpoint = Date().addingTimeInterval(1)
            }
            let wake = min(nextCheckpoint, next.map { (id, at) in
                at.addingTimeInterval(state.withLock { $0.entries[id]?.prepared == true } ? -0.002 : -Self.prepareAhead)
            } ?? nextCheckpoint)
            changed.wait(until: wake)
        }
    }

    /// How long before its `start_at` a scheduled job opens its sockets.
    static let prepareAhead = 0.25

    /// Opens a scheduled job's sockets (outside the lock); true when it did something. A job whose
    /// sockets cannot be opened is left to `begin`, which fails it with the reason at its time.
    func prepare(_ id: JobID) -> Bool {
        let spec = state.withLock { s -> JobSpec? in
            guard let entry = s.entries[id], entry.job.state == .scheduled, !entry.prepared else { return nil }
            s.entries[id]?.prepared = true
            return entry.job.spec
        }
        guard let spec else { return false }
        let run = try? JobRun(spec: spec, options: engineOptions)
        state.withLock { s in
            if s.entries[id]?.job.state == .scheduled && s.entries[id]?.run == nil { s.entries[id]?.run = run }
        }
        return true
    }

    /// Saves running jobs' counters, so a job interrupted by a crash still shows what it did.
    /// Checkpoints are not fsynced: they survive a killed agent (the page cache does), which is
    /// what they are for, and cost no disk flush per second.
    func checkpoint() {
        let started = DispatchTime.now().uptimeNanoseconds
        defer {
            logger.debug("checkpoint", metadata: ["ms": "\(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)"])
        }
        state.withLock { s in
            for (id, entry) in s.entries where entry.job.state == .running {
                guard let run = entry.run else { continue }
                var updated = entry
                updated.job.progress = run.progress()
                metrics.addTraffic(from: entry.reported, to: updated.job.progress)
                updated.reported = updated.job.progress
                s.entries[id] = updated
                try? store.write(updated.job, durable: false)
            }
        }
    }

    /// Start-up: loads the data folder; jobs that were active when the agent died become `interrupted`
    /// with the counters of their last checkpoint; finished results are left untouched.
    func recover() {
        let loaded = store.load()
        state.withLock { s in
            s.quarantined = loaded.quarantined
            for var job in loaded.jobs.sorted(by: { $0.createdAt < $1.createdAt }) {
                if let result = loaded.results[job.id], job.state.isActive || job.state != result.state {
                    job.apply(result)  // the result was stored, the record not yet updated
                    try? store.write(job)
                }
                s.entries[job.id] = Entry(job: job, order: s.nextOrder, reported: job.progress)
                s.nextOrder += 1
                if job.state.isActive {
                    let was = job.state.rawValue
                    withdraw(job.id, &s, as: .interrupted,
                             error: JobError(code: "interrupted", message: "the agent stopped while this job was \(was)"))
                }
            }
            prune(&s)
        }
        for name in loaded.quarantined {
            logger.warning("unreadable file moved to quarantine", metadata: ["file": "\(name)"])
        }
    }
}
