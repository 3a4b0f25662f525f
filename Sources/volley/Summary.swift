import Foundation
import VolleyModel

/// The human summary of a finished job, like iperf3's last lines: totals with thousands separators,
/// rates in pps and bit/s (payload bits, as `rate_bps` counts them), loss, jitter, RTT, errors by
/// category, then the verdict. Pure text from a result, so it is tested against golden text.
enum Summary {
    static func text(_ r: JobResult, interval: Bool = false) -> String {
        var lines = [header(r)]
        lines += counts(r)
        if interval { lines += table(r) }
        lines += verdict(r.verdict)
        return lines.joined(separator: "\n") + "\n"
    }

    static func header(_ r: JobResult) -> String {
        let spec = r.spec
        let place = spec.endpoint.map { (spec.mode.originates ? " to " : " on ") + $0.description } ?? ""
        return "volley \(spec.mode.rawValue)\(place): \(r.state.rawValue) after \(String(format: "%.2f", r.elapsedSeconds)) s"
    }

    static func label(_ name: String) -> String { "  " + name.padding(11) }

    static func counts(_ r: JobResult) -> [String] {
        var lines: [String] = []
        // The target in the unit it was asked in: a `--bitrate`/`rate_bps` job reads "of 50.0 Mbit/s asked".
        var target = r.rate.targetPPS > 0 ? " of \(HumanUnits.pps(Double(r.rate.targetPPS))) asked" : ""
        if let bps = r.spec.rateBPS { target = " of \(HumanUnits.bits(Double(bps))) asked (\(HumanUnits.pps(Double(r.rate.targetPPS))))" }
        let rates = "\(HumanUnits.pps(r.rate.achievedPPS))  \(HumanUnits.bits(r.rate.achievedBPS))\(target)"
        switch r.spec.mode {
        case .send, .echo:
            lines.append(label("sent") + "\(r.sent.packets.grouped) datagrams  \(r.sent.bytes.grouped) bytes  " + rates)
        case .sink, .reflect:
            lines.append(label("received") + "\(r.received.packets.grouped) datagrams  \(r.received.bytes.grouped) bytes  " + rates)
        }
        if r.spec.mode == .reflect {
            lines.append(label("answered") + "\(r.sent.packets.grouped) datagrams")
        }
        if let echo = r.echo {
            let ratio = echo.sent == 0 ? 0 : Double(echo.lost) / Double(echo.sent)
            lines.append(label("replies") + "\(echo.received.grouped) of \(echo.sent.grouped)  lost \(echo.lost.grouped) (\(HumanUnits.percent(ratio)))"
                         + extras(["late": echo.late, "duplicates": echo.duplicates, "reordered": echo.reordered]))
        }
        if let l = r.latency, l.count > 0 {
            lines.append(label("RTT") + "min \(l.min)  p50 \(l.p50)  p90 \(l.p90)  p99 \(l.p99)  p99.9 \(l.p999)  max \(l.max) µs")
        }
        // The echo's kernel warm-up (`warm_up`, on by default) could not be set up: its RTT then
        // carries the slower first system calls after a sleep, which the result alone says.
        if let error = r.io.warmUpError {
            lines.append(label("warm-up") + "off, the RTT above is without it: \(error)")
        }
        lines += StampSummary.lines(r)
        if let seq = r.sequence {
            let gaps = seq.senders.reduce(UInt64(0)) { $0.saturatingPlus($1.gaps) }
            let reached = seq.senders.reduce(UInt64(0)) { $0.saturatingPlus($1.gaps.saturatingPlus($1.unique)) }
            if reached > 0 {
                lines.append(label("loss") + "\(gaps.grouped) of \(reached.grouped) (\(HumanUnits.percent(Double(gaps) / Double(reached))))"
                             + " by sequence gaps of \(seq.senders.count.grouped) flow\(seq.senders.count == 1 ? "" : "s")"
                             + extras(["duplicates": seq.senders.reduce(0) { $0 &+ $1.duplicates },
                                       "reordered": seq.senders.reduce(0) { $0 &+ $1.reordered }]))
            }
            if let j = seq.jitterUs { lines.append(label("jitter") + HumanUnits.micros(j) + " (RFC 3550)") }
            if seq.unstamped > 0 { lines.append(label("unstamped") + "\(seq.unstamped.grouped) datagrams") }
        }
        if let drops = r.received.kernelDrops, drops > 0 {
            let buffer = r.io.receiveBufferBytes.map { " (receive buffer \(Int($0).grouped) bytes)" } ?? ""
            lines.append(label("dropped") + "\(drops.grouped) by this host's socket queue\(buffer)")
        }
        // Summed over the threads (and, in a fleet's result, the agents): no per-thread figure.
        if let w = r.io.workers {
            lines.append(label("CPU") + String(format: "%.2f s", w.cpuSeconds) + " used by the worker threads"
                         + "  (blocked \(w.voluntarySwitches.grouped) times, preempted \(w.involuntarySwitches.grouped))")
        }
        if let asked = r.spec.cpuLatencyMicroseconds {
            let held = r.io.cpuLatencyMicroseconds.map { "held to \($0) µs to wake (asked \(asked) µs)" }
            lines.append(label("idle CPUs") + (held ?? "not held: the kernel did not take the request for \(asked) µs"))
        }
        lines.append(label("errors") + errors(r) + extras(["skipped": r.sent.skipped ?? 0, "backoffs": r.sent.backoffs ?? 0]))
        return lines
    }

    /// Non-zero extra counts as "  (late 3, duplicates 1)", in a fixed order.
    static func extras(_ counts: KeyValuePairs<String, UInt64>) -> String {
        let shown = counts.filter { $0.value > 0 }.map { "\($0.key) \($0.value.grouped)" }
        return shown.isEmpty ? "" : "  (" + shown.joined(separator: ", ") + ")"
    }

    static func errors(_ r: JobResult) -> String {
        let parts = [("send", r.sent.errors), ("receive", r.received.errors)].compactMap { name, errors -> String? in
            let nonzero = errors.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            guard !nonzero.isEmpty else { return nil }
            return name + ": " + nonzero.map { "\($0.key) \($0.value.grouped)" }.joined(separator: ", ")
        }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }

    /// The per-second table (`--interval`), from the result's timeline.
    static func table(_ r: JobResult) -> [String] {
        guard !r.timeline.isEmpty else { return [] }
        let echo = r.spec.mode == .echo
        var lines = ["  " + "second".padding(8) + "sent".leftPad(12) + "received".leftPad(12) + "rate".leftPad(12)
                     + "bit/s".leftPad(14) + (echo ? "lost".leftPad(9) + "p50 µs".leftPad(9) + "p99 µs".leftPad(9) : "")]
        let bitsPerDatagram = r.spec.meanPayloadBytes * 8
        for e in r.timeline {
            var line = "  " + "\(e.t)-\(e.t + 1)".padding(8) + e.sent.grouped.leftPad(12) + e.received.grouped.leftPad(12)
                + HumanUnits.pps(e.achievedPPS).leftPad(12) + HumanUnits.bits(e.achievedPPS * bitsPerDatagram).leftPad(14)
            if echo {
                line += (e.lost?.grouped ?? "-").leftPad(9) + (e.rttP50.map(String.init) ?? "-").leftPad(9)
                    + (e.rttP99.map(String.init) ?? "-").leftPad(9)
            }
            lines.append(line)
        }
        return lines
    }

    static func verdict(_ v: Verdict?) -> [String] {
        guard let v else { return ["NO VERDICT (the job did not run)"] }
        var lines = [v.passed ? "PASSED" : "FAILED"]
        for check in v.failedThresholds { lines.append("  failed   \(check.message)") }
        for check in v.warnings { lines.append("  warning  \(check.message)") }
        return lines
    }
}

extension String {
    /// Right-aligns in `width` columns (one space kept before the text).
    func leftPad(_ width: Int) -> String {
        count >= width - 1 ? " " + self : String(repeating: " ", count: width - count) + self
    }
}

extension UInt64 {
    /// A sum that stops at the maximum: results may come from other agents and hold anything.
    func saturatingPlus(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
