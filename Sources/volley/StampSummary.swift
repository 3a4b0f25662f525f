import VolleyModel

/// The summary lines of STAMP jobs (RFC 8762): what the round trip leaves out for a Session-Sender —
/// turnaround, one-way delays when the clocks allow them, where loss happened — and what a
/// Session-Reflector did. Empty for jobs of Volley's own protocol.
enum StampSummary {
    static func lines(_ r: JobResult) -> [String] {
        if let s = r.stamp { return echo(s, late: r.echo?.late ?? 0) }
        if let reflect = r.reflect, let s = reflect.stamp { return reflector(s, refusedSessions: reflect.refusedSessions) }
        return []
    }

    static func echo(_ s: StampEchoReport, late: UInt64) -> [String] {
        var lines: [String] = []
        if let t = s.turnaroundUs, t.count > 0 {
            lines.append(Summary.label("turnaround") + "p50 \(t.p50)  p99 \(t.p99)  max \(t.max) µs (reflector T3 − T2, not in RTT)")
        }
        if s.oneWayValid, let f = s.forwardUs, let b = s.backwardUs {
            lines.append(Summary.label("one-way") + "forward p50 \(f.p50) p99 \(f.p99)  backward p50 \(b.p50) p99 \(b.p99) µs")
        } else {
            lines.append(Summary.label("one-way") + "not valid: " + s.oneWayNote)
        }
        let l = s.loss
        if l.attributed, let f = l.forward, let b = l.backward, let u = l.unknown {
            lines.append(Summary.label("lost where") + "forward \(f.grouped)  backward \(b.grouped)  late \(late.grouped)  unknown \(u.grouped)")
        } else {
            lines.append(Summary.label("lost where") + "not split: " + (l.note ?? "no reason given"))
        }
        return lines
    }

    static func reflector(_ s: StampReflectTotals, refusedSessions: UInt64) -> [String] {
        var kind = s.stateful ? "stateful" : "stateless"
        if s.stateful, let sessions = s.sessions { kind += ", \(sessions.grouped) session\(sessions == 1 ? "" : "s")" }
        var lines = [Summary.label("STAMP") + "\(kind), \(s.timestampFormat.rawValue) timestamps, clock "
                     + (s.clockSynchronized ? "synchronized" : "not synchronized")
                     + "  T2 kernel \(s.kernelReceiveTimestamps.grouped) app \(s.appReceiveTimestamps.grouped)"]
        let extra = Summary.extras(["TLVs unrecognized": s.tlvsUnrecognized, "TLVs malformed": s.tlvsMalformed,
                                    "sessions evicted": s.sessionsEvicted ?? 0, "sessions refused": refusedSessions])
        if !extra.isEmpty { lines[0] += extra }
        return lines
    }
}
