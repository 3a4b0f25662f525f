import Synchronization

/// A flag every worker of a job polls between batches; set once to stop them all.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func set() { flag.store(true, ordering: .relaxed) }
}

/// A job-wide packet limit shared by receiving workers, which cannot be split per thread in advance
/// because the kernel decides which socket gets each datagram.
final class ReceiveBudget: Sendable {
    private let total = Atomic<UInt64>(0)
    let limit: UInt64

    init(limit: UInt64) { self.limit = limit }

    /// Adds `count` received datagrams; true once the job-wide total has reached the limit.
    @inline(__always)
    func record(_ count: Int) -> Bool {
        total.wrappingAdd(UInt64(count), ordering: .relaxed).newValue >= limit
    }
}

/// Counts workers down to zero; `tick()` is true for exactly one caller, the last.
final class Countdown: Sendable {
    private let remaining: Atomic<Int>

    init(_ count: Int) { remaining = Atomic(count) }

    func tick() -> Bool { remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
}
