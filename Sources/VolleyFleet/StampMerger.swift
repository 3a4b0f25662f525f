import VolleyModel

/// Merging the STAMP sections of several agents' results (RFC 8762): delays from the sum of the
/// agents' HDR histograms, as `latency_us` is; counts summed; a claim (one-way delays valid, loss
/// split by direction, clocks synchronized) holds for the fleet only when it held on every agent.
extension ResultMerger {
    /// The merged `stamp` of STAMP echo results; nil when no agent has one.
    static func stamp(_ results: [JobResult]) throws(Failure) -> StampEchoReport? {
        let reports = results.compactMap(\.stamp)
        guard let first = reports.first else { return nil }
        // An agent without a section (it ran no STAMP, or an older version) leaves the fleet's claims unproven.
        let complete = reports.count == results.count
        let formats = Set(reports.compactMap(\.reflectorTimestampFormat))
        let reflectorSync = reports.compactMap(\.reflectorClockSynchronized)
        let oneWay = complete && reports.allSatisfy(\.oneWayValid)
        let note: String
        if oneWay {
            note = Set(reports.map(\.oneWayNote)).count == 1 ? first.oneWayNote : "every agent's clocks allowed one-way delays"
        } else if let (r, s) = zip(results, results.map(\.stamp)).first(where: { $0.1?.oneWayValid != true }) {
            note = "not valid on every agent; job \(r.id): " + (s?.oneWayNote ?? "no STAMP section")
        } else {
            note = "not valid on every agent"
        }
        let histograms = results.contains { $0.stamp?.turnaroundUs != nil }
        return StampEchoReport(
            // Each agent draws its own SSID unless the spec names one: the first agent's stands for them.
            ssid: first.ssid, timestampFormat: first.timestampFormat,
            reflectorTimestampFormat: formats.count > 1 ? "mixed" : formats.first,
            senderClockSynchronized: complete && reports.allSatisfy(\.senderClockSynchronized),
            reflectorClockSynchronized: reflectorSync.isEmpty ? nil : reflectorSync.allSatisfy { $0 },
            sharedClock: complete && reports.allSatisfy(\.sharedClock), oneWayValid: oneWay, oneWayNote: note,
            turnaroundUs: histograms ? try latency(results, \.stamp?.turnaroundUs) : nil,
            forwardUs: oneWay ? try latency(results, \.stamp?.forwardUs) : nil,
            backwardUs: oneWay ? try latency(results, \.stamp?.backwardUs) : nil,
            negativeOneWay: reports.reduce(0) { plus($0, $1.negativeOneWay) },
            turnaroundOverRTT: reports.reduce(0) { plus($0, $1.turnaroundOverRTT) },
            loss: loss(results))
    }

    /// Summed when every agent split its loss; otherwise only round-trip loss (`echo.lost`) is known.
    static func loss(_ results: [JobResult]) -> StampLoss {
        let split = results.filter { $0.stamp?.loss.attributed == true }
        guard split.count == results.count else {
            let other = results.first { $0.stamp?.loss.attributed != true }!
            return StampLoss(attributed: false, note: "\(results.count - split.count) of \(results.count) agents could not split loss; job \(other.id): "
                                 + (other.stamp?.loss.note ?? "no STAMP section"))
        }
        let sum = { (key: KeyPath<StampLoss, UInt64?>) in split.reduce(UInt64(0)) { plus($0, $1.stamp!.loss[keyPath: key] ?? 0) } }
        return StampLoss(attributed: true, forward: sum(\StampLoss.forward), backward: sum(\StampLoss.backward),
                         unknown: sum(\StampLoss.unknown))
    }

    /// A sum that stops at the maximum: other agents' results may hold anything.
    private static func plus(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// The merged `reflect` of reflect results: refusals summed; the reply cap the sum of the
    /// agents' when all had one; a STAMP clock synchronized only when every agent's was.
    static func reflect(_ results: [JobResult]) -> ReflectTotals? {
        let all = results.compactMap(\.reflect)
        guard !all.isEmpty else { return nil }
        var merged = ReflectTotals()
        for r in all { merged.merge(r) }
        let caps = all.compactMap(\.replyCapPPS)
        merged.replyCapPPS = caps.count == all.count ? caps.reduce(0) { $0 > Int.max - $1 ? Int.max : $0 + $1 } : nil
        if merged.stamp != nil {
            let stamps = all.compactMap(\.stamp)
            merged.stamp!.clockSynchronized = stamps.count == all.count && stamps.allSatisfy(\.clockSynchronized)
        }
        return merged
    }
}
