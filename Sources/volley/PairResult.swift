import Foundation
import VolleyModel

/// The one result of `volley pair`: both jobs' results, the loss between them, the sink's jitter,
/// and one verdict (`{"sender":…, "receiver":…, "loss_ratio":…, "jitter_us":…, "verdict":…}`).
struct PairResult: Encodable {
    var sender: JobResult
    var receiver: JobResult
    /// Datagrams sent that the receiver did not count, over datagrams sent (echo: replies missing).
    var lossRatio: Double?
    /// Sink+send: the sink's RFC 3550 jitter of this sender's flows, in µs.
    var jitterUs: Double?
    /// The sender's checks, plus (sink+send) the loss between the two: a threshold with `--max-loss`,
    /// else a warning above one half, as a single job warns.
    var verdict: Verdict

    init(sender: JobResult, receiver: JobResult, maxLoss: Double?) {
        self.sender = sender
        self.receiver = receiver
        var checks = sender.verdict?.checks ?? []
        if let echo = sender.echo {
            lossRatio = echo.sent == 0 ? nil : Double(echo.lost) / Double(echo.sent)
        } else {
            // Only this sender's flows count (by its job tag); anything else that reached the port does not.
            let flows = (receiver.sequence?.senders ?? []).filter { sender.jobTag == nil || $0.jobTag == sender.jobTag }
            let counted = flows.reduce(UInt64(0)) { $0.saturatingPlus($1.unique) }
            let sent = sender.sent.packets
            lossRatio = sent == 0 ? nil : Double(sent > counted ? sent - counted : 0) / Double(sent)
            jitterUs = SequenceReport.weightedJitter(flows)
            let bound = Thresholds.Bound(max: maxLoss ?? 0.5)
            checks.append(Verdict.Check(metric: .lossRatio, bound: bound, value: lossRatio,
                                        severity: maxLoss == nil ? .warning : .threshold,
                                        why: maxLoss == nil ? "more than half of the datagrams were lost" : nil))
        }
        verdict = Verdict(checks: checks)
    }

    enum CodingKeys: String, CodingKey {
        case sender, receiver, verdict
        case lossRatio = "loss_ratio"
        case jitterUs = "jitter_us"
    }
}

/// The human summary of a pair: the sender's lines, what the receiver counted, loss, jitter, verdict.
enum PairSummary {
    static func text(_ p: PairResult, interval: Bool = false) -> String {
        let s = p.sender
        let receiverMode = p.receiver.spec.mode.rawValue
        let place = s.spec.endpoint.map { " on \($0)" } ?? ""
        var lines = ["volley pair (\(receiverMode) + \(s.spec.mode.rawValue))\(place): \(s.state.rawValue) after "
                     + String(format: "%.2f", s.elapsedSeconds) + " s"]
        var senderLines = Summary.counts(s)
        let errors = senderLines.removeLast()
        lines += senderLines
        let r = p.receiver
        if s.spec.mode == .send {
            lines.append(Summary.label("received") + "\(r.received.packets.grouped) datagrams  \(r.received.bytes.grouped) bytes")
            if let loss = p.lossRatio {
                let sent = s.sent.packets
                let lost = UInt64((loss * Double(sent)).rounded())
                lines.append(Summary.label("loss") + "\(lost.grouped) of \(sent.grouped) (\(HumanUnits.percent(loss)))")
            }
            if let j = p.jitterUs { lines.append(Summary.label("jitter") + HumanUnits.micros(j) + " (RFC 3550)") }
        } else {
            lines.append(Summary.label("reflected") + "\(r.sent.packets.grouped) of \(r.received.packets.grouped) datagrams")
            lines += StampSummary.lines(r)
        }
        lines.append(errors)
        if interval { lines += Summary.table(s) }
        lines += Summary.verdict(p.verdict)
        return lines.joined(separator: "\n") + "\n"
    }
}
