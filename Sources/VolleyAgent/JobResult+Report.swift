import VolleyEngine
import VolleyModel

extension JobResult {
    /// The result file for a finished run: exact totals, rates over the measured elapsed time.
    init(id: JobID, report: EngineReport, spec: JobSpec, agent: Agent) {
        let counted = spec.mode.originates ? report.sent : report.received
        // An echo job's elapsed time includes waiting for stragglers: its rate is over the sending phase.
        let active = spec.mode == .echo ? min(report.elapsedSeconds, spec.durationSeconds) : report.elapsedSeconds
        let seconds = max(active, 1e-9)
        self.init(id: id, state: report.stoppedEarly ? .cancelled : .completed, spec: spec, agent: agent,
                  startedAt: Timestamp(report.startedAt), finishedAt: Timestamp(report.finishedAt),
                  elapsedSeconds: report.elapsedSeconds, sent: report.sent, received: report.received,
                  rate: Rate(targetPPS: spec.plannedAveragePPS, achievedPPS: Double(counted.packets) / seconds,
                             achievedBPS: Double(counted.bytes) * 8 / seconds),
                  io: report.io, echo: report.echo, latency: report.latency, sequence: report.sequence,
                  timeline: report.timeline)
        reflect = report.reflect
        stamp = report.stamp
        appOverhead = report.appOverhead
        jobTag = spec.mode.originates ? report.jobTag : nil
        verdict = Verdict.evaluate(self)
    }
}

extension Job {
    /// A finished job as it is known from its stored result alone (after a restart).
    init(restoredFrom result: JobResult) {
        self.init(id: result.id, state: result.state, spec: result.spec, createdAt: result.startedAt)
        apply(result)
    }

    mutating func apply(_ result: JobResult) {
        state = result.state
        startedAt = result.startedAt
        finishedAt = result.finishedAt
        error = result.error
        verdict = result.verdict
        progress = JobProgress(packetsSent: result.sent.packets, packetsReceived: result.received.packets,
                               bytesSent: result.sent.bytes, bytesReceived: result.received.bytes,
                               elapsedSeconds: result.elapsedSeconds)
    }
}
