import Foundation
import Testing
import VolleyEngine
import VolleyModel
import VolleyTestSupport
@testable import VolleyAgent

/// `cpu_latency_us` at the API: an agent that cannot hold the request refuses the job by the field's
/// name (before anything is reserved), on `POST /v1/jobs` and `POST /v1/validate` alike.
@Suite struct CPULatencyAdmissionTests {
    private var cannot: Capabilities {
        var caps = Capabilities.probe()
        caps.cpuLatency = false
        return caps
    }

    @Test func anAgentWithoutTheDeviceRefusesByName() throws {
        let a = try InProcessAgent(capabilities: cannot)
        defer { a.shutdown() }
        let spec = #"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":1,"cpu_latency_us":0}"#
        for path in ["/v1/jobs", "/v1/validate"] {
            let reply = a.request("POST", path, json: spec)
            #expect(reply.status == 403)
            #expect(reply.errorCode == "permission_denied")
            let error = try #require(reply.json["error"] as? [String: Any])
            #expect(error["field"] as? String == "cpu_latency_us")
            #expect((error["message"] as? String)?.contains("/dev/cpu_dma_latency") == true)
        }
        #expect(a.jobs.countsByState().values.reduce(0, +) == 0)
        // With the probe's reason kept, the refusal gives it: no access is 403, no device 400.
        for (code, status, errorCode, reason) in [(EACCES, 403, "permission_denied", "Permission denied"),
                                                  (ENOENT, 400, "invalid_spec", "No such file or directory")] {
            var caps = cannot
            caps.cpuLatencyProblem = .cpuLatencyUnavailable(path: "/dev/cpu_dma_latency", errno: code)
            let b = try InProcessAgent(capabilities: caps)
            defer { b.shutdown() }
            let reply = b.request("POST", "/v1/jobs", json: spec)
            #expect(reply.status == status)
            #expect(reply.errorCode == errorCode)
            let error = try #require(reply.json["error"] as? [String: Any])
            #expect(error["field"] as? String == "cpu_latency_us")
            #expect((error["message"] as? String)?.contains(reason) == true)
            #expect(b.jobs.countsByState().values.reduce(0, +) == 0)
        }
        // The same job without the field is taken.
        let plain = #"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":0.2}"#
        #expect(a.request("POST", "/v1/jobs", json: plain).status == 201)
    }

    /// When opening the device fails at set-up (it went away after the start-up probe), the job is
    /// refused with the reason, the field named, and nothing kept.
    @Test func aDeviceThatFailsAtSetUpRefusesByName() throws {
        var options = EngineOptions()
        options.cpuLatencyDevice = "/nonexistent-volley-test/cpu_dma_latency"
        var caps = Capabilities.probe()
        caps.cpuLatency = true
        let a = try InProcessAgent(capabilities: caps, engineOptions: options)
        defer { a.shutdown() }
        let reply = a.request("POST", "/v1/jobs", json: #"{"mode":"sink","listen":"127.0.0.1:\#(freeUDPPort())","duration_s":1,"cpu_latency_us":0}"#)
        #expect(reply.status == 400)
        #expect(reply.errorCode == "invalid_spec")
        let error = try #require(reply.json["error"] as? [String: Any])
        #expect(error["field"] as? String == "cpu_latency_us")
        #expect((error["message"] as? String)?.contains("No such file or directory") == true)
        #expect(a.jobs.countsByState().values.reduce(0, +) == 0)
    }
}
