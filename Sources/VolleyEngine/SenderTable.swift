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
///
/// A datagram may come without its source: a sink fed only unstamped datagrams stops asking the
/// kernel for sources (`SourceReading`), and the stamped ones in the batch that shows it must
/// ask again have none. One of a tag and flow already tracked joins that flow (the entry of that tag
/// and flow made last, whatever its source). The others are held (at most `sourcelessLimit`) and
/// handed, in arrival order, to the first flow with the same tag and flow number that comes with
/// its source; `settleSourceless` gives the ones no such flow claimed an entry of their own, whose
/// source reads `unknown`, until a datagram of that tag and flow comes with its source: that entry
/// then takes the source (so a flow is never split between `unknown` and its source, which would
/// count the first part as missing from the second).
struct SenderTable {
    struct Key: Hashable {
        var source: SourceAddress
        var tag: UInt32
        var flow: UInt32
    }

    struct FlowKey: Hashable {
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
    /// Per tag and flow, the entry made (or taken over) last: where a datagram read without its
    /// source belongs.
    private var byFlow: [FlowKey: Int] = [:]
    private var entries: [Entry] = []
    private var lastKey: Key?
    private var lastIndex = 0
    private(set) var unstamped: UInt64 = 0
    private(set) var untracked: UInt64 = 0
    /// Stamped datagrams seen, tracked or not (a sink compares it across a batch).
    private(set) var stamped: UInt64 = 0
    /// Stamped datagrams that came without their source, oldest first, waiting for their flow.
    private var sourceless: [(stamp: Stamp.Fields, arrival: UInt64)] = []
    /// How many datagrams without a source are held at most (32 KiB, reserved by `reserveSourceless`).
    static let sourcelessLimit = 1024
    static let sourcelessBytes = sourcelessLimit * MemoryLayout<(stamp: Stamp.Fields, arrival: UInt64)>.stride

    init(budget: FlowBudget) {
        self.budget = budget
        index.reserveCapacity(64)
        byFlow.reserveCapacity(64)
    }

    /// Reserves the room for held datagrams, so holding them never allocates. A worker calls it on the
    /// table its loop owns: a copy still shared with another would be copied, at a new size, by its
    /// first append.
    mutating func reserveSourceless() { sourceless.reserveCapacity(Self.sourcelessLimit) }

    /// Whether datagrams without a source are waiting for their flow.
    var holdsSourceless: Bool { !sourceless.isEmpty }

    /// Records one datagram; `address` is nil when it was read without its source.
    @inline(__always)
    mutating func record(_ payload: UnsafeRawPointer, length: Int, from address: UnsafePointer<sockaddr_storage>?,
                         arrivalNanos: UInt64) {
        guard let stamp = Stamp.read(payload, length: length) else {
            unstamped &+= 1
            return
        }
        stamped &+= 1
        guard let address else {
            if sourceless.count == Self.sourcelessLimit { settleSourceless() }
            if let slot = byFlow[FlowKey(tag: stamp.tag, flow: stamp.flow)] {
                mark(slot, stamp, arrivalNanos)
            } else {
                sourceless.append((stamp, arrivalNanos))
            }
            return
        }
        let key = Self.key(address, stamp)
        let slot: Int
        if key == lastKey {
            slot = lastIndex
        } else {
            guard let found = self.slot(for: key) else {
                untracked &+= 1
                return
            }
            slot = found
            // The datagrams of its flow that came without a source arrived before this one, so they
            // are marked first. The scan runs only when the flow differs from the last datagram's,
            // over at most `sourcelessLimit` held ones, and only until they are settled.
            if !sourceless.isEmpty { claimSourceless(into: slot, tag: key.tag, flow: key.flow) }
        }
        lastKey = key
        lastIndex = slot
        mark(slot, stamp, arrivalNanos)
    }

    /// The entry of `key`, made (within the budget) when it is new; nil when the budget is spent. A
    /// new key with a source takes over the entry of its tag and flow whose source is unknown.
    private mutating func slot(for key: Key) -> Int? {
        if let found = index[key] { return found }
        let flowKey = FlowKey(tag: key.tag, flow: key.flow)
        let unknown = Key(source: .unknown, tag: key.tag, flow: key.flow)
        if key.source != .unknown, let adopted = index.removeValue(forKey: unknown) {
            entries[adopted].key = key
            index[key] = adopted
            byFlow[flowKey] = adopted
            return adopted
        }
        guard budget.take() else { return nil }
        entries.append(Entry(key: key))
        index[key] = entries.count - 1
        byFlow[flowKey] = entries.count - 1
        return entries.count - 1
    }

    /// Marks the held datagrams of `tag`/`flow` into entry `slot`, in arrival order, and keeps the rest.
    private mutating func claimSourceless(into slot: Int, tag: UInt32, flow: UInt32) {
        var kept = 0
        for i in sourceless.indices {
            let held = sourceless[i]
            if held.stamp.tag == tag && held.stamp.flow == flow {
                mark(slot, held.stamp, held.arrival)
            } else {
                sourceless[kept] = held
                kept += 1
            }
        }
        sourceless.removeLast(sourceless.count - kept)
    }

    /// Gives every held datagram that no flow claimed the flow of its tag and flow number, or an
    /// entry whose source is unknown (per tag and flow, within the budget; past it they are counted
    /// in `untracked`).
    mutating func settleSourceless() {
        guard !sourceless.isEmpty else { return }
        for i in sourceless.indices {
            let held = sourceless[i]
            let known = byFlow[FlowKey(tag: held.stamp.tag, flow: held.stamp.flow)]
            guard let slot = known ?? slot(for: Key(source: .unknown, tag: held.stamp.tag, flow: held.stamp.flow)) else {
                untracked &+= 1
                continue
            }
            mark(slot, held.stamp, held.arrival)
        }
        sourceless.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private mutating func mark(_ slot: Int, _ stamp: Stamp.Fields, _ arrivalNanos: UInt64) {
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
