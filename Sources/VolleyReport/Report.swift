import Foundation
import VolleyModel

/// Self-contained HTML reports of job results and fleet results: the spec, who ran it, exact
/// totals, what went wrong, and inline SVG charts.
public enum Report {
    /// The policy every page carries in a meta tag; servers send it as a header too.
    public static let contentSecurityPolicy = ReportPage.contentSecurityPolicy

    /// A job result's report.
    public static func html(for result: JobResult) -> String {
        var page = ReportPage(title: "Volley \(result.spec.mode.rawValue) job \(result.id)")
        page.add(VerdictView.html(result.verdict))
        page.add("<h2>What went wrong</h2>" + ReportPage.warnings(warnings(result)))
        page.add(ReportPage.table("Run", runRows(result)))
        page.add(totals(result))
        page.add(StampView.html(result))
        page.add(ReportPage.table("Spec", specRows(result.spec)))
        page.add("<h2>Charts</h2><div class=\"charts\">" + charts(result, perAgent: []) + "</div>")
        return page.html
    }

    /// A fleet result's report: the merged numbers, and one line per agent in the rate chart.
    public static func html(for fleet: FleetResult) -> String {
        var page = ReportPage(title: "Volley fleet \(fleet.fleetID): \(fleet.spec.mode.rawValue) on \(fleet.agents.count) agents")
        var problems = fleet.agents.compactMap { agent in agent.error.map { "\(agent.url): \($0)" } }
        if let merged = fleet.merged { problems += warnings(merged) }
        if let skew = fleet.startSkewMs, skew > 10 { problems.append("agents started \(format(skew)) ms apart") }
        if let merged = fleet.merged { page.add(VerdictView.html(merged.verdict)) }
        page.add("<h2>What went wrong</h2>" + ReportPage.warnings(problems))
        page.add(ReportPage.grid("Agents", header: ["agent", "job", "state", "start delay ms", "clock offset ms", "error"],
                                 rows: fleet.agents.map { a in
                                     [a.url, a.jobID ?? "-", a.state ?? "-", a.startDelayMs.map(format) ?? "-",
                                      a.clockOffsetMs.map(format) ?? "-", a.error ?? ""]
                                 }))
        page.add(ReportPage.table("Fleet", [("fleet id", fleet.fleetID), ("start at", fleet.startAt.description),
                                            ("start skew", fleet.startSkewMs.map { format($0) + " ms" } ?? "-")]))
        if let merged = fleet.merged {
            page.add(ReportPage.table("Merged run", runRows(merged)))
            page.add(totals(merged))
            page.add(StampView.html(merged))
        }
        page.add(ReportPage.table("Spec", specRows(fleet.spec)))
        let perAgent = fleet.agents.compactMap { a in a.timeline.map { (a.url, $0) } }
        page.add("<h2>Charts</h2><div class=\"charts\">" + (fleet.merged.map { charts($0, perAgent: perAgent) } ?? "<p>No agent produced a result.</p>") + "</div>")
        return page.html
    }

    // MARK: - Sections

    static func warnings(_ r: JobResult) -> [String] {
        var out: [String] = []
        if r.state != .completed { out.append("the job ended \(r.state.rawValue)" + (r.error.map { ": \($0.message)" } ?? "")) }
        if r.rate.targetPPS > 0, r.spec.mode.originates, r.rate.achievedPPS < Double(r.rate.targetPPS) * 0.99 {
            out.append("missed the rate target: \(Units.grouped(r.rate.achievedPPS)) of \(Units.grouped(r.rate.targetPPS)) datagrams/s")
        }
        if let delay = r.startDelayMs, delay > 10 { out.append("started \(format(delay)) ms after start_at") }
        for (category, count) in (r.sent.errors.merging(r.received.errors, uniquingKeysWith: +)).sorted(by: { $0.key < $1.key }) {
            out.append("\(Units.grouped(count)) failed calls: \(category)")
        }
        if let echo = r.echo {
            if echo.lost > 0 { out.append("\(Units.grouped(echo.lost)) of \(Units.grouped(echo.sent)) datagrams got no reply in time") }
            if echo.late > 0 { out.append("\(Units.grouped(echo.late)) replies came after echo_timeout_ms") }
        }
        out += StampView.warnings(r)
        for sender in r.sequence?.senders ?? [] where sender.gaps > 0 {
            out.append("\(Units.grouped(sender.gaps)) datagrams missing from \(sender.source) flow \(sender.flow)")
        }
        return out
    }

    static func runRows(_ r: JobResult) -> [(String, String)] {
        [("state", r.state.rawValue), ("agent", "\(r.agent.hostname) (volley \(r.agent.version))"),
         ("started", r.startedAt.description), ("finished", r.finishedAt.description),
         ("elapsed", format(r.elapsedSeconds) + " s"),
         ("rate", "\(Units.rate(pps: r.rate.achievedPPS, bps: r.rate.achievedBPS)) achieved, "
             + (r.rate.targetPPS == 0 ? "unlimited asked" : "\(Units.grouped(r.rate.targetPPS)) datagrams/s asked")),
         ("system calls", "\(r.io.send) / \(r.io.receive)")]
            + (r.startDelayMs.map { [("start delay", format($0) + " ms")] } ?? [])
    }

    static func totals(_ r: JobResult) -> String {
        let g = Units.grouped as (UInt64) -> String
        var rows: [[String]] = []
        // A send job never receives and a sink never sends: a row of zeros there says nothing.
        if r.spec.mode != .sink || r.sent.packets > 0 || !r.sent.errors.isEmpty {
            rows.append(["sent", g(r.sent.packets), g(r.sent.bytes), g(r.sent.syscalls), errorText(r.sent.errors)])
        }
        if r.spec.mode != .send || r.received.packets > 0 || !r.received.errors.isEmpty {
            rows.append(["received", g(r.received.packets), g(r.received.bytes), g(r.received.syscalls), errorText(r.received.errors)])
        }
        if let e = r.echo {
            rows.append(["echo", "lost \(g(e.lost)), duplicates \(g(e.duplicates))", "reordered \(g(e.reordered)), late \(g(e.late))", "", ""])
        }
        var out = ReportPage.grid("Exact totals", header: ["", "datagrams", "bytes", "system calls", "errors"], rows: rows)
        if let l = r.latency {
            out += ReportPage.grid("Round-trip time (µs)", header: ["count", "min", "mean", "p50", "p90", "p99", "p99.9", "p99.99", "max"],
                                   rows: [[g(l.count), g(l.min), Units.grouped(l.mean), g(l.p50), g(l.p90), g(l.p99),
                                           g(l.p999), g(l.p9999), g(l.max)]])
        }
        if let s = r.sequence, !s.senders.isEmpty {
            out += ReportPage.grid("One-way sequence by sender", header: ["source", "job tag", "flow", "unique", "gaps", "duplicates", "reordered"],
                                   rows: s.senders.map { ["\($0.source)", "\($0.jobTag)", "\($0.flow)", g($0.unique), g($0.gaps),
                                                          g($0.duplicates), g($0.reordered)] })
        }
        return out
    }

    static func specRows(_ spec: JobSpec) -> [(String, String)] {
        guard let data = try? VolleyJSON.encode(spec),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return object.keys.sorted().map { key in
            let value = object[key]!
            if let text = value as? String { return (key, text) }
            let json = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]))
            return (key, json.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)")
        }
    }

    static func charts(_ r: JobResult, perAgent: [(String, [TimelineEntry])]) -> String {
        let schedule = RateSchedule(spec: r.spec)
        let target: (Int) -> Double? = { second in
            guard r.spec.mode.originates, !schedule.isUnlimited else { return nil }
            return schedule.due(at: UInt64(second + 1) * 1_000_000_000) - schedule.due(at: UInt64(second) * 1_000_000_000)
        }
        // One x axis for every time chart, so second 3 is at the same place in each.
        let domain = Charts.timeDomain([r.timeline] + perAgent.map(\.1))
        var out = Charts.rate(r.timeline, target: target, perAgent: perAgent, xDomain: domain)
            + Charts.counts(r.timeline, mode: r.spec.mode, xDomain: domain)
        if let rtt = Charts.rtt(r.timeline, xDomain: domain) { out += rtt }
        if let latency = r.latency, let spectrum = Charts.spectrum(latency) { out += spectrum }
        return out
    }

    static func errorText(_ errors: [String: UInt64]) -> String {
        errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) \(Units.grouped($0.value))" }.joined(separator: ", ")
    }

    static func format(_ v: Double) -> String {
        v.rounded() == v && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.1f", v)
    }
}
