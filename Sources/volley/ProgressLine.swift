import ArgumentParser
import Foundation
import Glibc
import VolleyModel

/// How progress is shown: refreshed in place on a terminal, a line a second for CI logs, or not at all.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// `tty` when stderr is a terminal, else `none`: progress is for a person watching, and stderr is
    /// where it goes, so `--wait > result.json` still shows it.
    case auto
    case tty
    case plain
    case none

    var resolved: ProgressMode {
        guard self == .auto else { return self }
        return isatty(STDERR_FILENO) == 1 ? .tty : .none
    }
}

/// Renders a job's progress on stderr: the last second's rate (not an average since the start, so a
/// ramp or a stall shows), in pps and bit/s against the target, the counts and, for echo, the share
/// still unanswered and the RTT p50/p99 of the latest finished second (the engine settles a second
/// once every receiving thread has moved past it, so the figures trail by about a second).
struct ProgressLine {
    let mode: ProgressMode
    let spec: JobSpec
    private var lastPlain = -1.0
    private var window = RateWindow()
    private var shown = false

    init(mode: ProgressMode, spec: JobSpec) {
        self.mode = mode.resolved
        self.spec = spec
    }

    static func text(_ p: JobProgress, spec: JobSpec, rate: (pps: Double, bps: Double)) -> String {
        var target = ""
        if spec.profile == nil { target = spec.ratePPS > 0 ? " of \(HumanUnits.pps(Double(spec.ratePPS)))" : " (max)" }
        var parts = [
            String(format: "%5.1f/%.1f s", p.elapsedSeconds, spec.totalSeconds),
            "\(HumanUnits.pps(rate.pps)) \(HumanUnits.bits(rate.bps))" + (spec.mode.originates ? target : ""),
            "sent \(p.packetsSent.grouped)",
            "received \(p.packetsReceived.grouped)",
        ]
        if spec.mode == .echo {
            let missing = p.packetsSent > p.packetsReceived ? p.packetsSent - p.packetsReceived : 0
            let share = p.packetsSent == 0 ? 0 : Double(missing) / Double(p.packetsSent)
            parts.append("unanswered \(missing.grouped) (\(HumanUnits.percent(share)))")
            if let rtt = p.rtt { parts.append("RTT p50 \(rtt.p50.grouped) µs p99 \(rtt.p99.grouped) µs") }
        }
        return parts.joined(separator: "  ")
    }

    mutating func show(_ p: JobProgress) {
        let counted = spec.mode.originates ? (p.packetsSent, p.bytesSent) : (p.packetsReceived, p.bytesReceived)
        let rate = window.add(seconds: p.elapsedSeconds, packets: counted.0, bytes: counted.1)
        switch mode {
        case .tty:
            shown = true
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + Self.text(p, spec: spec, rate: rate)).utf8))
        case .plain:
            guard p.elapsedSeconds - lastPlain >= 1 else { return }
            lastPlain = p.elapsedSeconds
            FileHandle.standardError.write(Data((Self.text(p, spec: spec, rate: rate) + "\n").utf8))
        case .none, .auto:
            break
        }
    }

    /// Clears the refreshed line, so the summary starts on a clean line.
    func finish() {
        if mode == .tty && shown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}

/// The rate over the last second from samples of running totals: the newest sample at least a
/// second old is the base (since the start during the first second).
struct RateWindow {
    private var samples: [(seconds: Double, packets: UInt64, bytes: UInt64)] = []

    mutating func add(seconds: Double, packets: UInt64, bytes: UInt64) -> (pps: Double, bps: Double) {
        samples.append((seconds, packets, bytes))
        // Keep one sample at least a second old, and the ones after it.
        while samples.count > 2 && samples[1].seconds <= seconds - 1 { samples.removeFirst() }
        let base = samples[0].seconds <= seconds - 1 ? samples[0] : (seconds: 0, packets: 0, bytes: 0)
        let span = seconds - base.seconds
        guard span > 0, packets >= base.packets, bytes >= base.bytes else { return (0, 0) }
        return (Double(packets - base.packets) / span, Double(bytes - base.bytes) * 8 / span)
    }
}

extension BinaryInteger {
    /// 1234567 → "1,234,567".
    var grouped: String {
        let digits = String(self)
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}
