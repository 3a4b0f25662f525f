import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// No request waits for the disk: records are written outside the job manager's lock, so a write
/// held by a busy disk (here: held by the test until it has seen the reads answered) stalls only
/// the request or background write that needs it. On the old code each test deadlocked until the
/// `answered` deadline, as every read waited for the lock the writer held.
@Suite struct LockDisciplineTests {
    static func scheduled(_ id: String) -> String {
        #"{"id":"\#(id)","mode":"send","target":"127.0.0.1:9","rate_pps":10,"start_at":"\#(Timestamp(Date().addingTimeInterval(3600)))"}"#
    }

    /// Runs `reads` on another thread; true when they finished within the (generous) deadline.
    static func answered(_ reads: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread {
            reads()
            done.signal()
        }.start()
        return done.wait(timeout: .now() + TestTiming.limit(10)) == .success
    }

    @Test func readsAnswerWhileANewJobIsBeingRecorded() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        _ = try a.start(Self.scheduled("existing"))
        a.store.faults.withLock { $0.holdRecords = true }
        let posted = DispatchSemaphore(value: 0)
        let statuses = Locked<[Int]>([])
        Thread {
            let reply = a.request("POST", "/v1/jobs", json: Self.scheduled("new"))
            statuses.withLock { $0.append(reply.status) }
            posted.signal()
        }.start()
        #expect(a.store.entered.wait(timeout: .now() + TestTiming.limit(10)) == .success, "the POST never reached its write")
        let reads = Locked<[Int]>([])
        let ok = Self.answered {
            for path in ["/v1/health", "/v1/jobs", "/v1/jobs/existing", "/v1/agent", "/v1/jobs/new"] {
                let status = a.request("GET", path).status
                reads.withLock { $0.append(status) }
            }
        }
        a.store.release()
        #expect(ok, "reads waited for a record write")
        // The job being recorded is not visible until it is on disk.
        #expect(reads.withLock { $0 } == [200, 200, 200, 200, 404])
        #expect(posted.wait(timeout: .now() + TestTiming.limit(10)) == .success)
        #expect(statuses.withLock { $0 } == [201])
        #expect(a.request("GET", "/v1/jobs/new").status == 200)
    }

    @Test func readsAndCancelsAnswerWhileABackgroundWriteIsHeld() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let keep = try a.start(Self.scheduled("keep"))
        let other = try a.start(Self.scheduled("other"))
        a.store.faults.withLock { $0.holdRecords = true }
        // Cancelling writes the job's records in the background; the writer is now held.
        #expect(a.request("POST", "/v1/jobs/\(other)/cancel", json: "").status == 202)
        #expect(a.store.entered.wait(timeout: .now() + TestTiming.limit(10)) == .success)
        let statuses = Locked<[Int]>([])
        let ok = Self.answered {
            statuses.withLock { $0.append(a.request("GET", "/v1/jobs/\(keep)").status) }
            statuses.withLock { $0.append(a.request("GET", "/v1/jobs?state=cancelled").status) }
            statuses.withLock { $0.append(a.request("POST", "/v1/jobs/\(keep)/cancel", json: "").status) }
        }
        a.store.release()
        #expect(ok, "a request waited for a background write")
        #expect(statuses.withLock { $0 } == [200, 200, 202])
        #expect(a.jobs.persister.flush())
        let stored = a.store.real.load().jobs.first { $0.id == other }
        #expect(stored?.state == .cancelled)
    }
}
