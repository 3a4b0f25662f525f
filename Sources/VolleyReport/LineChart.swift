import Foundation

/// A line chart as an SVG string: axes with ticks and labels, one polyline per series, a legend.
/// No scripts, no external resources.
struct LineChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dashed = false
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var xScale: Scale.Kind = .linear
    var yScale: Scale.Kind = .linear
    /// Tick labels for the x axis; default: the tick value.
    var xTickLabel: (Double) -> String = shortNumber
    var xTicks: [Double]?
    var width = 760.0
    var height = 300.0

    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"]

    func svg() -> String {
        let left = 70.0, right = 20.0, top = 34.0, bottom = 58.0
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = all.map(\.x), ys = all.map(\.y)
        let xDomain = (xs.min() ?? 0)...max(xs.max() ?? 1, xs.min() ?? 0)
        let yLow = yScale == .log10 ? (ys.filter { $0 > 0 }.min() ?? 1) : min(0, ys.min() ?? 0)
        let yDomain = yLow...max(ys.max() ?? 1, yLow + (yScale == .log10 ? 10 : 1))
        let x = Scale(xScale, domain: xDomain, range: (left, width - right))
        let y = Scale(yScale, domain: yDomain, range: (height - bottom, top))
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \#(Int(width)) \#(Int(height))" role="img" aria-label="\#(Escape.html(title))">"#
        out += #"<text class="title" x="\#(left)" y="20">\#(Escape.html(title))</text>"#
        out += #"<line class="axis" x1="\#(left)" y1="\#(height - bottom)" x2="\#(width - right)" y2="\#(height - bottom)"/>"#
        out += #"<line class="axis" x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(height - bottom)"/>"#
        for tick in xTicks ?? x.ticks(8) where xDomain.contains(tick) || xTicks != nil {
            let px = fmt(x(tick))
            out += #"<line class="grid" x1="\#(px)" y1="\#(top)" x2="\#(px)" y2="\#(height - bottom)"/>"#
            out += #"<text class="tick" x="\#(px)" y="\#(height - bottom + 16)" text-anchor="middle">\#(Escape.html(xTickLabel(tick)))</text>"#
        }
        for tick in y.ticks(5) {
            let py = fmt(y(tick))
            out += #"<line class="grid" x1="\#(left)" y1="\#(py)" x2="\#(width - right)" y2="\#(py)"/>"#
            out += #"<text class="tick" x="\#(left - 6)" y="\#(py)" dy="4" text-anchor="end">\#(shortNumber(tick))</text>"#
        }
        out += #"<text class="label" x="\#(fmt((left + width - right) / 2))" y="\#(height - 22)" text-anchor="middle">\#(Escape.html(xLabel))</text>"#
        out += #"<text class="label" transform="translate(16 \#(fmt((top + height - bottom) / 2))) rotate(-90)" text-anchor="middle">\#(Escape.html(yLabel))</text>"#
        for s in series where !s.points.isEmpty {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(fmt(x($0.x))),\(fmt(y(max($0.y, yDomain.lowerBound))))" }.joined(separator: " ")
            let dash = s.dashed ? #" stroke-dasharray="6 4""# : ""
            out += #"<polyline class="series" data-name="\#(Escape.html(s.name))" fill="none" stroke="\#(s.color)" stroke-width="2"\#(dash) points="\#(points)"/>"#
        }
        var legendX = left
        for s in series {
            out += #"<rect x="\#(fmt(legendX))" y="\#(height - 12)" width="12" height="4" fill="\#(s.color)"/>"#
            out += #"<text class="legend" x="\#(fmt(legendX + 16))" y="\#(height - 7)">\#(Escape.html(s.name))</text>"#
            legendX += 24 + Double(s.name.count) * 6.5
        }
        return out + "</svg>"
    }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}
