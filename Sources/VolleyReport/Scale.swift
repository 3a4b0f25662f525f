import Foundation

/// Maps data values onto pixels, linearly or logarithmically, and picks readable tick values.
struct Scale {
    enum Kind { case linear, log10 }

    let kind: Kind
    let domain: ClosedRange<Double>
    /// Pixels for the domain's lower and upper end (the upper may be the smaller: SVG's y grows down).
    let range: (from: Double, to: Double)

    init(_ kind: Kind = .linear, domain: ClosedRange<Double>, range: (from: Double, to: Double)) {
        self.kind = kind
        let low = kind == .log10 ? max(domain.lowerBound, 1e-9) : domain.lowerBound
        let high = domain.upperBound > low ? domain.upperBound : low + 1
        self.domain = low...high
        self.range = range
    }

    private func t(_ v: Double) -> Double { kind == .log10 ? log10(max(v, 1e-9)) : v }

    func callAsFunction(_ value: Double) -> Double {
        let span = t(domain.upperBound) - t(domain.lowerBound)
        let fraction = span == 0 ? 0 : (t(value) - t(domain.lowerBound)) / span
        return range.from + fraction * (range.to - range.from)
    }

    /// About `count` round values (1, 2 or 5 × 10^n apart) covering the domain.
    func ticks(_ count: Int = 5) -> [Double] {
        if kind == .log10 {
            // Decades; over two decades or less also 2× and 5×, so the axis has more than two labels.
            let steps: [Double] = log10(domain.upperBound / domain.lowerBound) <= 2.01 ? [1, 2, 5] : [1]
            var out: [Double] = []
            var v = pow(10, floor(log10(domain.lowerBound)))
            while v <= domain.upperBound * 1.0001 {
                for step in steps where v * step >= domain.lowerBound * 0.9999 && v * step <= domain.upperBound * 1.0001 {
                    out.append(v * step)
                }
                v *= 10
            }
            return out
        }
        let raw = (domain.upperBound - domain.lowerBound) / Double(max(1, count))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var v = ceil(domain.lowerBound / step) * step
        while v <= domain.upperBound + step * 1e-9 {
            out.append(v)
            v += step
        }
        return out
    }
}

/// Short numbers for axis labels: 1200 → "1.2k", 3000000 → "3M".
func shortNumber(_ v: Double) -> String {
    let a = abs(v)
    func trim(_ x: Double) -> String {
        let s = String(format: "%.1f", x)
        return s.hasSuffix(".0") ? String(s.dropLast(2)) : s
    }
    if a >= 1e9 { return trim(v / 1e9) + "G" }
    if a >= 1e6 { return trim(v / 1e6) + "M" }
    if a >= 1e3 { return trim(v / 1e3) + "k" }
    if a > 0 && a < 1 { return String(format: "%.2g", v) }
    return trim(v)
}
