import Histogram
import VolleyModel

/// Adds up job results from several agents exactly: counters and error categories summed, latency
/// percentiles from the sum of the agents' HDR histograms (never averaged), timelines aligned by
/// absolute second. STAMP sections merge the same way (StampMerger.swift).
public enum ResultMerger {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func merge(_ results: [JobResult], fleetID: JobID, spec: JobSpec) throws(Failure) -> JobResult {
        guard let first = results.first else { throw Failure(description: "no agent produced a result") }
        var sent = DirectionTotals(partialBatches: 0)
        var received = DirectionTotals()
        for r in results {
            sent.merge(r.sent)
            received.merge(r.received)
        }
        let startedAt = results.map(\.startedAt).min()!
        let finishedAt = results.map(\.finishedAt).max()!
        let elapsed = Double(finishedAt.millisecondsSince1970) / 1000 - Double(startedAt.millisecondsSince1970) / 1000
        let rateBase = spec.mode == .echo ? spec.durationSeconds : max(elapsed, 1e-9)
        let counted = spec.mode.originates ? sent : received
        var merged = JobResult(
            id: fleetID, state: results.allSatisfy { $0.state == .completed } ? .completed : first.state, spec: spec,
            agent: .init(hostname: "fleet of \(results.count)", version: Volley.version), startedAt: startedAt,
            finishedAt: finishedAt, elapsedSeconds: elapsed, sent: sent, received: received,
            rate: .init(targetPPS: results.reduce(0) { $0 &+ $1.rate.targetPPS },
                        achievedPPS: Double(counted.packets) / rateBase, achievedBPS: Double(counted.bytes) * 8 / rateBase),
            io: first.io, timeline: timeline(results, mode: spec.mode))
        merged.io.workers = workers(results)
        // Each agent's host limit: the fleet's claim is the loosest of them, and only when all held one.
        let held = results.compactMap(\.io.cpuLatencyMicroseconds)
        merged.io.cpuLatencyMicroseconds = held.count == results.count ? held.max() : nil
        if spec.mode == .echo {
            // The first agent's system call names and buffer sizes stand for the fleet; the
            // warm-up count adds up, and a warm-up failure names its agent.
            let warmUps = results.compactMap(\.io.warmUps)
            merged.io.warmUps = warmUps.isEmpty ? nil : warmUps.reduce(0) { $0.addingSaturated($1) }
            merged.io.warmUpError = results.lazy.compactMap { r in r.io.warmUpError.map { "\(r.agent.hostname): \($0)" } }.first
            var echo = EchoTotals()
            for r in results { if let e = r.echo { echo.merge(e) } }
            merged.echo = echo
            merged.latency = try latency(results)
            merged.stamp = try stamp(results)
        }
        if spec.mode == .reflect { merged.reflect = reflect(results) }
        if spec.timestamps == .kernel { merged.appOverhead = try latency(results, \.appOverhead) }
        if spec.mode == .sink {
            merged.sequence = SequenceReport(
                senders: results.flatMap { $0.sequence?.senders ?? [] },
                unstamped: results.reduce(0) { $0 &+ ($1.sequence?.unstamped ?? 0) },
                untrackedDatagrams: results.reduce(0) { $0 &+ ($1.sequence?.untrackedDatagrams ?? 0) },
                flowLimit: results.compactMap { $0.sequence?.flowLimit }.reduce(0, &+))
        }
        merged.startDelayMs = results.compactMap(\.startDelayMs).max()
        // Thresholds hold for the fleet as a whole: checked on the merged counts and histogram.
        merged.verdict = Verdict.evaluate(merged)
        return merged
    }

    /// Every agent's worker threads' usage, summed: present only when every agent reported it (a
    /// part would pass for the whole). A forged figure cannot make the sum unencodable: CPU seconds
    /// that are not a finite non-negative number count as 0, the total stops at the largest finite
    /// number, and switch counts saturate.
    static func workers(_ results: [JobResult]) -> JobResult.WorkerUsage? {
        let each = results.compactMap(\.io.workers)
        guard !each.isEmpty, each.count == results.count else { return nil }
        var total = JobResult.WorkerUsage(cpuSeconds: 0, voluntarySwitches: 0, involuntarySwitches: 0)
        for usage in each {
            if usage.cpuSeconds.isFinite && usage.cpuSeconds > 0 {
                total.cpuSeconds = min(total.cpuSeconds + usage.cpuSeconds, .greatestFiniteMagnitude)
            }
            total.voluntarySwitches = total.voluntarySwitches.addingSaturated(usage.voluntarySwitches)
            total.involuntarySwitches = total.involuntarySwitches.addingSaturated(usage.involuntarySwitches)
        }
        return total
    }

    /// The sum of every agent's latency histogram (`latency_us`, or another summary of the same
    /// layout such as `app_overhead_us`), summarised and re-encoded.
    static func latency(_ results: [JobResult], _ summary: KeyPath<JobResult, LatencySummary?> = \.latency) throws(Failure) -> LatencySummary {
        var total = LatencySummary.makeHistogram()
        for r in results {
            guard let encoded = r[keyPath: summary]?.hdr else { continue }
            do {
                let histogram = try HDREncoding.decode(encoded)
                // Histogram.add traps on another layout, on values past the target's range and on
                // count overflows (also later, as count × value in the mean): a hostile or broken
                // agent must not crash the fleet run, so anything but Volley's own layout is refused.
                let volley = LatencySummary.makeHistogram()
                guard histogram.lowestDiscernibleValue == volley.lowestDiscernibleValue,
                      histogram.numberOfSignificantValueDigits == volley.numberOfSignificantValueDigits,
                      histogram.totalCount == 0 || histogram.max <= volley.highestTrackableValue else {
                    throw Failure(description: "the latency histogram of job \(r.id) is not a Volley latency histogram (1 µs to 60 s, 3 digits)")
                }
                let ceiling = UInt64.max / volley.highestTrackableValue
                guard histogram.totalCount <= ceiling, total.totalCount <= ceiling - histogram.totalCount else {
                    throw Failure(description: "the latency histograms of the agents add up to more samples than can be summed")
                }
                total.add(histogram)
            } catch let failure as Failure {
                throw failure
            } catch {
                throw Failure(description: "the latency histogram of job \(r.id) cannot be read: \(error)")
            }
        }
        return LatencySummary(total)
    }

    /// Per absolute second (epoch seconds of each agent's start plus its `t_s`), summed; `t_s` of the
    /// merged timeline counts from the earliest second. Per-second RTT percentiles cannot be summed
    /// and are left out; the whole run's percentiles are exact in `latency_us`.
    static func timeline(_ results: [JobResult], mode: JobSpec.Mode) -> [TimelineEntry] {
        var bySecond: [Int64: TimelineEntry] = [:]
        for r in results {
            let base = r.startedAt.millisecondsSince1970 / 1000
            for entry in r.timeline {
                guard entry.t >= 0, entry.t < 1_000_000 else { continue }  // no job runs that long
                let second = base + Int64(entry.t)
                var sum = bySecond[second] ?? TimelineEntry(t: 0, sent: 0, received: 0, achievedPPS: 0,
                                                            lost: mode == .echo ? 0 : nil)
                sum.sent &+= entry.sent
                sum.received &+= entry.received
                sum.achievedPPS += entry.achievedPPS
                if let lost = entry.lost { sum.lost = (sum.lost ?? 0) &+ lost }
                bySecond[second] = sum
            }
        }
        guard let start = bySecond.keys.min() else { return [] }
        return bySecond.keys.sorted().map { second in
            var entry = bySecond[second]!
            entry.t = Int(second - start)
            return entry
        }
    }
}
