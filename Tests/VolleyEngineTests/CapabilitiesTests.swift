import CBatchIO
import Foundation
import Glibc
import Testing
@testable import VolleyEngine

@Suite struct CapabilitiesTests {
    @Test func probesAgreeWithTheBuild() {
        let caps = Capabilities.probe()
        if !CBatchIO_built_with_mmsg() {
            #expect(!caps.sendmmsg && !caps.recvmmsg)
            #expect(IOMethod.preferred == .loop)
        } else {
            #expect(IOMethod.preferred == (caps.sendmmsg && caps.recvmmsg ? .batched : .loop))
        }
    }

    /// The CPU latency probe keeps why it failed (for refusals and the agent's start-up log).
    @Test func theCPULatencyProbeKeepsItsReason() throws {
        let missing = "/nonexistent-volley-test/cpu_dma_latency"
        let caps = Capabilities.probe(cpuLatencyDevice: missing)
        #expect(!caps.cpuLatency)
        #expect(caps.cpuLatencyProblem == .cpuLatencyUnavailable(path: missing, errno: ENOENT))
        // Not part of what GET /v1/agent shows.
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(caps)) as? [String: Any])
        #expect(Set(json.keys) == ["sendmmsg", "recvmmsg", "udp_gso", "udp_gro", "cpu_latency"])
        let here = Capabilities.probe()
        #expect(here.cpuLatency == (here.cpuLatencyProblem == nil))
    }

    @Test func errnoCategoriesHaveStableNames() {
        #expect(ErrorCategory(errno: ECONNREFUSED).name == "connection_refused")
        #expect(ErrorCategory(errno: EAGAIN).name == "would_block")
        #expect(ErrorCategory(errno: ENOBUFS).name == "no_buffers")
        #expect(ErrorCategory(errno: EIO).name == "other")
        #expect(Set(ErrorCategory.allCases.map(\.name)).count == ErrorCategory.allCases.count)
    }
}
