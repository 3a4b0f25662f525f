/// Whether a finished job passed (`"verdict"` in a result): every threshold of the spec checked
/// against the result, plus default checks that only warn (they never fail a job on their own).
public struct Verdict: Codable, Equatable, Sendable {
    /// A threshold from the spec decides `passed`; a warning is Volley's own sanity check.
    public enum Severity: String, Codable, Sendable {
        case threshold
        case warning
    }

    /// One bound checked against one measured value.
    public struct Check: Codable, Equatable, Sendable {
        public var metric: Thresholds.Metric
        public var bound: Thresholds.Bound
        /// The measured value; null when the job measured nothing to compare (which fails the check).
        public var value: Double?
        public var passed: Bool
        public var severity: Severity
        /// One line a person reads, e.g. `loss_ratio 0.0123 is above max 0.001`.
        public var message: String

        public init(metric: Thresholds.Metric, bound: Thresholds.Bound, value: Double?, severity: Severity, why: String? = nil) {
            self.metric = metric
            self.bound = bound
            self.value = value
            self.severity = severity
            passed = value.map { bound.admits($0) } ?? false
            message = Self.describe(metric, bound, value, passed: passed, why: why)
        }

        static func describe(_ metric: Thresholds.Metric, _ bound: Thresholds.Bound, _ value: Double?, passed: Bool,
                             why: String?) -> String {
            guard let value else { return "\(metric.rawValue): nothing measured" + (why.map { " (\($0))" } ?? "") }
            let shown = "\(metric.rawValue) \(format(value))"
            if let max = bound.max, value > max { return "\(shown) is above max \(format(max))" + (why.map { ": \($0)" } ?? "") }
            if let min = bound.min, value < min { return "\(shown) is below min \(format(min))" + (why.map { ": \($0)" } ?? "") }
            let limits = [bound.min.map { "min \(format($0))" }, bound.max.map { "max \(format($0))" }].compactMap { $0 }
            return "\(shown) is within \(limits.joined(separator: ", "))"
        }

        /// Whole numbers without a fraction, ratios with enough digits to tell 0.0001 from 0.
        static func format(_ v: Double) -> String {
            if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
            var text = String(v)
            if text.contains("e") { return text }
            // Trim binary noise such as 0.30000000000000004 to 6 significant digits.
            let digits = v < 1 ? 6 : 4
            let scale = Double.pow10(digits)
            text = String((v * scale).rounded() / scale)
            return text
        }
    }

    /// True when every threshold check passed (warnings do not count).
    public var passed: Bool
    public var checks: [Check]

    public init(checks: [Check]) {
        self.checks = checks
        passed = checks.allSatisfy { $0.passed || $0.severity == .warning }
    }

    public var failedThresholds: [Check] { checks.filter { !$0.passed && $0.severity == .threshold } }
    public var warnings: [Check] { checks.filter { !$0.passed && $0.severity == .warning } }

    /// Default checks that warn when a job plainly did not do what was asked. A metric the spec
    /// bounds itself is not also warned about.
    static func defaultWarnings(for spec: JobSpec) -> [(Thresholds.Metric, Thresholds.Bound, String)] {
        var out: [(Thresholds.Metric, Thresholds.Bound, String)] = []
        if spec.mode == .echo || spec.mode == .sink {
            out.append((.lossRatio, .init(max: 0.5), "more than half of the datagrams were lost"))
        }
        if Thresholds.Metric.rateRatio.applies(to: spec) {
            out.append((.rateRatio, .init(min: 0.5), "the rate reached is below half the target"))
        }
        if spec.mode.originates {
            out.append((.errorRatio, .init(max: 0.1), "many send calls failed (see sent.errors)"))
        }
        if spec.mode == .sink || spec.mode == .reflect {
            out.append((.received, .init(min: 1), "nothing arrived"))
        }
        return out
    }

    /// Checks `result` against its spec's thresholds and the default warnings.
    public static func evaluate(_ result: JobResult) -> Verdict {
        let spec = result.spec
        let bounds = spec.thresholds?.bounds ?? [:]
        var checks = bounds.sorted { $0.key < $1.key }.map { metric, bound in
            let (value, why) = measure(metric, in: result)
            return Check(metric: metric, bound: bound, value: value, severity: .threshold, why: why)
        }
        for (metric, bound, why) in defaultWarnings(for: spec) where bounds[metric] == nil {
            let (value, _) = measure(metric, in: result)
            // A warning on a metric with nothing measured says nothing useful: leave it out.
            guard value != nil else { continue }
            checks.append(Check(metric: metric, bound: bound, value: value, severity: .warning, why: why))
        }
        return Verdict(checks: checks)
    }

    /// The metric's value in `result`, or nil with the reason it was not measured.
    static func measure(_ metric: Thresholds.Metric, in r: JobResult) -> (Double?, String?) {
        let seqs = r.sequence?.senders ?? []
        switch metric {
        case .lossRatio:
            if let echo = r.echo {
                return echo.sent == 0 ? (nil, "no datagram was sent") : (Double(echo.lost) / Double(echo.sent), nil)
            }
            let reached = seqs.reduce(UInt64(0)) { $0.addingSaturated($1.gaps.addingSaturated($1.unique)) }
            let gaps = seqs.reduce(UInt64(0)) { $0.addingSaturated($1.gaps) }
            return reached == 0 ? (nil, "no stamped datagram arrived, so no sequence numbers to miss") : (Double(gaps) / Double(reached), nil)
        case .rttP50, .rttP90, .rttP99, .rttP999, .rttMax:
            guard let l = r.latency, l.count > 0 else { return (nil, "no reply came back") }
            let v: UInt64 = switch metric {
            case .rttP50: l.p50
            case .rttP90: l.p90
            case .rttP99: l.p99
            case .rttP999: l.p999
            default: l.max
            }
            return (Double(v), nil)
        case .rateRatio:
            guard r.rate.targetPPS > 0 else { return (nil, "the job had no target rate") }
            return (r.rate.achievedPPS / Double(r.rate.targetPPS), nil)
        case .errors:
            let total = (Array(r.sent.errors.values) + Array(r.received.errors.values)).reduce(UInt64(0)) { $0.addingSaturated($1) }
            return (Double(total), nil)
        case .errorRatio:
            let failed = r.sent.errors.values.reduce(UInt64(0)) { $0.addingSaturated($1) }
            let attempts = failed.addingSaturated(r.sent.packets)
            return attempts == 0 ? (nil, "nothing was sent") : (Double(failed) / Double(attempts), nil)
        case .duplicates:
            if let echo = r.echo { return (Double(echo.duplicates), nil) }
            return (Double(seqs.reduce(UInt64(0)) { $0.addingSaturated($1.duplicates) }), nil)
        case .reordered:
            if let echo = r.echo { return (Double(echo.reordered), nil) }
            return (Double(seqs.reduce(UInt64(0)) { $0.addingSaturated($1.reordered) }), nil)
        case .sent:
            return (Double(r.sent.packets), nil)
        case .received:
            return (Double(r.echo?.received ?? r.received.packets), nil)
        }
    }
}

private extension Double {
    static func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { acc, _ in acc * 10 } }
}
