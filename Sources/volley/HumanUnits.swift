import Foundation

/// Numbers as people read them on a terminal: SI prefixes for rates, durations in s/ms. Only human
/// output uses these; JSON keeps exact numbers.
enum HumanUnits {
    /// 48_213 → "48.2 k", 950 → "950 ", 1_500_000 → "1.50 M": three significant digits, SI prefixes
    /// (powers of 1000, as iperf3's `-b` and network gear count bits).
    static func si(_ value: Double, _ unit: String) -> String {
        guard value.isFinite else { return "- \(unit)" }
        if abs(value) < 999.5 { return "\(Int(value.rounded())) \(unit)" }
        let prefixes = ["k", "M", "G", "T", "P"]
        var scaled = value
        var index = -1
        while (abs(scaled) >= 999.5 || index < 0) && index < prefixes.count - 1 {
            scaled /= 1000
            index += 1
        }
        let digits = abs(scaled) < 9.995 ? 2 : (abs(scaled) < 99.95 ? 1 : 0)
        return String(format: "%.\(digits)f %@%@", scaled, prefixes[index], unit)
    }

    static func pps(_ value: Double) -> String { si(value, "pps") }
    static func bits(_ value: Double) -> String { si(value, "bit/s") }

    /// 0.001234 → "0.12 %", 0 → "0 %", 1 → "100 %".
    static func percent(_ ratio: Double) -> String {
        let p = ratio * 100
        if p == 0 { return "0 %" }
        if p >= 10 { return String(format: "%.1f %%", p) }
        if p >= 0.01 { return String(format: "%.2f %%", p) }
        return String(format: "%.4f %%", p)
    }

    /// Microseconds as "850 µs", "12.4 ms" or "1.20 s".
    static func micros(_ us: Double) -> String {
        if us < 1000 { return us == us.rounded() ? "\(Int(us)) µs" : String(format: "%.1f µs", us) }
        if us < 1_000_000 { return String(format: us < 10_000 ? "%.2f ms" : "%.1f ms", us / 1000) }
        return String(format: "%.2f s", us / 1_000_000)
    }

    /// "100k" → 100_000, "2.5M" → 2_500_000, "1G" → 1e9, "64" → 64: a plain number with an optional
    /// SI suffix k/K, M or G (lower-case m is refused: it would mean milli). Nil when not a positive
    /// whole result.
    static func parseSI(_ text: String) -> Int? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        var scale = 1.0
        switch digits.last {
        case "k", "K": scale = 1e3
        case "M": scale = 1e6
        case "G": scale = 1e9
        default: break
        }
        if scale != 1 { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isNumber || $0 == "." }), let number = Double(digits) else { return nil }
        let value = (number * scale).rounded()
        guard value >= 1, value <= 1e15, value == number * scale || scale != 1 else { return nil }
        return Int(value)
    }

    /// "5s", "500ms", "2m", "1.5" (seconds) → seconds; nil when not a positive duration.
    static func parseDuration(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, s) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = s
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(number), v > 0 else { return nil }
        return v * scale
    }
}
