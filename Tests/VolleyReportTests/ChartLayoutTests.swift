import Foundation
import Testing
@testable import VolleyModel
@testable import VolleyReport

/// The `<svg …>` charts of a page, in order, each as its whole text.
func charts(_ html: String) -> [String] {
    html.components(separatedBy: "<svg ").dropFirst().map { "<svg " + $0.components(separatedBy: "</svg>")[0] + "</svg>" }
}

/// An attribute of the chart's root element.
func rootAttribute(_ svg: String, _ name: String) -> String? {
    guard let r = svg.range(of: #"\#(name)="([^"]*)""#, options: .regularExpression) else { return nil }
    return String(svg[r].dropFirst(name.count + 2).dropLast())
}

/// (label, coordinate) of every tick of one axis (`xtick`: its x; `ytick`: its y).
func ticks(_ svg: String, _ kind: String) -> [(label: String, at: Double)] {
    let coordinate = kind == "xtick" ? "x" : "y"
    let pattern = #"<text class="tick \#(kind)" \#(kind == "xtick" ? "" : #"x="[^"]*" "#)\#(coordinate)="([^"]*)"[^>]*>([^<]*)<"#
    let regex = try! NSRegularExpression(pattern: pattern)
    return regex.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).map { m in
        (String(svg[Range(m.range(at: 2), in: svg)!]), Double(svg[Range(m.range(at: 1), in: svg)!])!)
    }
}

/// The points of the polyline named `name`.
func points(_ svg: String, _ name: String) -> [(x: Double, y: Double)] {
    guard let tag = svg.components(separatedBy: "<polyline").first(where: { $0.contains(#"data-name="\#(name)""#) }),
          let r = tag.range(of: #"points="[^"]*""#, options: .regularExpression) else { return [] }
    return tag[r].dropFirst(8).dropLast().split(separator: " ").map { pair in
        let xy = pair.split(separator: ",").map { Double($0)! }
        return (xy[0], xy[1])
    }
}

@Suite struct ChartLayoutTests {
    /// Every time chart of a report spans 0 … the job's seconds with the same ticks, even when one
    /// series (RTT here) has no value in the last second: second 3 sits at the same place in each.
    @Test func timeChartsShareOneAxis() throws {
        var result = sampleResult()
        result.timeline[4].rttP50 = nil
        result.timeline[4].rttP99 = nil
        let time = charts(Report.html(for: result)).filter { $0.contains(">seconds<") }
        try #require(time.count == 3)
        #expect(time.map { rootAttribute($0, "data-x-domain") } == Array(repeating: "0.0 5.0", count: 3))
        let axes = time.map { ticks($0, "xtick").map { "\($0.label)@\($0.at)" } }
        #expect(axes[0].count == 6 && axes[0].first?.hasPrefix("0@") == true && axes[0].last?.hasPrefix("5@") == true, "\(axes[0])")
        #expect(axes[1] == axes[0] && axes[2] == axes[0])
    }

    /// Five seconds, five points, each in the middle of its second, and none at zero: no trailing
    /// empty second draws a cliff at the end.
    @Test func noTrailingZeroSecond() throws {
        let svg = charts(Report.html(for: sampleResult()))[0]
        let achieved = points(svg, "achieved")
        try #require(achieved.count == 5)
        let xs = ticks(svg, "xtick").map(\.at)
        let zeroY = try #require(ticks(svg, "ytick").first { $0.label == "0" }).at
        let secondWidth = (xs.last! - xs.first!) / 5
        #expect(abs(achieved.last!.x - (xs.last! - secondWidth / 2)) < 0.2, "\(achieved.last!) \(xs)")
        #expect(achieved.allSatisfy { abs($0.y - zeroY) > 50 }, "\(achieved)")
    }

    /// Latency by percentile: both axes logarithmic, as HdrHistogram plots it. Decades of latency
    /// are equally far apart, and so are 90%, 99%, 99.9% (1/(1−p) = 10, 100, 1000).
    @Test func percentileChartIsLogScaled() throws {
        let spectrum = try #require(charts(Report.html(for: sampleResult())).first { $0.contains("Latency by percentile") })
        #expect(rootAttribute(spectrum, "data-y-scale") == "log")
        let y = ticks(spectrum, "ytick")
        #expect(y.map(\.label) == ["10", "100", "1k", "10k"], "\(y)")
        let yGaps = zip(y.dropFirst(), y).map { $1.at - $0.at }
        #expect(yGaps.allSatisfy { abs($0 - yGaps[0]) < 0.2 } && yGaps[0] > 20, "\(yGaps)")
        let x = ticks(spectrum, "xtick")
        #expect(x.map(\.label) == ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"])
        let xGaps = zip(x.dropFirst(), x).map { $0.at - $1.at }
        #expect(xGaps.allSatisfy { abs($0 - xGaps[0]) < 0.2 }, "\(xGaps)")
        // p50 of this histogram (~55 µs) sits well above the axis, not flattened onto it by the 5 ms tail.
        let line = points(spectrum, "RTT")
        let p50 = try #require(Charts.spectrumPercentiles().firstIndex { $0 >= 49.8 })
        #expect(line[p50].y < y[0].at - 20, "\(line[p50]) vs axis \(y[0])")
    }

    /// The fleet's lines differ in more than colour: each agent has its own dash and marker, and
    /// the legend shows every line.
    @Test func fleetLinesDifferInDashAndMarker() throws {
        let one = sampleResult()
        var fleet = FleetResult(fleetID: "f1", spec: one.spec, startAt: one.startedAt,
                                agents: ["http://a:8080", "http://b:8080", "http://c:8080"].map { FleetAgentOutcome(url: $0) })
        for i in 0..<3 { fleet.agents[i].timeline = one.timeline }
        fleet.merged = one
        let rate = try #require(charts(Report.html(for: fleet)).first { $0.contains("Rate per second") })
        let lines = rate.components(separatedBy: "<polyline").dropFirst().map { String($0.prefix { $0 != ">" }) }
        let agents = lines.filter { $0.contains("http://") }
        try #require(agents.count == 3)
        let dashes = Set(agents.map { tag in
            tag.range(of: #"stroke-dasharray="[^"]*""#, options: .regularExpression).map { String(tag[$0]) } ?? "solid"
        })
        #expect(dashes.count == 3, "\(dashes)")
        #expect(lines.first { $0.contains(#"data-name="target""#) }?.contains("stroke-dasharray") == true)
        #expect(lines.first { $0.contains(#"data-name="merged""#) }?.contains("stroke-dasharray") == false)
        for marker in ["<circle class=\"marker\"", "<rect class=\"marker\"", "<path class=\"marker\""] { #expect(rate.contains(marker), "\(marker)") }
        for name in ["merged", "target", "http://a:8080", "http://b:8080", "http://c:8080"] {
            #expect(rate.contains(#"<text class="legend""#) && rate.contains(">\(name)</text>"), "\(name)")
        }
    }

    @Test func unitsGroupAndScale() {
        #expect(Units.grouped(UInt64(1_234_567)) == "1,234,567" && Units.grouped(UInt64(999)) == "999" && Units.grouped(0) == "0")
        #expect(Units.grouped(1_999.14) == "1,999.1" && Units.grouped(-1_000.0) == "-1,000")
        #expect(Units.bitRate(512_000) == "512 kbit/s" && Units.bitRate(1_234_567) == "1.23 Mbit/s")
        #expect(Units.bitRate(8_000_000) == "8 Mbit/s" && Units.bitRate(12.5e9) == "12.5 Gbit/s" && Units.bitRate(0) == "0 bit/s")
        #expect(Units.rate(pps: 1_000, bps: 512_000) == "1,000 datagrams/s (512 kbit/s)")
    }
}
