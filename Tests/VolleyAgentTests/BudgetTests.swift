import Foundation
import Glibc
import Testing
import VolleyEngine
import VolleyTestSupport
@testable import VolleyAgent
@testable import VolleyModel

/// What a spec is charged at admission: memory and sockets against the agent's budget, how far ahead
/// it may start; and what a job that waits holds (nothing but its record).
@Suite(.serialized) struct BudgetTests {
    private static func inAMinute() -> String { Timestamp(Date().addingTimeInterval(60)).description }

    /// The issue's 1 GB POST: refused at once, naming the field, without allocating anything.
    @Test func aJobOverTheJobMemoryLimitIsRefusedBeforeAnyAllocation() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let before = try #require(residentBytes())
        let asked = Date()
        let reply = try await h.submit(#"{"mode":"send","target":"127.0.0.1:9","threads":16,"batch":1024,"payload_bytes":65507,"rate_pps":1000,"start_at":"\#(Self.inAMinute())"}"#)
        let seconds = Date().timeIntervalSince(asked)
        #expect(reply.status == 403 && reply.errorCode == "limit_exceeded" && reply.errorField == "payload_bytes")
        #expect(reply.errorMessage?.contains("--max-job-memory") == true)
        // Generous: a loaded 2-core machine can take most of a second to answer any request; the
        // resident-size check below is what shows nothing was allocated.
        #expect(seconds < TestTiming.limit(5))
        let grown = try #require(residentBytes()) - before
        #expect(grown < 64 << 20, "RSS grew by \(grown >> 20) MiB")
        for spec in [#"{"mode":"reflect","listen":"127.0.0.1:9","threads":64,"batch":1024,"gro":true}"#,
                     #"{"mode":"echo","target":"127.0.0.1:9","threads":16,"batch":1024,"payload_bytes":9000,"rate_pps":16}"#] {
            let refused = try await h.submit(spec)
            #expect(refused.status == 403 && refused.errorCode == "limit_exceeded", "\(spec)")
        }
    }

    /// Scheduled jobs hold their footprint against the agent-wide budget until they end.
    @Test func theAgentWideBudgetCountsWaitingJobs() async throws {
        let h = try AgentHarness {
            $0.limits.maxJobMemoryBytes = 40 << 20
            $0.limits.maxMemoryBytes = 64 << 20
            $0.limits.maxSockets = 100
        }
        defer { h.agent.shutdown() }
        // About 32 MiB each: 512 × 65,507 B buffers.
        let big = #"{"mode":"send","target":"127.0.0.1:9","batch":512,"payload_bytes":65507,"rate_pps":10,"start_at":"\#(Self.inAMinute())"}"#
        let first = try await h.start(big)
        let second = try await h.submit(big)
        #expect(second.status == 429 && second.errorCode == "budget_exhausted" && second.errorField == "payload_bytes")
        let agent = try await h.client.get("/v1/agent").json
        let budget = try #require(agent["budget"] as? [String: Any])
        let spec = try JobSpec.decode(json: Data(big.utf8))
        #expect(budget["memory_in_use_bytes"] as? Int == JobFootprint(spec: spec).memoryBytes)
        #expect(budget["memory_bytes"] as? Int == 64 << 20 && budget["job_memory_bytes"] as? Int == 40 << 20)
        #expect(budget["sockets_in_use"] as? Int == 1 && budget["sockets"] as? Int == 100 && budget["active_jobs"] as? Int == 1)
        #expect((budget["max_start_ahead_s"] as? NSNumber)?.intValue == 7 * 86_400)
        let sockets = #"{"mode":"send","target":"127.0.0.1:9","threads":10,"flows":10,"rate_pps":10,"start_at":"\#(Self.inAMinute())"}"#
        let tooMany = try await h.submit(sockets)
        #expect(tooMany.status == 429 && tooMany.errorCode == "budget_exhausted" && tooMany.errorField == "flows")
        #expect(try await h.client.post("/v1/jobs/\(first)/cancel", json: "").status == 202)
        #expect(try await h.submit(big).status == 201)
    }

    /// A scheduled job opens its sockets when it starts, not while it waits.
    @Test func scheduledJobsHoldNoSocketsWhileTheyWait() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let before = openDescriptors()
        for _ in 0..<10 {
            _ = try await h.start(#"{"mode":"send","target":"127.0.0.1:9","threads":4,"flows":16,"rate_pps":100,"start_at":"\#(Self.inAMinute())"}"#)
        }
        #expect(openDescriptors() - before < 10, "640 sockets would be open if waiting jobs held them")
        // …and when one starts, it opens them and sends.
        let counter = UDPCounter()
        let soon = Timestamp(Date().addingTimeInterval(0.3)).description
        let id = try await h.start(#"{"mode":"send","target":"127.0.0.1:\#(counter.port)","threads":2,"flows":2,"duration_s":0.3,"rate_pps":1000,"start_at":"\#(soon)"}"#)
        let done = try await h.client.waitForJob(id)
        #expect(done["state"] as? String == "completed")
        let sent = ((try await h.client.get("/v1/jobs/\(id)/result").json["sent"]) as? [String: Any])?["packets"] as? Int
        #expect(sent != nil && sent == counter.drain().packets)
    }

    @Test func aPortTakenBeforeAScheduledJobStartsFailsThatJobWithTheReason() async throws {
        let h = try AgentHarness()
        defer { h.agent.shutdown() }
        let port = freeUDPPort()
        // Far enough ahead that the port is taken before the job opens its sockets (250 ms ahead).
        let soon = Timestamp(Date().addingTimeInterval(1.5)).description
        let id = try await h.start(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":1,"start_at":"\#(soon)"}"#)
        let squatter = try takePort(port)
        defer { close(squatter) }
        let job = try await h.client.waitForJob(id)
        #expect(job["state"] as? String == "failed")
        #expect((job["error"] as? [String: Any])?["code"] as? String == "port_in_use")
        #expect(try await h.client.get("/v1/jobs/\(id)/result").status == 200)
        // Submitted while the port is held: refused at once, naming the field.
        let now = try await h.submit(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","threads":2,"duration_s":1}"#)
        #expect(now.status == 409 && now.errorCode == "port_in_use" && now.errorField == "listen")
        let later = try await h.submit(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":1,"start_at":"\#(Self.inAMinute())"}"#)
        #expect(later.status == 409 && later.errorCode == "port_in_use")
    }

    /// A queued job that cannot start (its port was taken while it waited) must not keep its slot.
    @Test func aJobThatFailsToStartLeavesItsSlotToTheNext() async throws {
        let h = try AgentHarness { $0.limits.maxJobs = 1 }
        defer { h.agent.shutdown() }
        let busy = try await h.start(#"{"mode":"send","target":"127.0.0.1:9","duration_s":2.5,"rate_pps":100}"#)
        let port = freeUDPPort()
        let soon = Timestamp(Date().addingTimeInterval(1.5)).description
        let blocked = try await h.start(#"{"mode":"sink","listen":"127.0.0.1:\#(port)","duration_s":0.5,"start_at":"\#(soon)"}"#)
        let squatter = try takePort(port)
        defer { close(squatter) }
        #expect(try await h.waitFor(blocked, state: "queued")["state"] as? String == "queued")
        let next = try await h.start(#"{"mode":"send","target":"127.0.0.1:9","duration_s":0.2,"rate_pps":100}"#)
        #expect(try await h.client.waitForJob(busy)["state"] as? String == "completed")
        #expect(try await h.client.waitForJob(blocked)["state"] as? String == "failed")
        #expect(try await h.client.waitForJob(next, timeout: 10)["state"] as? String == "completed")
    }

    @Test func startAtIsBoundedAndRoundTripsThroughTheStore() async throws {
        let directory = AgentProcess.temporaryDirectory()
        var id = ""
        var text = ""
        do {
            let h = try AgentHarness(dataDirectory: directory)
            defer { h.agent.shutdown() }
            for far in ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", Timestamp(Date().addingTimeInterval(8 * 86_400)).description] {
                let reply = try await h.submit(#"{"mode":"sink","listen":"127.0.0.1:9","start_at":"\#(far)"}"#)
                #expect(reply.status == 403 || reply.status == 400, "\(far)")
                #expect(reply.errorField == "start_at", "\(far)")
            }
            // The furthest accepted start, written with an unusual offset, reads back after a restart.
            let edge = Date().addingTimeInterval(7 * 86_400 - 120)
            var components = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 14 * 3600)!, from: edge)
            components.nanosecond = 0
            text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.000+14:00", components.year!, components.month!, components.day!,
                              components.hour!, components.minute!, components.second!)
            id = try await h.start(#"{"mode":"sink","listen":"127.0.0.1:9","start_at":"\#(text)"}"#)
        }
        let again = try AgentHarness(dataDirectory: directory)
        defer { again.agent.shutdown() }
        let agent = try await again.client.get("/v1/agent").json
        #expect(((agent["store"] as? [String: Any])?["quarantined"] as? [Any])?.isEmpty == true)
        let job = try await again.client.get("/v1/jobs/\(id)")
        // A graceful stop withdrew it (cancelled); what matters is that the record read back whole.
        #expect(job.json["state"] as? String == "cancelled", "\(String(decoding: job.body, as: UTF8.self))")
        let startAt = ((job.json["spec"] as? [String: Any])?["start_at"] as? String).flatMap(Timestamp.init(rfc3339:))
        #expect(startAt == Timestamp(rfc3339: text))
    }
}

/// Binds 127.0.0.1:`port` as another program would, to take it from a job that has not opened it yet.
func takePort(_ port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard bindLoopback(fd, port: port) == port else {
        close(fd)
        throw HarnessError("could not take port \(port)")
    }
    return fd
}

/// This process's resident memory, from /proc/self/status.
func residentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
    return kb * 1024
}

func openDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
}
