import Foundation
import Histogram
import VolleyModel

/// The charts of a report, each an SVG string built from a result.
enum Charts {
    /// The one x domain of every time chart in a report: 0 to the last second any timeline covers.
    /// Each entry covers [t, t+1), so a 5 s job spans 0…5 and its points sit mid-second.
    static func timeDomain(_ timelines: [[TimelineEntry]]) -> ClosedRange<Double> {
        let end = timelines.compactMap { $0.map(\.t).max() }.max().map { Double($0 + 1) } ?? 1
        return 0...max(end, 1)
    }

    private static func at(_ entry: TimelineEntry) -> Double { Double(entry.t) + 0.5 }

    /// Achieved vs target datagrams per second: the target dashed grey, achieved solid; in a fleet
    /// the merged line thick underneath and each agent with its own colour, dash and marker.
    static func rate(_ timeline: [TimelineEntry], target: (Int) -> Double?, perAgent: [(String, [TimelineEntry])] = [],
                     xDomain: ClosedRange<Double>? = nil) -> String {
        var series = [LineChart.Series(name: perAgent.isEmpty ? "achieved" : "merged", points: timeline.map { (at($0), $0.achievedPPS) },
                                       color: LineChart.palette[0], strokeWidth: perAgent.isEmpty ? 3 : 4)]
        let targets = timeline.compactMap { entry in target(entry.t).map { (at(entry), $0) } }
        // Thinner, dashed and drawn on top: where achieved meets the target both stay visible.
        if !targets.isEmpty { series.append(.init(name: "target", points: targets, color: "#111827", dashed: true, strokeWidth: 1.5)) }
        let markers = LineChart.Marker.allCases.filter { $0 != .none }
        for (i, (name, agentTimeline)) in perAgent.enumerated() {
            series.append(.init(name: name, points: agentTimeline.map { (at($0), $0.achievedPPS) },
                                color: LineChart.palette[(i + 1) % LineChart.palette.count],
                                dash: LineChart.dashes[(i + 1) % LineChart.dashes.count], marker: markers[i % markers.count],
                                strokeWidth: 1.5))
        }
        return LineChart(title: "Rate per second", xLabel: "seconds", yLabel: "datagrams/s", series: series,
                         xDomain: xDomain ?? timeDomain([timeline] + perAgent.map(\.1))).svg()
    }

    /// Sent, received and (echo) lost per second; a direction the mode never uses is left out
    /// (a send job receives nothing, a sink sends nothing).
    static func counts(_ timeline: [TimelineEntry], mode: JobSpec.Mode = .echo, xDomain: ClosedRange<Double>? = nil) -> String {
        var series: [LineChart.Series] = []
        if mode != .sink {
            series.append(.init(name: "sent", points: timeline.map { (at($0), Double($0.sent)) }, color: LineChart.palette[0], strokeWidth: 3.5))
        }
        if mode != .send {
            series.append(.init(name: "received", points: timeline.map { (at($0), Double($0.received)) }, color: LineChart.palette[2],
                                dash: "10 4", marker: .circle))
        }
        if timeline.contains(where: { $0.lost != nil }) {
            series.append(.init(name: "lost", points: timeline.map { (at($0), Double($0.lost ?? 0)) }, color: LineChart.palette[1],
                                dash: "2 3", marker: .square))
        }
        return LineChart(title: "Datagrams per second", xLabel: "seconds", yLabel: "datagrams", series: series,
                         xDomain: xDomain ?? timeDomain([timeline])).svg()
    }

    /// RTT p50 and p99 per second (echo jobs).
    static func rtt(_ timeline: [TimelineEntry], xDomain: ClosedRange<Double>? = nil) -> String? {
        let p50 = timeline.compactMap { e in e.rttP50.map { (at(e), Double($0)) } }
        let p99 = timeline.compactMap { e in e.rttP99.map { (at(e), Double($0)) } }
        guard !p50.isEmpty else { return nil }
        // Log y as in the spectrum: a p99 tail in milliseconds would flatten p50 onto zero.
        return LineChart(title: "Round-trip time per second", xLabel: "seconds", yLabel: "µs (log scale)",
                         series: [.init(name: "p50", points: p50, color: LineChart.palette[0]),
                                  .init(name: "p99", points: p99, color: LineChart.palette[1], dash: "10 4", marker: .square)],
                         yScale: .log10, xDomain: xDomain ?? timeDomain([timeline])).svg()
    }

    /// The HDR "percentile spectrum": latency against percentile, both axes logarithmic as in
    /// HdrHistogram's plotter, so p50 does not sit on zero under a millisecond tail and the x axis
    /// (1/(1−p)) gives 90%, 99%, 99.9% … equal room.
    static func spectrum(_ latency: LatencySummary) -> String? {
        guard let histogram = try? HDREncoding.decode(latency.hdr), histogram.totalCount > 0 else { return nil }
        let percentiles = spectrumPercentiles()
        let points = percentiles.map { p in (x: 1 / (1 - p / 100), y: Double(histogram.valueAtPercentile(p))) }
        let ticks = [1.0, 10, 100, 1_000, 10_000, 100_000]
        let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        var chart = LineChart(title: "Latency by percentile", xLabel: "percentile (log scale of 1/(1−p))", yLabel: "µs (log scale)",
                              series: [.init(name: "RTT", points: points, color: LineChart.palette[3])],
                              xScale: .log10, yScale: .log10)
        chart.xTicks = ticks
        chart.xTickLabel = { value in labels[ticks.firstIndex(of: value) ?? 0] }
        return chart.svg()
    }

    /// 0% … 99.999%, denser toward the tail (each decade of 1/(1−p) in ten steps).
    static func spectrumPercentiles() -> [Double] {
        var out: [Double] = []
        for decade in 0..<5 {
            for step in 0..<10 {
                let inverse = pow(10, Double(decade) + Double(step) / 10)
                out.append(100 * (1 - 1 / inverse))
            }
        }
        out.append(99.999)
        return out
    }
}
