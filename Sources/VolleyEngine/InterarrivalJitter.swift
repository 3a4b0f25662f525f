/// RFC 3550 §6.4.1 interarrival jitter of one flow: J += (|D| − J) / 16 with
/// D = (Rj − Ri) − (Sj − Si), the change in one-way transit time between consecutive arrivals.
///
/// S is the stamp's send time on the sender's monotonic clock and R the arrival time on ours: the
/// clocks differ by an unknown offset, which cancels in D. A stamp may carry any send time (a hostile
/// or broken sender), so transit times are kept with wrapping arithmetic — differences of wrapped
/// values are still exact whenever the true difference fits in an Int64 — and |D| is clamped to
/// `maxStepNanos`, so one absurd stamp moves J by at most a sixteenth of a minute and nothing traps.
/// A plain value: no allocation, safe on the per-datagram path, and testable with made-up times.
struct InterarrivalJitter: Equatable {
    /// The largest |D| taken into account: 60 s.
    static let maxStepNanos: UInt64 = 60_000_000_000

    private var lastTransit: UInt64 = 0
    private var seen = false
    /// The running estimate J in nanoseconds (0 until two datagrams arrived).
    private(set) var nanos: Double = 0
    /// Differences taken (arrivals after the first).
    private(set) var samples: UInt64 = 0

    @inline(__always)
    mutating func add(sentNanos: UInt64, arrivalNanos: UInt64) {
        let transit = arrivalNanos &- sentNanos
        defer {
            lastTransit = transit
            seen = true
        }
        guard seen else { return }
        let d = Int64(bitPattern: transit &- lastTransit)
        let step = min(d.magnitude, Self.maxStepNanos)
        nanos += (Double(step) - nanos) / 16
        samples &+= 1
    }

    /// J in microseconds, or nil before the first difference.
    var microseconds: Double? { samples == 0 ? nil : nanos / 1000 }
}
