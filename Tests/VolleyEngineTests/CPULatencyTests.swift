import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// `cpu_latency_us`: the PM QoS request is held while the traffic runs and only then, the result says
/// what the host's limit was, and a device that cannot be opened refuses the job by the field's name.
@Suite(.serialized) struct CPULatencyTests {
    static let deviceWritable = Capabilities.probe().cpuLatency

    /// The host's CPU latency limit now (the smallest request of anyone), in µs.
    private func systemLimit() throws -> Int {
        let handle = try #require(FileHandle(forReadingAtPath: CPULatencyRequest.devicePath))
        defer { try? handle.close() }
        let bytes = try #require(try handle.read(upToCount: 4))
        try #require(bytes.count == 4)
        return Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
    }

    private func sink(cpuLatency: Int?) -> JobSpec {
        var spec = JobSpec(mode: .sink, listen: loopback(freeUDPPort()), durationSeconds: 60)
        spec.cpuLatencyMicroseconds = cpuLatency
        return spec
    }

    @Test(.enabled(if: deviceWritable, "needs write access to /dev/cpu_dma_latency (root)"))
    func heldWhileTheTrafficRunsAndReleasedWhenItEnds() throws {
        let before = try systemLimit()
        // 7 µs: a value nothing else on the host is likely to ask for, so the reading is the job's.
        let held = min(before, 7)
        let run = try JobRun(spec: sink(cpuLatency: 7))
        // Set up (as a queued job is) but not started: the open request constrains nothing.
        #expect(try systemLimit() == before)
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        #expect(try systemLimit() == held)
        run.stop()
        done.wait()
        #expect(box.report?.io.cpuLatencyMicroseconds == held)
        // Released when the last worker ended, while the run itself is still referenced.
        #expect(try systemLimit() == before)
        withExtendedLifetime(run) {}
    }

    @Test(.enabled(if: deviceWritable, "needs write access to /dev/cpu_dma_latency (root)"))
    func aRunThatNeverStartsConstrainsNothing() throws {
        let before = try systemLimit()
        do {
            let run = try JobRun(spec: sink(cpuLatency: 0))
            #expect(try systemLimit() == before)
            withExtendedLifetime(run) {}
        }
        #expect(try systemLimit() == before)
    }

    @Test func notAskedNotHeld() throws {
        let (run, report) = try launch(sink(cpuLatency: nil))
        run.stop()
        #expect(report().io.cpuLatencyMicroseconds == nil)
    }

    @Test func aDeviceThatCannotBeOpenedRefusesTheJobByName() throws {
        var options = EngineOptions()
        options.cpuLatencyDevice = "/nonexistent-volley-test/cpu_dma_latency"
        #expect(throws: EngineError.cpuLatencyUnavailable(path: options.cpuLatencyDevice, errno: ENOENT)) {
            _ = try JobRun(spec: sink(cpuLatency: 0), options: options)
        }
        #expect(throws: EngineError.cpuLatencyUnavailable(path: options.cpuLatencyDevice, errno: ENOENT)) {
            try JobRun.probe(sink(cpuLatency: 0), options: options)
        }
        let error = EngineError.cpuLatencyUnavailable(path: options.cpuLatencyDevice, errno: EACCES)
        #expect(error.field == "cpu_latency_us")
        #expect(error.description.contains("'cpu_latency_us'") && error.description.contains("write access"))
        // A job that does not ask never touches the device.
        let (run, report) = try launch(sink(cpuLatency: nil), options: options)
        run.stop()
        #expect(report().io.cpuLatencyMicroseconds == nil)
    }

    @Test func theDescriptorIsBudgetedWithTheSockets() {
        #expect(JobFootprint(spec: sink(cpuLatency: 0)).sockets == JobFootprint(spec: sink(cpuLatency: nil)).sockets + 1)
    }
}
