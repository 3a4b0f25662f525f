import Foundation
import Testing
import VolleyModel
import VolleyTestSupport
@testable import VolleyFleet

@Suite struct AgentClientTests {
    @Test func errorBodiesBecomeTypedErrors() {
        let body = Data(#"{"error":{"code":"invalid_spec","message":"field 'batch' is 0","field":"batch"}}"#.utf8)
        guard case .api(let status, let code, let message, let field) = AgentClient.error(status: 400, body: body) else {
            Issue.record("not an API error")
            return
        }
        #expect(status == 400 && code == "invalid_spec" && message.contains("batch") && field == "batch")
        let odd = AgentClient.error(status: 502, body: Data("<html>bad gateway</html>".utf8))
        #expect(odd.description.contains("502") && odd.description.contains("bad gateway"))
    }

    @Test func unreachableAgentsSaySo() async {
        let client = AgentClient(base: URL(string: "http://127.0.0.1:1")!)
        do {
            try await client.health()
            Issue.record("port 1 answered")
        } catch {
            #expect(error.description.hasPrefix("cannot reach the agent at http://127.0.0.1:1"))
            #expect(error.status == nil)
        }
    }

    @Test func talksToARealAgent() async throws {
        let agent = try AgentProcess()
        defer { agent.stop() }
        let client = AgentClient(base: URL(string: "http://127.0.0.1:\(agent.port)")!)
        try await client.health()
        let job = try await client.submit(json: Data(#"{"mode":"send","target":"127.0.0.1:\#(freeUDPPort())","duration_s":0.1,"rate_pps":100}"#.utf8))
        #expect(job.state == .running || job.state == .queued)
        let page = try await client.jobs()
        #expect(page.jobs.map(\.id) == [job.id])
        do {
            _ = try await client.job("nope")
            Issue.record("unknown job answered")
        } catch {
            #expect(error.status == 404)
        }
    }

    /// Preflight: an agent that cannot hold the PM QoS request (or does not say) is left out of a
    /// fleet whose spec asks for `cpu_latency_us`, with the reason; a real agent's answer is read.
    @Test func preflightNamesAMissingCPULatencyRequest() async throws {
        var spec = JobSpec(mode: .echo, target: Endpoint(address: IPAddress("127.0.0.1")!, port: 9), durationSeconds: 1)
        let able = FleetRunner.Capabilities(udpGSO: true, udpGRO: true, cpuLatency: true)
        #expect(FleetRunner.missing(for: spec, FleetRunner.Capabilities(cpuLatency: nil)) == nil)
        spec.cpuLatencyMicroseconds = 0
        #expect(FleetRunner.missing(for: spec, able) == nil)
        let unable = FleetRunner.missing(for: spec, FleetRunner.Capabilities(udpGSO: true, udpGRO: true, cpuLatency: false))
        #expect(unable?.contains("'cpu_latency_us' is set") == true && unable?.contains("is false") == true)
        #expect(FleetRunner.missing(for: spec, FleetRunner.Capabilities(cpuLatency: nil))?.contains("is absent") == true)

        let agent = try AgentProcess()
        defer { agent.stop() }
        let (_, caps) = try await FleetRunner.clockOffset(AgentClient(base: URL(string: "http://127.0.0.1:\(agent.port)")!))
        #expect(caps.cpuLatency == FileManager.default.isWritableFile(atPath: "/dev/cpu_dma_latency"))
    }

    /// `serve --deny-cpu-latency`: the agent says it cannot hold the request (so a fleet leaves it
    /// out in preflight) and refuses such a job, 403 naming the field and the flag.
    @Test func anOperatorCanDenyTheCPULatencyRequest() async throws {
        let agent = try AgentProcess(arguments: ["--deny-cpu-latency"])
        defer { agent.stop() }
        let client = AgentClient(base: URL(string: "http://127.0.0.1:\(agent.port)")!)
        let (_, caps) = try await FleetRunner.clockOffset(client)
        #expect(caps.cpuLatency == false)
        do {
            _ = try await client.submit(json: Data(#"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":1,"cpu_latency_us":0}"#.utf8))
            Issue.record("a denied cpu_latency_us job was accepted")
        } catch {
            guard case .api(let status, let code, let message, let field) = error else {
                Issue.record("not an API error: \(error)")
                return
            }
            #expect(status == 403 && code == "limit_exceeded" && field == "cpu_latency_us")
            #expect(message.contains("--deny-cpu-latency"))
        }
        let page = try await client.jobs()
        #expect(page.jobs.isEmpty)
    }
}
