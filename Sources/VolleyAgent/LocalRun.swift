import Foundation
import VolleyEngine
import VolleyModel

/// One job run in this process, without an agent (`volley run`): the same checks an agent makes
/// (allowlist, kernel features), the same engine, and the same result shape.
public final class LocalRun: Sendable {
    public let spec: JobSpec
    private let run: JobRun
    private let done = DispatchSemaphore(value: 0)
    private let report = Locked<EngineReport?>(nil)

    public init(spec: JobSpec, allowlist: [CIDR] = CIDR.loopback) throws(APIError) {
        self.spec = spec
        let field = spec.mode.originates ? "target" : "listen"
        if let endpoint = spec.endpoint, !allowlist.contains(where: { $0.contains(endpoint.address) }) {
            throw APIError(.targetNotAllowed, "\(endpoint.address) is outside the allowlist (\(allowlist.map(\.description).joined(separator: ", "))); add --allow CIDR",
                           field: field)
        }
        let capabilities = Capabilities.probe()
        if spec.gso && !capabilities.udpGSO {
            throw APIError(.invalidSpec, "'gso' needs UDP_SEGMENT, which this kernel does not offer", field: "gso")
        }
        if spec.gro && !capabilities.udpGRO {
            throw APIError(.invalidSpec, "'gro' needs UDP_GRO, which this kernel does not offer", field: "gro")
        }
        if spec.cpuLatencyMicroseconds != nil && !capabilities.cpuLatency { throw APIError(cpuLatencyUnavailable: capabilities) }
        // The same per-job memory limit an agent applies by default: a typo in batch or threads must
        // not take gigabytes here either.
        try ResourceBudget(jobMemoryBytes: ResourceBudget.defaultJobMemoryBytes, memoryBytes: .max, sockets: .max)
            .checkJob(spec, JobFootprint(spec: spec))
        var options = EngineOptions()
        options.peerAllowlist = allowlist  // a local reflect answers the same sources an agent would
        do throws(EngineError) {
            run = try JobRun(spec: spec, options: options)
        } catch {
            throw APIError(engine: error, field: field)
        }
    }

    /// Waits for `start_at` if the spec has one, then starts the traffic.
    public func start() {
        if let at = spec.startAt?.date {
            while at.timeIntervalSinceNow > 0.002 { Thread.sleep(forTimeInterval: min(0.1, at.timeIntervalSinceNow - 0.002)) }
            while Date() < at {}
        }
        run.start { [self] finished in
            report.withLock { $0 = finished }
            done.signal()
        }
    }

    public func progress() -> JobProgress { run.progress() }

    public func stop() { run.stop() }

    /// Waits up to `seconds` for the end; true when the run has finished.
    public func wait(seconds: Double) -> Bool { done.wait(timeout: .now() + seconds) == .success }

    /// The result, once `wait` has returned true.
    public func result(hostname: String) -> JobResult? {
        guard let report = report.withLock({ $0 }) else { return nil }
        var result = JobResult(id: spec.id ?? JobID.generate(), report: report, spec: spec,
                               agent: .init(hostname: hostname, version: Volley.version))
        if let at = spec.startAt {
            result.startDelayMs = (report.startedAt.timeIntervalSince(at.date) * 1e6).rounded() / 1e3  // to the microsecond
        }
        return result
    }
}
