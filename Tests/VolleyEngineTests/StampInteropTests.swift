import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// Volley's STAMP against an implementation nobody here wrote: scapy's `scapy.contrib.stamp`,
/// used only as a codec by the scripts in Tests/Interop, which send and receive with plain UDP
/// sockets on loopback.
@Suite(.serialized) struct StampInteropTests {
    /// scapy's Session-Sender packets (sequence 0 and 2³²−1, three SSIDs, NTP and PTP error
    /// estimates, 44 to 1472 bytes, Extra Padding and unknown TLVs, IP_TTL 17) to Volley's reflector:
    /// every reply, as scapy dissects it, is what RFC 8762 §4.3.1 and RFC 8972 §4 require.
    @Test(arguments: [false, true])
    func scapySenderToVolleyReflector(stateful: Bool) throws {
        let python = try #require(PythonTools.withScapy(), "python3 with 'scapy' and 'hdrhistogram' is needed: run `make test`")
        let port = freeUDPPort()
        var spec = JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 120, maxPackets: 8)
        spec.echoProtocol = .stamp
        spec.stateful = stateful
        let (job, reflected) = try launch(spec)
        let script = PythonTools.interopScripts.appendingPathComponent("stamp_sender.py").path
        let run = try capture(python, [script, "\(port)", stateful ? "--stateful" : "--stateless"], timeout: 240)
        if run.status != 0 { job.stop() }
        #expect(run.status == 0, "stamp_sender.py: \(run.stdout)\(run.stderr)")
        let summary = try interopJSON(run.stdout)
        #expect(summary["failures"] as? [String] == [])
        #expect(summary["sent"] as? Int == 8 && summary["received"] as? Int == 8 && summary["checked"] as? Int == 8)
        #expect(summary["ptp"] as? Int == 2 && summary["unknown_tlvs"] as? Int == 2 && summary["sessions"] as? Int == 3)
        let report = reflected()
        #expect(report.received.packets == 8 && report.sent.packets == 8)
        let totals = try #require(report.reflect?.stamp)
        #expect(totals.stateful == stateful && totals.tlvsUnrecognized == 2 && totals.tlvsMalformed == 0)
        #expect(totals.kernelReceiveTimestamps + totals.appReceiveTimestamps == 8)
        if stateful { #expect(totals.sessions == 3) }  // one socket, SSIDs 1, 0x1234 and 0xFFFF
    }

    /// Volley's Session-Sender against a stateful scapy reflector that loses every 7th request on
    /// purpose (uncounted: forward loss) and every 5th counted one (backward loss): Volley's
    /// figures equal those computed from the reflector's own log of T1, T2 and T3.
    @Test func volleySenderToScapyReflector() throws {
        let python = try #require(PythonTools.withScapy(), "python3 with 'scapy' and 'hdrhistogram' is needed: run `make test`")
        let port = freeUDPPort(), count = 300
        let dir = TestFolders.make("stamp-interop")
        let log = dir.appendingPathComponent("log.json"), ready = dir.appendingPathComponent("ready")
        let script = PythonTools.interopScripts.appendingPathComponent("stamp_reflector.py").path
        let reflector = try Spawned(python.path, [script, "\(port)", "\(count)", "180", log.path, ready.path])
        defer { reflector.kill9() }
        let readyBy = Date().addingTimeInterval(90)
        while !FileManager.default.fileExists(atPath: ready.path) && reflector.isRunning && Date() < readyBy {
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(FileManager.default.fileExists(atPath: ready.path), "reflector not ready: \(reflector.stderr)")

        // Slow enough for a Python reflector on a busy machine; a timeout that no reply misses.
        var spec = JobSpec(mode: .echo, target: loopback(port), durationSeconds: 60, ratePPS: 200, payloadBytes: 64,
                           threads: 1, flows: 1, maxPackets: count, echoTimeoutMilliseconds: 5_000)
        spec.echoProtocol = .stamp
        spec.stateful = true
        let report = try runJob(spec)
        #expect(reflector.wait(timeout: 120) == 0, "stamp_reflector.py: \(reflector.stderr)")
        let expected = try interopJSON(String(decoding: try Data(contentsOf: log), as: UTF8.self))

        let echo = try #require(report.echo), stamp = try #require(report.stamp)
        let answered = try #require(expected["sent"] as? Int)
        #expect(expected["received"] as? Int == count && echo.sent == UInt64(count))
        #expect(echo.received == UInt64(answered) && echo.late == 0 && echo.duplicates == 0)
        #expect(expected["forward_drops"] as? Int == 42 && expected["backward_drops"] as? Int == 51)  // 300/7; 258/5
        let loss = try #require(expected["expected_loss"] as? [String: Int])
        #expect(stamp.loss == StampLoss(attributed: true, forward: UInt64(loss["forward"] ?? -1),
                                        backward: UInt64(loss["backward"] ?? -1), unknown: UInt64(loss["unknown"] ?? -1)))
        #expect((stamp.loss.forward ?? 0) + (stamp.loss.backward ?? 0) + echo.late + (stamp.loss.unknown ?? 0) == echo.lost)

        #expect(stamp.sharedClock && stamp.oneWayValid && stamp.reflectorClockSynchronized == true)
        #expect(stamp.reflectorTimestampFormat == "ntp" && stamp.negativeOneWay == 0 && stamp.turnaroundOverRTT == 0)
        #expect(expected["negative_forward"] as? Int == 0)
        let turnaround = try #require(stamp.turnaroundUs), forward = try #require(stamp.forwardUs)
        try expectSame(turnaround, try #require(expected["turnaround_us"] as? [String: Any]), "turnaround")
        try expectSame(forward, try #require(expected["forward_us"] as? [String: Any]), "forward")
        let rtt = try #require(report.latency), backward = try #require(stamp.backwardUs)
        #expect(rtt.count == UInt64(answered) && backward.count == UInt64(answered))
        // One clock: forward + backward is the round trip without the turnaround, datagram by datagram.
        #expect(abs(forward.mean + backward.mean - rtt.mean) <= 1.0, "\(forward.mean) + \(backward.mean) vs \(rtt.mean)")
    }

    /// Volley's summary of a delay against the reflector's: the count and percentiles exactly (both
    /// sides use HdrHistogram's definition, 1 µs to 60 s at 3 significant digits); min, max and mean
    /// to within that resolution (1 part in 1,000, and 1 µs for bucket midpoints).
    private func expectSame(_ volley: LatencySummary, _ python: [String: Any], _ what: String) throws {
        #expect(volley.count == UInt64(try #require(python["count"] as? Int)), "\(what) count")
        for (name, value) in [("p50", volley.p50), ("p90", volley.p90), ("p99", volley.p99), ("p999", volley.p999)] {
            #expect(python[name] as? Int == Int(value), "\(what) \(name): Volley \(value), from the reflector's log \(python[name] ?? "none")")
        }
        for (name, value) in [("min", Double(volley.min)), ("max", Double(volley.max)), ("mean", volley.mean)] {
            let want = try #require((python[name] as? NSNumber)?.doubleValue, "\(what) \(name) missing")
            #expect(abs(value - want) <= want / 1000 + 1, "\(what) \(name): Volley \(value), from the reflector's log \(want)")
        }
    }
}

/// The JSON object a script printed or wrote (its last line, where it printed).
private func interopJSON(_ text: String) throws -> [String: Any] {
    let line = text.split(separator: "\n").last.map(String.init) ?? ""
    return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(text)")
}
