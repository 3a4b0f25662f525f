import Foundation
import Glibc
import Testing
import VolleyModel
import VolleyTestSupport

/// The real `volley serve` process under attack from hostile peers (see `HostilePeer`): it stays up,
/// its memory stays within its budget, its counts stay consistent and the attack costs it little CPU.
/// Figures before the hardening, from Benchmarks/hostile-peer.sh: +1,041 MiB RSS for the tag flood,
/// 11.9 s of CPU (debug) for the jump flood, 212,675 datagrams from one spoofed one, and a crash for
/// the echo replay.
@Suite(.serialized) struct HostileNetworkTests {
    @Test func floodsReplaysAndJumpsLeaveTheAgentUpAndWithinItsBudget() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let pid = agent.process.processIdentifier
        let client = agent.client
        let rssBefore = try #require(residentBytes(pid))

        // 1. 16,384 distinct job tags at a 4-thread sink.
        let port = freeUDPPort()
        let sink = try await startJob(client, #"{"mode":"sink","listen":"127.0.0.1:\#(port)","threads":4,"duration_s":30,"max_packets":16384}"#)
        let peer = HostilePeer(target: Endpoint(address: IPAddress("127.0.0.1")!, port: port))
        var sent = 0
        for chunk in 0..<16 {
            sent += peer.flood(count: 1_024, varying: .tag, first: UInt32(1 + chunk * 1_024), sockets: 4)
            usleep(2_000)
        }
        let sinkResult = try await result(client, sink)
        #expect((sinkResult["received"] as? [String: Any])?["packets"] as? Int == sent)
        let sequence = try #require(sinkResult["sequence"] as? [String: Any])
        #expect((sequence["senders"] as? [Any])?.count == 1_024 && sequence["untracked_datagrams"] as? Int == sent - 1_024)
        let rssAfterFlood = try #require(residentBytes(pid))
        #expect(rssAfterFlood - rssBefore < 64 << 20, "RSS grew by \((rssAfterFlood - rssBefore) >> 20) MiB")

        // 2. 300 sequence jumps of 2^21 at a 1-thread sink: all counted, little CPU.
        let jumpPort = freeUDPPort()
        let jumps = try await startJob(client, #"{"mode":"sink","listen":"127.0.0.1:\#(jumpPort)","duration_s":30,"max_packets":300}"#)
        let cpuBefore = try #require(cpuSeconds(pid))
        let jumper = HostilePeer(target: Endpoint(address: IPAddress("127.0.0.1")!, port: jumpPort))
        #expect(jumper.sequenceJumps(count: 300, step: 1 << 21, tag: 21) == 300)
        let jumpResult = try await result(client, jumps)
        let cpu = try #require(cpuSeconds(pid)) - cpuBefore
        #expect((jumpResult["received"] as? [String: Any])?["packets"] as? Int == 300)
        #expect(cpu < 1.5, "the jump flood cost the agent \(cpu) s of CPU")

        // 3. An echo job against a reflector that replays old replies far behind; cancelled once it has.
        let reflector = ReplayingReflector(keep: 1_024, replayBehind: 70_000, replayRounds: 2)
        defer { reflector.stop() }
        let echo = try await startJob(client, #"{"mode":"echo","target":"127.0.0.1:\#(reflector.port)","rate_pps":50000,"duration_s":120,"echo_timeout_ms":300}"#)
        let deadline = Date().addingTimeInterval(TestTiming.limit(30))
        while reflector.replayed < 2 * 1_024 && Date() < deadline { try await Task.sleep(nanoseconds: 5_000_000) }
        // The reflector replays from its serving loop: once it answers again, every replay has left.
        let answered = reflector.answered
        while reflector.answered < answered + 2 && Date() < deadline { try await Task.sleep(nanoseconds: 1_000_000) }
        #expect(try await client.post("/v1/jobs/\(echo)/cancel", json: "").status == 202)
        let echoResult = try await result(client, echo)
        let totals = try #require(echoResult["echo"] as? [String: Int])
        #expect(reflector.replayed == 2 * 1_024, "the reflector never replayed: this step proves nothing")
        #expect(totals["sent"]! > 70_000)
        #expect(totals["received"]! + totals["late"]! <= totals["sent"]!)
        #expect(totals["lost"] == totals["sent"]! - totals["received"]!)
        #expect(totals["too_old"] == reflector.replayed)
        let read = (echoResult["received"] as? [String: Any])?["packets"] as? Int
        #expect(read == ["received", "late", "duplicates", "too_old", "foreign"].reduce(0) { $0 + totals[$1]! })

        #expect(try await client.get("/v1/health").status == 200)
        #expect(agent.process.isRunning)
        #expect(try #require(residentBytes(pid)) - rssBefore < 64 << 20)
    }

    /// One spoofed request between two reflectors gives one reply, not a loop; one spoofed as coming
    /// from a reflector itself gives none.
    @Test(.enabled(if: HostilePeer.rawSocketsAvailable, "SKIPPED: spoofing needs a raw socket (root or CAP_NET_RAW)"))
    func reflectorsDoNotLoop() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let client = agent.client
        let a = Endpoint(address: IPAddress("127.0.0.1")!, port: freeUDPPort())
        let b = Endpoint(address: IPAddress("127.0.0.1")!, port: freeUDPPort())
        let ids = [try await startJob(client, #"{"mode":"reflect","listen":"\#(a)","duration_s":1.5}"#),
                   try await startJob(client, #"{"mode":"reflect","listen":"\#(b)","duration_s":1.5}"#)]
        try HostilePeer.spoof(from: a, to: b)       // B answers A; A must not answer the reply
        try HostilePeer.spoof(from: b, to: b)       // B must not answer itself
        let (resultA, resultB) = (try await result(client, ids[0]), try await result(client, ids[1]))
        func packets(_ r: [String: Any], _ key: String) -> Int? { (r[key] as? [String: Any])?["packets"] as? Int }
        #expect(packets(resultB, "received") == 2 && packets(resultB, "sent") == 1)
        #expect(packets(resultA, "received") == 1 && packets(resultA, "sent") == 0)
        #expect((resultA["reflect"] as? [String: Any])?["refused_replies"] as? Int == 1)
        #expect((resultB["reflect"] as? [String: Any])?["refused_sources"] as? Int == 1)
    }

    private func startJob(_ client: HTTPClient, _ json: String) async throws -> String {
        let reply = try await client.post("/v1/jobs", json: json)
        guard reply.status == 201, let id = reply.json["id"] as? String else {
            throw JobRefused(description: "job refused: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return id
    }

    private func result(_ client: HTTPClient, _ id: String) async throws -> [String: Any] {
        _ = try await client.waitForJob(id, timeout: 90)
        return try await client.get("/v1/jobs/\(id)/result").json
    }
}

struct JobRefused: Error, CustomStringConvertible {
    var description: String
}

/// Another process's resident memory, from /proc/PID/status.
func residentBytes(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
    return kb * 1024
}

/// Another process's CPU time (user + system), from /proc/PID/stat.
func cpuSeconds(_ pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
