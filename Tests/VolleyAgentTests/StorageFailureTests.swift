import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// Every storage failure reaches the job or the client, and nothing is lost once the disk recovers.
@Suite struct StorageFailureTests {
    static let quick = #"{"mode":"send","target":"127.0.0.1:9","duration_s":0.2,"rate_pps":500}"#

    /// The disk fills while a job runs: its result cannot be stored, so it is `failed` with the
    /// reason. Its record cannot be written either, then space returns: the record lands (the writer
    /// retries) and the job is still `failed`, with its reason, after a restart. On the old code the
    /// record write was `try?`-dropped and the job came back `interrupted`, the reason lost.
    @Test func aJobFailedForAFullDiskKeepsItsReasonAcrossARestart() throws {
        let folder = AgentProcess.temporaryDirectory()
        let a = try InProcessAgent(dataDirectory: folder)
        let id = try a.start(Self.quick)
        a.store.faults.withLock {
            $0.failResults = true
            $0.failRecords = true
        }
        #expect(a.wait { a.jobs.job(id)?.state == .failed })
        let job = try #require(a.jobs.job(id))
        #expect(job.error?.code == "storage_error")
        #expect(job.error?.message.contains("could not store the result") == true)
        let store = a.request("GET", "/v1/agent").json["store"] as? [String: Any]
        #expect(a.wait { (a.jobs.persister.status().failedWrites) > 0 }, "the record write never failed")
        #expect((a.request("GET", "/v1/agent").json["store"] as? [String: Any])?["last_write_error"] as? String != nil)
        _ = store
        #expect(a.request("GET", "/v1/jobs/\(id)/result").errorCode == "storage_error")
        a.store.faults.withLock {
            $0.failResults = false
            $0.failRecords = false
        }
        #expect(a.wait { a.jobs.persister.status().pendingWrites == 0 }, "the record was never written after space returned")
        a.shutdown()

        let restarted = try InProcessAgent(dataDirectory: folder)
        defer { restarted.shutdown() }
        let back = try #require(restarted.jobs.job(id))
        #expect(back.state == .failed)
        #expect(back.error?.code == "storage_error" && back.error?.message.contains("could not store the result") == true)
    }

    /// A job that cannot be recorded is refused with the reason and leaves nothing behind.
    @Test func aSubmissionThatCannotBeRecordedIsRefusedAndForgotten() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        a.store.faults.withLock { $0.failRecords = true }
        let reply = a.request("POST", "/v1/jobs", json: #"{"id":"unrecorded","mode":"send","target":"127.0.0.1:9","duration_s":0.2}"#)
        #expect(reply.status == 500 && reply.errorCode == "storage_error")
        #expect((reply.json["error"] as? [String: Any])?["message"] as? String == "the job could not be recorded: No space left on device (injected)")
        #expect(a.request("GET", "/v1/jobs/unrecorded").status == 404)
        #expect((a.request("GET", "/v1/jobs").json["jobs"] as? [Any])?.isEmpty == true)
        a.store.faults.withLock { $0.failRecords = false }
        #expect(a.request("POST", "/v1/jobs", json: #"{"id":"unrecorded","mode":"send","target":"127.0.0.1:9","duration_s":0.2}"#).status == 201)
    }

    /// A deletion the disk refuses is a 500 naming the reason, and the job stays.
    @Test func aDeletionThatFailsKeepsTheJob() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let id = try a.start(Self.quick)
        #expect(a.wait { a.jobs.job(id)?.state == .completed })
        a.store.faults.withLock { $0.failDeletes = true }
        let refused = a.request("DELETE", "/v1/jobs/\(id)")
        #expect(refused.status == 500 && refused.errorCode == "storage_error")
        #expect(a.request("GET", "/v1/jobs/\(id)").status == 200)
        #expect(a.request("GET", "/v1/jobs/\(id)/result").status == 200)
        a.store.faults.withLock { $0.failDeletes = false }
        #expect(a.request("DELETE", "/v1/jobs/\(id)").status == 204)
        #expect(a.request("GET", "/v1/jobs/\(id)").status == 404)
        #expect(!FileManager.default.fileExists(atPath: a.store.real.jobURL(id).path))
    }

    /// A deletion that fails gives back what the job still had to write: its final record, held up
    /// by a full disk, still lands once there is room (it used to be dropped with the deletion).
    @Test func aFailedDeletionKeepsTheWritesItTookOver() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let id = try a.start(Self.quick)
        a.store.faults.withLock { $0.failRecords = true }
        #expect(a.wait { a.jobs.job(id)?.state == .completed })
        #expect(a.jobs.persister.status().pendingWrites > 0)
        a.store.faults.withLock { $0.failDeletes = true }
        #expect(a.request("DELETE", "/v1/jobs/\(id)").errorCode == "storage_error")
        a.store.faults.withLock {
            $0.failRecords = false
            $0.failDeletes = false
        }
        #expect(a.wait { a.jobs.persister.status().pendingWrites == 0 })
        let record = try #require(a.store.real.load().jobs.first { $0.id == id })
        #expect(record.state == .completed)
    }

    /// Files that cannot be read at start-up are moved aside with the reason (for the log): not JSON,
    /// another job's record under this name, a link (never followed).
    @Test func quarantinedFilesSayWhy() throws {
        let folder = AgentProcess.temporaryDirectory()
        let store = try JobStore(dataDirectory: folder)
        let good = try InProcessAgent(dataDirectory: folder)
        let id = try good.start(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":10,"start_at":"\#(Timestamp(Date().addingTimeInterval(3600)))"}"#)
        good.shutdown()
        let jobs = folder.appendingPathComponent("jobs")
        try Data("not json".utf8).write(to: jobs.appendingPathComponent("garbage.json"))
        try FileManager.default.copyItem(at: store.jobURL(id), to: jobs.appendingPathComponent("other.json"))
        try FileManager.default.createSymbolicLink(at: jobs.appendingPathComponent("linked.json"), withDestinationURL: store.jobURL(id))
        let loaded = store.load()
        #expect(loaded.jobs.map(\.id) == [id])
        let reasons = loaded.reasons.sorted { $0.key < $1.key }.map { "\($0.key.split(separator: "-", maxSplits: 1)[1]): \($0.value)" }
        #expect(reasons.count == 3 && Set(loaded.reasons.keys).isSubset(of: Set(loaded.quarantined)))
        #expect(reasons.contains { $0.hasPrefix("jobs-garbage.json: garbage.json is not a readable Job") }, "\(reasons)")
        #expect(reasons.contains { $0 == "jobs-other.json: other.json holds job \(id)" }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("jobs-linked.json: refuse to follow the link") }, "\(reasons)")
    }

    /// Checkpoints of a running job coalesce: a held writer does not pile up one write per second.
    @Test func checkpointsCoalesceWhileTheWriterIsHeld() throws {
        let a = try InProcessAgent()
        defer { a.shutdown() }
        let id = try a.start(#"{"mode":"send","target":"127.0.0.1:9","duration_s":3,"rate_pps":100}"#)
        #expect(a.wait { a.jobs.job(id)?.state == .running })
        a.store.faults.withLock { $0.holdRecords = true }
        _ = a.jobs.persister.status()
        a.jobs.checkpoint()  // the first goes to the writer, which holds it
        #expect(a.store.entered.wait(timeout: .now() + TestTiming.limit(10)) == .success)
        for _ in 0..<50 { a.jobs.checkpoint() }
        #expect(a.jobs.persister.status().pendingWrites <= 2, "one being written, at most one waiting per job")
        a.store.release()
        _ = a.request("POST", "/v1/jobs/\(id)/cancel", json: "")
        #expect(a.wait { a.jobs.job(id)?.state == .cancelled })
    }
}
