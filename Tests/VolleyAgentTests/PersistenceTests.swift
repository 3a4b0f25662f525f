import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

@Suite(.serialized) struct PersistenceTests {
    @Test func resultsSurviveARestartByteForByte() async throws {
        let dir = AgentProcess.temporaryDirectory()
        let first = try AgentHarness(dataDirectory: dir)
        let id = try await first.start(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.2,"rate_pps":1000}"#)
        _ = try await first.client.waitForJob(id)
        let before = try await first.client.get("/v1/jobs/\(id)/result").body
        first.agent.shutdown()

        let second = try AgentHarness(dataDirectory: dir)
        defer { second.agent.shutdown() }
        let job = try await second.client.get("/v1/jobs/\(id)")
        #expect(job.status == 200)
        #expect(job.json["state"] as? String == "completed")
        #expect(((job.json["progress"] as? [String: Any])?["packets_sent"] as? Int ?? 0) > 100)
        #expect(try await second.client.get("/v1/jobs/\(id)/result").body == before)
    }

    @Test func shutdownStopsRunningJobsAndKeepsTheirCounts() async throws {
        let h = try AgentHarness()
        let id = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":60,"rate_pps":2000}"#)
        try await Task.sleep(nanoseconds: 300_000_000)
        let started = Date()
        h.agent.shutdown()
        #expect(Date().timeIntervalSince(started) < TestTiming.limit(1))
        let stored = try VolleyJSON.decode(JobResult.self, from: Data(contentsOf: h.resultFile(id)))
        #expect(stored.state == .cancelled)
        #expect(stored.sent.packets > 100)
        #expect(stored.elapsedSeconds < 2)
    }

    @Test func unreadableFilesAreQuarantinedAndListed() async throws {
        let dir = AgentProcess.temporaryDirectory()
        for folder in ["results", "jobs"] {
            let url = dir.appendingPathComponent(folder)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try Data("{ half a file".utf8).write(to: url.appendingPathComponent("jbroken.json"))
        }
        let h = try AgentHarness(dataDirectory: dir)
        defer { h.agent.shutdown() }
        #expect(try await h.client.get("/v1/health").status == 200)
        #expect(try await h.client.get("/v1/jobs/jbroken").status == 404)
        let agentInfo = try await h.client.get("/v1/agent").json
        let quarantined = try #require((agentInfo["store"] as? [String: Any])?["quarantined"] as? [String])
        #expect(quarantined.count == 2 && quarantined.allSatisfy { $0.hasSuffix("jbroken.json") })
        let moved = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("quarantine").path)
        #expect(Set(moved) == Set(quarantined))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("results/jbroken.json").path))
    }

    @Test func aDataFolderThatCannotBeCreatedIsAClearStartError() throws {
        let file = AgentProcess.temporaryDirectory().appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        do {
            _ = try AgentHarness(dataDirectory: file.appendingPathComponent("sub"))
            Issue.record("agent started on an impossible data folder")
        } catch let error as AgentStartError {
            #expect(error.message.contains("data folder"))
        }
    }

    @Test func resultFilesAreWrittenAtomically() throws {
        let dir = AgentProcess.temporaryDirectory()
        let store = try JobStore(dataDirectory: dir)
        let result = JobResult(
            id: JobID("jatomic")!, state: .completed,
            spec: JobSpec(mode: .sink, listen: Endpoint(address: IPAddress("127.0.0.1")!, port: 9)),
            agent: .init(hostname: "h", version: "v"), startedAt: Timestamp(), finishedAt: Timestamp(),
            elapsedSeconds: 1, sent: DirectionTotals(), received: DirectionTotals(packets: 3, bytes: 9, syscalls: 1),
            rate: .init(targetPPS: 0, achievedPPS: 3, achievedBPS: 72), io: .init(send: "sendmmsg", receive: "recvmmsg"))
        let bytes = try store.write(result)
        #expect(try store.resultBytes(result.id) == bytes)
        #expect(try VolleyJSON.decode(JobResult.self, from: Data(bytes)) == result)
        // No temp files are left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("results").path) == ["jatomic.json"])
    }
}

/// The store reads no file through a link and no file beyond its cap: a planted link or a huge file in
/// the data folder is quarantined, not followed or loaded.
@Suite(.serialized) struct StoreFileTests {
    @Test func linksAndOversizeFilesAreQuarantined() async throws {
        let directory = AgentProcess.temporaryDirectory()
        _ = try JobStore(dataDirectory: directory)
        let secret = directory.appendingPathComponent("secret.json")
        try Data(#"{"not":"a result"}"#.utf8).write(to: secret)
        let results = directory.appendingPathComponent("results")
        try FileManager.default.createSymbolicLink(at: results.appendingPathComponent("jlinked.json"), withDestinationURL: secret)
        let huge = results.appendingPathComponent("jhuge.json")
        FileManager.default.createFile(atPath: huge.path, contents: nil)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 65 << 20)  // sparse: 65 MiB of zeros
        try handle.close()
        #expect(throws: StoreError.self) { _ = try AtomicFile.read(results.appendingPathComponent("jlinked.json")) }
        #expect(throws: StoreError.self) { _ = try AtomicFile.read(huge) }
        let h = try AgentHarness(dataDirectory: directory)
        defer { h.agent.shutdown() }
        let quarantined = try await h.client.get("/v1/agent").json["store"].flatMap { ($0 as? [String: Any])?["quarantined"] as? [String] } ?? []
        #expect(quarantined.count == 2 && quarantined.allSatisfy { $0.contains("results-jlinked.json") || $0.contains("results-jhuge.json") })
    }
}
