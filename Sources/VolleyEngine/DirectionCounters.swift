import Synchronization
import VolleyModel

/// Live, lock-free counters for one direction of one worker. The worker is the only writer; the API
/// reads them at any time. Each field is its own atomic, so a reader may see packets a batch ahead of
/// bytes, never a torn number.
public final class DirectionCounters: @unchecked Sendable {  // slots are only touched through atomics
    let packets = Atomic<UInt64>(0)
    let bytes = Atomic<UInt64>(0)
    let syscalls = Atomic<UInt64>(0)
    let partialBatches = Atomic<UInt64>(0)
    /// Sending: pauses taken under buffer pressure (`SendPolicy.backOff`).
    let backoffs = Atomic<UInt64>(0)
    /// Sending: datagrams given up on (`SendPolicy.skip`).
    let skipped = Atomic<UInt64>(0)
    /// Receiving: datagrams the kernel dropped at this worker's sockets' queues.
    let kernelDrops = Atomic<UInt64>(0)
    private let errorSlots: UnsafeMutablePointer<Atomic<UInt64>>

    private static let categoryCount = ErrorCategory.allCases.count

    public init() {
        errorSlots = .allocate(capacity: Self.categoryCount)
        for i in 0..<Self.categoryCount { (errorSlots + i).initialize(to: Atomic<UInt64>(0)) }
    }

    deinit {
        errorSlots.deinitialize(count: Self.categoryCount)
        errorSlots.deallocate()
    }

    @inline(__always)
    func add(packets p: Int, bytes b: Int) {
        packets.wrappingAdd(UInt64(p), ordering: .relaxed)
        bytes.wrappingAdd(UInt64(b), ordering: .relaxed)
    }

    @inline(__always)
    func countError(_ category: ErrorCategory) {
        errorSlots[category.rawValue].wrappingAdd(1, ordering: .relaxed)
    }

    public var packetCount: UInt64 { packets.load(ordering: .relaxed) }
    public var byteCount: UInt64 { bytes.load(ordering: .relaxed) }

    /// A snapshot in the result's shape; `withPartialBatches` is true for the sending direction
    /// (which then has `partial_batches`, `backoffs` and `skipped`; the receiving one `kernel_drops`).
    public func totals(withPartialBatches: Bool) -> DirectionTotals {
        var errors: [String: UInt64] = [:]
        for category in ErrorCategory.allCases {
            let n = errorSlots[category.rawValue].load(ordering: .relaxed)
            if n > 0 { errors[category.name] = n }
        }
        var totals = DirectionTotals(packets: packets.load(ordering: .relaxed), bytes: bytes.load(ordering: .relaxed),
                                     syscalls: syscalls.load(ordering: .relaxed),
                                     partialBatches: withPartialBatches ? partialBatches.load(ordering: .relaxed) : nil,
                                     errors: errors)
        if withPartialBatches {
            totals.backoffs = backoffs.load(ordering: .relaxed)
            totals.skipped = skipped.load(ordering: .relaxed)
        } else {
            totals.kernelDrops = kernelDrops.load(ordering: .relaxed)
        }
        return totals
    }
}
