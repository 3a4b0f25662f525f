import ArgumentParser
import Foundation
import VolleyFleet
import VolleyModel

/// Live progress of a fleet run on stderr, one line per agent: its state, datagrams sent and received,
/// and the rate of the last second (from the agent's own elapsed time, so polling jitter does not show).
final class FleetProgress: Sendable {
    enum Style: String, ExpressibleByArgument, CaseIterable {
        case auto, plain, none

        /// `auto` redraws in place on a terminal and stays silent otherwise (a log gets no escapes).
        func resolved(isTerminal: Bool) -> Resolved {
            switch self {
            case .auto: isTerminal ? .terminal : .none
            case .plain: .plain
            case .none: .none
            }
        }
    }

    enum Resolved { case terminal, plain, none }

    private let stopping = Locked(false)
    private let task: Task<Void, Never>?

    init(style: Resolved, runner: FleetRunner) {
        guard style != .none else {
            task = nil
            return
        }
        let stopping = self.stopping
        task = Task.detached {
            var meter = FleetProgressMeter()
            var drawn = 0
            let every = style == .terminal ? 0.5 : 3.0
            var next = Date()
            while !stopping.withLock({ $0 }) {
                // Sampled more often than shown, so that even plain lines every 3 s have a last second.
                let agents = runner.snapshot()
                meter.record(agents)
                if Date() >= next {
                    next = Date().addingTimeInterval(every)
                    drawn = Self.write(meter.lines(agents), style: style, over: drawn)
                }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
            if style == .terminal { _ = Self.write(meter.lines(runner.snapshot()), style: style, over: drawn) }
        }
    }

    /// Ends the display (the terminal keeps its last lines) before the table is printed.
    func stop() async {
        stopping.withLock { $0 = true }
        await task?.value
    }

    /// Writes `lines`; on a terminal over the `drawn` lines written before (cursor up, clear each line).
    private static func write(_ lines: [String], style: Resolved, over drawn: Int) -> Int {
        var text = ""
        if style == .terminal {
            if drawn > 0 { text += "\u{1B}[\(drawn)A" }
            for line in lines { text += "\r\u{1B}[2K" + line + "\n" }
        } else {
            for line in lines { text += "fleet: " + line + "\n" }
        }
        FileHandle.standardError.write(Data(text.utf8))
        return lines.count
    }
}

/// Turns successive snapshots into lines with the last second's rate per agent.
struct FleetProgressMeter {
    /// Per agent: (elapsed seconds, count) samples of the last few seconds.
    private var samples: [Int: [(Double, UInt64)]] = [:]

    /// Keeps each running job's count at its elapsed time (a job is polled about every 300 ms).
    mutating func record(_ agents: [(outcome: FleetAgentOutcome, job: Job?)]) {
        for (index, agent) in agents.enumerated() {
            guard let job = agent.job, job.state == .running else { continue }
            let p = job.progress
            let counted = job.spec.mode.originates ? p.packetsSent : p.packetsReceived
            var list = samples[index] ?? []
            if list.last.map({ $0.0 < p.elapsedSeconds }) ?? true { list.append((p.elapsedSeconds, counted)) }
            list.removeAll { $0.0 < p.elapsedSeconds - 3 }
            samples[index] = list
        }
    }

    /// The count per second over the last second of samples (or what there is of it); nil before two.
    func lastSecondRate(_ index: Int) -> Double? {
        guard let list = samples[index], let last = list.last else { return nil }
        // The newest sample at least a second older than the last, else the oldest there is.
        let base = list.last { $0.0 <= last.0 - 1 } ?? list.first!
        let span = last.0 - base.0
        return span > 0 ? Double(last.1 - min(last.1, base.1)) / span : nil
    }

    func lines(_ agents: [(outcome: FleetAgentOutcome, job: Job?)]) -> [String] {
        let width = min(40, agents.map(\.outcome.url.count).max() ?? 0)
        return agents.enumerated().map { index, agent in
            let name = agent.outcome.url.padding(toLength: max(width, agent.outcome.url.count), withPad: " ", startingAt: 0)
            guard let job = agent.job else { return "\(name)  \(agent.outcome.error.map { "error: \($0)" } ?? "not started")" }
            let p = job.progress
            let rate = job.state == .running
                ? lastSecondRate(index).map { Validate.grouped(Int($0.rounded())) + " pps" } ?? "-" : "-"

            let state = (job.state.rawValue + (agent.outcome.adopted == true ? " (adopted)" : ""))
                .padding(toLength: 20, withPad: " ", startingAt: 0)
            let rtt = job.state == .running ? p.rtt.map { "  RTT p50 \($0.p50.grouped) µs p99 \($0.p99.grouped) µs" } ?? "" : ""
            return "\(name)  \(state) sent \(Validate.grouped(Int(p.packetsSent)))  received \(Validate.grouped(Int(p.packetsReceived)))  \(rate)\(rtt)"
        }
    }
}
