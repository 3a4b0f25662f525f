import ArgumentParser
import Foundation
import Glibc
import VolleyModel

/// How progress is shown: refreshed in place on a terminal, a line a second for CI logs, or not at all.
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    /// `tty` when stdout is a terminal, else `none` (so only the result reaches a pipe).
    case auto
    case tty
    case plain
    case none

    var resolved: ProgressMode {
        guard self == .auto else { return self }
        return isatty(STDOUT_FILENO) == 1 ? .tty : .none
    }
}

/// Renders a job's progress on stderr.
struct ProgressLine {
    let mode: ProgressMode
    let spec: JobSpec
    private var lastPlain = -1.0

    init(mode: ProgressMode, spec: JobSpec) {
        self.mode = mode.resolved
        self.spec = spec
    }

    static func text(_ p: JobProgress, spec: JobSpec, p99: UInt64? = nil) -> String {
        let counted = spec.mode.originates ? p.packetsSent : p.packetsReceived
        let rate = p.elapsedSeconds > 0 ? Double(counted) / p.elapsedSeconds : 0
        var parts = [
            String(format: "%5.1f/%.1f s", p.elapsedSeconds, spec.totalSeconds),
            "\(Int(rate).grouped) pps",
            "sent \(p.packetsSent.grouped)",
            "received \(p.packetsReceived.grouped)",
        ]
        if spec.mode == .echo {
            let missing = p.packetsSent > p.packetsReceived ? p.packetsSent - p.packetsReceived : 0
            parts.append("unanswered \(missing.grouped)")
        }
        if let p99 { parts.append("RTT p99 \(p99) µs") }
        return parts.joined(separator: "  ")
    }

    mutating func show(_ p: JobProgress) {
        switch mode {
        case .tty:
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + Self.text(p, spec: spec)).utf8))
        case .plain:
            guard p.elapsedSeconds - lastPlain >= 1 else { return }
            lastPlain = p.elapsedSeconds
            FileHandle.standardError.write(Data((Self.text(p, spec: spec) + "\n").utf8))
        case .none, .auto:
            break
        }
    }

    /// The last word: the final counts (and RTT p99 for echo), then a newline on a terminal.
    func finish(_ result: JobResult) {
        guard mode == .tty || mode == .plain else { return }
        let p = JobProgress(packetsSent: result.sent.packets, packetsReceived: result.received.packets,
                            bytesSent: result.sent.bytes, bytesReceived: result.received.bytes,
                            elapsedSeconds: result.elapsedSeconds)
        let line = Self.text(p, spec: spec, p99: result.latency?.p99) + "  \(result.state.rawValue)"
        FileHandle.standardError.write(Data(((mode == .tty ? "\r\u{1B}[2K" : "") + line + "\n").utf8))
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
