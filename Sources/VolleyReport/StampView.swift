import VolleyModel

/// The STAMP section of a report (RFC 8762): for a Session-Sender (echo job) what the round trip
/// leaves out — the reflector's turnaround, one-way delays when the clocks allow them, where loss
/// happened — and for a Session-Reflector (reflect job) its sessions, timestamps and TLVs.
/// Empty for jobs of Volley's own protocol.
enum StampView {
    static func html(_ r: JobResult) -> String {
        if let s = r.stamp { return echo(s, r) }
        if let reflect = r.reflect, let s = reflect.stamp { return reflector(s, reflect) }
        return ""
    }

    static func echo(_ s: StampEchoReport, _ r: JobResult) -> String {
        let g = Units.grouped as (UInt64) -> String
        var out = "<h2>STAMP (RFC 8762)</h2><p>Round-trip time above leaves out the reflector's turnaround: "
            + "(T4 − T1) − (T3 − T2).</p>"
        var rows: [[String]] = []
        if let t = s.turnaroundUs { rows.append(row("turnaround T3 − T2", t)) }
        if let f = s.forwardUs { rows.append(row("forward T2 − T1", f)) }
        if let b = s.backwardUs { rows.append(row("backward T4 − T3", b)) }
        if !rows.isEmpty {
            out += ReportPage.grid("STAMP delays (µs)", header: ["", "count", "min", "p50", "p90", "p99", "p99.9", "max"], rows: rows)
        }
        out += ReportPage.table("STAMP session", [
            ("SSID", String(s.ssid)),
            ("one-way delays", (s.oneWayValid ? "valid: " : "not shown: ") + s.oneWayNote),
            ("timestamps", "this side \(s.timestampFormat.rawValue), reflector \(s.reflectorTimestampFormat ?? "unknown (no reply)")"),
            ("clocks synchronized", "this side \(yesNo(s.senderClockSynchronized)), reflector "
                + (s.reflectorClockSynchronized.map(yesNo) ?? "unknown (no reply)")
                + (s.sharedClock ? "; both on this host (one clock)" : "")),
            ("loss by direction", loss(s.loss, echo: r.echo)),
            ("clock anomalies", "\(g(s.negativeOneWay)) negative one-way values, \(g(s.turnaroundOverRTT)) turnarounds longer than the round trip"),
        ])
        return out
    }

    static func reflector(_ s: StampReflectTotals, _ reflect: ReflectTotals) -> String {
        let g = Units.grouped as (UInt64) -> String
        var rows: [(String, String)] = [
            ("reflector", s.stateful ? "stateful (per-session sequence numbers)" : "stateless"),
            ("timestamps", "\(s.timestampFormat.rawValue), clock \(s.clockSynchronized ? "synchronized (S bit set)" : "not synchronized (S bit clear)")"),
            ("T2 source", "kernel receive timestamp \(g(s.kernelReceiveTimestamps)), application clock \(g(s.appReceiveTimestamps))"),
            ("TLVs", "unrecognized \(g(s.tlvsUnrecognized)) (U flag), malformed \(g(s.tlvsMalformed)) (M flag)"),
        ]
        if s.stateful {
            rows.append(("sessions", "\(s.sessions.map(Units.grouped) ?? "-") tracked of \(s.sessionLimit.map(Units.grouped) ?? "-") per thread, "
                + "\(g(s.sessionsEvicted ?? 0)) evicted idle, \(g(reflect.refusedSessions)) datagrams refused (table full)"))
        }
        return "<h2>STAMP reflector (RFC 8762)</h2>" + ReportPage.table("STAMP session-reflector", rows)
    }

    /// What a person should not miss: clock trouble that bent figures, sessions turned away.
    static func warnings(_ r: JobResult) -> [String] {
        var out: [String] = []
        if let s = r.stamp {
            if s.turnaroundOverRTT > 0 {
                out.append("\(Units.grouped(s.turnaroundOverRTT)) STAMP replies had a turnaround longer than their round trip (round trip recorded as 0)")
            }
            if s.negativeOneWay > 0 {
                out.append("\(Units.grouped(s.negativeOneWay)) STAMP one-way delays were negative (clock error; recorded as 0)")
            }
        }
        if let refused = r.reflect?.refusedSessions, refused > 0 {
            out.append("\(Units.grouped(refused)) STAMP datagrams of new sessions refused: the session table was full")
        }
        return out
    }

    /// `forward + backward + late + unknown = lost` when attributed; the reason otherwise.
    static func loss(_ l: StampLoss, echo: EchoTotals?) -> String {
        let g = Units.grouped as (UInt64) -> String
        guard l.attributed, let f = l.forward, let b = l.backward, let u = l.unknown else {
            return "not split: " + (l.note ?? "no reason given")
        }
        let late = echo?.late ?? 0
        return "forward \(g(f)), backward \(g(b)), late \(g(late)), unknown \(g(u))"
            + (echo.map { " (of \(g($0.lost)) lost)" } ?? "")
    }

    private static func row(_ name: String, _ l: LatencySummary) -> [String] {
        let g = Units.grouped as (UInt64) -> String
        return [name, g(l.count), g(l.min), g(l.p50), g(l.p90), g(l.p99), g(l.p999), g(l.max)]
    }

    private static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }
}
