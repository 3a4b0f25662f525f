/// Pass/fail bounds on a job's metrics (`"thresholds"` in a spec), k6's idea with Volley's metrics:
/// `{"loss_ratio": {"max": 0.001}, "rtt_us.p99": {"max": 500}, "rate_ratio": {"min": 0.99}}`.
/// The agent checks them when the job ends and writes the outcome as the result's `verdict`.
public struct Thresholds: Sendable, Equatable {
    /// What a threshold can bound. The raw value is the key in the spec.
    public enum Metric: String, Sendable, CaseIterable, Codable, Comparable {
        /// Datagrams lost over datagrams sent: echo replies that never came in time, or for a sink
        /// the sequence gaps of stamped senders over the sequence numbers they reached.
        case lossRatio = "loss_ratio"
        case rttP50 = "rtt_us.p50"
        case rttP90 = "rtt_us.p90"
        case rttP99 = "rtt_us.p99"
        case rttP999 = "rtt_us.p999"
        case rttMax = "rtt_us.max"
        /// Achieved rate over the asked-for rate (`rate_pps`, `rate_bps` or a profile's average).
        case rateRatio = "rate_ratio"
        /// Failed send and receive calls, all categories together.
        case errors
        /// Failed send calls over all send attempts (failed calls plus datagrams sent).
        case errorRatio = "error_ratio"
        case duplicates
        case reordered
        /// Datagrams sent, or received, in all.
        case sent
        case received

        public static func < (a: Metric, b: Metric) -> Bool { a.rawValue < b.rawValue }

        /// Whether the metric is measured for a job of `spec`'s mode (and rate).
        public func applies(to spec: JobSpec) -> Bool {
            switch self {
            case .lossRatio, .duplicates, .reordered: return spec.mode == .echo || spec.mode == .sink
            case .rttP50, .rttP90, .rttP99, .rttP999, .rttMax: return spec.mode == .echo
            case .rateRatio: return spec.mode.originates && (spec.ratePPS != JobSpec.unlimitedRate || spec.profile != nil)
            case .errorRatio, .sent: return spec.mode.originates || spec.mode == .reflect
            case .received: return spec.mode != .send
            case .errors: return true
            }
        }

        /// Where the metric means something, for error messages.
        var appliesText: String {
            switch self {
            case .lossRatio, .duplicates, .reordered: return "echo and sink jobs"
            case .rttP50, .rttP90, .rttP99, .rttP999, .rttMax: return "echo jobs"
            case .rateRatio: return "send and echo jobs with a target rate (not \"max\")"
            case .errorRatio, .sent: return "send, echo and reflect jobs"
            case .received: return "echo, sink and reflect jobs"
            case .errors: return "every job"
            }
        }

        /// Ratios lie in 0…1 (rate_ratio may exceed 1); everything else is a count or microseconds.
        var isRatio: Bool { self == .lossRatio || self == .errorRatio }
    }

    /// Inclusive limits: the value must be ≥ `min` and ≤ `max` (either may be absent, not both).
    public struct Bound: Sendable, Equatable, Codable {
        public var min: Double?
        public var max: Double?

        public init(min: Double? = nil, max: Double? = nil) {
            self.min = min
            self.max = max
        }

        public func admits(_ value: Double) -> Bool {
            (min.map { value >= $0 } ?? true) && (max.map { value <= $0 } ?? true)
        }
    }

    /// At most one bound per metric, in the spec's order of keys sorted by name (so stored specs compare equal).
    public var bounds: [Metric: Bound]

    public init(_ bounds: [Metric: Bound] = [:]) { self.bounds = bounds }

    public var isEmpty: Bool { bounds.isEmpty }

    /// Checks every bound against the spec's mode, naming the field (`thresholds.rtt_us.p99`).
    public func validate(for spec: JobSpec) throws(SpecError) {
        for (metric, bound) in bounds.sorted(by: { $0.key < $1.key }) {
            let field = "thresholds.\(metric.rawValue)"
            guard metric.applies(to: spec) else {
                throw SpecError(field: field, "threshold '\(metric.rawValue)' is measured for \(metric.appliesText), not for this \(spec.mode.rawValue) job")
            }
            guard bound.min != nil || bound.max != nil else {
                throw SpecError(field: field, "field '\(field)' needs \"min\", \"max\" or both, e.g. {\"max\": 0.001}")
            }
            for (side, value) in [("min", bound.min), ("max", bound.max)] {
                guard let value else { continue }
                guard value.isFinite, value >= 0 else {
                    throw SpecError(field: "\(field).\(side)", "field '\(field).\(side)' must be a number of 0 or more, not \(value)")
                }
                if metric.isRatio && value > 1 {
                    throw SpecError(field: "\(field).\(side)", "field '\(field).\(side)' is a ratio from 0 to 1 (0.001 is 0.1 %), not \(value)")
                }
            }
            if let lo = bound.min, let hi = bound.max, lo > hi {
                throw SpecError(field: field, "field '\(field)' has min \(lo) above max \(hi); no value could pass")
            }
        }
    }
}

extension Thresholds: Codable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Refuses unknown metrics and unknown keys inside a bound, naming them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var bounds: [Metric: Bound] = [:]
        for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            let field = "thresholds.\(key.stringValue)"
            guard let metric = Metric(rawValue: key.stringValue) else {
                let hint = key.stringValue == "rtt_us" ? " (name the percentile: \"rtt_us.p99\")" : ""
                let known = Metric.allCases.map(\.rawValue).joined(separator: ", ")
                throw SpecError(field: field, "unknown threshold '\(key.stringValue)'\(hint); known: \(known)")
            }
            let inner: KeyedDecodingContainer<Key>
            do {
                inner = try c.nestedContainer(keyedBy: Key.self, forKey: key)
            } catch {
                throw SpecError(field: field, "field '\(field)' must be an object such as {\"max\": 0.001} or {\"min\": 0.99}")
            }
            var bound = Bound()
            for side in inner.allKeys {
                guard side.stringValue == "min" || side.stringValue == "max" else {
                    throw SpecError(field: "\(field).\(side.stringValue)", "unknown field '\(side.stringValue)' in \(field): use min and/or max")
                }
                let value: Double
                do {
                    value = try inner.decode(Double.self, forKey: side)
                } catch {
                    throw SpecError(field: "\(field).\(side.stringValue)", "field '\(field).\(side.stringValue)' must be a number")
                }
                if side.stringValue == "min" { bound.min = value } else { bound.max = value }
            }
            bounds[metric] = bound
        }
        self.bounds = bounds
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (metric, bound) in bounds.sorted(by: { $0.key < $1.key }) {
            try c.encode(bound, forKey: Key(stringValue: metric.rawValue))
        }
    }
}
