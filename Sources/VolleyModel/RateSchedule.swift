/// A job's rate over time (or one worker's share of it): constant, stepped or ramped. `due(at:)` is the
/// number of datagrams that should have been sent by then (the integral of the rate).
public struct RateSchedule: Sendable {
    struct Segment: Sendable {
        var startNanos: UInt64
        var endNanos: UInt64
        var fromRate: Double
        var toRate: Double
        /// Datagrams due at `startNanos`.
        var base: Double
    }

    /// nil: as fast as possible.
    let segments: [Segment]?

    /// - Parameter share: this worker's fraction of the job's rate (1 / threads).
    public init(spec: JobSpec, share: Double = 1) {
        guard let profile = spec.profile else {
            segments = spec.ratePPS == 0 ? nil : [Segment(
                startNanos: 0, endNanos: UInt64(spec.durationSeconds * 1e9),
                fromRate: Double(spec.ratePPS) * share, toRate: Double(spec.ratePPS) * share, base: 0)]
            return
        }
        var list: [Segment] = []
        var start: UInt64 = 0
        var previous = 0.0
        var base = 0.0
        for step in profile {
            let end = start + UInt64(step.durationSeconds * 1e9)
            let target = Double(step.ratePPS ?? step.rampToPPS ?? 0) * share
            let from = step.ratePPS != nil ? target : previous
            list.append(Segment(startNanos: start, endNanos: end, fromRate: from, toRate: target, base: base))
            base += (from + target) / 2 * step.durationSeconds
            previous = target
            start = end
        }
        segments = list
    }

    public var isUnlimited: Bool { segments == nil }

    /// Datagrams due `elapsed` ns after the start.
    @inline(__always)
    public func due(at elapsed: UInt64) -> Double {
        guard let segments else { return .infinity }
        for s in segments where elapsed < s.endNanos {
            let t = Double(elapsed - s.startNanos) / 1e9
            let length = Double(s.endNanos - s.startNanos) / 1e9
            return s.base + s.fromRate * t + (s.toRate - s.fromRate) * t * t / (2 * length)
        }
        guard let last = segments.last else { return 0 }
        let length = Double(last.endNanos - last.startNanos) / 1e9
        return last.base + (last.fromRate + last.toRate) / 2 * length
    }

    /// The rate (datagrams/s) `elapsed` ns after the start.
    @inline(__always)
    public func rate(at elapsed: UInt64) -> Double {
        guard let segments else { return .infinity }
        for s in segments where elapsed < s.endNanos {
            let fraction = Double(elapsed - s.startNanos) / Double(s.endNanos - s.startNanos)
            return s.fromRate + (s.toRate - s.fromRate) * fraction
        }
        return 0
    }
}
