import CBatchIO
import Glibc

/// Echo and sink jobs with `"timestamps": "kernel"`: for each datagram, the time from the kernel's
/// software receive timestamp (SO_TIMESTAMPING, CLOCK_REALTIME) to the moment the job handled it
/// (CLOCK_MONOTONIC), recorded per worker into preallocated histograms like the RTTs. That is the
/// part of a latency spent above the kernel: wake-up, scheduling and batching.
struct AppOverhead {
    private var recorder: LatencyRecorder
    /// CLOCK_REALTIME − CLOCK_MONOTONIC, read once per batch (the two clocks drift apart under NTP).
    private var offset: Int64 = 0

    init(collector: LatencyCollector) { recorder = LatencyRecorder(collector: collector) }

    /// Once per received batch, before its `record` calls.
    @inline(__always)
    mutating func beginBatch() { offset = CBatchIO_realtime_offset_ns() }

    /// Records one message handled at `now` (monotonic ns) during `second`; a message without a
    /// kernel timestamp is left out.
    @inline(__always)
    mutating func record(_ message: UnsafePointer<msghdr>, handledAt now: UInt64, second: Int) {
        let kernel = CBatchIO_rx_timestamp_ns(message)
        guard kernel >= 0 else { return }
        // Wrapping arithmetic: a clock step between the two reads must not trap; a negative
        // difference (the realtime clock stepped back) counts as no overhead.
        let overhead = Int64(bitPattern: now) &- (kernel &- offset)
        recorder.record(micros: overhead > 0 ? UInt64(overhead) / 1_000 : 0, second: second)
    }

    mutating func finish(lastSecond: Int) { recorder.finish(lastSecond: lastSecond) }
}
