import Foundation

/// A line chart as an SVG string: axes with ticks and labels, one polyline per series, a legend.
/// No scripts, no external resources. The viewBox scales to the page width (CSS `width:100%`).
struct LineChart {
    /// One line. Colour alone does not tell lines apart (colour-blind readers, print): each series
    /// can also have a dash pattern and point markers, and the legend shows all three.
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dash: String?
        var marker: Marker = .none
        var strokeWidth = 2.0

        init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false,
             dash: String? = nil, marker: Marker = .none, strokeWidth: Double = 2) {
            self.name = name
            self.points = points
            self.color = color
            self.dash = dash ?? (dashed ? "8 5" : nil)
            self.marker = marker
            self.strokeWidth = strokeWidth
        }
    }

    enum Marker: CaseIterable { case none, circle, square, triangle, diamond }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var xScale: Scale.Kind = .linear
    var yScale: Scale.Kind = .linear
    /// The x domain; nil: the data's extent. Time charts of one report all get the same one.
    var xDomain: ClosedRange<Double>?
    /// Tick labels for the x axis; default: the tick value.
    var xTickLabel: (Double) -> String = shortNumber
    var xTicks: [Double]?
    var width = 1000.0
    var height = 320.0

    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"]
    /// Dash patterns for lines that share a chart (fleet agents): solid first, then ever sparser.
    static let dashes: [String?] = [nil, "10 4", "2 3", "10 3 2 3", "4 4", "14 4 4 4"]

    func svg() -> String {
        let left = 70.0, right = 40.0, top = 34.0
        let legend = legendLayout(left: left)
        let bottom = 44.0 + Double(legend.rows) * 16
        let totalHeight = height + Double(legend.rows - 1) * 16
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = all.map(\.x), ys = all.map(\.y)
        let xDomain = self.xDomain ?? (xs.min() ?? 0)...max(xs.max() ?? 1, xs.min() ?? 0)
        let yLow = yScale == .log10 ? Self.logFloor(ys.filter { $0 > 0 }.min() ?? 1) : min(0, ys.min() ?? 0)
        // Linear: 8% headroom, so a line at its maximum does not run along the chart's top edge.
        let yHigh = yScale == .log10 ? Self.logCeiling(max(ys.max() ?? 1, yLow * 10)) : max((ys.max() ?? 1) * 1.08, yLow + 1)
        let yDomain = yLow...yHigh
        let plotBottom = totalHeight - bottom
        let x = Scale(xScale, domain: xDomain, range: (left, width - right))
        let y = Scale(yScale, domain: yDomain, range: (plotBottom, top))
        var out = #"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \#(Int(width)) \#(Int(totalHeight))" role="img" aria-label="\#(Escape.html(title))" data-x-domain="\#(fmt(x.domain.lowerBound)) \#(fmt(x.domain.upperBound))" data-y-scale="\#(yScale == .log10 ? "log" : "linear")">"#
        out += #"<text class="title" x="\#(left)" y="20">\#(Escape.html(title))</text>"#
        out += #"<line class="axis" x1="\#(left)" y1="\#(plotBottom)" x2="\#(width - right)" y2="\#(plotBottom)"/>"#
        out += #"<line class="axis" x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(plotBottom)"/>"#
        for tick in xTicks ?? x.ticks(6) where x.domain.contains(tick) || xTicks != nil {
            let px = fmt(x(tick))
            out += #"<line class="grid" x1="\#(px)" y1="\#(top)" x2="\#(px)" y2="\#(plotBottom)"/>"#
            out += #"<text class="tick xtick" x="\#(px)" y="\#(plotBottom + 16)" text-anchor="middle">\#(Escape.html(xTickLabel(tick)))</text>"#
        }
        for tick in y.ticks(5) {
            let py = fmt(y(tick))
            out += #"<line class="grid" x1="\#(left)" y1="\#(py)" x2="\#(width - right)" y2="\#(py)"/>"#
            out += #"<text class="tick ytick" x="\#(left - 6)" y="\#(py)" dy="4" text-anchor="end">\#(shortNumber(tick))</text>"#
        }
        out += #"<text class="label" x="\#(fmt((left + width - right) / 2))" y="\#(plotBottom + 34)" text-anchor="middle">\#(Escape.html(xLabel))</text>"#
        out += #"<text class="label" transform="translate(16 \#(fmt((top + plotBottom) / 2))) rotate(-90)" text-anchor="middle">\#(Escape.html(yLabel))</text>"#
        // Thick lines first, so a thin one on top of it stays visible where they coincide.
        for s in series.sorted(by: { $0.strokeWidth > $1.strokeWidth }) where !s.points.isEmpty {
            let visible = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let coords = visible.map { (x($0.x), y(max($0.y, yDomain.lowerBound))) }
            let points = coords.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
            out += #"<polyline class="series" data-name="\#(Escape.html(s.name))" fill="none" stroke="\#(s.color)" stroke-width="\#(fmt(s.strokeWidth))" stroke-opacity="0.9" stroke-linejoin="round"\#(dashAttribute(s)) points="\#(points)"/>"#
            // At most ~30 markers a line: enough to tell it apart, not a smear on a long run.
            let every = max(1, coords.count / 30)
            for (i, c) in coords.enumerated() where i % every == 0 { out += marker(s.marker, at: c, color: s.color) }
        }
        for (s, (lx, ly)) in zip(series, legend.positions) {
            out += #"<line class="key" x1="\#(fmt(lx))" y1="\#(fmt(plotBottom + ly - 4))" x2="\#(fmt(lx + 28))" y2="\#(fmt(plotBottom + ly - 4))" stroke="\#(s.color)" stroke-width="\#(fmt(s.strokeWidth))"\#(dashAttribute(s))/>"#
            out += marker(s.marker, at: (lx + 14, plotBottom + ly - 4), color: s.color)
            out += #"<text class="legend" x="\#(fmt(lx + 34))" y="\#(fmt(plotBottom + ly))">\#(Escape.html(s.name))</text>"#
        }
        return out + "</svg>"
    }

    /// Legend entries left to right, wrapping into rows under the axis label; y is relative to the plot's bottom.
    private func legendLayout(left: Double) -> (positions: [(Double, Double)], rows: Int) {
        var positions: [(Double, Double)] = []
        var lx = left, row = 0
        for s in series {
            let entry = 44 + Double(s.name.count) * 6.6
            if lx + entry > width - 20, lx > left {
                lx = left
                row += 1
            }
            positions.append((lx, 58 + Double(row) * 16))
            lx += entry
        }
        return (positions, row + 1)
    }

    private func dashAttribute(_ s: Series) -> String { s.dash.map { #" stroke-dasharray="\#($0)""# } ?? "" }

    private func marker(_ kind: Marker, at c: (Double, Double), color: String) -> String {
        let (x, y) = c
        let paint = #"class="marker" fill="white" stroke="\#(color)" stroke-width="1.5""#
        switch kind {
        case .none: return ""
        case .circle: return #"<circle \#(paint) cx="\#(fmt(x))" cy="\#(fmt(y))" r="3.5"/>"#
        case .square: return #"<rect \#(paint) x="\#(fmt(x - 3))" y="\#(fmt(y - 3))" width="6" height="6"/>"#
        case .triangle: return #"<path \#(paint) d="M\#(fmt(x)) \#(fmt(y - 4))L\#(fmt(x + 4)) \#(fmt(y + 3))L\#(fmt(x - 4)) \#(fmt(y + 3))Z"/>"#
        case .diamond: return #"<path \#(paint) d="M\#(fmt(x)) \#(fmt(y - 4))L\#(fmt(x + 4)) \#(fmt(y))L\#(fmt(x)) \#(fmt(y + 4))L\#(fmt(x - 4)) \#(fmt(y))Z"/>"#
        }
    }

    /// Log axes start and end on whole decades, as HdrHistogram's plots do.
    static func logFloor(_ v: Double) -> Double { pow(10, floor(log10(max(v, 1e-9)))) }
    static func logCeiling(_ v: Double) -> Double { pow(10, ceil(log10(max(v, 1e-9)))) }

    private func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}
