import Glibc
import VolleyModel

/// A sink's one-way sequence statistics, per stamped flow of each sender (source address, port,
/// job tag, flow). A sender's window is allocated when it is first seen; the per-datagram path
/// only hashes a small key (and skips even that while datagrams keep coming from the same flow).
struct SenderTable {
    struct Key: Hashable {
        var high: UInt64
        var low: UInt64
        var port: UInt16
        var family: UInt16
        var tag: UInt32
        var flow: UInt32
    }

    struct Entry {
        var key: Key
        var window = SequenceWindow()
        var duplicates: UInt64 = 0
        var reordered: UInt64 = 0
        var tooOld: UInt64 = 0
    }

    /// Flows tracked per sink worker; datagrams of further flows count in `untracked`.
    static let maxFlows = 1024
    private var index: [Key: Int] = [:]
    private var entries: [Entry] = []
    private var lastKey: Key?
    private var lastIndex = 0
    private(set) var unstamped: UInt64 = 0
    private(set) var untracked: UInt64 = 0

    init() { index.reserveCapacity(64) }

    @inline(__always)
    mutating func record(_ payload: UnsafeRawPointer, length: Int, from address: UnsafePointer<sockaddr_storage>) {
        guard let stamp = Stamp.read(payload, length: length) else {
            unstamped += 1
            return
        }
        let key = Self.key(address, stamp)
        let slot: Int
        if key == lastKey {
            slot = lastIndex
        } else if let found = index[key] {
            slot = found
        } else {
            guard entries.count < Self.maxFlows else {
                untracked += 1
                return
            }
            slot = entries.count
            entries.append(Entry(key: key))
            index[key] = slot
        }
        lastKey = key
        lastIndex = slot
        switch entries[slot].window.mark(stamp.sequence) {
        case .first: break
        case .reordered: entries[slot].reordered += 1
        case .duplicate: entries[slot].duplicates += 1
        case .tooOld: entries[slot].tooOld += 1
        }
    }

    @inline(__always)
    private static func key(_ address: UnsafePointer<sockaddr_storage>, _ stamp: Stamp.Fields) -> Key {
        let raw = UnsafeRawPointer(address)
        let family = raw.load(as: sa_family_t.self)
        let port = UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        if Int32(family) == AF_INET6 {
            return Key(high: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                       low: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                       port: port, family: UInt16(family), tag: stamp.tag, flow: stamp.flow)
        }
        return Key(high: 0, low: UInt64(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                   port: port, family: UInt16(family), tag: stamp.tag, flow: stamp.flow)
    }

    /// The statistics in the result's shape.
    var senders: [SenderSequence] {
        entries.map { e in
            SenderSequence(source: Self.describe(e.key), jobTag: e.key.tag, flow: e.key.flow, unique: e.window.unique,
                           duplicates: e.duplicates, reordered: e.reordered,
                           highestSeq: UInt64(max(0, e.window.highest)), tooOld: e.tooOld)
        }
    }

    private static func describe(_ key: Key) -> String {
        var bytes: [UInt8] = []
        if Int32(key.family) == AF_INET6 {
            withUnsafeBytes(of: key.high) { bytes += $0 }
            withUnsafeBytes(of: key.low) { bytes += $0 }
        } else {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: key.low)) { bytes += $0 }
        }
        guard let address = IPAddress(bytes: bytes) else { return "?" }
        return Endpoint(address: address, port: key.port).description
    }
}
