import Glibc
import Synchronization
import VolleyModel

/// How many flows the sinks of one job may still start tracking: shared by its workers, so the whole
/// job holds at most `limit` windows, however many distinct tags, flows or sources peers invent.
final class FlowBudget: Sendable {
    /// Flows tracked per sink job by default: 1,024 windows of 8 KiB, 8 MiB in all.
    static let defaultLimit = 1024
    let limit: Int
    private let taken = Atomic<Int>(0)

    init(limit: Int = FlowBudget.defaultLimit) { self.limit = limit }

    /// Takes one flow's place, or says there is none left.
    func take() -> Bool {
        var current = taken.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }
}

/// A sink's one-way sequence statistics, per stamped flow of each sender (source address, port,
/// job tag, flow). A sender's window is allocated when it is first seen, within the job's
/// `FlowBudget`; datagrams of flows past it are counted in `untracked`, not allocated for. The
/// per-datagram path only hashes a small key (and skips even that while datagrams keep coming from
/// the same flow).
struct SenderTable {
    struct Key: Hashable {
        var source: SourceAddress
        var tag: UInt32
        var flow: UInt32
    }

    struct Entry {
        var key: Key
        var window = SequenceWindow()
        var duplicates: UInt64 = 0
        var reordered: UInt64 = 0
        var tooOld: UInt64 = 0
        var jitter = InterarrivalJitter()
    }

    private let budget: FlowBudget
    private var index: [Key: Int] = [:]
    private var entries: [Entry] = []
    private var lastKey: Key?
    private var lastIndex = 0
    private(set) var unstamped: UInt64 = 0
    private(set) var untracked: UInt64 = 0

    init(budget: FlowBudget) {
        self.budget = budget
        index.reserveCapacity(64)
    }

    @inline(__always)
    mutating func record(_ payload: UnsafeRawPointer, length: Int, from address: UnsafePointer<sockaddr_storage>,
                         arrivalNanos: UInt64) {
        guard let stamp = Stamp.read(payload, length: length) else {
            unstamped &+= 1
            return
        }
        let key = Self.key(address, stamp)
        let slot: Int
        if key == lastKey {
            slot = lastIndex
        } else if let found = index[key] {
            slot = found
        } else {
            guard budget.take() else {
                untracked &+= 1
                return
            }
            slot = entries.count
            entries.append(Entry(key: key))
            index[key] = slot
        }
        lastKey = key
        lastIndex = slot
        // Jitter over first copies only: a duplicate says nothing about the path's delay variation
        // that its original did not.
        switch entries[slot].window.mark(stamp.sequence) {
        case .first:
            entries[slot].jitter.add(sentNanos: stamp.sentNanos, arrivalNanos: arrivalNanos)
        case .reordered:
            entries[slot].reordered &+= 1
            entries[slot].jitter.add(sentNanos: stamp.sentNanos, arrivalNanos: arrivalNanos)
        case .duplicate: entries[slot].duplicates &+= 1
        case .tooOld: entries[slot].tooOld &+= 1
        }
    }

    @inline(__always)
    private static func key(_ address: UnsafePointer<sockaddr_storage>, _ stamp: Stamp.Fields) -> Key {
        Key(source: SourceAddress(address), tag: stamp.tag, flow: stamp.flow)
    }

    /// Flows tracked (each holds one window).
    var trackedFlows: Int { entries.count }

    /// The statistics in the result's shape.
    var senders: [SenderSequence] {
        entries.map { e in
            SenderSequence(source: e.key.source.description, jobTag: e.key.tag, flow: e.key.flow, unique: e.window.unique,
                           duplicates: e.duplicates, reordered: e.reordered,
                           highestSeq: UInt64(max(0, e.window.highest)), tooOld: e.tooOld,
                           jitterUs: e.jitter.microseconds)
        }
    }
}
