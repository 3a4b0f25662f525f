import CBatchIO
import VolleyModel

/// The timestamps one side of a STAMP session writes and reads (RFC 8762 §4.2.1): NTP 64-bit
/// (seconds since 1900 and a binary fraction) or PTPv2 truncated (seconds and nanoseconds since
/// 1970 on TAI), and the Error Estimate that goes with them (RFC 4656 §4.1.2: S, Z, scale,
/// multiplier). Every conversion is total: a timestamp from the network may hold any 64 bits, and
/// none of them can make the arithmetic trap.
struct StampClock: Sendable {
    /// Seconds from 1900 (NTP's era 0) to 1970.
    static let ntpUnixOffset: Int64 = 2_208_988_800

    let format: StampTimestampFormat
    /// CLOCK_REALTIME − CLOCK_MONOTONIC when the job started: this side's timestamps are monotonic
    /// readings moved onto the wall clock by one fixed offset, so `T4 − T1` is a monotonic interval
    /// that a clock step during the job cannot bend.
    let realtimeOffsetNanos: Int64
    /// TAI − UTC in seconds for PTP timestamps (the kernel's, or 37 when nobody set it).
    let taiSeconds: Int64
    /// Synchronized to an external source (adjtimex), and the Error Estimate field for this side.
    let synchronized: Bool
    let errorEstimate: UInt16

    init(format: StampTimestampFormat) {
        self.format = format
        realtimeOffsetNanos = CBatchIO_realtime_offset_ns()
        var errorMicros: Int64 = 0
        var tai: Int32 = 0
        let status = CBatchIO_clock_status(&errorMicros, &tai)
        synchronized = status == 1
        taiSeconds = tai > 0 ? Int64(tai) : 37
        // Unknown (adjtimex failed): claim a second, unsynchronized; the multiplier is never 0.
        errorEstimate = Self.errorEstimate(synchronized: synchronized, ptp: format == .ptp,
                                           errorNanos: status < 0 ? 1_000_000_000 : max(1, errorMicros).multipliedReportingOverflow(by: 1000).partialValue)
    }

    /// S | Z | 6-bit scale | 8-bit multiplier, with multiplier × 2^(scale − 32) s ≥ the error.
    static func errorEstimate(synchronized: Bool, ptp: Bool, errorNanos: Int64) -> UInt16 {
        let nanos = Double(max(1, errorNanos))
        var scale = 0
        var multiplier = (nanos / 1e9 * 4_294_967_296.0).rounded(.up)
        while multiplier > 255 && scale < 63 {
            scale += 1
            multiplier = (multiplier / 2).rounded(.up)
        }
        let m = UInt16(min(255, max(1, multiplier)))
        return (synchronized ? 0x8000 : 0) | (ptp ? 0x4000 : 0) | UInt16(scale) << 8 | m
    }

    /// The error an Error Estimate states, in ns (saturating).
    static func errorNanos(_ estimate: UInt16) -> Double {
        let scale = Int((estimate >> 8) & 0x3F)
        let multiplier = Double(estimate & 0xFF)
        return multiplier * Double(sign: .plus, exponent: scale - 32, significand: 1) * 1e9
    }

    /// This side's timestamp for a monotonic reading, in its format.
    @inline(__always)
    func encode(monotonic: UInt64) -> UInt64 {
        Self.encode(unixNanos: Int64(truncatingIfNeeded: monotonic) &+ realtimeOffsetNanos, ptp: format == .ptp, taiSeconds: taiSeconds)
    }

    /// A wall-clock reading (ns since 1970) in NTP or PTP form.
    @inline(__always)
    static func encode(unixNanos: Int64, ptp: Bool, taiSeconds: Int64) -> UInt64 {
        let seconds = unixNanos / 1_000_000_000
        let nanos = unixNanos - seconds * 1_000_000_000
        if ptp {
            return UInt64(truncatingIfNeeded: seconds &+ taiSeconds) << 32 | UInt64(truncatingIfNeeded: nanos)
        }
        let fraction = (UInt64(truncatingIfNeeded: nanos) << 32) / 1_000_000_000
        return UInt64(truncatingIfNeeded: seconds &+ ntpUnixOffset) << 32 | fraction
    }

    /// A timestamp read from a packet, as ns since 1970 (NTP era 0; PTP on TAI less `taiSeconds`).
    /// Any 64 bits give a value: PTP nanoseconds over 10^9 are taken as they are, not refused.
    @inline(__always)
    static func decode(_ raw: UInt64, ptp: Bool, taiSeconds: Int64) -> Int64 {
        let high = Int64(raw >> 32)
        let low = Int64(raw & 0xFFFF_FFFF)
        if ptp { return (high - taiSeconds) * 1_000_000_000 + low }
        // Rounded to the nearest ns: `encode` truncates, so a timestamp this side wrote comes back exact.
        return (high - ntpUnixOffset) * 1_000_000_000 + (low * 1_000_000_000 + (1 << 31)) >> 32
    }

    /// A timestamp this side wrote, back on its monotonic clock (nil when it cannot be one of ours:
    /// before the monotonic clock's zero).
    @inline(__always)
    func monotonic(_ raw: UInt64) -> UInt64? {
        let unix = Self.decode(raw, ptp: format == .ptp, taiSeconds: taiSeconds)
        let mono = unix &- realtimeOffsetNanos
        return mono >= 0 ? UInt64(mono) : nil
    }

    /// The Z bit of an Error Estimate: the timestamps next to it are PTP.
    @inline(__always)
    static func isPTP(_ estimate: UInt16) -> Bool { estimate & 0x4000 != 0 }
    /// The S bit: the clock that wrote them is synchronized to an external source.
    @inline(__always)
    static func isSynchronized(_ estimate: UInt16) -> Bool { estimate & 0x8000 != 0 }
}
