import Foundation
import Glibc
import Testing
import VolleyTestSupport

/// GSO segments larger than the path MTU are refused before any traffic, naming `payload_bytes`.
/// Loopback's MTU is 65,536, so the test makes its own network namespace whose loopback has the
/// Ethernet MTU of 1,500 (a namespace the test creates and always deletes; traffic stays inside it).
@Suite(.serialized) struct PathMTUTests {
    private func ip(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runCommand(URL(fileURLWithPath: "/usr/sbin/ip"), arguments)
    }

    @Test func aGSOSegmentOverThePathMTUIsRefusedNamingPayloadBytes() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else {
            print("SKIPPED: PathMTUTests needs root and iproute2 to create a network namespace")
            return
        }
        let namespace = "volley-mtu-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let created = try ip(["netns", "add", namespace])
        try #require(created.status == 0, "\(created.output)")
        defer { _ = try? ip(["netns", "delete", namespace]) }
        for step in [["link", "set", "lo", "mtu", "1500"], ["link", "set", "lo", "up"]] {
            let r = try ip(["-n", namespace] + step)
            try #require(r.status == 0, "\(r.output)")
        }
        let directory = AgentProcess.temporaryDirectory()
        func run(payload: Int) throws -> (status: Int32, output: String) {
            let spec = directory.appendingPathComponent("gso-\(payload).json")
            try Data(#"{"mode":"send","target":"127.0.0.1:9","gso":true,"payload_bytes":\#(payload),"duration_s":0.2}"#.utf8)
                .write(to: spec)
            return try ip(["netns", "exec", namespace, AgentProcess.binary.path, "run", spec.path, "--json",
                           "--out", directory.appendingPathComponent("result-\(payload).json").path])
        }
        // 1,500 − 20 (IPv4) − 8 (UDP) = 1,472 payload bytes fit; one more does not.
        let over = try run(payload: 1_473)
        #expect(over.status == 2, "\(over.output)")
        #expect(over.output.contains("payload_bytes") && over.output.contains("1472") && over.output.contains("MTU 1500"),
                "\(over.output)")
        let fits = try run(payload: 1_472)
        #expect(fits.status == 0, "\(fits.output)")
    }
}
