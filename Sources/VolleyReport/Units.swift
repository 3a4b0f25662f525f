import Foundation

/// Numbers as a person reads them: thousands grouped ("1,234,567"), bit rates in SI units
/// ("1.23 Mbit/s"). Fixed separators, not the machine's locale, so a report reads the same everywhere.
public enum Units {
    public static func grouped(_ v: UInt64) -> String {
        let digits = String(v)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    public static func grouped(_ v: Int) -> String { v < 0 ? "-" + grouped(UInt64(-v)) : grouped(UInt64(v)) }

    /// Whole numbers grouped; others grouped with one decimal.
    public static func grouped(_ v: Double) -> String {
        guard v.isFinite, abs(v) < 1e15 else { return String(v) }
        let tenths = (abs(v) * 10).rounded()
        let whole = grouped(UInt64(tenths / 10))
        let fraction = Int(tenths.truncatingRemainder(dividingBy: 10))
        return (v < 0 && tenths > 0 ? "-" : "") + whole + (fraction == 0 ? "" : ".\(fraction)")
    }

    /// Bits per second with an SI prefix and three significant digits: 512000 → "512 kbit/s".
    public static func bitRate(_ bps: Double) -> String {
        guard bps.isFinite, bps > 0 else { return "0 bit/s" }
        for (scale, unit) in [(1e12, "Tbit/s"), (1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s")] where bps >= scale * 0.9995 {
            return significant(bps / scale) + " " + unit
        }
        return significant(bps) + " bit/s"
    }

    /// A datagram rate with its bit rate beside it: "1,000 datagrams/s (512 kbit/s)".
    public static func rate(pps: Double, bps: Double) -> String {
        "\(grouped(pps)) datagrams/s (\(bitRate(bps)))"
    }

    private static func significant(_ v: Double) -> String {
        let text = v >= 99.95 ? String(format: "%.0f", v) : v >= 9.995 ? String(format: "%.1f", v) : String(format: "%.2f", v)
        guard text.contains(".") else { return text }
        var trimmed = text
        while trimmed.hasSuffix("0") { trimmed.removeLast() }
        if trimmed.hasSuffix(".") { trimmed.removeLast() }
        return trimmed
    }
}
