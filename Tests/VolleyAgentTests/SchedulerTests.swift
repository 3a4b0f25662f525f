import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// The scheduler's decisions as a function of the jobs and the time (no clock involved), its
/// wake-up on any change, its start and stop, and the precision of a start on the live clock.
@Suite struct SchedulerTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func state(_ jobs: [(String, Double, prepared: Bool)]) -> JobManager.State {
        var s = JobManager.State()
        for (index, (id, offset, prepared)) in jobs.enumerated() {
            let spec = try! JobSpec.decode(json: Data(#"{"mode":"send","target":"127.0.0.1:9","start_at":"\#(Timestamp(t0.addingTimeInterval(offset)))"}"#.utf8))
            let job = Job(id: JobID(id)!, state: .scheduled, spec: spec, createdAt: Timestamp(t0))
            s.entries[job.id] = .init(job: job, prepared: prepared, order: UInt64(index))
        }
        return s
    }

    static func decide(_ s: inout JobManager.State, at offset: Double, checkpointIn: Double = 1) -> String {
        switch JobManager.nextAction(&s, now: t0.addingTimeInterval(offset), nextCheckpoint: t0.addingTimeInterval(checkpointIn)) {
        case .done(let action): "\(action)"
        case .wait(let date): "wait \(String(format: "%.3f", date.timeIntervalSince(t0)))"
        }
    }

    @Test func decisionsFollowTheJobsAndTheTime() {
        var empty = Self.state([])
        #expect(Self.decide(&empty, at: 0) == "wait 1.000")
        #expect(Self.decide(&empty, at: 1) == "checkpoint")
        var far = Self.state([("far", 10, false)])
        #expect(Self.decide(&far, at: 0, checkpointIn: 100) == "wait 9.750", "sleeps until it is time to open sockets")
        var s = Self.state([("b", 0.5, false), ("a", 0.2, false)])
        #expect(Self.decide(&s, at: 0) == "prepare(a)", "the earliest first, 250 ms ahead")
        #expect(s.entries[JobID("a")!]?.prepared == true)
        #expect(Self.decide(&s, at: 0) == "wait 0.198", "prepared: sleeps until 2 ms before")
        #expect(Self.decide(&s, at: 0.199).hasPrefix("start(a"), "spins the last 2 ms")
        s.entries[JobID("a")!]?.job.move(to: .running)
        #expect(Self.decide(&s, at: 0.26) == "prepare(b)")
        s.schedulerStopping = true
        #expect(Self.decide(&s, at: 0.3) == "stop")
        var admitting = Self.state([("new", 0.1, false)])
        admitting.entries[JobID("new")!]?.admitting = true
        #expect(Self.decide(&admitting, at: 0) == "wait 1.000", "a job not yet recorded is not started")
    }

    /// Any change under the lock wakes the sleeping scheduler: a job added while it sleeps until a
    /// checkpoint an hour away is seen at once (the old scheduler could miss the signal and sleep on).
    @Test func aJobAddedWhileTheSchedulerSleepsWakesIt() {
        let monitor = Monitor(Self.state([]))
        let decided = Locked<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let asleep = DispatchSemaphore(value: 0)
        Thread {
            let action = monitor.wait { s -> Monitor<JobManager.State>.Step<JobManager.ScheduleAction> in
                let step = JobManager.nextAction(&s, now: Date(), nextCheckpoint: Date().addingTimeInterval(3600))
                if case .wait = step { asleep.signal() }
                return step
            }
            decided.withLock { $0 = "\(action)" }
            done.signal()
        }.start()
        #expect(asleep.wait(timeout: .now() + TestTiming.limit(10)) == .success)
        monitor.withLock { s in
            let soon = Self.state([("soon", 0, false)])
            var entry = soon.entries.values.first!
            let spec = try! JobSpec.decode(json: Data(#"{"mode":"send","target":"127.0.0.1:9","start_at":"\#(Timestamp(Date().addingTimeInterval(0.1)))"}"#.utf8))
            entry.job = Job(id: entry.job.id, state: .scheduled, spec: spec, createdAt: Timestamp())
            s.entries[entry.job.id] = entry
        }
        #expect(done.wait(timeout: .now() + TestTiming.limit(10)) == .success, "the scheduler slept through the change")
        #expect(decided.withLock { $0 } == "prepare(soon)")
    }

    @Test func noThreadBeforeStartAndTheSchedulerStops() throws {
        let a = try InProcessAgent(start: false)
        #expect(a.jobs.state.withLock { $0.schedulerRunning } == false)
        let id = try a.start(#"{"mode":"send","target":"127.0.0.1:9","duration_s":0.1,"rate_pps":100,"start_at":"\#(Timestamp(Date().addingTimeInterval(0.05)))"}"#)
        usleep(300_000)  // a start that would have happened by now, had a thread been started
        #expect(a.jobs.job(id)?.state == .scheduled)
        a.jobs.start()
        #expect(a.wait { a.jobs.job(id)?.state == .completed })
        a.shutdown()
        #expect(a.jobs.state.withLock { $0.schedulerRunning } == false)
    }

    /// Scheduled jobs start on time; `start_delay_ms` reports it to the microsecond. The 1 ms promise
    /// is measured by `Benchmarks/control-plane.sh` on an idle machine; here, on a machine that may be
    /// busy, a start may be preempted for a few milliseconds (7.7 ms seen with three CPU hogs on two
    /// cores), so the bound is 50 ms: still far below the up to 1 s a lost wake-up used to cost.
    @Test func scheduledJobsStartOnTimeToTheMicrosecond() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        var ids: [JobID] = []
        for i in 0..<5 {
            let at = Timestamp(Date().addingTimeInterval(0.4 + 0.15 * Double(i)))
            ids.append(try a.start(#"{"mode":"send","target":"127.0.0.1:9","duration_s":0.05,"rate_pps":100,"start_at":"\#(at)"}"#))
        }
        #expect(a.wait { ids.allSatisfy { a.jobs.job($0)?.state == .completed } })
        let delays = ids.compactMap { a.jobs.job($0)?.startDelayMs }
        #expect(delays.count == 5)
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= TestTiming.limit(0.05) * 1000 }, "start delays \(delays) ms")
        #expect(delays.contains { $0 != $0.rounded() }, "reported to the microsecond, not whole milliseconds: \(delays)")
    }
}
