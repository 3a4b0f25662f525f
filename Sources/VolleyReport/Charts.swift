import Foundation
import Histogram
import VolleyModel

/// The charts of a report, each an SVG string built from a result.
enum Charts {
    /// Achieved vs target datagrams per second.
    static func rate(_ timeline: [TimelineEntry], target: (Int) -> Double?, perAgent: [(String, [TimelineEntry])] = []) -> String {
        var series = [LineChart.Series(name: perAgent.isEmpty ? "achieved" : "merged", points: timeline.map { (Double($0.t), $0.achievedPPS) },
                                       color: LineChart.palette[0])]
        let targets = timeline.compactMap { entry in target(entry.t).map { (Double(entry.t), $0) } }
        if !targets.isEmpty { series.append(.init(name: "target", points: targets, color: "#6b7280", dashed: true)) }
        for (i, (name, agentTimeline)) in perAgent.enumerated() {
            series.append(.init(name: name, points: agentTimeline.map { (Double($0.t), $0.achievedPPS) },
                                color: LineChart.palette[(i + 1) % LineChart.palette.count]))
        }
        return LineChart(title: "Rate per second", xLabel: "seconds", yLabel: "datagrams/s", series: series).svg()
    }

    /// Sent, received and (echo) lost per second.
    static func counts(_ timeline: [TimelineEntry]) -> String {
        var series = [LineChart.Series(name: "sent", points: timeline.map { (Double($0.t), Double($0.sent)) }, color: LineChart.palette[0]),
                      .init(name: "received", points: timeline.map { (Double($0.t), Double($0.received)) }, color: LineChart.palette[2])]
        if timeline.contains(where: { $0.lost != nil }) {
            series.append(.init(name: "lost", points: timeline.map { (Double($0.t), Double($0.lost ?? 0)) }, color: LineChart.palette[1]))
        }
        return LineChart(title: "Datagrams per second", xLabel: "seconds", yLabel: "datagrams", series: series).svg()
    }

    /// RTT p50 and p99 per second (echo jobs).
    static func rtt(_ timeline: [TimelineEntry]) -> String? {
        let p50 = timeline.compactMap { e in e.rttP50.map { (Double(e.t), Double($0)) } }
        let p99 = timeline.compactMap { e in e.rttP99.map { (Double(e.t), Double($0)) } }
        guard !p50.isEmpty else { return nil }
        return LineChart(title: "Round-trip time per second", xLabel: "seconds", yLabel: "µs",
                         series: [.init(name: "p50", points: p50, color: LineChart.palette[0]),
                                  .init(name: "p99", points: p99, color: LineChart.palette[1])]).svg()
    }

    /// The HDR "percentile spectrum": latency against percentile, the x axis stretched toward 99.999%.
    static func spectrum(_ latency: LatencySummary) -> String? {
        guard let histogram = try? HDREncoding.decode(latency.hdr), histogram.totalCount > 0 else { return nil }
        let percentiles = spectrumPercentiles()
        let points = percentiles.map { p in (x: 1 / (1 - p / 100), y: Double(histogram.valueAtPercentile(p))) }
        let ticks = [1.0, 10, 100, 1_000, 10_000, 100_000]
        let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        var chart = LineChart(title: "Latency by percentile", xLabel: "percentile", yLabel: "µs",
                              series: [.init(name: "RTT", points: points, color: LineChart.palette[3])],
                              xScale: .log10)
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
