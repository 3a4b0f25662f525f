import Foundation
import VolleyModel

/// The agent's home page (`GET /`): its jobs, newest first, with live rates and verdicts, and what
/// the agent can do. Plain HTML that reloads itself every few seconds; no scripts, the reports' CSP.
public enum HomePage {
    /// Who the agent is, as `GET /v1/agent` tells it.
    public struct AgentSummary: Sendable {
        public var hostname: String
        public var version: String
        /// Capability name → whether this kernel offers it.
        public var capabilities: [(name: String, available: Bool)]
        public var budget: BudgetInfo?
        public var store: StoreInfo

        public init(hostname: String, version: String, capabilities: [(name: String, available: Bool)], budget: BudgetInfo?,
                    store: StoreInfo) {
            self.hostname = hostname
            self.version = version
            self.capabilities = capabilities
            self.budget = budget
            self.store = store
        }
    }

    /// Seconds between reloads.
    public static let refreshSeconds = 5

    /// The page for `jobs` (newest first, already bounded); `total` is how many the agent holds.
    public static func html(jobs: [Job], total: Int, agent: AgentSummary) -> String {
        var page = ReportPage(title: "Volley agent on \(agent.hostname)", refresh: refreshSeconds)
        var list = "<h2>Jobs</h2>"
        if jobs.isEmpty {
            list += "<p>No jobs yet. Submit one with <code>volley submit</code> or <code>POST /v1/jobs</code>.</p>"
        } else {
            if total > jobs.count {
                list += #"<p class="note">Showing the newest \#(Units.grouped(jobs.count)) of \#(Units.grouped(total)) jobs; the rest are in <a href="/v1/jobs">GET /v1/jobs</a> (paged with <code>after</code>).</p>"#
            }
            list += jobTable(jobs)
        }
        page.add(list)
        page.add(ReportPage.table("Agent", [("host", agent.hostname), ("version", "volley \(agent.version)"),
                                            ("capabilities", agent.capabilities.map { "\($0.name) \($0.available ? "yes" : "no")" }
                                                .joined(separator: ", "))]
                                  + budgetRows(agent.budget) + storeRows(agent.store)))
        page.add(#"<p>JSON: <a href="/v1/agent">/v1/agent</a> · <a href="/v1/jobs">/v1/jobs</a> · <a href="/metrics">/metrics</a> · <a href="/v1/health">/v1/health</a>. This page reloads every \#(refreshSeconds) s.</p>"#)
        return page.html
    }

    static func jobTable(_ jobs: [Job]) -> String {
        var out = #"<table class="grid jobs"><tr><th>job</th><th>verdict</th><th>state</th><th>mode</th><th>rate</th><th>target / listen</th><th>tags</th><th>links</th></tr>"#
        for job in jobs {
            let id = Escape.html(job.id.rawValue)
            let (cls, word) = VerdictView.state(job.verdict)
            var links = #"<a href="/v1/jobs/\#(id)">job</a>"#
            if job.state.isFinished {
                links += #" · <a href="/v1/jobs/\#(id)/report">report</a> · <a href="/v1/jobs/\#(id)/result">result</a>"#
            }
            let tags = job.spec.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            // data-label: on a narrow screen each row becomes a card and CSS writes the label before each cell.
            out += #"<tr data-job="\#(id)"><td data-label="job"><code>\#(id)</code></td>"#
            out += #"<td data-label="verdict"><span class="badge \#(cls)">\#(word)</span></td>"#
            out += #"<td data-label="state">\#(job.state.rawValue)</td><td data-label="mode">\#(job.spec.mode.rawValue)</td>"#
            out += #"<td data-label="rate">\#(Escape.html(rate(job)))</td>"#
            out += #"<td data-label="target / listen">\#(Escape.html(job.spec.endpoint?.description ?? "-"))</td>"#
            out += #"<td data-label="tags">\#(Escape.html(tags))</td><td data-label="links">\#(links)</td></tr>"#
        }
        return out + "</table>"
    }

    /// Datagrams and bits per second over the job's elapsed time, in the direction its mode counts, and
    /// for a running echo job the RTT of its latest finished second.
    static func rate(_ job: Job) -> String {
        let p = job.progress
        guard p.elapsedSeconds > 0 else { return "-" }
        let (packets, bytes) = job.spec.mode.originates ? (p.packetsSent, p.bytesSent) : (p.packetsReceived, p.bytesReceived)
        let rate = Units.rate(pps: Double(packets) / p.elapsedSeconds, bps: Double(bytes) * 8 / p.elapsedSeconds)
        guard job.state == .running, let rtt = p.rtt else { return rate }
        return rate + ", RTT p50 \(Units.grouped(Int(rtt.p50))) µs p99 \(Units.grouped(Int(rtt.p99))) µs"
    }

    static func budgetRows(_ budget: BudgetInfo?) -> [(String, String)] {
        guard let b = budget else { return [] }
        return [("active jobs", Units.grouped(b.activeJobs)),
                ("memory", "\(mebibytes(b.memoryInUseBytes)) of \(mebibytes(b.memoryBytes)) held (at most \(mebibytes(b.jobMemoryBytes)) a job)"),
                ("sockets", "\(Units.grouped(b.socketsInUse)) of \(Units.grouped(b.sockets)) held"),
                ("start_at", "at most \(Units.grouped(b.maxStartAheadSeconds)) s ahead")]
    }

    static func storeRows(_ store: StoreInfo) -> [(String, String)] {
        var rows: [(String, String)] = []
        if !store.quarantined.isEmpty { rows.append(("quarantined files", store.quarantined.joined(separator: ", "))) }
        if let failed = store.failedWrites, failed > 0 {
            rows.append(("failed writes", "\(Units.grouped(failed))" + (store.lastWriteError.map { ", last: \($0)" } ?? "")))
        }
        return rows
    }

    private static func mebibytes(_ bytes: Int) -> String { Units.grouped(Double(bytes) / 1_048_576) + " MiB" }
}
