import Foundation
import Glibc
import VolleyEngine
import VolleyModel

/// Runs a job to the end on the real engine and returns its report.
func runJob(_ spec: JobSpec, options: EngineOptions = EngineOptions(), stopAfter: Double? = nil) throws -> EngineReport {
    let run = try JobRun(spec: spec, options: options)
    let done = DispatchSemaphore(value: 0)
    let box = ReportBox()
    run.start { report in
        box.report = report
        done.signal()
    }
    if let stopAfter {
        Thread.sleep(forTimeInterval: stopAfter)
        run.stop()
    }
    done.wait()
    return box.report!
}

/// Starts a job and returns it with a function that waits for its report.
func launch(_ spec: JobSpec, options: EngineOptions = EngineOptions()) throws -> (JobRun, () -> EngineReport) {
    let run = try JobRun(spec: spec, options: options)
    let done = DispatchSemaphore(value: 0)
    let box = ReportBox()
    run.start { box.report = $0; done.signal() }
    return (run, { done.wait(); return box.report! })
}

final class ReportBox: @unchecked Sendable {  // written once before the semaphore is signalled
    var report: EngineReport?
}

func loopback(_ port: UInt16) -> Endpoint {
    Endpoint(address: IPAddress("127.0.0.1")!, port: port)
}

func sendSpec(to port: UInt16, duration: Double = 0.5, rate: Int = 0, payload: Int = 64, batch: Int = 64,
              threads: Int = 1, maxPackets: Int = 0) -> JobSpec {
    JobSpec(mode: .send, target: loopback(port), durationSeconds: duration, ratePPS: rate, payloadBytes: payload,
            batch: batch, threads: threads, maxPackets: maxPackets)
}

/// 127.0.0.1:`port` as a receive call fills it in, for tests that feed a sender table by hand.
func loopbackSource(port: UInt16) -> sockaddr_storage {
    var address = sockaddr_storage()
    withUnsafeMutableBytes(of: &address) { raw in
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        raw.storeBytes(of: sin, as: sockaddr_in.self)
    }
    return address
}
