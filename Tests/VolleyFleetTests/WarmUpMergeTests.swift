import Foundation
import Testing
@testable import VolleyFleet
@testable import VolleyModel

/// A fleet's echo result counts every agent's loopback warm-ups (`io.warm_ups`), saturating on
/// counts no agent could have reached, and names the agent whose warm-up failed.
@Suite struct WarmUpMergeTests {
    static let spec = try! JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:7","rate_pps":1000,"duration_s":1}"#.utf8))

    static func result(_ host: String, warmUps: UInt64?, error: String? = nil, workers: JobResult.WorkerUsage? = nil) -> JobResult {
        var totals = EchoTotals()
        totals.sent = 1_000
        totals.received = 1_000
        return JobResult(id: JobID("j\(host)")!, state: .completed, spec: spec, agent: .init(hostname: host, version: "t"),
                         startedAt: Timestamp(millisecondsSince1970: 1_800_000_000_000),
                         finishedAt: Timestamp(millisecondsSince1970: 1_800_000_001_000), elapsedSeconds: 1,
                         sent: .init(packets: 1_000, bytes: 64_000, partialBatches: 0), received: .init(packets: 1_000),
                         rate: .init(targetPPS: 1_000, achievedPPS: 1_000, achievedBPS: 512_000),
                         io: .init(send: "sendmmsg", receive: "recvmmsg", warmUps: warmUps, warmUpError: error, workers: workers),
                         echo: totals, latency: StampMergeTests.summary(10, count: 1_000))
    }

    @Test func warmUpsAddUpAndAFailureNamesItsAgent() throws {
        let merged = try ResultMerger.merge([Self.result("a", warmUps: 998), Self.result("b", warmUps: 500, error: "loopback warm-up: No buffer space available")],
                                            fleetID: JobID("fleet")!, spec: Self.spec)
        #expect(merged.io.warmUps == 1_498)
        #expect(merged.io.warmUpError == "b: loopback warm-up: No buffer space available")
        let forged = try ResultMerger.merge([Self.result("a", warmUps: .max), Self.result("b", warmUps: 5)],
                                            fleetID: JobID("fleet")!, spec: Self.spec)
        #expect(forged.io.warmUps == .max && forged.io.warmUpError == nil)
        let off = try ResultMerger.merge([Self.result("a", warmUps: nil), Self.result("b", warmUps: nil)],
                                         fleetID: JobID("fleet")!, spec: Self.spec)
        #expect(off.io.warmUps == nil)
    }

    /// `io.workers` adds up over the agents, only when every agent reported it; forged figures
    /// (an infinite sum, a negative or huge CPU time, counts at the top) leave an encodable result.
    /// `io.cpu_latency_us`: the loosest agent's limit, and only when every agent held one.
    @Test func cpuLatencyIsTheLoosestAndOnlyWhenEveryAgentHeldOne() throws {
        func held(_ host: String, _ us: Int?) -> JobResult {
            var r = Self.result(host, warmUps: 1)
            r.io.cpuLatencyMicroseconds = us
            return r
        }
        let fleet = JobID("fleet-cpu")!
        #expect(try ResultMerger.merge([held("a", 0), held("b", 20)], fleetID: fleet, spec: Self.spec).io.cpuLatencyMicroseconds == 20)
        #expect(try ResultMerger.merge([held("a", 0), held("b", nil)], fleetID: fleet, spec: Self.spec).io.cpuLatencyMicroseconds == nil)
        #expect(try ResultMerger.merge([held("a", nil), held("b", 0)], fleetID: fleet, spec: Self.spec).io.cpuLatencyMicroseconds == nil)
    }

    @Test func workerUsageAddsUpOnlyWhenEveryAgentReportsIt() throws {
        func usage(_ cpu: Double, _ voluntary: UInt64, _ involuntary: UInt64) -> JobResult.WorkerUsage {
            .init(cpuSeconds: cpu, voluntarySwitches: voluntary, involuntarySwitches: involuntary)
        }
        let fleet = JobID("fleet")!
        let both = try ResultMerger.merge([Self.result("a", warmUps: 1, workers: usage(0.25, 1_000, 3)),
                                           Self.result("b", warmUps: 1, workers: usage(0.5, 20, 4))], fleetID: fleet, spec: Self.spec)
        #expect(both.io.workers == usage(0.75, 1_020, 7))
        let one = try ResultMerger.merge([Self.result("a", warmUps: 1, workers: usage(0.25, 1_000, 3)),
                                          Self.result("b", warmUps: 1)], fleetID: fleet, spec: Self.spec)
        #expect(one.io.workers == nil)
        let forged = try ResultMerger.merge([Self.result("a", warmUps: 1, workers: usage(.greatestFiniteMagnitude, .max, 1)),
                                             Self.result("b", warmUps: 1, workers: usage(.greatestFiniteMagnitude, 5, .max)),
                                             Self.result("c", warmUps: 1, workers: usage(-3, 0, 0))], fleetID: fleet, spec: Self.spec)
        #expect(forged.io.workers == usage(.greatestFiniteMagnitude, .max, .max))
        _ = try VolleyJSON.encode(forged)
    }
}
