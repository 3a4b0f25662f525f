import Foundation
import VolleyModel

/// What a finished run measured: exact totals over all workers, and when it ran.
public struct EngineReport: Sendable {
    public var startedAt: Date
    public var finishedAt: Date
    /// Monotonic time from the workers' start to the last worker's exit.
    public var elapsedSeconds: Double
    public var sent: DirectionTotals
    public var received: DirectionTotals
    public var io: JobResult.IOPath
    /// True when `stop()` ended the run before its duration or packet limit.
    public var stoppedEarly: Bool
    /// Echo jobs.
    public var echo: EchoTotals?
    public var latency: LatencySummary?
    /// `"timestamps": "kernel"`: time from the kernel's receive timestamp to the job's handling.
    public var appOverhead: LatencySummary?
    /// Sinks: per-sender sequence statistics (empty when nothing stamped arrived).
    public var sequence: SequenceReport?
    /// Reflect jobs: what was not answered, and why.
    public var reflect: ReflectTotals?
    /// STAMP echo jobs: turnaround, one-way delays and loss by direction.
    public var stamp: StampEchoReport?
    public var timeline: [TimelineEntry]
    /// The tag stamped into this job's datagrams.
    public var jobTag: UInt32
}
