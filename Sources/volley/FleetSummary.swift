import VolleyModel

/// What `volley fleet run` prints: the start line, the table of agents and the merged verdict.
enum FleetSummary {
    /// One line on stderr after submitting: when new jobs start, and which jobs an earlier run with
    /// the same fleet id had already started (with their own start time, not this run's).
    static func startLine(fleetID: String, startAt: Timestamp, _ outcomes: [FleetAgentOutcome]) -> String {
        let submitted = outcomes.filter { $0.jobID != nil }
        let adopted = submitted.filter { $0.adopted == true }
        let fresh = submitted.count - adopted.count
        var lines: [String] = []
        if fresh > 0 || adopted.isEmpty {
            lines.append("fleet \(fleetID): \(fresh) agent\(fresh == 1 ? "" : "s") start\(fresh == 1 ? "s" : "") at \(startAt)")
        }
        if !adopted.isEmpty {
            lines.append("fleet \(fleetID): \(adopted.count) agent\(adopted.count == 1 ? "" : "s") already had this fleet's job (adopted, nothing new started)")
            for agent in adopted {
                lines.append("  \(agent.url): job \(agent.jobID ?? "-") " + (agent.startedAt.map { "started at \($0)" } ?? "has not started yet"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func table(_ r: FleetResult) -> String {
        var lines = ["AGENT".column(32) + "JOB".column(22) + "STATE".column(12) + "DELAY ms".column(10)
                     + "SENT".column(14) + "RECEIVED".column(14) + "NOTE"]
        for agent in r.agents {
            let delay = agent.startDelayMs.map { String(format: "%.1f", $0) } ?? "-"
            var notes: [String] = []
            if agent.adopted == true { notes.append("adopted, started \(agent.startedAt.map { "\($0)" } ?? "earlier")") }
            if let error = agent.error { notes.append("error: \(error)") }
            // A send job receives nothing: a dash, not a 0 that reads like total loss.
            let received = r.spec.mode == .send ? nil : agent.received
            lines.append(agent.url.column(32) + (agent.jobID ?? "-").column(22) + (agent.state ?? "-").column(12)
                         + delay.column(10) + (agent.sent.map { Validate.grouped(Int($0)) } ?? "-").column(14)
                         + (received.map { Validate.grouped(Int($0)) } ?? "-").column(14) + notes.joined(separator: "; "))
        }
        if let m = r.merged {
            let received = m.echo?.received ?? m.received.packets
            lines.append("merged: sent \(Validate.grouped(Int(m.sent.packets))), received \(Validate.grouped(Int(received))), "
                         + "\(Validate.grouped(Int(m.rate.achievedPPS))) pps"
                         + (m.latency.map { ", RTT p50 \($0.p50) µs p99 \($0.p99) µs" } ?? ""))
        }
        lines.append("start skew: " + (r.startSkewMs.map { String(format: "%.1f ms", $0) } ?? "-"))
        return lines.joined(separator: "\n")
    }

    /// `PASSED` or `FAILED` with the failed thresholds, then the warnings; nil without a merged result.
    static func verdict(_ r: FleetResult) -> String? {
        guard let verdict = r.merged?.verdict else { return nil }
        var lines = ["verdict: " + (verdict.passed ? "PASSED" : "FAILED")
                     + (verdict.checks.contains { $0.severity == .threshold } ? "" : " (no thresholds in the spec)")]
        for check in verdict.failedThresholds { lines.append("  failed:  \(check.message)") }
        for check in verdict.warnings { lines.append("  warning: \(check.message)") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Left-aligned in `width` columns, with at least one space after.
    fileprivate func column(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
